//! Validation rules, one case each, against the fixture site's consultation form.

use std::path::Path;

use site_config::{ServiceRef, SiteConfig};

use super::*;

fn site() -> SiteConfig {
    SiteConfig::parse(
        include_str!("../../tests/fixtures/site/site.yaml"),
        Path::new("site.yaml"),
    )
    .unwrap()
}

fn services() -> Vec<ServiceRef> {
    vec![ServiceRef {
        slug: "scalp-micropigmentation".into(),
        title: "Scalp Micropigmentation".into(),
        order: 1,
    }]
}

fn good() -> Vec<(&'static str, &'static str)> {
    vec![
        ("name", "  Ann Smith "),
        ("email", "Ann@Example.COM"),
        ("phone", ""),
        ("contact_method", "video"),
        ("availability", "Weekday evenings"),
        ("service", "scalp-micropigmentation"),
        ("message", "Line one\r\nLine two"),
        ("consent", "yes"),
        ("website", ""),
    ]
}

fn run(pairs: &[(&str, &str)]) -> Outcome {
    let raw = RawAnswers(
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), RawValue::Text(v.to_string())))
            .collect(),
    );
    let site = site();
    validate(
        "consultation",
        &site.forms["consultation"],
        &services(),
        &raw,
    )
}

fn errors(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    match run(pairs) {
        Outcome::Invalid(p) => p.errors,
        other => panic!("expected problems, got {other:?}"),
    }
}

fn with(field: &'static str, value: &'static str) -> Vec<(&'static str, &'static str)> {
    let mut p = good();
    p.iter_mut().find(|(k, _)| *k == field).unwrap().1 = value;
    p
}

#[test]
fn a_good_post_is_trimmed_and_labelled() {
    let Outcome::Valid(s) = run(&good()) else {
        panic!()
    };
    assert_eq!(s.answer("name").unwrap().value, "Ann Smith");
    assert_eq!(s.email, "ann@example.com");
    assert_eq!(s.answer("contact_method").unwrap().display, "By video call");
    assert_eq!(
        s.answer("service").unwrap().display,
        "Scalp Micropigmentation"
    );
    assert_eq!(s.answer("message").unwrap().value, "Line one\nLine two");
    assert_eq!(s.answer("consent").unwrap().display, "Yes");
    assert_eq!(s.answers.len(), 8, "every declared field, in order");
}

#[test]
fn honeypot_filled_or_missing_is_a_bot() {
    assert!(matches!(run(&with("website", "http://spam")), Outcome::Bot));
    let mut p = good();
    p.retain(|(k, _)| *k != "website");
    assert!(matches!(run(&p), Outcome::Bot));
}

#[test]
fn required_fields_and_consent() {
    let e = errors(&with("name", "   "));
    assert_eq!(e["name"], "Enter your name.");
    let e = errors(&with("consent", ""));
    assert_eq!(e["consent"], "Tick this box to send your request.");
    let e = errors(&with("consent", "no"));
    assert!(e.contains_key("consent"));
}

/// A browser's checkbox without a value sends `on`, and JSON clients copying it do
/// too: it was refused, as if the box were not ticked.
#[test]
fn a_ticked_box_sent_as_on_counts_as_ticked() {
    let Outcome::Valid(s) = run(&with("consent", "on")) else {
        panic!("`on` refused")
    };
    assert_eq!(s.answer("consent").unwrap().value, "yes");
    assert_eq!(s.answer("consent").unwrap().display, "Yes");
}

/// The registration form's unticked consent once said "to send your request".
#[test]
fn an_unticked_box_says_what_the_form_does() {
    let site = site();
    let raw = RawAnswers(
        [
            ("name", "Ann"),
            ("email", "ann@example.com"),
            ("referral", ""),
            ("website", ""),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), RawValue::Text(v.to_string())))
        .collect(),
    );
    let Outcome::Invalid(p) = validate("membership", &site.forms["membership"], &services(), &raw)
    else {
        panic!("an unticked consent passed")
    };
    assert_eq!(
        p.errors["consent"],
        "Tick this box to join the loyalty programme."
    );
}

/// A NUL (or any character an answer is refused for) was sent back raw in the form
/// filled in again; the kept answer leaves it out, and keeps the rest.
#[test]
fn kept_answers_leave_out_the_characters_they_were_refused_for() {
    let Outcome::Invalid(p) = run(&with("name", "Ann\u{0}Smith\u{1b}")) else {
        panic!()
    };
    assert!(p.errors["name"].contains("one line"));
    assert_eq!(p.kept["name"], "AnnSmith");
    let Outcome::Invalid(p) = run(&with("message", "a\n\tb\u{0}")) else {
        panic!()
    };
    assert_eq!(p.kept["message"], "a\n\tb");
}

#[test]
fn control_characters_never_pass_in_one_line_fields() {
    for bad in [
        "Ann\r\nBcc: x@evil.example",
        "Ann\nSmith",
        "Ann\u{0}",
        "A\u{2028}B",
        "A\tB",
    ] {
        let mut p = good();
        p[0].1 = bad;
        let e = errors(&p);
        assert!(e["name"].contains("one line"), "{bad:?}: {e:?}");
    }
    // A message may have line breaks and tabs, but not other control characters.
    assert!(matches!(run(&with("message", "a\n\tb")), Outcome::Valid(_)));
    assert!(errors(&with("message", "a\u{7}b")).contains_key("message"));
}

