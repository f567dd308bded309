//! Every way a DocSpace call can fail, classified once so that the executor's retry
//! policy and the exit codes match on variants, never on strings.

use std::collections::BTreeMap;
use std::time::Duration;

/// A failed DocSpace call. Messages come from the server's error envelope; none of
/// them can contain the API key (it is only ever sent, never echoed).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// 401: the key is unknown, expired, inactive, or its user is disabled.
    #[error("the portal refused the API key (401 Unauthorized)")]
    Unauthorized,
    /// 403: not allowed, with the server's reason when it gave one.
    #[error("forbidden (403): {}", message.as_deref().unwrap_or("no reason given"))]
    Forbidden { message: Option<String> },
    /// 404: no such item, or no such route (empty body).
    #[error("not found (404): {}", message.as_deref().unwrap_or("no such route"))]
    NotFound { message: Option<String> },
    /// 400 from model validation, inside the success envelope (`status: 1`).
    #[error("the portal rejected the request: {}", describe_validation(errors))]
    Validation {
        errors: BTreeMap<String, Vec<String>>,
    },
    /// 400 from an `ArgumentException`: a precondition the server checked.
    #[error("bad request (400): {message}")]
    BadRequest { message: String },
    /// 429: the portal's rate limiter; wait `retry_after` when it says.
    #[error("rate limited (429){}", retry_after.map(|d| format!(", retry after {}s", d.as_secs())).unwrap_or_default())]
    RateLimited { retry_after: Option<Duration> },
    /// 5xx.
    #[error("server error ({status}): {}", message.as_deref().unwrap_or("no details"))]
    Server {
        status: u16,
        message: Option<String>,
    },
    /// The request never got an answer: connection refused or dropped, timeout, TLS.
    #[error("{kind} error talking to the portal: {message}")]
    Transport {
        kind: TransportKind,
        message: String,
    },
    /// An answer that is not what the endpoint sends (wrong JSON, unexpected status).
    #[error("unexpected answer ({status}): {detail}")]
    UnexpectedShape { status: u16, detail: String },
}

/// What went wrong below HTTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportKind {
    Connect,
    Timeout,
    Other,
}

impl std::fmt::Display for TransportKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            TransportKind::Connect => "connection",
            TransportKind::Timeout => "timeout",
            TransportKind::Other => "transport",
        })
    }
}

fn describe_validation(errors: &BTreeMap<String, Vec<String>>) -> String {
    if errors.is_empty() {
        return "one or more validation errors".into();
    }
    errors
        .iter()
        .map(|(field, messages)| format!("{field}: {}", messages.join(" ")))
        .collect::<Vec<_>>()
        .join("; ")
}

impl ApiError {
    /// Failures worth trying again after a pause: rate limiting, server errors,
    /// timeouts and dropped connections. Everything else would fail the same way.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            ApiError::RateLimited { .. } | ApiError::Server { .. } | ApiError::Transport { .. }
        )
    }

    /// Failures that prove the portal did not act on the request: the limiter turned
    /// it away, or no connection was made. Only these make resending a write that is
    /// not idempotent safe without looking first.
    pub fn surely_not_processed(&self) -> bool {
        matches!(
            self,
            ApiError::RateLimited { .. }
                | ApiError::Transport {
                    kind: TransportKind::Connect,
                    ..
                }
        )
    }
}

impl From<reqwest::Error> for ApiError {
    fn from(err: reqwest::Error) -> Self {
        let kind = if err.is_timeout() {
            TransportKind::Timeout
        } else if err.is_connect() {
            TransportKind::Connect
        } else {
            TransportKind::Other
        };
        // reqwest's message names the URL (never the headers); drop it anyway so a
        // query string can never leak into logs. Its own words ("error sending
        // request") say nothing: the cause is further down the chain.
        let err = err.without_url();
        let mut causes = Vec::new();
        let mut source = std::error::Error::source(&err);
        while let Some(cause) = source {
            causes.push(cause.to_string());
            source = cause.source();
        }
        let message = cause_in_words(kind, &causes).unwrap_or_else(|| err.to_string());
        ApiError::Transport { kind, message }
    }
}

/// What a connection failure means, from the messages of its causes (hyper, the
/// resolver, rustls, the OS), or `None` when none is recognised.
fn cause_in_words(kind: TransportKind, causes: &[String]) -> Option<String> {
    let all = causes.join(": ").to_lowercase();
    let has = |needle: &str| all.contains(needle);
    Some(if has("connection refused") {
        "connection refused: nothing listens at that address and port".to_owned()
    } else if has("dns error")
        || has("failed to lookup address")
        || has("name or service not known")
    {
        "name not found: the portal's host name does not resolve".to_owned()
    } else if has("certificate") {
        format!(
            "TLS handshake failed: the portal's certificate was not accepted ({})",
            causes.last().map_or("", String::as_str)
        )
    } else if has("tls") || has("handshake") || has("corrupt message") || has("invalidcontenttype")
    {
        "TLS handshake failed (an https URL for a server that speaks plain http?)".to_owned()
    } else if kind == TransportKind::Timeout {
        "no answer in time".to_owned()
    } else if has("connection reset") || has("broken pipe") || has("connection closed") {
        "the connection was dropped".to_owned()
    } else {
        return causes.last().cloned();
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_failures_are_said_in_words() {
        let said = |causes: &[&str]| {
            let causes: Vec<String> = causes.iter().map(|c| c.to_string()).collect();
            cause_in_words(TransportKind::Connect, &causes).unwrap()
        };
        assert!(
            said(&[
                "client error (Connect)",
                "tcp connect error",
                "Connection refused (os error 111)"
            ])
            .starts_with("connection refused")
        );
        assert!(
            said(&[
                "client error (Connect)",
                "dns error",
                "failed to lookup address information: Name or service not known"
            ])
            .starts_with("name not found")
        );
        assert!(
            said(&[
                "client error (Connect)",
                "received corrupt message of type InvalidContentType"
            ])
            .starts_with("TLS handshake failed")
        );
        assert!(
            said(&[
                "client error (Connect)",
                "invalid peer certificate: UnknownIssuer"
            ])
            .contains("certificate")
        );
    }
}
