//! `offboard validate FILE...`: every problem of every file, in one run.

use std::io::Write;

use crate::cli::ValidateArgs;
use crate::exit;
use crate::manifest::{Checked, Diagnostic};
use crate::report::diagnostics::{self as render, DiagnosticFormat};

pub fn run(args: &ValidateArgs) -> u8 {
    let results: Vec<(String, Checked)> = args
        .files
        .iter()
        .map(|path| (path.display().to_string(), crate::manifest::load(path)))
        .collect();

    let invalid = results
        .iter()
        .any(|(_, checked)| checked.diagnostics.iter().any(Diagnostic::is_error));
    let written = match args.format {
        DiagnosticFormat::Human => print_human(&results),
        DiagnosticFormat::Json => std::io::stdout()
            .lock()
            .write_all(render::json(results.iter().flat_map(|(_, c)| &c.diagnostics)).as_bytes()),
        DiagnosticFormat::Github => {
            let mut out = std::io::stdout().lock();
            results
                .iter()
                .flat_map(|(_, c)| &c.diagnostics)
                .try_for_each(|d| out.write_all(render::github(d).as_bytes()))
        }
    };
    match (written, invalid) {
        (Err(_), _) => exit::FAILED,
        (Ok(()), true) => exit::INVALID,
        (Ok(()), false) => exit::SUCCESS,
    }
}

fn print_human(results: &[(String, Checked)]) -> std::io::Result<()> {
    let mut out = std::io::stderr().lock();
    for (name, checked) in results {
        crate::report::diagnostics::print(&mut out, &checked.diagnostics)?;
        let leavers = checked.manifest.as_ref().map(|m| m.leavers.len());
        writeln!(
            out,
            "{}",
            render::file_summary(name, leavers, &checked.diagnostics)
        )?;
    }
    Ok(())
}
