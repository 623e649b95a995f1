//! `generator build`: render page by page into a hidden sibling folder, then swap the
//! output folder in whole; and refresh the front matter schema for editors' tools.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::output::{check_output_dir, Contents, Staging, WriteStats};
use crate::site::{BuildOptions, Opened, Record, Site, SpareLock, Stager};
use crate::Error;

/// Builds the site at `opts.root` into `output` (default: `dist` in the root).
/// Prints a one-line summary.
pub fn run(opts: &BuildOptions, output: Option<&Path>) -> Result<(), Error> {
    let started = Instant::now();
    let output = output.map_or_else(|| opts.root.join("dist"), Path::to_path_buf);
    check_output_dir(&opts.root, &output)?;
    let t = Instant::now();
    let mut site = Site::load(opts)?;
    crate::timing::phase("load", t);
    // What was read is saved for the next build while this one renders, on a thread of
    // its own waited for before the process ends; saved even if rendering fails, as it
    // depends on the pages' files only. (The build needs threads anyway: rayon's.)
    let t = Instant::now();
    let saving = std::thread::spawn(site.content_cache_saver());
    crate::timing::phase("content cache made", t);
    let published = publish(&mut site, opts, &output);
    let t = Instant::now();
    let cache_warning =
        "warning: could not save what was read for the next build (.cache/build/content)";
    match saving.join() {
        Ok(Ok(())) => {}
        Ok(Err(e)) => eprintln!("{cache_warning}: {e}"),
        Err(_) => eprintln!("{cache_warning}"),
    }
    crate::timing::phase("content cache saved", t);
    let (stats, rendered) = published?;
    // For editors' tools; not part of the published site, so a failure only warns.
    let services: Vec<String> = site.content.services().map(|p| p.title.clone()).collect();
    if let Err(e) = crate::schema::write(&opts.root, &site.config, &services) {
        eprintln!("warning: could not write the front matter schema: {e}");
    }
    let read = site
        .content
        .pages
        .iter()
        .filter(|p| !p.origin.cached)
        .count();
    eprintln!(
        "built {} pages ({} rendered; {} files, {} unchanged; {} read from content/) into {} in {} ms",
        site.content.pages.len(),
        rendered,
        stats.written + stats.reused,
        stats.reused,
        read,
        output.display(),
        started.elapsed().as_millis()
    );
    // The process ends here (`build` is run once, by `main`): freeing thousands of pages
    // one by one would only delay `build && rsync`.
    std::mem::forget(site);
    Ok(())
}

/// Writes `site` into a staging folder, swaps it in as `output`, and records the build
/// for the next one. Returns what the swap wrote and how many pages were rendered.
fn publish(
    site: &mut Site,
    opts: &BuildOptions,
    output: &Path,
) -> Result<(WriteStats, usize), Error> {
    let t = Instant::now();
    let spare = Staging::spare_of(output);
    // Every build of this output holds the spare's lock while it writes, and so does the
    // process preparing the spare after a first build. When the lock is busy, this build
    // decides what changed, and for a few pages renders and checks them, before it
    // waits ([`Stager::Later`]).
    let mut lock = SpareLock::acquire_within(&opts.root, &spare, Duration::ZERO);
    let waits = lock.is_none();
    // Stamped before it is read: a record replaced in between reads as changed.
    let read = Record::stamp(&opts.root, output);
    let previous = Record::load(&opts.root, output);
    // What the output holds when this build replaces it, when another build of it
    // finished while this one waited (else `previous` says).
    let mut replaced: Option<Option<Contents>> = None;
    let mut open = || {
        if lock.is_none() {
            lock = SpareLock::acquire_within(&opts.root, &spare, Duration::from_secs(60));
            // Every build that replaces the output records it anew; one with no record
            // now is under way, or stopped half-way.
            let now = Record::stamp(&opts.root, output);
            if now.is_none() || now != read {
                replaced = Some(Record::load(&opts.root, output).into_contents());
            }
        }
        // The spare is written into from here on: until a build records it again, no record.
        let spare_contents = lock.as_ref().and_then(|_| {
            let held = Record::load(&opts.root, &spare).into_contents();
            Record::forget(&opts.root, &spare);
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
    // A comment on a page that is gone must not stop the clinic publishing: say so, and
    // leave it out (`check` counts it as a problem).
    for d in &site.comment_orphans().0 {
        eprintln!("warning: {d}");
    }
    let stager = if waits {
        Stager::Later(Box::new(open))
    } else {
        Stager::Open(Box::new(open()?.staging))
    };
    let written = site.write_into(&previous, output, stager);
    for d in site.photo_warnings() {
        eprintln!("warning: {d}");
    }
    let (staging, mut record, rendered) = written?;
    // The record describes the output only once the swap is done; until then, none.
    Record::forget(&opts.root, output);
    let t = Instant::now();
    let committed = staging.commit()?;
    let stats = committed.stats;
    crate::timing::phase("commit", t);
    let t = Instant::now();
    record.set_contents(committed.contents);
    let t2 = Instant::now();
    let saved = record.save(&opts.root, output).and_then(|()| {
        // The output replaced is the spare now, as its own record describes it.
        match replaced.unwrap_or_else(|| previous.into_contents()) {
            Some(held) if committed.spare_kept => Record::of_spare(held).save(&opts.root, &spare),
            _ => Ok(()),
        }
    });
    crate::timing::phase("record: build", t2);
    if let Err(e) = saved {
        eprintln!("warning: could not record the build for the next one: {e}");
    }
    Record::sweep(&opts.root);
    // The first build into a folder leaves no spare: one is prepared in the background
    // (once this build ends and lets go of the lock) for the next build to write into.
    if Staging::KEEPS_SPARES && lock.is_some() && !committed.spare_kept {
        crate::cmd::spare::start(&opts.root, output);
    }
    crate::timing::phase("record", t);
    Ok((stats, rendered))
}
