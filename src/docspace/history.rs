//! The audit trail and the login history, and the evidence read from them.

use serde_json::Value;

use super::envelope::Envelope;
use super::error::ApiError;

use super::client::{Client, PAGE};

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

/// `2025-01-31T00:00:00Z`: with a zone, as the server's query binding needs.
fn zulu(at: jiff::Timestamp) -> String {
    at.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_sent_with_a_zone() {
        let at: jiff::Timestamp = "2025-01-31T10:20:30.5+03:00".parse().unwrap();
        assert_eq!(zulu(at), "2025-01-31T07:20:30Z");
    }
}
