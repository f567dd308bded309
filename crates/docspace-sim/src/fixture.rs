//! Fixtures: a portal described in YAML (users, groups, rooms with members, folders
//! and files, My-documents items with shares, API keys, prior audit and login
//! history), turned into a [`Portal`]. Ids may be pinned; anything unpinned gets a
//! deterministic id from the seed.

use std::collections::HashMap;

use serde::Deserialize;

use crate::state::{
    ApiKey, AuditEvent, Group, Guid, LoginEvent, Portal, Share, User, UserStatus, UserType, access,
    folder_type, room_folder_type,
};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fixture {
    pub portal: PortalSpec,
    #[serde(default)]
    pub users: Vec<UserSpec>,
    #[serde(default)]
    pub groups: Vec<GroupSpec>,
    #[serde(default)]
    pub rooms: Vec<RoomSpec>,
    #[serde(default)]
    pub my_documents: Vec<PersonalSpec>,
    #[serde(default)]
    pub history: HistorySpec,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PortalSpec {
    pub name: String,
    /// Email of the portal owner (one of `users`).
    pub owner: String,
    #[serde(default = "utc")]
    pub time_zone: String,
    /// Whether the tariff has the audit feature (filters work) or not (last 20 events).
    #[serde(default = "yes")]
    pub audit: bool,
}

fn utc() -> String {
    "UTC".into()
}

fn yes() -> bool {
    true
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserSpec {
    pub email: String,
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub first_name: String,
    #[serde(default)]
    pub last_name: String,
    /// DocSpaceAdmin, RoomAdmin, User or Guest (default User).
    #[serde(default = "user_type", rename = "type")]
    pub kind: String,
    /// active, disabled or pending.
    #[serde(default = "active")]
    pub status: String,
    #[serde(default)]
    pub ldap: bool,
    #[serde(default)]
    pub password: Option<String>,
    #[serde(default)]
    pub api_keys: Vec<KeySpec>,
}

fn user_type() -> String {
    "User".into()
}

fn active() -> String {
    "active".into()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeySpec {
    pub key: String,
    #[serde(default = "key_name")]
    pub name: String,
    #[serde(default = "yes")]
    pub active: bool,
}

fn key_name() -> String {
    "api key".into()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupSpec {
    pub name: String,
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub manager: Option<String>,
    #[serde(default)]
    pub members: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoomSpec {
    #[serde(default)]
    pub id: Option<i64>,
    pub title: String,
    /// custom, editing, filling_forms, public, virtual_data or ai (default custom).
    #[serde(default = "custom", rename = "type")]
    pub kind: String,
    pub owner: String,
    #[serde(default)]
    pub archived: bool,
    /// The room's "restrict copy and download" setting (`SettingsDenyDownload`):
    /// Read members and admins who are not members may not download from it.
    #[serde(default)]
    pub deny_download: bool,
    #[serde(default)]
    pub members: Vec<ShareSpec>,
    #[serde(default)]
    pub folders: Vec<FolderSpec>,
    #[serde(default)]
    pub files: Vec<FileSpec>,
}

fn custom() -> String {
    "custom".into()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShareSpec {
    #[serde(default)]
    pub user: Option<String>,
    #[serde(default)]
    pub group: Option<String>,
    /// room_manager, content_creator, editing, read, read_write, review, comment,
    /// fill_forms, or a number.
    pub access: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FolderSpec {
    #[serde(default)]
    pub id: Option<i64>,
    pub title: String,
    /// Email of the creator (default: the room's owner or the My-documents owner).
    #[serde(default)]
    pub created_by: Option<String>,
    #[serde(default)]
    pub shares: Vec<ShareSpec>,
    #[serde(default)]
    pub folders: Vec<FolderSpec>,
    #[serde(default)]
    pub files: Vec<FileSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSpec {
    #[serde(default)]
    pub id: Option<i64>,
    pub title: String,
    #[serde(default)]
    pub created_by: Option<String>,
    #[serde(default)]
    pub shares: Vec<ShareSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PersonalSpec {
    pub owner: String,
    #[serde(default)]
    pub folders: Vec<FolderSpec>,
    #[serde(default)]
    pub files: Vec<FileSpec>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HistorySpec {
    #[serde(default)]
    pub audit: Vec<AuditSpec>,
    #[serde(default)]
    pub logins: Vec<LoginSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditSpec {
    pub date: String,
    pub user: String,
    pub action: u32,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub target: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginSpec {
    pub date: String,
    pub user: String,
    /// 1000 success, 1005 fail, 1006 logout, 1010 success via API (default 1000).
    #[serde(default = "login_success")]
    pub action: u32,
}

fn login_success() -> u32 {
    1000
}

/// A built portal and the API key that acts as its owner.
pub struct Built {
    pub portal: Portal,
    pub owner_key: String,
}

impl Fixture {
    pub fn from_yaml(text: &str) -> Result<Self, String> {
        serde_saphyr::from_str(text).map_err(|e| e.to_string())
    }

    /// Builds the portal; `rng` gives ids to everything the fixture does not pin.
    pub fn build(&self, rng: &mut fastrand::Rng) -> Result<Built, String> {
        let zone = jiff::tz::TimeZone::get(&self.portal.time_zone)
            .map_err(|e| format!("portal.time_zone `{}`: {e}", self.portal.time_zone))?;
        let mut portal = Portal::empty(&self.portal.name, zone, self.portal.audit);
        let at: jiff::Timestamp = "2026-01-05T09:00:00Z".parse().expect("a fixed instant");
        let mut owner_key = None;
        let mut emails: HashMap<String, Guid> = HashMap::new();
        for spec in &self.users {
            let id = match &spec.id {
                Some(text) => Guid::parse(text)
                    .ok_or_else(|| format!("user {}: bad id `{text}`", spec.email))?,
                None => Guid(rng.u128(..)),
            };
            let kind = UserType::parse(&spec.kind)
                .ok_or_else(|| format!("user {}: unknown type `{}`", spec.email, spec.kind))?;
            let status = match spec.status.as_str() {
                "active" => UserStatus::Active,
                "disabled" | "terminated" => UserStatus::Terminated,
                "pending" => UserStatus::Pending,
                other => return Err(format!("user {}: unknown status `{other}`", spec.email)),
            };
            let key = spec.email.to_lowercase();
            if emails.insert(key, id).is_some() {
                return Err(format!("user {} is listed twice", spec.email));
            }
            portal.add_user(User {
                id,
                email: spec.email.clone(),
                first_name: spec.first_name.clone(),
                last_name: spec.last_name.clone(),
                user_name: spec.email.split('@').next().unwrap_or_default().to_owned(),
                kind,
                status,
                // Invited users (`AddInvitedUserAsync`) wait for activation.
                activation: if status == UserStatus::Pending { 2 } else { 1 },
                ldap: spec.ldap,
                password: spec.password.clone(),
                registered: at,
                terminated: None,
                created_by: None,
                cookie_index: 0,
                my_documents: 0,
                trash: 0,
            });
            for k in &spec.api_keys {
                if !k.key.starts_with("sk-")
                    || k.key.len() != 67
                    || !k.key[3..].bytes().all(|b| b.is_ascii_hexdigit())
                {
                    return Err(format!(
                        "user {}: API key must be sk- and 64 hex characters",
                        spec.email
                    ));
                }
                portal.keys.push(ApiKey {
                    id: Guid(rng.u128(..)),
                    name: k.name.clone(),
                    secret: k.key.clone(),
                    permissions: Vec::new(),
                    created_by: id,
                    created: at,
                    last_used: None,
                    expires: None,
                    active: k.active,
                });
            }
        }
        let user = |email: &str| -> Result<Guid, String> {
            emails
                .get(&email.to_lowercase())
                .copied()
                .ok_or_else(|| format!("unknown user `{email}`"))
        };
        portal.owner = user(&self.portal.owner).map_err(|e| format!("portal.owner: {e}"))?;
        if let Some(owner) = portal.users.get_mut(&portal.owner.clone()) {
            owner.kind = UserType::DocSpaceAdmin;
        }
        if let Some(key) = portal
            .keys
            .iter()
            .find(|k| k.created_by == portal.owner && k.active)
        {
            owner_key = Some(key.secret.clone());
        }

        let mut group_ids: HashMap<String, Guid> = HashMap::new();
        for spec in &self.groups {
            let id = match &spec.id {
                Some(text) => Guid::parse(text)
                    .ok_or_else(|| format!("group {}: bad id `{text}`", spec.name))?,
                None => Guid(rng.u128(..)),
            };
            let manager = spec.manager.as_deref().map(user).transpose()?;
            let mut members = spec
                .members
                .iter()
                .map(|m| user(m))
                .collect::<Result<Vec<_>, _>>()?;
            if let Some(m) = manager
                && !members.contains(&m)
            {
                members.push(m);
            }
            group_ids.insert(spec.name.to_lowercase(), id);
            portal.groups.push(Group {
                id,
                name: spec.name.clone(),
                manager,
                members,
            });
        }
        let shares = |specs: &[ShareSpec]| -> Result<Vec<Share>, String> {
            specs
                .iter()
                .map(|s| {
                    let access = parse_access(&s.access)?;
                    match (&s.user, &s.group) {
                        (Some(u), None) => Ok(Share {
                            subject: user(u)?,
                            is_group: false,
                            access,
                        }),
                        (None, Some(g)) => Ok(Share {
                            subject: *group_ids
                                .get(&g.to_lowercase())
                                .ok_or_else(|| format!("unknown group `{g}`"))?,
                            is_group: true,
                            access,
                        }),
                        _ => Err("a share names exactly one of `user` or `group`".into()),
                    }
                })
                .collect()
        };

        // Pinned ids first, so generated ones never collide with them.
        for room in &self.rooms {
            if let Some(id) = room.id {
                portal.reserve_id(id);
            }
            reserve(&mut portal, &room.folders, &room.files);
        }
        for personal in &self.my_documents {
            reserve(&mut portal, &personal.folders, &personal.files);
        }

        for spec in &self.rooms {
            let room_type = room_type(&spec.kind)?;
            let owner = user(&spec.owner)?;
            let parent = if spec.archived {
                portal.archive_root
            } else {
                portal.rooms_root
            };
            let id = spec.id.unwrap_or_else(|| portal.next_id());
            if portal.folders.contains_key(&id) {
                return Err(format!("room `{}`: id {id} is taken", spec.title));
            }
            let ft = room_folder_type(room_type).expect("known room type");
            portal.insert_folder(id, parent, &spec.title, ft, Some(room_type), owner, at);
            let room = portal.folders.get_mut(&id).expect("inserted");
            room.shares = shares(&spec.members)?;
            room.deny_download = spec.deny_download;
            add_tree(
                &mut portal,
                id,
                owner,
                &spec.folders,
                &spec.files,
                &user,
                &shares,
                at,
            )?;
        }
        for spec in &self.my_documents {
            let owner = user(&spec.owner)?;
            let root = portal.user(owner).expect("known user").my_documents;
            add_tree(
                &mut portal,
                root,
                owner,
                &spec.folders,
                &spec.files,
                &user,
                &shares,
                at,
            )?;
        }
        for event in &self.history.audit {
            let date = event
                .date
                .parse()
                .map_err(|e| format!("audit event date `{}`: {e}", event.date))?;
            let actor = user(&event.user)?;
            let (action_type, product, location, entries, _) = crate::audit::mapping(event.action);
            if product == 0 {
                return Err(format!(
                    "audit event {}: action {} is not one the simulator knows (see audit.rs)",
                    event.date, event.action
                ));
            }
            portal.record_audit(AuditEvent {
                id: 0,
                date,
                user: actor,
                action: event.action,
                action_type,
                product,
                location,
                description: event.description.clone(),
                target: event.target.clone(),
                entries: entries.to_vec(),
            });
        }
        for event in &self.history.logins {
            let date = event
                .date
                .parse()
                .map_err(|e| format!("login event date `{}`: {e}", event.date))?;
            let actor = user(&event.user)?;
            portal.record_login(LoginEvent {
                id: 0,
                date,
                user: actor,
                login: event.user.clone(),
                action: event.action,
                active: false,
            });
        }

        let owner_key = match owner_key {
            Some(key) => key,
            None => {
                let secret = format!("sk-{:032x}{:032x}", rng.u128(..), rng.u128(..));
                portal.keys.push(ApiKey {
                    id: Guid(rng.u128(..)),
                    name: "docspace-sim owner".into(),
                    secret: secret.clone(),
                    permissions: Vec::new(),
                    created_by: portal.owner,
                    created: at,
                    last_used: None,
                    expires: None,
                    active: true,
                });
                secret
            }
        };
        Ok(Built { portal, owner_key })
    }
}

type UserLookup<'a> = dyn Fn(&str) -> Result<Guid, String> + 'a;
type SharesLookup<'a> = dyn Fn(&[ShareSpec]) -> Result<Vec<Share>, String> + 'a;

fn reserve(portal: &mut Portal, folders: &[FolderSpec], files: &[FileSpec]) {
    for f in folders {
        if let Some(id) = f.id {
            portal.reserve_id(id);
        }
        reserve(portal, &f.folders, &f.files);
    }
    for f in files {
        if let Some(id) = f.id {
            portal.reserve_id(id);
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn add_tree(
    portal: &mut Portal,
    parent: i64,
    default_creator: Guid,
    folders: &[FolderSpec],
    files: &[FileSpec],
    user: &UserLookup<'_>,
    shares: &SharesLookup<'_>,
    at: jiff::Timestamp,
) -> Result<(), String> {
    for spec in folders {
        let creator = spec
            .created_by
            .as_deref()
            .map(user)
            .transpose()?
            .unwrap_or(default_creator);
        let id = spec.id.unwrap_or_else(|| portal.next_id());
        if portal.folders.contains_key(&id) {
            return Err(format!("folder `{}`: id {id} is taken", spec.title));
        }
        portal.insert_folder(
            id,
            parent,
            &spec.title,
            folder_type::DEFAULT,
            None,
            creator,
            at,
        );
        portal.folders.get_mut(&id).expect("inserted").shares = shares(&spec.shares)?;
        add_tree(
            portal,
            id,
            creator,
            &spec.folders,
            &spec.files,
            user,
            shares,
            at,
        )?;
    }
    for spec in files {
        let creator = spec
            .created_by
            .as_deref()
            .map(user)
            .transpose()?
            .unwrap_or(default_creator);
        let id = match spec.id {
            Some(id) => {
                portal.reserve_id(id);
                id
            }
            None => portal.next_id(),
        };
        portal.files.insert(
            id,
            crate::state::File {
                id,
                folder: parent,
                title: spec.title.clone(),
                created_by: creator,
                created: at,
                updated: at,
                content: format!("{}\n", spec.title).into_bytes(),
                shares: shares(&spec.shares)?,
            },
        );
    }
    Ok(())
}

fn room_type(name: &str) -> Result<u8, String> {
    Ok(match name {
        "filling_forms" => 1,
        "editing" => 2,
        "custom" => 5,
        "public" => 6,
        "virtual_data" => 8,
        "ai" => 9,
        other => return Err(format!("unknown room type `{other}`")),
    })
}

fn parse_access(name: &str) -> Result<u8, String> {
    Ok(match name {
        "none" => access::NONE,
        "read_write" | "full" => access::READ_WRITE,
        "read" => access::READ,
        "restrict" => access::RESTRICT,
        "review" => access::REVIEW,
        "comment" => access::COMMENT,
        "fill_forms" => access::FILL_FORMS,
        "room_manager" => access::ROOM_MANAGER,
        "editing" => access::EDITING,
        "content_creator" => access::CONTENT_CREATOR,
        other => other
            .parse()
            .map_err(|_| format!("unknown access `{other}`"))?,
    })
}
