//! Loading a manifest from a path: read with care (regular files only, within the
//! size cap, no link out of the current folder), decoded, checked, with the CSV file
//! it may name read from beside it. Problems reading come back as diagnostics.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::check::{check, decode};
use super::checked::{Checked, Format};
use super::diagnostic::{Diagnostic, Location, SourceFile};

/// Reads, decodes and checks one manifest file, and the CSV file it may name.
pub fn load(path: &Path) -> Checked {
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
    check(source, Format::of_path(path), &mut read_csv)
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
    decode(name, bytes)
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
    decode(&name, bytes)
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
