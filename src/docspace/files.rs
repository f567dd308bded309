//! Folders and rooms: reading them and their members, owner changes, moves,
//! archiving, downloads, and the file operations that carry them out.

use reqwest::Method;
use serde_json::{Value, json};

use super::error::ApiError;
use super::model::{Folder, FolderContents, Operation, OwnedRooms, RoomSecurity, Share, Total};

use super::client::{Client, PAGE};

impl Client {
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

    /// The rooms (active or archived) `user_id` owns: how many, and the titles of
    /// the first hundred.
    pub async fn rooms_owned(&self, user_id: &str) -> Result<OwnedRooms, ApiError> {
        let query = [
            ("subjectId", user_id.to_owned()),
            ("subjectFilter", "0".to_owned()),
            ("searchArea", "2".to_owned()),
            ("count", PAGE.to_string()),
        ];
        Self::required(self.get("api/2.0/files/rooms", &query).await?, "rooms")
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
}
