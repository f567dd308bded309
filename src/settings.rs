//! Flags and environment → the connection a command uses. The API key comes from
//! `DOCSPACE_API_KEY` or a file (`--api-key-file`), never from a flag value, and is
//! held as a `SecretString` from the moment it is read.

use std::path::Path;
use std::time::Duration;

use secrecy::SecretString;

use crate::docspace::{Connection, ConnectionError, portal_url};

pub const KEY_VARIABLE: &str = "DOCSPACE_API_KEY";
pub const URL_VARIABLE: &str = "DOCSPACE_URL";

/// Why the connection settings are unusable (a usage error, exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("no portal given")]
    NoPortal,
    #[error("portal {0}")]
    Portal(#[from] ConnectionError),
    #[error("no API key: set {KEY_VARIABLE} or pass --api-key-file")]
    NoKey,
    #[error("no portal given and no API key")]
    NoPortalNorKey,
    #[error("cannot read the API key file {path}: {reason}")]
    KeyFile { path: String, reason: String },
    #[error("the API key file {0} is empty")]
    EmptyKeyFile(String),
    #[error("the API key file {0} can be written by any user: it is not used")]
    KeyFileWritable(String),
}

impl SettingsError {
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            SettingsError::NoPortal => {
                Some("pass --portal https://your-portal.example.com or set DOCSPACE_URL")
            }
            SettingsError::NoKey => Some(
                "create a key in DocSpace (Developer Tools → API keys) with full permissions; keys never go on the command line",
            ),
            SettingsError::NoPortalNorKey => Some(
                "pass --portal https://your-portal.example.com or set DOCSPACE_URL, and set DOCSPACE_API_KEY or pass --api-key-file (a key of the owner or a DocSpace admin, with full permissions)",
            ),
            _ => None,
        }
    }
}

/// What is wrong with the key file's permissions, as ssh judges its keys: a file
/// others may write is refused (`Err`), one others may read is a warning (`Ok(Some)`).
pub fn key_file_permissions(path: &Path) -> Result<Option<String>, SettingsError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let Ok(meta) = std::fs::metadata(path) else {
            return Ok(None);
        };
        let mode = meta.permissions().mode();
        if mode & 0o002 != 0 {
            return Err(SettingsError::KeyFileWritable(shown_path(path)));
        }
        if mode & 0o044 != 0 {
            return Ok(Some(format!(
                "the API key file {} can be read by other users (mode {:o}); `chmod 600` it",
                shown_path(path),
                mode & 0o777
            )));
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(None)
}

/// `text` with every key-shaped token (`sk-` and 20 or more letters or digits)
/// replaced by `sk-***`: for any text from a user's files that reaches output.
pub fn hide_keys(text: &str) -> std::borrow::Cow<'_, str> {
    if !looks_like_key(text) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("sk-") {
        let tail = &rest[at + 3..];
        let run = tail
            .char_indices()
            .find(|(_, c)| !c.is_ascii_alphanumeric())
            .map_or(tail.len(), |(i, _)| i);
        if run >= 20 {
            out.push_str(&rest[..at]);
            out.push_str("sk-***");
            rest = &tail[run..];
        } else {
            // Only past `sk-`: the short run may begin the next one (`sk-sk-<key>`).
            out.push_str(&rest[..at + 3]);
            rest = tail;
        }
    }
    out.push_str(rest);
    std::borrow::Cow::Owned(out)
}

/// The run of ASCII letters and digits that holds byte `at` of `text`, and whether
/// it is a key that [`hide_keys`] writes as `***` (an `sk-` before it, at least 20
/// long). For showing a part of a text that may cut through a key.
pub fn run_at(text: &str, at: usize) -> Option<(std::ops::Range<usize>, bool)> {
    let bytes = text.as_bytes();
    if !bytes.get(at)?.is_ascii_alphanumeric() {
        return None;
    }
    let mut start = at;
    while start > 0 && bytes[start - 1].is_ascii_alphanumeric() {
        start -= 1;
    }
    let mut end = at;
    while end < bytes.len() && bytes[end].is_ascii_alphanumeric() {
        end += 1;
    }
    let key = start >= 3 && &bytes[start - 3..start] == b"sk-" && end - start >= 20;
    Some((start..end, key))
}

/// Whether `text` holds something shaped like a DocSpace API key (`sk-` and at
/// least 20 letters or digits), anywhere in it.
pub fn looks_like_key(text: &str) -> bool {
    text.match_indices("sk-").any(|(at, _)| {
        text[at + 3..]
            .chars()
            .take_while(char::is_ascii_alphanumeric)
            .count()
            >= 20
    })
}

/// Where on the command line (or in `DOCSPACE_URL`) a key-shaped value was put, if
/// anywhere: a flag's name or an argument's position, never the value. Keys pasted
/// into the wrong place would otherwise be echoed in errors or become file names.
pub fn misplaced_key(args: &[std::ffi::OsString], portal_env: Option<&str>) -> Option<String> {
    if portal_env.is_some_and(looks_like_key) {
        return Some(URL_VARIABLE.to_owned());
    }
    for (i, arg) in args.iter().enumerate().skip(1) {
        let arg = arg.to_string_lossy();
        if !looks_like_key(&arg) {
            continue;
        }
        if let Some((flag, _)) = arg.split_once('=').filter(|(f, _)| f.starts_with("--")) {
            return Some(flag.to_owned());
        }
        let before = args[i - 1].to_string_lossy();
        return Some(if before.starts_with("--") {
            before.into_owned()
        } else {
            format!("argument {i}")
        });
    }
    None
}

