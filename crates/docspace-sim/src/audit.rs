//! The audit trail the simulator writes for what it does: DocSpace's `MessageAction`
//! numbers, the mapping its audit mappers give each one (`actionType`, `product`,
//! `location`, `entries`), and the English description templates of
//! `AuditReportResource.resx` (DocSpace-server 3.7.2).

use jiff::Timestamp;

use crate::state::{AuditEvent, Guid, Portal};

pub const LOGIN_SUCCESS_VIA_API: u32 = 1010;
pub const LOGIN_FAIL: u32 = 1005;
pub const USER_CREATED: u32 = 4000;
pub const USER_UPDATED: u32 = 4006;
pub const USER_SENT_DELETE_INSTRUCTIONS: u32 = 4016;
pub const USER_DELETED: u32 = 4018;
pub const USERS_UPDATED_STATUS: u32 = 4020;
pub const GROUP_CREATED: u32 = 4026;
pub const USER_DATA_REASSIGNS: u32 = 4030;
pub const USER_LOGOUT_ACTIVE_CONNECTIONS_FOR_USER: u32 = 4036;
pub const FILE_CREATED: u32 = 5000;
pub const FILE_DOWNLOADED: u32 = 5009;
pub const FILE_MOVED: u32 = 5015;
pub const FOLDER_CREATED: u32 = 5019;
/// Every folder move is logged "with overwriting" in 3.7 (`FileMoveCopyOperation`).
pub const FOLDER_MOVED_WITH_OVERWRITING: u32 = 5025;
pub const FOLDER_DOWNLOADED: u32 = 5057;
pub const ROOM_CREATED: u32 = 5070;
pub const ROOM_ARCHIVED: u32 = 5072;
pub const ROOM_UNARCHIVED: u32 = 5073;
pub const ROOM_UPDATE_ACCESS_FOR_USER: u32 = 5075;
pub const ROOM_REMOVE_USER: u32 = 5084;
pub const ROOM_CREATE_USER: u32 = 5085;
pub const ROOM_GROUP_ADDED: u32 = 5094;
pub const ROOM_UPDATE_ACCESS_FOR_GROUP: u32 = 5095;
pub const ROOM_GROUP_REMOVE: u32 = 5096;
pub const ROOM_CHANGE_OWNER: u32 = 5159;
pub const API_KEY_CREATED: u32 = 6058;
pub const API_KEY_UPDATED: u32 = 6059;
pub const API_KEY_DELETED: u32 = 6060;

/// `(actionType, product, location, entries, description template)` of an action.
pub fn mapping(action: u32) -> (u8, u8, u8, &'static [u8], &'static str) {
    match action {
        USER_CREATED => (1, 8, 30, &[23], "User Created: {0}"),
        USER_UPDATED => (2, 8, 30, &[23], "User Updated: {0}"),
        USER_DELETED => (3, 8, 30, &[23], "User Deleted: {0}"),
        // Mapped by action type alone (`UsersActionMapper`: Send), so no entry type.
        USER_SENT_DELETE_INSTRUCTIONS => (8, 8, 30, &[], "Sent Delete Profile Instructions"),
        USERS_UPDATED_STATUS => (2, 8, 30, &[23], "Users [{0}]. Updated Status"),
        GROUP_CREATED => (1, 8, 30, &[24], "Group Created: {0}"),
        USER_DATA_REASSIGNS => (
            16,
            8,
            30,
            &[23],
            "Data Reassigned: from user {0} to user {1}",
        ),
        USER_LOGOUT_ACTIVE_CONNECTIONS_FOR_USER => (
            19,
            8,
            30,
            &[23],
            "Active Connections Logged Out for User: {0}",
        ),
        FILE_CREATED => (1, 2, 1, &[1], "File Created: {0}"),
        FILE_DOWNLOADED => (12, 2, 1, &[1], "File Downloaded: {0}"),
        FILE_MOVED => (
            15,
            2,
            1,
            &[1, 2],
            "Files [{0}]. Moved From Folder \"{1}\" To Folder: \"{2}\"",
        ),
        FOLDER_CREATED => (1, 2, 2, &[2], "Folder Created: {0}"),
        FOLDER_MOVED_WITH_OVERWRITING => (
            15,
            2,
            2,
            &[2, 2],
            "Folders [{0}]. Moved With Overwriting To Folder: {1}",
        ),
        FOLDER_DOWNLOADED => (12, 2, 2, &[2], "Folder Downloaded: {0}"),
        ROOM_CREATED => (1, 2, 27, &[25], "Room created"),
        ROOM_ARCHIVED => (2, 2, 27, &[25], "Room archived"),
        ROOM_UNARCHIVED => (2, 2, 27, &[25], "Room unarchived"),
        ROOM_UPDATE_ACCESS_FOR_USER | ROOM_UPDATE_ACCESS_FOR_GROUP => {
            (2, 2, 27, &[25], "{0} appointed: {1}")
        }
        ROOM_REMOVE_USER => (2, 2, 27, &[25], "Deleted user: {0}"),
        ROOM_CREATE_USER => (2, 2, 27, &[25], "Added user: {0}. Role: {1}"),
        ROOM_GROUP_ADDED => (2, 2, 27, &[25], "Added group: {0}. Role: {1}"),
        ROOM_GROUP_REMOVE => (2, 2, 27, &[25], "Deleted group: {0}"),
        // The resource file has no text for it, so the description comes out empty.
        ROOM_CHANGE_OWNER => (2, 2, 27, &[25], ""),
        API_KEY_CREATED => (1, 7, 29, &[], "User Api Key Created: {0}"),
        API_KEY_UPDATED => (2, 7, 29, &[], "User Api Key Updated: {0}"),
        API_KEY_DELETED => (3, 7, 29, &[], "User Api Key Deleted: {0}"),
        _ => (0, 0, 0, &[], ""),
    }
}

/// Appends an event to the portal's audit trail; `args` fill the template's `{n}`.
pub fn record(
    portal: &mut Portal,
    user: Guid,
    action: u32,
    args: &[&str],
    target: Vec<String>,
    at: Timestamp,
) {
    let (action_type, product, location, entries, template) = mapping(action);
    let mut description = template.to_owned();
    for (i, arg) in args.iter().enumerate() {
        description = description.replace(&format!("{{{i}}}"), arg);
    }
    portal.record_audit(AuditEvent {
        id: 0,
        date: at,
        user,
        action,
        action_type,
        product,
        location,
        description,
        target,
        entries: entries.to_vec(),
    });
}

/// The role name of a `FileShare` value in room audit texts.
pub fn role_name(access: u8) -> &'static str {
    match access {
        9 => "Room manager",
        11 => "Content creator",
        10 => "Editor",
        2 => "Viewer",
        5 => "Reviewer",
        6 => "Commentator",
        7 => "Form filler",
        _ => "None",
    }
}
