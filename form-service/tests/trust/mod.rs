//! Issue 13 part A, "trust": staff links act only for staff, comments appear only under
//! their author's name, and accounts cannot be taken over, squatted or farmed. Each test
//! is named after the item it pins and fails on the code before the fix (88d3f7a).

mod accounts;
mod comments;
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
