//! Opening the database and bringing its schema up to date.
//!
//! Migrations are numbered by their place in `MIGRATIONS` and recorded in
//! `PRAGMA user_version`; each runs in its own transaction. Never edit a shipped one:
//! add the next.

use std::path::Path;
use std::time::Duration;

use rusqlite::Connection;

use crate::error::Storage;
use crate::error::Usage;
use crate::Error;

/// One migration: SQL, or a function for what SQL alone cannot say.
enum Step {
    Sql(&'static str),
    Code(fn(&rusqlite::Transaction<'_>) -> rusqlite::Result<()>),
}

/// The schema, one step at a time.
const MIGRATIONS: &[Step] = &[
    // 1: submissions and the outbox of emails about them.
    Step::Sql(
        "CREATE TABLE submissions (
        id          INTEGER PRIMARY KEY,
        public_id   TEXT NOT NULL UNIQUE,
        form        TEXT NOT NULL,
        received_at INTEGER NOT NULL,
        email       TEXT NOT NULL,
        fingerprint BLOB NOT NULL,
        answers     TEXT NOT NULL
    );
    CREATE INDEX submissions_by_fingerprint ON submissions(fingerprint, received_at);
    CREATE INDEX submissions_by_email ON submissions(email);
    CREATE INDEX submissions_by_form ON submissions(form, received_at);
    CREATE TABLE outbox (
        id              INTEGER PRIMARY KEY,
        submission_id   INTEGER REFERENCES submissions(id) ON DELETE CASCADE,
        kind            TEXT NOT NULL,
        envelope_from   TEXT NOT NULL,
        envelope_to     TEXT NOT NULL,
        subject         TEXT NOT NULL,
        status          TEXT NOT NULL DEFAULT 'pending'
                        CHECK (status IN ('pending', 'sent', 'failed')),
        attempts        INTEGER NOT NULL DEFAULT 0,
        created_at      INTEGER NOT NULL,
        next_attempt_at INTEGER NOT NULL,
        give_up_at      INTEGER NOT NULL,
        last_error      TEXT,
        sent_at         INTEGER
    );
    -- The message apart from its row, so the frequent status updates rewrite a few
    -- bytes instead of the whole email.
    CREATE TABLE outbox_messages (
        outbox_id INTEGER PRIMARY KEY REFERENCES outbox(id) ON DELETE CASCADE,
        message   BLOB NOT NULL
    );
    CREATE INDEX outbox_due ON outbox(status, next_attempt_at);
    CREATE INDEX outbox_by_submission ON outbox(submission_id);
    CREATE INDEX outbox_by_recipient ON outbox(envelope_to, kind, created_at);",
    ),
    // 2: the loyalty programme: members, their emailed links and sessions, and the
    // append-only points ledger.
    Step::Sql(
        "CREATE TABLE members (
        id            INTEGER PRIMARY KEY,
        email         TEXT NOT NULL,            -- as the member typed it
        email_key     TEXT NOT NULL UNIQUE,     -- trimmed and lowercased: one account each
        name          TEXT NOT NULL,
        status        TEXT NOT NULL CHECK (status IN ('pending', 'active')),
        referral_code TEXT UNIQUE,
        referred_by   INTEGER REFERENCES members(id) ON DELETE SET NULL,
        registered_at INTEGER NOT NULL,
        confirmed_at  INTEGER
    );
    CREATE INDEX members_by_referrer ON members(referred_by);
    -- Emailed links and staff links. The token is `selector` + a secret whose hash is
    -- `verifier`: the selector finds the row, the secret is compared in constant time.
    CREATE TABLE links (
        id         INTEGER PRIMARY KEY,
        selector   TEXT NOT NULL UNIQUE,
        verifier   BLOB NOT NULL,
        purpose    TEXT NOT NULL,
        member_id  INTEGER REFERENCES members(id) ON DELETE CASCADE,
        subject_id INTEGER,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        used_at    INTEGER
    );
    CREATE INDEX links_by_member ON links(member_id);
    CREATE INDEX links_by_expiry ON links(expires_at);
    CREATE TABLE sessions (
        id         INTEGER PRIMARY KEY,
        selector   TEXT NOT NULL UNIQUE,
        verifier   BLOB NOT NULL,
        member_id  INTEGER NOT NULL REFERENCES members(id) ON DELETE CASCADE,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL
    );
    CREATE INDEX sessions_by_member ON sessions(member_id);
    -- Every change of points is a row; balances are sums. A pending referral or a held
    -- reward is settled by a later row that names it in `settles` (once: unique).
    CREATE TABLE ledger (
        id         INTEGER PRIMARY KEY,
        member_id  INTEGER NOT NULL REFERENCES members(id) ON DELETE CASCADE,
        amount     INTEGER NOT NULL,
        kind       TEXT NOT NULL CHECK (kind IN ('signup', 'referral', 'reward', 'adjustment')),
        status     TEXT NOT NULL
                   CHECK (status IN ('confirmed', 'pending', 'held', 'void', 'released')),
        settles    INTEGER UNIQUE REFERENCES ledger(id) ON DELETE CASCADE,
        reward     TEXT,
        friend_id  INTEGER,
        reason     TEXT NOT NULL,
        actor      TEXT NOT NULL,
        created_at INTEGER NOT NULL
    );
    CREATE INDEX ledger_by_member ON ledger(member_id, id);
    CREATE UNIQUE INDEX one_referral_per_friend ON ledger(friend_id)
        WHERE kind = 'referral' AND settles IS NULL;
    CREATE TRIGGER ledger_is_append_only BEFORE UPDATE ON ledger
    BEGIN SELECT RAISE(ABORT, 'the points ledger is append-only'); END;
    -- Rows go only with their member (`forget`), through the cascade.
    CREATE TRIGGER ledger_rows_stay BEFORE DELETE ON ledger
    WHEN EXISTS (SELECT 1 FROM members WHERE id = OLD.member_id)
    BEGIN SELECT RAISE(ABORT, 'the points ledger is append-only'); END;",
    ),
    // 3: members' comments on service pages, and their way to moderation. `held`
    // waits for its author to follow an emailed link; `pending` waits for staff.
    Step::Sql(
        "CREATE TABLE comments (
        id           INTEGER PRIMARY KEY,
        public_id    TEXT NOT NULL UNIQUE,
        member_id    INTEGER NOT NULL REFERENCES members(id) ON DELETE CASCADE,
        service      TEXT NOT NULL,
        page         TEXT NOT NULL,
        author       TEXT NOT NULL,
        body         TEXT NOT NULL,
        fingerprint  BLOB NOT NULL,
        status       TEXT NOT NULL
                     CHECK (status IN ('held', 'pending', 'approved', 'rejected')),
        flags        TEXT NOT NULL DEFAULT '',
        reason       TEXT,
        reply        TEXT,
        replied_at   INTEGER,
        created_at   INTEGER NOT NULL,
        submitted_at INTEGER,
        decided_at   INTEGER
    );
    CREATE INDEX comments_by_member ON comments(member_id, created_at);
    CREATE INDEX comments_by_status ON comments(status, page);
    CREATE INDEX comments_by_fingerprint ON comments(fingerprint);
    -- One row per request for an emailed link, known address or not, so that every
    -- such request writes (and takes) the same: no answer is faster for strangers.
    CREATE TABLE link_requests (
        id         INTEGER PRIMARY KEY,
        email_hash BLOB NOT NULL,
        at         INTEGER NOT NULL
    );
    CREATE INDEX link_requests_by_time ON link_requests(at);",
    ),
    // 4: two indexes on submissions go. Each put every stored request on a random page
    // of its own (a hash, an address), written and synced with the request. The
    // double-click filter now keeps recent fingerprints in the writer's memory
    // (`store::writer::recent`), and `forget`, a rare staff command, reads the table.
    Step::Sql(
        "DROP INDEX submissions_by_fingerprint;
    DROP INDEX submissions_by_email;",
    ),
    // 5: each outbox row records whom it is about (the member a staff email about a
    // comment or reward concerns), so `forget` finds it whatever its recipient.
    Step::Sql(
        "ALTER TABLE outbox ADD COLUMN about TEXT;
    CREATE INDEX outbox_by_about ON outbox(about);",
    ),
    // 6: ids are never reused after a deletion (AUTOINCREMENT), so references, links
    // and `.eml` file names made for a forgotten person never meet a newcomer's.
    Step::Code(never_reuse_ids),
    // 7: staff sign in by emailed link and get a session per browser; a link may name
    // the staff address it signs in, and a confirmation link carries the details of
    // the registration that sent it (so the one followed is the one that counts);
    // moderation records which staff address decided.
    Step::Sql(
        "ALTER TABLE links ADD COLUMN staff_email TEXT;
    ALTER TABLE links ADD COLUMN name TEXT;
    ALTER TABLE links ADD COLUMN referrer_id INTEGER;
    CREATE INDEX links_by_subject ON links(subject_id);
    CREATE TABLE staff_sessions (
        id         INTEGER PRIMARY KEY AUTOINCREMENT,
        selector   TEXT NOT NULL UNIQUE,
        verifier   BLOB NOT NULL,
        email      TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL
    );
    ALTER TABLE comments ADD COLUMN decided_by TEXT;",
    ),
    // 8: a staff sign-in link signs in only the browser that asked for it: asking sets a
    // random cookie there, and the link keeps that cookie's hash.
    Step::Sql("ALTER TABLE links ADD COLUMN browser BLOB;"),
    // 9: a link request row keeps random filler, not a hash of the address that asked
    // (`members::accounts::note_request`): the column says so, and rows written by
    // earlier versions lose their hashes now rather than at the day's purge.
    Step::Sql(
        "ALTER TABLE link_requests RENAME COLUMN email_hash TO filler;
    UPDATE link_requests SET filler = randomblob(32);",
    ),
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: usize = MIGRATIONS.len();

/// The database file in a data folder.
pub fn db_path(data_dir: &Path) -> std::path::PathBuf {
    data_dir.join("forms.sqlite3")
}

/// Opens (creating if needed) the database in `data_dir` with the settings every
/// connection needs, and migrates it.
pub fn open(data_dir: &Path) -> Result<Connection, Error> {
    crate::private::create_dir(data_dir)?;
    // SQLite gives the -wal and -shm files the database file's mode, so a database
    // created 0600 keeps all three private.
    crate::private::create_file(&db_path(data_dir))?;
    let mut conn = Connection::open(db_path(data_dir))?;
    // Pages freed by a checkpoint leave the WAL when it starts over, so a delivered
    // email's link does not linger there (issue 13, item 5).
    conn.pragma_update(None, "journal_size_limit", 0)?;
    // WAL lets readers work beside the one writer; FULL makes every commit reach the
    // disk before it returns, which is what "stored before answered" rests on.
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(Storage::NotWal(mode).into());
    }
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // Deleted rows are overwritten, so `purge` and `forget` really erase.
    conn.pragma_update(None, "secure_delete", "ON")?;
    conn.busy_timeout(Duration::from_secs(5))?;
    // Checkpoint the WAL every ~16 MB instead of every ~4 MB: fewer pauses for the
    // staff commands' writes. The service's writer turns this off and leaves
    // checkpoints to a thread of their own (`store::checkpoint`).
    conn.pragma_update(None, "wal_autocheckpoint", 4000)?;
    migrate(&mut conn, data_dir)?;
    Ok(conn)
}

