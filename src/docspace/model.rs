//! The DocSpace objects the offboarding flow reads, as the client sees them: only the
//! fields it uses, each with a default so an absent (null-omitted) field never fails
//! a whole answer. The simulator writes the same wire format from its own types.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer};

/// An error or message text: DocSpace fills such fields with `""` when there is
/// nothing to say (`TaskProgressResponseDto.Error`, `FileOperationDto.Error`), other
/// versions or proxies may send `null` or leave them out. All three read as `None`,
/// so a decision never hangs on which of them a portal sends.
fn text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    let text = Option::<String>::deserialize(deserializer)?;
    Ok(text.filter(|t| !t.trim().is_empty()))
}

/// `EmployeeStatus`.
pub mod status {
    pub const ACTIVE: u8 = 1;
    pub const TERMINATED: u8 = 2;
    pub const PENDING: u8 = 4;
}

/// A user's display name as DocSpace sends it: HTML-encoded
/// (`DisplayUserSettingsHelper.GetFullUserName`, common/ASC.Core.Common/Users/
/// DisplayUserSettings.cs, `HttpUtility.HtmlEncode`), decoded here for reports and
/// the terminal.
fn display_name<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    let text = Option::<String>::deserialize(deserializer)?.unwrap_or_default();
    Ok(html_decode(&text))
}

/// Undoes `HttpUtility.HtmlEncode`: `&lt;`, `&gt;`, `&quot;`, `&#39;` and `&amp;`
/// (plus numeric entities), anything else kept as sent.
fn html_decode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let entity = rest.find(';').map(|end| (&rest[1..end], end));
        let decoded = entity.and_then(|(name, end)| {
            let c = match name {
                "lt" => '<',
                "gt" => '>',
                "amp" => '&',
                "quot" => '"',
                "apos" => '\'',
                _ => {
                    let number = name.strip_prefix('#')?;
                    let code = match number.strip_prefix(['x', 'X']) {
                        Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                        None => number.parse().ok()?,
                    };
                    char::from_u32(code)?
                }
            };
            Some((c, end))
        });
        match decoded {
            Some((c, end)) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// `EmployeeFullDto`, the fields that matter here.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Employee {
    pub id: String,
    #[serde(default, deserialize_with = "display_name")]
    pub display_name: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub user_name: String,
    #[serde(default)]
    pub status: u8,
    #[serde(default)]
    pub is_admin: bool,
    #[serde(default)]
    pub is_owner: bool,
    #[serde(default)]
    pub is_room_admin: bool,
    #[serde(default)]
    pub is_visitor: bool,
    #[serde(default)]
    pub is_collaborator: bool,
    #[serde(default, rename = "isLDAP")]
    pub is_ldap: bool,
    /// An `ApiDateTime` in the portal's time zone.
    #[serde(default)]
    pub registration_date: Option<String>,
    /// The user's groups (`EmployeeFullDto.groups`, `GroupSummaryDto`s; left out when
    /// there are none).
    #[serde(default)]
    pub groups: Vec<GroupRef>,
}

/// A user's type as DocSpace derives it from the DTO's flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserKind {
    Owner,
    DocSpaceAdmin,
    RoomAdmin,
    User,
    Guest,
}

impl UserKind {
    /// The `EmployeeType` name the API takes (`reassign/necessary?type=`).
    pub fn type_name(self) -> &'static str {
        match self {
            UserKind::Owner | UserKind::DocSpaceAdmin => "DocSpaceAdmin",
            UserKind::RoomAdmin => "RoomAdmin",
            UserKind::User => "User",
            UserKind::Guest => "Guest",
        }
    }
}

impl Employee {
    pub fn kind(&self) -> UserKind {
        if self.is_owner {
            UserKind::Owner
        } else if self.is_admin {
            UserKind::DocSpaceAdmin
        } else if self.is_visitor {
            UserKind::Guest
        } else if self.is_collaborator {
            UserKind::User
        } else {
            UserKind::RoomAdmin
        }
    }

    pub fn is_active(&self) -> bool {
        self.status == status::ACTIVE
    }

