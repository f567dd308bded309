//! The wire format of DocSpace's API (docspace-api.md §0): the success envelope, the
//! exception envelope, validation problems, empty-body statuses, `ApiDateTime` strings,
//! paging, and case-insensitive JSON input.

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use crate::state::Guid;

/// The request a response answers: its full URL and verb, for the envelope's `links`.
#[derive(Debug, Clone)]
pub struct Link {
    pub href: String,
    pub action: String,
}

/// A success envelope: `{"response", "count", "total"?, "links", "status": 0, "statusCode": 200}`.
pub struct Reply {
    pub response: Option<Value>,
    /// The envelope's `count`. `None` derives it: array length, 1 for anything else,
    /// 0 without a response.
    pub count: Option<u64>,
    pub total: Option<u64>,
    pub status: StatusCode,
}

impl Reply {
    pub fn new(response: Value) -> Self {
        Self {
            response: Some(response),
            count: None,
            total: None,
            status: StatusCode::OK,
        }
    }

    /// A void action: `{"count":0,"links":[...],"status":0,"statusCode":200}`.
    pub fn empty() -> Self {
        Self {
            response: None,
            count: None,
            total: None,
            status: StatusCode::OK,
        }
    }

    pub fn with_total(mut self, total: u64) -> Self {
        self.total = Some(total);
        self
    }

    /// Streamed `IAsyncEnumerable` results report `count: 1` whatever their length.
    pub fn with_count(mut self, count: u64) -> Self {
        self.count = Some(count);
        self
    }

    pub fn into_response(self, link: &Link) -> Response {
        let count = self.count.unwrap_or(match &self.response {
            None | Some(Value::Null) => 0,
            Some(Value::Array(items)) => items.len() as u64,
            Some(_) => 1,
        });
        let mut envelope = Map::new();
        if let Some(response) = self.response.filter(|v| !v.is_null()) {
            envelope.insert("response".into(), response);
        }
        envelope.insert("count".into(), count.into());
        if let Some(total) = self.total {
            envelope.insert("total".into(), total.into());
        }
        envelope.insert(
            "links".into(),
            json!([{ "href": link.href, "action": link.action }]),
        );
        envelope.insert("status".into(), 0.into());
        envelope.insert("statusCode".into(), self.status.as_u16().into());
        json_response(self.status, &Value::Object(envelope))
    }
}

/// Every failure the simulated server produces, mapped as `CustomExceptionHandler` does.
#[derive(Debug)]
pub enum ApiError {
    /// `ItemNotFoundException`: 404 with the message.
    NotFound(String),
    /// `ArgumentException`: 400 with the message.
    Argument(String),
    /// `SecurityException`: 403, always "Access denied".
    AccessDenied,
    /// `InvalidOperationException`: 403 keeping its message.
    InvalidOperation(String),
    /// `AuthenticationException` thrown inside an anonymous-allowed action: 401 envelope.
    Authentication(String),
    /// A plain `Exception` (or a null dereference): 500 with the message.
    Server(String),
    /// Model validation: 400 inside the success envelope.
    Validation {
        field: String,
        message: String,
        link: Link,
    },
    /// A pipeline status with an empty body (401 bad credentials, 403 scope, 404 route,
    /// 405 verb, 429 limiter).
    Empty(StatusCode),
}

impl ApiError {
    pub fn not_found_user() -> Self {
        ApiError::NotFound("The user could not be found".into())
    }

    pub fn not_found_folder() -> Self {
        ApiError::NotFound("The required folder was not found".into())
    }

    pub fn unauthorized() -> Self {
        ApiError::Empty(StatusCode::UNAUTHORIZED)
    }

