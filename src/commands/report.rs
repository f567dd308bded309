//! `offboard report RUN_DIR`: re-creates report.csv and report.json from the
//! journal alone (after a crash, or to regenerate them).

use crate::cli::ReportArgs;
use crate::exit;
use crate::report::run::{print_summary, write_reports};

pub fn run(args: &ReportArgs) -> u8 {
    match write_reports(&args.run_dir) {
        Ok(report) => {
            print_summary(&report, &args.run_dir);
            exit::SUCCESS
        }
        Err(message) => {
            say!("error: {message}");
            exit::INVALID
        }
    }
}
