//! `offboard validate FILE...`: every problem of every file, in one run.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::cli::ValidateArgs;
use crate::exit;
use crate::manifest::{self, Checked, Diagnostic, Format, Location, SourceFile};
use crate::report::diagnostics::{self as render, DiagnosticFormat, Style};

pub fn run(args: &ValidateArgs) -> u8 {
    let results: Vec<(String, Checked)> = args
        .files
        .iter()
        .map(|path| (path.display().to_string(), check_file(path)))
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
        print_diagnostics(&mut out, &checked.diagnostics)?;
        let leavers = checked.manifest.as_ref().map(|m| m.leavers.len());
        writeln!(
            out,
            "{}",
            render::file_summary(name, leavers, &checked.diagnostics)
        )?;
    }
    Ok(())
}

/// Writes diagnostics as snippets to stderr (`out`): coloured on a terminal unless
/// `NO_COLOR` is set, plain otherwise.
pub fn print_diagnostics(out: &mut impl Write, diagnostics: &[Diagnostic]) -> std::io::Result<()> {
    let style = if std::io::stderr().is_terminal() {
        Style {
            color: std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
            ..Style::plain()
        }
    } else {
        Style::plain()
    };
    for diagnostic in diagnostics.iter().take(SHOWN) {
        out.write_all(render::human(diagnostic, style).as_bytes())?;
        out.write_all(b"\n")?;
    }
    if diagnostics.len() > SHOWN {
        writeln!(
            out,
            "… and {} more problems; `--format json` lists every one",
            diagnostics.len() - SHOWN
        )?;
    }
    Ok(())
}

/// Snippets printed per file: a snippet costs time in the length of its line (its
/// column is counted), and nobody reads thousands of them (`--format json` has them
/// all, at once).
const SHOWN: usize = 100;

/// Reads, decodes and checks one manifest file, and the CSV file it may name.
pub fn check_file(path: &Path) -> Checked {
    let name = path.display().to_string();
    let source = match read_source(path, &name) {
        Ok(source) => source,
        Err(diagnostic) => {
            return Checked {
                manifest: None,
                diagnostics: vec![diagnostic],
            };
        }
    };
    let folder = path.parent().unwrap_or(Path::new("")).to_path_buf();
    let mut read_csv = |relative: &str| read_csv(&folder, relative);
    manifest::check(source, Format::of_path(path), &mut read_csv)
}

fn read_source(path: &Path, name: &str) -> Result<Arc<SourceFile>, Diagnostic> {
    let unreadable = |message: String| {
        Diagnostic::error(
            "unreadable",
            Location::file(&SourceFile::new(name, "")),
            message,
        )
    };
    // A manifest that is a link to somewhere outside the current folder (such as
    // /proc/self/environ, in a pull request) is not followed: give the file itself.
    if std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) {
        let here = std::env::current_dir().and_then(std::fs::canonicalize);
        let there = std::fs::canonicalize(path);
        if let (Ok(here), Ok(there)) = (here, there)
            && !there.starts_with(&here)
        {
            return Err(unreadable(
                "the file is a symbolic link to a place outside the current folder; it is not followed (name the file itself)".into(),
            ));
        }
    }
    let bytes = crate::input::read_file(path).map_err(|err| {
        Diagnostic::error(
            "unreadable",
            Location::file(&SourceFile::new(name, "")),
            format!("cannot read the file: {}", io_reason(&err)),
        )
    })?;
    manifest::decode(name, bytes)
}

/// Reads `relative` next to the manifest in `folder`, refusing a path that resolves
/// (through `..` or a symbolic link) to somewhere outside that folder.
fn read_csv(folder: &Path, relative: &str) -> Result<Arc<SourceFile>, Diagnostic> {
    let path: PathBuf = folder.join(relative);
    let name = path.display().to_string();
    let nowhere = || Location::file(&SourceFile::new("", ""));
    let base = std::fs::canonicalize(if folder.as_os_str().is_empty() {
        Path::new(".")
    } else {
        folder
    });
    let resolved = std::fs::canonicalize(&path);
    match (base, resolved) {
        (Ok(base), Ok(resolved)) if !resolved.starts_with(&base) => {
            return Err(Diagnostic::error(
                "csv-path",
                nowhere(),
                format!(
                    "`leavers_csv` file `{name}` resolves to a place outside the manifest's folder"
                ),
            ));
        }
        (_, Err(err)) => {
            return Err(Diagnostic::error(
                "csv-path",
                nowhere(),
                format!(
                    "`leavers_csv` file `{name}` cannot be read: {}",
                    io_reason(&err)
                ),
            ));
        }
        _ => {}
    }
    let bytes = crate::input::read_file(&path).map_err(|err| {
        Diagnostic::error(
            "csv-path",
            nowhere(),
            format!(
                "`leavers_csv` file `{name}` cannot be read: {}",
                io_reason(&err)
            ),
        )
    })?;
    manifest::decode(&name, bytes)
}

/// An I/O error in words, without the OS error number.
fn io_reason(err: &std::io::Error) -> String {
    match err.kind() {
        std::io::ErrorKind::NotFound => "no such file".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        std::io::ErrorKind::IsADirectory => "it is a directory".into(),
        _ => {
            let text = err.to_string();
            text.split(" (os error").next().unwrap_or(&text).to_owned()
        }
    }
}
