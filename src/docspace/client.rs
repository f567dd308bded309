//! The HTTP client: one per run, the API key as a sensitive header, and one typed
//! call per endpoint the offboarding flow uses. No retries and no sleeping here: a
//! call either answers or fails with an [`ApiError`]; the executor decides what next.

use std::net::IpAddr;
use std::time::Duration;

use reqwest::header::{AUTHORIZATION, HeaderValue, RETRY_AFTER};
use reqwest::{Method, Url};
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::envelope::{Envelope, decode};
use super::error::ApiError;

/// The largest page DocSpace serves (`count` 1..100).
pub const PAGE: u64 = 100;

/// Where the portal is and how to authenticate.
pub struct Connection {
    pub portal: Url,
    pub key: SecretString,
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
}

/// Why a [`Connection`] cannot be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConnectionError {
    #[error("`{0}` is not a URL")]
    NotAUrl(String),
    #[error("`{given}` has no scheme: did you mean {suggestion}?")]
    NoScheme { given: String, suggestion: String },
    #[error("`{0}` uses plain http; only https is allowed, except for loopback addresses")]
    PlainHttp(String),
    #[error("`{0}` is not an http or https URL")]
    Scheme(String),
    #[error("the API key is not valid in an HTTP header")]
    KeyNotAHeader,
    #[error("cannot build the HTTP client: {0}")]
    Client(String),
}

/// Parses a portal address: https anywhere, http only on loopback.
pub fn portal_url(text: &str) -> Result<Url, ConnectionError> {
    let trimmed = text.trim().trim_end_matches('/');
    let host_like = trimmed.contains('.') || trimmed.contains(':') || trimmed == "localhost";
    if !trimmed.contains("://") && host_like {
        // `127.0.0.1:8080` or `portal.example.com`: say what was probably meant.
        let guess = |scheme: &str| Url::parse(&format!("{scheme}://{trimmed}")).ok();
        if let Some(url) = guess("http").filter(is_loopback).or_else(|| guess("https")) {
            return Err(ConnectionError::NoScheme {
                given: text.to_owned(),
                suggestion: url.as_str().trim_end_matches('/').to_owned(),
            });
        }
    }
    let url = Url::parse(trimmed).map_err(|_| ConnectionError::NotAUrl(text.to_owned()))?;
    match url.scheme() {
        "https" => Ok(url),
        "http" if is_loopback(&url) => Ok(url),
        "http" => Err(ConnectionError::PlainHttp(text.to_owned())),
        _ => Err(ConnectionError::Scheme(text.to_owned())),
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

/// A DocSpace API client.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base: Url,
    auth: HeaderValue,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the key.
        f.debug_struct("Client")
            .field("portal", &self.base.as_str())
            .finish_non_exhaustive()
    }
}

