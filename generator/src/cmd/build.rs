//! `generator build`: render page by page into a hidden sibling folder, then swap the
//! output folder in whole ([`crate::site::publish`]); and refresh the front matter
//! schema for editors' tools.

use std::path::Path;
use std::time::Instant;

use site_config::Diagnostic;

use crate::output::check_output_dir;
use crate::site::{publish, BuildOptions, Site};
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
    // A comment on a page that is gone must not stop the clinic publishing: say so, and
    // leave it out (`check` counts it as a problem).
    warn(&site.comment_orphans().0);
    let published = publish(&mut site, &output);
    warn(&site.photo_warnings());
    if let Ok(published) = &published {
        if let Some(e) = &published.unrecorded {
            eprintln!("warning: could not record the build for the next one: {e}");
        }
        if published.wants_spare {
            crate::cmd::spare::start(&opts.root, &output);
        }
    }
    let t = Instant::now();
    let cache_warning =
        "warning: could not save what was read for the next build (.cache/build/content)";
    match saving.join() {
        Ok(Ok(())) => {}
        Ok(Err(e)) => eprintln!("{cache_warning}: {e}"),
        Err(_) => eprintln!("{cache_warning}"),
    }
    crate::timing::phase("content cache saved", t);
    let published = published?;
    // For editors' tools; not part of the published site, so a failure only warns.
    let services: Vec<String> = site.content.services().map(|p| p.title.clone()).collect();
    if let Err(e) = crate::schema::write(&opts.root, &site.config, &services) {
        eprintln!("warning: could not write the front matter schema: {e}");
    }
    let ms = started.elapsed().as_millis();
    eprintln!("built {published} into {} in {ms} ms", output.display());
    // The process ends here (`build` is run once, by `main`): freeing thousands of pages
    // one by one would only delay `build && rsync`.
    std::mem::forget(site);
    Ok(())
}

fn warn(problems: &[Diagnostic]) {
    for d in problems {
        eprintln!("warning: {d}");
    }
}