/// Resolves the portal and key. `portal` is the flag or `DOCSPACE_URL` (clap reads
/// the variable); `key_env` is the value of `DOCSPACE_API_KEY`.
pub fn connection(
    portal: Option<&str>,
    key_file: Option<&Path>,
    key_env: Option<String>,
) -> Result<Connection, SettingsError> {
    let no_key = key_file.is_none() && key_env.as_deref().is_none_or(|k| k.trim().is_empty());
    let portal = match portal {
        None if no_key => return Err(SettingsError::NoPortalNorKey),
        None => return Err(SettingsError::NoPortal),
        Some(portal) => portal_url(portal)?,
    };
    let key = match key_file {
        Some(path) => {
            key_file_permissions(path)?;
            let text = crate::input::read_file(path)
                .and_then(|bytes| {
                    String::from_utf8(bytes).map_err(|_| {
                        std::io::Error::new(std::io::ErrorKind::InvalidData, "not UTF-8 text")
                    })
                })
                .map_err(|e| SettingsError::KeyFile {
                    path: shown_path(path),
                    reason: e.to_string(),
                })?;
            let key = text.trim().to_owned();
            if key.is_empty() {
                return Err(SettingsError::EmptyKeyFile(shown_path(path)));
            }
            key
        }
        None => key_env
            .map(|k| k.trim().to_owned())
            .filter(|k| !k.is_empty())
            .ok_or(SettingsError::NoKey)?,
    };
    Ok(Connection {
        portal,
        key: SecretString::from(key),
        connect_timeout: Duration::from_secs(5),
        request_timeout: Duration::from_secs(60),
    })
}

/// The key file's path for messages, unless it looks like a key pasted in its place.
fn shown_path(path: &Path) -> String {
    let text = path.display().to_string();
    if text.contains("sk-") {
        "(the path given, which looks like a key itself: pass a file that holds the key)".to_owned()
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    #[test]
    fn the_key_file_wins_and_is_trimmed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key");
        std::fs::write(&path, "sk-abc\n").unwrap();
        let c = connection(
            Some("http://127.0.0.1:1"),
            Some(&path),
            Some("sk-env".into()),
        )
        .unwrap();
        assert_eq!(c.key.expose_secret(), "sk-abc");
        let c = connection(Some("http://127.0.0.1:1"), None, Some(" sk-env ".into())).unwrap();
        assert_eq!(c.key.expose_secret(), "sk-env");
    }

    #[test]
    fn keys_in_the_wrong_place_are_found_and_named_not_shown() {
        let key = format!("sk-{}", "0123456789abcdef".repeat(4));
        let args =
            |list: &[&str]| -> Vec<std::ffi::OsString> { list.iter().map(|a| a.into()).collect() };
        assert_eq!(
            misplaced_key(
                &args(&["offboard", "plan", "m.yaml", "--portal", &key]),
                None
            ),
            Some("--portal".into())
        );
        assert_eq!(
            misplaced_key(
                &args(&["offboard", "apply", "m.yaml", &format!("--run-dir={key}")]),
                None
            ),
            Some("--run-dir".into())
        );
        assert_eq!(
            misplaced_key(&args(&["offboard", "validate", &key]), None),
            Some("argument 2".into())
        );
        assert_eq!(
            misplaced_key(&args(&["offboard", "plan", "m.yaml"]), Some(&key)),
            Some(URL_VARIABLE.into())
        );
        assert_eq!(
            misplaced_key(&args(&["offboard", "plan", "risk-assessment.yaml"]), None),
            None
        );
    }

    #[cfg(unix)]
    #[test]
    fn key_files_others_may_write_are_refused_and_readable_ones_warned_about() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("key");
        std::fs::write(&file, "sk-secret").unwrap();
        let chmod =
            |mode| std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mode)).unwrap();
        chmod(0o600);
        assert!(matches!(key_file_permissions(&file), Ok(None)));
        chmod(0o640);
        assert!(matches!(key_file_permissions(&file), Ok(Some(w)) if w.contains("chmod 600")));
        chmod(0o666);
        assert!(matches!(
            connection(Some("https://p.example"), Some(&file), None),
            Err(SettingsError::KeyFileWritable(_))
        ));
    }

    #[test]
    fn keys_in_text_are_hidden_and_nothing_else_changes() {
        let key = format!("sk-{}", "0123456789abcdef".repeat(4));
        assert_eq!(
            hide_keys(&format!("DOCSPACE_API_KEY={key}\0PATH=/bin")),
            "DOCSPACE_API_KEY=sk-***\0PATH=/bin"
        );
        assert_eq!(
            hide_keys("task-sk-12 and risk-assessment"),
            "task-sk-12 and risk-assessment"
        );
        // Found by the fuzz harness: a key right after a short `sk-` was shown.
        assert_eq!(hide_keys("sk--sk-sk-abcdefghijklmnophive"), "sk--sk-sk-***");
    }

    #[test]
    fn missing_pieces_are_named() {
        assert!(matches!(
            connection(None, None, Some("k".into())),
            Err(SettingsError::NoPortal)
        ));
        assert!(matches!(
            connection(Some("https://p.example"), None, None),
            Err(SettingsError::NoKey)
        ));
        assert!(matches!(
            connection(None, None, None),
            Err(SettingsError::NoPortalNorKey)
        ));
        assert!(matches!(
            connection(Some("http://p.example"), None, Some("k".into())),
            Err(SettingsError::Portal(ConnectionError::PlainHttp(_)))
        ));
        let missing = connection(
            Some("https://p.example"),
            Some(Path::new("/no/such/key")),
            None,
        );
        assert!(matches!(missing, Err(SettingsError::KeyFile { .. })));
        let pasted = connection(
            Some("https://p.example"),
            Some(Path::new("sk-0123456789abcdef")),
            None,
        );
        let message = pasted.err().unwrap().to_string();
        assert!(!message.contains("sk-0123"), "{message}");
    }
}
