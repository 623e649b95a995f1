//! A form as HTML, from its declaration: empty on the site, or filled in with messages
//! beside each field when the form service shows it again after a post with mistakes.
//!
//! It needs no script: labels are real `<label>`s, limits are HTML attributes, and
//! errors follow the error-summary pattern (a list of links to the fields at the top).

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::forms::FormKind;
use crate::html::escape_html;
use crate::{FieldKind, FormDecl, FormField, ServiceRef};

/// What to put in a form: the answers given and the message for each field that needs
/// fixing. Empty for a fresh form.
#[derive(Debug, Clone, Default)]
pub struct FormState {
    /// Answers by field name.
    pub values: BTreeMap<String, String>,
    /// A message per field name, in plain words.
    pub errors: BTreeMap<String, String>,
}

/// Beyond this many services, a form on a service page offers only that page's service
/// (the consultation page still lists them all). Otherwise every service page would carry
/// every service, and a site's size would grow with the square of its services: at
/// 10,000 services, gigabytes of HTML.
pub const MAX_SERVICE_CHOICES_ON_A_SERVICE_PAGE: usize = 40;

/// The services a form offers on the page of service `preselect`: all of them, or
/// beyond [`MAX_SERVICE_CHOICES_ON_A_SERVICE_PAGE`] only that page's own, which
/// `position` finds in `services` (a caller rendering thousands of pages passes an
/// index rather than a search through every service).
pub fn offered<'a>(
    services: &'a [ServiceRef],
    preselect: Option<&str>,
    position: impl FnOnce(&str) -> Option<usize>,
) -> &'a [ServiceRef] {
    match preselect {
        Some(slug) if services.len() > MAX_SERVICE_CHOICES_ON_A_SERVICE_PAGE => position(slug)
            .and_then(|i| services.get(i..=i))
            .unwrap_or(&[]),
        _ => services,
    }
}

/// The element id of field `field` of form `form`.
fn field_id(form: &str, field: &str) -> String {
    format!("{form}-{}", field.replace('_', "-"))
}

/// The error summary for `state` (empty when there is nothing to fix): a heading and a
/// link to each field that needs fixing. The form service puts it first in the page's
/// `<main>`, so it is the first thing seen after a post, script or not.
pub fn error_summary(name: &str, decl: &FormDecl, state: &FormState) -> String {
    if state.errors.is_empty() {
        return String::new();
    }
    let mut h = format!(
        "<div class=\"error-summary\" role=\"alert\" tabindex=\"-1\" id=\"{name}-errors\">\n\
         <h2 class=\"error-summary__title\">There is a problem</h2>\n<ul>\n"
    );
    for f in decl
        .fields
        .iter()
        .filter(|f| state.errors.contains_key(&f.name))
    {
        let _ = writeln!(
            h,
            "<li><a href=\"#{}\">{}</a></li>",
            field_id(name, &f.name),
            escape_html(&state.errors[&f.name])
        );
    }
    h.push_str("</ul>\n</div>\n");
    h
}

/// The `<form>` for `decl`, posting to `action`. Messages for `state.errors` sit beside
/// their fields; the summary of them is [`error_summary`], placed by the caller.
///
/// `services` fills `service` fields; `preselect` chooses one of them (the service page
/// the form sits on) unless `state` already has an answer. In a `kind: comment` form,
/// a service field with an answer is a hidden input: a comment is about the page it is
/// written on.
///
/// The markup is lean because every service page carries two forms within a 30 KB
/// budget: choices are inputs inside their labels (no ids to pair), a text input's
/// type is left at its default, and labels are styled by position, not class.
pub fn render_form(
    name: &str,
    decl: &FormDecl,
    action: &str,
    services: &[ServiceRef],
    preselect: Option<&str>,
    state: &FormState,
) -> String {
    let mut h = String::with_capacity(4096);
    let _ = writeln!(
        h,
        "<form class=\"form\" id=\"form-{name}\" method=\"post\" action=\"{}\">",
        escape_html(action)
    );
    let services = offered(services, preselect, |slug| {
        services.iter().position(|s| s.slug == slug)
    });
    for f in &decl.fields {
        let value = state
            .values
            .get(&f.name)
            .map(String::as_str)
            .or(if f.kind == FieldKind::Service {
                preselect
            } else {
                None
            })
            .unwrap_or("");
        let id = field_id(name, &f.name);
        if decl.kind == FormKind::Comment && f.kind == FieldKind::Service && !value.is_empty() {
            // A comment belongs to the service page it is written on: nothing to choose.
            let _ = writeln!(
                h,
                "<input type=\"hidden\" id=\"{id}\" name=\"{}\" value=\"{}\">",
                escape_html(&f.name),
                escape_html(value)
            );
            continue;
        }
        let needed_for = decl.required_when_label(f);
        render_field(
            &mut h,
            &id,
            f,
            value,
            state.errors.get(&f.name),
            services,
            needed_for,
        );
    }
    // Bots fill every field; people never see this one. Hidden by CSS, not inline style,
    // so the pages need no 'unsafe-inline' in their Content-Security-Policy.
    let _ = writeln!(
        h,
        "<div class=\"form__hp\" aria-hidden=\"true\"><label>Leave this empty <input name=\"{}\" tabindex=\"-1\" autocomplete=\"off\"></label></div>",
        escape_html(&decl.honeypot)
    );
    let _ = write!(
        h,
        "<button class=\"button\">{}</button>\n</form>\n",
        escape_html(&decl.submit)
    );
    h
}

