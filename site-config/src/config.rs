//! `site.yaml`: the site's title, address, business details, theme and forms.
//!
//! Read once into typed values; a value that cannot be right (a base URL without a
//! scheme, a currency that is not three capital letters) is refused here with its
//! line, so later code can trust it.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::checked::{BaseUrl, Currency};
use crate::{Business, Diagnostic, Diagnostics, Error, FormDecl, FormServiceConfig};

/// Everything in `site.yaml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SiteConfig {
    /// The site's name, shown in every page title.
    pub title: String,
    /// The public address, `https://example.com` (no trailing slash once loaded).
    pub base_url: BaseUrl,
    /// One or two sentences about the clinic; the home page's meta description.
    pub description: String,
    /// BCP 47 language tag of the content (`en-GB`).
    #[serde(default = "default_language")]
    pub language: String,
    /// Theme folder under `themes/`.
    #[serde(default = "default_theme")]
    pub theme: String,
    /// Default ISO 4217 currency for prices.
    pub currency: Currency,
    /// The clinic's IANA time zone (`Europe/London`), for times shown to staff.
    #[serde(default = "default_timezone")]
    pub timezone: String,
    /// Main navigation, in order.
    #[serde(default)]
    pub menu: Vec<MenuItem>,
    /// Site path of the clinic's logo (`/logo.svg`, from `static/`): shown in the
    /// header and given as the business's `logo` in structured data.
    #[serde(default)]
    pub logo: Option<String>,
    /// Name, address, phone and hours, shown in the footer and in structured data.
    pub business: Business,
    /// Where the form service runs, and what it needs to know.
    #[serde(default)]
    pub form_service: FormServiceConfig,
    /// Form declarations, by form name (`consultation`).
    #[serde(default)]
    pub forms: BTreeMap<String, FormDecl>,
    /// The loyalty programme, when the clinic runs one.
    #[serde(default)]
    pub loyalty: Option<crate::LoyaltyConfig>,
    /// How members' comments are moderated and published.
    #[serde(default)]
    pub comments: crate::CommentsConfig,
    /// A YAML file, relative to the site root, holding more form declarations.
    #[serde(default)]
    pub forms_file: Option<PathBuf>,
    /// Free values for themes.
    #[serde(default)]
    pub extra: BTreeMap<String, serde_yaml::Value>,
}

fn default_language() -> String {
    "en".into()
}
fn default_theme() -> String {
    "default".into()
}
fn default_timezone() -> String {
    "UTC".into()
}

/// A navigation link.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct MenuItem {
    /// Link text.
    pub title: String,
    /// Site path (`/services/`).
    pub url: String,
}

impl SiteConfig {
    /// Reads `site.yaml` in `root`, and `forms_file` if it names one.
    pub fn load(root: &Path) -> Result<SiteConfig, Error> {
        // Named as the site's other files are, from its root.
        Self::load_shown(&root.join("site.yaml"), Path::new("site.yaml"))
    }

    /// Reads a site configuration file under any name (messages name it as given);
    /// `forms_file` is taken relative to the file's folder, which is the site root.
    pub fn load_file(path: &Path) -> Result<SiteConfig, Error> {
        Self::load_shown(path, path)
    }

    fn load_shown(path: &Path, shown: &Path) -> Result<SiteConfig, Error> {
        let root = path.parent().unwrap_or(Path::new("."));
        let src = fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let mut config = Self::parse(&src, shown)?;
        if let Some(file) = config.forms_file.clone() {
            let full = root.join(&file);
            let forms_src = fs::read_to_string(&full).map_err(|source| Error::Io {
                path: full.clone(),
                source,
            })?;
            let read =
                crate::from_yaml_located_all::<BTreeMap<String, FormDecl>>(&forms_src, &file, 1);
            let mut problems = Diagnostics::default();
            for d in read.problems {
                problems.push(d);
            }
            for (name, decl) in read.value.unwrap_or_default() {
                if config.forms.contains_key(&name) {
                    problems.push(Diagnostic::new(
                        &file,
                        format!("form `{name}` is declared both here and in site.yaml"),
                    ));
                }
                for d in decl.check(&name, &file, &forms_src) {
                    problems.push(d);
                }
                config.forms.insert(name, decl);
            }
            if !problems.is_empty() {
                return Err(Error::Invalid(problems));
            }
        }
        Ok(config)
    }

