//! The manifest as written (format version 1): the serde + schemars types.
//!
//! These types are the single source of `schemas/manifest.schema.json`. Every field
//! carries a doc comment, which becomes its `description` in the schema and so the
//! hover text in editors that load the schema. Values reach these types only after
//! the JSON Schema accepted them (see `schema.rs`), so their `Deserialize` impls do
//! not need friendly errors of their own.

use std::borrow::Cow;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer};

/// An offboarding manifest: the leavers to offboard and how.
///
/// Give the leavers either inline (`leavers`) or in a CSV file next to the manifest
/// (`leavers_csv`). Add `# yaml-language-server: $schema=<path to this schema>` to the
/// top of a YAML manifest to get completion and checks in editors.
#[derive(Debug, JsonSchema)]
#[serde(deny_unknown_fields)]
#[allow(
    dead_code,
    reason = "the document's shape for the schema; mod.rs reads its parts one by one"
)]
#[schemars(
    title = "offboard manifest, version 1",
    extend("oneOf" = [{"required": ["leavers"]}, {"required": ["leavers_csv"]}])
)]
pub struct ManifestDocument {
    /// The JSON Schema this document follows (for editors); ignored by offboard.
    #[serde(rename = "$schema", default)]
    pub schema: Option<String>,
    /// Manifest format version. Always `1`.
    pub version: FormatVersion,
    /// Settings every leaver gets unless the leaver sets them itself.
    #[serde(default)]
    pub defaults: Option<Defaults>,
    /// The leavers, one entry per employee.
    #[serde(default)]
    pub leavers: Option<Vec<LeaverEntry>>,
    /// Path of a CSV file with the leavers, relative to this manifest and inside its
    /// folder. Its header row names the leaver fields; `steps` are separated by `;`.
    #[serde(default)]
    pub leavers_csv: Option<String>,
    /// Break-glass accounts (emails or user ids) that must never be offboarded. A
    /// leaver on this list is an error.
    #[serde(default)]
    pub protected: Vec<UserRef>,
}

/// Defaults applied to every leaver that does not set the field itself.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Defaults {
    /// Id of the folder or room that receives a leaver's folder workspace.
    #[schemars(range(min = 1, max = u64::MAX))]
    pub archive_folder: Option<u64>,
    /// Email or user id (UUID) of the DocSpace admin or room admin who receives the
    /// leavers' data and owns their archived workspaces.
    pub archive_owner: Option<UserRef>,
    /// Group (name or UUID) given read access to archived workspaces; `null` for none.
    #[serde(default, deserialize_with = "present")]
    #[schemars(schema_with = "nullable_group")]
    pub hr_group: Option<Option<String>>,
    /// Day (`YYYY-MM-DD`, the portal's calendar) before which leavers are not offboarded.
    #[schemars(with = "Option<String>", extend("format" = "date"))]
    pub effective: Option<String>,
    /// The steps to run (default: every step but `export`).
    #[schemars(length(min = 1), extend("uniqueItems" = true))]
    pub steps: Option<Vec<Step>>,
    /// How many days of audit and login history to collect (1 to 180, default 30).
    #[schemars(range(min = 1, max = 180))]
    pub audit_days: Option<u16>,
    /// Ticket reference carried into the report.
    #[schemars(length(max = 500))]
    pub ticket: Option<String>,
    /// Free text carried into the report.
    #[schemars(length(max = 500))]
    pub note: Option<String>,
}

