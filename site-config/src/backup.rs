//! `form_service.backup` in `site.yaml`: where scheduled backups go, how often they are
//! taken and how long they are kept. The form service takes and prunes them; the
//! privacy notice promises what `keep_days` says.

use std::path::PathBuf;

use serde::Deserialize;

/// Scheduled backups of the form service's data folder.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackupConfig {
    /// Folder that receives one sub-folder per backup. A relative path is taken from
    /// the site root (the config file's folder); production uses an absolute one.
    pub dir: PathBuf,
    /// Hours between two backups (at least 1).
    #[serde(default = "default_every_hours")]
    pub every_hours: u32,
    /// Days a backup is kept before it is deleted (at least 1).
    #[serde(default = "default_keep_days")]
    pub keep_days: u32,
}

fn default_every_hours() -> u32 {
    24
}
fn default_keep_days() -> u32 {
    14
}

impl BackupConfig {
    /// Problems with the values, as messages (the caller adds file and line).
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        if self.every_hours == 0 {
            out.push((
                "every_hours",
                "backup.every_hours must be at least 1".to_string(),
            ));
        }
        if self.keep_days == 0 {
            out.push((
                "keep_days",
                "backup.keep_days must be at least 1 (0 would delete every backup at once)"
                    .to_string(),
            ));
        }
        if self.dir.as_os_str().is_empty() {
            out.push(("dir", "backup.dir must name a folder".to_string()));
        }
        out
    }
}
