//! The form service: receives the site's form posts, keeps each one in SQLite before
//! answering, and emails staff through a durable outbox.
//!
//! `cli` and `cmd` are the command line; `http` is the axum app; `validate` checks a post
//! against the form's declaration in `site.yaml`; `store` owns the database; `members` is the
//! loyalty programme; `links` the emailed links every area uses; `origin` which web origins are ours; `staff` who staff are
//! and their sessions; `address` when two email addresses are the same; `backup` copies and restores the data folder; `retention` purges what is past `retention_days`, by command and on a schedule; `outbox` composes and delivers mail; `phone` how a `tel:` link dials a number; `metrics` serves `/metrics`; `server` runs the app with the timeouts hyper offers.

// The workspace denies unsafe code; only the generator binary sets one allocator
// option through FFI. Nothing here may.
#![forbid(unsafe_code)]

pub mod address;
pub mod backup;
pub mod cli;
pub mod clock;
pub mod cmd;
pub mod comments;
pub mod error;
pub mod http;
pub mod id;
pub mod links;
pub mod members;
pub mod metrics;
pub mod origin;
pub mod outbox;
pub mod phone;
pub mod private;
pub mod retention;
pub mod server;
pub mod service;
pub mod settings;
pub mod staff;
pub mod store;
pub mod validate;

pub use clock::Clock;
pub use error::{Error, Refusal};
pub use error::{Mail as MailError, Publish as PublishError, Setting as SettingError};
pub use error::{Storage as StorageError, Usage as UsageError};
pub use service::{Service, ServiceOptions};
pub use settings::Settings;