fn render_field(
    h: &mut String,
    id: &str,
    f: &FormField,
    value: &str,
    error: Option<&String>,
    services: &[ServiceRef],
    needed_for: Option<&str>,
) {
    let mut describedby = Vec::new();
    if f.help.is_some() {
        describedby.push(format!("{id}-hint"));
    }
    if error.is_some() {
        describedby.push(format!("{id}-error"));
    }
    let described = if describedby.is_empty() {
        String::new()
    } else {
        format!(" aria-describedby=\"{}\"", describedby.join(" "))
    };
    let mut attrs = described.clone();
    if error.is_some() {
        attrs.push_str(" aria-invalid=\"true\"");
    }
    if f.required {
        attrs.push_str(" required");
    }
    let class = if error.is_some() {
        "field field--error"
    } else {
        "field"
    };
    let label_text = label_html(f, needed_for);
    let help = |h: &mut String| {
        if let Some(help) = &f.help {
            let _ = writeln!(
                h,
                "<p class=\"field__hint\" id=\"{id}-hint\">{}</p>",
                escape_html(help)
            );
        }
        if let Some(e) = error {
            let _ = writeln!(
                h,
                "<p class=\"field__error\" id=\"{id}-error\"><span class=\"visually-hidden\">Error: </span>{}</p>",
                escape_html(e)
            );
        }
    };
    let v = escape_html(value);
    let name = escape_html(&f.name);
    match f.kind {
        FieldKind::Radio => {
            let _ = writeln!(
                h,
                "<fieldset class=\"{class}\" id=\"{id}\"{described}>\n<legend>{label_text}</legend>"
            );
            help(h);
            for (i, c) in f.choices.iter().enumerate() {
                let checked = if c.value == value { " checked" } else { "" };
                let _ = writeln!(
                    h,
                    "<label class=\"choice\"><input type=\"radio\" name=\"{name}\" value=\"{}\"{checked}{}> {}</label>",
                    escape_html(&c.value),
                    // One `required` makes the whole group required.
                    if f.required && i == 0 { " required" } else { "" },
                    escape_html(&c.label)
                );
            }
            h.push_str("</fieldset>\n");
        }
        FieldKind::Checkbox => {
            let _ = writeln!(h, "<div class=\"{class}\">");
            help(h);
            let checked = if value == "yes" { " checked" } else { "" };
            let _ = writeln!(
                h,
                "<label class=\"choice\"><input type=\"checkbox\" id=\"{id}\" name=\"{name}\" value=\"yes\"{checked}{attrs}> {label_text}</label>"
            );
            if let Some(link) = &f.link {
                let _ = writeln!(
                    h,
                    "<p class=\"field__link\"><a href=\"{}\">{}</a></p>",
                    escape_html(&link.href),
                    escape_html(&link.text)
                );
            }
            h.push_str("</div>\n");
        }
        _ => {
            let _ = writeln!(
                h,
                "<div class=\"{class}\"><label for=\"{id}\">{label_text}</label>"
            );
            help(h);
            let autocomplete = f
                .autocomplete
                .as_deref()
                .map(|a| format!(" autocomplete=\"{}\"", escape_html(a)))
                .unwrap_or_default();
            let max = f.max_length();
            match f.kind {
                FieldKind::Textarea => {
                    let _ = writeln!(
                        h,
                        "<textarea id=\"{id}\" name=\"{name}\" maxlength=\"{max}\"{attrs}{autocomplete}>{v}</textarea>"
                    );
                }
                FieldKind::Select | FieldKind::Service => {
                    let _ = writeln!(
                        h,
                        "<select id=\"{id}\" name=\"{name}\"{attrs}{autocomplete}>"
                    );
                    let _ = writeln!(h, "<option value=\"\">Choose…</option>");
                    let options: Vec<(&str, &str)> = if f.kind == FieldKind::Service {
                        services
                            .iter()
                            .map(|s| (s.slug.as_str(), s.title.as_str()))
                            .collect()
                    } else {
                        f.choices
                            .iter()
                            .map(|c| (c.value.as_str(), c.label.as_str()))
                            .collect()
                    };
                    for (val, label) in options {
                        let sel = if val == value { " selected" } else { "" };
                        let _ = writeln!(
                            h,
                            "<option value=\"{}\"{sel}>{}</option>",
                            escape_html(val),
                            escape_html(label)
                        );
                    }
                    h.push_str("</select>\n");
                }
                _ => {
                    // `text` is an input's default type.
                    let ty = match f.kind {
                        FieldKind::Email => " type=\"email\"",
                        FieldKind::Tel => " type=\"tel\"",
                        _ => "",
                    };
                    let minlength = f
                        .min_length
                        .map(|m| format!(" minlength=\"{m}\""))
                        .unwrap_or_default();
                    let _ = writeln!(
                        h,
                        "<input id=\"{id}\" name=\"{name}\"{ty}{value} maxlength=\"{max}\"{minlength}{attrs}{autocomplete}>",
                        // An empty answer needs no attribute: every page with a form is lighter.
                        value = if v.is_empty() { String::new() } else { format!(" value=\"{v}\"") },
                    );
                }
            }
            h.push_str("</div>\n");
        }
    }
}

