//! The site's content: every Markdown file under `content/` read into a checked
//! [`Page`], and every other file there noted as an asset to copy beside its page.
//!
//! Reading is two steps: front matter first (so every page's URL is known), then
//! Markdown, whose relative links are resolved against those URLs.

mod duration;
mod front_matter;
mod load;
mod page;
mod paths;
mod price;
mod reload;

pub use duration::Duration;
pub use front_matter::{Extra, GalleryItem, Sessions};
pub use load::{is_ignored, load_content, normalise_alias, Content};
pub use page::{Faq, LocatedLink, Page, PageKind, ServiceFacts};
pub use paths::resolve_from_url;
pub use price::{Amount, Price};
pub use reload::reload_page;
