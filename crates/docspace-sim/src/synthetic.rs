//! Synthetic portals for scale: N leavers, all due and offboardable, with the archive
//! owner, archive room and HR group they need, and the manifest that offboards them.
//!
//! Every leaver is an active RoomAdmin or User. Even-numbered leavers own a room
//! (their workspace) with files and a colleague as member; odd-numbered ones have a
//! folder inside a shared department room. Every fourth has a shared folder in My
//! documents, every third an API key. Every tenth leaver's room denies downloads
//! (`SettingsDenyDownload`), as rooms with confidential work do: the manifest does
//! not ask for exports, so it stays offboardable, but an `export` step added to it
//! must fail for those leavers.

use std::fmt::Write as _;

use crate::fixture::Built;
use crate::state::{
    ApiKey, Group, Guid, Portal, Share, User, UserStatus, UserType, access, folder_type,
};

pub const DOMAIN: &str = "synthetic.example";
pub const ARCHIVE_OWNER: &str = "archive.owner@synthetic.example";
pub const HR_GROUP: &str = "HR";

/// A built synthetic portal and what its manifest needs.
pub struct Synthetic {
    pub built: Built,
    pub archive_room: i64,
    /// `(email, workspace id)` per leaver.
    pub leavers: Vec<(String, i64)>,
}

