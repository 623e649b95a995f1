//! The comments' pages as HTML fragments (the inside of `<main>`); `pages::page` puts
//! them in the site's look. Pure functions of what they show, so they are tested
//! without a server. Everything a visitor, member or staff typed is escaped here.

use site_config::escape_html as esc;

use crate::comments::Comment;
use crate::http::view::header;
use crate::members::accounts::Member;

/// "Check your email" after a post from someone not signed in: the comment is kept and
/// `email` has been sent its link.
pub(super) fn held(email: &str) -> String {
    format!(
        "<div class=\"wrap\">\n{}<p>Open the email and press the button on the page the link \
         opens. Your comment then goes to our staff, who read every comment before it \
         appears. If you are new, the same button confirms your membership and adds your \
         welcome points.</p>\n</div>\n",
        header(
            "Check your email",
            &format!("We have kept your comment and sent a link to {email}.")
        )
    )
}

/// A held comment as its author sees it again, on `page_url`.
pub(super) fn held_comment(page_url: &str, c: &Comment) -> String {
    format!(
        "<p>On <a href=\"{url}\">{url}</a>, shown as <strong>{}</strong>:</p>\n<blockquote>{}</blockquote>\n",
        esc(&c.author),
        text(&c.body),
        url = esc(page_url)
    )
}

/// The comment as staff see it on a moderation page, on `page_url`, from `m`.
pub(super) fn for_staff(page_url: &str, c: &Comment, m: Option<&Member>) -> String {
    let who = m.map_or_else(String::new, |m| format!(" ({}, {})", m.name, m.email));
    let mut h = format!(
        "<p>On <a href=\"{url}\">{url}</a>, from <strong>{}</strong>{}:</p>\n<blockquote>{}</blockquote>\n",
        esc(&c.author),
        esc(&who),
        text(&c.body),
        url = esc(page_url)
    );
    if !c.flags.is_empty() {
        h.push_str(&format!(
            "<p class=\"callout\"><strong>Check before approving:</strong> it {}.</p>\n",
            esc(&c.flags.replace(", ", " and "))
        ));
    }
    if let Some(r) = &c.reply {
        h.push_str(&format!("<p>Your current reply: {}</p>\n", esc(r)));
    }
    h
}

/// What a moderation link's page asks staff to do.
pub(super) enum Control<'a> {
    /// Publish.
    Approve,
    /// Reject, choosing one of the site's reasons.
    Reject(&'a [String]),
    /// Reply (at most `reply_limit` characters), which publishes too.
    Reply { reply_limit: usize },
}

impl Control<'_> {
    /// The page's title.
    pub(super) fn title(&self) -> &'static str {
        match self {
            Control::Approve => "Approve this comment",
            Control::Reject(_) => "Reject this comment",
            Control::Reply { .. } => "Reply to this comment",
        }
    }

    fn html(&self) -> String {
        match self {
            Control::Approve => {
                "<button class=\"button\" type=\"submit\">Approve and publish</button>".to_string()
            }
            Control::Reject(reasons) => {
                let mut f = String::from(
                    "<fieldset class=\"field\"><legend class=\"field__label\">Why? The member is told this reason.</legend>\n",
                );
                for (i, r) in reasons.iter().enumerate() {
                    f.push_str(&format!(
                        "<label class=\"choice\"><input type=\"radio\" name=\"reason\" value=\"{i}\" required> {}</label>\n",
                        esc(r)
                    ));
                }
                f.push_str("</fieldset>\n<button class=\"button\" type=\"submit\">Reject</button>");
                f
            }
            Control::Reply { reply_limit } => format!(
                "<div class=\"field\"><label class=\"field__label\" for=\"reply\">Your reply, shown under the comment as the clinic's</label>\n\
                 <textarea id=\"reply\" name=\"reply\" rows=\"5\" maxlength=\"{reply_limit}\" required></textarea></div>\n\
                 <button class=\"button\" type=\"submit\">Publish reply (and the comment)</button>"
            ),
        }
    }
}

/// A moderation page: the comment as staff see it (`shown`, from [`for_staff`]) and one
/// control, posting `token` to `action`.
pub(super) fn moderate(control: &Control<'_>, shown: &str, action: &str, token: &str) -> String {
    format!(
        "<div class=\"wrap\">\n<div class=\"page-header\">\n<h1>{}</h1>\n</div>\n{shown}\
         <form class=\"form\" method=\"post\" action=\"{}\">\n<input type=\"hidden\" name=\"token\" value=\"{}\">\n{}\n</form>\n</div>\n",
        esc(control.title()),
        esc(action),
        esc(token),
        control.html()
    )
}

/// Comment text as HTML: escaped, its line breaks kept.
fn text(body: &str) -> String {
    esc(body).replace('\n', "<br>\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::comments::Status;

    fn comment() -> Comment {
        Comment {
            id: 1,
            public_id: "p".into(),
            member: 2,
            service: "smp".into(),
            page: "/services/smp/".into(),
            author: "Ann <b>".into(),
            body: "Line & one\nline two".into(),
            status: Status::Held,
            flags: String::new(),
            reason: None,
            reply: None,
            replied_at: None,
            created_at: 0,
            submitted_at: None,
            decided_by: None,
        }
    }

    #[test]
    fn what_people_typed_is_escaped_and_keeps_its_lines() {
        let h = held_comment("https://a.example/services/smp/", &comment());
        assert!(h.contains("<strong>Ann &lt;b&gt;</strong>"), "{h}");
        assert!(h.contains("<blockquote>Line &amp; one<br>\nline two</blockquote>"));
        assert!(held("a<b@example.com").contains("sent a link to a&lt;b@example.com."));
    }

    #[test]
    fn staff_see_warnings_and_the_current_reply() {
        let mut c = comment();
        assert!(!for_staff("/p", &c, None).contains("callout"));
        c.flags =
            "looks like it contains an email address, looks like it contains a phone number".into();
        c.reply = Some("Thanks & bye".into());
        let h = for_staff("/p", &c, None);
        assert!(h.contains("an email address and looks like"), "{h}");
        assert!(h.contains("<p>Your current reply: Thanks &amp; bye</p>"));
    }

    #[test]
    fn each_control_posts_the_token() {
        let reasons = vec!["Off <topic>".to_string()];
        for (control, has) in [
            (Control::Approve, "Approve and publish"),
            (
                Control::Reject(&reasons),
                "value=\"0\" required> Off &lt;topic&gt;",
            ),
            (Control::Reply { reply_limit: 2000 }, "maxlength=\"2000\""),
        ] {
            let p = moderate(&control, "", "/comments/moderate", "t\"k");
            assert!(p.contains(has), "{p}");
            assert!(p.contains(&format!("<h1>{}</h1>", control.title())));
            assert!(p.contains("name=\"token\" value=\"t&quot;k\""));
        }
    }
}
