//! The HTTP server: shared state, the request context handlers get, and the middleware
//! stack (statistics → authentication → limiter → faults → route).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, FromRequest, MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::config::Config;
use crate::jobs::Jobs;
use crate::limiter::Limiter;
use crate::state::{Guid, Portal};
use crate::wire::{ApiError, JsonBody, Link, Query, Reply};

/// Everything the routes share.
pub struct Shared {
    pub portal: Mutex<Portal>,
    pub config: Config,
    pub limiter: Limiter,
    pub stats: Mutex<Stats>,
    pub rng: Mutex<fastrand::Rng>,
    pub jobs: Mutex<Jobs>,
    /// `http://127.0.0.1:PORT`, known once the listener is bound.
    pub base_url: String,
    in_flight_reads: AtomicU64,
    in_flight_writes: AtomicU64,
    /// The portal is down behind its gateway: every request gets a 502.
    pub outage: std::sync::atomic::AtomicBool,
}

pub type Sim = Arc<Shared>;

impl Shared {
    pub fn new(portal: Portal, config: Config, base_url: String) -> Self {
        Self {
            portal: Mutex::new(portal),
            limiter: Limiter::new(&config),
            // Not the fixture builder's sequence (same seed), so ids made at run
            // time never repeat ids the portal was built with.
            rng: Mutex::new(fastrand::Rng::with_seed(
                config.seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03,
            )),
            config,
            stats: Mutex::new(Stats::default()),
            jobs: Mutex::new(Jobs::default()),
            base_url,
            in_flight_reads: AtomicU64::new(0),
            in_flight_writes: AtomicU64::new(0),
            outage: std::sync::atomic::AtomicBool::new(false),
        }
    }

    pub fn portal(&self) -> MutexGuard<'_, Portal> {
        self.portal.lock().expect("portal lock")
    }

    pub fn stats(&self) -> MutexGuard<'_, Stats> {
        self.stats.lock().expect("stats lock")
    }

    /// How DTOs look to `caller`.
    pub fn view<'a>(&'a self, portal: &'a Portal, caller: Guid) -> crate::dto::View<'a> {
        crate::dto::View {
            portal,
            caller,
            base_url: &self.base_url,
        }
    }

    /// What faults decide for a new job: fail, get stuck at `stuck_at` percent, or run.
    pub fn job_fate(&self, stuck_at: u8) -> crate::jobs::Fate {
        let faults = &self.config.faults;
        let draw = self.draw();
        if draw < faults.job_fail {
            crate::jobs::Fate::Fail
        } else if draw < faults.job_fail + faults.job_stuck {
            crate::jobs::Fate::Stuck(stuck_at)
        } else if draw < faults.job_fail + faults.job_stuck + faults.job_silent {
            crate::jobs::Fate::Silent
        } else {
            crate::jobs::Fate::Normal
        }
    }

    /// A seeded random draw in [0, 1).
    pub fn draw(&self) -> f64 {
        self.rng.lock().expect("rng lock").f64()
    }
}

/// Counters for tests and benchmarks (`GET /__sim/stats`).
#[derive(Debug, Default, Clone)]
pub struct Stats {
    /// By `"VERB route-template"`.
    pub requests: BTreeMap<String, u64>,
    pub limiter_429: u64,
    pub injected: BTreeMap<String, u64>,
    /// Non-GET requests that reached a route, by user id.
    pub writes_per_user: BTreeMap<String, u64>,
    pub peak_reads: u64,
    pub peak_writes: u64,
}

impl Stats {
    pub fn to_json(&self) -> Value {
        let total: u64 = self.requests.values().sum();
        let writes: u64 = self
            .requests
            .iter()
            .filter(|(k, _)| !k.starts_with("GET "))
            .map(|(_, v)| v)
            .sum();
        let post_put: u64 = self
            .requests
            .iter()
            .filter(|(k, _)| k.starts_with("POST ") || k.starts_with("PUT "))
            .map(|(_, v)| v)
            .sum();
        json!({
            "requests": total,
            "writes": writes,
            "postPut": post_put,
            "byRoute": self.requests,
            "limiter429": self.limiter_429,
            "injected": self.injected,
            "writesPerUser": self.writes_per_user,
            "peakConcurrentReads": self.peak_reads,
            "peakConcurrentWrites": self.peak_writes,
        })
    }
}

