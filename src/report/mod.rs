//! Everything that renders results for people and machines. Only this module
//! formats command output; commands decide where it goes (data to stdout, the rest
//! to stderr).

pub mod diagnostics;
pub mod excerpt;
pub mod markdown;
pub mod plan;
pub mod progress;
pub mod run;
