//! The loyalty programme's settings (`loyalty:` in `site.yaml`): points for joining and
//! for referrals, how long emailed links live, and the rewards points buy. The generator
//! lists the rewards on the membership page; the form service runs the programme.

use std::collections::BTreeSet;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::forms::line_of;
use crate::Diagnostic;

/// `loyalty:` in `site.yaml`. Every number has a default, so `loyalty: {}` is a
/// working programme with no rewards yet.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LoyaltyConfig {
    /// The registration form's name in `forms:`.
    #[serde(default = "default_form")]
    pub form: String,
    /// Points credited when a member confirms their email address.
    #[serde(default = "default_signup_bonus")]
    pub signup_bonus: u32,
    /// Points a member earns when a friend who used their code confirms.
    #[serde(default = "default_referral_reward")]
    pub referral_reward: u32,
    /// Credit referral rewards at once instead of waiting for staff to confirm the
    /// friend's first paid treatment.
    #[serde(default)]
    pub referral_auto_confirm: bool,
    /// Most referral rewards one member can earn in 30 days (0: no limit).
    #[serde(default = "default_referral_cap")]
    pub referral_monthly_cap: u32,
    /// Hours a confirmation link works.
    #[serde(default = "default_confirm_hours")]
    pub confirm_link_hours: u32,
    /// Minutes a sign-in link works.
    #[serde(default = "default_sign_in_minutes")]
    pub sign_in_link_minutes: u32,
    /// Days a link in a staff email works.
    #[serde(default = "default_staff_days")]
    pub staff_link_days: u32,
    /// Days a member stays signed in.
    #[serde(default = "default_session_days")]
    pub session_days: u32,
    /// Emails (registration or sign-in links) one address can be sent per hour.
    #[serde(default = "default_emails_per_hour")]
    pub emails_per_address_per_hour: u32,
    /// Site path of the programme's terms, linked from the consent box.
    #[serde(default = "default_terms")]
    pub terms_url: String,
    /// What points buy, cheapest first on the page.
    #[serde(default)]
    pub rewards: Vec<Reward>,
}

/// One reward a member can ask for.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Reward {
    /// Stable name used in posts and the ledger: lowercase letters, digits and `-`.
    pub id: String,
    /// What the member gets (`£10 off any treatment`).
    pub title: String,
    /// Points it costs.
    pub points: u32,
    /// A line more, if needed.
    #[serde(default)]
    pub description: Option<String>,
}

fn default_form() -> String {
    "membership".into()
}
fn default_signup_bonus() -> u32 {
    50
}
fn default_referral_reward() -> u32 {
    100
}
fn default_referral_cap() -> u32 {
    10
}
fn default_confirm_hours() -> u32 {
    48
}
fn default_sign_in_minutes() -> u32 {
    15
}
fn default_staff_days() -> u32 {
    7
}
fn default_session_days() -> u32 {
    30
}
fn default_emails_per_hour() -> u32 {
    5
}
fn default_terms() -> String {
    "/membership/".into()
}

impl Default for LoyaltyConfig {
    fn default() -> Self {
        // Every field has a serde default; this is the one place they are spelt out.
        serde_yaml::from_str("{}").expect("an empty loyalty section has defaults")
    }
}

impl LoyaltyConfig {
    /// The reward called `id`.
    pub fn reward(&self, id: &str) -> Option<&Reward> {
        self.rewards.iter().find(|r| r.id == id)
    }

    /// Mistakes serde cannot see; `src` is the file's text, used to find lines.
    pub(crate) fn check(
        &self,
        forms: &std::collections::BTreeMap<String, crate::FormDecl>,
        path: &Path,
        src: &str,
    ) -> Vec<Diagnostic> {
        let here = |needle: &str, msg: String| {
            Diagnostic::new(path, msg).at_line(line_of(src, needle).unwrap_or(1))
        };
        let mut out = Vec::new();
        match forms.get(&self.form) {
            None => out.push(here(
                "loyalty:",
                format!(
                    "loyalty: the registration form `{}` is not declared under forms:",
                    self.form
                ),
            )),
            Some(decl) if decl.kind != crate::FormKind::Registration => out.push(here(
                &self.form,
                format!(
                    "loyalty: form `{}` must have `kind: registration`",
                    self.form
                ),
            )),
            Some(_) => {}
        }
        if !self.terms_url.starts_with('/') && !self.terms_url.starts_with("https://") {
            out.push(here(
                &self.terms_url,
                format!(
                    "loyalty.terms_url `{}` must be a site path starting with /",
                    self.terms_url
                ),
            ));
        }
        let positive = [
            ("confirm_link_hours", self.confirm_link_hours),
            ("sign_in_link_minutes", self.sign_in_link_minutes),
            ("staff_link_days", self.staff_link_days),
            ("session_days", self.session_days),
        ];
        for (name, v) in positive {
            if v == 0 {
                out.push(here(name, format!("loyalty.{name} must be at least 1")));
            }
        }
        let mut seen = BTreeSet::new();
        for r in &self.rewards {
            let id_ok = !r.id.is_empty()
                && r.id
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
            if !id_ok {
                out.push(here(
                    &r.id,
                    format!(
                        "reward id `{}` may use only lowercase letters, digits and -",
                        r.id
                    ),
                ));
            }
            if !seen.insert(&r.id) {
                out.push(here(&r.id, format!("reward id `{}` is used twice", r.id)));
            }
            if r.points == 0 {
                out.push(here(
                    &r.id,
                    format!("reward `{}` must cost at least 1 point", r.id),
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
        business: {name: N, email: a@a.example, phone: '1', address: {street: s, locality: l, postal_code: p, country: GB}}\n\
        forms:\n  membership:\n    title: Join\n    thank_you: /t/\n    kind: registration\n    fields:\n      - {name: name, label: Name, type: text, required: true}\n      - {name: email, label: Email, type: email, required: true}\n";

    #[test]
    fn defaults_make_a_working_programme() {
        let c = SiteConfig::parse(
            &format!("{BASE}loyalty: {{}}\n"),
            std::path::Path::new("site.yaml"),
        )
        .unwrap();
        let l = c.loyalty.unwrap();
        assert_eq!((l.signup_bonus, l.referral_reward), (50, 100));
        assert_eq!((l.confirm_link_hours, l.sign_in_link_minutes), (48, 15));
        assert!(!l.referral_auto_confirm);
    }

    #[test]
    fn mistakes_are_named_with_their_line() {
        let src = format!(
            "{BASE}loyalty:\n  rewards:\n    - {{id: Ten Off, title: x, points: 10}}\n    - {{id: free, title: y, points: 0}}\n    - {{id: free, title: z, points: 5}}\n"
        );
        let err = SiteConfig::parse(&src, std::path::Path::new("site.yaml"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("site.yaml:16: reward id `Ten Off`"), "{err}");
        assert!(err.contains("reward id `Ten Off` may use only"), "{err}");
        assert!(err.contains("must cost at least 1 point"), "{err}");
        assert!(err.contains("`free` is used twice"), "{err}");

        let src = BASE.replace("kind: registration", "kind: request") + "loyalty: {}\n";
        let err = SiteConfig::parse(&src, std::path::Path::new("site.yaml"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("must have `kind: registration`"), "{err}");
    }
}
