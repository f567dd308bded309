//! Text from inputs on its way to a person: manifest values, names and titles read
//! from the portal, and the error messages that quote them.
//!
//! Such text never reaches a terminal or `report.csv` with its control characters
//! as they are (an escape sequence can recolour, retitle or clear the terminal, a
//! carriage return can overwrite the line it is on, a bidirectional override can
//! reorder what a person reads): the C0 controls (except newline and tab), DEL, the
//! C1 controls U+0080–U+009F and the bidirectional embeddings, overrides and isolates
//! (U+202A–U+202E, U+2066–U+2069) are written as Rust writes them in a string
//! literal: `\u{1b}`, `\r`, `\u{9b}`, `\u{202e}`. JSON output keeps text exact (JSON
//! escapes control characters itself).
//!
//! The human renderers in `report` and the commands' error lines call [`visible`] (or
//! [`one_line`] for a table or CSV cell) where their text leaves the program. A
//! message quotes at most [`QUOTED`] characters of a value.

use std::borrow::Cow;

/// Whether `c` is written escaped; `keep_lines` keeps newline and tab as they are.
fn is_escaped(c: char, keep_lines: bool) -> bool {
    match c {
        '\n' | '\t' => !keep_lines,
        '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => true,
        // Cc: C0, DEL and C1.
        c => c.is_control(),
    }
}

/// Writes `c` as it is, or escaped (see the module's documentation).
pub fn push_char(out: &mut String, c: char, keep_lines: bool) {
    if is_escaped(c, keep_lines) {
        out.extend(c.escape_debug());
    } else {
        out.push(c);
    }
}

fn escape(text: &str, keep_lines: bool) -> Cow<'_, str> {
    if !text.chars().any(|c| is_escaped(c, keep_lines)) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        push_char(&mut out, c, keep_lines);
    }
    Cow::Owned(out)
}

/// `text` for a terminal or a text file: control characters escaped, newlines and
/// tabs kept.
pub fn visible(text: &str) -> Cow<'_, str> {
    escape(text, true)
}

/// One line (a table or CSV cell): newlines and tabs escaped too.
pub fn one_line(text: &str) -> Cow<'_, str> {
    escape(text, false)
}

/// Characters of a value a message quotes (`unknown field `…``): enough to
/// recognise it, never the whole of a huge one.
pub const QUOTED: usize = 60;

/// A value as a message quotes it: at most [`QUOTED`] characters.
pub fn quoted(value: &str) -> Cow<'_, str> {
    cut(value, QUOTED)
}

/// The first `max` characters of `text`, and `…` when there were more (so a message
/// that quotes a value stays short whatever the value).
pub fn cut(text: &str, max: usize) -> Cow<'_, str> {
    match text.char_indices().nth(max) {
        None => Cow::Borrowed(text),
        Some((end, _)) => Cow::Owned(format!("{}…", &text[..end])),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_are_escaped_and_the_rest_kept() {
        assert_eq!(
            visible("plain ünïcode\nnext\tcell"),
            "plain ünïcode\nnext\tcell"
        );
        assert!(matches!(visible("plain"), Cow::Borrowed(_)));
        assert_eq!(
            visible("a\x1b[31mred\x07\r\x08\u{7f}"),
            "a\\u{1b}[31mred\\u{7}\\r\\u{8}\\u{7f}"
        );
        assert_eq!(visible("c1 \u{9b}31m"), "c1 \\u{9b}31m");
        assert_eq!(visible("abc\u{202e}fed"), "abc\\u{202e}fed");
        assert_eq!(visible("\u{2067}x\u{2069}"), "\\u{2067}x\\u{2069}");
        assert_eq!(one_line("a\nb\tc"), "a\\nb\\tc");
    }

    #[test]
    fn long_text_is_cut_with_an_ellipsis() {
        assert_eq!(cut("abcdef", 6), "abcdef");
        assert_eq!(cut("abcdefg", 6), "abcdef…");
        assert_eq!(cut("ääääääää", 3), "äää…");
        assert_eq!(cut("", 0), "");
    }
}
