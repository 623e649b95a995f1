//! `generator serve`: the live preview (see [`crate::serve`]).

use crate::serve::{self, ServeOptions};
use crate::Error;

/// Serves until Ctrl-C.
pub fn run(opts: ServeOptions) -> Result<(), Error> {
    if !opts.build.root.join("site.yaml").is_file() {
        return Err(Error::Usage(format!(
            "{} has no site.yaml; give the site root with --root",
            opts.build.root.display()
        )));
    }
    serve::run(opts)
}
