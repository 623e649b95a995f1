//! Secrets that travel in emails and cookies, and the forms they are kept in.
//!
//! A token is a public selector followed by a secret. The database keeps the selector
//! (to find the row) and a BLAKE3 hash of the secret (so a copy of the database signs no
//! one in); the secret is checked against the hash in constant time.

use crate::id::{random, ALPHABET};
use rusqlite::{Connection, OptionalExtension};

/// Characters of the selector; enough that two never meet.
const SELECTOR_LEN: usize = 12;
/// Characters of the secret: 32 of 31 symbols, about 158 bits.
const SECRET_LEN: usize = 32;

/// A fresh token: what to send, and what to store.
#[derive(Debug, Clone)]
pub struct NewToken {
    /// The whole token, for the link or cookie. Never stored.
    pub raw: String,
    /// The part stored in clear.
    pub selector: String,
    /// Hash of the secret part.
    pub verifier: [u8; 32],
}

impl NewToken {
    /// A random token.
    pub fn generate() -> NewToken {
        let selector = random(SELECTOR_LEN);
        let secret = random(SECRET_LEN);
        NewToken {
            raw: format!("{selector}{secret}"),
            verifier: *blake3::hash(secret.as_bytes()).as_bytes(),
            selector,
        }
    }
}

/// A token as it arrived: split, but not yet believed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Presented {
    /// The selector, to look the row up.
    pub selector: String,
    secret: String,
}

impl Presented {
    /// Splits a token from a link or cookie; `None` if it cannot be one of ours.
    pub fn parse(raw: &str) -> Option<Presented> {
        let raw = raw.trim();
        if raw.len() != SELECTOR_LEN + SECRET_LEN || !raw.bytes().all(|b| ALPHABET.contains(&b)) {
            return None;
        }
        let (selector, secret) = raw.split_at(SELECTOR_LEN);
        Some(Presented {
            selector: selector.to_string(),
            secret: secret.to_string(),
        })
    }

    /// What is stored of it: the hash of its secret, as [`NewToken::verifier`].
    pub fn verifier(&self) -> [u8; 32] {
        *blake3::hash(self.secret.as_bytes()).as_bytes()
    }

    /// True when the secret hashes to `verifier`. The comparison takes the same time
    /// wherever the hashes differ (`blake3::Hash`'s equality is constant-time).
    pub fn matches(&self, verifier: &[u8]) -> bool {
        let Ok(stored) = <[u8; 32]>::try_from(verifier) else {
            return false;
        };
        blake3::hash(self.secret.as_bytes()) == blake3::Hash::from_bytes(stored)
    }
}

/// The two tables of sessions a cookie's token names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sessions {
    /// Members' sessions.
    Members,
    /// Staff browsers' sessions.
    Staff,
}

impl Sessions {
    fn table(self) -> &'static str {
        match self {
            Sessions::Members => "sessions",
            Sessions::Staff => "staff_sessions",
        }
    }

    /// The column naming whose session it is: a member's id, or a staff address.
    fn owner(self) -> &'static str {
        match self {
            Sessions::Members => "member_id",
            Sessions::Staff => "email",
        }
    }
}

/// Stores a new session for `owner` (a member's id, a staff address) lasting `days`
/// from `now`: the token's selector and the hash of its secret, never the secret.
pub fn start_session(
    conn: &Connection,
    sessions: Sessions,
    token: &NewToken,
    owner: &dyn rusqlite::ToSql,
    now: i64,
    days: u32,
) -> rusqlite::Result<()> {
    let (table, owner_column) = (sessions.table(), sessions.owner());
    conn.prepare_cached(&format!(
        "INSERT INTO {table} (selector, verifier, {owner_column}, created_at, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5)"
    ))?
    .execute(rusqlite::params![
        token.selector,
        &token.verifier[..],
        owner,
        now,
        now + i64::from(days) * 86_400
    ])?;
    Ok(())
}

/// Ends the session a cookie names, if the cookie is genuine: a forged cookie with a
/// real selector signs no one out.
pub fn end_session(conn: &Connection, sessions: Sessions, cookie: &str) -> rusqlite::Result<()> {
    let Some(p) = Presented::parse(cookie) else {
        return Ok(());
    };
    let table = sessions.table();
    let verifier: Option<Vec<u8>> = conn
        .query_row(
            &format!("SELECT verifier FROM {table} WHERE selector = ?1"),
            [&p.selector],
            |r| r.get(0),
        )
        .optional()?;
    if verifier.is_some_and(|v| p.matches(&v)) {
        conn.execute(
            &format!("DELETE FROM {table} WHERE selector = ?1"),
            [&p.selector],
        )?;
    }
    Ok(())
}

/// A member's referral code: eight capitals and digits, easy to read out and type.
pub fn referral_code() -> String {
    random(8).to_ascii_uppercase()
}

/// The form of a referral code that is compared: spaces and case do not matter.
pub fn normalise_code(code: &str) -> String {
    code.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect::<String>()
        .to_ascii_uppercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_matches_only_its_own_secret() {
        let t = NewToken::generate();
        assert_eq!(t.raw.len(), 44);
        let p = Presented::parse(&t.raw).unwrap();
        assert_eq!(p.selector, t.selector);
        assert!(p.matches(&t.verifier));
        // One character of the secret changed: refused.
        let mut forged = t.raw.clone().into_bytes();
        let last = forged.len() - 1;
        forged[last] = if forged[last] == b'a' { b'b' } else { b'a' };
        let forged = Presented::parse(std::str::from_utf8(&forged).unwrap()).unwrap();
        assert!(!forged.matches(&t.verifier));
        assert!(!p.matches(&[0u8; 31]), "a short hash never matches");
    }

    #[test]
    fn malformed_tokens_are_refused_before_the_database() {
        let t = NewToken::generate();
        assert!(Presented::parse(&t.raw[1..]).is_none());
        assert!(
            Presented::parse(&format!("{}0", &t.raw[1..])).is_none(),
            "0 is not in the alphabet"
        );
        assert!(Presented::parse("").is_none());
        assert!(Presented::parse(&"é".repeat(22)).is_none());
    }

    #[test]
    fn codes_are_normalised_for_comparison_only() {
        assert_eq!(normalise_code(" ab3d-ef7h "), "AB3DEF7H");
        let c = referral_code();
        assert_eq!(c.len(), 8);
        assert_eq!(normalise_code(&c), c);
    }
}
