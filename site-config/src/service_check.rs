//! The form service's settings in `site.yaml`, checked when the file is read: every
//! value `form-service serve` could not use (addresses, origins, mailboxes, the time
//! zone, proxies, limits, the forms it relies on, comments), each reported at its line
//! and column, all at once. Both programs read `site.yaml` through here, so
//! `generator check` refuses what the service would refuse.

use std::net::IpAddr;
use std::path::Path;

use crate::{locate_value, Diagnostic, FieldKind, FormKind, SiteConfig};

/// Every problem found in `config` (parsed from `src`, shown as `path`).
pub(crate) fn check(config: &SiteConfig, path: &Path, src: &str) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let at = |keys: &[&str], value: &str, message: String| {
        let d = Diagnostic::new(path, message);
        match locate_value(src, keys, value) {
            Some((l, c)) => d.at(l, c),
            None => d.at_line(1),
        }
    };
    let fs = &config.form_service;
    if let Some(url) = &fs.url {
        if let Err(m) = http_url(url) {
            out.push(at(
                &["form_service", "url"],
                url,
                format!("form_service.url: {m}"),
            ));
        }
    }
    for o in &fs.extra_origins {
        if let Err(m) = http_url(o) {
            out.push(at(
                &["form_service", "extra_origins"],
                o,
                format!("form_service.extra_origins: {m}"),
            ));
        }
    }
    for p in &fs.trusted_proxies {
        if p.trim().parse::<IpAddr>().is_err() {
            out.push(
                at(
                    &["form_service", "trusted_proxies"],
                    p,
                    format!("form_service.trusted_proxies: `{p}` is not an IP address"),
                )
                .with_hint("write the proxy's own address, such as 127.0.0.1 or 10.0.0.2"),
            );
        }
    }
    if jiff::tz::db().get(&config.timezone).is_err() {
        let names: Vec<String> = jiff::tz::db()
            .available()
            .map(|n| n.as_str().to_string())
            .collect();
        let mut d = at(
            &["timezone"],
            &config.timezone,
            format!(
                "timezone `{}` is not a known IANA time zone",
                config.timezone
            ),
        );
        if let Some(s) = crate::suggest(&config.timezone, names.iter().map(String::as_str)) {
            d = d.with_hint(format!("did you mean `{s}`?"));
        }
        out.push(d);
    }
    if let Err(m) = mailbox(&config.business.email) {
        out.push(at(
            &["business", "email"],
            &config.business.email,
            format!("business.email: {m}"),
        ));
    }
    for (key, value) in [("from", &fs.from), ("staff_email", &fs.staff_email)] {
        if let Some(v) = value {
            if let Err(m) = mailbox(v) {
                out.push(
                    at(
                        &["form_service", key],
                        v,
                        format!("form_service.{key}: {m}"),
                    )
                    .with_hint("write `Name <address@example.com>` or just the address"),
                );
            }
        }
    }
    for name in &config.comments.publish_env {
        let is_name = !name.is_empty()
            && !name.starts_with(|c: char| c.is_ascii_digit())
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        let keys = ["comments", "publish_env"];
        if !is_name {
            out.push(at(
                &keys,
                name,
                format!("comments.publish_env: `{name}` is not an environment variable name"),
            ));
        } else if name.starts_with("SMTP_") {
            out.push(
                at(
                    &keys,
                    name,
                    format!("comments.publish_env: `{name}` would hand the mail secrets to the publish command"),
                )
                .with_hint("the publish command never needs SMTP settings; leave them out"),
            );
        }
    }
    if fs.rate_limit.per_minute > 0 && fs.rate_limit.burst == 0 {
        out.push(at(&["form_service", "rate_limit", "burst"], "", 
            "form_service.rate_limit.burst is 0, which refuses every post; use at least 1 (or per_minute: 0 for no limit)".into()));
    }
    if fs.outbox_retry_hours == 0 {
        out.push(at(&["form_service", "outbox_retry_hours"], "", 
            "form_service.outbox_retry_hours must be at least 1, or an email failing once is never retried".into()));
    }
    // The service purges by itself with this (issue: retention enforced on a schedule),
    // so a value that would delete requests before their email is sent is refused.
    if let Some(days) = fs.retention_days {
        let keys = ["form_service", "retention_days"];
        if days == 0 {
            out.push(at(&keys, "0",
                "form_service.retention_days must be at least 1: 0 would delete every request as soon as it is stored".into()));
        } else if u64::from(days) * 24 < u64::from(fs.outbox_retry_hours) {
            out.push(
                at(&keys, &days.to_string(), format!(
                    "form_service.retention_days ({days}) is shorter than outbox_retry_hours ({} hours): a request could be deleted before its email is sent",
                    fs.outbox_retry_hours
                ))
                .with_hint("keep requests at least as long as the outbox retries their email"),
            );
        }
    }
    for (name, decl) in &config.forms {
        let keys = ["forms", name.as_str()];
        if decl.kind != FormKind::Comment && !decl.fields.iter().any(|f| f.kind == FieldKind::Email)
        {
            out.push(at(
                &keys,
                "",
                format!("form `{name}` has no email field, so staff could not reply"),
            ));
        }
        if decl.kind == FormKind::Registration {
            let has = |field: &str, kind: FieldKind| {
                decl.field(field)
                    .is_some_and(|f| f.kind == kind && f.required)
            };
            if !has("name", FieldKind::Text) || !has("email", FieldKind::Email) {
                out.push(at(&keys, "", format!(
                    "registration form `{name}` needs a required text field `name` and a required email field `email`"
                )));
            }
        }
    }
    let c = &config.comments;
    let comment_forms: Vec<&str> = config
        .forms
        .iter()
        .filter(|(_, d)| d.kind == FormKind::Comment)
        .map(|(n, _)| n.as_str())
        .collect();
    if !comment_forms.is_empty() && !comment_forms.contains(&c.form.as_str()) {
        let mut d = at(
            &["comments", "form"],
            &c.form,
            format!(
                "comments.form `{}` is not a form with `kind: comment`",
                c.form
            ),
        );
        if let Some(s) = crate::suggest(&c.form, comment_forms.iter().copied()) {
            d = d.with_hint(format!("did you mean `{s}`?"));
        }
        out.push(d);
    }
    if c.moderation_link_days == 0 {
        out.push(at(
            &["comments", "moderation_link_days"],
            "",
            "comments.moderation_link_days must be at least 1".into(),
        ));
    }
    if c.reject_reasons.is_empty() {
        out.push(at(
            &["comments", "reject_reasons"],
            "",
            "comments.reject_reasons needs at least one reason staff can give".into(),
        ));
    }
    out
}