fn migrate(conn: &mut Connection, data_dir: &Path) -> Result<(), Error> {
    let version: usize = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version > SCHEMA_VERSION {
        return Err(Storage::Newer {
            found: version,
            build: SCHEMA_VERSION,
        }
        .into());
    }
    if version == SCHEMA_VERSION {
        return Ok(());
    }
    if version > 0 {
        let copy = backup_before_migration(conn, data_dir, version)?;
        tracing::info!(
            from = version,
            to = SCHEMA_VERSION,
            backup = %copy.display(),
            "database copied before its schema is upgraded"
        );
    }
    // Rebuilding a table (step 6) drops the old one: without this, the drop would
    // cascade to every row that refers to it, and renaming would rewrite triggers.
    conn.pragma_update(None, "foreign_keys", "OFF")?;
    conn.pragma_update(None, "legacy_alter_table", "ON")?;
    let result = (|| -> Result<(), Error> {
        for (i, step) in MIGRATIONS.iter().enumerate().skip(version) {
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            match step {
                Step::Sql(sql) => tx.execute_batch(sql)?,
                Step::Code(f) => f(&tx)?,
            }
            let broken: Option<String> = tx
                .query_row("PRAGMA foreign_key_check", [], |r| r.get(0))
                .ok();
            if let Some(table) = broken {
                return Err(Storage::BrokenReference { step: i + 1, table }.into());
            }
            tx.pragma_update(None, "user_version", i + 1)?;
            tx.commit()?;
        }
        Ok(())
    })();
    conn.pragma_update(None, "legacy_alter_table", "OFF")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    result
}

