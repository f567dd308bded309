//! CSV manifests: a header row naming leaver fields, then one leaver per row.
//!
//! The file is read as spreadsheets write it: cells separated by `,`, or by `;` or a
//! tab (the delimiter is the one that splits the header into known column names), a
//! header that names columns in any case and with blanks around them (`User`,
//! ` WORKSPACE `), a BOM (dropped by `decode`) and CRLF line ends.
//!
//! Each row becomes the same JSON object a YAML leaver would be, so one schema judges
//! both. Cells are typed by their column: ids and `audit_days` become numbers when
//! they look like numbers (and stay text otherwise, for the schema to reject with the
//! value shown), `steps` are split on `;`, and an empty cell is a missing field except
//! for `hr_group`, where it means "no HR group". Every cell keeps its place, so a
//! problem is reported at its line and column, quoted newlines included, and by row
//! and column name (`table.rs`).

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{Map, Value};

use super::diagnostic::{Diagnostic, Location, SourceFile};
use super::schema::{closest, fields_of};
use super::table::{Table, field_end};

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
    let known = fields_of(Some("LeaverEntry"));
    let delimiter = match delimiter(source, &known) {
        Ok(delimiter) => delimiter,
        Err(problem) => {
            diagnostics.push(problem);
            return;
        }
    };
    let mut reader = reader(text, delimiter);

    let mut record = csv::StringRecord::new();
    let header = match reader.read_record(&mut record) {
        Ok(true) => record.clone(),
        Ok(false) => return,
        Err(err) => {
            source.set_table(Table::new(delimiter, 0, Vec::new()));
            diagnostics.push(csv_error(source, &err));
            return;
        }
    };
    let Some(columns) = read_header(source, &header, delimiter, &known, diagnostics) else {
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
        let offsets = field_spans(text, start, record.len(), delimiter);
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

fn reader(text: &[u8], delimiter: u8) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(text)
}

/// The leaver field a header cell names: any case, blanks around it ignored.
fn field(known: &[&'static str], name: &str) -> Option<&'static str> {
    let name = name.trim();
    known.iter().copied().find(|k| k.eq_ignore_ascii_case(name))
}

/// The delimiter of the header row: of `,`, `;` and tab (outside quotes), the one that
/// splits it into the most known column names; `,` when there is none. A header split
/// as well by two of them is one error: read either way, its columns would be wrong,
/// and a diagnostic for each would hide the one thing to fix.
fn delimiter(source: &Arc<SourceFile>, known: &[&'static str]) -> Result<u8, Diagnostic> {
    let text = source.text.as_bytes();
    let mut splits = Vec::new();
    for delimiter in [b',', b';', b'\t'] {
        let mut header = csv::StringRecord::new();
        if matches!(reader(text, delimiter).read_record(&mut header), Ok(true)) && header.len() > 1
        {
            let names = header
                .iter()
                .filter(|name| field(known, name).is_some())
                .count();
            splits.push((delimiter, names));
        }
    }
    let most = splits.iter().map(|&(_, names)| names).max();
    let best: Vec<u8> = splits
        .iter()
        .filter(|&&(_, names)| Some(names) == most)
        .map(|&(delimiter, _)| delimiter)
        .collect();
    match best[..] {
        [] => Ok(b','),
        [delimiter] => Ok(delimiter),
        _ => {
            let start = record_start(text, 0);
            let (_, end, _) = source.line_bounds(source.line_index(start));
            source.set_table(Table::new(best[0], start, Vec::new()));
            let named: Vec<&str> = best.iter().map(|&d| delimiter_name(d)).collect();
            Err(Diagnostic::error(
                "csv-delimiter",
                Location::at(source, start, end.saturating_sub(start)),
                format!(
                    "the header is split by both {}: which one separates the columns cannot be told",
                    named.join(" and ")
                ),
            )
            .with_help("separate the cells of every row with one delimiter: `,`, or `;` as spreadsheets write it in many languages"))
        }
    }
}

fn delimiter_name(delimiter: u8) -> &'static str {
    match delimiter {
        b',' => "`,`",
        b';' => "`;`",
        _ => "tabs",
    }
}

/// Maps header cells to leaver fields, and gives the file its [`Table`]. Unknown
/// columns are reported and ignored; a missing `user` or `workspace` column, or a
/// column named twice (in any case), makes the rows unreadable (`None`).
fn read_header(
    source: &Arc<SourceFile>,
    header: &csv::StringRecord,
    delimiter: u8,
    known: &[&'static str],
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<Vec<Option<&'static str>>> {
    let start = record_start(
        source.text.as_bytes(),
        header.position().map_or(0, |p| p.byte() as usize),
    );
    let offsets = field_spans(source.text.as_bytes(), start, header.len(), delimiter);
    let names = offsets.iter().map(|&(offset, _)| offset).zip(header.iter());
    source.set_table(Table::new(delimiter, start, names.collect()));
    let mut columns = Vec::with_capacity(header.len());
    let mut seen: HashMap<&'static str, usize> = HashMap::new();
    let mut readable = true;
    for (i, name) in header.iter().enumerate() {
        let name = name.trim();
        let (offset, len) = offsets[i];
        let place = Location::at(source, offset, len);
        match field(known, name) {
            Some(field) => {
                if let Some(&first) = seen.get(field) {
                    let (first_offset, first_len) = offsets[first];
                    let first_name = header.get(first).map_or("", str::trim);
                    let mut problem = Diagnostic::error(
                        "duplicate-column",
                        place,
                        format!("column `{field}` appears twice in the header"),
                    )
                    .with_related(Location::at(source, first_offset, first_len), "first here");
                    if first_name != name {
                        problem = problem.with_help(format!(
                            "`{first_name}` and `{name}` name the same column: case does not matter"
                        ));
                    }
                    diagnostics.push(problem);
                    readable = false;
                }
                seen.insert(field, i);
                columns.push(Some(field));
            }
            None => {
                let help = match closest(name, known) {
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
fn field_spans(text: &[u8], start: usize, count: usize, delimiter: u8) -> Vec<(usize, usize)> {
    let mut spans = Vec::with_capacity(count);
    let mut field = start;
    while spans.len() < count {
        let end = field_end(text, field, delimiter);
        spans.push(trimmed(text, field, end));
        if text.get(end) != Some(&delimiter) {
            field = end;
            break;
        }
        field = end + 1;
    }
    // A record the scanner could not split (should not happen) still gets places.
    while spans.len() < count {
        spans.push((field.min(text.len()), 0));
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
        let text = b"a,\"b,\nc\" ,d\nx";
        assert_eq!(field_spans(text, 0, 3, b','), vec![(0, 1), (2, 6), (10, 1)]);
        // A quote after a blank is text (as the csv crate reads it): the comma ends it.
        let text = b"a; \"b;c";
        assert_eq!(field_spans(text, 0, 3, b';'), vec![(0, 1), (3, 2), (6, 1)]);
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
