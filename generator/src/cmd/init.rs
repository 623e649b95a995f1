//! `generator init DIR`: a new clinic's site that checks and builds as it is, with
//! every setting explained, then the next steps printed (as `zola init` and `hugo new
//! site` do). The starter site and the default theme are carried in the binary, so
//! it works wherever the generator was installed.

use std::path::Path;

use include_dir::{include_dir, Dir};

use crate::Error;

static STARTER: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/starter");
static THEME: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/../themes/default");

/// Writes the starter site into `dir`, which must not exist or be empty.
pub fn run(dir: &Path) -> Result<(), Error> {
    if dir.exists() {
        let empty = std::fs::read_dir(dir)
            .map_err(|e| Error::io(dir, e))?
            .next()
            .is_none();
        if !empty {
            return Err(Error::Usage(format!(
                "{} is not empty; give a new folder, such as `generator init my-clinic`",
                dir.display()
            )));
        }
    }
    write_dir(&STARTER, dir)?;
    write_dir(&THEME, &dir.join("themes/default"))?;
    std::fs::write(
        dir.join(".gitignore"),
        "/dist\n/dist.*\n/.dist.*\n/.cache\n/data\n/.generator\n",
    )
    .map_err(|e| Error::io(dir, e))?;
    let root = dir.display();
    eprintln!(
        "created a new site in {root}

Next steps:
  1. Edit {root}/site.yaml: replace every line marked CHANGE ME with your clinic's details.
  2. Preview it while you write:   generator serve --root {root}   (then open http://127.0.0.1:1111/)
  3. Add a treatment:              generator new service \"Laser Hair Removal\" --root {root}
  4. Check every page and link:    generator check --root {root}
  5. Build the site to publish:    generator build --root {root}   (writes {root}/dist/)"
    );
    Ok(())
}

fn write_dir(from: &Dir<'_>, to: &Path) -> Result<(), Error> {
    std::fs::create_dir_all(to).map_err(|e| Error::io(to, e))?;
    for file in from.files() {
        let path = to.join(file.path().strip_prefix(from.path()).unwrap_or(file.path()));
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
        }
        std::fs::write(&path, file.contents()).map_err(|e| Error::io(&path, e))?;
    }
    for sub in from.dirs() {
        write_dir(
            sub,
            &to.join(sub.path().strip_prefix(from.path()).unwrap_or(sub.path())),
        )?;
    }
    Ok(())
}