    fn exception(&self) -> Option<(StatusCode, &str, &'static str)> {
        Some(match self {
            ApiError::NotFound(m) => (
                StatusCode::NOT_FOUND,
                m.as_str(),
                "ASC.Common.Web.ItemNotFoundException",
            ),
            ApiError::Argument(m) => (
                StatusCode::BAD_REQUEST,
                m.as_str(),
                "System.ArgumentException",
            ),
            ApiError::AccessDenied => (
                StatusCode::FORBIDDEN,
                "Access denied",
                "System.Security.SecurityException",
            ),
            ApiError::InvalidOperation(m) => (
                StatusCode::FORBIDDEN,
                m.as_str(),
                "System.InvalidOperationException",
            ),
            ApiError::Authentication(m) => (
                StatusCode::UNAUTHORIZED,
                m.as_str(),
                "System.Security.Authentication.AuthenticationException",
            ),
            ApiError::Server(m) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                m.as_str(),
                "System.Exception",
            ),
            ApiError::Validation { .. } | ApiError::Empty(_) => return None,
        })
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let Some((status, message, kind)) = self.exception() {
            // AuthenticationException and custom HTTP exceptions carry no type or stack.
            let bare = matches!(self, ApiError::Authentication(_));
            let body = json!({
                "error": {
                    "message": message,
                    "type": if bare { Value::Null } else { kind.into() },
                    "stack": if bare { Value::Null } else { format!("   at {kind}..ctor()\n   at ASC.Api.Core (simulated)").into() },
                    "hresult": if bare { 0 } else { -2146233088 },
                },
                "status": 1,
                "statusCode": status.as_u16(),
            });
            return json_response(status, &body);
        }
        match self {
            ApiError::Validation {
                field,
                message,
                link,
            } => {
                let problem = json!({
                    "type": "https://tools.ietf.org/html/rfc9110#section-15.5.1",
                    "title": "One or more validation errors occurred.",
                    "status": 400,
                    "errors": { field: [message] },
                    "traceId": "00-00000000000000000000000000000000-0000000000000000-00",
                });
                let body = json!({
                    "response": problem,
                    "count": 1,
                    "links": [{ "href": link.href, "action": link.action }],
                    "status": 1,
                    "statusCode": 400,
                });
                json_response(StatusCode::BAD_REQUEST, &body)
            }
            ApiError::Empty(status) => {
                let mut response = Response::new(Body::empty());
                *response.status_mut() = status;
                response
            }
            _ => unreachable!("exceptions are handled above"),
        }
    }
}

pub fn json_response(status: StatusCode, value: &Value) -> Response {
    let body = serde_json::to_vec(value).expect("JSON values serialize");
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    response
}

/// A JSON request body with ASP.NET Core's binding rules: property names match
/// case-insensitively, numbers may come as strings, unknown properties are ignored.
#[derive(Debug, Default)]
pub struct JsonBody(pub Map<String, Value>);

impl JsonBody {
    /// Parses a body; malformed JSON is a validation error. An empty body is `{}`.
    pub fn parse(bytes: &[u8], link: &Link) -> Result<Self, ApiError> {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self(Map::new()));
        }
        match serde_json::from_slice::<Value>(bytes) {
            Ok(Value::Object(map)) => Ok(Self(map)),
            Ok(_) | Err(_) => Err(ApiError::Validation {
                field: "$".into(),
                message: "The JSON value could not be converted.".into(),
                link: link.clone(),
            }),
        }
    }

    pub fn get(&self, name: &str) -> Option<&Value> {
        self.entry(name).map(|(_, v)| v).filter(|v| !v.is_null())
    }

    /// A property with its name as the request spelt it (for the JSON path of an error).
    pub fn entry(&self, name: &str) -> Option<(&str, &Value)> {
        self.0
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(k, v)| (k.as_str(), v))
    }

    pub fn str(&self, name: &str) -> Option<&str> {
        self.get(name).and_then(Value::as_str)
    }

    pub fn bool(&self, name: &str) -> Option<bool> {
        match self.get(name)? {
            Value::Bool(b) => Some(*b),
            Value::String(s) => s.parse().ok(),
            _ => None,
        }
    }

    pub fn i64(&self, name: &str) -> Option<i64> {
        value_i64(self.get(name)?)
    }

    pub fn array(&self, name: &str) -> Vec<Value> {
        match self.get(name) {
            Some(Value::Array(items)) => items.clone(),
            _ => Vec::new(),
        }
    }
}

/// A GUID as System.Text.Json reads one: a string in the hyphenated 36-character
/// form only (`Utf8JsonReader.TryGetGuid`, the "D" format).
pub fn json_guid(value: &Value) -> Option<Guid> {
    let text = value.as_str()?;
    let hyphens = [8, 13, 18, 23];
    let well_formed = text.len() == 36
        && text
            .char_indices()
            .all(|(i, c)| c == '-' || !hyphens.contains(&i))
        && hyphens.iter().all(|i| text.as_bytes()[*i] == b'-');
    if well_formed { Guid::parse(text) } else { None }
}

/// An integer from a JSON number or a numeric string.
pub fn value_i64(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// `ApiDateTime` output: `yyyy-MM-ddTHH:mm:ss.fffffff` in the portal's zone, then `Z`
/// for a zero offset or `±hh:mm`.
pub fn api_datetime(at: jiff::Timestamp, zone: &jiff::tz::TimeZone) -> String {
    let zoned = at.to_zoned(zone.clone());
    let offset = zoned.offset().seconds();
    let dt = zoned.datetime();
    let ticks = dt.subsec_nanosecond() / 100;
    let suffix = if offset == 0 {
        "Z".to_owned()
    } else {
        let sign = if offset < 0 { '-' } else { '+' };
        let abs = offset.unsigned_abs();
        format!("{sign}{:02}:{:02}", abs / 3600, (abs % 3600) / 60)
    };
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{ticks:07}{suffix}",
        dt.year(),
        dt.month(),
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second()
    )
}

