//! `offboard report RUN_DIR`: re-creates report.csv and report.json from the
//! journal alone (after a crash, or to regenerate them).

use crate::cli::{ReportArgs, ReportFormat};
use crate::exit;
use crate::report::run::{print_summary, write_reports};

pub fn run(args: &ReportArgs) -> u8 {
    match write_reports(&args.run_dir) {
        Ok(report) => {
            match args.format {
                ReportFormat::Human => print_summary(&report, &args.run_dir),
                ReportFormat::Markdown => {
                    let text = crate::report::markdown::run(&report);
                    if std::io::Write::write_all(&mut std::io::stdout().lock(), text.as_bytes())
                        .is_err()
                    {
                        return exit::FAILED;
                    }
                }
            }
            exit::SUCCESS
        }
        Err(message) => {
            say!("error: {message}");
            exit::INVALID
        }
    }
}
