//! The emails of everything signed in by link: members' confirmation and sign-in
//! links, the link that sends a held comment on (`comment_to_confirm`), a staff
//! browser's sign-in link (`staff_sign_in`), "a friend joined", and the staff email for
//! a reward. Each is plain text with an HTML twin, from the clinic's address; links
//! point at the form service's public address (`links::url`). The parts every such
//! email is made of (`build`, `Block`, `mailbox`, `hello`) are shared with
//! `comments::mail`.

use crate::error::Mail;
use lettre::message::{Mailbox, MultiPart};
use lettre::Message;
use site_config::{escape_html, Reward};

use super::accounts::Member;
use crate::store::{MailKind, NewMail};
use crate::{Error, Settings};

/// A paragraph or a button-like link.
pub(crate) enum Block<'a> {
    Text(String),
    Link(&'a str, &'a str),
}

pub(crate) fn build(
    s: &Settings,
    to: Mailbox,
    reply_to: Option<Mailbox>,
    kind: MailKind,
    subject: String,
    blocks: &[Block<'_>],
) -> Result<NewMail, Error> {
    let mut text = String::new();
    let mut html = String::from("<!doctype html>\n<html><body>\n");
    for b in blocks {
        match b {
            Block::Text(t) if t.is_empty() => {}
            Block::Text(t) => {
                text.push_str(t);
                text.push_str("\n\n");
                html.push_str(&format!("<p>{}</p>\n", escape_html(t)));
            }
            Block::Link(label, url) => {
                text.push_str(&format!("{label}:\n{url}\n\n"));
                html.push_str(&format!(
                    "<p><a href=\"{}\"><strong>{}</strong></a></p>\n",
                    escape_html(url),
                    escape_html(label)
                ));
            }
        }
    }
    let clinic = &s.site.business;
    text.push_str(&format!(
        "{}\n{}\n{}\n",
        clinic.name, clinic.phone, s.base_url
    ));
    html.push_str(&format!(
        "<p>{}<br>{}<br><a href=\"{url}\">{url}</a></p>\n</body></html>\n",
        escape_html(&clinic.name),
        escape_html(&clinic.phone),
        url = escape_html(&s.base_url)
    ));
    let envelope_to = to.email.to_string();
    let mut message = Message::builder().from(s.from.clone()).to(to);
    if let Some(r) = reply_to {
        message = message.reply_to(r);
    }
    // Spam filters penalise mail without a Message-ID (issue 15, item 17); the id is
    // random, on the clinic's own domain, and fixed with the message, so a retry sends
    // the same one.
    let id: [u8; 16] = rand::random();
    let id: String = id.iter().map(|b| format!("{b:02x}")).collect();
    let message = message
        .date_now()
        .message_id(Some(format!("<{id}@{}>", s.from.email.domain())))
        .subject(subject.clone())
        .multipart(MultiPart::alternative_plain_html(text, html))
        .map_err(Mail::Build)?;
    Ok(NewMail {
        kind,
        envelope_from: s.from.email.to_string(),
        envelope_to,
        subject,
        message: message.formatted(),
        about: None,
    })
}

pub(crate) fn mailbox(name: Option<&str>, email: &str) -> Result<Mailbox, Error> {
    let address = email.trim().parse().map_err(|source| Mail::Address {
        whose: "member",
        source,
    })?;
    // Names come from validation, which refuses control characters.
    Ok(Mailbox::new(name.map(str::to_string), address))
}

pub(crate) fn hello(name: Option<&str>) -> String {
    name.map_or_else(|| "Hello,".to_string(), |n| format!("Hello {n},"))
}

/// Who a member's link email is for, and what it carries.
pub struct LinkMail<'a> {
    /// Their name, only once they have confirmed it (never for a confirmation: the
    /// address may belong to someone who never asked, and the name is a stranger's text).
    pub name: Option<&'a str>,
    /// Their address as stored.
    pub email: &'a str,
    /// The link.
    pub url: &'a str,
    /// A sentence put first, written by us (never text a visitor typed).
    pub note: Option<&'a str>,
}

/// The one shape of the link emails: greeting, note, why, the link, how long it works.
fn link_mail(
    s: &Settings,
    to: &LinkMail<'_>,
    subject: String,
    why: String,
    button: &str,
    lasts: String,
) -> Result<NewMail, Error> {
    build(
        s,
        mailbox(to.name, to.email)?,
        None,
        MailKind::Member,
        subject,
        &[
            Block::Text(hello(to.name)),
            Block::Text(to.note.unwrap_or_default().to_string()),
            Block::Text(why),
            Block::Link(button, to.url),
            Block::Text(lasts),
        ],
    )
}

/// The link to confirm a new registration. It greets no one by name and repeats nothing
/// the requester typed: whoever typed this address may not be its owner.
pub fn confirmation(
    s: &Settings,
    email: &str,
    url: &str,
    note: Option<&str>,
) -> Result<NewMail, Error> {
    let clinic = &s.site.business.name;
    let l = s.loyalty();
    link_mail(
        s,
        &LinkMail {
            name: None,
            email,
            url,
            note,
        },
        format!("Confirm your membership of {clinic}'s loyalty programme"),
        format!(
            "Someone, we hope you, registered this address for {clinic}'s loyalty programme. \
             Open the link below and press the button on the page it opens to confirm your \
             email address; we then add your {} bonus points.",
            l.signup_bonus
        ),
        "Confirm my membership",
        format!(
            "The link works once, for {} hours. If you did not register, ignore this \
             email: nothing happens unless the button is pressed.",
            l.confirm_link_hours
        ),
    )
}