/// One leaver: the employee and where their work lives.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LeaverEntry {
    /// The leaver: email or DocSpace user id (UUID).
    pub user: UserRef,
    /// Id of the leaver's workspace: a room or a folder.
    #[schemars(range(min = 1, max = u64::MAX))]
    pub workspace: u64,
    /// The workspace's exact title, to offboard a workspace that is not the leaver's
    /// own: a room or folder created by someone else, including one the leaver only
    /// belongs to. `plan` and `apply` refuse such a workspace unless this matches its
    /// title, so a mistyped id cannot archive somebody else's room.
    #[schemars(length(min = 1, max = 170))]
    pub confirm_workspace: Option<String>,
    /// Id of the folder or room that receives the workspace when it is a folder.
    #[schemars(range(min = 1, max = u64::MAX))]
    pub archive_folder: Option<u64>,
    /// Email or user id (UUID) of the DocSpace admin or room admin who receives the
    /// leaver's data and owns the archived workspace. Required here or in `defaults`.
    pub archive_owner: Option<UserRef>,
    /// Group (name or UUID) given read access to the archived workspace; `null` for none.
    #[serde(default, deserialize_with = "present")]
    #[schemars(schema_with = "nullable_group")]
    pub hr_group: Option<Option<String>>,
    /// Day (`YYYY-MM-DD`, the portal's calendar) before which this leaver is not offboarded.
    #[schemars(with = "Option<String>", extend("format" = "date"))]
    pub effective: Option<String>,
    /// The steps to run (default: every step but `export`).
    #[schemars(length(min = 1), extend("uniqueItems" = true))]
    pub steps: Option<Vec<Step>>,
    /// How many days of audit and login history to collect (1 to 180, default 30).
    #[schemars(range(min = 1, max = 180))]
    pub audit_days: Option<u16>,
    /// Ticket reference carried into the report.
    #[schemars(length(max = 500))]
    pub ticket: Option<String>,
    /// Free text carried into the report.
    #[schemars(length(max = 500))]
    pub note: Option<String>,
}

/// Tells "absent" (outer `None`, via `#[serde(default)]`) from an explicit `null`
/// (`Some(None)`), so a leaver can clear a default such as `hr_group`.
fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// `hr_group` is the one field where `null` means something: "no HR group", even
/// when `defaults` names one.
fn nullable_group(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": ["string", "null"],
        "minLength": 1,
        "description": "Group (name or UUID) given read access to the archive; `null` for none."
    })
}

/// The manifest format version; only `1` exists.
#[derive(Debug, Clone, Copy)]
pub struct FormatVersion;

impl<'de> Deserialize<'de> for FormatVersion {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match u64::deserialize(deserializer)? {
            1 => Ok(Self),
            other => Err(serde::de::Error::custom(format!(
                "unsupported manifest version {other}"
            ))),
        }
    }
}

impl JsonSchema for FormatVersion {
    fn schema_name() -> Cow<'static, str> {
        "FormatVersion".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "integer", "const": 1 })
    }

    fn inline_schema() -> bool {
        true
    }
}

/// One step of a leaver's offboarding. They always run in this order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    Disable,
    RevokeKeys,
    Reassign,
    Export,
    Archive,
    Audit,
}

impl Step {
    /// Every step, in the order they run.
    pub const ALL: [Step; 6] = [
        Step::Disable,
        Step::RevokeKeys,
        Step::Reassign,
        Step::Export,
        Step::Archive,
        Step::Audit,
    ];

    /// The steps a leaver gets when neither it nor the defaults name any.
    pub fn default_steps() -> Vec<Step> {
        Self::ALL
            .into_iter()
            .filter(|step| *step != Step::Export)
            .collect()
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Step::Disable => "disable",
            Step::RevokeKeys => "revoke_keys",
            Step::Reassign => "reassign",
            Step::Export => "export",
            Step::Archive => "archive",
            Step::Audit => "audit",
        }
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl JsonSchema for Step {
    fn schema_name() -> Cow<'static, str> {
        "Step".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let names: Vec<&str> = Step::ALL.iter().map(|step| step.as_str()).collect();
        json_schema!({
            "type": "string",
            "enum": names,
            "description": "A step of the offboarding: `disable` (account disabled, sessions \
                ended), `revoke_keys` (API keys deleted), `reassign` (data handed to the archive \
                owner; needs `disable`), `export` (workspace downloaded as a zip before \
                archiving), `archive` (workspace archived with archive-owner and HR access), \
                `audit` (audit and login history collected)."
        })
    }
}

/// A DocSpace user named by email or by user id (a UUID in any usual notation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserRef {
    Email(String),
    Id(u128),
}

