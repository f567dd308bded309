//! The portal's data: users, groups, the folder tree (system folders, rooms, folders,
//! files), shares, API keys, sessions, the audit and login logs. Pure data and the
//! rules that read it (who sees what); the routes change it under one lock.

use std::collections::{BTreeMap, HashMap};

use jiff::Timestamp;

/// A user or group id (a GUID), as 128 bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Guid(pub u128);

impl Guid {
    /// The all-zero GUID.
    pub const EMPTY: Guid = Guid(0);
    /// DocSpace's built-in "lost user" that unknown ids resolve to.
    pub const LOST_USER: Guid = Guid(0x4a515a15_d4d6_4b8e_828e_e0586f18f3a3);

    pub fn parse(text: &str) -> Option<Guid> {
        let text = text.trim();
        let body = text
            .strip_prefix('{')
            .and_then(|t| t.strip_suffix('}'))
            .unwrap_or(text);
        let hex: String = body.chars().filter(|c| *c != '-').collect();
        let hyphens = body.len() - hex.len();
        if hex.len() != 32 || !(hyphens == 0 || hyphens == 4) {
            return None;
        }
        u128::from_str_radix(&hex, 16).ok().map(Guid)
    }
}

impl std::fmt::Display for Guid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let h = format!("{:032x}", self.0);
        write!(
            f,
            "{}-{}-{}-{}-{}",
            &h[0..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..32]
        )
    }
}

/// `EmployeeType` (a string enum on the wire).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserType {
    RoomAdmin = 1,
    Guest = 2,
    DocSpaceAdmin = 3,
    User = 4,
}

impl UserType {
    pub fn name(self) -> &'static str {
        match self {
            UserType::RoomAdmin => "RoomAdmin",
            UserType::Guest => "Guest",
            UserType::DocSpaceAdmin => "DocSpaceAdmin",
            UserType::User => "User",
        }
    }

    /// Parses a name (any case) or a number, as the server's enum binder does.
    pub fn parse(text: &str) -> Option<UserType> {
        let all = [
            UserType::RoomAdmin,
            UserType::Guest,
            UserType::DocSpaceAdmin,
            UserType::User,
        ];
        if let Ok(n) = text.parse::<i64>() {
            return all.into_iter().find(|t| *t as i64 == n);
        }
        let compact: String = text
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        all.into_iter()
            .find(|t| t.name().eq_ignore_ascii_case(&compact))
    }

    /// Parses an `EmployeeType` that may also be `All` (0), which comes back as
    /// `Some(None)`; `None` when the text is no `EmployeeType` at all.
    pub fn parse_or_all(text: &str) -> Option<Option<UserType>> {
        if text == "0" || text.eq_ignore_ascii_case("all") {
            return Some(None);
        }
        UserType::parse(text).map(Some)
    }
}

/// `EmployeeStatus`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserStatus {
    Active = 1,
    Terminated = 2,
    Pending = 4,
}

#[derive(Debug, Clone)]
pub struct User {
    pub id: Guid,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub user_name: String,
    pub kind: UserType,
    pub status: UserStatus,
    /// `EmployeeActivationStatus`: 1 Activated, 2 Pending (invited, or added through
    /// `POST people` / `POST people/active`, whose `AddUserAsync` is not "after invite").
    pub activation: u8,
    pub ldap: bool,
    pub password: Option<String>,
    pub registered: Timestamp,
    /// Set by `PUT people/{id}` with `disable`, not by the status endpoint.
    pub terminated: Option<Timestamp>,
    pub created_by: Option<Guid>,
    /// Bumped when all the user's sessions are killed: older tokens stop working.
    pub cookie_index: u32,
    pub my_documents: i64,
    pub trash: i64,
}

impl User {
    pub fn display_name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
            .trim()
            .to_owned()
    }

    pub fn is_active(&self) -> bool {
        self.status == UserStatus::Active
    }
}

#[derive(Debug, Clone)]
pub struct Group {
    pub id: Guid,
    pub name: String,
    pub manager: Option<Guid>,
    pub members: Vec<Guid>,
}

