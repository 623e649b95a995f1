//! What the service needs from `site.yaml` and the command line, checked once at start.
//!
//! A value that cannot work (an unknown time zone, a sender that is not an address, a
//! proxy that is not an IP) stops the service before it accepts any post.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use jiff::tz::TimeZone;
use lettre::message::Mailbox;
use site_config::{discover_services, FormDecl, LoyaltyConfig, RateLimit, ServiceRef, SiteConfig};

use crate::Error;

/// Command-line values that override or add to `site.yaml`.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// The site's public address, as `generator build --base-url` takes it.
    pub base_url: Option<String>,
    /// More origins whose browser posts are accepted.
    pub extra_origins: Vec<String>,
    /// The generated site, whose pages frame error answers (default `dist`).
    pub site_dir: Option<PathBuf>,
    /// The service's own public address, for links in emails (default
    /// `form_service.url`, else the site's address).
    pub public_url: Option<String>,
}

/// The checked settings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The whole site configuration.
    pub site: SiteConfig,
    /// The site root (the config file's folder).
    pub root: PathBuf,
    /// The site's services, for `service` fields.
    pub services: Vec<ServiceRef>,
    /// The site's address without a trailing slash; thank-you pages are under it.
    pub base_url: String,
    /// Origins whose browser posts are accepted: the site's first.
    pub allowed_origins: Vec<String>,
    /// Proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<IpAddr>,
    /// The clinic's time zone.
    pub tz: TimeZone,
    /// The sender of every email.
    pub from: Mailbox,
    /// Where staff emails go.
    pub staff: Mailbox,
    /// The addresses that may sign in as staff (`form_service.staff.addresses`, else
    /// the address staff emails go to), as configured.
    pub staff_addresses: Vec<String>,
    /// The generated site.
    pub site_dir: PathBuf,
    /// How long the outbox retries one email.
    pub retry_for: Duration,
    /// Window in which identical posts are stored once.
    pub dedupe_window: Duration,
    /// Whether visitors get an acknowledgement email.
    pub acknowledge: bool,
    /// Posts per client address.
    pub rate_limit: RateLimit,
    /// The service's public address without a trailing slash; emailed links start here.
    pub public_url: String,
    /// The loyalty programme, when `site.yaml` has one.
    pub loyalty: Option<LoyaltyConfig>,
}

impl Settings {
    /// Reads the config file and the services beside it.
    pub fn load(config: &Path, overrides: Overrides) -> Result<Settings, Error> {
        let site = SiteConfig::load_file(config)?;
        let root = match config.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let services = discover_services(&root)?;
        Self::new(site, root, services, overrides)
    }

    /// Checks an already parsed configuration.
    pub fn new(
        site: SiteConfig,
        root: PathBuf,
        services: Vec<ServiceRef>,
        overrides: Overrides,
    ) -> Result<Settings, Error> {
        let fs = &site.form_service;
        let base_url = match &overrides.base_url {
            Some(u) => checked_url(u)?,
            None => site.base_url.as_str().to_string(),
        };
        let mut allowed_origins = vec![origin_of(&base_url)];
        for o in fs.extra_origins.iter().chain(&overrides.extra_origins) {
            let o = checked_url(o)?;
            allowed_origins.push(origin_of(&o));
        }
        let trusted_proxies = fs
            .trusted_proxies
            .iter()
            .map(|p| {
                p.parse::<IpAddr>().map_err(|_| {
                    Error::Setting(format!(
                        "form_service.trusted_proxies: `{p}` is not an IP address"
                    ))
                })
            })
            .collect::<Result<_, _>>()?;
        let tz = jiff::tz::db().get(&site.timezone).map_err(|e| {
            Error::Setting(format!("timezone `{}` is not known: {e}", site.timezone))
        })?;
        let from_text = fs
            .from
            .clone()
            .unwrap_or_else(|| format!("{} <{}>", site.business.name, site.business.email));
        let from = parse_mailbox("form_service.from", &from_text)?;
        let staff_text = fs
            .staff_email
            .clone()
            .unwrap_or_else(|| site.business.email.clone());
        let staff = parse_mailbox("form_service.staff_email", &staff_text)?;
        let mut staff_addresses = Vec::new();
        for a in &fs.staff.addresses {
            let m = parse_mailbox("form_service.staff.addresses", a)?;
            staff_addresses.push(m.email.to_string());
        }
        if staff_addresses.is_empty() {
            staff_addresses.push(staff.email.to_string());
        }
        for (name, decl) in &site.forms {
            check_form(name, decl)?;
        }
        let limit = fs.rate_limit;
        if limit.per_minute > 0 && limit.burst == 0 {
            return Err(Error::Setting(
                "form_service.rate_limit: burst must be at least 1 (or per_minute 0 to turn the limit off)"
                    .into(),
            ));
        }
        for name in &site.comments.publish_env {
            let ok = !name.is_empty()
                && !name.starts_with(|c: char| c.is_ascii_digit())
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !ok {
                return Err(Error::Setting(format!(
                    "comments.publish_env: `{name}` is not an environment variable name"
                )));
            }
            if name.starts_with("SMTP_") {
                return Err(Error::Setting(format!(
                    "comments.publish_env: `{name}` is the service's mail secret; the publish command must not get it"
                )));
            }
        }
        let public_url = match overrides.public_url.as_ref().or(fs.url.as_ref()) {
            Some(u) => checked_url(u)?,
            None => base_url.clone(),
        };
        // The service's own pages (a 422, a link's button) post back to it. Behind a
        // proxy that rewrites `Host` (nginx's default), the same-host check cannot see
        // that, so its public address is an allowed origin of its own (issue 13, item 19).
        let own = origin_of(&public_url);
        if !allowed_origins.contains(&own) {
            allowed_origins.push(own);
        }
        Ok(Settings {
            public_url,
            loyalty: site.loyalty.clone(),
            retry_for: Duration::from_secs(u64::from(fs.outbox_retry_hours) * 3600),
            dedupe_window: Duration::from_secs(u64::from(fs.dedupe_seconds)),
            acknowledge: fs.acknowledge,
            rate_limit: fs.rate_limit,
            site_dir: overrides
                .site_dir
                .clone()
                .unwrap_or_else(|| PathBuf::from("dist")),
            services,
            base_url,
            allowed_origins,
            trusted_proxies,
            tz,
            from,
            staff,
            staff_addresses,
            root,
            site,
        })
    }

