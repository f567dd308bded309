//! Byte-level mutations, stacked a few at a time: flips, insertions of tokens the
//! formats care about, deletions, duplicated and swapped lines, splices with other
//! inputs, odd Unicode and broken UTF-8, deep nesting, huge numbers, growth.

use fastrand::Rng;

use crate::driver::MAX_LEN;

/// Tokens of one syntax, inserted whole.
pub type Dictionary = &'static [&'static str];

pub const YAML: Dictionary = &[
    "&a ",
    "*a",
    "<<: *a\n",
    "<<: [*a, *b]\n",
    "&b ",
    "!!str ",
    "!!int ",
    "!!binary ",
    "!!map ",
    "!custom ",
    "? ",
    "- ",
    ": ",
    ":",
    "{",
    "}",
    "[",
    "]",
    ",",
    "|\n",
    "|-\n",
    ">\n",
    ">+\n",
    "#",
    " #",
    "---\n",
    "...\n",
    "%YAML 1.2\n",
    "%TAG ! tag:x,2000:\n",
    "\t",
    "  ",
    "\n  ",
    "\n- ",
    "'",
    "''",
    "\"",
    "\\\"",
    "\\x41",
    "\\u0041",
    "\\U0001F600",
    "\\0",
    "\\",
    "~",
    "null",
    "Null",
    "true",
    "false",
    "yes",
    "no",
    "on",
    "off",
    ".inf",
    "-.inf",
    ".nan",
    "0x1F",
    "0o17",
    "1_000",
    "1e3",
    "1.0",
    "-0",
    "+1",
    "version",
    "version: 1\n",
    "version: 2\n",
    "leavers",
    "leavers:\n",
    "leavers_csv",
    "leavers_csv: rows.csv\n",
    "defaults",
    "defaults:\n",
    "protected",
    "protected: [",
    "user",
    "user: ",
    "workspace",
    "workspace: ",
    "archive_owner",
    "archive_owner: ",
    "archive_folder",
    "hr_group",
    "effective",
    "steps",
    "steps: [",
    "audit_days",
    "confirm_workspace",
    "ticket",
    "note",
    "$schema",
    "disable",
    "revoke_keys",
    "reassign",
    "export",
    "archive",
    "audit",
    "a@example.com",
    "A@Example.COM",
    "keeper@example.com",
    "x@",
    "@",
    "a@b",
    "6d4a8c2e-1f3b-4a5c-9d7e-0123456789ab",
    "{6D4A8C2E-1F3B-4A5C-9D7E-0123456789AB}",
    "urn:uuid:6d4a8c2e1f3b4a5c9d7e0123456789ab",
    "2024-02-29",
    "2023-02-29",
    "9999-12-31",
    "0000-01-01",
    "2024-13-01",
    "2024-1-1",
    "sk-abcdefghijklmnopqrstuvwxyz0123",
];

pub const CSV: Dictionary = &[
    ",",
    ",,",
    "\"",
    "\"\"",
    "\",\"",
    "\n",
    "\r\n",
    "\r",
    "\n\n",
    ";",
    " ; ",
    " ",
    "\t",
    "user",
    "workspace",
    "archive_owner",
    "archive_folder",
    "hr_group",
    "effective",
    "steps",
    "audit_days",
    "confirm_workspace",
    "ticket",
    "note",
    "User",
    " user ",
    "disable",
    "revoke_keys",
    "reassign",
    "export",
    "archive",
    "audit",
    "disable;reassign",
    "a@example.com",
    "A@Example.COM",
    "keeper@example.com",
    "x@",
    "6d4a8c2e-1f3b-4a5c-9d7e-0123456789ab",
    "{6D4A8C2E-1F3B-4A5C-9D7E-0123456789AB}",
    "2024-02-29",
    "2023-02-29",
    "0",
    "-1",
    "1.5",
    "1e3",
    "0x10",
    "+7",
    "65535",
    "65536",
    "#",
    "=cmd|' /C calc'!A0",
    "sk-abcdefghijklmnopqrstuvwxyz0123",
];

