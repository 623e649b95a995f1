//! What makes two email addresses the same, in one place, for members and staff alike.
//!
//! The rules (documented in the README under "Addresses"):
//! - surrounding space is ignored, and the address splits at its last `@`;
//! - the domain is compared without regard to ASCII case (`Example.COM` = `example.com`);
//! - the local part is kept exactly as stored and compared without regard to ASCII case
//!   only (`Ann` = `ann`), because that is what every mail provider our visitors use
//!   does; no other character is folded or normalised, so the Kelvin sign `K` (U+212A)
//!   never equals `k`, and `ß` never equals `ss`.
//!
//! [`person_key`] is looser, and used only to tell whether two addresses plausibly reach
//! one person (self-referral): it also drops a `+tag`, and the dots of providers that
//! ignore them.

/// The key that makes one account (or one staff address) per address.
pub fn key(email: &str) -> String {
    let email = email.trim();
    match email.rsplit_once('@') {
        Some((local, domain)) => format!(
            "{}@{}",
            local.to_ascii_lowercase(),
            domain.to_ascii_lowercase()
        ),
        None => email.to_ascii_lowercase(),
    }
}

/// True when `a` and `b` are the same address by the rules above.
pub fn same(a: &str, b: &str) -> bool {
    key(a) == key(b)
}

/// Providers whose mailboxes ignore dots in the local part, and their aliases.
const DOTLESS: &[(&str, &str)] = &[("gmail.com", "gmail.com"), ("googlemail.com", "gmail.com")];

/// The mailbox an address most likely reaches: [`key`] without a `+tag`, and for
/// providers that ignore dots (Gmail), without them and under one domain name.
pub fn person_key(email: &str) -> String {
    let k = key(email);
    let Some((local, domain)) = k.rsplit_once('@') else {
        return k;
    };
    let local = local.split('+').next().unwrap_or(local);
    match DOTLESS.iter().find(|(d, _)| *d == domain) {
        Some((_, canonical)) => format!("{}@{canonical}", local.replace('.', "")),
        None => format!("{local}@{domain}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains_and_ascii_case_are_folded_nothing_else() {
        assert_eq!(key("  Ann.Lee@Example.COM "), "ann.lee@example.com");
        assert!(same("ANN@example.com", "ann@EXAMPLE.com"));
        // The Kelvin sign lowercases to `k` under Unicode rules; not here.
        assert!(!same("\u{212A}im@example.com", "kim@example.com"));
        assert!(!same("kim@exampl\u{212A}.com", "kim@example.com"));
        assert!(!same("straße@example.com", "strasse@example.com"));
        assert_eq!(key("\u{212A}im@example.com"), "\u{212A}im@example.com");
    }

    /// Rows written before every caller used [`key`] hold `trim().to_lowercase()` of an
    /// address that validation (`validate::is_email`) let through: ASCII only, where the
    /// two agree, so lookups of those rows still find them.
    #[test]
    fn for_the_ascii_addresses_we_store_the_key_is_the_old_lowercase() {
        for a in [
            " Ann.Lee@Example.COM",
            "O'Neil+x@Mail.Example.org ",
            "a_b-c@x.io",
        ] {
            assert!(crate::validate::is_email(a.trim()), "{a}");
            assert_eq!(key(a), a.trim().to_lowercase(), "{a}");
        }
    }

    #[test]
    fn aliases_of_one_mailbox_share_a_person_key() {
        let lou = person_key("lou@example.com");
        assert_eq!(person_key("Lou+1@Example.com"), lou);
        assert_eq!(person_key("lou+friends+2@example.com"), lou);
        assert_ne!(
            person_key("l.ou@example.com"),
            lou,
            "dots count at most providers"
        );
        let g = person_key("lou.smith@gmail.com");
        assert_eq!(person_key("l.o.u.s.m.i.t.h+x@googlemail.com"), g);
        assert_eq!(person_key("LouSmith@GMail.com"), g);
    }
}
