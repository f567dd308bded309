//! End-to-end tests of the real `offboard` binary: exit code, stdout and stderr,
//! snapshotted with insta (`tests/cli/snapshots/`).
//!
//! Review changed snapshots with `INSTA_UPDATE=always cargo test` and `git diff`, or
//! with `cargo insta review` when cargo-insta is installed.

#[cfg(feature = "sim")]
mod apply;
#[cfg(feature = "sim")]
mod client;
#[cfg(feature = "sim")]
mod converge;
#[cfg(feature = "sim")]
mod display;
#[cfg(feature = "sim")]
mod guard;
mod inputs;
mod layering;
#[cfg(feature = "sim")]
mod plan;
mod reach;
#[cfg(feature = "sim")]
mod revert;
#[cfg(feature = "sim")]
mod saved;
mod schema;
#[cfg(feature = "sim")]
mod sim;
mod support;
#[cfg(feature = "sim")]
mod tls;
mod tools;
mod validate;
mod workflows;
