//! Places in a CSV file named as a spreadsheet shows them: `row 3, column Workspace`.
//!
//! Rows are counted as a spreadsheet counts them: the first line is row 1 (the
//! header, in a file that starts with it), every line end outside quotes starts the
//! next row (a blank line too: a spreadsheet shows it as an empty row), and a line
//! break inside quotes stays in its cell. So a row is the file's line unless a quoted
//! cell above it spans lines. A column is named as the header writes it.
//!
//! The csv crate does the parsing; [`field_end`] only finds where a field ends, the
//! way the csv crate reads it, to give each cell its place.

use std::sync::OnceLock;

/// What names the places of one CSV file: set by the CSV reader once it knows the
/// delimiter and the header.
#[derive(Debug)]
pub struct Table {
    delimiter: u8,
    /// Where the header row starts.
    header_start: usize,
    /// Each header cell: where its field starts, and its name as written (trimmed,
    /// cut as messages cut what they quote).
    header: Vec<(usize, String)>,
    /// Where each row starts, found on first use (only diagnostics need it).
    rows: OnceLock<Vec<usize>>,
}

/// A place in a CSV file: its row, and its column when it is one cell of a named
/// column (a place of no length stands for the whole row).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cell<'a> {
    /// 1-based, counted as described in the module's documentation.
    pub row: usize,
    /// The column's name as the header writes it.
    pub column: Option<&'a str>,
}

impl std::fmt::Display for Cell<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "row {}", self.row)?;
        match self.column {
            Some(column) => write!(f, ", column {column}"),
            None => Ok(()),
        }
    }
}

impl Table {
    /// `header` holds each header cell's start and name; empty when the header could
    /// not be read (places are then named by row alone).
    pub fn new(delimiter: u8, header_start: usize, header: Vec<(usize, &str)>) -> Self {
        Self {
            delimiter,
            header_start,
            header: header
                .into_iter()
                .map(|(start, name)| (start, crate::text::quoted(name.trim()).into_owned()))
                .collect(),
            rows: OnceLock::new(),
        }
    }

    /// The row and column of the `len` bytes at `offset` of `text` (the file's text).
    pub fn cell(&self, text: &[u8], offset: usize, len: usize) -> Cell<'_> {
        let rows = self.rows.get_or_init(|| row_starts(text, self.delimiter));
        let row = rows.partition_point(|&start| start <= offset);
        let column = if len == 0 {
            None
        } else if rows[row - 1] == self.header_start {
            // The header may be wide (a column per problem): found by search, not scan.
            Some(self.header.partition_point(|&(start, _)| start <= offset))
                .filter(|&after| after > 0)
                .map(|after| after - 1)
        } else {
            self.field_index(text, rows[row - 1], offset)
        };
        Cell {
            row,
            column: column
                .and_then(|i| self.header.get(i))
                .map(|(_, name)| name.as_str()),
        }
    }

    /// Which field of the row starting at `start` holds `offset`.
    fn field_index(&self, text: &[u8], start: usize, offset: usize) -> Option<usize> {
        let mut field = start;
        for index in 0.. {
            let end = field_end(text, field, self.delimiter);
            if offset <= end {
                return Some(index);
            }
            if text.get(end) != Some(&self.delimiter) {
                break;
            }
            field = end + 1;
        }
        None
    }
}

/// Where the field that starts at `start` ends: the offset of the delimiter or line
/// end after it, or the end of the text. As the csv crate reads a field, a quote opens
/// quoting only as its first byte, `""` inside quotes is a quote, and after the closing
/// quote the field goes on unquoted.
pub fn field_end(text: &[u8], start: usize, delimiter: u8) -> usize {
    let mut quoted = text.get(start) == Some(&b'"');
    let mut pos = start + usize::from(quoted);
    while let Some(&byte) = text.get(pos) {
        if quoted {
            if byte == b'"' {
                if text.get(pos + 1) == Some(&b'"') {
                    pos += 1;
                } else {
                    quoted = false;
                }
            }
        } else if byte == delimiter || byte == b'\n' || byte == b'\r' {
            return pos;
        }
        pos += 1;
    }
    text.len()
}

/// Where each row starts: 0, and after each line end (`\n`, `\r\n` or `\r`) outside
/// quotes.
fn row_starts(text: &[u8], delimiter: u8) -> Vec<usize> {
    let mut starts = vec![0];
    let mut pos = 0;
    while pos < text.len() {
        let end = field_end(text, pos, delimiter);
        match text.get(end) {
            Some(&byte) if byte == delimiter => pos = end + 1,
            Some(&byte) => {
                let crlf = byte == b'\r' && text.get(end + 1) == Some(&b'\n');
                pos = end + 1 + usize::from(crlf);
                starts.push(pos);
            }
            None => break,
        }
    }
    starts
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &[u8] = b"User;Note\r\na;\"two\r\nlines; \"\"quoted\"\"\"\r\n\r\nb;x\rc;\"\n";

    fn table() -> Table {
        Table::new(b';', 0, vec![(0, "User"), (5, " Note ")])
    }

    fn cell_at(needle: &str, len: usize) -> String {
        let offset = TEXT
            .windows(needle.len())
            .position(|w| w == needle.as_bytes())
            .expect("in the text");
        table().cell(TEXT, offset, len).to_string()
    }

    #[test]
    fn rows_count_line_ends_outside_quotes_and_blank_lines() {
        assert_eq!(cell_at("User", 4), "row 1, column User");
        assert_eq!(cell_at("Note", 4), "row 1, column Note");
        assert_eq!(cell_at("a;", 1), "row 2, column User");
        assert_eq!(cell_at("lines", 5), "row 2, column Note");
        // Row 3 is the blank line; `\r` alone ends a row too.
        assert_eq!(cell_at("b;", 1), "row 4, column User");
        assert_eq!(cell_at("x\r", 1), "row 4, column Note");
        assert_eq!(cell_at("c;", 1), "row 5, column User");
        // A place of no length is the row; a field beyond the header has no name.
        assert_eq!(cell_at("b;", 0), "row 4");
        let table = Table::new(b';', 0, vec![(0, "User")]);
        assert_eq!(table.cell(TEXT, 43, 1).to_string(), "row 4");
    }

    #[test]
    fn fields_end_where_the_csv_crate_ends_them() {
        let text = b"\"a;\"\"b\"c;d\n x \"y;z";
        assert_eq!(field_end(text, 0, b';'), 8);
        assert_eq!(field_end(text, 9, b';'), 10);
        // A quote after a blank is text, as the csv crate reads it.
        assert_eq!(field_end(text, 11, b';'), 16);
        // An unclosed quote runs to the end.
        assert_eq!(field_end(b"\"a;b", 0, b';'), 4);
    }
}
