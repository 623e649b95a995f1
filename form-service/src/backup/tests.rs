//! Backups on a temporary data folder: a copy is private and whole, restores only into
//! an empty folder, is refused once changed, and is pruned by age alone, the copies a
//! migration makes too.

use super::*;

fn data_with_rows() -> tempfile::TempDir {
    let data = tempfile::tempdir().unwrap();
    let conn = schema::open(data.path()).unwrap();
    conn.execute(
        "INSERT INTO submissions (public_id, form, received_at, email, fingerprint, answers)
         VALUES ('abc', 'consultation', 1, 'a@example.com', x'00', '[]')",
        [],
    )
    .unwrap();
    fs::create_dir_all(data.path().join("mail")).unwrap();
    fs::write(
        data.path().join("mail/abc-1.eml"),
        "Subject: hi\r\n\r\nbody",
    )
    .unwrap();
    fs::write(data.path().join("comments.json"), "{\"comments\": []}").unwrap();
    fs::write(data.path().join("publish.lock"), "").unwrap();
    data
}

#[test]
fn a_backup_is_private_whole_and_restores_into_an_empty_folder_only() {
    let data = data_with_rows();
    let out = tempfile::tempdir().unwrap();
    let dest = out.path().join("b1");
    let m = take(data.path(), &dest, 1_700_000_000).unwrap();
    let names: Vec<_> = m.files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(names, ["forms.sqlite3", "comments.json", "mail/abc-1.eml"]);
    assert_eq!(private::mode(&dest).unwrap(), 0o700);
    assert_eq!(private::mode(&dest.join("mail")).unwrap(), 0o700);
    for f in ["forms.sqlite3", "mail/abc-1.eml", MANIFEST] {
        assert_eq!(private::mode(&dest.join(f)).unwrap(), 0o600, "{f}");
    }
    // No half-written sibling is left behind.
    assert_eq!(fs::read_dir(out.path()).unwrap().count(), 1);
    // A second backup into the same folder is refused.
    assert!(matches!(take(data.path(), &dest, 1), Err(Error::Usage(_))));

    // Restoring into a folder with anything in it is refused, and changes nothing.
    let busy = tempfile::tempdir().unwrap();
    fs::write(busy.path().join("keep.txt"), "x").unwrap();
    let err = restore(&dest, busy.path(), 5).unwrap_err();
    assert!(err.to_string().contains("not empty"), "{err}");
    assert_eq!(fs::read_dir(busy.path()).unwrap().count(), 1);

    let fresh = tempfile::tempdir().unwrap();
    let target = fresh.path().join("data");
    restore(&dest, &target, 5).unwrap();
    let conn = schema::open(&target).unwrap();
    let id: String = conn
        .query_row("SELECT public_id FROM submissions", [], |r| r.get(0))
        .unwrap();
    assert_eq!(id, "abc");
    assert!(target.join("mail/abc-1.eml").is_file());
    assert!(!target.join("publish.lock").exists());
    assert_eq!(private::mode(&target.join("forms.sqlite3")).unwrap(), 0o600);
}

#[test]
fn a_changed_backup_is_refused() {
    let data = data_with_rows();
    let out = tempfile::tempdir().unwrap();
    let dest = out.path().join("b");
    take(data.path(), &dest, 1).unwrap();
    fs::write(dest.join("comments.json"), "{}").unwrap();
    let err = restore(&dest, &out.path().join("new"), 5).unwrap_err();
    assert!(err.to_string().contains("differs from the backup"), "{err}");
    assert!(!out.path().join("new").exists());
}

#[test]
fn prune_deletes_by_age_only() {
    let data = data_with_rows();
    let dir = tempfile::tempdir().unwrap();
    for at in [1_000, 2_000, 3_000] {
        take(data.path(), &dir.path().join(scheduled_name(at)), at).unwrap();
    }
    assert_eq!(prune(dir.path(), 2_500).unwrap(), 2);
    let left: Vec<i64> = list(dir.path()).iter().map(|(_, m)| m.created_at).collect();
    assert_eq!(left, [3_000]);
    assert_eq!(scheduled_name(0), "form-service-19700101T000000Z");
}

#[test]
fn migration_copies_age_out_too() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().join(MIGRATION_DIR);
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join("forms-schema3-20200101T000000Z.sqlite3"), "x").unwrap();
    fs::write(dir.join("notes.txt"), "x").unwrap();
    assert_eq!(prune_migration_copies(data.path(), 0), 0);
    assert_eq!(prune_migration_copies(data.path(), i64::MAX - 1), 1);
    assert!(dir.join("notes.txt").exists());
}
