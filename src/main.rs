use clap::Parser;

fn main() -> std::process::ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let portal = std::env::var(offboard::settings::URL_VARIABLE).ok();
    if let Some(place) = offboard::settings::misplaced_key(&args, portal.as_deref()) {
        // Never echoed: the value is a secret put where it will be printed.
        eprintln!("error: {place} holds what looks like an API key; nothing was done");
        eprintln!(
            "hint: keys never go on the command line or in DOCSPACE_URL: set DOCSPACE_API_KEY or pass --api-key-file FILE (and consider the key exposed: revoke it)"
        );
        return offboard::exit::code(offboard::exit::INVALID);
    }
    let cli = offboard::cli::Cli::parse_from(args);
    offboard::exit::code(offboard::commands::run(cli))
}