/// `FolderType` numbers used here.
pub mod folder_type {
    pub const DEFAULT: u8 = 0;
    pub const TRASH: u8 = 3;
    pub const USER: u8 = 5;
    /// "Shared with me": the root another user's My documents items show.
    pub const SHARE: u8 = 6;
    pub const VIRTUAL_ROOMS: u8 = 14;
    pub const FILLING_FORMS_ROOM: u8 = 15;
    pub const EDITING_ROOM: u8 = 16;
    pub const CUSTOM_ROOM: u8 = 19;
    pub const ARCHIVE: u8 = 20;
    pub const PUBLIC_ROOM: u8 = 22;
    pub const VIRTUAL_DATA_ROOM: u8 = 29;
    pub const AI_ROOM: u8 = 31;
}

/// `RoomType` numbers and the folder type of such a room.
pub fn room_folder_type(room_type: u8) -> Option<u8> {
    Some(match room_type {
        1 => folder_type::FILLING_FORMS_ROOM,
        2 => folder_type::EDITING_ROOM,
        5 => folder_type::CUSTOM_ROOM,
        6 => folder_type::PUBLIC_ROOM,
        8 => folder_type::VIRTUAL_DATA_ROOM,
        9 => folder_type::AI_ROOM,
        _ => return None,
    })
}

/// `FileShare` numbers.
pub mod access {
    pub const NONE: u8 = 0;
    pub const READ_WRITE: u8 = 1;
    pub const READ: u8 = 2;
    pub const RESTRICT: u8 = 3;
    pub const REVIEW: u8 = 5;
    pub const COMMENT: u8 = 6;
    pub const FILL_FORMS: u8 = 7;
    pub const ROOM_MANAGER: u8 = 9;
    pub const EDITING: u8 = 10;
    pub const CONTENT_CREATOR: u8 = 11;
}

/// One access record on a room, folder or file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Share {
    pub subject: Guid,
    pub is_group: bool,
    pub access: u8,
}

#[derive(Debug, Clone)]
pub struct Folder {
    pub id: i64,
    /// 0 for the system roots.
    pub parent: i64,
    pub title: String,
    /// `FolderType`: a system folder's type, a room's type, or DEFAULT.
    pub folder_type: u8,
    /// `RoomType` for rooms.
    pub room_type: Option<u8>,
    pub created_by: Guid,
    pub created: Timestamp,
    pub updated: Timestamp,
    /// Members of a room, or shares of a My-documents folder.
    pub shares: Vec<Share>,
    /// A room's "restrict copy and download" setting (`Folder.SettingsDenyDownload`,
    /// products/ASC.Files/Core/Core/Entries/Folder.cs; `FolderDto.denyDownload`).
    pub deny_download: bool,
}

impl Folder {
    pub fn is_room(&self) -> bool {
        self.room_type.is_some()
    }
}

#[derive(Debug, Clone)]
pub struct File {
    pub id: i64,
    pub folder: i64,
    pub title: String,
    pub created_by: Guid,
    pub created: Timestamp,
    pub updated: Timestamp,
    pub content: Vec<u8>,
    pub shares: Vec<Share>,
}

#[derive(Debug, Clone)]
pub struct ApiKey {
    pub id: Guid,
    pub name: String,
    /// `sk-` + 64 hex. The simulator keeps the secret; the real server a hash.
    pub secret: String,
    pub permissions: Vec<String>,
    pub created_by: Guid,
    pub created: Timestamp,
    pub last_used: Option<Timestamp>,
    pub expires: Option<Timestamp>,
    pub active: bool,
}

impl ApiKey {
    pub fn postfix(&self) -> &str {
        &self.secret[self.secret.len() - 4..]
    }
}

/// A session token from `POST authentication`, tied to the user's cookie index.
#[derive(Debug, Clone)]
pub struct Session {
    pub user: Guid,
    pub cookie_index: u32,
    pub login_event: i64,
    pub expires: Timestamp,
}

#[derive(Debug, Clone)]
pub struct AuditEvent {
    pub id: i64,
    pub date: Timestamp,
    pub user: Guid,
    pub action: u32,
    pub action_type: u8,
    pub product: u8,
    pub location: u8,
    pub description: String,
    pub target: Vec<String>,
    pub entries: Vec<u8>,
}

#[derive(Debug, Clone)]
pub struct LoginEvent {
    pub id: i64,
    pub date: Timestamp,
    pub user: Guid,
    pub login: String,
    pub action: u32,
    pub active: bool,
}

