//! YAML (and JSON) manifests: a span-keeping parse that hands leavers over one by one.
//!
//! serde-saphyr parses the text into [`Node`]s that remember where each value and key
//! stands. The top-level mapping is kept whole; the elements of its `leavers` sequence
//! are passed to a callback as soon as each one is parsed and then dropped, so a
//! 100 000-leaver manifest never holds more than one leaver's node tree at a time.
//!
//! Duplicate keys are errors, booleans are only `true`/`false` (no `no` → false), and
//! the parser's budget (events, nodes, alias replays) grows with the input's size but no
//! faster, so an alias bomb stops with an error instead of eating the machine.

use std::fmt;
use std::sync::Arc;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::{MessageFormatter, Spanned};

use super::diagnostic::{Diagnostic, Location, SourceFile};

/// A parsed YAML value with the places of its parts.
#[derive(Debug)]
pub enum Node {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    /// A number JSON cannot hold (`.inf`, `.nan`), kept as written.
    Text(String),
    Seq(Vec<Spanned<Node>>),
    Map(Vec<(Spanned<String>, Spanned<Node>)>),
}

impl Node {
    /// The value as JSON, for the schema validator and serde. The text of scalars
    /// moves into the JSON (a node keeps its shape, keys and places, which is all
    /// diagnostics need of it), so a long value is not held twice.
    pub fn take_json(&mut self) -> serde_json::Value {
        use serde_json::Value;
        match self {
            Node::Null => Value::Null,
            Node::Bool(b) => Value::Bool(*b),
            Node::Number(n) => Value::Number(n.clone()),
            Node::Text(s) => Value::String(std::mem::take(s)),
            Node::Seq(items) => {
                Value::Array(items.iter_mut().map(|i| i.value.take_json()).collect())
            }
            Node::Map(entries) => Value::Object(
                entries
                    .iter_mut()
                    .map(|(k, v)| (k.value.clone(), v.value.take_json()))
                    .collect(),
            ),
        }
    }

    /// The entry of a mapping with this key.
    pub fn get(&self, key: &str) -> Option<&(Spanned<String>, Spanned<Node>)> {
        match self {
            Node::Map(entries) => entries.iter().find(|(k, _)| k.value == key),
            _ => None,
        }
    }
}

/// Where a JSON pointer (relative to `node`) leads: the value, and its key if it has one.
pub struct Found<'a> {
    pub value: &'a Spanned<Node>,
    pub key: Option<&'a Spanned<String>>,
}

/// Follows `pointer` (`/steps/1`) down from `node` as far as it goes.
pub fn follow<'a>(node: &'a Spanned<Node>, pointer: &str) -> Found<'a> {
    let mut found = Found {
        value: node,
        key: None,
    };
    for token in pointer.split('/').skip(1) {
        let token = token.replace("~1", "/").replace("~0", "~");
        let next = match &found.value.value {
            Node::Map(entries) => entries
                .iter()
                .find(|(k, _)| k.value == token)
                .map(|(k, v)| Found {
                    value: v,
                    key: Some(k),
                }),
            Node::Seq(items) => token
                .parse::<usize>()
                .ok()
                .and_then(|i| items.get(i))
                .map(|v| Found {
                    value: v,
                    key: None,
                }),
            _ => None,
        };
        match next {
            Some(next) => found = next,
            None => break,
        }
    }
    found
}

/// Converts a serde-saphyr location to ours, deriving the byte offset when the parser
/// did not record one.
pub fn location(source: &Arc<SourceFile>, loc: &serde_saphyr::Location) -> Location {
    let span = loc.span();
    match (span.byte_offset(), span.byte_len()) {
        (Some(offset), Some(len)) if (offset as usize) <= source.text.len() => {
            Location::at(source, offset as usize, len as usize)
        }
        _ => {
            let offset = source.offset_of(loc.line() as usize, loc.column() as usize);
            Location::at(source, offset, 0)
        }
    }
}

