//! The site's content: every Markdown file under `content/` read into a checked
//! page, and every other file there noted as an asset to copy beside its page.
//!
//! A page passes through two typed stages: [`ParsedPage`] (read, front matter
//! checked, so every page's URL is known), then [`Page`] (Markdown rendered, relative
//! links resolved against those URLs).

pub mod cache;
mod duration;
pub mod fields;
mod front_matter;
mod load;
mod page;
mod page_rules;
mod paths;
mod price;
mod reload;
mod render;

pub use duration::Duration;
pub(crate) use front_matter::{key_line_in_file, line_mentioning};
pub use front_matter::{Extra, GalleryItem, Sessions};
pub(crate) use load::site_order;
pub use load::{
    is_ignored, load_content, load_content_cached, normalise_alias, Content, Unpublished, Why,
};
pub use page::{
    Faq, LocatedLink, Page, PageKind, PageMeta, ParsedFacts, ParsedFaq, ParsedPage, ServiceFacts,
};
pub use price::{Amount, Price};
pub use reload::reload_page;
pub(crate) use render::RESERVED_IDS;
