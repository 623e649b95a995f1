//! `generator check`: a build in memory plus link, anchor and image checks; writes nothing.

use crate::check::check_site;
use crate::site::{build, BuildOptions};
use crate::Error;

/// Checks the site; all problems are returned together.
pub fn run(opts: &BuildOptions) -> Result<(), Error> {
    let site = build(opts)?;
    for d in site.photo_warnings() {
        eprintln!("warning: {d}");
    }
    // Decoding every photo is the only way to find one that is broken past its header;
    // what it makes is cached for the next build.
    site.encode_photos()?;
    let problems = check_site(&site);
    if !problems.is_empty() {
        return Err(Error::Site(problems));
    }
    eprintln!(
        "checked {} pages: no problems found",
        site.content.pages.len()
    );
    Ok(())
}
