//! The HTTP client: one per run, the API key as a sensitive header, and one typed
//! call per endpoint the offboarding flow uses. No retries and no sleeping here: a
//! call either answers or fails with an [`ApiError`]; the executor decides what next.

use std::net::IpAddr;
use std::time::Duration;

use reqwest::header::{AUTHORIZATION, HeaderValue, RETRY_AFTER};
use reqwest::{Method, Url};
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::envelope::{Envelope, decode};
use super::error::ApiError;
use super::model::{
    ApiKey, Employee, Folder, FolderContents, Group, Operation, Progress, RoomSecurity, Share,
    Total,
};

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

/// A people filter query (`GET people/filter`).
#[derive(Debug, Default, Clone)]
pub struct PeopleFilter {
    /// `employeeStatus`: 1 active, 2 disabled, 4 pending; none = the default view.
    pub status: Option<u8>,
    pub text: Option<String>,
    pub group: Option<String>,
}

/// The filter of an audit or login history query.
#[derive(Debug, Default, Clone)]
pub struct HistoryFilter {
    pub user: Option<String>,
    pub action: Option<u32>,
    /// Inclusive bounds, sent with a `Z` (a zone-less value is a 400).
    pub from: Option<jiff::Timestamp>,
    pub to: Option<jiff::Timestamp>,
}

