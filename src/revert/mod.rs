//! `offboard revert`: gives the wrong leaver their access back. The journal of an
//! `apply` run holds what it replaced (`prior` records) and what it left (the
//! archive step's `after`); revert reads the portal now, plans per leaver what comes
//! back, what someone changed since (`drifted`, left alone unless `--force`) and
//! what cannot (deleted API keys, reassigned data), then restores it, journaled in
//! its own run directory and resumable like apply.

mod execute;
mod plan;
mod session;
mod show;
mod source;

pub use session::{Revert, default_run_dir, revert};
