//! The members' pages as HTML fragments (the inside of `<main>`); `pages::page` puts
//! them in the site's look. Pure functions of what they show, so they are tested
//! without a server. Everything a member or staff typed is escaped here.

use std::fmt::Write;

use site_config::{escape_html as esc, LoyaltyConfig};

use crate::http::view::{header, new_link_form};
use crate::members::accounts::Member;
use crate::members::ledger::{Balance, Entry, Kind, Status};

/// The page for someone who is not signed in.
pub(super) fn sign_in_page(action: &str, join_url: &str) -> String {
    format!(
        "<div class=\"wrap\">\n{}<p>Members sign in with a link we email to them: there is no \
         password. Give the address you registered with.</p>\n{}\
         <p>Not a member yet? <a href=\"{}\">Join the loyalty programme</a>.</p>\n</div>\n",
        header(
            "Sign in to see your points",
            "We will email you a link that signs you in."
        ),
        new_link_form(action),
        esc(join_url)
    )
}

/// "Check your email", the same for every address.
pub(super) fn link_sent() -> String {
    format!(
        "<div class=\"wrap\">\n{}<p>If the address belongs to a member, or to someone who \
         has registered and not yet confirmed, the email has a link to sign in or to \
         confirm. It may take a few minutes; please look in your junk folder too.</p>\n</div>\n",
        header(
            "Check your email",
            "We have sent a link to the address you gave."
        )
    )
}

/// Everything a member's page shows.
pub(super) struct Account<'a> {
    /// Who.
    pub(super) member: &'a Member,
    /// Their points.
    pub(super) balance: Balance,
    /// Their ledger rows, newest first.
    pub(super) history: &'a [Entry],
    /// The programme.
    pub(super) loyalty: &'a LoyaltyConfig,
    /// The clinic's name.
    pub(super) clinic: &'a str,
    /// Their referral link.
    pub(super) referral_link: Option<String>,
    /// A notice at the top (after an action).
    pub(super) notice: Option<&'a str>,
    /// Where the reward and sign-out buttons post.
    pub(super) actions: (String, String),
    /// Formats a time for people.
    pub(super) when: &'a dyn Fn(i64) -> String,
    /// The site's script that adds a copy button beside the referral link, if found.
    pub(super) script: Option<String>,
}

/// The member's page: balance, rewards, referral link, history, sign out.
pub(super) fn account(a: &Account<'_>) -> String {
    let b = a.balance;
    // Within the site's text column, readable on a phone (issue 15, item 12).
    let mut h = String::from("<div class=\"wrap\">\n<div class=\"prose\">\n");
    h.push_str(&header(
        &format!("Your points, {}", a.member.name),
        &format!("Signed in as {}.", a.member.email),
    ));
    if let Some(n) = a.notice {
        let _ = writeln!(h, "<p class=\"callout\" role=\"status\">{}</p>", esc(n));
    }
    let _ = write!(
        h,
        "<p class=\"balance\"><strong id=\"balance\">{}</strong> {} to spend",
        b.available,
        points(b.available)
    );
    if b.pending > 0 {
        let _ = write!(
            h,
            "; {} more waiting for our staff to confirm a friend's first treatment",
            b.pending
        );
    }
    if b.held > 0 {
        let _ = write!(h, "; {} set aside for rewards you asked for", b.held);
    }
    h.push_str(".</p>\n");

    h.push_str("<h2>Rewards</h2>\n");
    let mut rewards: Vec<_> = a.loyalty.rewards.iter().collect();
    rewards.sort_by_key(|r| r.points);
    if rewards.is_empty() {
        h.push_str("<p>The clinic has not listed rewards yet.</p>\n");
    } else {
        h.push_str("<ul class=\"rewards-list\">\n");
        for r in rewards {
            let cost = i64::from(r.points);
            let _ = write!(h, "<li><strong>{}</strong>, {} points", esc(&r.title), cost);
            if cost <= b.available {
                let _ = write!(
                    h,
                    "\n<form method=\"post\" action=\"{}\"><input type=\"hidden\" name=\"reward\" value=\"{}\">\
                     <button class=\"button button--quiet\" type=\"submit\">Ask for this reward</button></form>",
                    esc(&a.actions.0),
                    esc(&r.id)
                );
            } else {
                let _ = write!(h, " ({} more needed)", cost - b.available);
            }
            h.push_str("</li>\n");
        }
        h.push_str("</ul>\n<p>When you ask for a reward we set its points aside and tell our staff; they take the points when you use it at the clinic.</p>\n");
    }

    if let Some(link) = &a.referral_link {
        let _ = write!(
            h,
            "<h2>Invite friends</h2>\n<p>Share your personal link. When a friend registers \
             through it and confirms, you earn {} points once they have had their first paid \
             treatment.</p>\n<div class=\"form\"><div class=\"field\"><label class=\"field__label\" for=\"referral-link\">Your referral link</label>\n\
             <input id=\"referral-link\" readonly value=\"{}\"></div></div>\n\
             <p>Something to send with it: “I have been going to {} and I think you would \
             like it. Register with my link and you get {} welcome points: {}”</p>\n",
            a.loyalty.referral_reward,
            esc(link),
            esc(a.clinic),
            a.loyalty.signup_bonus,
            esc(link)
        );
    }

    h.push_str("<h2>History</h2>\n");
    if a.history.is_empty() {
        h.push_str("<p>No points yet.</p>\n");
    } else {
        h.push_str(
            "<table>\n<thead><tr><th scope=\"col\">Date</th><th scope=\"col\">Points</th>\
             <th scope=\"col\">What for</th><th scope=\"col\">Status</th></tr></thead>\n<tbody>\n",
        );
        for e in a.history {
            let _ = writeln!(
                h,
                "<tr><td class=\"nowrap\">{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&(a.when)(e.created_at)),
                signed(e),
                esc(&e.reason),
                status(e)
            );
        }
        h.push_str("</tbody>\n</table>\n");
    }
    let _ = write!(
        h,
        "<form method=\"post\" action=\"{}\"><button class=\"button button--quiet\" type=\"submit\">Sign out</button></form>\n</div>\n</div>\n",
        esc(&a.actions.1)
    );
    if let (Some(src), Some(_)) = (&a.script, &a.referral_link) {
        let _ = writeln!(h, "<script src=\"{}\" defer></script>", esc(src));
    }
    h
}

fn points(n: i64) -> &'static str {
    if n == 1 {
        "point"
    } else {
        "points"
    }
}

fn signed(e: &Entry) -> String {
    match (e.status, e.amount) {
        (Status::Void | Status::Released, _) | (_, 0) => "0".into(),
        (_, n) if n > 0 => format!("+{n}"),
        (_, n) => format!("−{}", -n),
    }
}

fn status(e: &Entry) -> &'static str {
    match (e.status, e.kind, e.open) {
        (Status::Pending, _, true) => "Waiting for confirmation",
        (Status::Held, _, true) => "Set aside",
        (Status::Pending | Status::Held, _, false) => "Settled (see above)",
        (Status::Confirmed, Kind::Reward, _) => "Used",
        (Status::Confirmed, _, _) => "Confirmed",
        (Status::Void, _, _) => "Not counted",
        (Status::Released, _, _) => "Given back",
    }
}