/// Tables whose ids must never come back: SQLite otherwise gives the next row the
/// largest id plus one, so after `forget` removes the newest member, the next one
/// would get their id (and their old links' and files' names).
const NEVER_REUSED: &[&str] = &[
    "submissions",
    "outbox",
    "members",
    "links",
    "sessions",
    "ledger",
    "comments",
    "link_requests",
];

/// Rebuilds each table of [`NEVER_REUSED`] as it stands, with `AUTOINCREMENT` on its
/// id: the rows, indexes and triggers are copied as they are.
fn never_reuse_ids(tx: &rusqlite::Transaction<'_>) -> rusqlite::Result<()> {
    for table in NEVER_REUSED {
        let sql: String = tx.query_row(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?1",
            [table],
            |r| r.get(0),
        )?;
        if sql.contains("AUTOINCREMENT") {
            continue;
        }
        let new_name = format!("{table}_rebuilt");
        let create = sql
            .replacen(
                &format!("CREATE TABLE {table}"),
                &format!("CREATE TABLE {new_name}"),
                1,
            )
            .replacen(
                "INTEGER PRIMARY KEY",
                "INTEGER PRIMARY KEY AUTOINCREMENT",
                1,
            );
        let extras: Vec<String> = {
            let mut stmt = tx.prepare(
                "SELECT sql FROM sqlite_master
                 WHERE type IN ('index', 'trigger') AND tbl_name = ?1 AND sql IS NOT NULL",
            )?;
            let rows = stmt.query_map([table], |r| r.get(0))?;
            rows.collect::<Result<_, _>>()?
        };
        tx.execute_batch(&create)?;
        tx.execute_batch(&format!(
            "INSERT INTO {new_name} SELECT * FROM {table};
             DROP TABLE {table};
             ALTER TABLE {new_name} RENAME TO {table};"
        ))?;
        for extra in extras {
            tx.execute_batch(&extra)?;
        }
    }
    Ok(())
}

