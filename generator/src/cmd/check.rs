//! `generator check`: a build in memory plus the checks of template output; writes
//! nothing. Says how many drafts it left out, whether or not it found problems.

use site_config::SiteConfig;

use crate::check::check_site;
use crate::content::load_content;
use crate::site::{build, BuildOptions};
use crate::Error;

/// Checks the site; all problems are returned together.
pub fn run(opts: &BuildOptions) -> Result<(), Error> {
    let site = match build(opts) {
        Ok(site) => site,
        Err(e) => {
            // The failed build kept no content to count from: read it again (only on
            // failure, and only when drafts were left out).
            if !opts.drafts {
                if let Ok(config) = SiteConfig::load(&opts.root) {
                    let left_out = load_content(&opts.root, &config, false).0.drafts_left_out;
                    if let Some(note) = drafts_note(left_out) {
                        eprintln!("note: {note}");
                    }
                }
            }
            return Err(e);
        }
    };
    let problems = check_site(&site);
    let note = drafts_note(site.content.drafts_left_out);
    if !problems.is_empty() {
        if let Some(note) = note {
            eprintln!("note: {note}");
        }
        return Err(Error::Site(problems));
    }
    eprintln!(
        "checked {} pages: no problems found{}",
        site.content.pages.len(),
        note.map(|n| format!("; {n}")).unwrap_or_default()
    );
    Ok(())
}

/// What was not checked: drafts, unless `--drafts` was given.
fn drafts_note(left_out: usize) -> Option<String> {
    match left_out {
        0 => None,
        1 => Some("1 draft left out (`check --drafts` checks it too)".into()),
        n => Some(format!(
            "{n} drafts left out (`check --drafts` checks them too)"
        )),
    }
}