impl Client {
    pub fn new(connection: &Connection) -> Result<Self, ConnectionError> {
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

    fn url(&self, path: &str) -> Url {
        // `path` is a relative API path such as `api/2.0/people/@self`.
        self.base
            .join(path)
            .expect("API paths are valid relative URLs")
    }

    async fn request<T: DeserializeOwned>(
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

    async fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<Envelope<T>, ApiError> {
        self.request(Method::GET, path, query, None).await
    }

    /// A response the endpoint always sends.
    fn required<T>(envelope: Envelope<T>, what: &str) -> Result<T, ApiError> {
        envelope.response.ok_or_else(|| ApiError::UnexpectedShape {
            status: 200,
            detail: format!("no {what} in the answer"),
        })
    }

    /// Every page of a list: `count=100`, `startIndex` stepping until `total` (or a
    /// short page). The envelope's `count` is never trusted.
    async fn all_pages<T: DeserializeOwned>(
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

    // --- people -------------------------------------------------------------------

    pub async fn me(&self) -> Result<Employee, ApiError> {
        Self::required(self.get("api/2.0/people/@self", &[]).await?, "user")
    }

    /// The calling key itself (`ApiKeysController.GetApiKey`, no scope needed), with
    /// its permissions; none for a session token.
    pub async fn key_self(&self) -> Result<Option<ApiKey>, ApiError> {
        Ok(self.get("api/2.0/keys/@self", &[]).await?.response)
    }

    pub async fn user(&self, id_or_name: &str) -> Result<Employee, ApiError> {
        let path = format!("api/2.0/people/{}", encode_segment(id_or_name));
        Self::required(self.get(&path, &[]).await?, "user")
    }

    pub async fn user_by_email(&self, email: &str) -> Result<Employee, ApiError> {
        let query = [("email", email.to_owned())];
        Self::required(self.get("api/2.0/people/email", &query).await?, "user")
    }

    /// One page of the people filter, and the filter's total.
    pub async fn people_page(
        &self,
        filter: &PeopleFilter,
        start: u64,
    ) -> Result<(Vec<Employee>, Option<u64>), ApiError> {
        let mut query = filter_query(filter);
        query.push(("count", PAGE.to_string()));
        query.push(("startIndex", start.to_string()));
        let page: Envelope<Vec<Employee>> = self.get("api/2.0/people/filter", &query).await?;
        Ok((page.response.unwrap_or_default(), page.total))
    }

    /// Every user the filter selects, all pages.
    pub async fn people(&self, filter: &PeopleFilter) -> Result<Vec<Employee>, ApiError> {
        self.all_pages("api/2.0/people/filter", &filter_query(filter))
            .await
    }

    /// `PUT people/status/{status}`: all or nothing; the users as they now stand.
    pub async fn set_status(
        &self,
        user_ids: &[String],
        status: u8,
    ) -> Result<Vec<Employee>, ApiError> {
        let path = format!("api/2.0/people/status/{status}");
        let body = json!({ "userIds": user_ids, "resendAll": false });
        let envelope = self.request(Method::PUT, &path, &[], Some(&body)).await?;
        Ok(envelope.response.unwrap_or_default())
    }

    pub async fn reassign_necessary(
        &self,
        user_id: &str,
        type_name: &str,
    ) -> Result<bool, ApiError> {
        let query = [
            ("userId", user_id.to_owned()),
            ("type", type_name.to_owned()),
        ];
        Self::required(
            self.get("api/2.0/people/reassign/necessary", &query)
                .await?,
            "answer",
        )
    }

    pub async fn reassign_start(
        &self,
        from: &str,
        to: &str,
        delete_profile: bool,
    ) -> Result<Progress, ApiError> {
        let body = json!({ "fromUserId": from, "toUserId": to, "deleteProfile": delete_profile });
        let envelope = self
            .request(
                Method::POST,
                "api/2.0/people/reassign/start",
                &[],
                Some(&body),
            )
            .await?;
        Self::required(envelope, "progress")
    }

    /// The job's progress, or `None` when no record exists (never started, or gone).
    pub async fn reassign_progress(&self, user_id: &str) -> Result<Option<Progress>, ApiError> {
        let path = format!(
            "api/2.0/people/reassign/progress/{}",
            encode_segment(user_id)
        );
        Ok(self.get(&path, &[]).await?.response)
    }

    // --- API keys --------------------------------------------------------------------

    /// Every API key the caller may see (all of the portal's for admins).
    pub async fn api_keys(&self) -> Result<Vec<ApiKey>, ApiError> {
        Ok(self
            .get("api/2.0/keys", &[])
            .await?
            .response
            .unwrap_or_default())
    }

    /// Deletes a key; `false` when the caller may not.
    pub async fn delete_api_key(&self, key_id: &str) -> Result<bool, ApiError> {
        let path = format!("api/2.0/keys/{}", encode_segment(key_id));
        let envelope = self.request(Method::DELETE, &path, &[], None).await?;
        Ok(envelope.response.unwrap_or(false))
    }

    // --- groups ---------------------------------------------------------------------

    /// Groups whose name contains `text` (case-insensitively), all pages.
    pub async fn groups(&self, text: &str) -> Result<Vec<Group>, ApiError> {
        let query = [("filterValue", text.to_owned())];
        self.all_pages("api/2.0/group", &query).await
    }

    pub async fn group(&self, id: &str) -> Result<Group, ApiError> {
        let path = format!("api/2.0/group/{}", encode_segment(id));
        let query = [("includeMembers", "false".to_owned())];
        Self::required(self.get(&path, &query).await?, "group")
    }

    // --- folders and rooms ----------------------------------------------------------

    pub async fn folder(&self, id: i64) -> Result<Folder, ApiError> {
        Self::required(
            self.get(&format!("api/2.0/files/folder/{id}"), &[]).await?,
            "folder",
        )
    }

    /// One page of a folder's contents (folders, then files).
    pub async fn folder_contents(&self, id: i64, start: u64) -> Result<FolderContents, ApiError> {
        let query = [
            ("count", PAGE.to_string()),
            ("startIndex", start.to_string()),
        ];
        Self::required(
            self.get(&format!("api/2.0/files/{id}"), &query).await?,
            "contents",
        )
    }

    /// How many rooms (active or archived) `user_id` owns.
    pub async fn rooms_owned_by(&self, user_id: &str) -> Result<u64, ApiError> {
        let query = [
            ("subjectId", user_id.to_owned()),
            ("subjectFilter", "0".to_owned()),
            ("searchArea", "2".to_owned()),
            ("count", "1".to_owned()),
        ];
        // Only the total: a third-party room in the list would have a string id.
        let contents: Total =
            Self::required(self.get("api/2.0/files/rooms", &query).await?, "rooms")?;
        Ok(contents.total)
    }

    /// Every member of a room (owner first), all pages.
    pub async fn room_members(&self, room: i64) -> Result<Vec<Share>, ApiError> {
        self.all_pages(&format!("api/2.0/files/rooms/{room}/share"), &[])
            .await
    }

    /// Sets members' access (`0` removes); `(user or group id, access)` pairs.
    pub async fn set_room_members(
        &self,
        room: i64,
        members: &[(String, u8)],
    ) -> Result<RoomSecurity, ApiError> {
        let invitations: Vec<Value> = members
            .iter()
            .map(|(id, access)| json!({ "id": id, "access": access }))
            .collect();
        let body = json!({ "invitations": invitations, "notify": false });
        let path = format!("api/2.0/files/rooms/{room}/share");
        Self::required(
            self.request(Method::PUT, &path, &[], Some(&body)).await?,
            "room security",
        )
    }

    pub async fn change_room_owner(
        &self,
        rooms: &[i64],
        user_id: &str,
    ) -> Result<Vec<Folder>, ApiError> {
        let body = json!({ "folderIds": rooms, "fileIds": [], "userId": user_id });
        let envelope = self
            .request(Method::POST, "api/2.0/files/owner", &[], Some(&body))
            .await?;
        Ok(envelope.response.unwrap_or_default())
    }

    // --- file operations ------------------------------------------------------------

    /// Starts moving folders into `dest`; the started operation.
    pub async fn move_folders(
        &self,
        folders: &[i64],
        dest: i64,
    ) -> Result<Vec<Operation>, ApiError> {
        let body = json!({
            "folderIds": folders, "fileIds": [], "destFolderId": dest,
            "conflictResolveType": "Skip", "deleteAfter": false, "returnSingleOperation": true,
        });
        let envelope = self
            .request(Method::PUT, "api/2.0/files/fileops/move", &[], Some(&body))
            .await?;
        Ok(envelope.response.unwrap_or_default())
    }

    /// Starts archiving a room; the started operation.
    pub async fn archive_room(&self, room: i64) -> Result<Operation, ApiError> {
        let body = json!({ "deleteAfter": false });
        let path = format!("api/2.0/files/rooms/{room}/archive");
        Self::required(
            self.request(Method::PUT, &path, &[], Some(&body)).await?,
            "operation",
        )
    }

    /// Starts bringing an archived room back; the started operation.
    pub async fn unarchive_room(&self, room: i64) -> Result<Operation, ApiError> {
        let body = json!({ "deleteAfter": false });
        let path = format!("api/2.0/files/rooms/{room}/unarchive");
        Self::required(
            self.request(Method::PUT, &path, &[], Some(&body)).await?,
            "operation",
        )
    }

    /// Starts a bulk download of folders; the started operation.
    pub async fn bulk_download(&self, folders: &[i64]) -> Result<Vec<Operation>, ApiError> {
        let body = json!({ "folderIds": folders, "fileIds": [], "returnSingleOperation": true });
        let envelope = self
            .request(
                Method::PUT,
                "api/2.0/files/fileops/bulkdownload",
                &[],
                Some(&body),
            )
            .await?;
        Ok(envelope.response.unwrap_or_default())
    }

    /// All of the caller's operations. Finished ones are returned once, then gone.
    pub async fn operations(&self) -> Result<Vec<Operation>, ApiError> {
        Ok(self
            .get("api/2.0/files/fileops", &[])
            .await?
            .response
            .unwrap_or_default())
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

    // --- audit ----------------------------------------------------------------------

    /// One page (at most `count`) of audit events: for probing access and the plan.
    pub async fn audit_probe(
        &self,
        filter: &HistoryFilter,
        count: u64,
    ) -> Result<Vec<Value>, ApiError> {
        let mut query = history_query(filter);
        query.push(("count", count.to_string()));
        Ok(self
            .get("api/2.0/security/audit/events/filter", &query)
            .await?
            .response
            .unwrap_or_default())
    }

    /// Audit events matching the filter, newest first, all pages.
    pub async fn audit_events(&self, filter: &HistoryFilter) -> Result<Vec<Value>, ApiError> {
        self.history("api/2.0/security/audit/events/filter", filter)
            .await
    }

    /// Whether the audit trail shows `user_id` creating room or folder `id`
    /// (`RoomCreated` 5070 / `FolderCreated` 5019, whose target is the new entry's
    /// id). Filtered by action and target on the server (with `action`, `target` must
    /// equal the stored target); checked here too, since a portal without the audit
    /// feature ignores filters and answers its last 20 events.
    pub async fn created_by(&self, user_id: &str, id: i64, room: bool) -> Result<bool, ApiError> {
        let action: u64 = if room { 5070 } else { 5019 };
        let target = id.to_string();
        let query = [
            ("action", action.to_string()),
            ("target", target.clone()),
            ("count", PAGE.to_string()),
        ];
        let page: Envelope<Vec<Value>> = self
            .get("api/2.0/security/audit/events/filter", &query)
            .await?;
        Ok(page.response.unwrap_or_default().iter().any(|event| {
            event["actionId"].as_u64() == Some(action)
                && event["userId"]
                    .as_str()
                    .is_some_and(|by| by.eq_ignore_ascii_case(user_id))
                && event["target"]
                    .as_array()
                    .is_some_and(|t| t.iter().any(|t| t.as_str() == Some(target.as_str())))
        }))
    }

    /// Whether the audit trail holds a `UserDataReassigns` (4030) event for `user_id`
    /// (its only target, ReassignProgressItem.SendSuccessNotifyAsync) dated `since`
    /// or later: proof, unlike the job's record (gone a minute after it ends), that
    /// a reassign ran.
    pub async fn reassigned_since(
        &self,
        user_id: &str,
        since: jiff::Timestamp,
    ) -> Result<bool, ApiError> {
        let events = self
            .audit_events(&HistoryFilter {
                user: None,
                action: Some(4030),
                from: Some(since),
                to: None,
            })
            .await?;
        Ok(events.iter().any(|event| {
            // A portal without the audit feature ignores `from`: check the date too.
            let recent = event["date"]
                .as_str()
                .and_then(|d| d.parse::<jiff::Timestamp>().ok())
                .is_none_or(|d| d >= since);
            recent
                && event["actionId"].as_u64() == Some(4030)
                && event["target"].as_array().is_some_and(|t| {
                    t.iter().any(|id| {
                        id.as_str()
                            .is_some_and(|id| id.eq_ignore_ascii_case(user_id))
                    })
                })
        }))
    }

    /// Login events. The server pages *before* it filters (docspace-api.md §9.2), so a
    /// filtered page says nothing about the next one: the raw history is read page by
    /// page, newest first, filtered here, until it is older than `from` or ends.
    pub async fn login_events(&self, filter: &HistoryFilter) -> Result<Vec<Value>, ApiError> {
        let mut events = Vec::new();
        let mut start = 0u64;
        loop {
            let query = [
                ("count", PAGE.to_string()),
                ("startIndex", start.to_string()),
            ];
            let page: Envelope<Vec<Value>> = self
                .get("api/2.0/security/audit/login/filter", &query)
                .await?;
            let page = page.response.unwrap_or_default();
            let len = page.len() as u64;
            let mut older = false;
            for event in page {
                let date = event["date"]
                    .as_str()
                    .and_then(|d| d.parse::<jiff::Timestamp>().ok());
                if let (Some(from), Some(date)) = (filter.from, date)
                    && date < from
                {
                    older = true;
                    continue;
                }
                let user_ok = filter.user.as_ref().is_none_or(|u| {
                    event["userId"]
                        .as_str()
                        .is_some_and(|id| id.eq_ignore_ascii_case(u))
                });
                let action_ok = filter
                    .action
                    .is_none_or(|a| event["actionId"].as_u64() == Some(u64::from(a)));
                let to_ok = filter.to.is_none_or(|to| date.is_none_or(|d| d <= to));
                if user_ok && action_ok && to_ok {
                    events.push(event);
                }
            }
            start += len;
            if older || len < PAGE {
                return Ok(events);
            }
        }
    }

    async fn history(&self, path: &str, filter: &HistoryFilter) -> Result<Vec<Value>, ApiError> {
        self.all_pages(path, &history_query(filter)).await
    }
}

fn history_query(filter: &HistoryFilter) -> Vec<(&'static str, String)> {
    let mut query = Vec::new();
    if let Some(user) = &filter.user {
        query.push(("userId", user.clone()));
    }
    if let Some(action) = filter.action {
        query.push(("action", action.to_string()));
    }
    if let Some(from) = filter.from {
        query.push(("from", zulu(from)));
    }
    if let Some(to) = filter.to {
        query.push(("to", zulu(to)));
    }
    query
}

fn filter_query(filter: &PeopleFilter) -> Vec<(&'static str, String)> {
    let mut query = Vec::new();
    if let Some(status) = filter.status {
        query.push(("employeeStatus", status.to_string()));
    }
    if let Some(text) = &filter.text {
        query.push(("filterValue", text.clone()));
    }
    if let Some(group) = &filter.group {
        query.push(("groupId", group.clone()));
    }
    query
}

/// `2025-01-31T00:00:00Z`: with a zone, as the server's query binding needs.
fn zulu(at: jiff::Timestamp) -> String {
    at.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Percent-encodes one path segment.
fn encode_segment(text: &str) -> String {
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

    #[test]
    fn dates_are_sent_with_a_zone() {
        let at: jiff::Timestamp = "2025-01-31T10:20:30.5+03:00".parse().unwrap();
        assert_eq!(zulu(at), "2025-01-31T07:20:30Z");
    }
}
