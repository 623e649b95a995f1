//! Backups of the data folder: a consistent copy taken while the service runs, checked,
//! and restored only into an empty folder.
//!
//! The database is copied with SQLite's `VACUUM INTO`, which reads one snapshot (a
//! read transaction: the writer is not held up) and writes only live rows, so what
//! `purge` and `forget` erased is not carried into the copy by free pages. The rest of
//! the folder (written emails, the comments file, anything a later version keeps there)
//! is copied after the snapshot, so every email the snapshot calls sent has its file in
//! the copy. A backup is built in a hidden sibling folder and renamed into place with a
//! manifest of sizes and BLAKE3 hashes: a folder with a manifest is whole.
//! `schedule` takes them on a timer and deletes them once they are `keep_days` old.

pub mod schedule;

use std::fs;
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags};
use serde::{Deserialize, Serialize};

use crate::error::{Backup, Usage};
use crate::private;
use crate::store::schema::{self, SCHEMA_VERSION};
use crate::Error;

/// The manifest's file name inside a backup.
pub const MANIFEST: &str = "backup.json";
/// Scheduled backups are folders named this, then the UTC time.
pub const PREFIX: &str = "form-service-";
/// Where a schema migration leaves the database it is about to change.
pub const MIGRATION_DIR: &str = "backups";

/// What a backup holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// This layout's version.
    pub format: u32,
    /// When the database snapshot was taken (seconds since the epoch).
    pub created_at: i64,
    /// The same, readable.
    pub created: String,
    /// The database's schema version.
    pub schema_version: usize,
    /// Every file, with its size and hash.
    pub files: Vec<FileEntry>,
}

/// One file of a backup.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileEntry {
    /// Path inside the backup, `/`-separated.
    pub path: String,
    /// Size in bytes.
    pub bytes: u64,
    /// BLAKE3 of the content, hex.
    pub blake3: String,
}

/// Files of the data folder that are not copied as they are: the database (copied
/// through SQLite), its journal files, the publisher's lock.
fn skipped(name: &str) -> bool {
    name.starts_with("forms.sqlite3") || name == "publish.lock" || name.starts_with('.')
}

/// Copies the data folder into `dest`, which must not exist or be empty.
pub fn take(data_dir: &Path, dest: &Path, now: i64) -> Result<Manifest, Error> {
    let db = schema::db_path(data_dir);
    if !db.is_file() {
        return Err(Usage::NothingToBackUp(data_dir.to_path_buf()).into());
    }
    if dest.exists() && !is_empty_dir(dest)? {
        return Err(Usage::NotEmpty(dest.to_path_buf()).into());
    }
    let partial = sibling(dest, &format!("partial-{}-{now}", std::process::id()))?;
    let result = fill(data_dir, &db, &partial, now);
    let manifest = match result {
        Ok(m) => m,
        Err(e) => {
            let _ = fs::remove_dir_all(&partial);
            return Err(e);
        }
    };
    if dest.exists() {
        fs::remove_dir(dest).map_err(|e| Error::io(dest, e))?;
    }
    fs::rename(&partial, dest).map_err(|e| Error::io(dest, e))?;
    if let Some(parent) = dest.parent().filter(|p| !p.as_os_str().is_empty()) {
        private::sync_dir(parent).map_err(|e| Error::io(parent, e))?;
    }
    Ok(manifest)
}

fn fill(data_dir: &Path, db: &Path, partial: &Path, now: i64) -> Result<Manifest, Error> {
    private::create_dir(partial)?;
    let copy = partial.join("forms.sqlite3");
    // Created empty and private first: VACUUM INTO accepts an empty file, and would
    // otherwise create it with the process's default mode.
    private::create_new(&copy).map_err(|e| Error::io(&copy, e))?;
    {
        let conn = Connection::open(db)?;
        conn.busy_timeout(std::time::Duration::from_secs(30))?;
        let target = copy.to_str().ok_or_else(|| Usage::NotUtf8(copy.clone()))?;
        conn.execute("VACUUM INTO ?1", [target])?;
    }
    let schema_version = check_database(&copy)?;
    let mut files = vec![entry(partial, Path::new("forms.sqlite3"))?];
    copy_tree(data_dir, partial, Path::new(""), &mut files)?;
    let manifest = Manifest {
        format: 1,
        created_at: now,
        created: crate::cmd::utc(now),
        schema_version,
        files,
    };
    let path = partial.join(MANIFEST);
    let mut f = private::create_new(&path).map_err(|e| Error::io(&path, e))?;
    serde_json::to_writer_pretty(&mut f, &manifest).map_err(|source| Backup::Manifest {
        path: path.clone(),
        source,
    })?;
    f.sync_all().map_err(|e| Error::io(&path, e))?;
    private::sync_dir(partial).map_err(|e| Error::io(partial, e))?;
    Ok(manifest)
}

