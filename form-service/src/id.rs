//! Public ids for submissions and comments: short, sortable by time, unguessable enough
//! not to be enumerated; and the alphabet and random strings they share with tokens
//! (`members::token`).

use std::sync::atomic::{AtomicU64, Ordering};

use rand::Rng;

/// Letters and digits without look-alikes (no 0/o, 1/l/i).
pub const ALPHABET: &[u8] = b"23456789abcdefghjkmnpqrstuvwxyz";

/// `n` random characters from [`ALPHABET`].
pub fn random(n: usize) -> String {
    let mut rng = rand::thread_rng();
    (0..n)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect()
}

/// 16 characters from an alphabet without look-alikes: the second it was made (7), a
/// counter (4) and 5 random ones. Ids sort by time, so the unique index on them grows
/// at its end instead of taking a random page per request; the counter keeps one
/// process from repeating itself (up to 923,521 ids a second), the random part keeps
/// two processes apart.
pub fn new_id() -> String {
    const BASE: u64 = ALPHABET.len() as u64;
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut id = [0u8; 11];
    let mut put = |range: std::ops::Range<usize>, mut n: u64| {
        for slot in id[range].iter_mut().rev() {
            *slot = ALPHABET[(n % BASE) as usize];
            n /= BASE;
        }
    };
    put(0..7, seconds);
    put(7..11, count);
    let counted: String = id.iter().map(|&b| b as char).collect();
    counted + &random(5)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_use_the_alphabet_and_grow() {
        let ids: Vec<String> = (0..1000).map(|_| new_id()).collect();
        for id in &ids {
            assert_eq!(id.len(), 16, "{id}");
            assert!(id.bytes().all(|b| ALPHABET.contains(&b)), "{id}");
        }
        assert!(
            ids.windows(2).all(|w| w[0] < w[1]),
            "ids sort in the order they were made"
        );
    }
}
