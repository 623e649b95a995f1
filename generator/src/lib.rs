//! The clinic site generator: Markdown content and a Tera theme in, a static site for
//! any CDN out. `main.rs` parses the command line; everything it runs lives here so
//! tests can build sites the way the binary does.

// The workspace denies unsafe code; only the generator binary sets one allocator
// option through FFI. Nothing here may.
#![forbid(unsafe_code)]

pub mod check;
pub mod cli;
pub mod cmd;
pub mod content;
mod error;
pub mod file_stamp;
pub mod images;
pub mod links;
pub mod markdown;
pub mod output;
pub mod schema;
pub mod serve;
pub mod site;
pub mod templates;
pub mod timing;
pub mod urls;

pub use error::{Error, OutputRefusal, ServeStep};