    pub fn is_disabled(&self) -> bool {
        self.status == status::TERMINATED
    }
}

/// The short `EmployeeDto` inside other objects.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct EmployeeRef {
    pub id: String,
    #[serde(default, deserialize_with = "display_name")]
    pub display_name: String,
}

/// `FolderType` numbers the flow checks.
pub mod folder_type {
    pub const USER: u8 = 5;
    /// What another user's My documents item shows as its root
    /// (`FolderDtoHelper.GetAsync`, products/ASC.Files/Core/ApiModels/ResponseDto/
    /// FolderDto.cs: `RootFolderType = FolderType.SHARE` for a USER root not the caller's).
    pub const SHARE: u8 = 6;
    pub const VIRTUAL_ROOMS: u8 = 14;
    pub const ARCHIVE: u8 = 20;
}

/// `FolderDto` (rooms included).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Folder {
    pub id: i64,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub parent_id: Option<i64>,
    #[serde(default)]
    pub root_folder_type: u8,
    #[serde(default)]
    pub room_type: Option<u8>,
    #[serde(default)]
    pub created_by: Option<EmployeeRef>,
    #[serde(default)]
    pub security: BTreeMap<String, bool>,
    #[serde(default)]
    pub files_count: u64,
    #[serde(default)]
    pub folders_count: u64,
    /// A room's "restrict copy and download" setting (`FolderDto.DenyDownload`, always
    /// sent; false on anything but such a room).
    #[serde(default)]
    pub deny_download: bool,
}

impl Folder {
    pub fn is_room(&self) -> bool {
        self.room_type.is_some()
    }

    pub fn is_archived(&self) -> bool {
        self.root_folder_type == folder_type::ARCHIVE
    }

    /// In somebody's My documents: the caller's own (USER) or another user's (SHARE).
    pub fn is_personal(&self) -> bool {
        matches!(
            self.root_folder_type,
            folder_type::USER | folder_type::SHARE
        )
    }

    /// Whether the caller may `right` (`"EditAccess"`, `"Create"`, …) on it.
    pub fn can(&self, right: &str) -> bool {
        self.security.get(right).copied().unwrap_or(false)
    }

    pub fn owner_id(&self) -> Option<&str> {
        self.created_by.as_ref().map(|c| c.id.as_str())
    }
}

/// `FileDto`, the fields that matter here.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct FileEntry {
    pub id: i64,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub folder_id: Option<i64>,
    #[serde(default)]
    pub created_by: Option<EmployeeRef>,
}

/// Only the `total` of a list (`FolderContentDto` and others): for counting without
/// decoding entries, which may be third-party rooms with string ids.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Total {
    #[serde(default)]
    pub total: u64,
}

/// The rooms a user owns, as a page of `GET files/rooms` lists them: the total and
/// the first page's titles (ids are left alone: a third-party room's is a string).
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
pub struct OwnedRooms {
    #[serde(default)]
    pub total: u64,
    #[serde(default)]
    pub folders: Vec<Titled>,
}

/// An entry of a list, by its title only.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Titled {
    #[serde(default)]
    pub title: String,
}

/// `FolderContentDto`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct FolderContents {
    #[serde(default)]
    pub files: Vec<FileEntry>,
    #[serde(default)]
    pub folders: Vec<Folder>,
    pub current: Folder,
    #[serde(default)]
    pub total: u64,
}

/// A group inside a share record.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct GroupRef {
    pub id: String,
    #[serde(default)]
    pub name: String,
}

/// `FileShareDto`: one member of a room or one share of a folder.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Share {
    pub access: u8,
    #[serde(default)]
    pub shared_to_user: Option<EmployeeRef>,
    #[serde(default)]
    pub shared_to_group: Option<GroupRef>,
    #[serde(default)]
    pub is_owner: bool,
    #[serde(default)]
    pub subject_type: u8,
}