/// Copies every file under `from/rel` but the database and the backups a migration
/// left, recording each in `files`.
fn copy_tree(from: &Path, to: &Path, rel: &Path, files: &mut Vec<FileEntry>) -> Result<(), Error> {
    let dir = from.join(rel);
    let entries = fs::read_dir(&dir).map_err(|e| Error::io(&dir, e))?;
    let mut names: Vec<_> = entries
        .flatten()
        .map(|e| e.file_name())
        .filter(|n| !skipped(&n.to_string_lossy()))
        .collect();
    names.sort();
    for name in names {
        let rel = rel.join(&name);
        let src = from.join(&rel);
        let meta = fs::symlink_metadata(&src).map_err(|e| Error::io(&src, e))?;
        if meta.is_dir() {
            if rel == Path::new(MIGRATION_DIR) {
                continue;
            }
            let d = to.join(&rel);
            private::create_dir(&d)?;
            copy_tree(from, to, &rel, files)?;
            private::sync_dir(&d).map_err(|e| Error::io(&d, e))?;
        } else if meta.is_file() {
            let dst = to.join(&rel);
            match private::copy_file(&src, &dst) {
                Ok(_) => files.push(entry(to, &rel)?),
                // Deleted since it was listed (`forget`, a sent email removed): not ours.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(Error::io(&src, e)),
            }
        }
    }
    Ok(())
}

fn entry(root: &Path, rel: &Path) -> Result<FileEntry, Error> {
    let path = root.join(rel);
    let bytes = fs::read(&path).map_err(|e| Error::io(&path, e))?;
    Ok(FileEntry {
        path: rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/"),
        bytes: bytes.len() as u64,
        blake3: blake3::hash(&bytes).to_hex().to_string(),
    })
}

/// Opens a copied database without writing to it and checks it; returns its schema
/// version.
fn check_database(path: &Path) -> Result<usize, Error> {
    let conn = Connection::open_with_flags(
        format!("file:{}?immutable=1", path.display()),
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_URI,
    )?;
    let check: String = conn.query_row("PRAGMA quick_check", [], |r| r.get(0))?;
    if check != "ok" {
        return Err(Backup::FailsCheck {
            path: path.to_path_buf(),
            check,
        }
        .into());
    }
    let version: usize = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    Ok(version)
}

/// Reads and verifies a backup: the manifest, every file's size and hash, the
/// database's own check.
pub fn verify(src: &Path) -> Result<Manifest, Error> {
    let path = src.join(MANIFEST);
    let text = fs::read_to_string(&path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory => {
            Error::from(Usage::NoBackupAt(src.to_path_buf()))
        }
        _ => Error::io(&path, e),
    })?;
    let manifest: Manifest = serde_json::from_str(&text).map_err(|source| Backup::Manifest {
        path: path.clone(),
        source,
    })?;
    if manifest.format != 1 {
        return Err(Backup::UnknownFormat {
            path,
            format: manifest.format,
        }
        .into());
    }
    if manifest.schema_version > SCHEMA_VERSION {
        return Err(Backup::Newer {
            found: manifest.schema_version,
            build: SCHEMA_VERSION,
        }
        .into());
    }
    for f in &manifest.files {
        let got = entry(src, &safe_relative(&f.path)?)?;
        if got.bytes != f.bytes || got.blake3 != f.blake3 {
            return Err(Backup::Differs(src.join(&f.path)).into());
        }
    }
    if !manifest.files.iter().any(|f| f.path == "forms.sqlite3") {
        return Err(Backup::NoDatabase(src.to_path_buf()).into());
    }
    check_database(&src.join("forms.sqlite3"))?;
    Ok(manifest)
}

/// A manifest path as a relative path that cannot leave the folder.
fn safe_relative(p: &str) -> Result<PathBuf, Error> {
    let path = PathBuf::from(p);
    let plain = path
        .components()
        .all(|c| matches!(c, std::path::Component::Normal(_)));
    if plain && !p.is_empty() {
        Ok(path)
    } else {
        Err(Backup::Outside(p.to_string()).into())
    }
}