pub const JSON: Dictionary = &[
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    "\"",
    "\\\"",
    "\\u0000",
    "\\ud800",
    "\\udc00\\ud800",
    "\\uD83D\\uDE00",
    "\\n",
    "null",
    "true",
    "false",
    "0",
    "-0",
    "1e999",
    "-1e999",
    "1.5e-400",
    "18446744073709551615",
    "18446744073709551616",
    "-9223372036854775809",
    "1.0",
    "\"response\":",
    "\"response\": null",
    "\"response\": []",
    "\"response\": {}",
    "\"status\": 1",
    "\"status\": 0",
    "\"status\": 1.0",
    "\"statusCode\": 400",
    "\"total\": ",
    "\"count\": ",
    "\"error\": {\"message\": ",
    "\"message\": null",
    "\"message\": \"\"",
    "\"message\": \"  \"",
    "\"errors\": {\"a\": [\"b\"]}",
    "\"errors\": []",
    "\"errors\": {\"a\": \"b\"}",
    "\"id\": ",
    "\"displayName\": \"&lt;&#x110000;&#;&amp\"",
    "\"status\": 2",
    "\"isCompleted\": true",
    "\"finished\": true",
    "\"error\": \"\"",
    "\"Operation\": 0",
    "\"folders\": [",
    "\"files\": [",
    "\"access\": ",
    "\"sharedTo\": {",
    "\"createdBy\": {\"id\": \"u\"}",
    "\"rootFolderType\": 14",
    "\"roomType\": 5",
    "\"security\": {\"Read\": true}",
    "\"permissions\": ",
    "\"isOwner\": true",
    "<html>",
    "</html>",
    "<!DOCTYPE html>",
    "\u{feff}",
    // The manifest fields, for JSON manifests.
    "\"version\": 1",
    "\"leavers\": [",
    "\"leavers_csv\": \"rows.csv\"",
    "\"defaults\": {",
    "\"user\": \"a@example.com\"",
    "\"workspace\": 7",
    "\"archive_owner\": \"k@example.com\"",
    "\"steps\": [\"disable\"]",
    "\"hr_group\": null",
    "\"audit_days\": 65536",
];

/// Text that trips up code which counts bytes, characters, lines or cases.
const ODD: &[&[u8]] = &[
    "\u{feff}".as_bytes(),
    "\u{202e}".as_bytes(),
    "\u{0}".as_bytes(),
    "\u{85}".as_bytes(),
    "\u{2028}".as_bytes(),
    "\u{2029}".as_bytes(),
    "e\u{301}".as_bytes(),
    "\u{1d11e}".as_bytes(),
    "\u{1f600}".as_bytes(),
    "\u{fffd}".as_bytes(),
    "\u{130}".as_bytes(), // İ: longer once lowercased
    "ß".as_bytes(),
    "\u{212a}".as_bytes(), // Kelvin sign: lowercases to ASCII k
    "\u{7f}".as_bytes(),
    "\u{9b}".as_bytes(),
    "\u{fffe}".as_bytes(),
    "\u{ffff}".as_bytes(),
    "\u{200b}".as_bytes(),
    "\u{a0}".as_bytes(),
    "\u{3000}".as_bytes(),
    "\t".as_bytes(),
    "\r".as_bytes(),
    "\r\n".as_bytes(),
    b"\xff",
    b"\xc3",
    b"\xed\xa0\x80",
    b"\xc0\xaf",
    b"\xf4\x90\x80\x80",
    b"\xe2\x82",
];

const NUMBERS: &[&str] = &[
    "0",
    "-1",
    "1",
    "65535",
    "65536",
    "4294967296",
    "9223372036854775807",
    "9223372036854775808",
    "18446744073709551615",
    "18446744073709551616",
    "340282366920938463463374607431768211456",
    "1e308",
    "1e309",
    "-1e309",
    "1.0",
    "0.5",
    "-0",
    "00012",
    "0x7fffffff",
    "1_000",
    "99999999999999999999999999999999999999999999999999",
];

/// A mutated copy of `input`: one to eight mutations, never longer than [`MAX_LEN`].
/// `others` are inputs to splice from.
pub fn mutate(rng: &mut Rng, input: &[u8], others: &[&[u8]], dictionary: Dictionary) -> Vec<u8> {
    let mut bytes = input.to_vec();
    let rounds = 1 << rng.u32(..4);
    for _ in 0..rounds {
        once(rng, &mut bytes, others, dictionary);
        if bytes.len() > MAX_LEN {
            bytes.truncate(MAX_LEN);
        }
    }
    bytes
}

