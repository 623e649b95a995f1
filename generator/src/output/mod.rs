//! The built site as a map from output path to contents, and the ways it leaves the
//! program: written to disk atomically, page by page ([`write`]), or served from memory.

mod assets;
pub mod json_ld;
mod location;
mod minify;
mod seo;
mod spare;
mod write;

use std::collections::BTreeMap;
use std::path::PathBuf;

pub use assets::{collect_static, AssetMap};
pub use location::check_output_dir;
pub use seo::{alias_page, headers_file, redirects_file, robots_txt, sitemap_xml};
pub use spare::{make_spare, Contents};
pub use write::{Committed, Staging, WriteStats};

/// One file of the built site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutputFile {
    /// Generated contents.
    Bytes(Vec<u8>),
    /// A file copied as it is (static files, images beside pages).
    Copy(PathBuf),
}

/// Every file of the site, by path relative to the output folder (`services/smp/index.html`).
pub type Output = BTreeMap<String, OutputFile>;
