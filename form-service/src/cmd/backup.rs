//! `backup DEST`, `restore SRC` and `backups` (the scheduled ones): thin wrappers over
//! `crate::backup`, which does the copying and checking.

use crate::error::Usage;
use std::path::Path;

use crate::backup;
use crate::settings::Overrides;
use crate::{Clock, Error, Settings};

pub(super) fn take(data_dir: &Path, dest: &Path) -> Result<(), Error> {
    let now = Clock::default().now();
    let m = backup::take(data_dir, dest, now)?;
    let bytes: u64 = m.files.iter().map(|f| f.bytes).sum();
    super::print(&format!(
        "Backed up {} to {}: {} file(s), {bytes} bytes, database snapshot at {} (schema {}).\n\
         It holds health data: keep it private, and delete it when your retention says so.\n",
        data_dir.display(),
        dest.display(),
        m.files.len(),
        m.created,
        m.schema_version
    ))
}

pub(super) fn restore(data_dir: &Path, src: &Path) -> Result<(), Error> {
    let now = Clock::default().now();
    let m = backup::restore(src, data_dir, now)?;
    super::print(&format!(
        "Restored the backup taken {} into {}: {} file(s). Emails that were waiting go out \
         when the service starts.\nRun `forget` again for anyone erased since that time.\n",
        m.created,
        data_dir.display(),
        m.files.len()
    ))
}

pub(super) fn list(config: &Path) -> Result<(), Error> {
    let s = Settings::load(config, Overrides::default())?;
    let Some(dir) = s.backup_dir() else {
        return Err(Usage::NoBackupDir.into());
    };
    let mut out = format!("Backups in {}:\n", dir.display());
    for (path, m) in backup::list(&dir) {
        let bytes: u64 = m.files.iter().map(|f| f.bytes).sum();
        out.push_str(&format!(
            "  {}  {}  {bytes} bytes\n",
            m.created,
            path.display()
        ));
    }
    super::print(&out)
}