    /// Parses `site.yaml` text; `path` is only used in messages.
    pub fn parse(src: &str, path: &Path) -> Result<SiteConfig, Error> {
        // Every mistake at once: the keys that cannot be read are set aside and the
        // rest is checked too.
        let read = crate::from_yaml_located_all::<SiteConfig>(src, path, 1);
        let mut unread = Diagnostics::default();
        for d in read.problems {
            unread.push(d);
        }
        let Some(config) = read.value else {
            return Err(Error::Invalid(unread));
        };
        let mut problems = Diagnostics::default();
        for (name, decl) in &config.forms {
            for d in decl.check(name, path, src) {
                problems.push(d);
            }
        }
        if let Some(l) = &config.loyalty {
            for d in l.check(&config.forms, path, src) {
                problems.push(d);
            }
        }
        for d in crate::service_check::check(&config, path, src) {
            problems.push(d);
        }
        if let Some(b) = &config.form_service.backup {
            for (key, message) in b.problems() {
                let mut d = Diagnostic::new(path, message);
                if let Some((l, c)) = crate::locate_key(src, &["form_service", "backup", key])
                    .or_else(|| crate::locate_key(src, &["form_service", "backup"]))
                {
                    d = d.at(l, c);
                }
                problems.push(d);
            }
        }
        for d in config.form_service.staff.check(path, src) {
            problems.push(d);
        }
        for item in &config.menu {
            if !item.url.starts_with('/') {
                problems.push(
                    Diagnostic::new(
                        path,
                        format!(
                            "menu link `{}` must be a site path starting with /",
                            item.url
                        ),
                    )
                    .at_line(crate::forms::line_of(src, &item.url).unwrap_or(1)),
                );
            }
        }
        // A key set aside is named once, for what it holds, not again as missing.
        for d in problems.into_iter() {
            if !d.line.is_some_and(|l| read.set_aside.contains(&l)) {
                unread.push(d);
            }
        }
        if unread.is_empty() {
            Ok(config)
        } else {
            Err(Error::Invalid(unread))
        }
    }

    /// Where a form posts: the form service's address, or the site's own host.
    pub fn form_action(&self, form: &str) -> String {
        format!("{}{FORMS_AREA}{form}", self.form_service_base())
    }

    /// The members' page on the form service, where members sign in.
    pub fn members_url(&self) -> String {
        format!("{}{MEMBERS_AREA}", self.form_service_base())
    }

    /// The form service's address without its last slash; empty when it answers on the
    /// site's own host.
    fn form_service_base(&self) -> &str {
        self.form_service
            .url
            .as_deref()
            .map(|u| u.trim_end_matches('/'))
            .unwrap_or("")
    }

    /// Whether a site path is the form service's rather than a page of the site: the
    /// service's public areas (`/forms/`, `/members/`) when it answers on the site's own
    /// host (no `form_service.url`). A menu may link there.
    pub fn served_by_form_service(&self, path: &str) -> bool {
        self.form_service.url.is_none()
            && [FORMS_AREA, MEMBERS_AREA]
                .iter()
                .any(|area| path.starts_with(area) || path == area.trim_end_matches('/'))
    }

    /// The site's origin (`https://example.com`), which form posts must come from.
    pub fn origin(&self) -> &str {
        let url = self.base_url.as_str();
        // A base URL always has a scheme (`BaseUrl` checks it).
        origin_of(url).unwrap_or(url)
    }
}

/// Where the form service takes the site's forms, and where its members' pages are.
const FORMS_AREA: &str = "/forms/";
const MEMBERS_AREA: &str = "/members/";

