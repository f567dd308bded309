//! People, their API keys and groups: reading them, disabling accounts, and the
//! reassign job that hands a leaver's data over.

use reqwest::Method;
use serde_json::json;

use super::envelope::Envelope;
use super::error::ApiError;
use super::model::{ApiKey, Employee, Group, Progress};

use super::client::{Client, PAGE, encode_segment};

/// A people filter query (`GET people/filter`).
#[derive(Debug, Default, Clone)]
pub struct PeopleFilter {
    /// `employeeStatus`: 1 active, 2 disabled, 4 pending; none = the default view.
    pub status: Option<u8>,
    pub text: Option<String>,
    pub group: Option<String>,
}

impl Client {
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