    /// The declaration of `form`, if the site has one.
    pub fn form(&self, form: &str) -> Option<&FormDecl> {
        self.site.forms.get(form)
    }

    /// The loyalty programme's settings (the defaults when it has none).
    pub fn loyalty(&self) -> &LoyaltyConfig {
        static DEFAULT: std::sync::OnceLock<LoyaltyConfig> = std::sync::OnceLock::new();
        self.loyalty
            .as_ref()
            .unwrap_or_else(|| DEFAULT.get_or_init(LoyaltyConfig::default))
    }

    /// Site path of the page with the registration form (`/membership/`).
    pub fn membership_page(&self) -> String {
        self.form(&self.loyalty().form)
            .and_then(|d| d.page.clone())
            .unwrap_or_else(|| "/membership/".into())
    }

    /// Address of a page of the members' area on this service (`members_url("")` is
    /// the member's own page).
    pub fn members_url(&self, path: &str) -> String {
        format!("{}/members/{path}", self.public_url)
    }

    /// Address of a page on this service (`service_url("/staff/")`).
    pub fn service_url(&self, path: &str) -> String {
        format!("{}{path}", self.public_url)
    }

    /// Absolute address of a site path (`/consultation/thank-you/`).
    pub fn site_url(&self, path: &str) -> String {
        format!("{}{}", self.base_url, path)
    }
}

/// Fields the service relies on: a visitor email to reply to, and for a registration
/// form the `name` and `email` it reads.
fn check_form(name: &str, decl: &FormDecl) -> Result<(), Error> {
    use site_config::{FieldKind, FormKind};
    if decl.kind != FormKind::Comment && !decl.fields.iter().any(|f| f.kind == FieldKind::Email) {
        return Err(Error::Setting(format!(
            "form `{name}` has no email field, so staff could not reply"
        )));
    }
    if decl.kind == FormKind::Registration {
        let has = |field: &str, kind: FieldKind| {
            decl.field(field)
                .is_some_and(|f| f.kind == kind && f.required)
        };
        if !has("name", FieldKind::Text) || !has("email", FieldKind::Email) {
            return Err(Error::Setting(format!(
                "registration form `{name}` needs a required text field `name` and a required email field `email`"
            )));
        }
    }
    Ok(())
}

fn parse_mailbox(what: &str, s: &str) -> Result<Mailbox, Error> {
    s.parse::<Mailbox>()
        .map_err(|e| Error::Setting(format!("{what}: `{s}` is not an email address: {e}")))
}

fn checked_url(u: &str) -> Result<String, Error> {
    let t = u.trim().trim_end_matches('/');
    let ok = t
        .strip_prefix("https://")
        .or_else(|| t.strip_prefix("http://"))
        .is_some_and(|rest| !rest.is_empty() && !rest.contains(char::is_whitespace));
    if ok {
        Ok(t.to_string())
    } else {
        Err(Error::Setting(format!(
            "`{u}` is not an http:// or https:// address"
        )))
    }
}

/// `scheme://host[:port]` of an absolute URL, lowercased as browsers send it.
pub fn origin_of(url: &str) -> String {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    let end = url[after_scheme..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |i| after_scheme + i);
    url[..end].to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_drop_paths_and_case() {
        assert_eq!(
            origin_of("https://Clinic.example/spa/"),
            "https://clinic.example"
        );
        assert_eq!(origin_of("http://127.0.0.1:8080"), "http://127.0.0.1:8080");
        assert_eq!(origin_of("http://a.example?x"), "http://a.example");
    }

    #[test]
    fn urls_are_checked() {
        assert_eq!(
            checked_url("http://a.example/").unwrap(),
            "http://a.example"
        );
        assert!(checked_url("a.example").is_err());
        assert!(checked_url("https://").is_err());
    }
}
