//! The envelope target: (status, `Retry-After`, body) → `docspace::decode` into every
//! type the client asks for. Besides "no panic":
//!
//! - the error follows the status (401 is `Unauthorized`, 5xx `Server` with that
//!   status, …), never a success outside 2xx;
//! - outside a success, the answer does not depend on the type asked for;
//! - a 2xx either decodes, is a validation error (the same for every type), or is an
//!   unexpected shape naming the status;
//! - a message is either absent or says something; `Retry-After` is read exactly when
//!   it is a whole number of seconds;
//! - the decoded DTOs' helpers (`failure`, `succeeded`, `kind`, …) and the error's
//!   text do not panic.
//!
//! Inputs are files in the form of an HTTP answer (`*.http`):
//!
//! ```text
//! HTTP 429
//! Retry-After: 17
//!
//! body bytes
//! ```

use std::hint::black_box;
use std::path::Path;

use offboard::docspace::model::{
    ApiKey, Employee, Folder, FolderContents, Group, Operation, Progress, RoomSecurity, Share,
    Total,
};
use offboard::docspace::{ApiError, Envelope, decode};
use serde_json::Value;

use crate::driver::{Case, mix};
use crate::mutate;

#[derive(Clone, Debug)]
pub struct EnvelopeCase {
    pub status: u16,
    pub retry_after: Option<String>,
    pub body: Vec<u8>,
}

impl EnvelopeCase {
    /// Reads the `*.http` form.
    pub fn parse(bytes: &[u8]) -> Option<Self> {
        let head_end = bytes.windows(2).position(|w| w == b"\n\n")?;
        let head = std::str::from_utf8(&bytes[..head_end]).ok()?;
        let mut lines = head.lines();
        let status = lines.next()?.strip_prefix("HTTP ")?.trim().parse().ok()?;
        let mut retry_after = None;
        for line in lines {
            let (name, value) = line.split_once(':')?;
            if name.eq_ignore_ascii_case("retry-after") {
                retry_after = Some(value.strip_prefix(' ').unwrap_or(value).to_owned());
            }
        }
        Some(Self {
            status,
            retry_after,
            body: bytes[head_end + 2..].to_vec(),
        })
    }

    /// A recorded answer of `tests/fixtures/docspace/` (`{"status", "headers", "body"}`).
    pub fn from_recorded(text: &str) -> Self {
        let recorded: Value = serde_json::from_str(text).expect("a recorded answer");
        let body = match &recorded["body"] {
            Value::String(s) => s.clone().into_bytes(),
            Value::Null => Vec::new(),
            other => serde_json::to_vec_pretty(other).expect("body"),
        };
        Self {
            status: recorded["status"].as_u64().expect("status") as u16,
            retry_after: recorded["headers"]["Retry-After"]
                .as_str()
                .map(str::to_owned),
            body,
        }
    }

    pub fn to_http(&self) -> Vec<u8> {
        let mut out = format!("HTTP {}\n", self.status).into_bytes();
        if let Some(retry) = &self.retry_after {
            out.extend_from_slice(format!("Retry-After: {retry}\n").as_bytes());
        }
        out.push(b'\n');
        out.extend_from_slice(&self.body);
        out
    }
}

impl Case for EnvelopeCase {
    fn bytes(&self) -> &[u8] {
        &self.body
    }

    fn with_bytes(&self, body: Vec<u8>) -> Self {
        Self {
            body,
            ..self.clone()
        }
    }

    fn kind(&self) -> &'static str {
        "envelope"
    }

    fn file(&self) -> (Vec<u8>, &'static str) {
        (self.to_http(), "http")
    }
}

const STATUSES: &[u16] = &[
    0,
    100,
    200,
    201,
    202,
    204,
    206,
    299,
    300,
    301,
    304,
    399,
    400,
    401,
    403,
    404,
    405,
    409,
    413,
    422,
    429,
    499,
    500,
    502,
    503,
    504,
    599,
    600,
    999,
    u16::MAX,
];

const RETRY_AFTER: &[&str] = &[
    "",
    "0",
    "17",
    " 17 ",
    "\t5",
    "-1",
    "1.5",
    "18446744073709551615",
    "18446744073709551616",
    "Wed, 21 Oct 2015 07:28:00 GMT",
    "abc",
    "1e3",
    "+3",
    "０",
];