/// The UUID notations accepted for user ids: plain, hyphenated, braced or `urn:uuid:`;
/// exactly those [`parse_uuid`] reads (hyphens in all four places or none, braces in
/// pairs), so a value the schema accepts always becomes a [`UserRef`].
pub const UUID_PATTERN: &str = "^(?:urn:uuid:)?(?:(?:[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-\
[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}|[0-9A-Fa-f]{32})|\\{(?:[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-\
[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}|[0-9A-Fa-f]{32})\\})$";

impl UserRef {
    /// Parses an email address or a UUID. Emails are only checked for an `@` here:
    /// the schema's `email` format has already judged them.
    pub fn parse(text: &str) -> Option<Self> {
        parse_uuid(text)
            .map(UserRef::Id)
            .or_else(|| text.contains('@').then(|| UserRef::Email(text.to_owned())))
    }

    /// The identity used to compare users: emails case-insensitively, ids by value.
    pub fn key(&self) -> String {
        match self {
            UserRef::Email(email) => email.to_lowercase(),
            UserRef::Id(id) => format_uuid(*id),
        }
    }
}

impl fmt::Display for UserRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UserRef::Email(email) => f.write_str(email),
            UserRef::Id(id) => f.write_str(&format_uuid(*id)),
        }
    }
}

impl<'de> Deserialize<'de> for UserRef {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        UserRef::parse(&text)
            .ok_or_else(|| serde::de::Error::custom("expected an email address or a user id"))
    }
}

impl JsonSchema for UserRef {
    fn schema_name() -> Cow<'static, str> {
        "UserRef".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "description": "A DocSpace user: email address or user id (UUID).",
            "anyOf": [
                { "format": "email" },
                { "pattern": UUID_PATTERN }
            ]
        })
    }
}

/// Parses a UUID written plain, hyphenated, braced or as `urn:uuid:`, in any case.
pub fn parse_uuid(text: &str) -> Option<u128> {
    let body = text.strip_prefix("urn:uuid:").unwrap_or(text);
    let body = body
        .strip_prefix('{')
        .and_then(|b| b.strip_suffix('}'))
        .unwrap_or(body);
    let hex: String = body.chars().filter(|c| *c != '-').collect();
    let hyphens = body.len() - hex.len();
    if hex.len() != 32 || !(hyphens == 0 || hyphens == 4) {
        return None;
    }
    u128::from_str_radix(&hex, 16).ok()
}

/// The canonical (lowercase, hyphenated) form of a UUID, as DocSpace writes ids.
pub fn format_uuid(id: u128) -> String {
    let hex = format!("{id:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_compare_in_any_notation() {
        let forms = [
            "6d4a8c2e-1f3b-4a5c-9d7e-0123456789ab",
            "6D4A8C2E1F3B4A5C9D7E0123456789AB",
            "{6d4a8c2e-1f3b-4a5c-9d7e-0123456789ab}",
            "urn:uuid:6d4a8c2e-1f3b-4a5c-9d7e-0123456789AB",
        ];
        let keys: Vec<String> = forms
            .iter()
            .map(|f| UserRef::parse(f).expect(f).key())
            .collect();
        assert!(
            keys.iter()
                .all(|k| k == "6d4a8c2e-1f3b-4a5c-9d7e-0123456789ab")
        );
    }

    #[test]
    fn malformed_uuids_are_not_ids() {
        assert_eq!(parse_uuid("6d4a8c2e-1f3b-4a5c-9d7e-0123456789a"), None);
        assert_eq!(parse_uuid("6d4a8c2e1f3b-4a5c-9d7e-0123456789ab"), None);
        assert_eq!(parse_uuid("zz4a8c2e-1f3b-4a5c-9d7e-0123456789ab"), None);
    }

    #[test]
    fn emails_compare_case_insensitively() {
        let a = UserRef::parse("Ann.Lee@Example.com").unwrap();
        let b = UserRef::parse("ann.lee@example.COM").unwrap();
        assert_eq!(a.key(), b.key());
        assert_eq!(a.to_string(), "Ann.Lee@Example.com");
    }
}
