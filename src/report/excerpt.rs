//! The part of a source file a diagnostic's snippet shows, as miette reads it.
//!
//! Given the file itself, miette prints every line a label touches in full (and
//! reads the file from its start for each label): one 100 MB line became a 450 MB
//! snippet and more than a gigabyte of memory. An [`Excerpt`] copies only the lines
//! around the labels, each cut to [`WIDTH`] characters around the place it points at
//! (`…` where it was cut), with control characters escaped (`crate::text`) and
//! key-shaped values hidden, and answers miette with the file's own line and column
//! numbers.

use miette::{MietteError, MietteSpanContents, SourceCode, SourceSpan, SpanContents};

use crate::manifest::SourceFile;
use crate::manifest::diagnostic::Span;

/// Characters of a line a snippet shows at most; a longer line is cut around the
/// place a label points at.
pub const WIDTH: usize = 120;
/// Characters shown before that place when a line is cut.
const LEAD: usize = 40;
/// A label over more lines than this is shown on its first line only.
const MAX_LABEL_LINES: usize = 8;
/// Labels whose context lines are at most this many lines apart share one snippet
/// (the lines between them shown too); farther apart, each has its own.
const MAX_GAP: usize = 2;
const ELLIPSIS: &str = "…";

/// The lines around a diagnostic's labels, shortened, with their places in the file.
pub struct Excerpt {
    name: String,
    text: String,
    lines: Vec<Shown>,
    /// Where each label starts: in the excerpt, and its 0-based line and character
    /// column in the file.
    starts: Vec<(usize, usize, usize)>,
}

/// One line of the file, as far as it is shown.
struct Shown {
    /// 0-based line in the file.
    line: usize,
    /// Lines of one block are consecutive in the file and shown as one snippet.
    block: usize,
    /// In the excerpt: where the line starts, where its shown text ends (before the
    /// line's `\n`), and where the next line starts.
    start: usize,
    text_end: usize,
    end: usize,
    /// In the file: the bytes shown (`from..to`), and where the line's text ends.
    from: usize,
    to: usize,
    file_text_end: usize,
    /// The file's 0-based character column of byte `from`.
    column: usize,
    /// Each shown character (or hidden key): its byte in the file and in the excerpt.
    chars: Vec<(usize, usize)>,
}

impl Shown {
    /// Where byte `offset` of the file (on this line) is in the excerpt.
    fn map(&self, offset: usize) -> usize {
        if offset < self.from {
            self.start
        } else if offset <= self.to {
            let i = self.chars.partition_point(|&(file, _)| file < offset);
            self.chars.get(i).map_or(
                if self.to < self.file_text_end {
                    self.text_end - ELLIPSIS.len()
                } else {
                    self.text_end
                },
                |&(_, at)| at,
            )
        } else if offset <= self.file_text_end {
            self.text_end
        } else {
            (self.text_end + (offset - self.file_text_end)).min(self.end)
        }
    }

    /// Whether byte `offset` of the file (on this line) is in the shown part.
    fn shows(&self, offset: usize) -> bool {
        self.from <= offset && (offset <= self.to || self.to == self.file_text_end)
    }
}

impl Excerpt {
    /// An excerpt of `source` for labels at `spans`, the first being the primary one
    /// (a cut line is cut around it). Each label's span in the excerpt comes back
    /// with it, `None` for one that cannot be shown (on the primary label's line, but
    /// too far from it).
    pub fn new(source: &SourceFile, spans: &[Span]) -> (Self, Vec<Option<SourceSpan>>) {
        let text = source.text.as_str();
        let last_line = source.line_count() - 1;
        // Each label: its start and end in the file, and its first and last line.
        let labels: Vec<(usize, usize, usize, usize)> = spans
            .iter()
            .map(|span| {
                let start = span.offset.min(text.len());
                let mut end = (span.offset + span.len).min(text.len());
                let first = source.line_index(start);
                let mut last = if end > start {
                    source.line_index(end - 1)
                } else {
                    first
                };
                if last - first > MAX_LABEL_LINES {
                    last = first;
                    end = source.line_bounds(first).1.max(start);
                }
                (start, end, first, last)
            })
            .collect();
        // Blocks of lines: each label's lines with one line around, joined when near.
        let mut ranges: Vec<(usize, usize)> = labels
            .iter()
            .map(|&(_, _, first, last)| (first.saturating_sub(1), (last + 1).min(last_line)))
            .collect();
        ranges.sort_unstable();
        let mut blocks: Vec<(usize, usize)> = Vec::new();
        for (first, last) in ranges {
            match blocks.last_mut() {
                Some(block) if first <= block.1 + 1 + MAX_GAP => block.1 = block.1.max(last),
                _ => blocks.push((first, last)),
            }
        }

        let mut excerpt = Excerpt {
            name: crate::text::visible(&source.name).into_owned(),
            text: String::new(),
            lines: Vec::new(),
            starts: Vec::new(),
        };
        for (block, &(first, last)) in blocks.iter().enumerate() {
            for line in first..=last {
                // The primary label's start, or the first label starting here.
                let anchor = labels
                    .iter()
                    .enumerate()
                    .filter(|(_, l)| l.2 == line)
                    .min_by_key(|(i, l)| (*i != 0, l.0))
                    .map(|(_, l)| l.0);
                excerpt.push_line(source, line, block, anchor);
            }
        }

        let find = |line: usize| {
            excerpt
                .lines
                .iter()
                .find(|s| s.line == line)
                .expect("every label's lines are in the excerpt")
        };
        let mut mapped = Vec::with_capacity(labels.len());
        let mut starts = Vec::with_capacity(labels.len());
        for (i, &(start, end, first, last)) in labels.iter().enumerate() {
            let shown = find(first);
            if i > 0 && !shown.shows(start) {
                mapped.push(None);
                continue;
            }
            let at = shown.map(start);
            let until = find(last).map(end).max(at);
            // Counted from the shown part (its column is known): one pass over a
            // long line, not two.
            let column = match text.get(shown.from..start) {
                Some(before) if start >= shown.from => shown.column + before.chars().count(),
                _ => source.place(start).column - 1,
            };
            starts.push((at, first, column));
            mapped.push(Some(SourceSpan::new(at.into(), until - at)));
        }
        excerpt.starts = starts;
        (excerpt, mapped)
    }

