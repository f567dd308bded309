//! The files a run directory holds besides the journal: names derived from a
//! leaver, atomic writes (temporary file, fsync, rename) and sha256 digests. Used by
//! the steps (audit trails, exports), the reports, and the manifest's hash.

use std::path::Path;

use sha2::{Digest, Sha256};

/// The reports of a run, in its directory.
pub const REPORT_JSON: &str = "report.json";
pub const REPORT_CSV: &str = "report.csv";

/// A file name for a leaver's files in the run directory, distinct for distinct
/// labels by construction: letters (lowercase), digits, `.`, `@` and `-` stand for
/// themselves, every other character (`_` and capitals included, so names differ on
/// case-insensitive file systems too) is `_` and its code point in hex. A name that
/// would be longer than 120 characters keeps its first 56 and adds the sha256 of
/// the whole label.
pub fn file_stem(label: &str) -> String {
    let mut stem = String::with_capacity(label.len());
    for c in label.chars() {
        if c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '@' | '-') {
            stem.push(c);
        } else {
            stem.push_str(&format!("_{:x}_", u32::from(c)));
        }
    }
    if stem.len() > 120 {
        let cut = stem
            .char_indices()
            .map(|(i, _)| i)
            .take_while(|i| *i <= 56)
            .last()
            .unwrap_or(0);
        stem = format!("{}~{}", &stem[..cut], sha256_hex(label.as_bytes()));
    }
    stem
}

/// Creates `dir` (and its parents) for the run's files, readable by its user alone
/// (0700 on Unix): audit trails hold IP addresses, exports other people's work. A
/// folder that exists already keeps its permissions (it may be the user's own).
pub fn private_dir(dir: &Path) -> std::io::Result<()> {
    let missing: Vec<&Path> = dir
        .ancestors()
        .take_while(|d| !d.as_os_str().is_empty() && !d.is_dir())
        .collect();
    std::fs::create_dir_all(dir)?;
    #[cfg(unix)]
    for created in missing {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(created, std::fs::Permissions::from_mode(0o700))?;
    }
    #[cfg(not(unix))]
    let _ = missing;
    Ok(())
}

/// Makes `path` readable and writable by its user alone (0600 on Unix).
pub fn private_file(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// Writes `bytes` to `path` atomically (temporary file, fsync, rename), creating
/// its folder; both private to the user ([`private_dir`], [`private_file`]).
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    if let Some(parent) = path.parent() {
        private_dir(parent)?;
    }
    let mut file = atomic_write_file::AtomicWriteFile::open(path)?;
    file.write_all(bytes)?;
    file.commit()?;
    private_file(path)
}

/// Lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The sha256 of `bytes`, in hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_of_different_leavers_never_collide() {
        let labels = [
            "a+b@example.com",
            "a_b@example.com",
            "a_2b_b@example.com",
            "A_b@example.com",
            "a b@example.com",
            "Ab@example.com",
            "ab@example.com",
        ];
        let stems: std::collections::HashSet<String> =
            labels.iter().map(|l| file_stem(l)).collect();
        assert_eq!(stems.len(), labels.len(), "{stems:?}");
        assert_eq!(
            file_stem("carla.mendes@example.com"),
            "carla.mendes@example.com"
        );
        for stem in &stems {
            assert!(
                stem.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "._@-~".contains(c))
            );
        }
        let long = "x".repeat(300) + "@example.com";
        let other = "x".repeat(300) + "@example.org";
        assert!(file_stem(&long).len() <= 130);
        assert_ne!(file_stem(&long), file_stem(&other));
    }

    #[cfg(unix)]
    #[test]
    fn run_files_are_private_to_their_user() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("run").join("audit").join("a.json");
        write_atomically(&file, b"{}").unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&file), 0o600);
        assert_eq!(mode(file.parent().unwrap()), 0o700);
        assert_eq!(mode(&dir.path().join("run")), 0o700);
    }
}
