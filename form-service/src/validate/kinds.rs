//! A valid submission, typed by its form's kind: the handler of each kind receives the
//! fields it uses by name once, here, instead of reading them back one by one.

use site_config::{FormDecl, FormKind};

use super::Submission;

/// A valid post, by kind.
#[derive(Debug, Clone)]
pub enum Typed {
    /// A request stored and emailed to staff (consultations): every answer counts.
    Request(Submission),
    /// A loyalty-programme registration.
    Registration(RegistrationPost),
    /// A comment on a service page.
    Comment(CommentPost),
}

/// What a registration form sends (`name`, `email`, `referral`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistrationPost {
    /// The name given.
    pub name: String,
    /// The address as typed (trimmed).
    pub email: String,
    /// The referral code given, if any.
    pub referral: Option<String>,
}

/// What the comment form sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommentPost {
    /// The service's slug.
    pub service: String,
    /// The name to show.
    pub display_name: String,
    /// The comment.
    pub text: String,
    /// The address, when not signed in.
    pub email: Option<String>,
    /// Agreed to the programme's terms (needed when not signed in).
    pub consent: bool,
    /// Every answer, to fill the form again if something is missing.
    pub answers: Vec<(String, String)>,
}

/// Types a valid submission by its form's kind.
pub fn typed(decl: &FormDecl, sub: Submission) -> Typed {
    let value = |f: &str| {
        sub.answer(f)
            .map(|a| a.value.trim().to_string())
            .unwrap_or_default()
    };
    let some = |v: String| Some(v).filter(|v| !v.is_empty());
    match decl.kind {
        FormKind::Registration => Typed::Registration(RegistrationPost {
            name: value("name"),
            email: value("email"),
            referral: some(value("referral")),
        }),
        FormKind::Comment => Typed::Comment(CommentPost {
            service: value("service"),
            display_name: value("display_name"),
            text: sub
                .answer("comment")
                .map(|a| a.value.clone())
                .unwrap_or_default(),
            email: some(value("email")),
            consent: !value("consent").is_empty(),
            answers: sub
                .answers
                .iter()
                .map(|a| (a.name.clone(), a.value.clone()))
                .collect(),
        }),
        FormKind::Request => Typed::Request(sub),
    }
}
