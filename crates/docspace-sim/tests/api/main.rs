//! The simulator over real HTTP on loopback: every endpoint the offboarding flow
//! uses, with the documented behaviour of DocSpace 3.7 (`docs/docspace-api.md`),
//! error cases and preconditions included.

mod auth;
mod files;
mod groups;
mod limiter;
mod people;
mod reassign;
mod security;
mod support;
mod user_data;