/// The origin (`https://forms.example.com`) of an absolute URL: its scheme, host and
/// port; `None` for a URL without a scheme.
pub fn origin_of(url: &str) -> Option<&str> {
    let after = url.find("://")? + 3;
    Some(match url[after..].find(['/', '?', '#']) {
        Some(i) => &url[..after + i],
        None => url,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::RateLimit;

    const MINIMAL: &str = "\
title: Clinic
base_url: https://clinic.example/
description: A clinic.
currency: GBP
business:
  name: Clinic
  email: hello@clinic.example
  phone: 020 0000 0000
  address:
    street: 1 High Street
    locality: London
    postal_code: N1 1AA
    country: GB
  opening_hours:
    - days: [Monday, tuesday]
      opens: '09:00'
      closes: '17:30'
";

    /// The example site's settings with six mistakes of three kinds (an unknown key,
    /// values of the wrong type, values that read but are wrong): one run names all
    /// six, each at its line, and nothing twice.
    #[test]
    fn every_mistake_in_site_yaml_is_named_in_one_run() {
        let example =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../site.yaml")).unwrap();
        let mut src = example.clone();
        for (from, to) in [
            (
                "  url: https://forms.themedicalspa.example",
                "  url: htps//forms.themedicalspa.example",
            ),
            (
                "  staff_email: consultations@themedicalspa.example",
                "  staff_email: consultations-at-themedicalspa",
            ),
            ("  retention_days: 365", "  retention_days: 0"),
            ("  signup_bonus: 50", "  signup_bonus: -5"),
            ("    every_hours: 24", "    every_hour: 24"),
            ("  daily_limit: 5", "  daily_limit: many"),
        ] {
            assert!(src.contains(from), "site.yaml no longer has {from:?}");
            src = src.replacen(from, to, 1);
        }
        let line_of = |text: &str| {
            src.lines()
                .position(|l| l.starts_with(text))
                .map(|i| i + 1)
                .unwrap()
        };
        let Err(Error::Invalid(problems)) = SiteConfig::parse(&src, Path::new("site.yaml")) else {
            panic!("six mistakes and no error");
        };
        let mut lines: Vec<usize> = problems.into_iter().filter_map(|d| d.line).collect();
        lines.sort_unstable();
        let mut want: Vec<usize> = [
            "  url: htps",
            "  staff_email: consultations-at",
            "  retention_days: 0",
            "  signup_bonus: -5",
            "    every_hour: 24",
            "  daily_limit: many",
        ]
        .iter()
        .map(|t| line_of(t))
        .collect();
        want.sort_unstable();
        assert_eq!(lines, want);
        assert!(SiteConfig::parse(&example, Path::new("site.yaml")).is_ok());
    }

    /// A key set aside for its value is not reported again as missing; a YAML syntax
    /// error stops the reading there (nothing after it can be trusted).
    #[test]
    fn a_required_key_with_a_bad_value_is_named_once_and_syntax_stops_the_reading() {
        let src = MINIMAL.replace("title: Clinic", "title: [Clinic, Two]");
        let Err(Error::Invalid(problems)) = SiteConfig::parse(&src, Path::new("site.yaml")) else {
            panic!("a list as the title");
        };
        let all: Vec<_> = problems.into_iter().collect();
        assert_eq!(all.len(), 1, "{all:?}");
        assert_eq!(all[0].line, Some(1));
        let src = format!("{MINIMAL}menu: [a\nlogo: 5\n");
        let Err(Error::Invalid(problems)) = SiteConfig::parse(&src, Path::new("site.yaml")) else {
            panic!("an unclosed list");
        };
        assert_eq!(problems.len(), 1);
    }

    #[test]
    fn minimal_config_loads_with_defaults() {
        let c = SiteConfig::parse(MINIMAL, Path::new("site.yaml")).unwrap();
        assert_eq!(c.base_url.as_str(), "https://clinic.example");
        assert_eq!(c.theme, "default");
        assert_eq!(c.business.opening_hours[0].days[1].as_str(), "Tuesday");
        assert_eq!(c.form_action("consultation"), "/forms/consultation");
        assert_eq!(c.origin(), "https://clinic.example");
    }

    fn first_problem(src: &str) -> Diagnostic {
        SiteConfig::parse(src, Path::new("site.yaml"))
            .unwrap_err()
            .into_diagnostics()
            .0
            .remove(0)
    }

    #[test]
    fn bad_values_name_their_line() {
        let d = first_problem(&MINIMAL.replace("currency: GBP", "currency: pounds"));
        assert_eq!(d.line, Some(4));
        assert!(d.message.contains("ISO 4217"), "{}", d.message);
        let d = first_problem(&MINIMAL.replace("currency: GBP", "currency: GPB"));
        assert_eq!(d.line, Some(4));
        assert!(d.message.contains("check the letters"), "{}", d.message);

        let d = first_problem(&MINIMAL.replace("'17:30'", "'5pm'"));
        assert_eq!(d.line, Some(17));
        assert!(d.message.contains("HH:MM"), "{}", d.message);

        let d = first_problem(&MINIMAL.replace("https://clinic.example/", "clinic.example"));
        assert_eq!(d.line, Some(2));
    }

    /// Setting a key aside never makes mistakes of its own: a misspelt required key is
    /// one problem (not also "missing"), a list at the key's own indent goes with it, an
    /// empty value does not spread to the keys after it, and a key inside a flow
    /// mapping spread over lines ends the reading rather than break the YAML.
    #[test]
    fn setting_a_key_aside_adds_no_mistake_of_its_own() {
        let all = |src: &str| -> Vec<Diagnostic> {
            SiteConfig::parse(src, Path::new("site.yaml"))
                .unwrap_err()
                .into_diagnostics()
                .0
        };
        let ds = all(&MINIMAL.replace("description:", "descripton:"));
        assert_eq!(ds.len(), 1, "{ds:?}");

        let ds = all(&format!(
            "{MINIMAL}menus:\n- {{title: Home, url: /}}\n- {{title: About, url: /about/}}\n"
        ));
        assert_eq!(ds.len(), 1, "{ds:?}");
        assert!(ds[0].message.contains("unknown field `menus`"), "{ds:?}");

        let ds = all(&format!(
            "{MINIMAL}form_service:\n  outbox_retry_hours:\n    hours: 72\n  acknowledge: true\n  dedupe_seconds: 120\n"
        ));
        assert_eq!(ds.len(), 1, "{ds:?}");
        assert_eq!(ds[0].line, Some(20), "{ds:?}");

        let ds = all(&format!(
            "{MINIMAL}form_service:\n  rate_limit: {{per_minute: 6,\n    brust: 1}}\n"
        ));
        assert_eq!(ds.len(), 1, "{ds:?}");
        assert!(ds[0].message.contains("brust"), "{ds:?}");
    }

    #[test]
    fn misspelt_key_gets_a_suggestion() {
        let d = first_problem(&MINIMAL.replace("description:", "descripton:"));
        assert_eq!(d.line, Some(3));
        assert_eq!(d.hint.as_deref(), Some("did you mean `description`?"));
    }

    #[test]
    fn form_service_settings_have_defaults_and_are_checked() {
        let c = SiteConfig::parse(MINIMAL, Path::new("site.yaml")).unwrap();
        let fs = &c.form_service;
        assert_eq!(fs.outbox_retry_hours, 48);
        assert_eq!(fs.rate_limit, RateLimit::default());
        assert!(!fs.acknowledge);
        assert_eq!(fs.dedupe_seconds, 120);

        let src = format!(
            "{MINIMAL}form_service:\n  url: https://forms.clinic.example\n  staff_email: s@clinic.example\n  \
             trusted_proxies: [10.0.0.1]\n  extra_origins: ['http://127.0.0.1:1111']\n  \
             rate_limit: {{per_minute: 0, burst: 1}}\n  outbox_retry_hours: 1\n  acknowledge: true\n"
        );
        let c = SiteConfig::parse(&src, Path::new("site.yaml")).unwrap();
        let fs = &c.form_service;
        assert_eq!(fs.trusted_proxies, ["10.0.0.1"]);
        assert_eq!(fs.extra_origins, ["http://127.0.0.1:1111"]);
        assert_eq!(fs.rate_limit.per_minute, 0);
        assert_eq!(fs.outbox_retry_hours, 1);
        assert!(fs.acknowledge);
        assert_eq!(
            c.form_action("consultation"),
            "https://forms.clinic.example/forms/consultation"
        );

        let d = first_problem(&format!("{MINIMAL}form_service:\n  rate_limt: {{}}\n"));
        assert_eq!(d.line, Some(19), "{d}");
        assert_eq!(d.hint.as_deref(), Some("did you mean `rate_limit`?"));
    }

    #[test]
    fn settings_the_service_would_refuse_are_all_reported_with_their_place() {
        let src = MINIMAL.replace("business:", "timezone: Europe/Londn\nbusiness:")
            + "form_service:\n  url: forms.clinic.example\n  from: Clinic bookings\n  \
               trusted_proxies:\n    - 10.0.0.1\n    - proxy.local\n  \
               rate_limit: {per_minute: 6, burst: 0}\n";
        let all = SiteConfig::parse(&src, Path::new("site.yaml"))
            .unwrap_err()
            .into_diagnostics()
            .0;
        let shown: Vec<String> = all.iter().map(|d| d.to_string()).collect();
        assert_eq!(all.len(), 5, "{shown:#?}");
        let find = |needle: &str| {
            all.iter()
                .find(|d| d.message.contains(needle))
                .unwrap_or_else(|| panic!("no `{needle}` in {shown:#?}"))
        };
        let tz = find("timezone");
        assert_eq!((tz.line, tz.column), (Some(5), Some(11)));
        assert_eq!(tz.hint.as_deref(), Some("did you mean `Europe/London`?"));
        let url = find("form_service.url");
        assert_eq!((url.line, url.column), (Some(20), Some(8)));
        let from = find("form_service.from");
        assert_eq!((from.line, from.column), (Some(21), Some(9)));
        let proxy = find("proxy.local");
        assert_eq!((proxy.line, proxy.column), (Some(24), Some(7)));
        let burst = find("burst");
        assert_eq!((burst.line, burst.column), (Some(25), Some(31)));
    }

    /// The service purges on its own with `retention_days`: a value that would delete a
    /// request before its email is sent is refused at its line.
    #[test]
    fn retention_too_short_for_the_outbox_is_refused_at_its_line() {
        let d = first_problem(&format!("{MINIMAL}form_service:\n  retention_days: 0\n"));
        assert_eq!((d.line, d.column), (Some(19), Some(19)), "{d}");
        assert!(d.message.contains("at least 1"), "{d}");
        let d = first_problem(&format!(
            "{MINIMAL}form_service:\n  outbox_retry_hours: 72\n  retention_days: 2\n"
        ));
        assert_eq!(d.line, Some(20), "{d}");
        assert!(d.message.contains("shorter than outbox_retry_hours"), "{d}");
        let ok = format!("{MINIMAL}form_service:\n  retention_days: 2\n");
        assert!(SiteConfig::parse(&ok, Path::new("site.yaml")).is_ok());
    }

    #[test]
    fn publish_env_names_are_checked_with_their_place() {
        let src = format!("{MINIMAL}comments:\n  publish_env: [DEPLOY_KEY, SMTP_URL, 9lives]\n");
        let all = SiteConfig::parse(&src, Path::new("site.yaml"))
            .unwrap_err()
            .into_diagnostics()
            .0;
        let shown: Vec<String> = all.iter().map(|d| d.to_string()).collect();
        assert_eq!(all.len(), 2, "{shown:#?}");
        assert!(
            all[0]
                .message
                .contains("`SMTP_URL` would hand the mail secrets"),
            "{shown:#?}"
        );
        assert!(
            all[1]
                .message
                .contains("`9lives` is not an environment variable name"),
            "{shown:#?}"
        );
        assert_eq!(all[0].line, all[1].line);
        assert!(all[0].column < all[1].column, "{shown:#?}");
    }

    #[test]
    fn backup_settings_have_defaults_and_are_checked() {
        let src = format!("{MINIMAL}form_service:\n  backup:\n    dir: /var/backups/forms\n");
        let c = SiteConfig::parse(&src, Path::new("site.yaml")).unwrap();
        let b = c.form_service.backup.unwrap();
        assert_eq!((b.every_hours, b.keep_days), (24, 14));
        let d = first_problem(&format!("{src}    keep_days: 0\n"));
        assert_eq!((d.line, d.column), (Some(21), Some(5)), "{d}");
        assert!(d.message.contains("keep_days"), "{d}");
        let d = first_problem(&format!("{src}    keep_dayz: 3\n"));
        assert_eq!(d.hint.as_deref(), Some("did you mean `keep_days`?"));
    }

    #[test]
    fn load_file_reads_any_name() {
        let dir = std::env::temp_dir().join(format!("cfg-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("local.yaml");
        fs::write(&path, MINIMAL).unwrap();
        let c = SiteConfig::load_file(&path).unwrap();
        fs::remove_dir_all(&dir).unwrap();
        assert_eq!(c.title, "Clinic");
    }

    #[test]
    fn origin_drops_any_path() {
        let c = SiteConfig::parse(
            &MINIMAL.replace("https://clinic.example/", "https://clinic.example/spa/"),
            Path::new("site.yaml"),
        )
        .unwrap();
        assert_eq!(c.origin(), "https://clinic.example");
    }

    #[test]
    fn origin_of_urls() {
        assert_eq!(
            origin_of("https://forms.example.com/x"),
            Some("https://forms.example.com")
        );
        assert_eq!(
            origin_of("http://127.0.0.1:3000"),
            Some("http://127.0.0.1:3000")
        );
        assert_eq!(origin_of("/relative"), None);
    }
}