/// An absolute `http(s)://` address with a host (the service's own rule).
fn http_url(u: &str) -> Result<(), String> {
    let t = u.trim().trim_end_matches('/');
    let ok = t
        .strip_prefix("https://")
        .or_else(|| t.strip_prefix("http://"))
        .is_some_and(|rest| !rest.is_empty() && !rest.contains(char::is_whitespace));
    if ok {
        Ok(())
    } else {
        Err(format!("`{u}` is not an http:// or https:// address"))
    }
}

/// `Name <local@domain>` or `local@domain`.
fn mailbox(s: &str) -> Result<(), String> {
    let t = s.trim();
    let addr = match (t.rfind('<'), t.strip_suffix('>')) {
        (Some(open), Some(inner)) => &inner[open + 1..],
        (None, None) => t,
        _ => return Err(format!("`{s}` is not an email address (unbalanced < >)")),
    };
    let ok = addr.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty()
            && !domain.is_empty()
            && !domain.contains('@')
            && !addr.contains(char::is_whitespace)
            && !domain.starts_with('.')
            && !domain.ends_with('.')
    });
    if ok {
        Ok(())
    } else {
        Err(format!("`{s}` is not an email address"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mailboxes() {
        assert!(mailbox("Clinic <hello@clinic.example>").is_ok());
        assert!(mailbox("hello@clinic.example").is_ok());
        assert!(mailbox("hello at clinic").is_err());
        assert!(mailbox("Clinic <hello@clinic.example").is_err());
        assert!(mailbox("a@b@c").is_err());
    }
}