fn once(rng: &mut Rng, bytes: &mut Vec<u8>, others: &[&[u8]], dictionary: Dictionary) {
    let len = bytes.len();
    let at = |rng: &mut Rng| rng.usize(..=len);
    match rng.u8(..20) {
        0 if len > 0 => {
            let i = rng.usize(..len);
            bytes[i] ^= 1 << rng.u8(..8);
        }
        1 if len > 0 => {
            let i = rng.usize(..len);
            bytes[i] = *rng
                .choice(b"\0\xff\n\r\t \"',:-#&*![]{}|>;\\@.0")
                .expect("not empty");
        }
        2 | 3 => {
            let token = rng.choice(dictionary).expect("not empty").as_bytes();
            let i = if rng.bool() {
                line_start(rng, bytes)
            } else {
                at(rng)
            };
            bytes.splice(i..i, token.iter().copied());
        }
        4 => {
            let i = at(rng);
            let n = rng.usize(1..=8);
            let random: Vec<u8> = (0..n).map(|_| rng.u8(..)).collect();
            bytes.splice(i..i, random);
        }
        5 if len > 0 => {
            let start = rng.usize(..len);
            let end = (start + size(rng, len.div_ceil(4))).min(len);
            bytes.drain(start..end);
        }
        6 if len > 0 => {
            // Copy a range somewhere else.
            let start = rng.usize(..len);
            let end = (start + size(rng, 64.min(len - start))).min(len);
            let chunk = bytes[start..end].to_vec();
            let i = at(rng);
            bytes.splice(i..i, chunk);
        }
        7 | 8 => lines(rng, bytes),
        9 | 10 if !others.is_empty() => {
            let other = others[rng.usize(..others.len())];
            if other.is_empty() {
                return;
            }
            let from = rng.usize(..other.len());
            let to = (from + rng.usize(1..=256)).min(other.len());
            if rng.bool() && len > 0 {
                // Crossover: this input's head, the other's tail.
                let cut = rng.usize(..len);
                bytes.truncate(cut);
                bytes.extend_from_slice(&other[from..]);
            } else {
                let i = at(rng);
                bytes.splice(i..i, other[from..to].iter().copied());
            }
        }
        11 => {
            let number = rng.choice(NUMBERS).expect("not empty").as_bytes();
            match digits(rng, bytes) {
                Some((start, end)) => {
                    bytes.splice(start..end, number.iter().copied());
                }
                None => {
                    let i = at(rng);
                    bytes.splice(i..i, number.iter().copied());
                }
            }
        }
        12 => nest(rng, bytes),
        13 | 14 => {
            let odd = rng.choice(ODD).expect("not empty");
            let i = at(rng);
            bytes.splice(i..i, odd.iter().copied());
        }
        15 if len > 0 => bytes.truncate(rng.usize(..len)),
        16 if len > 0 => {
            // Swap the case of a run of letters (keys are case-sensitive, emails not).
            let start = rng.usize(..len);
            let end = (start + rng.usize(1..=16)).min(len);
            for b in &mut bytes[start..end] {
                if b.is_ascii_alphabetic() {
                    *b ^= 0x20;
                }
            }
        }
        17 if len > 0 => {
            // Grow: repeat a chunk many times.
            let start = rng.usize(..len);
            let end = (start + rng.usize(1..=128.min(len - start))).min(len);
            let chunk = bytes[start..end].to_vec();
            let times = rng.usize(2..=(MAX_LEN / chunk.len()).clamp(2, 2000));
            let i = at(rng);
            let grown: Vec<u8> = chunk
                .iter()
                .copied()
                .cycle()
                .take(chunk.len() * times)
                .collect();
            bytes.splice(i..i, grown);
        }
        18 if len > 0 => {
            // Quotes: turn one kind into another, or drop one.
            let quotes: Vec<usize> = (0..len)
                .filter(|&i| matches!(bytes[i], b'"' | b'\''))
                .collect();
            if let Some(&i) = quotes.get(rng.usize(..quotes.len().max(1))) {
                match rng.u8(..3) {
                    0 => bytes[i] = if bytes[i] == b'"' { b'\'' } else { b'"' },
                    1 => {
                        bytes.remove(i);
                    }
                    _ => bytes.insert(i, bytes[i]),
                }
            }
        }
        19 if len > 0 && !bytes.starts_with(b"\xEF\xBB\xBF") => {
            bytes.splice(0..0, *b"\xEF\xBB\xBF");
        }
        _ => {
            let i = at(rng);
            bytes.insert(i, b'\n');
        }
    }
}

