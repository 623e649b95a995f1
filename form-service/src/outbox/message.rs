//! The emails themselves: the staff email for a submission and the optional
//! acknowledgement to the visitor.
//!
//! Messages are rendered once, when the submission is stored, and kept in the outbox as
//! bytes, so a retry sends exactly what was queued (same Message-ID, same time).

use crate::error::Mail;
use std::fmt::Write;

use lettre::message::{Mailbox, MultiPart};
use lettre::Message;
use site_config::{escape_html, FieldKind, FormDecl};

use crate::store::{MailKind, NewMail};
use crate::validate::Submission;
use crate::{Error, Settings};

/// The staff email for `sub`, received at `received_at` (seconds since the epoch): the
/// answers, a phone number as a `tel:` link, and the page the form was sent from.
pub fn staff_mail(
    settings: &Settings,
    decl: &FormDecl,
    sub: &Submission,
    public_id: &str,
    received_at: i64,
) -> Result<NewMail, Error> {
    let name = sub
        .answer("name")
        .map(|a| a.value.as_str())
        .filter(|n| !n.is_empty());
    let visitor_address: lettre::Address = sub.email.parse().map_err(|source| Mail::Address {
        whose: "visitor",
        source,
    })?;
    // The name comes from validation, which refuses control characters; lettre encodes
    // the rest. The header can hold nothing but this one mailbox.
    let visitor = Mailbox::new(name.map(str::to_string), visitor_address);
    let subject = subject(decl, sub);
    let when = clinic_time(settings, received_at);
    let who = name.unwrap_or(&sub.email);

    let form_title = decl.title.trim_end_matches('.');
    let mut text = format!("New request from {who} through “{form_title}”, received {when}.\n\n");
    let mut html = format!(
        "<!doctype html>\n<html><body>\n<p>New request from {} through “{}”, received {}.</p>\n<table cellpadding=\"6\">\n",
        escape_html(who),
        escape_html(form_title),
        escape_html(&when)
    );
    for f in &decl.fields {
        let Some(a) = sub.answer(&f.name) else {
            continue;
        };
        let shown = if a.display.is_empty() {
            "(not given)"
        } else {
            a.display.as_str()
        };
        let label = f.label.trim();
        // "Which treatment?" needs no colon after it.
        let colon = if label.ends_with(['?', ':', '.']) {
            ""
        } else {
            ":"
        };
        let _ = writeln!(text, "{label}{colon}");
        for line in shown.lines() {
            let _ = writeln!(text, "    {line}");
        }
        text.push('\n');
        let value_html = if f.kind == FieldKind::Textarea {
            escape_html(shown).replace('\n', "<br>\n")
        } else if f.kind == FieldKind::Tel && !a.value.is_empty() {
            // One tap calls back from a phone's mail app.
            format!(
                "<a href=\"tel:{}\">{}</a>",
                escape_html(&crate::phone::dial(&a.value)),
                escape_html(shown)
            )
        } else {
            escape_html(shown)
        };
        let _ = writeln!(
            html,
            "<tr><th align=\"left\" valign=\"top\">{}</th><td>{value_html}</td></tr>",
            escape_html(f.label.trim())
        );
    }
    html.push_str("</table>\n");
    if let Some(page) = &sub.page {
        let url = settings.site_url(page);
        let _ = writeln!(text, "Sent from: {url}");
        let _ = writeln!(
            html,
            "<p>Sent from: <a href=\"{0}\">{0}</a></p>",
            escape_html(&url)
        );
    }
    let _ = write!(
        text,
        "Reference: {public_id}\nReply to this email to answer {who} directly.\n"
    );
    let _ = write!(
        html,
        "<p>Reference: {}</p>\n<p>Reply to this email to answer {} directly.</p>\n</body></html>\n",
        escape_html(public_id),
        escape_html(who)
    );

    let message = Message::builder()
        .from(settings.from.clone())
        .reply_to(visitor)
        .to(settings.staff.clone())
        .subject(subject.clone())
        .date(std::time::UNIX_EPOCH + std::time::Duration::from_secs(received_at.max(0) as u64))
        .message_id(Some(message_id(settings, public_id, "staff")))
        .multipart(MultiPart::alternative_plain_html(text, html))
        .map_err(Mail::Build)?;
    Ok(NewMail {
        kind: MailKind::Staff,
        envelope_from: settings.from.email.to_string(),
        envelope_to: settings.staff.email.to_string(),
        subject,
        message: message.formatted(),
        about: Some(crate::address::key(&sub.email)),
    })
}

/// The fixed acknowledgement: it repeats nothing the visitor typed, so the form cannot
/// be used to send our mail with someone else's words to someone else's address.
pub fn acknowledgement(settings: &Settings, to: &str, public_id: &str) -> Result<NewMail, Error> {
    let address: lettre::Address = to.parse().map_err(|source| Mail::Address {
        whose: "visitor",
        source,
    })?;
    let clinic = &settings.site.business;
    let subject = format!("We have your request — {}", clinic.name);
    let text = format!(
        "Thank you for asking for a consultation with {name}.\n\n\
         We have received your request and will reply within two working days. \
         If you did not send it, you can ignore this email.\n\n\
         {name}\n{phone}\n{url}\n",
        name = clinic.name,
        phone = clinic.phone,
        url = settings.base_url
    );
    let html = format!(
        "<!doctype html>\n<html><body>\n<p>Thank you for asking for a consultation with {name}.</p>\n\
         <p>We have received your request and will reply within two working days. \
         If you did not send it, you can ignore this email.</p>\n\
         <p>{name}<br>{phone}<br><a href=\"{url}\">{url}</a></p>\n</body></html>\n",
        name = escape_html(&clinic.name),
        phone = escape_html(&clinic.phone),
        url = escape_html(&settings.base_url)
    );
    let message = Message::builder()
        .from(settings.from.clone())
        .to(Mailbox::new(None, address.clone()))
        .subject(subject.clone())
        .date_now()
        .message_id(Some(message_id(settings, public_id, "ack")))
        .multipart(MultiPart::alternative_plain_html(text, html))
        .map_err(Mail::Build)?;
    Ok(NewMail {
        kind: MailKind::Acknowledgement,
        envelope_from: settings.from.email.to_string(),
        envelope_to: address.to_string(),
        subject,
        message: message.formatted(),
        about: None,
    })
}

/// The declared subject with `{field}` replaced by each answer as staff see it.
fn subject(decl: &FormDecl, sub: &Submission) -> String {
    let template = decl
        .subject
        .clone()
        .unwrap_or_else(|| format!("{}: {{name}}", decl.title));
    let mut s = template;
    for a in &sub.answers {
        s = s.replace(&format!("{{{}}}", a.name), &a.display);
    }
    // Validation already refuses control characters in one-line answers; this keeps a
    // future field type from ever folding a header.
    let s: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    s.chars().take(250).collect()
}

fn message_id(settings: &Settings, public_id: &str, kind: &str) -> String {
    format!("<{public_id}.{kind}@{}>", settings.from.email.domain())
}

/// `Tuesday 3 March 2026 at 14:05 GMT`, in the clinic's time zone.
pub fn clinic_time(settings: &Settings, at: i64) -> String {
    match jiff::Timestamp::from_second(at) {
        Ok(ts) => ts
            .to_zoned_datetime(settings.tz.clone())
            .strftime("%A %-d %B %Y at %H:%M %Z")
            .to_string(),
        Err(_) => at.to_string(),
    }
}