/// Makes `ring` the process's TLS crypto provider, once; later calls do nothing.
/// reqwest is built without a provider of its own (`rustls-no-provider`), so this
/// runs before any `reqwest::Client` is built ([`Client::new`] calls it; a test
/// building its own `reqwest::Client` calls it first).
pub fn install_crypto_provider() {
    static INSTALLED: std::sync::Once = std::sync::Once::new();
    INSTALLED.call_once(|| {
        // An error only says another provider was installed first; it serves as well.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

impl Client {
    pub fn new(connection: &Connection) -> Result<Self, ConnectionError> {
        install_crypto_provider();
        let mut auth =
            HeaderValue::from_str(&format!("Bearer {}", connection.key.expose_secret().trim()))
                .map_err(|_| ConnectionError::KeyNotAHeader)?;
        auth.set_sensitive(true);
        let http = reqwest::Client::builder()
            .connect_timeout(connection.connect_timeout)
            .timeout(connection.request_timeout)
            .user_agent(concat!("offboard/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ConnectionError::Client(e.to_string()))?;
        let mut base = connection.portal.clone();
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        Ok(Self { http, base, auth })
    }

    pub fn portal(&self) -> &Url {
        &self.base
    }

    pub(super) fn url(&self, path: &str) -> Url {
        // `path` is a relative API path such as `api/2.0/people/@self`.
        self.base
            .join(path)
            .expect("API paths are valid relative URLs")
    }

    pub(super) async fn request<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
    ) -> Result<Envelope<T>, ApiError> {
        let mut request = self
            .http
            .request(method, self.url(path))
            .header(AUTHORIZATION, self.auth.clone());
        if !query.is_empty() {
            request = request.query(query);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let bytes = response.bytes().await?;
        decode(status, retry_after.as_deref(), &bytes)
    }

    pub(super) async fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<Envelope<T>, ApiError> {
        self.request(Method::GET, path, query, None).await
    }

    /// A response the endpoint always sends.
    pub(super) fn required<T>(envelope: Envelope<T>, what: &str) -> Result<T, ApiError> {
        envelope.response.ok_or_else(|| ApiError::UnexpectedShape {
            status: 200,
            detail: format!("no {what} in the answer"),
        })
    }

    /// Every page of a list: `count=100`, `startIndex` stepping until `total` (or a
    /// short page). The envelope's `count` is never trusted.
    pub(super) async fn all_pages<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<Vec<T>, ApiError> {
        let mut items = Vec::new();
        let mut start = 0u64;
        loop {
            let mut page_query = query.to_vec();
            page_query.push(("count", PAGE.to_string()));
            page_query.push(("startIndex", start.to_string()));
            let page: Envelope<Vec<T>> = self.get(path, &page_query).await?;
            let total = page.total;
            let got = page.response.unwrap_or_default();
            let len = got.len() as u64;
            items.extend(got);
            start += len;
            let done = match total {
                Some(total) => start >= total,
                None => len < PAGE,
            };
            if done || len == 0 {
                return Ok(items);
            }
        }
    }

    /// Downloads a finished bulk download's archive (same credentials). The key is
    /// only ever sent to the portal itself: a URL elsewhere is refused.
    pub async fn download(&self, url: &str) -> Result<Vec<u8>, ApiError> {
        let url = Url::parse(url).map_err(|_| ApiError::UnexpectedShape {
            status: 200,
            detail: "the download URL is not a URL".into(),
        })?;
        if url.origin() != self.base.origin() {
            return Err(ApiError::UnexpectedShape {
                status: 200,
                detail: format!(
                    "the download URL points away from the portal ({})",
                    url.origin().ascii_serialization()
                ),
            });
        }
        let response = self
            .http
            .get(url)
            .header(AUTHORIZATION, self.auth.clone())
            .send()
            .await?;
        let status = response.status().as_u16();
        if !(200..300).contains(&status) {
            let bytes = response.bytes().await?;
            return Err(decode::<Value>(status, None, &bytes).err().unwrap_or(
                ApiError::UnexpectedShape {
                    status,
                    detail: "the download failed".into(),
                },
            ));
        }
        Ok(response.bytes().await?.to_vec())
    }
}

/// Percent-encodes one path segment.
pub(super) fn encode_segment(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'@' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_without_a_scheme_gets_a_suggestion() {
        let suggested = |text: &str| match portal_url(text) {
            Err(ConnectionError::NoScheme { suggestion, .. }) => suggestion,
            other => panic!("{other:?}"),
        };
        assert_eq!(suggested("127.0.0.1:45451"), "http://127.0.0.1:45451");
        assert_eq!(suggested("localhost:8080/"), "http://localhost:8080");
        assert_eq!(
            suggested("portal.example.com"),
            "https://portal.example.com"
        );
    }

    #[test]
    fn plain_http_only_on_loopback() {
        assert!(portal_url("https://portal.example.com/").is_ok());
        assert!(portal_url("http://127.0.0.1:8080").is_ok());
        assert!(portal_url("http://localhost:8080").is_ok());
        assert!(portal_url("http://[::1]:8080").is_ok());
        assert_eq!(
            portal_url("http://portal.example.com"),
            Err(ConnectionError::PlainHttp(
                "http://portal.example.com".into()
            ))
        );
        assert!(matches!(
            portal_url("ftp://x"),
            Err(ConnectionError::Scheme(_))
        ));
        assert!(matches!(
            portal_url("portal"),
            Err(ConnectionError::NotAUrl(_))
        ));
    }

    #[test]
    fn the_key_never_shows_in_debug_output() {
        let client = Client::new(&Connection {
            portal: portal_url("http://127.0.0.1:1").unwrap(),
            key: SecretString::from("sk-supersecret"),
            connect_timeout: Duration::from_secs(1),
            request_timeout: Duration::from_secs(1),
        })
        .unwrap();
        assert!(!format!("{client:?}").contains("supersecret"));
        assert!(client.auth.is_sensitive());
    }
}
