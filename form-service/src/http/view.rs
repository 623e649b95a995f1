//! Page fragments every area shows (the inside of `<main>`; `pages::page` puts them in
//! the site's look): a page header, a notice with a link on, the one-button page an
//! emailed link opens, why a link does nothing, a plain message, and the staff sign-in
//! form. Pure functions,
//! tested without a server; everything shown is escaped here.

use site_config::escape_html as esc;

use crate::links::LinkProblem;
use crate::members::ledger::Status;

/// A page's title and lead.
pub(crate) fn header(title: &str, lead: &str) -> String {
    header_html(title, &esc(lead), "")
}

/// A page's title, a lead that is already HTML, and `more` (HTML) inside the header.
pub(crate) fn header_html(title: &str, lead: &str, more: &str) -> String {
    format!(
        "<div class=\"page-header\">\n<h1>{}</h1>\n<p class=\"lead\">{lead}</p>\n{more}</div>\n",
        esc(title)
    )
}

/// A short notice: a title, a lead (already HTML), and one link on (`href`, `label`).
pub(crate) fn notice(title: &str, lead: &str, href: &str, label: &str) -> String {
    let on = format!("<p><a href=\"{}\">{}</a></p>\n", esc(href), esc(label));
    format!(
        "<div class=\"wrap\">\n{}</div>\n",
        header_html(title, lead, &on)
    )
}

/// "Too many forms sent": wait this long (`wait`), or call the clinic (`phone`, which a
/// `tel:` link dials as `dial`; no link when it has no digits), and go back to the form.
pub(crate) fn too_many(title: &str, wait: &str, phone: &str, dial: &str, back: &str) -> String {
    let call = if dial.is_empty() {
        String::new()
    } else {
        format!(
            " or call us on <a href=\"tel:{}\">{}</a>",
            esc(dial),
            esc(phone)
        )
    };
    let lead = format!(
        "Several forms came from your connection in a short time. Your answers were not \
         sent. Please wait {} and send the form again{call}.",
        esc(wait)
    );
    notice(title, &lead, back, "Back to the form")
}

/// A title and a lead, nothing else.
pub(crate) fn message(title: &str, lead: &str) -> String {
    format!("<div class=\"wrap\">\n{}</div>\n", header(title, lead))
}

/// One button that posts `token` (and `extra` hidden fields) to `action`: what every
/// emailed link opens. `shown` is HTML already escaped, put between lead and button.
pub(crate) fn button_page(
    title: &str,
    lead: &str,
    shown: &str,
    action: &str,
    hidden: &[(&str, &str)],
    button: &str,
) -> String {
    let mut fields = String::new();
    for (name, value) in hidden {
        fields.push_str(&format!(
            "<input type=\"hidden\" name=\"{}\" value=\"{}\">\n",
            esc(name),
            esc(value)
        ));
    }
    format!(
        "<div class=\"wrap\">\n{}{shown}<form class=\"form\" method=\"post\" action=\"{}\">\n\
         {fields}<button class=\"button\" type=\"submit\">{}</button>\n</form>\n</div>\n",
        header(title, lead),
        esc(action),
        esc(button)
    )
}

/// What a reward email's staff link says once the reward was settled (by either of its
/// links, or from the command line): what happened, not "already used", since this
/// link may never have been pressed. `None` when `how` settles no reward.
pub(crate) fn reward_settled(how: Status) -> Option<(&'static str, &'static str)> {
    match how {
        Status::Confirmed => Some((
            "This reward was already confirmed",
            "It was marked as used at the clinic, and its points taken from the member's \
             balance. There is nothing more to do.",
        )),
        Status::Released | Status::Void => Some((
            "This reward was already declined",
            "Its points went back to the member's balance. There is nothing more to do.",
        )),
        Status::Pending | Status::Held => None,
    }
}

/// The form that asks for a new link by email.
pub(crate) fn new_link_form(action: &str) -> String {
    format!(
        "<form class=\"form\" method=\"post\" action=\"{}\">\n\
         <div class=\"field\"><label class=\"field__label\" for=\"link-email\">Email address</label>\n\
         <input id=\"link-email\" name=\"email\" type=\"email\" required maxlength=\"254\" autocomplete=\"email\"></div>\n\
         <button class=\"button\" type=\"submit\">Email me a link</button>\n</form>\n",
        esc(action)
    )
}

