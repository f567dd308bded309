//! `offboard plan MANIFEST`: validate, run the key's pre-flight, read the portal with
//! as few requests as it takes (GETs only), classify every leaver and step, print.

use std::collections::{BTreeSet, HashMap};
use std::io::Write;

use crate::cli::PlanArgs;
use crate::commands::validate::{check_file, print_diagnostics};
use crate::docspace::model::{Employee, UserKind};
use crate::docspace::{ApiError, Client, HistoryFilter, PeopleFilter};
use crate::exit;
use crate::manifest::{Diagnostic, Manifest, Step, UserRef};
use crate::plan::{AuditAccess, Lookup, Observed, Outcome, Plan, group_key, plan};
use crate::report::plan as plan_report;
use crate::settings::{self, KEY_VARIABLE};

/// Why the plan could not be made (beyond an invalid manifest).
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("cannot reach the portal: {0}")]
    Unreachable(ApiError),
    #[error("the portal refused the API key")]
    Unauthorized,
    #[error("pre-flight failed: {0}")]
    Preflight(String),
    #[error("the portal answered unexpectedly: {0}")]
    Api(#[from] ApiError),
}

impl PlanError {
    fn hint(&self) -> Option<&'static str> {
        match self {
            PlanError::Unreachable(_) => Some("check --portal / DOCSPACE_URL and your network"),
            PlanError::Unauthorized => Some(
                "the key is unknown, expired, inactive, or its user is disabled; create a new one with full permissions",
            ),
            PlanError::Preflight(_) => Some(
                "offboarding needs a key of the portal owner or a DocSpace admin, created with full permissions (audit has no narrower scope)",
            ),
            PlanError::Api(_) => None,
        }
    }
}

pub fn run(args: &PlanArgs) -> u8 {
    let error_code = |plain: u8| {
        if args.detailed_exitcode {
            exit::FAILED
        } else {
            plain
        }
    };
    let checked = check_file(&args.manifest);
    let failed = checked.diagnostics.iter().any(Diagnostic::is_error);
    let _ = print_diagnostics(&mut std::io::stderr().lock(), &checked.diagnostics);
    let Some(manifest) = checked.manifest.filter(|_| !failed) else {
        eprintln!(
            "error: {} is not a valid manifest; nothing was read from the portal",
            args.manifest.display()
        );
        return error_code(exit::INVALID);
    };
    let connection = match settings::connection(
        args.portal.as_deref(),
        args.api_key_file.as_deref(),
        std::env::var(KEY_VARIABLE).ok(),
    ) {
        Ok(c) => c,
        Err(err) => {
            eprintln!("error: {err}");
            if let Some(hint) = err.hint() {
                eprintln!("hint: {hint}");
            }
            return error_code(exit::INVALID);
        }
    };
    let client = match Client::new(&connection) {
        Ok(client) => client,
        Err(err) => {
            eprintln!("error: {err}");
            return error_code(exit::INVALID);
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return exit::FAILED;
        }
    };
    let mut protect = Vec::new();
    for value in &args.protect {
        match UserRef::parse(value.trim()) {
            Some(user) => protect.push(user),
            None => {
                eprintln!("error: --protect `{value}` is neither an email address nor a user id");
                return error_code(exit::INVALID);
            }
        }
    }
    let observed = match runtime.block_on(observe(&client, &manifest, protect)) {
        Ok(observed) => observed,
        Err(err) => {
            eprintln!("error: {err}");
            if let Some(hint) = err.hint() {
                eprintln!("hint: {hint}");
            }
            return error_code(exit::PORTAL);
        }
    };
    let plan = plan(&manifest, &observed);
    let text = match args.format {
        crate::cli::PlanFormat::Human => plan_report::human(&plan),
        crate::cli::PlanFormat::Json => plan_report::json(&plan),
    };
    if std::io::stdout().lock().write_all(text.as_bytes()).is_err() {
        return exit::FAILED;
    }
    exit_code(&plan, args.detailed_exitcode)
}

/// terraform's `-detailed-exitcode`: 0 nothing to do, 2 changes pending, 1 error.
/// Otherwise 0, or 2 when a leaver is invalid.
fn exit_code(plan: &Plan, detailed: bool) -> u8 {
    let invalid = plan.summary.invalid > 0;
    let changes = plan
        .leavers
        .iter()
        .any(|l| l.outcome == Outcome::WillChange);
    match (detailed, invalid, changes) {
        (true, true, _) => exit::FAILED,
        (true, false, true) => 2,
        (true, false, false) => exit::SUCCESS,
        (false, true, _) => exit::INVALID,
        (false, false, _) => exit::SUCCESS,
    }
}

