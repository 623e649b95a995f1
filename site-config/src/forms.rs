//! Form declarations: the one description of a form that the generator renders and
//! the form service validates against.

use std::collections::BTreeSet;
use std::path::Path;

use serde::Deserialize;

use crate::Diagnostic;

/// One form: its fields, where a successful post lands, and how the service treats it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FormDecl {
    /// Heading shown above the form.
    pub title: String,
    /// Words on the submit button.
    #[serde(default = "default_submit")]
    pub submit: String,
    /// Site path of the thank-you page a browser is sent to after a good post.
    pub thank_you: String,
    /// Site path of the page that carries this form, where a post with mistakes is shown again.
    #[serde(default)]
    pub page: Option<String>,
    /// What the service does with a post.
    #[serde(default)]
    pub kind: FormKind,
    /// Staff email subject; `{field}` is replaced by that field's answer (its label for choices).
    #[serde(default)]
    pub subject: Option<String>,
    /// Name of the honeypot field: left empty by people, filled by bots.
    #[serde(default = "default_honeypot")]
    pub honeypot: String,
    /// The fields, in order.
    pub fields: Vec<FormField>,
}

fn default_submit() -> String {
    "Send".into()
}
fn default_honeypot() -> String {
    "website".into()
}

/// What the form service does with a valid post.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FormKind {
    /// Store it and email staff (consultation requests).
    #[default]
    Request,
    /// Loyalty-programme registration (double opt-in).
    Registration,
    /// A member's comment on a service page.
    Comment,
}

/// One field of a form.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FormField {
    /// The name posted (`email`): lowercase letters, digits and `_`.
    pub name: String,
    /// The visible label.
    pub label: String,
    /// What kind of control it is.
    #[serde(rename = "type")]
    pub kind: FieldKind,
    /// Whether an answer is needed.
    #[serde(default)]
    pub required: bool,
    /// A line of help under the label.
    #[serde(default)]
    pub help: Option<String>,
    /// Most characters allowed (after trimming). Defaults by type.
    #[serde(default)]
    pub max_length: Option<usize>,
    /// Fewest characters allowed when answered.
    #[serde(default)]
    pub min_length: Option<usize>,
    /// Choices for `select` and `radio`.
    #[serde(default)]
    pub choices: Vec<Choice>,
    /// The HTML `autocomplete` token (`name`, `email`, `tel`).
    #[serde(default)]
    pub autocomplete: Option<String>,
    /// A link shown after the label (the privacy notice beside a consent box).
    #[serde(default)]
    pub link: Option<Link>,
    /// Needed only when another field has a given answer (a phone number when the
    /// visitor chooses "By phone").
    #[serde(default)]
    pub required_when: Option<RequiredWhen>,
}

/// A condition on another field's answer: `{field: contact_method, is: phone}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequiredWhen {
    /// The name of a `select` or `radio` field of the same form.
    pub field: String,
    /// One of that field's choice values.
    pub is: String,
}

/// A link beside a field's label.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Link {
    /// Link text.
    pub text: String,
    /// Site path or address.
    pub href: String,
}

/// The kinds of control a form can have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldKind {
    /// One line of text.
    Text,
    /// An email address.
    Email,
    /// A phone number.
    Tel,
    /// Several lines of text.
    Textarea,
    /// One of `choices`, as a drop-down.
    Select,
    /// One of `choices`, as radio buttons.
    Radio,
    /// A single tick box (consent); posts `yes` when ticked.
    Checkbox,
    /// One of the site's services, as a drop-down.
    Service,
}

impl FieldKind {
    /// The length limit when the declaration gives none.
    pub fn default_max_length(self) -> usize {
        match self {
            FieldKind::Text => 200,
            FieldKind::Email => 254,
            FieldKind::Tel => 32,
            FieldKind::Textarea => 4000,
            FieldKind::Select | FieldKind::Radio | FieldKind::Service => 100,
            FieldKind::Checkbox => 3,
        }
    }

    /// True for the kinds whose answer must be one of a list.
    pub fn has_choices(self) -> bool {
        matches!(self, FieldKind::Select | FieldKind::Radio)
    }
}

/// One allowed answer.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Choice {
    /// The value posted.
    pub value: String,
    /// What the person sees.
    pub label: String,
}

impl FormField {
    /// The length limit in characters.
    pub fn max_length(&self) -> usize {
        self.max_length
            .unwrap_or_else(|| self.kind.default_max_length())
    }

