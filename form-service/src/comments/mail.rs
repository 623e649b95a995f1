//! Comment emails: one to staff per comment to moderate (with its approve, reject and
//! reply links), and a fixed note to the member when it is published or rejected.

use super::{Comment, ModerationLinks};
use crate::links::{self, Purpose};
use crate::members::accounts::Member;
use crate::members::mail::{build, hello, mailbox, Block};
use crate::store::{MailKind, NewMail};
use crate::{Error, Settings};

fn service_title<'a>(s: &'a Settings, c: &'a Comment) -> &'a str {
    super::service_title(s, &c.service).unwrap_or(&c.service)
}

/// To staff: the page, the member, the text, warnings, and the three links.
pub fn to_moderate(
    s: &Settings,
    c: &Comment,
    m: &Member,
    to: &ModerationLinks,
) -> Result<NewMail, Error> {
    let approve = links::url(s, Purpose::CommentApprove, &to.approve);
    let reject = links::url(s, Purpose::CommentReject, &to.reject);
    let reply = links::url(s, Purpose::CommentReply, &to.reply);
    let title = service_title(s, c);
    let mut blocks = vec![
        Block::Text(format!(
            "A new comment on {title} ({}) is waiting for you. It appears on the site only \
             once it is approved.",
            s.site_url(&c.page)
        )),
        Block::Text(format!(
            "From: {} ({}), shown as “{}”",
            m.name, m.email, c.author
        )),
        Block::Text(format!("Comment {}:\n\n{}", c.public_id, c.body)),
    ];
    if !c.flags.is_empty() {
        blocks.push(Block::Text(format!(
            "Please check before approving: it {}.",
            c.flags.replace(", ", " and ")
        )));
    }
    blocks.extend([
        Block::Link("Approve and publish", &approve),
        Block::Link("Reject", &reject),
        Block::Link("Reply (publishes the comment with your answer)", &reply),
        Block::Text(format!(
            "Each link opens a page with a button that acts only in a browser signed in \
             as staff, and works once, for {} days. Do not forward this email to the \
             member: write to them at their address above. From the command line: form-service comments approve {}",
            s.site.comments.moderation_link_days, c.public_id
        )),
    ]);
    build(
        s,
        s.staff.clone(),
        // No Reply-To: a reply quoting this email would hand the member its staff links.
        None,
        MailKind::Staff,
        format!("Comment to moderate: {title} — {}", c.author),
        &blocks,
    )
    .map(|mail| mail.about(&m.email))
}

/// To the member: published, or not (with the reason staff chose).
pub fn decided(s: &Settings, c: &Comment, m: &Member) -> Result<NewMail, Error> {
    let title = service_title(s, c);
    let (subject, words) = match &c.reason {
        None => (
            format!("Your comment on {title} is published"),
            format!(
                "Thank you for your comment on {title}. Our staff have read it and it is now \
                 published on our website (it can take a few minutes to appear)."
            ),
        ),
        Some(reason) => (
            format!("Your comment on {title} was not published"),
            format!(
                "Thank you for your comment on {title}. Our staff read every comment before it \
                 appears, and we have not published this one. The reason: {reason} You are \
                 welcome to post again."
            ),
        ),
    };
    let link = format!("{}#comments", s.site_url(&c.page));
    build(
        s,
        mailbox(Some(&m.name), &m.email)?,
        None,
        MailKind::Member,
        subject,
        &[
            Block::Text(hello(Some(&m.name))),
            Block::Text(words),
            Block::Link(title, &link),
        ],
    )
}
