//! A post checked against its form's declaration: raw answers in, a [`Submission`] the
//! rest of the service can trust out, or every problem found with the answers kept.
//!
//! Rules: values are trimmed, lengths count characters, one-line answers may hold no
//! control characters (so a name can never break a mail header), choices and services
//! must be declared ones, consent must be given, a field declared `required_when`
//! another answer is needed when that answer is given, and unknown fields are refused.

use std::collections::BTreeMap;

use site_config::{FieldKind, FormDecl, FormField, FormKind, ServiceRef};

/// One posted value as the body carried it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RawValue {
    /// Text (or a JSON string; JSON `true` arrives as `yes`).
    Text(String),
    /// Bytes that were not valid UTF-8.
    Unreadable,
    /// A JSON value that is not text (a number, a list, an object, `null`).
    NotText,
}

/// The answers of one post, in the order they came, duplicates included.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawAnswers(pub Vec<(String, RawValue)>);

/// One checked answer, with what staff should see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// Field name.
    pub name: String,
    /// Field label.
    pub label: String,
    /// The value as stored (trimmed).
    pub value: String,
    /// The value as shown to staff: a choice's label, a service's title.
    pub display: String,
}

/// A post that passed every check.
#[derive(Debug, Clone)]
pub struct Submission {
    /// Form name.
    pub form: String,
    /// Every declared field, in declared order; unanswered optional ones are empty.
    pub answers: Vec<Answer>,
    /// The visitor's email address, lowercased.
    pub email: String,
    /// Hash of the form and its normalised answers, for double-click detection.
    pub fingerprint: [u8; 32],
    /// The site page the form was sent from (`/services/smp/`), when the form said.
    pub page: Option<String>,
}

impl Submission {
    /// The answer to `field`.
    pub fn answer(&self, field: &str) -> Option<&Answer> {
        self.answers.iter().find(|a| a.name == field)
    }
}

/// What is wrong with a post, and the answers to show again.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Problems {
    /// Declared fields' answers, to fill the form again.
    pub kept: BTreeMap<String, String>,
    /// A message per field name (including unknown names).
    pub errors: BTreeMap<String, String>,
}

/// The verdict on a post.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// Store it.
    Valid(Submission),
    /// The honeypot was filled or left out: answer as if stored, and drop it.
    Bot,
    /// Show the form again.
    Invalid(Problems),
}

/// Checks `raw` against `decl`.
pub fn validate(form: &str, decl: &FormDecl, services: &[ServiceRef], raw: &RawAnswers) -> Outcome {
    let honeypot_empty = raw
        .0
        .iter()
        .filter(|(k, _)| *k == decl.honeypot)
        .all(|(_, v)| matches!(v, RawValue::Text(t) if t.trim().is_empty()));
    let honeypot_present = raw.0.iter().any(|(k, _)| *k == decl.honeypot);
    if !honeypot_present || !honeypot_empty {
        return Outcome::Bot;
    }

    let mut problems = Problems::default();
    let mut given: BTreeMap<&str, &RawValue> = BTreeMap::new();
    for (k, v) in &raw.0 {
        if *k == decl.honeypot {
            continue;
        }
        match decl.field(k) {
            None => {
                let shown: String = k.chars().filter(|c| !c.is_control()).take(40).collect();
                problems.errors.insert(
                    shown.clone(),
                    format!("This form has no field called “{shown}”."),
                );
            }
            Some(f) => {
                if given.insert(f.name.as_str(), v).is_some() {
                    problems
                        .errors
                        .insert(f.name.clone(), format!("{} was sent twice.", f.label));
                }
            }
        }
    }

    let mut answers = Vec::with_capacity(decl.fields.len());
    for f in &decl.fields {
        let value = match given.get(f.name.as_str()) {
            None => String::new(),
            Some(RawValue::Text(t)) => normalise(f.kind, t),
            Some(RawValue::Unreadable) => {
                problems.errors.entry(f.name.clone()).or_insert_with(|| {
                    "This answer has characters we could not read. Please type it again."
                        .to_string()
                });
                continue;
            }
            Some(RawValue::NotText) => {
                problems
                    .errors
                    .entry(f.name.clone())
                    .or_insert_with(|| format!("{} must be text.", f.label));
                continue;
            }
        };
        if !value.is_empty() {
            // Filled back into the form: without the characters it is refused for (a
            // NUL or an escape sent back raw into the page helps no one).
            let shown: String = value.chars().filter(|c| !forbidden(f.kind, *c)).collect();
            problems.kept.insert(f.name.clone(), shown);
        }
        if value.is_empty() {
            if let Some(choice) = needed_by_other_answer(decl, f, &given) {
                problems.errors.entry(f.name.clone()).or_insert_with(|| {
                    format!(
                        "{} is needed for “{choice}”.",
                        f.label.trim_end_matches(['?', ':'])
                    )
                });
                continue;
            }
        }
        match check_field(decl.kind, f, &value, services) {
            Ok(display) => answers.push(Answer {
                name: f.name.clone(),
                label: f.label.clone(),
                value,
                display,
            }),
            Err(msg) => {
                problems.errors.entry(f.name.clone()).or_insert(msg);
            }
        }
    }

    if !problems.errors.is_empty() {
        return Outcome::Invalid(problems);
    }
    let email = decl
        .fields
        .iter()
        .find(|f| f.kind == FieldKind::Email)
        .and_then(|f| answers.iter().find(|a| a.name == f.name))
        .map(|a| crate::address::key(&a.value))
        .unwrap_or_default();
    let fingerprint = fingerprint(form, &answers);
    Outcome::Valid(Submission {
        form: form.to_string(),
        answers,
        email,
        fingerprint,
        page: None,
    })
}