/// Copies the database (as `VACUUM INTO` sees it, in one snapshot) into
/// `DATA_DIR/backups/` before a migration changes it, so an upgrade can be undone by
/// putting the old binary and this file back. The copy is private, like every backup.
fn backup_before_migration(
    conn: &Connection,
    data_dir: &Path,
    version: usize,
) -> Result<std::path::PathBuf, Error> {
    let dir = data_dir.join(crate::backup::MIGRATION_DIR);
    crate::private::create_dir(&dir)?;
    let now = crate::Clock::default().now();
    let path = dir.join(format!(
        "forms-schema{version}-{}.sqlite3",
        crate::backup::scheduled_name(now).trim_start_matches(crate::backup::PREFIX)
    ));
    crate::private::create_new(&path).map_err(|e| Error::io(&path, e))?;
    let target = path.to_str().ok_or_else(|| Usage::NotUtf8(path.clone()))?;
    conn.execute("VACUUM INTO ?1", [target])?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_migrates_and_reopens() {
        let dir = tempfile::tempdir().unwrap();
        let conn = open(dir.path()).unwrap();
        let v: usize = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, SCHEMA_VERSION);
        let sync: i64 = conn
            .query_row("PRAGMA synchronous", [], |r| r.get(0))
            .unwrap();
        assert_eq!(sync, 2, "synchronous=FULL");
        drop(conn);
        open(dir.path()).unwrap();
    }

    /// A database from before step 6 keeps its rows, references and triggers, and
    /// from then on never gives a deleted id again.
    #[test]
    fn ids_are_never_reused_after_the_upgrade() {
        let dir = tempfile::tempdir().unwrap();
        let conn = Connection::open(db_path(dir.path())).unwrap();
        for step in &MIGRATIONS[..4] {
            let Step::Sql(sql) = step else { panic!() };
            conn.execute_batch(sql).unwrap();
        }
        conn.pragma_update(None, "user_version", 4).unwrap();
        conn.execute_batch(
            "INSERT INTO members (id, email, email_key, name, status, registered_at)
               VALUES (1, 'a@x.example', 'a@x.example', 'A', 'active', 0),
                      (2, 'b@x.example', 'b@x.example', 'B', 'active', 0);
             INSERT INTO ledger (member_id, amount, kind, status, reason, actor, created_at)
               VALUES (1, 50, 'signup', 'confirmed', 'bonus', 'system', 0);",
        )
        .unwrap();
        drop(conn);
        let conn = open(dir.path()).unwrap();
        let rows: i64 = conn
            .query_row("SELECT count(*) FROM ledger WHERE member_id = 1", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(rows, 1);
        assert!(
            conn.execute("UPDATE ledger SET amount = 1", []).is_err(),
            "the ledger's triggers survive"
        );
        conn.execute("DELETE FROM members WHERE id = 2", [])
            .unwrap();
        conn.execute(
            "INSERT INTO members (email, email_key, name, status, registered_at)
             VALUES ('c@x.example', 'c@x.example', 'C', 'pending', 0)",
            [],
        )
        .unwrap();
        assert_eq!(conn.last_insert_rowid(), 3, "id 2 is not given again");
        let broken: Option<String> = conn
            .query_row("PRAGMA foreign_key_check", [], |r| r.get(0))
            .ok();
        assert_eq!(broken, None);
    }

    /// Rows written before step 9 may hold a hash of the address that asked for a
    /// link: after the upgrade none is left, and new rows go on being written.
    #[test]
    fn link_requests_keep_no_address_hash_after_the_upgrade() {
        let dir = tempfile::tempdir().unwrap();
        let hash = blake3::hash(b"ann@example.com");
        {
            let mut conn = Connection::open(db_path(dir.path())).unwrap();
            conn.pragma_update(None, "foreign_keys", "OFF").unwrap();
            conn.pragma_update(None, "legacy_alter_table", "ON")
                .unwrap();
            let tx = conn.transaction().unwrap();
            for step in &MIGRATIONS[..8] {
                match step {
                    Step::Sql(sql) => tx.execute_batch(sql).unwrap(),
                    Step::Code(f) => f(&tx).unwrap(),
                }
            }
            tx.pragma_update(None, "user_version", 8).unwrap();
            tx.execute(
                "INSERT INTO link_requests (email_hash, at) VALUES (?1, 1)",
                [&hash.as_bytes()[..]],
            )
            .unwrap();
            tx.commit().unwrap();
        }
        let conn = open(dir.path()).unwrap();
        let kept: Vec<u8> = conn
            .query_row("SELECT filler FROM link_requests", [], |r| r.get(0))
            .unwrap();
        assert_eq!(kept.len(), 32);
        assert_ne!(
            kept[..],
            hash.as_bytes()[..],
            "the address's hash is still there"
        );
        conn.execute(
            "INSERT INTO link_requests (filler, at) VALUES (randomblob(32), 2)",
            [],
        )
        .unwrap();
    }

    #[test]
    fn an_upgrade_copies_the_database_first() {
        let dir = tempfile::tempdir().unwrap();
        {
            // A database as the previous release left it: one migration short.
            let mut conn = Connection::open(db_path(dir.path())).unwrap();
            // As `migrate` runs the steps (table rebuilds need these).
            conn.pragma_update(None, "foreign_keys", "OFF").unwrap();
            conn.pragma_update(None, "legacy_alter_table", "ON")
                .unwrap();
            let tx = conn.transaction().unwrap();
            for step in &MIGRATIONS[..SCHEMA_VERSION - 1] {
                match step {
                    Step::Sql(sql) => tx.execute_batch(sql).unwrap(),
                    Step::Code(f) => f(&tx).unwrap(),
                }
            }
            tx.pragma_update(None, "user_version", SCHEMA_VERSION - 1)
                .unwrap();
            tx.execute(
                "INSERT INTO submissions (public_id, form, received_at, email, fingerprint, answers)
                 VALUES ('old', 'consultation', 1, 'a@example.com', x'00', '[]')",
                [],
            )
            .unwrap();
            tx.commit().unwrap();
        }
        open(dir.path()).unwrap();
        let copies: Vec<_> = std::fs::read_dir(dir.path().join("backups"))
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .collect();
        assert_eq!(copies.len(), 1, "{copies:?}");
        let name = copies[0]
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        assert!(
            name.starts_with(&format!("forms-schema{}-", SCHEMA_VERSION - 1)),
            "{name}"
        );
        assert_eq!(crate::private::mode(&copies[0]).unwrap(), 0o600);
        let old = Connection::open(&copies[0]).unwrap();
        let v: usize = old
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, SCHEMA_VERSION - 1);
        let id: String = old
            .query_row("SELECT public_id FROM submissions", [], |r| r.get(0))
            .unwrap();
        assert_eq!(id, "old");
        // Opening again (up to date) copies nothing more.
        open(dir.path()).unwrap();
        assert_eq!(
            std::fs::read_dir(dir.path().join("backups"))
                .unwrap()
                .count(),
            1
        );
    }

    #[test]
    fn refuses_a_newer_database() {
        let dir = tempfile::tempdir().unwrap();
        let conn = open(dir.path()).unwrap();
        conn.pragma_update(None, "user_version", 99).unwrap();
        drop(conn);
        let err = open(dir.path()).unwrap_err().to_string();
        assert!(err.contains("newer than this build"), "{err}");
    }
}