/// The one portal the simulator serves.
#[derive(Debug, Clone)]
pub struct Portal {
    pub name: String,
    pub zone: jiff::tz::TimeZone,
    /// The tariff has the `audit` feature; without it audit filters are ignored and
    /// only the last 20 events come back.
    pub audit_feature: bool,
    pub owner: Guid,
    pub users: BTreeMap<Guid, User>,
    pub user_order: Vec<Guid>,
    pub groups: Vec<Group>,
    pub folders: BTreeMap<i64, Folder>,
    pub files: BTreeMap<i64, File>,
    pub rooms_root: i64,
    pub archive_root: i64,
    pub keys: Vec<ApiKey>,
    pub sessions: HashMap<String, Session>,
    pub audit: Vec<AuditEvent>,
    pub logins: Vec<LoginEvent>,
    next_id: i64,
    next_event: i64,
}

/// What a caller may do with a folder or file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rights {
    pub read: bool,
    pub create: bool,
    pub edit_access: bool,
    pub archive: bool,
    pub change_owner: bool,
    pub move_from: bool,
    /// `FilesSecurityActions.Download`: what a bulk download may take.
    pub download: bool,
}

impl Rights {
    const NONE: Rights = Rights {
        read: false,
        create: false,
        edit_access: false,
        archive: false,
        change_owner: false,
        move_from: false,
        download: false,
    };
}

impl Portal {
    /// An empty portal: the system folders and nothing else. The owner is added by
    /// the caller with [`Portal::add_user`] and then set as `owner`.
    pub fn empty(name: &str, zone: jiff::tz::TimeZone, audit_feature: bool) -> Self {
        let mut portal = Portal {
            name: name.to_owned(),
            zone,
            audit_feature,
            owner: Guid::EMPTY,
            users: BTreeMap::new(),
            user_order: Vec::new(),
            groups: Vec::new(),
            folders: BTreeMap::new(),
            files: BTreeMap::new(),
            rooms_root: 0,
            archive_root: 0,
            keys: Vec::new(),
            sessions: HashMap::new(),
            audit: Vec::new(),
            logins: Vec::new(),
            next_id: 1,
            next_event: 1,
        };
        let now = Timestamp::now();
        portal.rooms_root = portal.add_folder(
            0,
            "Rooms",
            folder_type::VIRTUAL_ROOMS,
            None,
            Guid::EMPTY,
            now,
        );
        portal.archive_root =
            portal.add_folder(0, "Archive", folder_type::ARCHIVE, None, Guid::EMPTY, now);
        portal
    }

    pub fn next_id(&mut self) -> i64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    /// Makes sure later ids are above `id` (fixtures pin ids).
    pub fn reserve_id(&mut self, id: i64) {
        self.next_id = self.next_id.max(id + 1);
    }

    pub fn add_folder(
        &mut self,
        parent: i64,
        title: &str,
        folder_type: u8,
        room_type: Option<u8>,
        created_by: Guid,
        at: Timestamp,
    ) -> i64 {
        let id = self.next_id();
        self.insert_folder(id, parent, title, folder_type, room_type, created_by, at);
        id
    }

    #[allow(clippy::too_many_arguments)]
    pub fn insert_folder(
        &mut self,
        id: i64,
        parent: i64,
        title: &str,
        folder_type: u8,
        room_type: Option<u8>,
        created_by: Guid,
        at: Timestamp,
    ) {
        self.reserve_id(id);
        self.folders.insert(
            id,
            Folder {
                id,
                parent,
                title: title.to_owned(),
                folder_type,
                room_type,
                created_by,
                created: at,
                updated: at,
                shares: Vec::new(),
                deny_download: false,
            },
        );
    }

    pub fn add_file(&mut self, folder: i64, title: &str, created_by: Guid, at: Timestamp) -> i64 {
        let id = self.next_id();
        self.files.insert(
            id,
            File {
                id,
                folder,
                title: title.to_owned(),
                created_by,
                created: at,
                updated: at,
                content: format!("{title}\n").into_bytes(),
                shares: Vec::new(),
            },
        );
        id
    }

    /// Adds a user with their own "My documents" and trash.
    pub fn add_user(&mut self, mut user: User) -> Guid {
        let at = user.registered;
        user.my_documents =
            self.add_folder(0, "My documents", folder_type::USER, None, user.id, at);
        user.trash = self.add_folder(0, "Trash", folder_type::TRASH, None, user.id, at);
        let id = user.id;
        self.user_order.push(id);
        self.users.insert(id, user);
        id
    }

    /// A folder's title, or "" when it is gone.
    pub fn folder_title(&self, id: i64) -> String {
        self.folders
            .get(&id)
            .map(|f| f.title.clone())
            .unwrap_or_default()
    }

