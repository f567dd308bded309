//! Manifest diagnostics as text: a snippet per problem (miette), a JSON array, or
//! GitHub workflow commands that annotate a pull request's files.
//!
//! The snippet and the workflow commands are read by people: what they quote from
//! the input has its control characters escaped (`crate::text`), and a snippet shows
//! at most [`excerpt::WIDTH`](super::excerpt::WIDTH) characters of a line. JSON keeps
//! the text exact (JSON escapes control characters itself).

use std::fmt::Write as _;
use std::sync::Arc;

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, SourceCode};
use serde::Serialize;

use super::excerpt::Excerpt;
use crate::manifest::{Diagnostic, Severity};
use crate::text::visible;

/// How `offboard validate` prints its findings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DiagnosticFormat {
    /// A source snippet for each problem (to stderr).
    Human,
    /// A JSON array of objects: file, line, column, pointer, severity, code, message
    /// (in a CSV file also row and column_name).
    Json,
    /// GitHub Actions workflow commands (`::error file=…,line=…,col=…::…`; in a CSV
    /// file the message starts with the row and column).
    Github,
}

/// Terminal styling for the human format.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    pub color: bool,
    pub unicode: bool,
    pub width: usize,
}

impl Style {
    /// Plain output of a fixed width: for pipes, files, CI logs and tests.
    pub fn plain() -> Self {
        Self {
            color: false,
            unicode: true,
            width: 100,
        }
    }
}

/// One diagnostic as a snippet with its labels, help and place.
pub fn human(diagnostic: &Diagnostic, style: Style) -> String {
    let theme = match (style.unicode, style.color) {
        (true, true) => GraphicalTheme::unicode(),
        (true, false) => GraphicalTheme::unicode_nocolor(),
        (false, _) => GraphicalTheme::ascii(),
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(style.width)
        .with_links(false)
        .with_context_lines(1);
    let mut out = String::new();
    let report = Renderable::new(diagnostic);
    if handler.render_report(&mut out, &report).is_err() {
        // Rendering into a String cannot fail; keep a plain line just in case.
        out = visible(&format!(
            "{}: {}\n",
            diagnostic.location.source.name, diagnostic.message
        ))
        .into_owned();
    }
    // Snippets quote the input: a key in it (a file that is not a manifest) is hidden.
    crate::settings::hide_keys(&out).into_owned()
}

/// A closing line for one file: `valid: m.yaml (12 leavers)` or `invalid: …`.
pub fn file_summary(name: &str, leavers: Option<usize>, diagnostics: &[Diagnostic]) -> String {
    let errors = diagnostics.iter().filter(|d| d.is_error()).count();
    let warnings = diagnostics.len() - errors;
    let mut counts = Vec::new();
    if let Some(n) = leavers.filter(|_| errors == 0) {
        counts.push(plural(n, "leaver"));
    }
    if errors > 0 {
        counts.push(plural(errors, "error"));
    }
    if warnings > 0 {
        counts.push(plural(warnings, "warning"));
    }
    let verdict = if errors == 0 { "valid" } else { "invalid" };
    format!("{verdict}: {} ({})", visible(name), counts.join(", "))
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

#[derive(Serialize)]
struct JsonDiagnostic<'a> {
    file: &'a str,
    line: Option<usize>,
    column: Option<usize>,
    pointer: &'a str,
    /// In a CSV file: the row as a spreadsheet numbers it (the header is row 1).
    #[serde(skip_serializing_if = "Option::is_none")]
    row: Option<usize>,
    /// In a CSV file, for a place in one cell: the column's name as the header writes it.
    #[serde(skip_serializing_if = "Option::is_none")]
    column_name: Option<&'a str>,
    severity: Severity,
    code: &'a str,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    help: Option<&'a str>,
}

/// All diagnostics as one JSON array (pretty, newline-terminated).
pub fn json<'a>(diagnostics: impl IntoIterator<Item = &'a Diagnostic>) -> String {
    let items: Vec<JsonDiagnostic<'_>> = diagnostics
        .into_iter()
        .map(|d| {
            let place = d.location.place();
            let cell = d.location.cell();
            JsonDiagnostic {
                file: &d.location.source.name,
                line: place.map(|p| p.line),
                column: place.map(|p| p.column),
                pointer: &d.pointer,
                row: cell.map(|c| c.row),
                column_name: cell.and_then(|c| c.column),
                severity: d.severity,
                code: d.code,
                message: &d.message,
                help: d.help.as_deref(),
            }
        })
        .collect();
    let mut text = crate::settings::hide_keys(
        &serde_json::to_string_pretty(&items).expect("diagnostics serialize"),
    )
    .into_owned();
    text.push('\n');
    text
}