/// The label of the answer that makes the empty field `f` needed, if that answer was
/// given (`By phone` for a phone number `required_when: {field: contact_method, is: phone}`).
fn needed_by_other_answer<'d>(
    decl: &'d FormDecl,
    f: &FormField,
    given: &BTreeMap<&str, &RawValue>,
) -> Option<&'d str> {
    let w = f.required_when.as_ref()?;
    match given.get(w.field.as_str()) {
        Some(RawValue::Text(t)) if t.trim() == w.is => decl.required_when_label(f),
        _ => None,
    }
}

/// `from`, the page a form was sent from (the generator adds `?from=/path/` to a
/// form's address), if it is a plain site path; anything else is dropped, since it
/// only says where a request started. The path names a file under the site folder when
/// the form is shown again, so no segment may start with a dot (`..`, hidden files).
pub fn page_from(from: &str) -> Option<String> {
    let ok = from.starts_with('/')
        && from.len() <= 200
        && from
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/-_.".contains(&b))
        && from[1..]
            .split('/')
            .enumerate()
            .all(|(i, seg)| !seg.starts_with('.') && (!seg.is_empty() || i > 0 || from == "/"))
        && !from.contains("//");
    ok.then(|| from.to_string())
}

/// Trims, for multi-line text turns CRLF into LF, and reads a ticked box's `on` (what
/// a browser sends for a checkbox without a value, and what a JSON client copying it
/// sends) as `yes`.
fn normalise(kind: FieldKind, t: &str) -> String {
    let t = t.trim();
    if kind == FieldKind::Checkbox && t == "on" {
        "yes".to_string()
    } else if kind == FieldKind::Textarea {
        t.replace("\r\n", "\n").replace('\r', "\n")
    } else {
        t.to_string()
    }
}

/// The label with a lowercase first letter, to sit inside a sentence.
fn in_sentence(label: &str) -> String {
    let mut c = label.chars();
    match c.next() {
        Some(first) if c.clone().next().is_some_and(|n| n.is_lowercase()) => {
            first.to_lowercase().chain(c).collect()
        }
        _ => label.to_string(),
    }
}

/// A character refused in an answer of this kind: control characters (but line breaks
/// and tabs in a multi-line answer) and the Unicode line and paragraph separators.
fn forbidden(kind: FieldKind, c: char) -> bool {
    (c.is_control() && !(kind == FieldKind::Textarea && (c == '\n' || c == '\t')))
        || c == '\u{2028}'
        || c == '\u{2029}'
}

/// What an unticked required box says, in the words of what the form does.
fn tick_message(form: FormKind) -> &'static str {
    match form {
        FormKind::Request => "Tick this box to send your request.",
        FormKind::Registration => "Tick this box to join the loyalty programme.",
        FormKind::Comment => "Tick this box to send your comment.",
    }
}