/// Who a request acts as, set by the authentication middleware.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    /// No credentials at all.
    Anonymous,
    /// Credentials that did not authenticate (unknown, expired, disabled user).
    Failed,
    User(Guid),
}

/// What a handler knows about its request.
pub struct Ctx {
    pub link: Link,
    pub auth: Auth,
    pub query: Query,
    body: Bytes,
}

impl Ctx {
    /// The calling user; anything else is the pipeline's empty 401.
    pub fn caller(&self) -> Result<Guid, ApiError> {
        match self.auth {
            Auth::User(id) => Ok(id),
            _ => Err(ApiError::unauthorized()),
        }
    }

    /// For `[AllowAnonymous]` Files actions: no user means the service's own
    /// `AuthenticationException`, a 401 inside the error envelope.
    pub fn files_caller(&self) -> Result<Guid, ApiError> {
        match self.auth {
            Auth::User(id) => Ok(id),
            _ => Err(ApiError::Authentication(
                "The user is not authenticated or the session has expired".into(),
            )),
        }
    }

    pub fn body_is_empty(&self) -> bool {
        self.body.iter().all(u8::is_ascii_whitespace)
    }

    pub fn body(&self) -> Result<JsonBody, ApiError> {
        JsonBody::parse(&self.body, &self.link)
    }

    pub fn ok(&self, reply: Reply) -> Response {
        reply.into_response(&self.link)
    }

    pub fn json(&self, value: Value) -> Response {
        Reply::new(value).into_response(&self.link)
    }

    /// Model binding's "The value '…' is not valid." for a field.
    pub fn invalid(&self, field: &str, value: impl std::fmt::Display) -> ApiError {
        self.validation(field, format!("The value '{value}' is not valid."))
    }

    /// An optional GUID query parameter (absent or empty: `None`).
    pub fn guid_query(&self, name: &str) -> Result<Option<Guid>, ApiError> {
        match self.query.get(name).filter(|v| !v.is_empty()) {
            None => Ok(None),
            Some(text) => Guid::parse(text)
                .map(Some)
                .ok_or_else(|| self.invalid(name, text)),
        }
    }

    /// System.Text.Json's failure to convert a body value (a `JsonException` the input
    /// formatter turns into a model-state error under the value's JSON path, e.g.
    /// `$.groupName`). `clr_type` is the .NET type it wanted (`System.String`). The real
    /// message ends with the line and byte position, which are left out here.
    pub fn json_type_error(&self, path: &str, clr_type: &str) -> ApiError {
        let path = format!("$.{path}");
        let message = format!("The JSON value could not be converted to {clr_type}. Path: {path}.");
        self.validation(&path, message)
    }

    pub fn validation(&self, field: &str, message: impl Into<String>) -> ApiError {
        ApiError::Validation {
            field: field.to_owned(),
            message: message.into(),
            link: self.link.clone(),
        }
    }
}

impl<S: Send + Sync> FromRequest<S> for Ctx {
    type Rejection = Response;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let auth = request
            .extensions()
            .get::<Auth>()
            .copied()
            .unwrap_or(Auth::Anonymous);
        let link = link_of(&request);
        let query = Query::parse(request.uri().query());
        let body = Bytes::from_request(request, state)
            .await
            .map_err(IntoResponse::into_response)?;
        Ok(Self {
            link,
            auth,
            query,
            body,
        })
    }
}

fn link_of(request: &Request) -> Link {
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1");
    Link {
        href: format!("http://{host}{}", request.uri()),
        action: request.method().to_string(),
    }
}

/// Adds the middleware stack to the API routes.
pub fn with_middleware(router: axum::Router<Sim>, sim: Sim) -> axum::Router<Sim> {
    router
        .layer(middleware::from_fn_with_state(sim.clone(), faults))
        .layer(middleware::from_fn_with_state(sim.clone(), limit))
        .layer(middleware::from_fn_with_state(sim.clone(), authenticate))
        .layer(middleware::from_fn_with_state(sim, count))
}

/// Counts requests by verb and route template, and in-flight peaks.
async fn count(State(sim): State<Sim>, request: Request, next: Next) -> Response {
    let template = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "(no route)".to_owned(), |p| p.as_str().to_owned());
    let method = request.method().clone();
    let read = method == Method::GET || method == Method::HEAD;
    let counter = if read {
        &sim.in_flight_reads
    } else {
        &sim.in_flight_writes
    };
    let now = counter.fetch_add(1, Ordering::SeqCst) + 1;
    {
        let mut stats = sim.stats();
        *stats
            .requests
            .entry(format!("{method} {template}"))
            .or_default() += 1;
        if read {
            stats.peak_reads = stats.peak_reads.max(now);
        } else {
            stats.peak_writes = stats.peak_writes.max(now);
        }
    }
    let response = next.run(request).await;
    counter.fetch_sub(1, Ordering::SeqCst);
    response
}