/// The link to sign in, sent when a known address registers or asks to sign in.
pub fn sign_in(s: &Settings, to: &LinkMail<'_>) -> Result<NewMail, Error> {
    let clinic = &s.site.business.name;
    link_mail(
        s,
        to,
        format!("Sign in to your {clinic} points"),
        format!(
            "Someone, we hope you, asked to sign in to your {clinic} loyalty account \
             (or to register this address, which is already a member). Open the link \
             below and press the button on the page it opens to see your points."
        ),
        "Sign in",
        format!(
            "The link works once, for {} minutes. If it was not you, ignore this \
             email: your account is unchanged.",
            s.loyalty().sign_in_link_minutes
        ),
    )
}

/// To a member: a comment was posted with their address while signed out. It names
/// the service and page, not the text; the link's page shows that very comment.
pub fn comment_to_confirm(
    s: &Settings,
    member: &Member,
    service: &str,
    page_url: &str,
    url: &str,
) -> Result<NewMail, Error> {
    // The comment's text is not quoted: anyone can type this member's address, and the
    // clinic's own address must not carry a stranger's words (or links) to them. The
    // page the link opens shows the text before anything is sent.
    build(
        s,
        mailbox(Some(&member.name), &member.email)?,
        None,
        MailKind::Member,
        format!("Confirm your comment on {service}"),
        &[
            Block::Text(hello(Some(&member.name))),
            Block::Text(format!(
                "A comment was posted with your address, while signed out, on {service} \
                 ({page_url})."
            )),
            Block::Text(
                "If you wrote it, open the link below: the page it opens shows the comment. \
                 Press its button and this comment, and only it, goes to our staff, who read \
                 every comment before it appears."
                    .to_string(),
            ),
            Block::Link("Review and send my comment", url),
            Block::Text(format!(
                "The link works once, for {} hours. If you did not write it, ignore this \
                 email: nothing is published under your name.",
                s.loyalty().confirm_link_hours
            )),
        ],
    )
}

/// To a staff address: the link that signs this browser in as staff.
pub fn staff_sign_in(s: &Settings, to: &str, url: &str) -> Result<NewMail, Error> {
    let staff = &s.site.form_service.staff;
    build(
        s,
        mailbox(None, to)?,
        None,
        MailKind::Staff,
        format!("Staff sign-in for {}", s.site.business.name),
        &[
            Block::Text(
                "Someone, we hope you, asked to sign in as staff to act on a link from a \
                 staff email. Open the link below in the browser where you asked for it (it \
                 works only there) and press the button on the page it opens."
                    .to_string(),
            ),
            Block::Link("Sign in as staff", url),
            Block::Text(format!(
                "The link works once, for {} minutes, and only in that browser; the sign-in \
                 then lasts {} days on it. If it was not you, ignore this email and tell \
                 whoever looks after the form service.",
                staff.sign_in_link_minutes, staff.session_days
            )),
        ],
    )
}

/// Tells a member that a friend joined with their code.
pub fn friend_joined(
    s: &Settings,
    referrer: &Member,
    amount: i64,
    pending: bool,
) -> Result<NewMail, Error> {
    let when = if pending {
        format!(
            "Your {amount} points are waiting: they are yours once your friend has had \
             their first paid treatment with us."
        )
    } else {
        format!("We have added {amount} points to your balance.")
    };
    build(
        s,
        mailbox(Some(&referrer.name), &referrer.email)?,
        None,
        MailKind::Member,
        "A friend you referred has joined".to_string(),
        &[
            Block::Text(hello(Some(&referrer.name))),
            Block::Text(format!(
                "A friend who used your referral link has just confirmed their membership \
                 of {}'s loyalty programme. Thank you for recommending us. {when}",
                s.site.business.name
            )),
            Block::Link("See your points", &s.members_url("")),
        ],
    )
}

/// Asks staff to confirm a reward when it is used, or decline it.
pub fn reward_requested(
    s: &Settings,
    member: &Member,
    reward: &Reward,
    used_url: &str,
    declined_url: &str,
) -> Result<NewMail, Error> {
    // No Reply-To: a reply quoting this email would hand the member its staff links.
    let mail = build(
        s,
        s.staff.clone(),
        None,
        MailKind::Staff,
        format!("Reward asked for: {} — {}", reward.title, member.name),
        &[
            Block::Text(format!(
                "{} ({}) asked for a reward: {} ({} points). The points are set aside \
                 until you confirm or decline it.",
                member.name, member.email, reward.title, reward.points
            )),
            Block::Text(
                "When the reward has been used at the clinic, confirm it; if it will not \
                 be used, decline it and the points go back to the member. Each link opens \
                 a page with a button that acts only in a browser signed in as staff; the \
                 links work for one use. Do not forward this email to the member: write to \
                 them at their address above."
                    .to_string(),
            ),
            Block::Link("Reward used: take the points", used_url),
            Block::Link("Decline: give the points back", declined_url),
        ],
    )?;
    Ok(mail.about(&member.email))
}