    /// Appends line `line` of `source`, cut around byte `anchor` when too long.
    fn push_line(&mut self, source: &SourceFile, line: usize, block: usize, anchor: Option<usize>) {
        let text = source.text.as_str();
        let (line_start, text_end, line_end) = source.line_bounds(line);
        let whole = &text[line_start..text_end];
        let (from, to) = if whole.len() <= WIDTH || whole.chars().nth(WIDTH).is_none() {
            (line_start, text_end)
        } else {
            let anchor = anchor.unwrap_or(line_start).clamp(line_start, text_end);
            let back = |from: usize, n: usize| {
                text[line_start..from]
                    .char_indices()
                    .rev()
                    .take(n)
                    .last()
                    .map_or(from, |(i, _)| line_start + i)
            };
            let mut from = back(anchor, LEAD);
            let mut to = text[from..text_end]
                .char_indices()
                .nth(WIDTH)
                .map_or(text_end, |(i, _)| from + i);
            if to == text_end {
                from = from.min(back(text_end, WIDTH));
                to = text_end;
            }
            (from, to)
        };
        let start = self.text.len();
        if from > line_start {
            self.text.push_str(ELLIPSIS);
        }
        let mut chars = Vec::with_capacity(WIDTH + 1);
        // Runs of letters and digits already looked at: a key among them is hidden.
        let mut run: Option<(std::ops::Range<usize>, bool)> = None;
        for (i, c) in text[from..to].char_indices() {
            let at = from + i;
            if c.is_ascii_alphanumeric() {
                if !run.as_ref().is_some_and(|(r, _)| r.contains(&at)) {
                    run = crate::settings::run_at(text, at);
                }
                if let Some((r, true)) = &run {
                    if at == r.start.max(from) {
                        chars.push((at, self.text.len()));
                        self.text.push_str("***");
                    }
                    continue;
                }
            }
            chars.push((at, self.text.len()));
            crate::text::push_char(&mut self.text, c, true);
        }
        if to < text_end {
            self.text.push_str(ELLIPSIS);
        }
        let shown_end = self.text.len();
        self.text.push_str(&text[text_end..line_end]);
        self.lines.push(Shown {
            line,
            block,
            start,
            text_end: shown_end,
            end: self.text.len(),
            from,
            to,
            file_text_end: text_end,
            column: text[line_start..from].chars().count(),
            chars,
        });
    }

    /// The index of the shown line that holds byte `at` of the excerpt.
    fn line_at(&self, at: usize) -> usize {
        self.lines
            .partition_point(|l| l.start <= at)
            .saturating_sub(1)
    }

    /// The file's 0-based character column of byte `at` of the excerpt.
    fn column_at(&self, at: usize) -> usize {
        if let Some(&(_, _, column)) = self.starts.iter().find(|s| s.0 == at) {
            return column;
        }
        let shown = &self.lines[self.line_at(at)];
        shown.column + shown.chars.partition_point(|&(_, x)| x < at)
    }
}

