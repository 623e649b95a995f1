//! The double-click filter's memory: submissions stored within the dedupe window, by
//! fingerprint, kept by the writer thread instead of in an index.
//!
//! An index on the fingerprint (a hash) put every insert on a random page of it, one
//! more page written and synced per request. The writer is the only code that stores
//! submissions while the service runs, so this map, loaded from the table at start,
//! knows every recent one. Keys are the first 8 bytes of the fingerprint; a hit is
//! checked against the stored row, so a key collision, or a row `forget` or `purge`
//! deleted meanwhile from another process, costs at most a second stored copy, never a
//! lost request. Memory: about 80 bytes per submission in the window.

use std::collections::{HashMap, VecDeque};

use rusqlite::{params, Connection, OptionalExtension};

/// Rows a clock stepped back by less than this are still found at start.
const CLOCK_SLACK: i64 = 3600;

/// What a job stored, waiting for its commit to join [`Recent`].
pub(super) type Staged = (u64, i64, i64);

/// Fingerprint key → `(row id, received_at)` of the latest submission with it.
pub(super) struct Recent {
    window: i64,
    by_key: HashMap<u64, (i64, i64)>,
    /// `(key, row id, received_at)`, oldest first, for expiry.
    order: VecDeque<Staged>,
}

impl Recent {
    /// The submissions received within `window` seconds of `now`.
    pub(super) fn load(conn: &Connection, now: i64, window: i64) -> rusqlite::Result<Recent> {
        let mut recent = Recent {
            window,
            by_key: HashMap::new(),
            order: VecDeque::new(),
        };
        let cutoff = now - window;
        let mut stmt =
            conn.prepare("SELECT id, fingerprint, received_at FROM submissions ORDER BY id DESC")?;
        let mut rows = stmt.query([])?;
        let mut found = Vec::new();
        while let Some(r) = rows.next()? {
            let (id, fingerprint, at): (i64, Vec<u8>, i64) = (r.get(0)?, r.get(1)?, r.get(2)?);
            if at < cutoff - CLOCK_SLACK {
                break;
            }
            if at >= cutoff {
                found.push((key(&fingerprint), id, at));
            }
        }
        found.reverse();
        recent.commit(found);
        Ok(recent)
    }

    /// Forgets what fell out of the window at `now`.
    pub(super) fn expire(&mut self, now: i64) {
        let cutoff = now - self.window;
        while let Some(&(k, id, at)) = self.order.front() {
            if at >= cutoff {
                break;
            }
            self.order.pop_front();
            if self.by_key.get(&k).is_some_and(|&(latest, _)| latest == id) {
                self.by_key.remove(&k);
            }
        }
    }

    /// Adds what a committed batch stored.
    pub(super) fn commit(&mut self, staged: Vec<Staged>) {
        for (k, id, at) in staged {
            self.by_key.insert(k, (id, at));
            self.order.push_back((k, id, at));
        }
    }

    /// The public id of a submission with `fingerprint` received at or after
    /// `since`: one stored earlier in this batch (`staged`), or one committed before.
    pub(super) fn find(
        &self,
        tx: &Connection,
        staged: &[Staged],
        fingerprint: &[u8; 32],
        since: i64,
    ) -> rusqlite::Result<Option<String>> {
        let k = key(fingerprint);
        let candidate = staged
            .iter()
            .rev()
            .find(|s| s.0 == k)
            .map(|s| (s.1, s.2))
            .or_else(|| self.by_key.get(&k).copied());
        let Some((id, _)) = candidate.filter(|&(_, at)| at >= since) else {
            return Ok(None);
        };
        let row: Option<(String, Vec<u8>)> = tx
            .prepare_cached("SELECT public_id, fingerprint FROM submissions WHERE id = ?1")?
            .query_row(params![id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        Ok(row.and_then(|(public_id, stored)| (stored == fingerprint[..]).then_some(public_id)))
    }
}

/// The map's key: the fingerprint's first 8 bytes (it is a SHA-256).
pub(super) fn key(fingerprint: &[u8]) -> u64 {
    let mut k = [0u8; 8];
    let n = fingerprint.len().min(8);
    k[..n].copy_from_slice(&fingerprint[..n]);
    u64::from_le_bytes(k)
}
