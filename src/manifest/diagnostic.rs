//! Diagnostics: one problem found in a manifest, with the source text it points into.
//!
//! Every check (syntax, schema, cross-row) produces [`Diagnostic`]s. A diagnostic
//! always names a file; when the problem has a place it also carries the byte span,
//! the 1-based line and column (in characters) and the JSON pointer of the field
//! (`/leavers/3/user`), so the renderers in `report::diagnostics` can print it as a
//! snippet, as JSON or as a GitHub workflow command. A place in a CSV file is also
//! named by row and column ([`Location::cell`]).

use std::sync::{Arc, OnceLock};

use super::table::{Cell, Table};

/// How bad a problem is. Errors make the manifest invalid; warnings do not.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// The text of one input file, kept so diagnostics can show a snippet of it.
#[derive(Debug)]
pub struct SourceFile {
    /// The path as the user wrote it (or as derived from the manifest's `leavers_csv`).
    pub name: String,
    /// The decoded text (BOM removed). Empty when the file could not be read or decoded.
    pub text: String,
    line_starts: Vec<usize>,
    /// Rows and columns, for a file read as CSV.
    table: OnceLock<Table>,
}

impl SourceFile {
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Arc<Self> {
        let text = text.into();
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Arc::new(Self {
            name: name.into(),
            text,
            line_starts,
            table: OnceLock::new(),
        })
    }

    /// Makes places in this file nameable by row and column: set once, by the CSV
    /// reader.
    pub fn set_table(&self, table: Table) {
        // A file is read as CSV once; a second table would name the same places.
        let _ = self.table.set(table);
    }

    /// The place of a byte offset: 1-based line and 1-based column counted in characters.
    pub fn place(&self, offset: usize) -> Place {
        let offset = offset.min(self.text.len());
        let line = self.line_index(offset);
        let start = self.line_starts[line];
        let column = self
            .text
            .get(start..offset)
            .map_or(1, |s| s.chars().count() + 1);
        Place {
            line: line + 1,
            column,
        }
    }

    /// How many lines the text has (the text after its last newline is one, even
    /// when empty).
    pub fn line_count(&self) -> usize {
        self.line_starts.len()
    }

    /// The 0-based line that holds byte `offset` (clamped to the text).
    pub fn line_index(&self, offset: usize) -> usize {
        let offset = offset.min(self.text.len());
        self.line_starts.partition_point(|&start| start <= offset) - 1
    }

    /// The bytes of 0-based line `index`: where it starts, where its text ends (before
    /// `\n` or `\r\n`) and where the next line starts.
    pub fn line_bounds(&self, index: usize) -> (usize, usize, usize) {
        let start = self.line_starts[index];
        let end = self
            .line_starts
            .get(index + 1)
            .copied()
            .unwrap_or(self.text.len());
        let bytes = self.text.as_bytes();
        let mut text_end = end;
        if text_end > start && bytes[text_end - 1] == b'\n' {
            text_end -= 1;
            if text_end > start && bytes[text_end - 1] == b'\r' {
                text_end -= 1;
            }
        }
        (start, text_end, end)
    }

    /// The byte offset of a 1-based line and character column (clamped to the text).
    pub fn offset_of(&self, line: usize, column: usize) -> usize {
        let Some(&start) = self.line_starts.get(line.saturating_sub(1)) else {
            return self.text.len();
        };
        let rest = &self.text[start..];
        let in_line = rest
            .char_indices()
            .nth(column.saturating_sub(1))
            .map_or(rest.len(), |(i, _)| i);
        start + in_line
    }

    /// The byte span of `len` bytes at `offset`, clamped to the text and to char boundaries.
    pub fn span(&self, offset: usize, len: usize) -> Span {
        let mut start = offset.min(self.text.len());
        while !self.text.is_char_boundary(start) {
            start -= 1;
        }
        let mut end = start.saturating_add(len).min(self.text.len());
        while !self.text.is_char_boundary(end) {
            end += 1;
        }
        Span {
            offset: start,
            len: end - start,
        }
    }
}