/// One GitHub workflow command for a diagnostic.
pub fn github(diagnostic: &Diagnostic) -> String {
    let command = match diagnostic.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    let mut properties = format!(
        "file={}",
        escape_property(&visible(&diagnostic.location.source.name))
    );
    if let Some(place) = diagnostic.location.place() {
        let _ = write!(properties, ",line={},col={}", place.line, place.column);
    }
    let _ = write!(properties, ",title={}", escape_property(diagnostic.code));
    let mut message = match diagnostic.location.cell() {
        Some(cell) => format!("{cell}: {}", diagnostic.message),
        None => diagnostic.message.clone(),
    };
    if let Some(help) = &diagnostic.help {
        let _ = write!(message, "\nhelp: {help}");
    }
    let line = format!(
        "::{command} {properties}::{}\n",
        escape_data(&visible(&message))
    );
    crate::settings::hide_keys(&line).into_owned()
}

fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

/// A [`Diagnostic`] as miette wants it: the text it shows made visible and short
/// (`crate::text`), and an [`Excerpt`] of its file instead of the file.
struct Renderable<'a> {
    diagnostic: &'a Diagnostic,
    message: String,
    source: Option<Excerpt>,
    labels: Vec<LabeledSpan>,
    /// The help text, plus the place of a related note the snippet cannot show (in
    /// another file, or too far along the same line).
    help: Option<String>,
}

impl<'a> Renderable<'a> {
    fn new(diagnostic: &'a Diagnostic) -> Self {
        let source = &diagnostic.location.source;
        let place_of = |related: &crate::manifest::diagnostic::Related| {
            let location = &related.location;
            let mut note = format!("{}: {}", related.label, location.source.name);
            if let Some(p) = location.place() {
                let _ = write!(note, ":{}:{}", p.line, p.column);
            }
            if let Some(cell) = location.cell() {
                let _ = write!(note, " ({cell})");
            }
            note
        };
        let mut notes = Vec::new();
        let mut excerpt = None;
        let mut labels = Vec::new();
        if let Some(span) = diagnostic.location.span {
            let related = diagnostic
                .related
                .as_ref()
                .filter(|r| Arc::ptr_eq(&r.location.source, source))
                .and_then(|r| r.location.span.map(|span| (r, span)));
            let mut spans = vec![span];
            spans.extend(related.map(|(_, span)| span));
            let (shown, mapped) = Excerpt::new(source, &spans);
            if let Some(primary) = mapped[0] {
                labels.push(LabeledSpan::new_primary_with_span(
                    Some(label_for(diagnostic)),
                    primary,
                ));
            }
            if let Some((related, _)) = related {
                match mapped.get(1).copied().flatten() {
                    Some(span) => labels.push(LabeledSpan::new_with_span(
                        Some(visible(&related.label).into_owned()),
                        span,
                    )),
                    None => notes.push(place_of(related)),
                }
            }
            excerpt = Some(shown);
        }
        if let Some(related) = &diagnostic.related
            && !Arc::ptr_eq(&related.location.source, source)
        {
            notes.push(place_of(related));
        }
        let help = diagnostic
            .help
            .iter()
            .cloned()
            .chain(notes)
            .reduce(|help, note| format!("{help}\n{note}"))
            .map(|help| visible(&help).into_owned());
        Self {
            diagnostic,
            message: visible(&diagnostic.message).into_owned(),
            source: excerpt,
            labels,
            help,
        }
    }
}

impl std::fmt::Debug for Renderable<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Renderable").finish_non_exhaustive()
    }
}

impl std::fmt::Display for Renderable<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Renderable<'_> {}

impl miette::Diagnostic for Renderable<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn std::fmt::Display + 'b>> {
        Some(Box::new(self.diagnostic.code))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.diagnostic.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }

    fn help<'b>(&'b self) -> Option<Box<dyn std::fmt::Display + 'b>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn std::fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.source.as_ref().map(|s| s as &dyn SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        self.source.as_ref()?;
        Some(Box::new(self.labels.iter().cloned()))
    }
}

/// The short label under the snippet: the row and column in a CSV file, the field
/// pointer elsewhere, or "here".
fn label_for(diagnostic: &Diagnostic) -> String {
    if let Some(cell) = diagnostic.location.cell() {
        visible(&cell.to_string()).into_owned()
    } else if diagnostic.pointer.is_empty() {
        "here".into()
    } else {
        visible(&crate::text::cut(&diagnostic.pointer, LABEL_CHARS)).into_owned()
    }
}

/// Characters of a pointer shown as a label (a pointer names a key as written).
const LABEL_CHARS: usize = 100;

/// Writes diagnostics as snippets to stderr (`out`), coloured as `crate::color`
/// decides for stderr.
pub fn print(out: &mut impl std::io::Write, diagnostics: &[Diagnostic]) -> std::io::Result<()> {
    let style = Style {
        color: crate::color::stderr(),
        ..Style::plain()
    };
    for diagnostic in diagnostics.iter().take(SHOWN) {
        out.write_all(human(diagnostic, style).as_bytes())?;
        out.write_all(b"\n")?;
    }
    if diagnostics.len() > SHOWN {
        writeln!(
            out,
            "… and {} more problems; `--format json` lists every one",
            diagnostics.len() - SHOWN
        )?;
    }
    Ok(())
}

/// Snippets printed per file: a snippet costs time in the length of its line (its
/// column is counted), and nobody reads thousands of them (`--format json` has them
/// all, at once).
const SHOWN: usize = 100;
