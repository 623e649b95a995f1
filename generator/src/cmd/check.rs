//! `generator check`: a build in memory plus link, anchor and image checks; writes nothing.

use crate::check::check_site;
use crate::site::{build, BuildOptions};
use crate::Error;

/// Checks the site; all problems are returned together.
pub fn run(opts: &BuildOptions) -> Result<(), Error> {
    let site = build(opts)?;
    let problems = check_site(&site);
    if !problems.is_empty() {
        return Err(Error::Site(problems));
    }
    eprintln!(
        "checked {} pages: no problems found{}",
        site.content.pages.len(),
        drafts_note(site.content.drafts_left_out)
    );
    Ok(())
}

/// What was not checked: drafts, unless `--drafts` was given.
fn drafts_note(left_out: usize) -> String {
    match left_out {
        0 => String::new(),
        1 => "; 1 draft left out (`check --drafts` checks it too)".into(),
        n => format!("; {n} drafts left out (`check --drafts` checks them too)"),
    }
}
