//! What the portal looks like now, for `plan`, `apply` and `demo`: the key's
//! pre-flight, then every user, group, folder, room, key and audit permission the
//! manifest names, read with as few requests as it takes (GETs only, under the
//! pacer), into [`Observed`].

use std::collections::{BTreeSet, HashMap, HashSet};

use futures_util::{StreamExt, stream};

use crate::docspace::model::{Employee, UserKind};
use crate::docspace::{ApiError, Client, HistoryFilter, PeopleFilter};
use crate::executor::{Lane, Pacer};
use crate::manifest::{Manifest, Step, UserRef};
use crate::plan::{AuditAccess, Lookup, Observed, group_key};

/// Why the plan could not be made (beyond an invalid manifest).
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("cannot reach the portal: {0}")]
    Unreachable(ApiError),
    #[error("the portal refused the API key")]
    Unauthorized,
    #[error("pre-flight failed: {0}")]
    Preflight(String),
    #[error("{0} is not a DocSpace portal: it answered {1} on the API root (api/2.0/people/@self)")]
    NotDocSpace(String, String),
    #[error("the portal answered unexpectedly: {0}")]
    Api(#[from] ApiError),
}

impl PlanError {
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            PlanError::Unreachable(_) => Some("check --portal / DOCSPACE_URL and your network"),
            PlanError::Unauthorized => Some(
                "the key is unknown, expired, inactive, or its user is disabled; create a new one with full permissions",
            ),
            PlanError::Preflight(_) => Some(
                "offboarding needs a key of the portal owner or a DocSpace admin, created with full permissions (audit has no narrower scope)",
            ),
            PlanError::NotDocSpace(..) => Some(
                "give the portal's root URL (https://portal.example.com), not an API path or another site",
            ),
            PlanError::Api(_) => None,
        }
    }
}

/// How much [`observe`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Depth {
    /// Everything the plan shows: room members, `reassign/necessary`, rooms owned.
    Plan,
    /// What `apply --yes` needs before it locks leavers out: who they are, the groups
    /// and the keys. Each leaver's pipeline reads its workspace and the rest when it
    /// gets there, so the lock-out waits for no per-leaver read.
    Lockout,
}

/// Who the key acts as, and its scopes when it was created with restricted
/// permissions.
pub struct Preflight {
    pub caller: Employee,
    pub restricted_key: Option<Vec<String>>,
}

/// The key's pre-flight, for every command that reads the portal: a portal is
/// there, the key is accepted, it acts as the portal owner or a DocSpace admin
/// (who may disable other users), and whether its permissions are restricted.
pub async fn preflight(client: &Client, pacer: &Pacer) -> Result<Preflight, PlanError> {
    // The first call says whether there is a portal at all: one attempt and, after a
    // failure on the way, one more announced on stderr. Nothing waits out a backoff
    // for a portal that is not there.
    let first = match client.me().await {
        Err(err @ (ApiError::Transport { .. } | ApiError::Server { .. })) => {
            say!("warning: {err}; retrying once");
            client.me().await
        }
        // The portal is there and busy: wait as it says, like every other call.
        Err(ApiError::RateLimited { .. }) => pacer.call(Lane::Read, || client.me()).await,
        answer => answer,
    };
    let caller = match first {
        Ok(me) => me,
        Err(ApiError::NotFound { .. }) => {
            return Err(PlanError::NotDocSpace(
                client.portal().to_string(),
                "404".into(),
            ));
        }
        Err(ApiError::UnexpectedShape { status, .. }) => {
            return Err(PlanError::NotDocSpace(
                client.portal().to_string(),
                format!("{status} with something other than DocSpace's JSON"),
            ));
        }
        Err(ApiError::Unauthorized) => return Err(PlanError::Unauthorized),
        Err(ApiError::Forbidden { .. }) => {
            return Err(PlanError::Preflight(
                "the key may not even read its own profile: it was created with restricted permissions".into(),
            ));
        }
        Err(err @ ApiError::Transport { .. }) => return Err(PlanError::Unreachable(err)),
        Err(err) => return Err(err.into()),
    };
    if !matches!(caller.kind(), UserKind::Owner | UserKind::DocSpaceAdmin) {
        return Err(PlanError::Preflight(format!(
            "the key acts as {} ({}), who cannot disable other users",
            caller.display_name,
            caller.kind().type_name()
        )));
    }
    // A key created with restricted permissions reads what its scopes allow; every
    // write of apply would then be refused one by one (403).
    let restricted_key = match pacer.call(Lane::Read, || client.key_self()).await {
        Ok(Some(key)) if !key.is_full() => Some(key.permissions),
        _ => None,
    };
    Ok(Preflight {
        caller,
        restricted_key,
    })
}