/// The label, with "(optional)" on a field that may be left empty, or what makes it
/// needed on one that depends on another answer.
fn label_html(f: &FormField, needed_for: Option<&str>) -> String {
    let mut s = escape_html(&f.label);
    if let Some(choice) = needed_for {
        let _ = write!(
            s,
            " <span class=\"field__optional\">(needed for “{}”)</span>",
            escape_html(choice)
        );
    } else if !f.required && f.kind != FieldKind::Checkbox {
        s.push_str(" <span class=\"field__optional\">(optional)</span>");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decl() -> FormDecl {
        serde_yaml::from_str(
            "title: Book\nthank_you: /t/\nfields:\n\
             - {name: name, label: Your name, type: text, required: true, autocomplete: name}\n\
             - {name: how, label: How, type: radio, required: true, choices: [{value: phone, label: By phone}, {value: video, label: Video call}]}\n\
             - {name: service, label: Service, type: service, required: true}\n\
             - {name: message, label: Message, type: textarea, help: No medical history please}\n\
             - {name: consent, label: I agree, type: checkbox, required: true, link: {text: Privacy notice, href: /privacy/}}\n",
        )
        .unwrap()
    }

    fn services() -> Vec<ServiceRef> {
        vec![
            ServiceRef {
                slug: "smp".into(),
                title: "SMP".into(),
                order: 0,
            },
            ServiceRef {
                slug: "peel".into(),
                title: "Peel".into(),
                order: 0,
            },
        ]
    }

    #[test]
    fn fresh_form_has_labels_limits_and_honeypot() {
        let html = render_form(
            "consultation",
            &decl(),
            "/forms/consultation",
            &services(),
            Some("peel"),
            &FormState::default(),
        );
        assert!(
            html.contains("<label for=\"consultation-name\">Your name</label>"),
            "{html}"
        );
        assert!(
            html.contains("maxlength=\"200\" required autocomplete=\"name\""),
            "{html}"
        );
        assert!(
            html.contains("<label class=\"choice\"><input type=\"radio\" name=\"how\" value=\"phone\" required> By phone</label>"),
            "each choice is an input inside its label: {html}"
        );
        assert!(html.contains("<option value=\"peel\" selected>Peel</option>"));
        assert!(html.contains("Message <span class=\"field__optional\">(optional)</span>"));
        assert!(html.contains("aria-describedby=\"consultation-message-hint\""));
        assert!(html.contains("name=\"website\""));
        assert!(!html.contains("error-summary"));
        assert!(!html.contains("style="), "no inline styles under our CSP");
    }

    #[test]
    fn many_services_offer_only_the_pages_own() {
        let many: Vec<ServiceRef> = (0..=MAX_SERVICE_CHOICES_ON_A_SERVICE_PAGE)
            .map(|i| ServiceRef {
                slug: format!("s{i}"),
                title: format!("S{i}"),
                order: 0,
            })
            .collect();
        let on_page = render_form("c", &decl(), "/f", &many, Some("s3"), &FormState::default());
        assert_eq!(on_page.matches("<option value=\"s").count(), 1);
        assert!(on_page.contains("<option value=\"s3\" selected>S3</option>"));
        let everywhere = render_form("c", &decl(), "/f", &many, None, &FormState::default());
        assert_eq!(everywhere.matches("<option value=\"s").count(), many.len());
        // What a caller with an index passes: the page's own service, or none.
        let index = |slug: &str| slug.strip_prefix('s').and_then(|n| n.parse().ok());
        assert_eq!(offered(&many, Some("s3"), index), &many[3..4]);
        assert!(offered(&many, Some("s999"), index).is_empty());
        assert!(offered(&many, Some("gone"), index).is_empty());
        assert_eq!(offered(&many, None, index).len(), many.len());
        let few = &many[..3];
        assert_eq!(offered(few, Some("s1"), index).len(), 3);
        let small = render_form("c", &decl(), "/f", few, Some("s1"), &FormState::default());
        assert_eq!(
            small.matches("<option value=\"s").count(),
            3,
            "small sites keep the full choice"
        );
    }

    #[test]
    fn a_comment_form_carries_its_page_service_hidden() {
        let mut comment = decl();
        comment.kind = FormKind::Comment;
        let html = render_form(
            "comment",
            &comment,
            "/f",
            &services(),
            Some("peel"),
            &FormState::default(),
        );
        assert!(
            html.contains(
                "<input type=\"hidden\" id=\"comment-service\" name=\"service\" value=\"peel\">"
            ),
            "{html}"
        );
        assert!(!html.contains("<select"), "{html}");
        assert!(!html.contains("<label for=\"comment-service\""));
        // Shown again after a post with mistakes, it keeps the posted service.
        let mut state = FormState::default();
        state.values.insert("service".into(), "smp".into());
        let again = render_form("comment", &comment, "/f", &services(), None, &state);
        assert!(again.contains("name=\"service\" value=\"smp\">"), "{again}");
        // Without a page to belong to, it is an ordinary choice.
        let anywhere = render_form(
            "comment",
            &comment,
            "/f",
            &services(),
            None,
            &FormState::default(),
        );
        assert!(
            anywhere.contains("<select id=\"comment-service\""),
            "{anywhere}"
        );
    }

    #[test]
    fn answers_are_kept_and_escaped_with_errors_beside_fields() {
        let mut state = FormState::default();
        state.values.insert("name".into(), "<b>\"Al\"</b>".into());
        state.values.insert("how".into(), "video".into());
        state.values.insert("consent".into(), "yes".into());
        state
            .errors
            .insert("service".into(), "Choose a service".into());
        let html = render_form(
            "consultation",
            &decl(),
            "/f",
            &services(),
            Some("smp"),
            &state,
        );
        assert!(html.contains("value=\"&lt;b&gt;&quot;Al&quot;&lt;/b&gt;\""));
        assert!(html.contains("value=\"video\" checked"));
        assert!(html.contains("value=\"yes\" checked"));
        assert!(
            !html.contains("error-summary"),
            "placed by the caller: {html}"
        );
        let summary = error_summary("consultation", &decl(), &state);
        assert!(
            summary.contains("<li><a href=\"#consultation-service\">Choose a service</a></li>"),
            "{summary}"
        );
        assert!(error_summary("consultation", &decl(), &FormState::default()).is_empty());
        assert!(html.contains("aria-invalid=\"true\""));
        assert!(html.contains("id=\"consultation-service-error\""));
        assert!(!html.contains("<b>"));
    }
}
