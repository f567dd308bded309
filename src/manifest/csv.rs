//! CSV manifests: a header row naming leaver fields, then one leaver per row.
//!
//! Each row becomes the same JSON object a YAML leaver would be, so one schema judges
//! both. Cells are typed by their column: ids and `audit_days` become numbers when
//! they look like numbers (and stay text otherwise, for the schema to reject with the
//! value shown), `steps` are split on `;`, and an empty cell is a missing field except
//! for `hr_group`, where it means "no HR group". Every cell keeps its place, so a
//! problem is reported at its line and column, quoted newlines included.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{Map, Value};

use super::diagnostic::{Diagnostic, Location, SourceFile};
use super::schema::{closest, fields_of};

/// One data row, converted.
pub struct Row {
    /// The leaver as a JSON object.
    pub value: Value,
    /// The place of the row.
    pub location: Location,
    /// The place of each field's cell, by field name.
    pub cells: Vec<(&'static str, Location)>,
}

impl Row {
    pub fn cell(&self, field: &str) -> Option<&Location> {
        self.cells
            .iter()
            .find(|(name, _)| *name == field)
            .map(|(_, loc)| loc)
    }
}

/// Reads every row of a CSV manifest, passing each one to `on_row(index, row)`.
/// Problems with the file's shape (header, column counts) go to `diagnostics`.
pub fn parse(
    source: &Arc<SourceFile>,
    diagnostics: &mut Vec<Diagnostic>,
    on_row: &mut dyn FnMut(usize, Row),
) {
    let text = source.text.as_bytes();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text);

    let mut record = csv::StringRecord::new();
    let header = match reader.read_record(&mut record) {
        Ok(true) => record.clone(),
        Ok(false) => return,
        Err(err) => {
            diagnostics.push(csv_error(source, &err));
            return;
        }
    };
    let Some(columns) = read_header(source, &header, diagnostics) else {
        return;
    };

    let mut index = 0;
    loop {
        match reader.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(err) => {
                diagnostics.push(csv_error(source, &err));
                break;
            }
        }
        let start = record_start(text, record.position().map_or(0, |p| p.byte() as usize));
        let offsets = field_spans(text, start, record.len());
        let location = Location::at(source, start, 0);
        if record.len() != header.len() {
            // A trailing all-empty line (`,,,`) is padding, not a leaver.
            if record.iter().all(|cell| cell.trim().is_empty()) {
                continue;
            }
            diagnostics.push(
                Diagnostic::error(
                    "csv-columns",
                    location,
                    format!(
                        "row has {} field{}, but the header names {} column{}",
                        record.len(),
                        if record.len() == 1 { "" } else { "s" },
                        header.len(),
                        if header.len() == 1 { "" } else { "s" },
                    ),
                )
                .with_pointer(format!("/leavers/{index}")),
            );
            index += 1;
            continue;
        }
        let mut object = Map::new();
        let mut cells = Vec::with_capacity(columns.len());
        for (i, cell) in record.iter().enumerate() {
            let Some(field) = columns[i] else { continue };
            let (offset, len) = offsets[i];
            cells.push((field, Location::at(source, offset, len)));
            if let Some(value) = cell_value(field, cell.trim()) {
                object.insert(field.to_owned(), value);
            }
        }
        on_row(
            index,
            Row {
                value: Value::Object(object),
                location,
                cells,
            },
        );
        index += 1;
    }
}

/// Maps header cells to leaver fields. Unknown columns are reported and ignored; a
/// missing `user` or `workspace` column, or a column named twice, makes the rows
/// unreadable (`None`).
fn read_header(
    source: &Arc<SourceFile>,
    header: &csv::StringRecord,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<Vec<Option<&'static str>>> {
    let known = fields_of(Some("LeaverEntry"));
    let start = record_start(
        source.text.as_bytes(),
        header.position().map_or(0, |p| p.byte() as usize),
    );
    let offsets = field_spans(source.text.as_bytes(), start, header.len());
    let mut columns = Vec::with_capacity(header.len());
    let mut seen: HashMap<&'static str, usize> = HashMap::new();
    let mut readable = true;
    for (i, name) in header.iter().enumerate() {
        let name = name.trim();
        let (offset, len) = offsets[i];
        let place = Location::at(source, offset, len);
        match known.iter().find(|k| **k == name) {
            Some(&field) => {
                if let Some(&first) = seen.get(field) {
                    let (first_offset, first_len) = offsets[first];
                    diagnostics.push(
                        Diagnostic::error(
                            "duplicate-column",
                            place,
                            format!("column `{field}` appears twice in the header"),
                        )
                        .with_related(Location::at(source, first_offset, first_len), "first here"),
                    );
                    readable = false;
                }
                seen.insert(field, i);
                columns.push(Some(field));
            }
            None => {
                let help = match closest(name, &known) {
                    Some(near) => format!("did you mean `{near}`?"),
                    None => format!("columns are: {}", known.join(", ")),
                };
                diagnostics.push(
                    Diagnostic::error(
                        "unknown-field",
                        place,
                        format!("unknown column `{}`", crate::text::quoted(name)),
                    )
                    .with_help(help),
                );
                columns.push(None);
            }
        }
    }
    for required in ["user", "workspace"] {
        if !seen.contains_key(required) {
            diagnostics.push(
                Diagnostic::error(
                    "missing-field",
                    Location::at(source, start, 0),
                    format!("the header has no `{required}` column"),
                )
                .with_help(format!("the first row must name the columns, such as `user,workspace,archive_owner`; known columns are: {}", known.join(", "))),
            );
            readable = false;
        }
    }
    readable.then_some(columns)
}

