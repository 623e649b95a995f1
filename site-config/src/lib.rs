//! The site's shared vocabulary, read by both the generator and the form service.
//!
//! `site.yaml` ([`SiteConfig`]), the form declarations inside it ([`FormDecl`]), the
//! list of services taken from `content/services/` ([`ServiceRef`]) and the front
//! matter they are read from ([`split_front_matter`]), the HTML for a form
//! ([`render_form`]) and the escaping both programs write HTML with ([`escape_html`]),
//! the published comments file ([`CommentsFile`]) and the [`Diagnostic`] that reports
//! a mistake with its file, line and column. Neither program depends on the other;
//! both depend on this.

// The workspace denies unsafe code; only the generator binary sets one allocator
// option through FFI. Nothing here may.
#![forbid(unsafe_code)]

mod backup;
mod business;
mod checked;
mod comments;
mod config;
mod diagnostic;
mod error;
mod form_html;
mod form_service;
mod forms;
mod front_matter;
mod html;
mod locate;
mod loyalty;
mod moderation;
mod service_check;
mod services;
mod slug;
mod staff;
mod yaml;

pub use backup::BackupConfig;
pub use business::{Address, Business, OpeningHours};
pub use checked::{Currency, WEEKDAYS};
pub use comments::{line_of_comment_id, ClinicReply, CommentsFile, PublishedComment};
pub use config::{origin_of, MenuItem, SiteConfig};
pub use diagnostic::{line_col, Diagnostic, Diagnostics};
pub use error::Error;
pub use form_html::{
    error_summary, offered, render_form, FormState, MAX_SERVICE_CHOICES_ON_A_SERVICE_PAGE,
};
pub use form_service::{FormServiceConfig, RateLimit};
pub use forms::{Choice, FieldKind, FormDecl, FormField, FormKind, RequiredWhen};
pub use front_matter::{split_front_matter, FrontMatterSplit};
pub use html::{escape_html, unescape_html};
pub use locate::{locate_key, locate_value};
pub use loyalty::{LoyaltyConfig, Reward};
pub use moderation::CommentsConfig;
pub use services::{discover_services, ServiceRef};
pub use slug::slugify;
pub use staff::{StaffConfig, MAX_STAFF_SESSION_DAYS};
pub use yaml::{from_yaml_located, from_yaml_located_all, suggest, ReadAll};