/// A length of 1 to `max`, mostly short: one character often matters most.
fn size(rng: &mut Rng, max: usize) -> usize {
    let max = max.max(1);
    match rng.u8(..4) {
        0 => rng.usize(1..=max),
        1 => rng.usize(1..=max.min(8)),
        _ => 1,
    }
}

/// The start of a random line (or 0).
fn line_start(rng: &mut Rng, bytes: &[u8]) -> usize {
    let starts: Vec<usize> = std::iter::once(0)
        .chain(
            bytes
                .iter()
                .enumerate()
                .filter(|(_, b)| **b == b'\n')
                .map(|(i, _)| i + 1),
        )
        .collect();
    starts[rng.usize(..starts.len())]
}

/// Line edits: duplicate, delete, swap, or change a line's indentation.
fn lines(rng: &mut Rng, bytes: &mut Vec<u8>) {
    let mut lines: Vec<Vec<u8>> = bytes.split(|b| *b == b'\n').map(<[u8]>::to_vec).collect();
    let n = lines.len();
    let i = rng.usize(..n);
    match rng.u8(..5) {
        0 => {
            let copy = lines[i].clone();
            let times = if rng.u8(..8) == 0 {
                rng.usize(2..200)
            } else {
                1
            };
            for _ in 0..times {
                lines.insert(i, copy.clone());
            }
        }
        1 if n > 1 => {
            lines.remove(i);
        }
        2 => {
            let j = rng.usize(..n);
            lines.swap(i, j);
        }
        3 => {
            let indent: &[u8] = rng
                .choice([&b" "[..], b"  ", b"    ", b"\t", b"- "])
                .expect("not empty");
            lines[i].splice(0..0, indent.iter().copied());
        }
        _ => {
            let spaces = lines[i].iter().take_while(|b| **b == b' ').count();
            let drop = rng.usize(..=spaces);
            lines[i].drain(..drop);
        }
    }
    *bytes = lines.join(&b'\n');
}

/// A random run of ASCII digits, as a byte range.
fn digits(rng: &mut Rng, bytes: &[u8]) -> Option<(usize, usize)> {
    let starts: Vec<usize> = (0..bytes.len())
        .filter(|&i| bytes[i].is_ascii_digit() && (i == 0 || !bytes[i - 1].is_ascii_digit()))
        .collect();
    let &start = starts.get(rng.usize(..starts.len().max(1)))?;
    let end = start
        + bytes[start..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
    Some((start, end))
}

/// Deep nesting: flow sequences or mappings, JSON arrays, or indented block lists,
/// sometimes deeper than the parsers' limits.
fn nest(rng: &mut Rng, bytes: &mut Vec<u8>) {
    let depth = if rng.bool() {
        rng.usize(1..70)
    } else {
        rng.usize(60..400)
    };
    let i = rng.usize(..=bytes.len());
    let inner: Vec<u8> = match rng.u8(..4) {
        0 => [b"[".repeat(depth), b"1".to_vec(), b"]".repeat(depth)].concat(),
        1 => [b"{a: ".repeat(depth), b"1".to_vec(), b"}".repeat(depth)].concat(),
        2 => [b"{\"a\": ".repeat(depth), b"1".to_vec(), b"}".repeat(depth)].concat(),
        _ => {
            let mut text = Vec::new();
            for level in 0..depth.min(200) {
                text.push(b'\n');
                text.extend(std::iter::repeat_n(b' ', level * 2));
                text.extend_from_slice(b"- ");
            }
            text.push(b'x');
            text
        }
    };
    bytes.splice(i..i, inner);
}
