//! Issue 13, "trust". Part A: staff links act only for staff, comments appear only under
//! their author's name, and accounts cannot be taken over, squatted or farmed (`staff`,
//! `comments`, `accounts`). Part B: what a copy of the data folder, a log, `forget`,
//! `purge`, `/health`, a mail server's refusal, a crowd of idle sockets and a busy
//! household can and cannot do. Each test names the item it pins.

mod accounts;
mod comments;
mod connections;
mod forget;
mod health;
mod limits;
mod publish;
mod rest;
mod smtp;
mod staff;

use crate::members::{attr, Club};

/// Rows in the outbox (every email queued so far).
pub fn outbox(c: &Club) -> i64 {
    c.t.db()
        .query_row("SELECT count(*) FROM outbox", [], |r| r.get(0))
        .unwrap()
}

/// A member's referral code, from their page.
pub fn code_of(page: &str) -> String {
    attr(page, "/membership/?ref=", "\"")
}

/// The status of the comment whose text contains `like`.
pub fn comment_status(c: &Club, like: &str) -> String {
    c.t.db()
        .query_row(
            "SELECT status FROM comments WHERE body LIKE ?1",
            [format!("%{like}%")],
            |r| r.get(0),
        )
        .unwrap()
}