/// Restores the backup in `src` into `data_dir`, which must be missing or empty.
/// Emails that were waiting become due at once, so they go out when the service starts.
pub fn restore(src: &Path, data_dir: &Path, now: i64) -> Result<Manifest, Error> {
    if data_dir.exists() && !is_empty_dir(data_dir)? {
        return Err(Usage::RestoreNotEmpty(data_dir.to_path_buf()).into());
    }
    let manifest = verify(src)?;
    private::create_dir(data_dir)?;
    // The database last, under a temporary name: a folder without `forms.sqlite3`
    // is visibly not restored.
    for f in manifest.files.iter().filter(|f| f.path != "forms.sqlite3") {
        let rel = safe_relative(&f.path)?;
        let to = data_dir.join(&rel);
        if let Some(parent) = to.parent() {
            private::create_dir(parent)?;
        }
        private::copy_file(&src.join(&rel), &to).map_err(|e| Error::io(&to, e))?;
    }
    let partial = data_dir.join(".forms.sqlite3.restoring");
    private::copy_file(&src.join("forms.sqlite3"), &partial).map_err(|e| Error::io(&partial, e))?;
    let db = schema::db_path(data_dir);
    fs::rename(&partial, &db).map_err(|e| Error::io(&db, e))?;
    private::sync_dir(data_dir).map_err(|e| Error::io(data_dir, e))?;
    let conn = schema::open(data_dir)?;
    conn.execute(
        "UPDATE outbox SET next_attempt_at = ?1 WHERE status = 'pending'",
        [now],
    )?;
    Ok(manifest)
}

/// The backups in `dir` (scheduled ones, by their manifests), oldest first.
pub fn list(dir: &Path) -> Vec<(PathBuf, Manifest)> {
    let mut out = Vec::new();
    let Ok(entries) = fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if !name.starts_with(PREFIX) {
            continue;
        }
        let m = fs::read_to_string(e.path().join(MANIFEST))
            .ok()
            .and_then(|t| serde_json::from_str::<Manifest>(&t).ok());
        if let Some(m) = m {
            out.push((e.path(), m));
        }
    }
    out.sort_by_key(|(_, m)| m.created_at);
    out
}

/// Deletes the backups in `dir` taken before `before`, and leftovers of backups that
/// failed half-way; returns how many backups went.
pub fn prune(dir: &Path, before: i64) -> Result<usize, Error> {
    let mut gone = 0;
    for (path, m) in list(dir) {
        if m.created_at < before {
            fs::remove_dir_all(&path).map_err(|e| Error::io(&path, e))?;
            gone += 1;
        }
    }
    if let Ok(entries) = fs::read_dir(dir) {
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with(&format!(".{PREFIX}")) && name.contains(".partial-") {
                let _ = fs::remove_dir_all(e.path());
            }
        }
    }
    Ok(gone)
}

/// Deletes the copies a schema migration left in `DATA_DIR/backups/` that were made
/// before `before` (by their modification time): they hold health data too, and age out
/// with the scheduled backups. Returns how many went.
pub fn prune_migration_copies(data_dir: &Path, before: i64) -> usize {
    let mut gone = 0;
    let Ok(entries) = fs::read_dir(data_dir.join(MIGRATION_DIR)) else {
        return 0;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let made = e
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(i64::MAX, |d| d.as_secs() as i64);
        if name.starts_with("forms-schema") && made < before && fs::remove_file(e.path()).is_ok() {
            gone += 1;
        }
    }
    gone
}

/// The folder name of a scheduled backup taken at `at`.
pub fn scheduled_name(at: i64) -> String {
    let stamp = jiff::Timestamp::from_second(at)
        .map(|t| t.strftime("%Y%m%dT%H%M%SZ").to_string())
        .unwrap_or_else(|_| at.to_string());
    format!("{PREFIX}{stamp}")
}

fn is_empty_dir(p: &Path) -> Result<bool, Error> {
    match fs::read_dir(p) {
        Ok(mut d) => Ok(d.next().is_none()),
        Err(e) => Err(Error::io(p, e)),
    }
}

/// `.NAME.TAG` beside `dest`: the same file system, so the final rename is atomic.
fn sibling(dest: &Path, tag: &str) -> Result<PathBuf, Error> {
    let name = dest
        .file_name()
        .ok_or_else(|| Usage::NotAFolderName(dest.to_path_buf()))?;
    let parent = dest.parent().unwrap_or(Path::new(""));
    if !parent.as_os_str().is_empty() && !parent.exists() {
        private::create_dir(parent)?;
    }
    Ok(parent.join(format!(".{}.{tag}", name.to_string_lossy())))
}

#[cfg(test)]
mod tests;
