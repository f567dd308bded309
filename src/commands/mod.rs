//! The commands: each reads its inputs, calls the library, and writes its output.

/// `eprintln!` for lines that may quote an input (the manifest, the portal's names and
/// messages, the command line): control characters escaped (`crate::text`).
macro_rules! say {
    ($($arg:tt)*) => {
        eprintln!("{}", $crate::text::visible(&format!($($arg)*)))
    };
}

pub mod apply;
#[cfg(feature = "sim")]
pub mod demo;
pub mod plan;
pub mod report;
pub mod schema;
#[cfg(feature = "sim")]
pub mod sim;
pub mod validate;

use crate::cli::{Cli, Command};

/// Runs a parsed command line and returns the process exit code.
pub fn run(cli: Cli) -> u8 {
    crate::input::set_max_mib(cli.max_input_mib);
    match cli.command {
        Command::Validate(args) => validate::run(&args),
        Command::Plan(args) => plan::run(&args),
        Command::Apply(args) => apply::run(&args),
        Command::Report(args) => report::run(&args),
        Command::Schema(args) => schema::run(&args),
        #[cfg(feature = "sim")]
        Command::Demo(args) => demo::run(&args),
        #[cfg(feature = "sim")]
        Command::Sim(args) => sim::run(&args),
    }
}

/// The portal client and the `--protect` accounts of `plan` and `apply`. A problem
/// is printed (`error:` and `hint:`) and comes back as `Err`.
pub(crate) fn portal_client(
    portal: Option<&str>,
    api_key_file: Option<&std::path::Path>,
    protect: &[String],
) -> Result<(crate::docspace::Client, Vec<crate::manifest::UserRef>), ()> {
    let connection = crate::settings::connection(
        portal,
        api_key_file,
        std::env::var(crate::settings::KEY_VARIABLE).ok(),
    )
    .map_err(|err| {
        say!("error: {err}");
        if let Some(hint) = err.hint() {
            eprintln!("hint: {hint}");
        }
    })?;
    if let Some(warning) =
        api_key_file.and_then(|p| crate::settings::key_file_permissions(p).ok().flatten())
    {
        say!("warning: {warning}");
    }
    let client = crate::docspace::Client::new(&connection).map_err(|err| {
        say!("error: {err}");
    })?;
    let mut accounts = Vec::new();
    for value in protect {
        match crate::manifest::UserRef::parse(value.trim()) {
            Some(user) => accounts.push(user),
            None => {
                say!("error: --protect `{value}` is neither an email address nor a user id");
                return Err(());
            }
        }
    }
    Ok((client, accounts))
}

/// The async runtime of a command (multi-threaded when it runs many things at
/// once); a failure is printed.
pub(crate) fn runtime(multi_thread: bool) -> Option<tokio::runtime::Runtime> {
    let mut builder = if multi_thread {
        tokio::runtime::Builder::new_multi_thread()
    } else {
        tokio::runtime::Builder::new_current_thread()
    };
    match builder.enable_all().build() {
        Ok(runtime) => Some(runtime),
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            None
        }
    }
}