/// Resolves the `Authorization` header (docspace-api.md §1.1) into an [`Auth`], and
/// refuses a restricted API key outside its scopes (§1.2: 403, empty body).
async fn authenticate(State(sim): State<Sim>, mut request: Request, next: Next) -> Response {
    let (auth, scopes) = resolve_auth(&sim, request.headers());
    if let Some(scopes) = scopes
        && !scope_allows(&scopes, request.method(), request.uri().path())
    {
        return ApiError::Empty(StatusCode::FORBIDDEN).into_response();
    }
    if let Auth::User(id) = auth
        && request.method() != Method::GET
    {
        *sim.stats()
            .writes_per_user
            .entry(id.to_string())
            .or_default() += 1;
    }
    request.extensions_mut().insert(auth);
    next.run(request).await
}

/// The caller, and the scopes of the API key used when it is a restricted one.
pub fn resolve_auth(sim: &Shared, headers: &HeaderMap) -> (Auth, Option<Vec<String>>) {
    let Some(value) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return (Auth::Anonymous, None);
    };
    let mut scopes = None;
    let value = value.trim();
    let mut portal = sim.portal();
    let now = jiff::Timestamp::now();
    let user = if let Some(basic) = value.strip_prefix("Basic ") {
        decode_basic(basic).and_then(|(email, password)| {
            portal
                .user_by_email(&email)
                .filter(|u| u.password.as_deref() == Some(password.as_str()))
                .map(|u| u.id)
        })
    } else {
        // Only `Bearer sk-…` reaches the API-key handler; a bare value (even one
        // starting with `sk-`) goes to the cookie handler as a session token.
        let bearer = value.strip_prefix("Bearer ");
        let token = bearer.unwrap_or(value).trim();
        if bearer.is_some() && token.starts_with("sk-") {
            let key = portal.keys.iter_mut().find(|k| k.secret == token);
            match key {
                Some(key) if key.active && key.expires.is_none_or(|e| e > now) => {
                    key.last_used = Some(now);
                    let full =
                        key.permissions.is_empty() || key.permissions.iter().any(|p| p == "*");
                    if !full {
                        scopes = Some(key.permissions.clone());
                    }
                    Some(key.created_by)
                }
                _ => None,
            }
        } else {
            portal.sessions.get(token).and_then(|session| {
                let user = portal.user(session.user)?;
                (session.expires > now && session.cookie_index == user.cookie_index)
                    .then_some(session.user)
            })
        }
    };
    match user.and_then(|id| portal.user(id)) {
        Some(u) if u.is_active() => (Auth::User(u.id), scopes),
        _ => (Auth::Failed, None),
    }
}

/// Whether a restricted key's scopes admit a request (`ScopesAuthorizationHandler`).
fn scope_allows(scopes: &[String], method: &Method, path: &str) -> bool {
    let read = method == Method::GET;
    let has = |s: &str| scopes.iter().any(|x| x == s);
    if has("*:write") || (read && has("*:read")) {
        return true;
    }
    let route = path.strip_prefix("/api/2.0/").unwrap_or(path);
    let area = |prefix: &str| route == prefix || route.starts_with(&format!("{prefix}/"));
    let (read_scopes, write_scope): (&[&str], &str) = if area("files/rooms") {
        (&["rooms:read", "rooms:write"], "rooms:write")
    } else if area("files") {
        (&["files:read", "files:write"], "files:write")
    } else if area("people/@self") {
        (
            &["accounts.self:read", "accounts.self:write"],
            "accounts.self:write",
        )
    } else if area("people") {
        (&["accounts:read", "accounts:write"], "accounts:write")
    } else if area("group") {
        (&["accounts:read"], "accounts:write")
    } else if route == "keys/@self" && read {
        return true;
    } else {
        // Audit, sessions, keys and the rest need a global scope.
        return false;
    };
    if read {
        read_scopes.iter().any(|s| has(s))
    } else {
        has(write_scope)
    }
}