pub fn mutate(rng: &mut fastrand::Rng, base: &EnvelopeCase, pool: &[EnvelopeCase]) -> EnvelopeCase {
    let others: Vec<&[u8]> = (0..4)
        .map(|_| pool[rng.usize(..pool.len())].body.as_slice())
        .collect();
    let mut case = base.clone();
    match rng.u8(..8) {
        0 => case.status = *rng.choice(STATUSES).expect("statuses"),
        1 if rng.u8(..4) == 0 => case.status = rng.u16(..),
        2 => {
            case.retry_after = match rng.u8(..3) {
                0 => None,
                _ => Some((*rng.choice(RETRY_AFTER).expect("values")).to_owned()),
            }
        }
        _ => {}
    }
    if rng.u8(..8) != 0 {
        case.body = mutate::mutate(rng, &base.body, &others, mutate::JSON);
    }
    case
}

/// Decodes one answer as every type the client reads, asserting the properties above.
pub fn run(case: &EnvelopeCase) -> u64 {
    let status = case.status;
    let retry = case.retry_after.as_deref();
    let body = case.body.as_slice();

    let as_value = decode::<Value>(status, retry, body);
    let outcomes: Vec<(&str, Result<(), ApiError>)> = vec![
        ("Value", as_value.as_ref().map(|_| ()).map_err(Clone::clone)),
        ("Vec<Value>", typed::<Vec<Value>>(case, |_| {})),
        ("Employee", typed::<Employee>(case, employee)),
        (
            "Vec<Employee>",
            typed::<Vec<Employee>>(case, |v| v.iter().for_each(employee)),
        ),
        ("Progress", typed::<Progress>(case, progress)),
        (
            "Option<Progress>",
            typed::<Option<Progress>>(case, |p| p.iter().for_each(progress)),
        ),
        ("ApiKey", typed::<ApiKey>(case, |k| used(k.is_full()))),
        (
            "Vec<ApiKey>",
            typed::<Vec<ApiKey>>(case, |v| v.iter().for_each(|k| used(k.is_full()))),
        ),
        ("Group", typed::<Group>(case, |g| used(format!("{g:?}")))),
        (
            "Vec<Group>",
            typed::<Vec<Group>>(case, |g| used(format!("{g:?}"))),
        ),
        ("Folder", typed::<Folder>(case, folder)),
        (
            "Vec<Folder>",
            typed::<Vec<Folder>>(case, |v| v.iter().for_each(folder)),
        ),
        (
            "FolderContents",
            typed::<FolderContents>(case, |c| {
                folder(&c.current);
                c.folders.iter().for_each(folder);
            }),
        ),
        ("Total", typed::<Total>(case, |t| used(t.total))),
        (
            "Vec<Share>",
            typed::<Vec<Share>>(case, |v| v.iter().for_each(|s| used(s.subject()))),
        ),
        (
            "RoomSecurity",
            typed::<RoomSecurity>(case, |r| used(format!("{r:?}"))),
        ),
        ("Operation", typed::<Operation>(case, |o| used(o.failure()))),
        (
            "Vec<Operation>",
            typed::<Vec<Operation>>(case, |v| v.iter().for_each(|o| used(o.failure()))),
        ),
        ("bool", typed::<bool>(case, |_| {})),
    ];

    let mut behaviour = mix(0, &(status / 100).to_string());
    for (name, outcome) in &outcomes {
        behaviour = mix(behaviour, name);
        match outcome {
            Ok(()) => behaviour = mix(behaviour, "ok"),
            Err(error) => {
                behaviour = mix(behaviour, variant(error));
                check_error(status, retry, error, name);
            }
        }
    }

    let success = (200..300).contains(&status);
    if success {
        match &as_value {
            Ok(envelope) => check_success(envelope, body),
            Err(ApiError::Validation { .. }) => {
                for (name, outcome) in &outcomes {
                    assert_eq!(
                        outcome.as_ref().err(),
                        as_value.as_ref().err(),
                        "a validation error does not depend on the type ({name})"
                    );
                }
            }
            Err(ApiError::UnexpectedShape { .. }) => {
                for (name, outcome) in &outcomes {
                    assert!(
                        matches!(outcome, Err(ApiError::UnexpectedShape { .. })),
                        "no envelope, yet {name} gave {outcome:?}"
                    );
                }
            }
            Err(other) => panic!("a {status} decoded as {other:?}"),
        }
    } else {
        for (name, outcome) in &outcomes {
            assert!(outcome.is_err(), "a {status} decoded as a success ({name})");
            assert_eq!(
                outcome.as_ref().err(),
                as_value.as_ref().err(),
                "the error of a {status} does not depend on the type ({name})"
            );
        }
    }
    behaviour
}

