//! What the service needs from `site.yaml` and the command line, as ready-to-use values.
//!
//! `site-config` has already refused, with file and line, every value in `site.yaml`
//! that cannot work (`form-service check` and `generator check` report them all); the
//! conversions here can still fail for command-line overrides, and say which.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use jiff::tz::TimeZone;
use lettre::message::Mailbox;
use site_config::{discover_services, FormDecl, LoyaltyConfig, RateLimit, ServiceRef, SiteConfig};

use crate::error::Setting;
use crate::origin;
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
    /// The site's origin (`scheme://host[:port]`), which its pages load from.
    pub site_origin: String,
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
    /// The first of `staff_addresses`: a staff sign-in email is built for it when the
    /// typed address is not staff's, so that the work is the same.
    pub staff_default: String,
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
        let site_origin = origin::of(&base_url);
        let mut allowed_origins = vec![site_origin.clone()];
        for o in fs.extra_origins.iter().chain(&overrides.extra_origins) {
            let o = checked_url(o)?;
            allowed_origins.push(origin::of(&o));
        }
        let trusted_proxies = fs
            .trusted_proxies
            .iter()
            .map(|p| {
                p.parse::<IpAddr>()
                    .map_err(|_| Error::from(Setting::NotAnIp(p.clone())))
            })
            .collect::<Result<_, _>>()?;
        let tz = jiff::tz::db().get(&site.timezone).map_err(|e| {
            Error::from(Setting::UnknownTimezone {
                name: site.timezone.clone(),
                source: e,
            })
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
        let staff_default = match staff_addresses.first() {
            Some(first) => first.clone(),
            None => {
                staff_addresses.push(staff.email.to_string());
                staff.email.to_string()
            }
        };
        let limit = fs.rate_limit;
        if limit.per_minute > 0 && limit.burst == 0 {
            return Err(Setting::ZeroBurst.into());
        }
        for name in &site.comments.publish_env {
            let ok = !name.is_empty()
                && !name.starts_with(|c: char| c.is_ascii_digit())
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !ok {
                return Err(Setting::NotAVariable(name.clone()).into());
            }
            if name.starts_with("SMTP_") {
                return Err(Setting::SecretVariable(name.clone()).into());
            }
        }
        let public_url = match overrides.public_url.as_ref().or(fs.url.as_ref()) {
            Some(u) => checked_url(u)?,
            None => base_url.clone(),
        };
        // The service's own pages (a 422, a link's button) post back to it. Behind a
        // proxy that rewrites `Host` (nginx's default), the same-host check cannot see
        // that, so its public address is an allowed origin of its own (issue 13, item 19).
        let own = origin::of(&public_url);
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
            site_origin,
            allowed_origins,
            trusted_proxies,
            tz,
            from,
            staff,
            staff_addresses,
            staff_default,
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

    /// Where scheduled backups go (`form_service.backup.dir`, from the site root).
    pub fn backup_dir(&self) -> Option<PathBuf> {
        let b = self.site.form_service.backup.as_ref()?;
        Some(if b.dir.is_absolute() {
            b.dir.clone()
        } else {
            self.root.join(&b.dir)
        })
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

fn parse_mailbox(what: &str, s: &str) -> Result<Mailbox, Error> {
    s.parse::<Mailbox>().map_err(|source| {
        Error::from(Setting::NotAnEmail {
            setting: what.to_string(),
            value: s.to_string(),
            source,
        })
    })
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
        Err(Setting::NotAUrl(u.to_string()).into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