/// `ApiDateTime` query input: needs a `Z` or an explicit offset; a value without a
/// zone fails model binding (400), as on the real server (docspace-api.md §0.3).
pub fn parse_api_datetime(text: &str) -> Option<jiff::Timestamp> {
    let has_zone = text.ends_with('Z')
        || text.ends_with('z')
        || text.rsplit_once(['+', '-']).is_some_and(|(head, tail)| {
            head.contains('T') && tail.len() == 5 && tail.as_bytes()[2] == b':'
        });
    if !has_zone {
        return None;
    }
    text.parse::<jiff::Timestamp>().ok()
}

/// Paging parameters: `count` 1..100 (default 100) and `startIndex` (default 0).
#[derive(Debug, Clone, Copy)]
pub struct Page {
    pub start: usize,
    pub count: usize,
}

impl Page {
    pub fn from_query(query: &Query, link: &Link) -> Result<Self, ApiError> {
        let count = match query.get("count") {
            None => 100,
            Some(text) => match text.parse::<i64>() {
                Ok(n) if (1..=100).contains(&n) => n as usize,
                Ok(_) => {
                    return Err(ApiError::Validation {
                        field: "count".into(),
                        message: "The field Count must be between 1 and 100.".into(),
                        link: link.clone(),
                    });
                }
                Err(_) => {
                    return Err(ApiError::Validation {
                        field: "count".into(),
                        message: format!("The value '{text}' is not valid for Count."),
                        link: link.clone(),
                    });
                }
            },
        };
        let start = match query.get("startIndex") {
            None => 0,
            Some(text) => text.parse::<usize>().map_err(|_| ApiError::Validation {
                field: "startIndex".into(),
                message: format!("The value '{text}' is not valid for StartIndex."),
                link: link.clone(),
            })?,
        };
        Ok(Self { start, count })
    }

    pub fn slice<T: Clone>(&self, items: &[T]) -> Vec<T> {
        items
            .iter()
            .skip(self.start)
            .take(self.count)
            .cloned()
            .collect()
    }
}

/// Query parameters, matched case-insensitively by name.
#[derive(Debug, Default, Clone)]
pub struct Query(pub Vec<(String, String)>);

impl Query {
    pub fn parse(raw: Option<&str>) -> Self {
        let pairs = raw
            .map(|q| {
                form_pairs(q)
                    .into_iter()
                    .filter(|(k, _)| !k.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        Self(pairs)
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

fn form_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|part| !part.is_empty())
        .map(|part| {
            let (k, v) = part.split_once('=').unwrap_or((part, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

/// Decodes `%XX` escapes and `+` (form encoding) in a query component.
pub fn percent_decode(text: &str) -> String {
    let hex = |b: Option<&u8>| b.and_then(|b| (*b as char).to_digit(16)).map(|d| d as u8);
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match (bytes[i], hex(bytes.get(i + 1)), hex(bytes.get(i + 2))) {
            (b'+', _, _) => out.push(b' '),
            (b'%', Some(high), Some(low)) => {
                out.push(high * 16 + low);
                i += 2;
            }
            (b, _, _) => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_datetime_uses_the_portal_offset_and_seven_decimals() {
        let at: jiff::Timestamp = "2025-03-04T12:20:11Z".parse().unwrap();
        let moscow = jiff::tz::TimeZone::get("Europe/Moscow").unwrap();
        assert_eq!(
            api_datetime(at, &moscow),
            "2025-03-04T15:20:11.0000000+03:00"
        );
        assert_eq!(
            api_datetime(at, &jiff::tz::TimeZone::UTC),
            "2025-03-04T12:20:11.0000000Z"
        );
    }

    #[test]
    fn query_datetimes_need_a_zone() {
        assert!(parse_api_datetime("2025-01-31T00:00:00Z").is_some());
        assert!(parse_api_datetime("2025-01-31T00:00:00+03:00").is_some());
        assert!(parse_api_datetime("2025-01-31T00:00:00").is_none());
        assert!(parse_api_datetime("2025-01-31").is_none());
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("a%40b.example+x"), "a@b.example x");
        assert_eq!(percent_decode("100%"), "100%");
    }
}
