//! A DocSpace 3.7 portal in one process.
//!
//! Empty for now: the simulator (HTTP server, state, limiter, faults) lands
//! with its own issue. It shares no Rust types with the `offboard` client.
