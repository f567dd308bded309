//! The portal's objects as DocSpace writes them (docspace-api.md §3.2, §7.2, §8.2,
//! §9, §10.2, §11): camelCase, dates as `ApiDateTime` strings in the portal's zone,
//! enums as numbers except `EmployeeType`, nulls left out.

use serde_json::{Map, Value, json};

use crate::state::{
    ApiKey, AuditEvent, File, Folder, Group, Guid, LoginEvent, Portal, Rights, Share, User,
    UserType, access, folder_type,
};
use crate::wire::api_datetime;

/// Everything a DTO needs besides the object: the portal (zone, groups) and the
/// caller (rights, admin-only fields), and the portal's base URL for links.
pub struct View<'a> {
    pub portal: &'a Portal,
    pub caller: Guid,
    pub base_url: &'a str,
}

impl View<'_> {
    fn date(&self, at: jiff::Timestamp) -> Value {
        api_datetime(at, &self.portal.zone).into()
    }

    /// `EmployeeDto`: the short form. `displayName` is HTML-encoded
    /// (`DisplayUserSettingsHelper.GetFullUserName`, withHtmlEncode defaulting to true;
    /// common/ASC.Core.Common/Users/DisplayUserSettings.cs): "O'Brien" is sent as
    /// "O&#39;Brien".
    pub fn employee(&self, user: &User) -> Value {
        json!({
            "id": user.id.to_string(),
            "displayName": html_encode(&user.display_name()),
            "avatar": "/static/images/default_user_photo_size_82-82.png?hash=1",
            "avatarOriginal": "/static/images/default_user_photo_size_200-200.png?hash=1",
            "avatarMax": "/static/images/default_user_photo_size_200-200.png?hash=1",
            "avatarMedium": "/static/images/default_user_photo_size_48-48.png?hash=1",
            "avatarSmall": "/static/images/default_user_photo_size_32-32.png?hash=1",
            "profileUrl": format!("{}/accounts/people/filter?search={}", self.base_url, user.email.replace('@', "%40")),
            "hasAvatar": false,
            "isAnonim": false,
        })
    }

    /// The short form of a user id that may no longer exist.
    pub fn employee_by_id(&self, id: Guid) -> Value {
        match self.portal.user(id) {
            Some(user) => self.employee(user),
            None => json!({
                "id": id.to_string(),
                "displayName": "Profile removed",
                "avatarSmall": "/static/images/default_user_photo_size_32-32.png?hash=1",
                "profileUrl": "",
                "hasAvatar": false,
                "isAnonim": false,
            }),
        }
    }

    /// `EmployeeFullDto`.
    pub fn employee_full(&self, user: &User) -> Value {
        let mut dto = as_map(self.employee(user));
        let groups = self.portal.user_groups(user.id);
        let owner = self.portal.is_owner(user.id);
        let insert = |dto: &mut Map<String, Value>, k: &str, v: Value| {
            dto.insert(k.into(), v);
        };
        insert(&mut dto, "firstName", user.first_name.clone().into());
        insert(&mut dto, "lastName", user.last_name.clone().into());
        insert(&mut dto, "userName", user.user_name.clone().into());
        insert(&mut dto, "email", user.email.clone().into());
        insert(&mut dto, "status", (user.status as u8).into());
        insert(&mut dto, "activationStatus", user.activation.into());
        if let Some(at) = user.terminated {
            insert(&mut dto, "terminated", self.date(at));
        }
        insert(
            &mut dto,
            "department",
            groups
                .iter()
                .map(|g| g.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
                .into(),
        );
        if !groups.is_empty() {
            insert(
                &mut dto,
                "groups",
                groups.iter().map(|g| self.group_summary(g)).collect(),
            );
        }
        insert(
            &mut dto,
            "isAdmin",
            (!owner && user.kind == UserType::DocSpaceAdmin).into(),
        );
        insert(
            &mut dto,
            "isRoomAdmin",
            (user.kind == UserType::RoomAdmin).into(),
        );
        insert(&mut dto, "isLDAP", user.ldap.into());
        insert(&mut dto, "listAdminModules", json!([]));
        insert(&mut dto, "isOwner", owner.into());
        insert(&mut dto, "isVisitor", (user.kind == UserType::Guest).into());
        insert(
            &mut dto,
            "isCollaborator",
            (user.kind == UserType::User).into(),
        );
        insert(&mut dto, "cultureName", "en-US".into());
        insert(&mut dto, "mobilePhoneActivationStatus", 0.into());
        insert(&mut dto, "isSSO", false.into());
        insert(&mut dto, "quotaLimit", (-1).into());
        insert(&mut dto, "usedSpace", 0.into());
        insert(&mut dto, "isCustomQuota", false.into());
        if self.portal.is_admin(self.caller)
            && let Some(creator) = user.created_by
        {
            insert(&mut dto, "createdBy", self.employee_by_id(creator));
        }
        insert(&mut dto, "registrationDate", self.date(user.registered));
        insert(&mut dto, "hasPersonalFolder", true.into());
        Value::Object(dto)
    }

    /// `GroupSummaryDto` (`GroupSummaryDtoHelper.GetAsync`, common/ASC.Api.Core/Model/
    /// GroupSummaryDto.cs): `manager` is the manager's user name; without a manager
    /// (or when the manager's profile is gone) it is the lost user's, which has none,
    /// so the field is left out. `isSystem` only when true, never for these groups.
    pub fn group_summary(&self, group: &Group) -> Value {
        let mut dto = json!({"id": group.id.to_string(), "name": group.name});
        if let Some(manager) = group.manager.and_then(|m| self.portal.user(m)) {
            dto["manager"] = manager.user_name.clone().into();
        }
        dto
    }

    /// `GroupDto`; members only when asked for.
    pub fn group(&self, group: &Group, with_members: bool) -> Value {
        let mut dto = json!({
            "name": group.name,
            "parent": Guid::EMPTY.to_string(),
            "category": Guid::EMPTY.to_string(),
            "id": group.id.to_string(),
            "isLDAP": false,
            "shared": false,
            "membersCount": group.members.len(),
        });
        if let Some(manager) = group.manager.and_then(|m| self.portal.user(m)) {
            dto["manager"] = self.employee_full(manager);
        }
        if with_members {
            dto["members"] = group
                .members
                .iter()
                .filter_map(|m| self.portal.user(*m))
                .map(|u| self.employee_full(u))
                .collect();
        }
        dto
    }

    /// `FileEntryDto.security`: exactly the folder actions of 3.7 (`FileSecurity`'s
    /// `_securityEntries` for `FileEntryType.Folder`, products/ASC.Files/Core/Core/
    /// Security/FileSecurity.cs), keyed by name. Actions the simulator has no model for
    /// (third-party reconnect, room from folder, embedding, index export, chat) are
    /// false.
    fn security(&self, rights: Rights) -> Value {
        json!({
            "Read": rights.read,
            "Create": rights.create,
            "Delete": rights.move_from,
            "EditRoom": rights.edit_access,
            "Rename": rights.edit_access,
            "CopyTo": rights.create,
            "MoveTo": rights.create,
            // Copying out is downloading, and denied with it (`SettingsDenyDownload`).
            "Copy": rights.download,
            "Move": rights.move_from,
            "Pin": rights.read,
            "Mute": rights.read,
            "EditAccess": rights.edit_access,
            "Duplicate": rights.create && rights.download,
            "Download": rights.download,
            "CopySharedLink": rights.read,
            "Reconnect": false,
            "CreateRoomFrom": false,
            "CopyLink": rights.read,
            "Embed": false,
            "ChangeOwner": rights.change_owner,
            "IndexExport": false,
            "UseChat": false,
        })
    }

    /// The caller's `FileShare` on an entry, as the `access` field shows it.
    fn caller_access(&self, folder: &Folder) -> u8 {
        let rights = self.portal.folder_rights(self.caller, folder);
        if let Some(room) = self.portal.room_of(folder.id)
            && let Some(role) = self.portal.room_role(room, self.caller)
        {
            return role;
        }
        if rights.edit_access || rights.create {
            access::NONE
        } else if rights.read {
            access::READ
        } else {
            access::RESTRICT
        }
    }

    /// `FolderDto` (rooms included).
    pub fn folder(&self, folder: &Folder) -> Value {
        let portal = self.portal;
        let root = portal.root_of(folder.id);
        // Another user's My documents shows as SHARE (`FolderDtoHelper.GetAsync`,
        // products/ASC.Files/Core/ApiModels/ResponseDto/FolderDto.cs).
        let root_type = match root {
            Some(r) if r.folder_type == folder_type::USER && r.created_by != self.caller => {
                folder_type::SHARE
            }
            Some(r) => r.folder_type,
            None => folder_type::DEFAULT,
        };
        let rights = portal.folder_rights(self.caller, folder);
        let files_count = portal
            .files
            .values()
            .filter(|f| f.folder == folder.id)
            .count();
        let folders_count = portal
            .folders
            .values()
            .filter(|f| f.parent == folder.id)
            .count();
        let mut dto = json!({
            "parentId": folder.parent,
            "filesCount": files_count,
            "foldersCount": folders_count,
            "new": 0,
            "mute": false,
            "pinned": false,
            "private": false,
            "inRoom": portal.room_of(folder.id).is_some(),
            "id": folder.id,
            "rootFolderId": root.map_or(folder.id, |r| r.id),
            "canShare": rights.edit_access,
            "security": self.security(rights),
            "title": folder.title,
            "access": self.caller_access(folder),
            "shared": !folder.shares.is_empty(),
            "created": self.date(folder.created),
            "createdBy": self.employee_by_id(folder.created_by),
            "updated": self.date(folder.updated),
            "rootFolderType": root_type,
            "updatedBy": self.employee_by_id(folder.created_by),
            "providerItem": false,
            "fileEntryType": 1,
            // FolderDto.DenyDownload is a bool, so always sent; only rooms have the
            // setting (their room settings row), everything else says false.
            "denyDownload": folder.is_room() && folder.deny_download,
        });
        if let Some(room_type) = folder.room_type {
            dto["roomType"] = room_type.into();
            dto["tags"] = json!([]);
            dto["indexing"] = false.into();
            dto["type"] = folder.folder_type.into();
        } else if let Some(room) = portal.room_of(folder.id) {
            dto["parentRoomType"] = room.folder_type.into();
            dto["type"] = folder.folder_type.into();
        } else {
            dto["type"] = folder.folder_type.into();
        }
        dto
    }

    /// `FileDto`.
    pub fn file(&self, file: &File) -> Value {
        let folder = self.portal.folders.get(&file.folder);
        let rights = folder.map(|f| self.portal.folder_rights(self.caller, f));
        let root = folder.and_then(|f| self.portal.root_of(f.id));
        json!({
            "folderId": file.folder,
            "version": 1,
            "versionGroup": 1,
            "contentLength": format!("{} bytes", file.content.len()),
            "pureContentLength": file.content.len(),
            "fileStatus": 0,
            "mute": false,
            "viewUrl": format!("{}/filehandler.ashx?action=view&fileid={}", self.base_url, file.id),
            "webUrl": format!("{}/doceditor?fileid={}", self.base_url, file.id),
            "fileType": file_type(&file.title),
            "fileExst": extension(&file.title),
            "comment": "Created",
            "id": file.id,
            "rootFolderId": root.map_or(file.folder, |r| r.id),
            "canShare": rights.is_some_and(|r| r.edit_access),
            "security": rights.map(|r| self.security(r)).unwrap_or(json!({})),
            "title": file.title,
            "access": folder.map_or(access::RESTRICT, |f| self.caller_access(f)),
            "shared": !file.shares.is_empty(),
            "created": self.date(file.created),
            "createdBy": self.employee_by_id(file.created_by),
            "updated": self.date(file.updated),
            "rootFolderType": root.map_or(folder_type::DEFAULT, |r| r.folder_type),
            "updatedBy": self.employee_by_id(file.created_by),
            "providerItem": false,
            "fileEntryType": 2,
        })
    }

    /// A `pathParts` item.
    pub fn path_part(&self, folder: &Folder) -> Value {
        let mut part =
            json!({"id": folder.id, "title": folder.title, "folderType": folder.folder_type});
        if let Some(room_type) = folder.room_type {
            part["roomType"] = room_type.into();
        }
        part
    }

    /// `FileShareDto` for a user or group record; `is_owner` for a room's owner entry.
    pub fn share(&self, share: &Share, is_owner: bool, can_edit: bool) -> Value {
        if share.is_group {
            let group = self.portal.group(share.subject);
            let summary = json!({
                "id": share.subject.to_string(),
                "name": group.map(|g| g.name.clone()).unwrap_or_default(),
                "manager": "",
            });
            return json!({
                "access": share.access,
                "sharedTo": summary,
                "sharedToGroup": summary,
                "isLocked": false,
                "isOwner": false,
                "canEditAccess": can_edit,
                "canEditInternal": false,
                "canEditDenyDownload": false,
                "canEditExpirationDate": false,
                "canRevoke": can_edit,
                "subjectType": 2,
            });
        }
        let user = match self.portal.user(share.subject) {
            Some(user) => self.employee_full(user),
            None => self.employee_by_id(share.subject),
        };
        json!({
            "access": share.access,
            "sharedTo": user,
            "sharedToUser": user,
            "isLocked": false,
            "isOwner": is_owner,
            "canEditAccess": can_edit && !is_owner,
            "canEditInternal": false,
            "canEditDenyDownload": false,
            "canEditExpirationDate": false,
            "canRevoke": can_edit && !is_owner,
            "subjectType": 0,
        })
    }

    /// `ApiKeyResponseDto`; the secret only when just created.
    pub fn api_key(&self, key: &ApiKey, reveal: bool) -> Value {
        let mut dto = json!({
            "id": key.id.to_string(),
            "name": key.name,
            "key": if reveal { key.secret.clone() } else { format!("sk-***{}", key.postfix()) },
            "keyPostfix": key.postfix(),
            "permissions": key.permissions,
            "createOn": self.date(key.created),
            "createBy": self.employee_by_id(key.created_by),
            "isActive": key.active,
        });
        if let Some(at) = key.last_used {
            dto["lastUsed"] = self.date(at);
        }
        if let Some(at) = key.expires {
            dto["expiresAt"] = self.date(at);
        }
        dto
    }

    /// `AuditEventDto`; an event logged without a target has none (`Target` null,
    /// left out).
    pub fn audit_event(&self, event: &AuditEvent) -> Value {
        let mut dto = json!({
            "id": event.id,
            "date": self.date(event.date),
            "user": self.portal.user(event.user).map(User::display_name).unwrap_or_else(|| "Unknown user".into()),
            "userId": event.user.to_string(),
            "action": event.description,
            "actionId": event.action,
            "ip": "127.0.0.1",
            "country": "",
            "city": "",
            "browser": "docspace-sim",
            "platform": "Linux",
            "page": format!("{}/", self.base_url),
            "actionType": event.action_type,
            "product": event.product,
            "location": event.location,
            "target": event.target,
            "entries": event.entries,
            "context": "",
        });
        if event.target.is_empty()
            && let Some(fields) = dto.as_object_mut()
        {
            fields.remove("target");
        }
        dto
    }

    /// `LoginEventDto`.
    pub fn login_event(&self, event: &LoginEvent) -> Value {
        json!({
            "id": event.id,
            "date": self.date(event.date),
            "user": self.portal.user(event.user).map(User::display_name).unwrap_or_default(),
            "userId": event.user.to_string(),
            "login": event.login,
            "action": login_action_name(event.action),
            "actionId": event.action,
            "ip": "127.0.0.1",
            "country": "",
            "city": "",
            "browser": "docspace-sim",
            "platform": "Linux",
            "page": format!("{}/", self.base_url),
        })
    }
}