/// 1-based line and column (characters).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Place {
    pub line: usize,
    pub column: usize,
}

/// A byte range in a [`SourceFile`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    pub offset: usize,
    pub len: usize,
}

/// Where a diagnostic points: a file, and optionally a span in it.
#[derive(Clone, Debug)]
pub struct Location {
    pub source: Arc<SourceFile>,
    pub span: Option<Span>,
}

impl Location {
    /// The whole file, with no particular place in it.
    pub fn file(source: &Arc<SourceFile>) -> Self {
        Self {
            source: Arc::clone(source),
            span: None,
        }
    }

    pub fn at(source: &Arc<SourceFile>, offset: usize, len: usize) -> Self {
        Self {
            span: Some(source.span(offset, len)),
            source: Arc::clone(source),
        }
    }

    pub fn place(&self) -> Option<Place> {
        self.span.map(|span| self.source.place(span.offset))
    }

    /// The row and column of a place in a CSV file (`row 3, column Workspace`); `None`
    /// in any other file, or with no place.
    pub fn cell(&self) -> Option<Cell<'_>> {
        let span = self.span?;
        let table = self.source.table.get()?;
        Some(table.cell(self.source.text.as_bytes(), span.offset, span.len))
    }
}

/// A secondary place shown with a diagnostic ("first listed here").
#[derive(Clone, Debug)]
pub struct Related {
    pub location: Location,
    pub label: String,
}

/// One problem in a manifest.
#[derive(Clone, Debug)]
pub struct Diagnostic {
    pub severity: Severity,
    /// A stable kebab-case identifier of the check, such as `duplicate-user`.
    pub code: &'static str,
    pub message: String,
    pub location: Location,
    /// JSON pointer of the offending value (`/leavers/3/user`); empty for the whole file.
    pub pointer: String,
    pub help: Option<String>,
    pub related: Option<Related>,
}

/// Characters a diagnostic's message or help keeps at most. Messages cut the values
/// they quote ([`crate::text::quoted`]); this bounds any message that still grows
/// with its input (the JSON and GitHub formats print messages whole).
pub const MAX_MESSAGE: usize = 1000;

fn bounded(text: String) -> String {
    match crate::text::cut(&text, MAX_MESSAGE) {
        std::borrow::Cow::Borrowed(_) => text,
        std::borrow::Cow::Owned(cut) => cut,
    }
}

impl Diagnostic {
    pub fn error(code: &'static str, location: Location, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Error,
            code,
            message: bounded(message.into()),
            location,
            pointer: String::new(),
            help: None,
            related: None,
        }
    }

    pub fn warning(code: &'static str, location: Location, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Warning,
            ..Self::error(code, location, message)
        }
    }

    pub fn with_pointer(mut self, pointer: impl Into<String>) -> Self {
        self.pointer = pointer.into();
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(bounded(help.into()));
        self
    }

    pub fn with_related(mut self, location: Location, label: impl Into<String>) -> Self {
        self.related = Some(Related {
            location,
            label: label.into(),
        });
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// Escapes one JSON-pointer token (RFC 6901).
pub fn pointer_token(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_count_characters_not_bytes() {
        let source = SourceFile::new("m.yaml", "a: 1\nnäme: x\n");
        assert_eq!(source.place(0), Place { line: 1, column: 1 });
        assert_eq!(source.place(5), Place { line: 2, column: 1 });
        // "x" is after "näme: " (7 bytes, 6 characters).
        assert_eq!(source.place(12), Place { line: 2, column: 7 });
        assert_eq!(source.place(1000), Place { line: 3, column: 1 });
    }

    #[test]
    fn spans_snap_to_char_boundaries() {
        let source = SourceFile::new("m.yaml", "ä");
        assert_eq!(source.span(1, 0), Span { offset: 0, len: 0 });
        assert_eq!(source.span(0, 1), Span { offset: 0, len: 2 });
    }
}
