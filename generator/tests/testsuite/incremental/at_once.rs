//! A build run while the spare output is still being prepared (right after the first
//! build into a folder, by the process that build started): it decides, renders and
//! checks what it can first, and waits for the spare only to write (issue 17).

use std::os::unix::fs::MetadataExt;

use super::running::Running;
use super::{identities, rewritten};
use crate::site_test::SiteTest;

/// Holds the lock a build takes to use the spare of `dist`, as the process preparing
/// that spare does, once the spare is made (by the process the first build started,
/// waited for through the lock, or by this one).
fn hold_spare_lock(t: &SiteTest) -> std::fs::File {
    t.run(&["prepare-spare", "--root", ".", "--output", "dist"])
        .success();
    assert!(t.path(".dist.spare").is_dir());
    let locks: Vec<_> = std::fs::read_dir(t.path(".cache/build"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "lock"))
        .collect();
    assert_eq!(locks.len(), 1, "one output, one spare lock: {locks:?}");
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(&locks[0])
        .unwrap();
    file.lock().unwrap();
    file
}

/// Replaces `rel` in the output as another build of it would (a new file), which
/// records the output anew once it has replaced it.
fn another_build_writes(t: &SiteTest, rel: &str) {
    let new = format!("{rel}.new");
    t.write(&new, "another build's page");
    std::fs::rename(t.path(&new), t.path(rel)).unwrap();
    for entry in std::fs::read_dir(t.path(".cache/build")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|x| x == "bin") {
            let new = path.with_extension("new");
            std::fs::copy(&path, &new).unwrap();
            std::fs::rename(&new, &path).unwrap();
        }
    }
}

#[test]
fn a_rebuild_checks_its_links_before_it_waits_for_the_spare_and_then_writes_into_it() {
    let t = SiteTest::from_fixture("basic");
    t.build().success();
    let lock = hold_spare_lock(&t);
    let before = identities(&t, "dist");
    let spare = identities(&t, ".dist.spare");
    let spare_folder = std::fs::metadata(t.path(".dist.spare")).unwrap().ino();
    t.change("content/about.md", "We are a team.", "We are a small team.");
    let mut build = Running::start(&t);
    // Rendered and checked while the spare is held: nothing written, anywhere.
    build.read_until("timing: links");
    assert!(build.running(), "it waits for the spare");
    assert_eq!(
        identities(&t, ".dist.spare"),
        spare,
        "the spare is left alone"
    );
    assert_eq!(identities(&t, "dist"), before);
    drop(lock);
    let (ok, rest) = build.finish();
    assert!(ok, "{rest:?}");
    assert!(
        rest.iter().any(|l| l.contains("(1 rendered;")),
        "only the edited page rendered: {rest:?}"
    );
    assert_eq!(
        std::fs::metadata(t.path("dist")).unwrap().ino(),
        spare_folder,
        "the spare became the output"
    );
    assert_eq!(
        rewritten(&before, &identities(&t, "dist")),
        ["about/index.html"]
    );
    assert!(t.read("dist/about/index.html").contains("a small team"));
    t.assert_same_as_clean_build();
}

#[test]
fn a_rebuild_with_a_broken_link_fails_without_waiting_for_the_spare() {
    let t = SiteTest::from_fixture("basic");
    t.build().success();
    let _lock = hold_spare_lock(&t);
    let before = t.snapshot_dir("dist");
    t.change(
        "content/about.md",
        "We are a team.",
        "We are a [team](/no-such-page/).",
    );
    // The lock is still held: a build that waited for it would not end here.
    let (ok, stderr) = Running::start(&t).finish();
    assert!(!ok);
    assert!(
        stderr.iter().any(|l| l.contains("/no-such-page/")),
        "{stderr:?}"
    );
    assert_eq!(t.snapshot_dir("dist"), before, "the output is as it was");
}

#[test]
fn a_page_changed_in_the_output_during_the_wait_is_rendered_after_all() {
    let t = SiteTest::from_fixture("basic");
    t.build().success();
    let lock = hold_spare_lock(&t);
    // No spare to write into: a new folder, into which unchanged pages are linked
    // from the output (or a spare made again once the lock is let go, if the process
    // the first build started comes to it only then; the page is missing there too).
    std::fs::remove_dir_all(t.path(".dist.spare")).unwrap();
    t.change("content/about.md", "We are a team.", "We are a small team.");
    let build = Running::start(&t);
    build.read_until("timing: links");
    // An unchanged page's file changes while the build waits, as another build of the
    // output might change it: linking the file by name now would publish that one.
    another_build_writes(&t, "dist/privacy/index.html");
    drop(lock);
    let (ok, rest) = build.finish();
    assert!(ok, "{rest:?}");
    assert!(t.read("dist/privacy/index.html").contains("<html"));
    assert!(t.read("dist/about/index.html").contains("a small team"));
    t.assert_same_as_clean_build();
}

#[test]
fn a_rebuild_with_many_pages_to_render_waits_first_and_links_only_what_is_still_there() {
    let t = SiteTest::from_fixture("basic");
    let note = |i: usize, text: &str| {
        t.write(
            &format!("content/note-{i}.md"),
            &format!("---\ntitle: Note {i}\n---\n\n{text}\n"),
        );
    };
    for i in 0..300 {
        note(i, "A note.");
    }
    t.build().success();
    let lock = hold_spare_lock(&t);
    std::fs::remove_dir_all(t.path(".dist.spare")).unwrap();
    // More pages to render than a waiting build holds in memory: it waits first.
    for i in 0..300 {
        note(i, "A longer note.");
    }
    let build = Running::start(&t);
    build.read_until("timing: plan");
    another_build_writes(&t, "dist/privacy/index.html");
    drop(lock);
    let (ok, rest) = build.finish();
    assert!(ok, "{rest:?}");
    assert!(
        rest.iter().any(|l| l.contains("(301 rendered;")),
        "the edited pages and the page changed meanwhile: {rest:?}"
    );
    assert!(t.read("dist/privacy/index.html").contains("<html"));
    t.assert_same_as_clean_build();
}
