//! Exit codes, in one place (the README lists them too).

use std::process::ExitCode;

/// Every leaver done, or the manifest is valid.
pub const SUCCESS: u8 = 0;
/// `apply`: some leavers failed. `plan --detailed-exitcode`: an error.
pub const FAILED: u8 = 1;
/// Invalid manifest or usage (clap's usage errors use 2 as well).
pub const INVALID: u8 = 2;
/// Portal unreachable, key unauthorized, or the pre-flight check failed.
pub const PORTAL: u8 = 3;
/// `apply`: the confirmation was declined; nothing was changed.
pub const DECLINED: u8 = 4;
/// Interrupted (Ctrl-C): 128 + SIGINT, as shells report it.
pub const INTERRUPTED: u8 = 130;
/// Stopped by SIGTERM (what CI runners send on cancel): 128 + SIGTERM.
pub const TERMINATED: u8 = 143;

pub fn code(value: u8) -> ExitCode {
    ExitCode::from(value)
}