fn decode_basic(encoded: &str) -> Option<(String, String)> {
    let bytes = base64_decode(encoded.trim())?;
    let text = String::from_utf8(bytes).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let value = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let clean: Vec<u8> = text.bytes().filter(|b| *b != b'=').collect();
    let mut out = Vec::with_capacity(clean.len() * 3 / 4);
    for chunk in clean.chunks(4) {
        let mut acc = 0u32;
        for (i, c) in chunk.iter().enumerate() {
            acc |= value(*c)? << (18 - 6 * i);
        }
        let bytes = acc.to_be_bytes();
        out.extend_from_slice(&bytes[1..chunk.len()]);
    }
    Some(out)
}

/// The chained limiter, partitioned by user (or by client address when anonymous).
async fn limit(State(sim): State<Sim>, request: Request, next: Next) -> Response {
    if !sim.limiter.enabled() {
        return next.run(request).await;
    }
    let key = match request.extensions().get::<Auth>() {
        Some(Auth::User(id)) => id.to_string(),
        _ => request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map_or_else(|| "anonymous".to_owned(), |c| c.0.ip().to_string()),
    };
    let method = request.method().to_string();
    match sim.limiter.admit(&key, &method) {
        Ok(permit) => {
            let response = next.run(request).await;
            drop(permit);
            response
        }
        Err(rejection) => {
            sim.stats().limiter_429 += 1;
            let mut response = Response::new(Body::empty());
            *response.status_mut() = StatusCode::TOO_MANY_REQUESTS;
            for (name, value) in rejection.headers {
                if let Ok(value) = HeaderValue::from_str(&value) {
                    response.headers_mut().insert(name, value);
                }
            }
            response
        }
    }
}

/// Seeded fault injection. 429/500/502/503 answer before the route runs; a dropped
/// connection happens after it ran, so the client cannot know whether its write
/// took effect (the case a resumable client must handle).
async fn faults(State(sim): State<Sim>, request: Request, next: Next) -> Response {
    if sim.outage.load(Ordering::Relaxed) {
        // What the reverse proxy in front of DocSpace answers while the portal
        // behind it is down: a 502 page, not DocSpace's envelope.
        let mut response = Response::new(Body::from(
            "<html><body><h1>502 Bad Gateway</h1></body></html>",
        ));
        *response.status_mut() = StatusCode::BAD_GATEWAY;
        return response;
    }
    let faults = &sim.config.faults;
    if !faults.any_request_fault() {
        return next.run(request).await;
    }
    if let Some((low, high)) = faults.latency {
        let span = high.saturating_sub(low).as_secs_f64();
        let delay = low + std::time::Duration::from_secs_f64(span * sim.draw());
        tokio::time::sleep(delay).await;
    }
    let draw = sim.draw();
    let mut edge = 0.0;
    let mut hit = |p: f64| {
        edge += p;
        draw < edge
    };
    let injected = |name: &str| {
        *sim.stats().injected.entry(name.to_owned()).or_default() += 1;
    };
    if hit(faults.status_429) {
        injected("429");
        let mut response = Response::new(Body::empty());
        *response.status_mut() = StatusCode::TOO_MANY_REQUESTS;
        response
            .headers_mut()
            .insert("Retry-After", HeaderValue::from_static("1"));
        return response;
    }
    if hit(faults.status_500) {
        injected("500");
        return ApiError::Server("Object reference not set to an instance of an object.".into())
            .into_response();
    }
    for (p, status, name) in [
        (faults.status_502, StatusCode::BAD_GATEWAY, "502"),
        (faults.status_503, StatusCode::SERVICE_UNAVAILABLE, "503"),
    ] {
        if hit(p) {
            injected(name);
            let mut response = Response::new(Body::from(format!(
                "<html><body><h1>{status}</h1></body></html>"
            )));
            *response.status_mut() = status;
            return response;
        }
    }
    let drop_after = hit(faults.drop);
    let response = next.run(request).await;
    if drop_after {
        injected("drop");
        // A body that fails makes the server abort the connection mid-response.
        let mut dropped = Response::new(Body::new(FailingBody));
        *dropped.status_mut() = response.status();
        dropped
            .headers_mut()
            .insert(header::CONTENT_LENGTH, HeaderValue::from_static("1048576"));
        return dropped;
    }
    response
}

/// A response body that fails at once: the server then aborts the connection.
struct FailingBody;

impl axum::body::HttpBody for FailingBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        std::task::Poll::Ready(Some(Err(std::io::Error::other(
            "connection dropped by fault injection",
        ))))
    }
}