    /// The label of a choice value, if it is one of the declared choices.
    pub fn choice_label(&self, value: &str) -> Option<&str> {
        self.choices
            .iter()
            .find(|c| c.value == value)
            .map(|c| c.label.as_str())
    }
}

impl FormDecl {
    /// The field called `name`.
    pub fn field(&self, name: &str) -> Option<&FormField> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// The label of the choice that makes `f` needed (`By phone`), if `f` depends on one.
    pub fn required_when_label(&self, f: &FormField) -> Option<&str> {
        let w = f.required_when.as_ref()?;
        self.field(&w.field)?.choice_label(&w.is)
    }

    /// Mistakes a declaration can have that serde cannot see; `src` is the file's text,
    /// used to find lines.
    pub(crate) fn check(&self, form: &str, path: &Path, src: &str) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        let here = |needle: &str, msg: String| {
            Diagnostic::new(path, msg).at_line(line_of(src, needle).unwrap_or(1))
        };
        if !is_identifier(form) {
            out.push(here(
                form,
                format!("form name `{form}` may use only lowercase letters, digits and _"),
            ));
        }
        for p in [Some(&self.thank_you), self.page.as_ref()]
            .into_iter()
            .flatten()
        {
            if !p.starts_with('/') {
                out.push(here(
                    p,
                    format!("form `{form}`: `{p}` must be a site path starting with /"),
                ));
            }
        }
        let mut seen = BTreeSet::new();
        for f in &self.fields {
            if !is_identifier(&f.name) {
                out.push(here(
                    &f.name,
                    format!(
                        "form `{form}`: field name `{}` may use only lowercase letters, digits and _",
                        f.name
                    ),
                ));
            }
            if !seen.insert(f.name.as_str()) || f.name == self.honeypot {
                out.push(here(
                    &f.name,
                    format!(
                        "form `{form}`: the name `{}` is used twice (fields and honeypot need distinct names)",
                        f.name
                    ),
                ));
            }
            if f.kind.has_choices() && f.choices.is_empty() {
                out.push(here(
                    &f.name,
                    format!("form `{form}`: field `{}` needs `choices`", f.name),
                ));
            }
            if !f.kind.has_choices() && !f.choices.is_empty() {
                out.push(here(
                    &f.name,
                    format!(
                        "form `{form}`: field `{}` has choices but is not a select or radio",
                        f.name
                    ),
                ));
            }
            if let Some(w) = &f.required_when {
                out.extend(self.check_required_when(form, f, w, &here));
            }
            if let Some(min) = f.min_length {
                if min > f.max_length() {
                    out.push(here(
                        &f.name,
                        format!(
                            "form `{form}`: field `{}` has min_length above max_length",
                            f.name
                        ),
                    ));
                }
            }
        }
        out
    }

    /// `required_when` names another choice field of this form and one of its values.
    fn check_required_when(
        &self,
        form: &str,
        f: &FormField,
        w: &RequiredWhen,
        here: &dyn Fn(&str, String) -> Diagnostic,
    ) -> Option<Diagnostic> {
        let at = format!("field: {}", w.field);
        let other = match self.field(&w.field) {
            Some(o) if o.name != f.name && o.kind.has_choices() => o,
            Some(_) => {
                return Some(here(
                    &at,
                    format!(
                        "form `{form}`: field `{}` is required_when `{}`, which must be another select or radio field",
                        f.name, w.field
                    ),
                ))
            }
            None => {
                let names: Vec<&str> = self.fields.iter().map(|o| o.name.as_str()).collect();
                return Some(here(
                    &at,
                    format!(
                        "form `{form}`: field `{}` is required_when `{}`, but the form has no such field (its fields: {})",
                        f.name,
                        w.field,
                        names.join(", ")
                    ),
                ));
            }
        };
        if f.required {
            return Some(here(
                &at,
                format!(
                    "form `{form}`: field `{}` is always required, so `required_when` does nothing; remove one",
                    f.name
                ),
            ));
        }
        if other.choice_label(&w.is).is_none() {
            let values: Vec<&str> = other.choices.iter().map(|c| c.value.as_str()).collect();
            return Some(here(
                &format!("is: {}", w.is),
                format!(
                    "form `{form}`: `{}` is not a choice of `{}` (its values: {})",
                    w.is,
                    other.name,
                    values.join(", ")
                ),
            ));
        }
        None
    }
}