/// Reads what the plan needs. GET requests only.
pub async fn observe(
    client: &Client,
    manifest: &Manifest,
    protect: Vec<UserRef>,
) -> Result<Observed, PlanError> {
    let caller = match client.me().await {
        Ok(me) => me,
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
    let wants = |step: Step| manifest.leavers.iter().any(|l| l.steps.contains(&step));
    let audit = if wants(Step::Audit) {
        audit_access(client).await?
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

    let users = users(client, manifest).await?;
    let mut groups = HashMap::new();
    for name in manifest
        .leavers
        .iter()
        .filter_map(|l| l.hr_group.as_deref())
        .collect::<BTreeSet<_>>()
    {
        groups.insert(group_key(name), group(client, name).await?);
    }
    let mut folders = HashMap::new();
    let ids: BTreeSet<i64> = manifest
        .leavers
        .iter()
        .flat_map(|l| std::iter::once(l.workspace).chain(l.archive_folder))
        .map(|id| id as i64)
        .collect();
    for id in ids {
        folders.insert(id, lookup(client.folder(id).await)?);
    }
    let due = |l: &&crate::manifest::Leaver| l.effective.is_none_or(|d| d <= today);
    let mut members = HashMap::new();
    for leaver in manifest
        .leavers
        .iter()
        .filter(due)
        .filter(|l| l.steps.contains(&Step::Archive))
    {
        let id = leaver.workspace as i64;
        if let Some(Lookup::Found(f)) = folders.get(&id)
            && f.is_room()
            && !members.contains_key(&id)
        {
            members.insert(id, client.room_members(id).await?);
        }
    }
    let keys = if wants(Step::RevokeKeys) {
        client.api_keys().await?
    } else {
        Vec::new()
    };
    let mut rooms_owned = HashMap::new();
    for leaver in manifest
        .leavers
        .iter()
        .filter(due)
        .filter(|l| l.steps.contains(&Step::Reassign))
    {
        if let Some(Lookup::Found(user)) = users.get(&leaver.user.key())
            && user.is_disabled()
            && !rooms_owned.contains_key(&user.id)
        {
            rooms_owned.insert(user.id.clone(), client.rooms_owned_by(&user.id).await?);
        }
    }
    let mut necessary = HashMap::new();
    for leaver in manifest
        .leavers
        .iter()
        .filter(due)
        .filter(|l| l.steps.contains(&Step::Reassign))
    {
        if let Some(Lookup::Found(user)) = users.get(&leaver.user.key())
            && !user.is_owner
            && !necessary.contains_key(&user.id)
        {
            let answer = client
                .reassign_necessary(&user.id, user.kind().type_name())
                .await;
            match answer {
                Ok(needed) => {
                    necessary.insert(user.id.clone(), needed);
                }
                // Not allowed to ask (another admin, say): the plan says "will change"
                // and the protection rules explain why it will not.
                Err(ApiError::Forbidden { .. }) => {}
                Err(err) => return Err(err.into()),
            }
        }
    }
    Ok(Observed {
        portal: client.portal().to_string(),
        caller,
        today,
        users,
        groups,
        folders,
        members,
        keys,
        necessary,
        rooms_owned,
        audit,
        protect,
    })
}

fn lookup<T>(result: Result<T, ApiError>) -> Result<Lookup<T>, PlanError> {
    match result {
        Ok(t) => Ok(Lookup::Found(t)),
        Err(ApiError::NotFound { .. }) => Ok(Lookup::Missing),
        Err(ApiError::Forbidden { message }) => Ok(Lookup::Hidden(
            message.unwrap_or_else(|| "access denied".into()),
        )),
        Err(err) => Err(err.into()),
    }
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
async fn audit_access(client: &Client) -> Result<AuditAccess, PlanError> {
    let window = HistoryFilter {
        from: Some("2000-01-01T00:00:00Z".parse().expect("a fixed instant")),
        to: Some("2000-01-01T00:00:01Z".parse().expect("a fixed instant")),
        ..HistoryFilter::default()
    };
    match client.audit_probe(&window, 1).await {
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
    manifest: &Manifest,
) -> Result<HashMap<String, Lookup<Employee>>, PlanError> {
    let wanted: BTreeSet<String> = manifest
        .leavers
        .iter()
        .flat_map(|l| [l.user.key(), l.archive_owner.key()])
        .collect();
    let mut found: HashMap<String, Lookup<Employee>> = HashMap::new();
    let (first, total) = client.people_page(&PeopleFilter::default(), 0).await?;
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
            let (page, _) = client.people_page(&PeopleFilter::default(), start).await?;
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
    for key in &wanted {
        if found.contains_key(key) {
            continue;
        }
        let lookup_result = if paging {
            // The whole list was read: not in it means not there (or not visible).
            Lookup::Missing
        } else if key.contains('@') {
            lookup(client.user_by_email(key).await)?
        } else {
            lookup(client.user(key).await)?
        };
        found.insert(key.clone(), lookup_result);
    }
    Ok(found)
}

/// A group by id, or by exact name (case-insensitive) among the name search.
async fn group(
    client: &Client,
    name: &str,
) -> Result<Lookup<crate::docspace::model::Group>, PlanError> {
    if crate::manifest::UserRef::parse(name).is_some_and(|r| matches!(r, UserRef::Id(_))) {
        return lookup(client.group(name).await);
    }
    let matches = client.groups(name).await?;
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