impl Share {
    /// The user or group id the record is for (links have neither).
    pub fn subject(&self) -> Option<&str> {
        self.shared_to_user
            .as_ref()
            .map(|u| u.id.as_str())
            .or_else(|| self.shared_to_group.as_ref().map(|g| g.id.as_str()))
    }
}

/// `RoomSecurityDto`, the answer to a room member change.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RoomSecurity {
    #[serde(default)]
    pub members: Vec<Share>,
    #[serde(default)]
    pub error: u8,
}

/// `FileOperationDto`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Operation {
    pub id: String,
    #[serde(rename = "Operation")]
    pub kind: u8,
    #[serde(default)]
    pub progress: u8,
    /// `""` when fine on a real portal (FileOperationDto.cs copies the operation's
    /// error string): read as `None`.
    #[serde(default, deserialize_with = "text")]
    pub error: Option<String>,
    #[serde(default)]
    pub finished: bool,
    #[serde(default)]
    pub status: Option<u8>,
    #[serde(default)]
    pub url: Option<String>,
    // `folders`/`files` are not read: `GET files/fileops` lists every operation of the
    // key's user, and a third-party folder there has a string id (`FolderDto<string>`).
}

impl Operation {
    /// The server's error text, if the operation failed.
    pub fn failure(&self) -> Option<&str> {
        self.error.as_deref()
    }
}

/// `DistributedTaskStatus`.
pub mod task_status {
    pub const RUNNING: u8 = 1;
    pub const COMPLETED: u8 = 2;
    pub const CANCELED: u8 = 3;
    pub const FAILED: u8 = 4;
}

/// `TaskProgressResponseDto` of a reassign or remove job.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Progress {
    pub id: String,
    #[serde(default)]
    pub percentage: u8,
    #[serde(default)]
    pub is_completed: bool,
    #[serde(default)]
    pub status: u8,
    /// Always a string on a real portal, `""` without an error
    /// (`TaskProgressResponseDto.Get`: `Exception?.Message` of a `DistributedTask`,
    /// whose `Exception` getter never returns null; common/ASC.Common/Threading/
    /// DistributedTask.cs): read as `None`.
    #[serde(default, deserialize_with = "text")]
    pub error: Option<String>,
}

impl Progress {
    /// The job's error text, if it reported one.
    pub fn failure(&self) -> Option<&str> {
        self.error.as_deref()
    }

    /// Finished with status Completed and no error.
    pub fn succeeded(&self) -> bool {
        self.is_completed && self.status == task_status::COMPLETED && self.failure().is_none()
    }
}

/// `ApiKeyResponseDto` (never the secret).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ApiKey {
    pub id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub key_postfix: String,
    #[serde(default)]
    pub create_by: Option<EmployeeRef>,
    #[serde(default)]
    pub is_active: bool,
    /// Scopes the key was created with (`ApiKeyResponseDto.Permissions`): none, `*`
    /// or `*:write` is full access (AuthorizationExtension.cs).
    #[serde(default)]
    pub permissions: Vec<String>,
}

impl ApiKey {
    /// Whether the key may do everything its user may (§1.2).
    pub fn is_full(&self) -> bool {
        self.permissions.is_empty()
            || self
                .permissions
                .iter()
                .any(|p| matches!(p.trim(), "*" | "*:write"))
    }

    /// Whether `user_id` created the key (ids compared in any case).
    pub fn created_by(&self, user_id: &str) -> bool {
        self.create_by
            .as_ref()
            .is_some_and(|c| c.id.eq_ignore_ascii_case(user_id))
    }
}

/// `GroupDto`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Group {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub members_count: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_arrive_html_encoded_and_are_read_as_written() {
        let user: Employee = serde_json::from_str(
            r#"{"id": "x", "displayName": "Siobh&#225;n O&#39;Brien &amp; &lt;Co&gt; &quot;R&quot; &copy"}"#,
        )
        .unwrap();
        assert_eq!(user.display_name, "Siobhán O'Brien & <Co> \"R\" &copy");
        let none: EmployeeRef =
            serde_json::from_str(r#"{"id": "x", "displayName": null}"#).unwrap();
        assert_eq!(none.display_name, "");
    }
}
