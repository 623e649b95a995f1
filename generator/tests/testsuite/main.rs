//! The generator's integration tests: the real binary run on fixture sites.
//!
//! Each module covers one feature. [`SiteTest`] copies a fixture from
//! `tests/fixtures/` (plus the repository's default theme) into a temporary folder,
//! lets a test change files, and runs the binary there.

mod browser;
mod build;
mod cdn;
mod check;
mod comments;
mod editors;
mod errors;
mod example_site;
mod incremental;
mod new;
mod photo_files;
mod photos;
mod prices;
mod serve;
mod serve_http;
mod site_test;
