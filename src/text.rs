//! Text from inputs on its way to a person: manifest values, names and titles read
//! from the portal, and the error messages that quote them. A message quotes at most
//! [`QUOTED`] characters of a value.

use std::borrow::Cow;

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
    fn long_text_is_cut_with_an_ellipsis() {
        assert_eq!(cut("abcdef", 6), "abcdef");
        assert_eq!(cut("abcdefg", 6), "abcdef…");
        assert_eq!(cut("ääääääää", 3), "äää…");
        assert_eq!(cut("", 0), "");
    }
}