/// The top level of a YAML manifest.
pub enum TopLevel {
    /// A mapping. `entries` holds every key but a `leavers` sequence, whose elements
    /// went to the callback; `leavers` is then the key's place and how many there were.
    Map {
        entries: Vec<(Spanned<String>, Spanned<Node>)>,
        leavers: Option<(Spanned<String>, usize)>,
    },
    /// Anything else (a list, a scalar, an empty document).
    Other,
}

/// Parses a YAML manifest, calling `on_leaver(index, node)` for each element of the
/// top-level `leavers` sequence, in order.
pub fn parse(
    source: &Arc<SourceFile>,
    on_leaver: &mut dyn FnMut(usize, Spanned<Node>),
) -> Result<TopLevel, Diagnostic> {
    let seed = TopSeed { on_leaver };
    let options = options_for(source.text.len());
    serde_saphyr::with_deserializer_from_str_with_options(&source.text, options, |de| {
        seed.deserialize(de)
    })
    .map_err(|err| syntax_diagnostic(source, &err))
}

/// The parser's limits for an input of `len` bytes: generous for any honest manifest of
/// that size, but alias expansion may not make the document much bigger than its text.
fn options_for(len: usize) -> serde_saphyr::Options {
    let scaled = len.saturating_mul(2).max(100_000);
    let mut budget = serde_saphyr::Budget::default();
    budget.max_events = scaled;
    budget.max_nodes = scaled;
    budget.max_total_scalar_bytes = len.saturating_mul(2).max(1 << 20);
    let mut options = serde_saphyr::Options::default();
    options.budget = Some(budget);
    options.alias_limits.max_total_replayed_events = len.max(10_000);
    options.duplicate_keys = serde_saphyr::DuplicateKeyPolicy::Error;
    options.strict_booleans = true;
    options.with_snippet = false;
    options
}

fn syntax_diagnostic(source: &Arc<SourceFile>, err: &serde_saphyr::Error) -> Diagnostic {
    let mut inner = err;
    while let serde_saphyr::Error::AliasError { error, .. }
    | serde_saphyr::Error::WithSnippet { error, .. } = inner
    {
        inner = error;
    }
    let message = serde_saphyr::UserMessageFormatter.format_message(inner);
    let message = crate::text::cut(&message, 200).escape_debug().to_string();
    let place = err
        .location()
        .filter(|loc| loc.line() > 0)
        .map(|loc| location(source, &loc))
        .unwrap_or_else(|| Location::at(source, 0, 0));
    match inner {
        serde_saphyr::Error::DuplicateMappingKey { key, .. } => Diagnostic::error(
            "duplicate-key",
            place,
            match key {
                Some(key) => format!("duplicate key `{}`", crate::text::quoted(key)),
                None => "duplicate key".to_owned(),
            },
        )
        .with_help("a key may appear once per mapping; remove one of them"),
        serde_saphyr::Error::Budget { .. }
        | serde_saphyr::Error::AliasReplayCounterOverflow { .. }
        | serde_saphyr::Error::AliasReplayLimitExceeded { .. }
        | serde_saphyr::Error::AliasExpansionLimitExceeded { .. } => Diagnostic::error(
            "yaml-limits",
            place,
            format!("YAML too large once its aliases are expanded ({message})"),
        )
        .with_help("a manifest needs few anchors and aliases; write the values out instead"),
        _ => Diagnostic::error("yaml-syntax", place, format!("invalid YAML: {message}")),
    }
}

// --- serde plumbing -------------------------------------------------------------------

struct TopSeed<'a> {
    on_leaver: &'a mut dyn FnMut(usize, Spanned<Node>),
}

impl<'de> DeserializeSeed<'de> for TopSeed<'_> {
    type Value = TopLevel;

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<TopLevel, D::Error> {
        de.deserialize_any(TopVisitor {
            on_leaver: self.on_leaver,
        })
    }
}