/// The JSON value of a cell of column `field`; `None` for a missing field.
fn cell_value(field: &str, cell: &str) -> Option<Value> {
    match field {
        "hr_group" if cell.is_empty() => Some(Value::Null),
        _ if cell.is_empty() => None,
        "workspace" | "archive_folder" | "audit_days" => Some(
            cell.parse::<i64>()
                .map(Value::from)
                .unwrap_or_else(|_| Value::from(cell)),
        ),
        "steps" => Some(Value::Array(
            cell.split(';')
                .map(str::trim)
                .filter(|step| !step.is_empty())
                .map(Value::from)
                .collect(),
        )),
        _ => Some(Value::from(cell)),
    }
}

/// Where a record really starts: the reader's position can still be on the previous
/// line's terminator (the `\n` of a CRLF) or on blank lines it skipped.
fn record_start(text: &[u8], mut position: usize) -> usize {
    while position < text.len() && matches!(text[position], b'\r' | b'\n') {
        position += 1;
    }
    position
}

/// The byte offset and length of each of `count` fields of the record starting at
/// `start`, quotes included and surrounding blanks excluded.
fn field_spans(text: &[u8], start: usize, count: usize) -> Vec<(usize, usize)> {
    let mut spans = Vec::with_capacity(count);
    let mut pos = start;
    let mut field_start = start;
    let mut quoted = false;
    loop {
        let at_end = pos >= text.len();
        let byte = if at_end { b'\n' } else { text[pos] };
        match byte {
            b'"' => quoted = !quoted,
            b',' | b'\n' | b'\r' if !quoted || at_end => {
                spans.push(trimmed(text, field_start, pos));
                if byte != b',' || spans.len() >= count {
                    break;
                }
                field_start = pos + 1;
            }
            _ => {}
        }
        pos += 1;
    }
    // A record the scanner could not split (should not happen) still gets places.
    while spans.len() < count {
        spans.push((pos.min(text.len()), 0));
    }
    spans
}

fn trimmed(text: &[u8], mut start: usize, mut end: usize) -> (usize, usize) {
    while start < end && matches!(text[start], b' ' | b'\t') {
        start += 1;
    }
    while end > start && matches!(text[end - 1], b' ' | b'\t') {
        end -= 1;
    }
    (start, end - start)
}

fn csv_error(source: &Arc<SourceFile>, err: &csv::Error) -> Diagnostic {
    let offset = err
        .position()
        .map_or(source.text.len(), |p| p.byte() as usize);
    Diagnostic::error(
        "csv-syntax",
        Location::at(source, offset, 0),
        format!("unreadable CSV: {err}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_skip_quotes_commas_and_newlines_inside_quotes() {
        let text = b"a, \"b,\nc\" ,d\nx";
        assert_eq!(field_spans(text, 0, 3), vec![(0, 1), (3, 6), (11, 1)]);
    }

    #[test]
    fn records_start_after_line_ends_and_blank_lines() {
        let text = b"a,b\r\n\r\n\nx,y";
        assert_eq!(record_start(text, 4), 8);
        assert_eq!(record_start(text, 8), 8);
    }

    #[test]
    fn cells_are_typed_by_column() {
        assert_eq!(cell_value("workspace", "42"), Some(Value::from(42)));
        assert_eq!(cell_value("workspace", "4x"), Some(Value::from("4x")));
        assert_eq!(cell_value("hr_group", ""), Some(Value::Null));
        assert_eq!(cell_value("note", ""), None);
        assert_eq!(
            cell_value("steps", "disable; audit;"),
            Some(serde_json::json!(["disable", "audit"]))
        );
    }
}