    /// A file's title, or "" when it is gone.
    pub fn file_title(&self, id: i64) -> String {
        self.files
            .get(&id)
            .map(|f| f.title.clone())
            .unwrap_or_default()
    }

    pub fn user(&self, id: Guid) -> Option<&User> {
        self.users.get(&id)
    }

    pub fn user_by_email(&self, email: &str) -> Option<&User> {
        self.users
            .values()
            .find(|u| u.email.eq_ignore_ascii_case(email))
    }

    /// A user by id or user name, as `GET people/{userid}` looks them up.
    pub fn user_by_id_or_name(&self, text: &str) -> Option<&User> {
        self.users
            .values()
            .find(|u| u.user_name.eq_ignore_ascii_case(text))
            .or_else(|| Guid::parse(text).and_then(|id| self.users.get(&id)))
    }

    pub fn group(&self, id: Guid) -> Option<&Group> {
        self.groups.iter().find(|g| g.id == id)
    }

    /// `UserManager.GetUserGroupsAsync(id)`: the user's groups outside the system
    /// category (the simulator has no system groups), by name in ordinal order.
    pub fn user_groups(&self, user: Guid) -> Vec<&Group> {
        let mut groups = self.groups_of(user);
        groups.sort_by(|a, b| a.name.cmp(&b.name));
        groups
    }

    pub fn groups_of(&self, user: Guid) -> Vec<&Group> {
        self.groups
            .iter()
            .filter(|g| g.members.contains(&user))
            .collect()
    }

    /// `UserManager.GetUserTypeAsync` (common/ASC.Core.Common/Users/UserExtensions.cs):
    /// admins (the owner too) are DocSpaceAdmin, the lost user a Guest, and an id
    /// that is no user (the empty GUID included) falls through to RoomAdmin.
    pub fn user_type(&self, id: Guid) -> UserType {
        if id == Guid::LOST_USER {
            return UserType::Guest;
        }
        if self.is_admin(id) {
            return UserType::DocSpaceAdmin;
        }
        self.user(id).map_or(UserType::RoomAdmin, |u| u.kind)
    }

    /// `DemandPermissions(new UserSecurityProvider(type), Action_AddRemoveUser)`:
    /// admins always (`AzManager`: `AdministratorAlwaysAllow`); a room admin only for
    /// the types `Security.Rules` lets RoomAdmin manage, User and Guest; `None`
    /// (`EmployeeType.All`) has no target role, so admins only.
    pub fn may_add_remove(&self, caller: Guid, kind: Option<UserType>) -> bool {
        self.is_admin(caller)
            || (self
                .user(caller)
                .is_some_and(|u| u.kind == UserType::RoomAdmin)
                && matches!(kind, Some(UserType::User | UserType::Guest)))
    }

    /// What a user shares from "My documents" (`FileStorageService.GetSharedEntriesAsync`
    /// with `FolderDao.GetSharedFoldersQuery` and `FileDao.GetSharedFilesQuery`): every
    /// folder below it and every file in it or below it that has a share record, at
    /// any depth. Folder ids, then file ids.
    pub fn shared_personal_entries(&self, user: Guid) -> (Vec<i64>, Vec<i64>) {
        let Some(my) = self.user(user).map(|u| u.my_documents) else {
            return (Vec::new(), Vec::new());
        };
        if !self.folders.contains_key(&my) {
            return (Vec::new(), Vec::new());
        }
        let tree = self.subtree(my);
        let folders = tree
            .iter()
            .filter(|id| **id != my)
            .filter(|id| self.folders.get(id).is_some_and(|f| !f.shares.is_empty()))
            .copied()
            .collect();
        let files = self
            .files
            .values()
            .filter(|f| tree.contains(&f.folder) && !f.shares.is_empty())
            .map(|f| f.id)
            .collect();
        (folders, files)
    }

    pub fn is_owner(&self, user: Guid) -> bool {
        user == self.owner
    }

    /// The owner, or a DocSpace admin.
    pub fn is_admin(&self, user: Guid) -> bool {
        self.is_owner(user)
            || self
                .user(user)
                .is_some_and(|u| u.kind == UserType::DocSpaceAdmin)
    }

    /// The system root a folder lives under (following parents), and its type.
    pub fn root_of(&self, folder: i64) -> Option<&Folder> {
        let mut current = self.folders.get(&folder)?;
        let mut guard = 0;
        while current.parent != 0 && guard < 256 {
            current = self.folders.get(&current.parent)?;
            guard += 1;
        }
        Some(current)
    }

