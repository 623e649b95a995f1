//! `form_service.staff:` in `site.yaml`: who may sign in as staff on the form service
//! (by an emailed link, like members) and how long a staff sign-in lasts on a device.
//! Staff links in emails (moderation, rewards) act only in a browser signed in this way.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::forms::line_of;
use crate::Diagnostic;

/// Longest staff session allowed: a lost laptop should not stay signed in for years.
pub const MAX_STAFF_SESSION_DAYS: u32 = 365;

/// Staff sign-in settings; every field has a default.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct StaffConfig {
    /// The addresses that may sign in as staff (default: `form_service.staff_email`).
    #[serde(default)]
    pub addresses: Vec<String>,
    /// Days a staff sign-in lasts on the device it was made on.
    #[serde(default = "default_session_days")]
    pub session_days: u32,
    /// Minutes a staff sign-in link works.
    #[serde(default = "default_link_minutes")]
    pub sign_in_link_minutes: u32,
}

fn default_session_days() -> u32 {
    14
}
fn default_link_minutes() -> u32 {
    15
}

impl Default for StaffConfig {
    fn default() -> Self {
        serde_yaml::from_str("{}").expect("an empty staff section has defaults")
    }
}

/// True for something shaped like one plain address (`name@host`): one `@`, both sides
/// non-empty, no spaces, angle brackets or commas.
pub(crate) fn plain_address(a: &str) -> bool {
    let a = a.trim();
    match a.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.is_empty()
                && !domain.contains('@')
                && !a
                    .chars()
                    .any(|c| c.is_whitespace() || c.is_control() || "<>,;".contains(c))
        }
        None => false,
    }
}

impl StaffConfig {
    /// Mistakes serde cannot see; `src` is the file's text, used to find lines.
    pub(crate) fn check(&self, path: &Path, src: &str) -> Vec<Diagnostic> {
        let here = |needle: &str, msg: String| {
            Diagnostic::new(path, msg).at_line(line_of(src, needle).unwrap_or(1))
        };
        let mut out = Vec::new();
        if self.session_days == 0 || self.session_days > MAX_STAFF_SESSION_DAYS {
            out.push(here(
                "session_days",
                format!(
                    "form_service.staff.session_days must be between 1 and {MAX_STAFF_SESSION_DAYS}"
                ),
            ));
        }
        if self.sign_in_link_minutes == 0 || self.sign_in_link_minutes > 24 * 60 {
            out.push(here(
                "sign_in_link_minutes",
                "form_service.staff.sign_in_link_minutes must be between 1 and 1440".into(),
            ));
        }
        for a in &self.addresses {
            if !plain_address(a) {
                out.push(here(
                    a,
                    format!("form_service.staff.addresses: `{a}` is not a plain email address (name@host)"),
                ));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use crate::SiteConfig;

    const BASE: &str = "title: T\nbase_url: https://a.example\ndescription: d\ncurrency: GBP\n\
        business: {name: N, email: a@a.example, phone: '1', address: {street: s, locality: l, postal_code: p, country: GB}}\n";

    #[test]
    fn staff_settings_default_and_are_checked_with_their_line() {
        let c = SiteConfig::parse(BASE, "site.yaml".as_ref()).unwrap();
        assert_eq!(c.form_service.staff.session_days, 14);
        assert!(c.form_service.staff.addresses.is_empty());
        let src = format!(
            "{BASE}form_service:\n  staff:\n    addresses: [ok@clinic.example, 'not an address']\n    session_days: 0\n"
        );
        let err = SiteConfig::parse(&src, "site.yaml".as_ref())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("site.yaml:9:") && err.contains("session_days must be between 1 and 365"),
            "{err}"
        );
        assert!(
            err.contains("site.yaml:8:") && err.contains("`not an address` is not a plain email"),
            "{err}"
        );
        let src = format!("{BASE}form_service:\n  staff:\n    sesion_days: 3\n");
        let err = SiteConfig::parse(&src, "site.yaml".as_ref())
            .unwrap_err()
            .to_string();
        assert!(err.contains("session_days"), "{err}");
    }
}