fn typed<T: serde::de::DeserializeOwned>(
    case: &EnvelopeCase,
    inspect: impl Fn(&T),
) -> Result<(), ApiError> {
    let envelope = decode::<T>(case.status, case.retry_after.as_deref(), &case.body)?;
    if let Some(response) = &envelope.response {
        inspect(response);
    }
    Ok(())
}

fn employee(e: &Employee) {
    let _ = (
        e.kind().type_name(),
        e.is_active(),
        e.is_disabled(),
        format!("{e:?}"),
    );
}

fn progress(p: &Progress) {
    if let Some(failure) = p.failure() {
        assert!(!failure.trim().is_empty(), "a blank failure is no failure");
        assert!(!p.succeeded(), "a failed job did not succeed");
    }
}

fn folder(f: &Folder) {
    let _ = (
        f.is_room(),
        f.is_archived(),
        f.is_personal(),
        f.can("Read"),
        f.owner_id(),
    );
}

fn variant(error: &ApiError) -> &'static str {
    match error {
        ApiError::Unauthorized => "unauthorized",
        ApiError::Forbidden { .. } => "forbidden",
        ApiError::NotFound { .. } => "not-found",
        ApiError::Validation { .. } => "validation",
        ApiError::BadRequest { .. } => "bad-request",
        ApiError::RateLimited { .. } => "rate-limited",
        ApiError::Server { .. } => "server",
        ApiError::Transport { .. } => "transport",
        ApiError::UnexpectedShape { .. } => "unexpected",
    }
}

/// The error a status calls for.
fn check_error(status: u16, retry: Option<&str>, error: &ApiError, name: &str) {
    let what = format!("{status} as {name}: {error:?}");
    assert!(
        !error.to_string().is_empty(),
        "{what}: an error says something"
    );
    let _ = (error.is_transient(), error.surely_not_processed());
    let blank = |m: &Option<String>| m.as_ref().is_some_and(|m| m.trim().is_empty());
    match (status, error) {
        (200..=299, ApiError::Validation { .. }) => {}
        (200..=299, ApiError::UnexpectedShape { status: s, .. }) => {
            assert_eq!(*s, status, "{what}")
        }
        (400, ApiError::BadRequest { message }) => assert!(!message.trim().is_empty(), "{what}"),
        (400, ApiError::Validation { .. }) => {}
        (401, ApiError::Unauthorized) => {}
        (403, ApiError::Forbidden { message }) | (404, ApiError::NotFound { message }) => {
            assert!(!blank(message), "{what}: a blank message is no message");
        }
        (429, ApiError::RateLimited { retry_after }) => {
            let expected = retry.and_then(|r| r.trim().parse::<u64>().ok());
            assert_eq!(retry_after.map(|d| d.as_secs()), expected, "{what}");
        }
        (500..=599, ApiError::Server { status: s, message }) => {
            assert_eq!(*s, status, "{what}");
            assert!(!blank(message), "{what}: a blank message is no message");
        }
        (_, ApiError::UnexpectedShape { status: s, .. })
            if !(200..=299).contains(&status)
                && !matches!(status, 400 | 401 | 403 | 404 | 429 | 500..=599) =>
        {
            assert_eq!(*s, status, "{what}");
        }
        _ => panic!("{what}: not the error this status calls for"),
    }
}

/// A decoded success keeps the envelope's `total` and its `response`.
fn check_success(envelope: &Envelope<Value>, body: &[u8]) {
    let Ok(Value::Object(sent)) = serde_json::from_slice::<Value>(body) else {
        // Only a 204 may succeed without a JSON object.
        assert!(envelope.response.is_none() && envelope.total.is_none());
        return;
    };
    assert_eq!(
        envelope.total,
        sent.get("total").and_then(Value::as_u64),
        "total"
    );
    let response = sent.get("response").filter(|r| !r.is_null());
    assert_eq!(envelope.response.as_ref(), response, "response");
}

/// Replays a `*.http` file of `tests/fuzz/regressions/` (or a seed).
pub fn run_file(path: &Path) -> u64 {
    let bytes = std::fs::read(path).expect("read a replayed file");
    let case = EnvelopeCase::parse(&bytes).unwrap_or_else(|| {
        panic!(
            "{}: not an HTTP answer (`HTTP <status>`, headers, a blank line, the body)",
            path.display()
        )
    });
    run(&case)
}

/// Calls a helper for its panics only.
fn used<T>(value: T) {
    black_box(value);
}
