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
            let text = std::fs::read_to_string(path).map_err(|e| SettingsError::KeyFile {
                path: shown_path(path),
                reason: e.kind().to_string(),
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
