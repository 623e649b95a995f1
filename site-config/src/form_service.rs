//! `form_service:` in `site.yaml`: where the forms post to, who gets staff email, how
//! long submissions are kept, which proxies are believed and how often a visitor may
//! post. Every field has a default.

use std::collections::BTreeMap;

use serde::Deserialize;

/// Settings for the form service, and where the site's forms post to.
///
/// Every field has a default, so a site without a `form_service:` section still loads.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FormServiceConfig {
    /// Public address of the form service (`https://forms.example.com`). Without it,
    /// forms post to `/forms/...` on the site's own host.
    #[serde(default)]
    pub url: Option<String>,
    /// The clinic's own sender, `Name <address>`.
    #[serde(default)]
    pub from: Option<String>,
    /// Where staff emails go.
    #[serde(default)]
    pub staff_email: Option<String>,
    /// Days to keep submissions: `form-service serve` deletes older ones itself, at start
    /// and daily (as `form-service purge` does). At least 1, and no shorter than
    /// `outbox_retry_hours`.
    #[serde(default)]
    pub retention_days: Option<u32>,
    /// Origins besides the site's own whose browser posts are accepted
    /// (`http://127.0.0.1:1111` for a local preview).
    #[serde(default)]
    pub extra_origins: Vec<String>,
    /// Addresses of reverse proxies whose `X-Forwarded-For` header is believed.
    #[serde(default)]
    pub trusted_proxies: Vec<String>,
    /// Posts allowed per client address.
    #[serde(default)]
    pub rate_limit: RateLimit,
    /// Hours the outbox keeps retrying an email before marking it failed.
    #[serde(default = "default_outbox_retry_hours")]
    pub outbox_retry_hours: u32,
    /// Whether the visitor gets a short fixed acknowledgement email.
    #[serde(default)]
    pub acknowledge: bool,
    /// Seconds within which the same answers to the same form are stored once.
    #[serde(default = "default_dedupe_seconds")]
    pub dedupe_seconds: u32,
    /// Who may sign in as staff, and for how long (`staff:`).
    #[serde(default)]
    pub staff: crate::StaffConfig,
    /// Further settings that only the form service reads.
    #[serde(default)]
    pub settings: BTreeMap<String, serde_yaml::Value>,
    /// Scheduled backups of the data folder, when wanted.
    #[serde(default)]
    pub backup: Option<crate::BackupConfig>,
}

impl Default for FormServiceConfig {
    fn default() -> Self {
        Self {
            url: None,
            from: None,
            staff_email: None,
            retention_days: None,
            extra_origins: Vec::new(),
            trusted_proxies: Vec::new(),
            rate_limit: RateLimit::default(),
            outbox_retry_hours: default_outbox_retry_hours(),
            acknowledge: false,
            dedupe_seconds: default_dedupe_seconds(),
            staff: crate::StaffConfig::default(),
            settings: BTreeMap::new(),
            backup: None,
        }
    }
}

fn default_outbox_retry_hours() -> u32 {
    48
}
fn default_dedupe_seconds() -> u32 {
    120
}

/// A token bucket per client address: `burst` posts at once, refilled at `per_minute`.
/// `per_minute: 0` turns the limit off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimit {
    /// Posts a minute, sustained.
    pub per_minute: u32,
    /// Posts allowed in a quick run.
    pub burst: u32,
}

impl Default for RateLimit {
    fn default() -> Self {
        // A clinic's visitors share addresses (a household, an office, a mobile
        // carrier, hospital Wi-Fi): thirty posts at once and ten a minute after that
        // serve them all, while a flood is held to ten a minute.
        Self {
            per_minute: 10,
            burst: 30,
        }
    }
}