/// Checks one answer of a form of kind `form`; returns what staff see, or the message
/// for the visitor.
fn check_field(
    form: FormKind,
    f: &FormField,
    value: &str,
    services: &[ServiceRef],
) -> Result<String, String> {
    if value.is_empty() {
        if f.required {
            return Err(match f.kind {
                FieldKind::Checkbox => tick_message(form).to_string(),
                FieldKind::Select | FieldKind::Radio | FieldKind::Service => {
                    format!("Choose an answer to “{}”.", f.label.trim_end_matches('?'))
                }
                _ => format!("Enter {}.", in_sentence(&f.label)),
            });
        }
        return Ok(String::new());
    }
    if value.chars().any(|c| forbidden(f.kind, c)) {
        return Err(if f.kind == FieldKind::Textarea {
            format!("{} contains characters that cannot be sent.", f.label)
        } else {
            format!(
                "{} must be on one line, without special characters.",
                f.label
            )
        });
    }
    if f.kind != FieldKind::Textarea {
        if let Some(problem) = one_line_problem(value) {
            return Err(format!("{} {problem}", f.label));
        }
    }
    let chars = value.chars().count();
    if chars > f.max_length() {
        return Err(format!(
            "{} must be {} characters or fewer (it has {chars}).",
            f.label,
            f.max_length()
        ));
    }
    if let Some(min) = f.min_length {
        if chars < min {
            return Err(format!("{} must be at least {min} characters.", f.label));
        }
    }
    match f.kind {
        FieldKind::Email if !is_email(value) => {
            Err("Enter an email address in the right format, like name@example.com.".into())
        }
        FieldKind::Tel if !is_phone(value) => Err(
            "Enter a phone number using digits, spaces and + ( ) - only, like 020 7946 0321."
                .into(),
        ),
        FieldKind::Select | FieldKind::Radio => f
            .choice_label(value)
            .map(str::to_string)
            .ok_or_else(|| format!("Choose one of the answers listed for “{}”.", f.label)),
        FieldKind::Service => services
            .iter()
            .find(|s| s.slug == value)
            .map(|s| s.title.clone())
            .ok_or_else(|| "Choose one of the treatments in the list.".to_string()),
        FieldKind::Checkbox if value != "yes" => Err(tick_message(form).into()),
        FieldKind::Checkbox => Ok("Yes".into()),
        _ => Ok(value.to_string()),
    }
}

/// What makes a one-line answer (a name, a subject) unsafe to put in a mail header or
/// beside other text, beyond control characters: bidirectional overrides and isolates,
/// which can turn the text around it, and RFC 2047 encoded words (`=?utf-8?b?...?=`),
/// which a mail program would decode into something else than what staff were shown.
pub fn one_line_problem(value: &str) -> Option<&'static str> {
    if value
        .chars()
        .any(|c| matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'))
    {
        return Some("cannot contain characters that change the direction of text.");
    }
    if let Some(start) = value.find("=?") {
        if value[start + 2..].contains("?=") {
            return Some("cannot contain “=?…?=” sequences (encoded email text).");
        }
    }
    None
}

/// An address we can reply to: `local@domain.tld`, ASCII, no quoting, no comments.
pub fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.rsplit_once('@') else {
        return false;
    };
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+/=?^_`{|}~.-".contains(&b));
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2
        && domain.len() <= 253
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
        && labels
            .last()
            .is_some_and(|tld| tld.len() >= 2 && tld.bytes().all(|b| b.is_ascii_alphabetic()));
    local_ok && domain_ok && s.parse::<lettre::Address>().is_ok()
}

/// Digits with the usual separators, 6 to 15 digits.
pub fn is_phone(s: &str) -> bool {
    let digits = s.chars().filter(char::is_ascii_digit).count();
    s.chars()
        .all(|c| c.is_ascii_digit() || " +-().".contains(c))
        && (6..=15).contains(&digits)
}

fn fingerprint(form: &str, answers: &[Answer]) -> [u8; 32] {
    let mut h = blake3::Hasher::new();
    h.update(form.as_bytes());
    for a in answers {
        h.update(b"\0");
        h.update(a.name.as_bytes());
        h.update(b"=");
        let folded: Vec<String> = a.value.split_whitespace().map(str::to_lowercase).collect();
        h.update(folded.join(" ").as_bytes());
    }
    *h.finalize().as_bytes()
}

pub mod kinds;
#[cfg(test)]
mod tests;