    /// The room a folder is in (the folder itself when it is a room).
    pub fn room_of(&self, folder: i64) -> Option<&Folder> {
        let mut current = self.folders.get(&folder)?;
        let mut guard = 0;
        while !current.is_room() && current.parent != 0 && guard < 256 {
            current = self.folders.get(&current.parent)?;
            guard += 1;
        }
        current.is_room().then_some(current)
    }

    /// The ancestors of a folder, root first, the folder itself last.
    pub fn path_of(&self, folder: i64) -> Vec<&Folder> {
        let mut path = Vec::new();
        let mut current = self.folders.get(&folder);
        while let Some(f) = current {
            path.push(f);
            if f.parent == 0 || path.len() > 256 {
                break;
            }
            current = self.folders.get(&f.parent);
        }
        path.reverse();
        path
    }

    /// Whether `folder` is `ancestor` or below it.
    pub fn is_within(&self, folder: i64, ancestor: i64) -> bool {
        self.path_of(folder).iter().any(|f| f.id == ancestor)
    }

    /// The access a user has through a list of shares (direct, or via a group; the
    /// strongest wins).
    pub fn share_access(&self, shares: &[Share], user: Guid) -> Option<u8> {
        let groups: Vec<Guid> = self.groups_of(user).iter().map(|g| g.id).collect();
        shares
            .iter()
            .filter(|s| {
                (!s.is_group && s.subject == user) || (s.is_group && groups.contains(&s.subject))
            })
            .map(|s| s.access)
            .min_by_key(|a| access_rank(*a))
    }

    /// A user's role in a room from its member records (their own record wins over
    /// a group's); `None` when they have none (the room's default, Restrict).
    pub fn room_role(&self, room: &Folder, user: Guid) -> Option<u8> {
        let own = room
            .shares
            .iter()
            .find(|s| !s.is_group && s.subject == user)
            .map(|s| s.access);
        own.or_else(|| self.share_access(&room.shares, user))
            .filter(|a| *a != access::NONE && *a != access::RESTRICT)
    }

    /// What `user` may do with a folder (docspace-api.md §7.3, §8).
    pub fn folder_rights(&self, user: Guid, folder: &Folder) -> Rights {
        let Some(root) = self.root_of(folder.id) else {
            return Rights::NONE;
        };
        let admin = self.is_admin(user);
        match root.folder_type {
            folder_type::USER | folder_type::TRASH => {
                if root.created_by == user {
                    let own_root = folder.id == root.id;
                    return Rights {
                        read: true,
                        create: true,
                        edit_access: !own_root,
                        archive: false,
                        change_owner: false,
                        move_from: !own_root,
                        download: true,
                    };
                }
                // Another user's My documents: only explicit shares on the item or
                // above it, never for admins as such.
                let shared = self
                    .path_of(folder.id)
                    .iter()
                    .filter_map(|f| self.share_access(&f.shares, user))
                    .min_by_key(|a| access_rank(*a));
                match shared {
                    Some(a) if a != access::NONE && a != access::RESTRICT => Rights {
                        read: true,
                        download: true,
                        create: matches!(a, access::READ_WRITE | access::EDITING),
                        edit_access: a == access::READ_WRITE,
                        ..Rights::NONE
                    },
                    _ => Rights::NONE,
                }
            }
            folder_type::VIRTUAL_ROOMS | folder_type::ARCHIVE => {
                let archived = root.folder_type == folder_type::ARCHIVE;
                if folder.id == root.id {
                    // The section roots: everyone reads; admins and room admins create rooms.
                    let can_create = !archived
                        && (admin
                            || self
                                .user(user)
                                .is_some_and(|u| u.kind == UserType::RoomAdmin));
                    return Rights {
                        read: true,
                        create: can_create,
                        ..Rights::NONE
                    };
                }
                let Some(room) = self.room_of(folder.id) else {
                    return Rights::NONE;
                };
                // `HasFullAccessAsync`: the room's creator, unless demoted to User or Guest.
                let owner = room.created_by == user
                    && self.user(user).is_some_and(|u| {
                        matches!(u.kind, UserType::DocSpaceAdmin | UserType::RoomAdmin)
                    });
                let role = self.room_role(room, user);
                let manager = owner || role == Some(access::ROOM_MANAGER);
                let creator = manager || role == Some(access::CONTENT_CREATOR);
                let is_room = folder.is_room();
                // Download (FileSecurity.FilterEntryAsync): the owner and members above
                // Read always; Read members and admins who are not members only while
                // the room does not deny downloads (the `VirtualRooms` admin shortcut
                // and the `FilesSecurityActions.Download` case, `SettingsDenyDownload`).
                let download = owner
                    || role.is_some_and(|r| r != access::READ && r != access::NONE)
                    || ((admin || role == Some(access::READ)) && !room.deny_download);
                // Admins who are not members only read, and may move (archive) and
                // re-own the room itself (FileSecurity's VirtualRooms shortcut).
                Rights {
                    download,
                    read: admin || owner || role.is_some(),
                    create: !archived && creator,
                    edit_access: !archived && manager,
                    archive: is_room && (admin || owner),
                    change_owner: is_room && !archived && (admin || owner),
                    move_from: !archived
                        && !is_room
                        && (manager
                            || (role == Some(access::CONTENT_CREATOR)
                                && folder.created_by == user)),
                }
            }
            _ => Rights::NONE,
        }
    }