impl SourceCode for Excerpt {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let offset = span.offset();
        if offset > self.text.len() || self.lines.is_empty() {
            return Err(MietteError::OutOfBounds);
        }
        let first = self.line_at(offset);
        let block = self.lines[first].block;
        let last_byte = (offset + span.len().saturating_sub(1)).min(self.text.len());
        let mut last = self.line_at(last_byte).max(first);
        while self.lines[last].block != block {
            last -= 1;
        }
        let block_start = self.lines.partition_point(|l| l.block < block);
        let block_end = self.lines.partition_point(|l| l.block <= block) - 1;
        let from = first.saturating_sub(context_lines_before).max(block_start);
        let to = (last + context_lines_after).min(block_end);
        let (start, end) = (self.lines[from].start, self.lines[to].end);
        let column = if context_lines_before == 0 {
            self.column_at(offset)
        } else {
            0
        };
        // miette joins two labels' snippets when the first one's lines reach the
        // second's: count the lines to the end of the block, so that labels of one
        // block share a snippet and those of different blocks do not.
        let line_count = self.lines[block_end].line - self.lines[from].line + 1;
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.clone(),
            &self.text.as_bytes()[start..end],
            (start, end - start).into(),
            self.lines[from].line,
            column,
            line_count,
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn excerpt(text: &str, spans: &[Span]) -> (Excerpt, Vec<Option<SourceSpan>>) {
        Excerpt::new(&SourceFile::new("m.yaml", text), spans)
    }

    #[test]
    fn short_lines_are_copied_as_they_are() {
        let text = "a: 1\nb: 2\nc: 3\nd: 4\n";
        let (e, spans) = excerpt(text, &[Span { offset: 8, len: 1 }]);
        assert_eq!(e.text, "a: 1\nb: 2\nc: 3\n");
        assert_eq!(spans, vec![Some(SourceSpan::new(8.into(), 1))]);
        let contents = e.read_span(&SourceSpan::new(8.into(), 1), 0, 0).unwrap();
        assert_eq!((contents.line(), contents.column()), (1, 3));
    }

    #[test]
    fn a_long_line_is_cut_around_the_label_and_keeps_its_column() {
        let long = format!("k: {}X{}\n", "é".repeat(1000), "y".repeat(1000));
        let offset = long.find('X').unwrap();
        let (e, spans) = excerpt(&long, &[Span { offset, len: 1 }]);
        let span = spans[0].unwrap();
        assert_eq!(&e.text[span.offset()..span.offset() + span.len()], "X");
        assert!(
            e.text.starts_with('…') && e.text.ends_with("…\n"),
            "{}",
            e.text
        );
        assert_eq!(e.text.chars().count(), WIDTH + 3);
        let contents = e.read_span(&span, 0, 0).unwrap();
        assert_eq!((contents.line(), contents.column()), (0, 1003));
    }

    #[test]
    fn controls_are_escaped_and_keys_hidden_even_when_cut() {
        let key = format!("sk-{}", "ab12".repeat(16));
        let text = format!("{} {key} z \x1b[2J {}\n", "x".repeat(100), "w".repeat(200));
        let z = text.find(" z").unwrap() + 1;
        let (e, spans) = excerpt(&text, &[Span { offset: z, len: 1 }]);
        assert!(!e.text.contains('\x1b'), "{}", e.text);
        assert!(e.text.contains("\\u{1b}[2J"), "{}", e.text);
        // The window starts inside the key: what is shown of it is hidden.
        assert!(!e.text.contains("ab12"), "{}", e.text);
        let span = spans[0].unwrap();
        assert_eq!(&e.text[span.offset()..span.offset() + 1], "z");
    }

    #[test]
    fn a_second_label_out_of_the_window_is_left_out() {
        let text = format!("{}A{}B\n", "x".repeat(10), "y".repeat(10_000));
        let a = text.find('A').unwrap();
        let b = text.find('B').unwrap();
        let (_, spans) = excerpt(
            &text,
            &[Span { offset: b, len: 1 }, Span { offset: a, len: 1 }],
        );
        assert!(spans[0].is_some());
        assert_eq!(spans[1], None);
    }

    #[test]
    fn far_apart_labels_get_blocks_of_their_own() {
        let text: String = (1..=100).map(|i| format!("line {i}\n")).collect();
        let at = |n: usize| text.find(&format!("line {n}\n")).unwrap();
        let (e, _) = excerpt(
            &text,
            &[
                Span {
                    offset: at(80),
                    len: 4,
                },
                Span {
                    offset: at(3),
                    len: 4,
                },
            ],
        );
        let lines: Vec<usize> = e.lines.iter().map(|l| l.line + 1).collect();
        assert_eq!(lines, vec![2, 3, 4, 79, 80, 81]);
        let contents = e.read_span(&SourceSpan::new(0.into(), 1), 1, 1).unwrap();
        assert_eq!(contents.line() + contents.line_count(), 4);
    }
}