pub fn build(count: usize, rng: &mut fastrand::Rng) -> Synthetic {
    let at: jiff::Timestamp = "2026-01-05T09:00:00Z".parse().expect("a fixed instant");
    let mut portal = Portal::empty("synthetic", jiff::tz::TimeZone::UTC, true);
    let add = |portal: &mut Portal,
               rng: &mut fastrand::Rng,
               email: String,
               first: &str,
               last: String,
               kind: UserType| {
        let id = Guid(rng.u128(..));
        portal.add_user(User {
            id,
            user_name: email.split('@').next().unwrap_or_default().to_owned(),
            email,
            first_name: first.to_owned(),
            last_name: last,
            kind,
            status: UserStatus::Active,
            activation: 1,
            ldap: false,
            password: Some("synthetic-password".into()),
            registered: at,
            terminated: None,
            created_by: None,
            cookie_index: 0,
            my_documents: 0,
            trash: 0,
        })
    };
    let owner = add(
        &mut portal,
        rng,
        format!("owner@{DOMAIN}"),
        "Portal",
        "Owner".into(),
        UserType::DocSpaceAdmin,
    );
    portal.owner = owner;
    let archive_owner = add(
        &mut portal,
        rng,
        ARCHIVE_OWNER.into(),
        "Archive",
        "Owner".into(),
        UserType::DocSpaceAdmin,
    );
    let hr: Vec<Guid> = (0..3)
        .map(|i| {
            add(
                &mut portal,
                rng,
                format!("hr{i}@{DOMAIN}"),
                "HR",
                format!("Partner {i}"),
                UserType::User,
            )
        })
        .collect();
    let colleagues: Vec<Guid> = (0..10)
        .map(|i| {
            add(
                &mut portal,
                rng,
                format!("colleague{i}@{DOMAIN}"),
                "Colleague",
                format!("{i}"),
                UserType::RoomAdmin,
            )
        })
        .collect();
    let hr_group = Guid(rng.u128(..));
    portal.groups.push(Group {
        id: hr_group,
        name: HR_GROUP.into(),
        manager: Some(hr[0]),
        members: hr.clone(),
    });

    let rooms_root = portal.rooms_root;
    let archive_room = portal.add_folder(
        rooms_root,
        "Leavers archive",
        folder_type::CUSTOM_ROOM,
        Some(5),
        archive_owner,
        at,
    );
    // HR reads the archive; the owner (whose key offboards) manages it, so folder
    // workspaces can be moved in.
    portal.folders.get_mut(&archive_room).expect("added").shares = vec![
        Share {
            subject: hr_group,
            is_group: true,
            access: access::READ,
        },
        Share {
            subject: owner,
            is_group: false,
            access: access::ROOM_MANAGER,
        },
    ];
    // The owner manages every department room, so folder workspaces can be moved out.
    let departments: Vec<i64> = (0..10)
        .map(|d| {
            let room = portal.add_folder(
                rooms_root,
                &format!("Department {d}"),
                folder_type::CUSTOM_ROOM,
                Some(5),
                colleagues[d],
                at,
            );
            portal.folders.get_mut(&room).expect("added").shares = vec![Share {
                subject: owner,
                is_group: false,
                access: access::ROOM_MANAGER,
            }];
            room
        })
        .collect();

    let secret = |rng: &mut fastrand::Rng| format!("sk-{:032x}{:032x}", rng.u128(..), rng.u128(..));
    let mut leavers = Vec::with_capacity(count);
    for i in 0..count {
        let kind = if i % 2 == 0 {
            UserType::RoomAdmin
        } else {
            UserType::User
        };
        let email = format!("leaver{i}@{DOMAIN}");
        let id = add(
            &mut portal,
            rng,
            email.clone(),
            "Leaver",
            format!("{i}"),
            kind,
        );
        let colleague = colleagues[i % colleagues.len()];
        let workspace = if i % 2 == 0 {
            let room = portal.add_folder(
                rooms_root,
                &format!("Projects of leaver {i}"),
                folder_type::CUSTOM_ROOM,
                Some(5),
                id,
                at,
            );
            let folder = portal.folders.get_mut(&room).expect("added");
            folder.shares = vec![Share {
                subject: colleague,
                is_group: false,
                access: access::EDITING,
            }];
            folder.deny_download = i % 10 == 0;
            room
        } else {
            let department = departments[i % departments.len()];
            let room = portal.folders.get_mut(&department).expect("added");
            room.shares.push(Share {
                subject: id,
                is_group: false,
                access: access::CONTENT_CREATOR,
            });
            portal.add_folder(
                department,
                &format!("Leaver {i} work"),
                folder_type::DEFAULT,
                None,
                id,
                at,
            )
        };
        portal.add_file(workspace, &format!("Report {i}.docx"), id, at);
        portal.add_file(workspace, &format!("Budget {i}.xlsx"), id, at);
        if i % 4 == 0 {
            let my = portal.user(id).expect("added").my_documents;
            let shared = portal.add_folder(my, "Shared notes", folder_type::DEFAULT, None, id, at);
            portal.folders.get_mut(&shared).expect("added").shares = vec![Share {
                subject: colleague,
                is_group: false,
                access: access::READ,
            }];
            portal.add_file(shared, "Handover.docx", id, at);
        }
        if i % 3 == 0 {
            portal.keys.push(ApiKey {
                id: Guid(rng.u128(..)),
                name: format!("script of leaver {i}"),
                secret: secret(rng),
                permissions: Vec::new(),
                created_by: id,
                created: at,
                last_used: None,
                expires: None,
                active: true,
            });
        }
        leavers.push((email, workspace));
    }
    let owner_key = secret(rng);
    portal.keys.push(ApiKey {
        id: Guid(rng.u128(..)),
        name: "docspace-sim owner".into(),
        secret: owner_key.clone(),
        permissions: Vec::new(),
        created_by: owner,
        created: at,
        last_used: None,
        expires: None,
        active: true,
    });
    Synthetic {
        built: Built { portal, owner_key },
        archive_room,
        leavers,
    }
}

impl Synthetic {
    /// The offboard manifest (format version 1) for every leaver of this portal.
    pub fn manifest_yaml(&self) -> String {
        let mut text = String::new();
        let _ = writeln!(
            text,
            "# Generated by `offboard sim --synthetic {}`.",
            self.leavers.len()
        );
        let _ = writeln!(text, "version: 1");
        let _ = writeln!(text, "defaults:");
        let _ = writeln!(text, "  archive_owner: {ARCHIVE_OWNER}");
        let _ = writeln!(text, "  archive_folder: {}", self.archive_room);
        let _ = writeln!(text, "  hr_group: {HR_GROUP}");
        let _ = writeln!(text, "protected:");
        let _ = writeln!(text, "  - owner@{DOMAIN}");
        let _ = writeln!(text, "leavers:");
        for (email, workspace) in &self.leavers {
            let _ = writeln!(text, "  - user: {email}");
            let _ = writeln!(text, "    workspace: {workspace}");
        }
        text
    }
}
