//! What the commands that talk to a portal set up: the async runtime, and the client
//! with the `--protect` accounts from flags, environment and key file. A problem is
//! printed (`error:` and `hint:`) for the command to exit on.

/// The portal client and the `--protect` accounts of `plan` and `apply`. A problem
/// is printed (`error:` and `hint:`) and comes back as `None`.
pub fn portal_client(
    portal: Option<&str>,
    api_key_file: Option<&std::path::Path>,
    protect: &[String],
) -> Option<(crate::docspace::Client, Vec<crate::manifest::UserRef>)> {
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
    })
    .ok()?;
    if let Some(warning) =
        api_key_file.and_then(|p| crate::settings::key_file_permissions(p).ok().flatten())
    {
        say!("warning: {warning}");
    }
    let client = crate::docspace::Client::new(&connection)
        .map_err(|err| {
            say!("error: {err}");
        })
        .ok()?;
    let mut accounts = Vec::new();
    for value in protect {
        match crate::manifest::UserRef::parse(value.trim()) {
            Some(user) => accounts.push(user),
            None => {
                say!("error: --protect `{value}` is neither an email address nor a user id");
                return None;
            }
        }
    }
    Some((client, accounts))
}

/// The async runtime of a command (multi-threaded when it runs many things at
/// once); a failure is printed.
pub fn runtime(multi_thread: bool) -> Option<tokio::runtime::Runtime> {
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
