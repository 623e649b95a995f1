//! Publishing a build to disk: render into a staging folder (the spare output when
//! there is one), swap it in as the output, and record the build for the next one,
//! holding the spare's lock ([`SpareLock`]) as every build of an output does.

use std::fmt;
use std::path::Path;
use std::time::{Duration, Instant};

use super::reuse::Record;
use super::spare_lock::SpareLock;
use super::stream::{Opened, Stager};
use super::Site;
use crate::output::{Contents, Staging, WriteStats};
use crate::Error;

/// What [`publish`] did; shown as `build` reports it (`10 pages (2 rendered; ...)`).
#[derive(Debug)]
pub struct Published {
    /// How many pages the site has.
    pub pages: usize,
    /// How many of them were read from their files (the others from the content cache).
    pub read: usize,
    /// How many were rendered (the others were linked from the previous output).
    pub rendered: usize,
    /// What the swap wrote and linked.
    pub stats: WriteStats,
    /// The build left no spare (the first into a folder, on a system that keeps
    /// spares): one is worth preparing in the background for the next build
    /// (`generator prepare-spare`, which waits for the spare's lock).
    pub wants_spare: bool,
    /// Why the build could not be recorded, if it could not: the next build then
    /// renders every page, so this only costs time.
    pub unrecorded: Option<std::io::Error>,
}

impl fmt::Display for Published {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} pages ({} rendered; {} files, {} unchanged; {} read from content/)",
            self.pages,
            self.rendered,
            self.stats.written + self.stats.reused,
            self.stats.reused,
            self.read,
        )
    }
}

/// Writes `site` into a staging folder, swaps it in as `output`, and records the build
/// for the next one. The output is left as it was when this fails.
pub fn publish(site: &mut Site, output: &Path) -> Result<Published, Error> {
    let root = site.opts.root.clone();
    let root = root.as_path();
    let t = Instant::now();
    let spare = Staging::spare_of(output);
    // Every build of this output holds the spare's lock while it writes, and so does the
    // process preparing the spare after a first build. When the lock is busy, this build
    // decides what changed, and for a few pages renders and checks them, before it
    // waits ([`Stager::Later`]).
    let mut lock = SpareLock::acquire_within(root, &spare, Duration::ZERO);
    let waits = lock.is_none();
    // Stamped before it is read: a record replaced in between reads as changed.
    let read = Record::stamp(root, output);
    let previous = Record::load(root, output);
    // What the output holds when this build replaces it, when another build of it
    // finished while this one waited (else `previous` says).
    let mut replaced: Option<Option<Contents>> = None;
    let mut open = || {
        if lock.is_none() {
            lock = SpareLock::acquire_within(root, &spare, Duration::from_secs(60));
            // Every build that replaces the output records it anew; one with no record
            // now is under way, or stopped half-way.
            let now = Record::stamp(root, output);
            if now.is_none() || now != read {
                replaced = Some(Record::load(root, output).into_contents());
            }
        }
        // The spare is written into from here on: until a build records it again, no record.
        let spare_contents = lock.as_ref().and_then(|_| {
            let held = Record::load(root, &spare).into_contents();
            Record::forget(root, &spare);
            held
        });
        Ok(Opened {
            staging: Staging::begin(output, spare_contents, lock.is_some())?,
            // Without the lock (not had within the minute), whoever holds it may be
            // replacing the output now.
            output_changed: replaced.is_some() || lock.is_none(),
        })
    };
    crate::timing::phase("previous record", t);
    let stager = if waits {
        Stager::Later(Box::new(open))
    } else {
        Stager::Open(Box::new(open()?.staging))
    };
    let (staging, mut record, rendered) = site.write_into(&previous, output, stager)?;
    // The record describes the output only once the swap is done; until then, none.
    Record::forget(root, output);
    let t = Instant::now();
    let committed = staging.commit()?;
    crate::timing::phase("commit", t);
    let t = Instant::now();
    record.set_contents(committed.contents);
    let t2 = Instant::now();
    let saved = record.save(root, output).and_then(|()| {
        // The output replaced is the spare now, as its own record describes it.
        match replaced.unwrap_or_else(|| previous.into_contents()) {
            Some(held) if committed.spare_kept => Record::of_spare(held).save(root, &spare),
            _ => Ok(()),
        }
    });
    crate::timing::phase("record: build", t2);
    Record::sweep(root);
    crate::timing::phase("record", t);
    let pages = &site.content.pages;
    Ok(Published {
        pages: pages.len(),
        read: pages.iter().filter(|p| !p.origin.cached).count(),
        rendered,
        stats: committed.stats,
        // The first build into a folder leaves no spare: one is prepared in the
        // background (waiting for the lock this build holds until it returns) for the
        // next build to write into.
        wants_spare: Staging::KEEPS_SPARES && lock.is_some() && !committed.spare_kept,
        unrecorded: saved.err(),
    })
}