struct TopVisitor<'a> {
    on_leaver: &'a mut dyn FnMut(usize, Spanned<Node>),
}

impl<'de> Visitor<'de> for TopVisitor<'_> {
    type Value = TopLevel;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a mapping")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<TopLevel, A::Error> {
        let mut entries = Vec::new();
        let mut leavers = None;
        while let Some(key) = map.next_key::<Spanned<String>>()? {
            if key.value == "leavers" {
                let seeded = map.next_value_seed(LeaversSeed {
                    on_leaver: &mut *self.on_leaver,
                })?;
                match seeded {
                    LeaversValue::Streamed(count) => leavers = Some((key, count)),
                    LeaversValue::Other(node) => entries.push((key, node)),
                }
            } else {
                let value = map.next_value::<Spanned<Node>>()?;
                entries.push((key, value));
            }
        }
        Ok(TopLevel::Map { entries, leavers })
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<TopLevel, A::Error> {
        other(NodeVisitor.visit_seq(seq)?)
    }
    fn visit_unit<E: de::Error>(self) -> Result<TopLevel, E> {
        other(Node::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<TopLevel, E> {
        other(Node::Null)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<TopLevel, E> {
        other(Node::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<TopLevel, E> {
        other(Node::Number(v.into()))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<TopLevel, E> {
        other(Node::Number(v.into()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<TopLevel, E> {
        other(NodeVisitor.visit_f64(v)?)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<TopLevel, E> {
        other(Node::Text(v.to_owned()))
    }
}

fn other<E>(_: Node) -> Result<TopLevel, E> {
    Ok(TopLevel::Other)
}

enum LeaversValue {
    Streamed(usize),
    Other(Spanned<Node>),
}

struct LeaversSeed<'a> {
    on_leaver: &'a mut dyn FnMut(usize, Spanned<Node>),
}

impl<'de> DeserializeSeed<'de> for LeaversSeed<'_> {
    type Value = LeaversValue;

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<LeaversValue, D::Error> {
        de.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for LeaversSeed<'_> {
    type Value = LeaversValue;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of leavers")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<LeaversValue, A::Error> {
        let mut count = 0;
        while let Some(item) = seq.next_element::<Spanned<Node>>()? {
            (self.on_leaver)(count, item);
            count += 1;
        }
        Ok(LeaversValue::Streamed(count))
    }

    // Anything but a sequence is kept as a node, for the schema to reject with a place.
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<LeaversValue, A::Error> {
        kept(NodeVisitor.visit_map(map)?)
    }
    fn visit_unit<E: de::Error>(self) -> Result<LeaversValue, E> {
        kept(Node::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<LeaversValue, E> {
        kept(Node::Null)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<LeaversValue, E> {
        kept(Node::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<LeaversValue, E> {
        kept(Node::Number(v.into()))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<LeaversValue, E> {
        kept(Node::Number(v.into()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<LeaversValue, E> {
        kept(NodeVisitor.visit_f64(v)?)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<LeaversValue, E> {
        kept(Node::Text(v.to_owned()))
    }
}

fn kept<E>(node: Node) -> Result<LeaversValue, E> {
    let unknown = serde_saphyr::Location::UNKNOWN;
    Ok(LeaversValue::Other(Spanned::new(node, unknown, unknown)))
}

impl<'de> serde::Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        de.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Node, E> {
        Ok(Node::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Node, E> {
        Ok(Node::Number(v.into()))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Node, E> {
        Ok(Node::Number(v.into()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Node, E> {
        Ok(serde_json::Number::from_f64(v)
            .map(Node::Number)
            .unwrap_or_else(|| Node::Text(v.to_string())))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Node, E> {
        Ok(Node::Text(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Node, E> {
        Ok(Node::Text(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Spanned<Node>>()? {
            items.push(item);
        }
        Ok(Node::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Spanned<String>>()? {
            let value = map.next_value::<Spanned<Node>>()?;
            entries.push((key, value));
        }
        Ok(Node::Map(entries))
    }
}
