//! The files a run directory holds besides the journal: names derived from a
//! leaver, atomic writes (temporary file, fsync, rename) and sha256 digests. Used by
//! the steps (audit trails, exports), the reports, and the manifest's hash.

use std::path::Path;

use sha2::{Digest, Sha256};

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

/// Writes `bytes` to `path` atomically (temporary file, fsync, rename), creating
/// its folder.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let mut file = atomic_write_file::AtomicWriteFile::open(path)?;
    file.write_all(bytes)?;
    file.commit()
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
}