/// Reads what the plan needs, concurrently under `pacer`. GET requests only.
pub async fn observe(
    client: &Client,
    pacer: &Pacer,
    manifest: &Manifest,
    protect: Vec<UserRef>,
    depth: Depth,
) -> Result<Observed, PlanError> {
    let Preflight {
        caller,
        restricted_key,
    } = preflight(client, pacer).await?;
    let wants = |step: Step| manifest.leavers.iter().any(|l| l.steps.contains(&step));
    let audit = if wants(Step::Audit) {
        audit_access(client, pacer).await?
    } else {
        AuditAccess::default()
    };
    if wants(Step::Audit) && !audit.readable {
        return Err(PlanError::Preflight(format!(
            "the key acts as {}, who may not read the audit trail",
            caller.display_name
        )));
    }
    let today = today_at_portal(&caller);

    let users = users(client, pacer, manifest).await?;
    let names: Vec<String> = manifest
        .leavers
        .iter()
        .filter_map(|l| l.hr_group.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut groups = HashMap::new();
    for (name, found) in each(
        names,
        |name| async move { group(client, pacer, &name).await },
    )
    .await
    {
        groups.insert(group_key(&name), found?);
    }
    let ids: Vec<i64> = manifest
        .leavers
        .iter()
        .flat_map(|l| std::iter::once(l.workspace).chain(l.archive_folder))
        .map(|id| id as i64)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    // `apply --yes` locks leavers out first: their pipelines read the workspaces.
    let ids = if depth == Depth::Plan {
        ids
    } else {
        Vec::new()
    };
    let mut folders = HashMap::new();
    for (id, found) in each(ids, |id| read(pacer, move || client.folder(id))).await {
        folders.insert(id, lookup(found)?);
    }
    let keys = if wants(Step::RevokeKeys) {
        pacer.call(Lane::Read, || client.api_keys()).await?
    } else {
        Vec::new()
    };
    let mut observed = Observed {
        portal: client.portal().to_string(),
        caller,
        today,
        users,
        groups,
        folders,
        folders_read: depth == Depth::Plan,
        members: HashMap::new(),
        keys,
        necessary: HashMap::new(),
        rooms_owned: HashMap::new(),
        handed_over: HashSet::new(),
        reassigning: HashSet::new(),
        restricted_key,
        audit,
        protect,
    };
    if depth == Depth::Plan {
        observe_steps(client, pacer, manifest, &mut observed).await?;
    }
    Ok(observed)
}

/// The reads behind each step's "unchanged": room members, reassign state.
async fn observe_steps(
    client: &Client,
    pacer: &Pacer,
    manifest: &Manifest,
    observed: &mut Observed,
) -> Result<(), PlanError> {
    let today = observed.today;
    let due = |l: &&crate::manifest::Leaver| l.effective.is_none_or(|d| d <= today);
    // Members of every room workspace to archive or export, deferred leavers' too:
    // whose room it is is judged from them (and a typo is better caught early).
    let rooms: Vec<i64> = manifest
        .leavers
        .iter()
        .filter(|l| l.steps.contains(&Step::Archive) || l.steps.contains(&Step::Export))
        .map(|l| l.workspace as i64)
        .filter(|id| matches!(observed.folders.get(id), Some(Lookup::Found(f)) if f.is_room()))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    for (id, members) in each(rooms, |id| read(pacer, move || client.room_members(id))).await {
        observed.members.insert(id, members?);
    }
    // A workspace the archive owner owns now may still be the leaver's: reassigning
    // and archiving hand it on. The audit trail says whether the leaver created it.
    let handed_on: Vec<(String, (String, i64, bool))> = manifest
        .leavers
        .iter()
        .filter(|l| l.steps.contains(&Step::Archive) || l.steps.contains(&Step::Export))
        .filter_map(|l| {
            let user = observed.users.get(&l.user.key()).and_then(Lookup::found)?;
            let owner = observed
                .users
                .get(&l.archive_owner.key())
                .and_then(Lookup::found)?;
            let folder = observed
                .folders
                .get(&(l.workspace as i64))
                .and_then(Lookup::found)?;
            let held_by = folder.owner_id()?;
            (!held_by.eq_ignore_ascii_case(&user.id) && held_by.eq_ignore_ascii_case(&owner.id))
                .then(|| (l.user.key(), (user.id.clone(), folder.id, folder.is_room())))
        })
        .collect();
    for ((key, _), answer) in each(handed_on, |(_, (id, folder, room))| async move {
        pacer
            .call(Lane::Read, || client.created_by(&id, folder, room))
            .await
    })
    .await
    {
        match answer {
            Ok(true) => {
                observed.handed_over.insert(key);
            }
            // No evidence (or no audit trail to read): the workspace stays someone else's.
            Ok(false) | Err(ApiError::Forbidden { .. }) => {}
            Err(err) => return Err(err.into()),
        }
    }
    let reassigned: Vec<&Employee> = manifest
        .leavers
        .iter()
        .filter(due)
        .filter(|l| l.steps.contains(&Step::Reassign))
        .filter_map(|l| observed.users.get(&l.user.key()).and_then(Lookup::found))
        .collect();
    let disabled: Vec<String> = reassigned
        .iter()
        .filter(|u| u.is_disabled())
        .map(|u| u.id.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let disabled_ids = disabled.clone();
    for (id, owned) in each(disabled, |id| async move {
        pacer.call(Lane::Read, || client.rooms_owned_by(&id)).await
    })
    .await
    {
        observed.rooms_owned.insert(id, owned?);
    }
    // Only a disabled user's data can be reassigned: a job running for one now was
    // started by somebody else.
    for (id, progress) in each(disabled_ids.clone(), |id| async move {
        pacer
            .call(Lane::Read, || client.reassign_progress(&id))
            .await
    })
    .await
    {
        if matches!(progress, Ok(Some(p)) if !p.is_completed) {
            observed.reassigning.insert(id);
        }
    }
    let asked: Vec<(String, &'static str)> = reassigned
        .iter()
        .filter(|u| !u.is_owner)
        .map(|u| (u.id.clone(), u.kind().type_name()))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    for ((id, _), answer) in each(asked, |(id, kind)| async move {
        pacer
            .call(Lane::Read, || client.reassign_necessary(&id, kind))
            .await
    })
    .await
    {
        match answer {
            Ok(needed) => {
                observed.necessary.insert(id, needed);
            }
            // Not allowed to ask (another admin, say): the plan says "will change"
            // and the protection rules explain why it will not.
            Err(ApiError::Forbidden { .. }) => {}
            Err(err) => return Err(err.into()),
        }
    }
    Ok(())
}

/// How many reads `observe` keeps going at once; the pacer's read cap bounds the
/// requests themselves.
const READ_AHEAD: usize = 64;

/// Runs `call` for every key concurrently; the answers in no particular order.
async fn each<K, T, F, Fut>(keys: Vec<K>, call: F) -> Vec<(K, T)>
where
    K: Clone,
    F: Fn(K) -> Fut,
    Fut: Future<Output = T>,
{
    stream::iter(keys)
        .map(|key| {
            let answer = call(key.clone());
            async move { (key, answer.await) }
        })
        .buffer_unordered(READ_AHEAD)
        .collect()
        .await
}

/// One read under the pacer.
async fn read<T, F, Fut>(pacer: &Pacer, call: F) -> Result<T, ApiError>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<T, ApiError>>,
{
    pacer.call(Lane::Read, call).await
}

fn lookup<T>(result: Result<T, ApiError>) -> Result<Lookup<T>, PlanError> {
    Ok(Lookup::of(result)?)
}

/// Today in the portal's zone, read off the offset of a date the portal wrote.
fn today_at_portal(caller: &Employee) -> jiff::civil::Date {
    let now = jiff::Timestamp::now();
    let offset = caller
        .registration_date
        .as_deref()
        .and_then(|d| d.parse::<jiff::Timestamp>().ok().zip(Some(d)))
        .and_then(|(_, text)| offset_of(text))
        .unwrap_or(jiff::tz::Offset::UTC);
    now.to_zoned(jiff::tz::TimeZone::fixed(offset)).date()
}

/// The `Z` or `±hh:mm` at the end of an `ApiDateTime`.
fn offset_of(text: &str) -> Option<jiff::tz::Offset> {
    if text.ends_with('Z') {
        return Some(jiff::tz::Offset::UTC);
    }
    let tail = text.get(text.len().checked_sub(6)?..)?;
    let sign = match tail.as_bytes()[0] {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let hours: i32 = tail.get(1..3)?.parse().ok()?;
    let minutes: i32 = tail.get(4..6)?.parse().ok()?;
    jiff::tz::Offset::from_seconds(sign * (hours * 3600 + minutes * 60)).ok()
}

/// Whether the key reads the audit trail, and whether the plan honours filters: a
/// window in the year 2000 must come back empty.
async fn audit_access(client: &Client, pacer: &Pacer) -> Result<AuditAccess, PlanError> {
    let window = HistoryFilter {
        from: Some("2000-01-01T00:00:00Z".parse().expect("a fixed instant")),
        to: Some("2000-01-01T00:00:01Z".parse().expect("a fixed instant")),
        ..HistoryFilter::default()
    };
    match pacer
        .call(Lane::Read, || client.audit_probe(&window, 1))
        .await
    {
        Ok(events) => Ok(AuditAccess {
            readable: true,
            filters_ignored: !events.is_empty(),
        }),
        Err(ApiError::Forbidden { .. }) => Ok(AuditAccess::default()),
        Err(err) => Err(err.into()),
    }
}

/// Leavers and archive owners by [`UserRef::key`]: the people filter's pages when
/// they are fewer than one look-up per user, else one look-up each.
async fn users(
    client: &Client,
    pacer: &Pacer,
    manifest: &Manifest,
) -> Result<HashMap<String, Lookup<Employee>>, PlanError> {
    let wanted: BTreeSet<String> = manifest
        .leavers
        .iter()
        .flat_map(|l| [l.user.key(), l.archive_owner.key()])
        .collect();
    let mut found: HashMap<String, Lookup<Employee>> = HashMap::new();
    let everybody = PeopleFilter::default();
    let (first, total) = pacer
        .call(Lane::Read, || client.people_page(&everybody, 0))
        .await?;
    let pages = total
        .unwrap_or(first.len() as u64)
        .div_ceil(crate::docspace::PAGE)
        .max(1);
    let mut everyone = first;
    let paging = pages - 1 < wanted.len() as u64;
    if paging {
        let mut start = everyone.len() as u64;
        let mut last = start;
        // Until the total, or (without one) until a short page.
        while total.map_or(last == crate::docspace::PAGE, |t| start < t) {
            let (page, _) = pacer
                .call(Lane::Read, || client.people_page(&everybody, start))
                .await?;
            if page.is_empty() {
                break;
            }
            last = page.len() as u64;
            start += last;
            everyone.extend(page);
        }
    }
    for user in everyone {
        for key in [user.email.to_lowercase(), user.id.to_lowercase()] {
            if wanted.contains(&key) {
                found.insert(key, Lookup::Found(user.clone()));
            }
        }
    }
    let missing: Vec<String> = wanted
        .into_iter()
        .filter(|key| !found.contains_key(key))
        .collect();
    if paging {
        // The whole list was read: not in it means not there (or not visible).
        for key in missing {
            found.insert(key, Lookup::Missing);
        }
        return Ok(found);
    }
    for (key, answer) in each(missing, |key| async move {
        if key.contains('@') {
            read(pacer, || client.user_by_email(&key)).await
        } else {
            read(pacer, || client.user(&key)).await
        }
    })
    .await
    {
        found.insert(key, lookup(answer)?);
    }
    Ok(found)
}

/// A group by id, or by exact name (case-insensitive) among the name search.
async fn group(
    client: &Client,
    pacer: &Pacer,
    name: &str,
) -> Result<Lookup<crate::docspace::model::Group>, PlanError> {
    if crate::manifest::UserRef::parse(name).is_some_and(|r| matches!(r, UserRef::Id(_))) {
        return lookup(read(pacer, || client.group(name)).await);
    }
    let matches = read(pacer, || client.groups(name)).await?;
    Ok(matches
        .into_iter()
        .find(|g| g.name.eq_ignore_ascii_case(name.trim()))
        .map_or(Lookup::Missing, Lookup::Found))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_are_read_off_api_datetimes() {
        assert_eq!(
            offset_of("2025-03-04T15:20:11.0000000+03:00")
                .unwrap()
                .seconds(),
            3 * 3600
        );
        assert_eq!(
            offset_of("2025-03-04T15:20:11.0000000-05:30")
                .unwrap()
                .seconds(),
            -(5 * 3600 + 1800)
        );
        assert_eq!(
            offset_of("2025-03-04T15:20:11.0000000Z").unwrap().seconds(),
            0
        );
        assert!(offset_of("nonsense").is_none());
    }
}