fn as_map(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

pub fn extension(title: &str) -> String {
    title
        .rfind('.')
        .map(|i| title[i..].to_ascii_lowercase())
        .unwrap_or_default()
}

/// `FileType`: 7 Document, 5 Spreadsheet, 6 Presentation, 10 Pdf, 0 Unknown.
fn file_type(title: &str) -> u8 {
    match extension(title).as_str() {
        ".docx" | ".doc" | ".odt" | ".txt" | ".rtf" | ".md" => 7,
        ".xlsx" | ".xls" | ".ods" | ".csv" => 5,
        ".pptx" | ".ppt" | ".odp" => 6,
        ".pdf" => 10,
        _ => 0,
    }
}

fn login_action_name(action: u32) -> &'static str {
    match action {
        1000 => "Login Success",
        1005 => "Login Fail",
        1006 => "Logout",
        1010 => "Login Success Via Api",
        _ => "Login",
    }
}

/// `HttpUtility.HtmlEncode` of .NET (`WebUtility.HtmlEncode`): `<`, `>`, `&`, `"`
/// and `'` as entities, U+00A0 to U+00FF and characters beyond the BMP as numeric
/// entities (`ENTITY_ENCODE_HIGH_ASCII_CHARS`): "José" is sent as "Jos&#233;".
fn html_encode(text: &str) -> String {
    let mut encoded = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => encoded.push_str("&lt;"),
            '>' => encoded.push_str("&gt;"),
            '&' => encoded.push_str("&amp;"),
            '"' => encoded.push_str("&quot;"),
            '\'' => encoded.push_str("&#39;"),
            '\u{a0}'..='\u{ff}' | '\u{10000}'.. => {
                encoded.push_str(&format!("&#{};", u32::from(c)));
            }
            c => encoded.push(c),
        }
    }
    encoded
}