    /// `CanMove` on a file: in a room, managers move anything and content creators
    /// what they created; in My documents, its owner.
    pub fn can_move_file(&self, user: Guid, file: &File) -> bool {
        let Some(folder) = self.folders.get(&file.folder) else {
            return false;
        };
        let rights = self.folder_rights(user, folder);
        if rights.edit_access && self.room_of(folder.id).is_some() {
            return true;
        }
        match self.room_of(folder.id) {
            Some(room) => {
                rights.create
                    && file.created_by == user
                    && self.room_role(room, user) == Some(access::CONTENT_CREATOR)
            }
            None => rights.create,
        }
    }

    /// Every folder id at or below `root`.
    pub fn subtree(&self, root: i64) -> Vec<i64> {
        let mut ids = vec![root];
        let mut i = 0;
        while i < ids.len() {
            let parent = ids[i];
            ids.extend(
                self.folders
                    .values()
                    .filter(|f| f.parent == parent)
                    .map(|f| f.id),
            );
            i += 1;
        }
        ids
    }

    pub fn record_audit(&mut self, event: AuditEvent) {
        let mut event = event;
        event.id = self.next_event;
        self.next_event += 1;
        self.audit.push(event);
    }

    pub fn record_login(&mut self, mut event: LoginEvent) -> i64 {
        event.id = self.next_event;
        self.next_event += 1;
        let id = event.id;
        self.logins.push(event);
        id
    }

    /// Ends every session of a user: bumps the cookie index, marks login events inactive.
    pub fn kill_sessions(&mut self, user: Guid) {
        if let Some(u) = self.users.get_mut(&user) {
            u.cookie_index += 1;
        }
        for event in self.logins.iter_mut().filter(|e| e.user == user) {
            event.active = false;
        }
    }
}

/// How much an access value grants, for "strongest wins" (lower is stronger).
fn access_rank(access: u8) -> u8 {
    match access {
        access::RESTRICT => 0,
        access::ROOM_MANAGER => 1,
        access::READ_WRITE => 2,
        access::CONTENT_CREATOR => 3,
        access::EDITING => 4,
        access::REVIEW => 5,
        access::COMMENT => 6,
        access::FILL_FORMS => 7,
        access::READ => 8,
        _ => 9,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guids_parse_and_print() {
        let id = Guid::parse("{6D4A8C2E-1F3B-4A5C-9D7E-0123456789AB}").unwrap();
        assert_eq!(id.to_string(), "6d4a8c2e-1f3b-4a5c-9d7e-0123456789ab");
        assert_eq!(Guid::parse("6d4a8c2e1f3b4a5c9d7e0123456789ab"), Some(id));
        assert_eq!(Guid::parse("nope"), None);
        assert_eq!(
            Guid::LOST_USER.to_string(),
            "4a515a15-d4d6-4b8e-828e-e0586f18f3a3"
        );
    }

    #[test]
    fn user_types_parse_by_name_or_number() {
        assert_eq!(UserType::parse("RoomAdmin"), Some(UserType::RoomAdmin));
        assert_eq!(
            UserType::parse("docspaceadmin"),
            Some(UserType::DocSpaceAdmin)
        );
        assert_eq!(UserType::parse("4"), Some(UserType::User));
        assert_eq!(UserType::parse("0"), None);
    }
}