#[test]
fn lengths_count_characters_not_bytes() {
    let hundred_e_acute: &'static str = "é".repeat(100).leak();
    assert!(matches!(
        run(&with("name", hundred_e_acute)),
        Outcome::Valid(_)
    ));
    let too_long: &'static str = "é".repeat(101).leak();
    assert!(errors(&with("name", too_long))["name"].contains("100 characters or fewer"));
}

#[test]
fn email_phone_choice_and_service_are_checked() {
    for bad in [
        "ann",
        "ann@",
        "@x.com",
        "ann@example",
        "a b@x.com",
        "ann@exa_mple.com",
        "ann@x.c0m",
    ] {
        assert!(errors(&with("email", bad)).contains_key("email"), "{bad}");
    }
    assert!(matches!(
        run(&with("phone", "+44 (0)20 7946-0321")),
        Outcome::Valid(_)
    ));
    assert!(errors(&with("phone", "call me")).contains_key("phone"));
    assert!(errors(&with("contact_method", "carrier-pigeon")).contains_key("contact_method"));
    assert!(errors(&with("service", "not-a-service")).contains_key("service"));
}

#[test]
fn unknown_and_repeated_fields_are_refused() {
    let mut p = good();
    p.push(("admin", "1"));
    p.push(("name", "Bob"));
    let e = errors(&p);
    assert!(e["admin"].contains("no field called"), "{e:?}");
    assert!(e["name"].contains("twice"), "{e:?}");
}

#[test]
fn problems_keep_every_answer() {
    let Outcome::Invalid(p) = run(&with("email", "nope")) else {
        panic!()
    };
    assert_eq!(p.kept["name"], "Ann Smith");
    assert_eq!(p.kept["email"], "nope");
    assert_eq!(p.kept["message"], "Line one\nLine two");
    assert_eq!(p.errors.len(), 1);
}

#[test]
fn unreadable_and_non_text_values_are_per_field_errors() {
    let mut raw: Vec<(String, RawValue)> = good()
        .into_iter()
        .map(|(k, v)| (k.to_string(), RawValue::Text(v.to_string())))
        .collect();
    raw[0].1 = RawValue::Unreadable;
    raw[1].1 = RawValue::NotText;
    let site = site();
    let Outcome::Invalid(p) = validate(
        "consultation",
        &site.forms["consultation"],
        &services(),
        &RawAnswers(raw),
    ) else {
        panic!()
    };
    assert!(p.errors["name"].contains("could not read"));
    assert!(p.errors["email"].contains("must be text"));
}

#[test]
fn fingerprint_ignores_case_and_spacing_but_not_content() {
    let fp = |pairs: &[(&str, &str)]| match run(pairs) {
        Outcome::Valid(s) => s.fingerprint,
        other => panic!("{other:?}"),
    };
    assert_eq!(fp(&good()), fp(&with("name", "ann   SMITH")));
    assert_ne!(fp(&good()), fp(&with("name", "Ann Smyth")));
}

#[test]
fn the_page_a_form_came_from_is_a_plain_site_path() {
    use crate::validate::page_from;
    for good in [
        "/",
        "/consultation/",
        "/services/scalp-micropigmentation/",
        "/a_b/c-d.html",
    ] {
        assert_eq!(page_from(good).as_deref(), Some(good), "{good}");
    }
    for bad in [
        "",
        "services/",
        "//evil.example/",
        "/../etc/",
        "/services/../../x/",
        "/.git/",
        "/a//b/",
        "/a b/",
        "/a?b",
        "/%2e%2e/",
        "https://evil.example/",
    ] {
        assert_eq!(page_from(bad), None, "{bad}");
    }
    assert_eq!(page_from(&format!("/{}", "a".repeat(200))), None);
}

#[test]
fn a_field_required_when_another_answer_is_given_says_so_beside_it() {
    let site = site();
    let mut decl = site.forms["consultation"].clone();
    let phone = decl.fields.iter_mut().find(|f| f.name == "phone").unwrap();
    phone.required = false;
    phone.required_when = Some(site_config::RequiredWhen {
        field: "contact_method".into(),
        is: "phone".into(),
    });
    let check = |pairs: &[(&str, &str)]| {
        let raw = RawAnswers(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), RawValue::Text(v.to_string())))
                .collect(),
        );
        validate("consultation", &decl, &services(), &raw)
    };
    let mut by_phone = good();
    by_phone.retain(|(k, _)| *k != "contact_method");
    by_phone.push(("contact_method", "phone"));
    match check(&by_phone) {
        Outcome::Invalid(p) => {
            assert_eq!(p.errors.len(), 1, "{p:?}");
            assert!(p.errors["phone"].contains("is needed for “"), "{p:?}");
        }
        other => panic!("a phone consultation without a number: {other:?}"),
    }
    by_phone.retain(|(k, _)| *k != "phone");
    by_phone.push(("phone", "020 7946 0321"));
    assert!(matches!(check(&by_phone), Outcome::Valid(_)));
    // Another way to talk needs no number.
    assert!(matches!(check(&good()), Outcome::Valid(_)));
}
