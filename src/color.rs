//! Whether text for people is coloured: the one place that decides it (`--color`,
//! then the conventions of `NO_COLOR`, `CLICOLOR_FORCE` and `TERM=dumb`, then
//! whether the stream is a terminal), and the few colours the output uses.
//!
//! Only text meant to be read on a terminal is ever coloured (the plan's table, the
//! diagnostics' snippets): never JSON, GitHub workflow commands or report files.

use std::ffi::OsString;
use std::io::IsTerminal;
use std::sync::atomic::{AtomicU8, Ordering};

/// `--color`: when to colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ColorChoice {
    /// On a terminal, unless NO_COLOR is set or TERM=dumb (CLICOLOR_FORCE forces it).
    #[default]
    Auto,
    /// Always, even into a pipe or a file.
    Always,
    /// Never.
    Never,
}

static CHOICE: AtomicU8 = AtomicU8::new(ColorChoice::Auto as u8);

/// Sets the choice for this process (`--color`).
pub fn set(choice: ColorChoice) {
    CHOICE.store(choice as u8, Ordering::Relaxed);
}

fn choice() -> ColorChoice {
    match CHOICE.load(Ordering::Relaxed) {
        x if x == ColorChoice::Always as u8 => ColorChoice::Always,
        x if x == ColorChoice::Never as u8 => ColorChoice::Never,
        _ => ColorChoice::Auto,
    }
}

/// The rule, given the environment (`var`) and whether the stream is a terminal:
/// `--color never` and `--color always` win; under `auto`, a non-empty `NO_COLOR`
/// turns colour off, a `CLICOLOR_FORCE` other than `0` turns it on, `TERM=dumb`
/// turns it off, and otherwise a terminal has colour and anything else none.
pub fn decide(choice: ColorChoice, var: impl Fn(&str) -> Option<OsString>, terminal: bool) -> bool {
    let set = |name: &str| var(name).filter(|v| !v.is_empty());
    match choice {
        ColorChoice::Never => false,
        ColorChoice::Always => true,
        ColorChoice::Auto if set("NO_COLOR").is_some() => false,
        ColorChoice::Auto if set("CLICOLOR_FORCE").is_some_and(|v| v != "0") => true,
        ColorChoice::Auto if var("TERM").is_some_and(|v| v == "dumb") => false,
        ColorChoice::Auto => terminal,
    }
}

fn for_stream(terminal: bool) -> bool {
    decide(choice(), |name| std::env::var_os(name), terminal)
}

/// Whether what goes to stdout is coloured.
pub fn stdout() -> bool {
    for_stream(std::io::stdout().is_terminal())
}

/// Whether what goes to stderr is coloured.
pub fn stderr() -> bool {
    for_stream(std::io::stderr().is_terminal())
}

/// The colours the output uses (SGR codes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Paint {
    Red,
    Green,
    Yellow,
    Cyan,
}

impl Paint {
    fn code(self) -> &'static str {
        match self {
            Paint::Red => "\x1b[31m",
            Paint::Green => "\x1b[32m",
            Paint::Yellow => "\x1b[33m",
            Paint::Cyan => "\x1b[36m",
        }
    }
}

/// `text` in `colour`, reset after it. Text from inputs is escaped (`crate::text`)
/// before it is painted, so these are the only escape sequences that reach a person.
pub fn paint(text: &str, colour: Paint) -> String {
    format!("{}{text}\x1b[0m", colour.code())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(vars: &[(&str, &str)], choice: ColorChoice, terminal: bool) -> bool {
        decide(
            choice,
            |name| {
                vars.iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, v)| OsString::from(v))
            },
            terminal,
        )
    }

    #[test]
    fn the_flag_wins_over_the_environment() {
        let env = [("NO_COLOR", "1"), ("TERM", "dumb")];
        assert!(with(&env, ColorChoice::Always, false));
        assert!(!with(&[("CLICOLOR_FORCE", "1")], ColorChoice::Never, true));
    }

    #[test]
    fn auto_follows_the_conventions_then_the_terminal() {
        use ColorChoice::Auto;
        assert!(with(&[], Auto, true));
        assert!(!with(&[], Auto, false));
        assert!(!with(&[("NO_COLOR", "1")], Auto, true));
        assert!(
            with(&[("NO_COLOR", "")], Auto, true),
            "empty NO_COLOR is unset"
        );
        let both = [("NO_COLOR", "1"), ("CLICOLOR_FORCE", "1")];
        assert!(!with(&both, Auto, true), "NO_COLOR first");
        assert!(with(&[("CLICOLOR_FORCE", "1")], Auto, false));
        assert!(!with(&[("CLICOLOR_FORCE", "0")], Auto, false));
        assert!(!with(&[("CLICOLOR_FORCE", "")], Auto, false));
        assert!(!with(&[("TERM", "dumb")], Auto, true));
        assert!(with(&[("TERM", "xterm-256color")], Auto, true));
        let forced_dumb = [("TERM", "dumb"), ("CLICOLOR_FORCE", "1")];
        assert!(
            with(&forced_dumb, Auto, false),
            "CLICOLOR_FORCE before TERM"
        );
    }
}
