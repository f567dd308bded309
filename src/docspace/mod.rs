//! The DocSpace API client: typed calls for the endpoints the offboarding flow uses,
//! the envelope decoded, every failure classified into one [`ApiError`].
//!
//! No retries and no sleeping here (that is the executor's job), and never trust in
//! the envelope's `count`: lists are paged with `count=100` and `startIndex`.

mod client;
mod envelope;
mod error;
mod files;
mod history;
pub mod model;
mod people;

pub use client::{Client, Connection, ConnectionError, PAGE, install_crypto_provider, portal_url};
pub use envelope::{Envelope, decode};
pub use error::{ApiError, TransportKind};
pub use history::HistoryFilter;
pub use people::PeopleFilter;