fn is_identifier(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// 1-based line of the first line containing `needle`; good enough to point at a
/// value that serde has already accepted.
pub(crate) fn line_of(src: &str, needle: &str) -> Option<usize> {
    src.lines().position(|l| l.contains(needle)).map(|i| i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SiteConfig;

    fn config_with_forms(forms: &str) -> String {
        format!(
            "title: C\nbase_url: https://c.example\ndescription: d\ncurrency: GBP\n\
             business:\n  name: C\n  email: a@c.example\n  phone: '1'\n  address:\n    \
             street: s\n    locality: l\n    postal_code: p\n    country: GB\nforms:\n{forms}"
        )
    }

    #[test]
    fn a_good_form_parses() {
        let src = config_with_forms(
            "  consultation:\n    title: Book\n    thank_you: /thanks/\n    fields:\n      \
             - {name: name, label: Name, type: text, required: true}\n      \
             - {name: email, label: Email, type: email}\n      \
             - {name: how, label: How, type: radio, choices: [{value: a, label: A}]}\n",
        );
        let c = SiteConfig::parse(&src, Path::new("site.yaml")).unwrap();
        let form = &c.forms["consultation"];
        assert_eq!(form.honeypot, "website");
        assert_eq!(form.field("name").unwrap().max_length(), 200);
        assert_eq!(form.field("how").unwrap().choice_label("a"), Some("A"));
    }

    #[test]
    fn mistakes_are_all_reported() {
        let src = config_with_forms(
            "  consultation:\n    title: Book\n    thank_you: thanks\n    fields:\n      \
             - {name: Name, label: Name, type: text}\n      \
             - {name: how, label: How, type: radio}\n      \
             - {name: website, label: W, type: text}\n",
        );
        let problems = SiteConfig::parse(&src, Path::new("site.yaml"))
            .unwrap_err()
            .into_diagnostics();
        let text = problems.to_string();
        // The fourth: the form service needs an email field to reply to.
        assert_eq!(problems.len(), 5, "{text}");
        assert!(text.contains("has no email field"), "{text}");
        assert!(
            text.contains("site.yaml:17: form `consultation`: `thanks`"),
            "{text}"
        );
        assert!(text.contains("`Name` may use only"), "{text}");
        assert!(text.contains("`how` needs `choices`"), "{text}");
        assert!(text.contains("`website` is used twice"), "{text}");
    }

    #[test]
    fn required_when_names_a_choice_of_another_field() {
        let form = |cond: &str| {
            config_with_forms(&format!(
                "  c:\n    title: B\n    thank_you: /t/\n    fields:\n      \
                 - {{name: email, label: E, type: email, required: true}}\n      \
                 - name: how\n        label: How\n        type: radio\n        \
                 choices: [{{value: phone, label: By phone}}, {{value: video, label: Video}}]\n      \
                 - name: phone\n        label: Phone\n        type: tel\n        \
                 required_when:\n          {cond}\n"
            ))
        };
        let good =
            SiteConfig::parse(&form("{field: how, is: phone}"), Path::new("site.yaml")).unwrap();
        let decl = &good.forms["c"];
        assert_eq!(
            decl.required_when_label(decl.field("phone").unwrap()),
            Some("By phone")
        );
        for (cond, says, line) in [
            (
                "{field: hows, is: phone}",
                "no such field (its fields: email, how, phone)",
                28,
            ),
            (
                "{field: how, is: fone}",
                "`fone` is not a choice of `how` (its values: phone, video)",
                28,
            ),
            (
                "{field: email, is: phone}",
                "must be another select or radio field",
                28,
            ),
        ] {
            let text = SiteConfig::parse(&form(cond), Path::new("site.yaml"))
                .unwrap_err()
                .into_diagnostics()
                .to_string();
            assert!(text.contains(says), "{cond}: {text}");
            assert!(
                text.contains(&format!("site.yaml:{line}:")),
                "{cond}: {text}"
            );
        }
    }

    #[test]
    fn unknown_field_type_is_refused_with_position() {
        let src = config_with_forms(
            "  c:\n    title: B\n    thank_you: /t/\n    fields:\n      \
             - {name: n, label: N, type: txt}\n",
        );
        let d = SiteConfig::parse(&src, Path::new("site.yaml"))
            .unwrap_err()
            .into_diagnostics()
            .0
            .remove(0);
        assert_eq!(d.line, Some(19), "{d}");
        assert!(d.message.contains("txt"), "{d}");
    }
}
