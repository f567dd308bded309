//! What a run replaces, as the journal keeps it for `offboard revert`: the account
//! (read by the session before the lock-out) and the workspace (read by the
//! leaver's pipeline before any step changes it), turned into `prior` records.

use crate::docspace::model::{ApiKey, Employee, Folder, Share};
use crate::journal::{PriorAccount, PriorKey, PriorMember, PriorWorkspace};

/// The account as it is, with the API keys `keys` holds for it.
pub(super) fn account(user: &Employee, keys: &[ApiKey]) -> PriorAccount {
    PriorAccount {
        user_id: user.id.clone(),
        email: user.email.clone(),
        display_name: user.display_name.clone(),
        status: user.status,
        kind: user.kind().type_name().to_owned(),
        keys: keys
            .iter()
            .filter(|k| k.created_by(&user.id))
            .map(|k| PriorKey {
                id: k.id.clone(),
                name: k.name.clone(),
                postfix: k.key_postfix.clone(),
            })
            .collect(),
    }
}

/// The workspace as it is, with a room's members.
pub(super) fn workspace(folder: &Folder, members: &[Share]) -> PriorWorkspace {
    PriorWorkspace {
        id: folder.id,
        kind: if folder.is_room() { "room" } else { "folder" }.to_owned(),
        title: folder.title.clone(),
        owner: folder.owner_id().map(str::to_lowercase),
        archived: folder.is_archived(),
        parent_id: folder.parent_id,
        members: members.iter().filter_map(member).collect(),
    }
}

fn member(share: &Share) -> Option<PriorMember> {
    let (id, name, group) = match (&share.shared_to_user, &share.shared_to_group) {
        (Some(user), _) => (&user.id, &user.display_name, false),
        (None, Some(group)) => (&group.id, &group.name, true),
        // A link has no member to put back.
        (None, None) => return None,
    };
    Some(PriorMember {
        id: id.to_lowercase(),
        group,
        name: name.clone(),
        access: share.access,
        owner: share.is_owner,
    })
}