/// Why a link did nothing, and a way to get a new one.
pub(crate) fn link_problem(problem: LinkProblem, new_link_action: Option<&str>) -> String {
    let (title, lead) = match problem {
        LinkProblem::Expired => (
            "This link has expired",
            "Links in our emails work for a limited time, to keep your account safe.",
        ),
        LinkProblem::Used => (
            "This link has already been used",
            "Each link in our emails works once.",
        ),
        LinkProblem::Unknown => (
            "This link does not work",
            "It may have been cut short or changed on its way. Please use the whole link from the email.",
        ),
    };
    let mut body = format!("<div class=\"wrap\">\n{}", header(title, lead));
    if let Some(action) = new_link_action {
        body.push_str(
            "<p>Give your email address and we will send you a new link, to sign in or to \
             finish registering.</p>\n",
        );
        body.push_str(&new_link_form(action));
    }
    body.push_str("</div>\n");
    body
}

/// The form that asks for a staff sign-in link, carrying `next` through it.
fn staff_link_form(action: &str, next: &str) -> String {
    format!(
        "<form class=\"form\" method=\"post\" action=\"{}\">\n\
         <input type=\"hidden\" name=\"next\" value=\"{}\">\n\
         <div class=\"field\"><label class=\"field__label\" for=\"staff-email\">Staff email address</label>\n\
         <input id=\"staff-email\" name=\"email\" type=\"email\" required maxlength=\"254\" autocomplete=\"email\"></div>\n\
         <button class=\"button\" type=\"submit\">Email me a staff sign-in link</button>\n</form>\n",
        esc(action),
        esc(next)
    )
}

/// Staff links act only in a browser signed in as staff: this asks for the sign-in,
/// and carries `next` (the page to come back to) through it.
pub(crate) fn staff_sign_in(action: &str, next: &str) -> String {
    format!(
        "<div class=\"wrap\">\n{}<p>Staff links act only in a browser signed in as staff. \
         Give your staff address: we email it a link that signs this browser in, then \
         brings you back here. Open that link in this browser: it works only here.</p>\n\
         {}</div>\n",
        header(
            "Sign in as staff first",
            "This page is for the clinic's staff."
        ),
        staff_link_form(action, next)
    )
}

/// A staff sign-in link opened in another browser than the one that asked for it: say
/// so, and offer a new link for this browser (carrying `next`).
pub(crate) fn staff_other_browser(action: &str, next: &str) -> String {
    format!(
        "<div class=\"wrap\">\n{}<p>Open the link from the email in the browser where you \
         asked for it, or ask for a new link here: it will sign this browser in.</p>\n\
         {}</div>\n",
        header(
            "Open this link in the browser where you asked for it",
            "A staff sign-in link signs in only the browser that asked for it, so a \
             forwarded copy of the email signs no one in. Nothing was done."
        ),
        staff_link_form(action, next)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn everything_shown_is_escaped() {
        let p = button_page("T<", "L&", "", "/a?b=\"c\"", &[("token", "x\"y")], "Go");
        assert!(p.contains("T&lt;") && p.contains("L&amp;"));
        assert!(p.contains("value=\"x&quot;y\""), "{p}");
        let s = staff_sign_in("/staff/link", "/comments/moderate?token=a\"b");
        assert!(s.contains("token=a&quot;b"));
        let s = staff_other_browser("/staff/link", "/comments/moderate?token=a\"b");
        assert!(s.contains("token=a&quot;b") && s.contains("name=\"email\""));
        let p = link_problem(LinkProblem::Expired, Some("/members/link"));
        assert!(p.contains("expired") && p.contains("<form"));
        assert!(!link_problem(LinkProblem::Unknown, None).contains("<form"));
        let n = notice("T<", "lead", "/x?a=\"b\"", "On &");
        assert!(n.contains("T&lt;") && n.contains("href=\"/x?a=&quot;b&quot;\">On &amp;</a>"));
    }

    #[test]
    fn notices_keep_their_link_inside_the_header() {
        assert_eq!(
            notice(
                "Gone",
                "Sorry.",
                "https://a.example/",
                "Go to the home page"
            ),
            "<div class=\"wrap\">\n<div class=\"page-header\">\n<h1>Gone</h1>\n\
             <p class=\"lead\">Sorry.</p>\n<p><a href=\"https://a.example/\">Go to the home \
             page</a></p>\n</div>\n</div>\n"
        );
    }

    #[test]
    fn too_many_offers_a_call_only_with_a_number() {
        let p = too_many("Too many", "a minute", "020 7946", "0207946", "/back/");
        assert!(p.contains("again or call us on <a href=\"tel:0207946\">020 7946</a>."));
        assert!(p.contains("<a href=\"/back/\">Back to the form</a>"));
        let p = too_many("Too many", "a minute", "ask us", "", "/back/");
        assert!(p.contains("send the form again.</p>") && !p.contains("tel:"));
    }
}
