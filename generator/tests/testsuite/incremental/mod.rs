//! `generator build` over a previous output (issue 17): files whose bytes are the same
//! are linked from it (same inode, same modification time, so rsync and CDN uploads send
//! only what changed), changed files are written, and the result equals a clean build.

use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::time::SystemTime;

use crate::site_test::SiteTest;

/// Every file under `rel` (none when it is missing): its path there, its path, its inode
/// and its modification time.
fn each_file(t: &SiteTest, rel: &str) -> Vec<(String, std::path::PathBuf, u64, SystemTime)> {
    let base = t.path(rel);
    if !base.exists() {
        return Vec::new();
    }
    walkdir::WalkDir::new(&base)
        .into_iter()
        .map(Result::unwrap)
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            let meta = e.metadata().unwrap();
            let key = e.path().strip_prefix(&base).unwrap().display().to_string();
            (key, e.into_path(), meta.ino(), meta.modified().unwrap())
        })
        .collect()
}

/// Every file under `rel`: its inode and modification time.
fn identities(t: &SiteTest, rel: &str) -> BTreeMap<String, (u64, SystemTime)> {
    each_file(t, rel)
        .into_iter()
        .map(|(key, _, ino, modified)| (key, (ino, modified)))
        .collect()
}

/// The files whose inode changed between two snapshots, and the ones added or removed.
fn rewritten(
    before: &BTreeMap<String, (u64, SystemTime)>,
    after: &BTreeMap<String, (u64, SystemTime)>,
) -> Vec<String> {
    let mut keys: Vec<String> = before.keys().chain(after.keys()).cloned().collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|k| before.get(k) != after.get(k))
        .collect()
}

/// Asserts that each of `written` is among the `changed` files and none of `kept`.
#[track_caller]
fn assert_rewrote(changed: &[String], written: &[&str], kept: &[&str]) {
    for page in written {
        assert!(
            changed.iter().any(|c| c == page),
            "{page} not rewritten: {changed:?}"
        );
    }
    for page in kept {
        assert!(
            !changed.iter().any(|c| c == page),
            "{page} rewritten: {changed:?}"
        );
    }
}

/// Replaces `from` with `to` in `file`, builds over the last output, and returns the
/// files rewritten, with the pages built and rendered.
fn edit_and_rebuild(t: &SiteTest, file: &str, from: &str, to: &str) -> (Vec<String>, usize, usize) {
    let before = identities(t, "dist");
    t.change(file, from, to);
    let run = t.build().success();
    let (pages, rendered) = counts(&run.stderr);
    (rewritten(&before, &identities(t, "dist")), pages, rendered)
}

/// "built 9 pages (1 rendered; ..." -> (9, 1).
fn counts(stderr: &str) -> (usize, usize) {
    let line = stderr.lines().find(|l| l.starts_with("built ")).unwrap();
    let words: Vec<&str> = line.split([' ', '(']).collect();
    (words[1].parse().unwrap(), words[4].parse().unwrap())
}

#[test]
fn a_text_edit_rewrites_only_that_page() {
    let t = SiteTest::from_fixture("basic");
    t.build().success().stderr_has("0 unchanged");
    let before = identities(&t, "dist");
    t.change("content/about.md", "We are a team.", "We are a small team.");
    t.build()
        .success()
        .stderr_has(&format!("{} unchanged", before.len() - 1));
    let after = identities(&t, "dist");
    assert_eq!(rewritten(&before, &after), ["about/index.html"]);
    assert!(t.read("dist/about/index.html").contains("small team"));
    t.assert_same_as_clean_build();
}

#[test]
fn an_edit_listings_show_rewrites_the_page_and_the_listings() {
    let t = SiteTest::from_fixture("basic");
    t.build().success();
    let before = identities(&t, "dist");
    t.change("content/services/peel.md", "price: 85.5", "price: 90");
    t.build().success();
    let after = identities(&t, "dist");
    assert_eq!(
        rewritten(&before, &after),
        [
            "index.html",
            "services/index.html",
            "services/peel/index.html"
        ]
    );
    t.assert_same_as_clean_build();
}

#[test]
fn an_faq_edit_renders_that_service_page_alone() {
    // Listings show a service without its text and FAQs (themes/README.md), so they
    // need not render again.
    let t = SiteTest::from_fixture("basic");
    t.build().success();
    let (changed, _, rendered) = edit_and_rebuild(
        &t,
        "content/services/scalp.md",
        "answer: Many years",
        "answer: Five to seven years",
    );
    assert_eq!(rendered, 1, "rendered more than the page");
    assert_eq!(changed, ["services/scalp/index.html"]);
    assert!(t
        .read("dist/services/scalp/index.html")
        .contains("Five to seven years"));
    t.assert_same_as_clean_build();
}

#[test]
fn a_title_edit_rewrites_the_pages_that_show_every_services_title() {
    let t = SiteTest::from_fixture("basic");
    t.build().success();
    let (changed, pages, rendered) = edit_and_rebuild(
        &t,
        "content/services/peel.md",
        "title: Chemical Peel",
        "title: Gentle Chemical Peel",
    );
    // Up to 40 services, every service page's form offers them all, as does the
    // consultation page's; the listings show the title. Pages without such a form do
    // not change, and are not even rendered.
    assert_rewrote(
        &changed,
        &[
            "services/peel/index.html",
            "services/scalp/index.html",
            "consultation/index.html",
            "services/index.html",
            "index.html",
        ],
        &[
            "about/index.html",
            "privacy/index.html",
            "thanks/index.html",
        ],
    );
    assert!(rendered < pages, "{rendered} of {pages} pages rendered");
    assert!(t.read("dist/about/index.html").contains("About"));
    t.assert_same_as_clean_build();
}

/// Adds `count` services (`extra-1` …) to the basic fixture's three.
fn add_services(t: &SiteTest, count: usize) {
    for n in 1..=count {
        t.write(
            &format!("content/services/extra-{n}.md"),
            &format!(
                "---\ntitle: Extra treatment {n}\nsummary: Treatment number {n}.\n\
                 duration: 30 min\nprice: {n}\norder: {}\n---\nAbout treatment {n}.\n",
                n + 10
            ),
        );
    }
}

#[test]
fn back_to_forty_services_every_service_page_offers_them_all_again() {
    let t = SiteTest::from_fixture("basic");
    add_services(&t, 41);
    t.build().success();
    assert!(!t
        .read("dist/services/extra-1/index.html")
        .contains("\"extra-2\""));
    // Four drafted: 40 services, so each service page's form offers every one again,
    // though no page but the drafted ones changed its file.
    for n in 38..=41 {
        t.change(
            &format!("content/services/extra-{n}.md"),
            "---\ntitle:",
            "---\ndraft: true\ntitle:",
        );
    }
    t.build().success();
    assert!(t
        .read("dist/services/extra-1/index.html")
        .contains("\"extra-2\""));
    assert!(t
        .read("dist/services/peel/index.html")
        .contains("\"extra-37\""));
    t.assert_same_as_clean_build();
}

#[test]
fn beyond_forty_services_a_title_edit_leaves_the_other_service_pages() {
    let t = SiteTest::from_fixture("basic");
    add_services(&t, 41);
    // A page of the site's own that offers one service, not its own, in a form.
    t.write(
        "templates/promo.html",
        "{% extends \"base.html\" %}{% block content %}<h1>{{ page.title }}</h1>\
         {{ form(name=\"consultation\", service=\"extra-7\") | safe }}{% endblock content %}",
    );
    t.write(
        "content/promo.md",
        "---\ntitle: This month\ntemplate: promo.html\n---\nOur offer.\n",
    );
    t.build().success();
    assert!(t
        .read("dist/promo/index.html")
        .contains("Extra treatment 7"));
    let (changed, _, rendered) = edit_and_rebuild(
        &t,
        "content/services/extra-7.md",
        "title: Extra treatment 7",
        "title: Extra treatment seven",
    );
    // A service page's form offers only its own service now: the other service pages
    // keep their files; the consultation page still offers every service, and the
    // promotion page the edited one.
    assert_rewrote(
        &changed,
        &[
            "services/extra-7/index.html",
            "consultation/index.html",
            "promo/index.html",
        ],
        &["services/extra-8/index.html", "services/peel/index.html"],
    );
    assert!(rendered < 10, "{rendered} pages rendered");
    assert!(t
        .read("dist/consultation/index.html")
        .contains("Extra treatment seven"));
    assert!(t
        .read("dist/promo/index.html")
        .contains("Extra treatment seven"));
    t.assert_same_as_clean_build();
}

#[test]
fn a_title_edit_renders_the_two_listings_side_by_side_from_a_copy_of_the_services() {
    let t = SiteTest::from_fixture("basic");
    add_services(&t, 60);
    let (ok, first) = running::Running::start(&t).finish();
    assert!(ok, "{first:?}");
    let copied = |lines: &[String]| {
        lines
            .iter()
            .any(|l| l.starts_with("timing: services for the listings, and a copy "))
    };
    assert!(!copied(&first), "every page renders: no copy");
    t.change(
        "content/services/extra-7.md",
        "title: Extra treatment 7",
        "title: Extra treatment seven",
    );
    let (ok, rebuild) = running::Running::start(&t).finish();
    assert!(ok, "{rebuild:?}");
    assert!(copied(&rebuild), "{rebuild:?}");
    for listing in ["dist/index.html", "dist/services/index.html"] {
        let html = t.read(listing);
        assert!(html.contains("Extra treatment seven"), "{listing}");
        assert!(!html.contains("Extra treatment 7<"), "{listing}");
    }
    t.assert_same_as_clean_build();
}

#[test]
fn an_unchanged_site_rewrites_nothing_and_a_removed_page_goes() {
    let t = SiteTest::from_fixture("basic");
    t.build().success();
    let before = identities(&t, "dist");
    t.build().success();
    assert_eq!(
        rewritten(&before, &identities(&t, "dist")),
        Vec::<String>::new()
    );

    std::fs::remove_file(t.path("content/thanks.md")).unwrap();
    t.build().success();
    let changed = rewritten(&before, &identities(&t, "dist"));
    assert!(
        changed.contains(&"thanks/index.html".to_string()),
        "{changed:?}"
    );
    assert!(!t.path("dist/thanks").exists());
    t.assert_same_as_clean_build();
}

#[test]
fn a_file_changed_by_hand_in_the_output_is_put_right() {
    let t = SiteTest::from_fixture("basic");
    t.build().success();
    let good = t.read("dist/about/index.html");
    t.write("dist/about/index.html", "tampered");
    t.write("dist/stray.txt", "left behind");
    t.build().success();
    assert_eq!(t.read("dist/about/index.html"), good);
    assert!(!t.path("dist/stray.txt").exists());
    t.assert_same_as_clean_build();
}

#[test]
fn a_failed_rebuild_leaves_the_linked_files_as_they_were() {
    let t = SiteTest::from_fixture("basic");
    t.build().success();
    let before = t.snapshot_dir("dist");
    let ids = identities(&t, "dist");
    t.change("content/about.md", "We are a team.", "We are a small team.");
    t.change(
        "content/services/peel.md",
        "duration: 45 min",
        "duration: soon",
    );
    t.build().failure(1).stderr_has("nothing was written");
    assert_eq!(t.snapshot_dir("dist"), before);
    assert_eq!(
        identities(&t, "dist"),
        ids,
        "not even a modification time changed"
    );
    assert!(!t.path(".dist.building").exists());
}

#[test]
fn a_rebuild_renders_only_the_pages_whose_inputs_changed() {
    let t = SiteTest::from_fixture("basic");
    t.build().success();
    let all = identities(&t, "dist");
    // Nothing changed: no page is rendered, every file is linked.
    t.build().success().stderr_has("(0 rendered;");
    t.change("content/about.md", "We are a team.", "We are a small team.");
    t.build().success().stderr_has("(1 rendered;");
    assert_eq!(
        rewritten(&all, &identities(&t, "dist")),
        ["about/index.html"]
    );
    t.assert_same_as_clean_build();
}

#[test]
fn a_template_change_renders_every_page_again() {
    let t = SiteTest::from_fixture("basic");
    t.build().success();
    let before = t.read("dist/about/index.html");
    t.write(
        "templates/page.html",
        "{% extends \"base.html\" %}{% block content %}<h1>{{ page.title }}!</h1>{{ page.content | safe }}{% endblock content %}",
    );
    let run = t.build().success();
    let (pages, rendered) = counts(&run.stderr);
    assert_eq!(rendered, pages, "{}", run.stderr);
    assert_ne!(t.read("dist/about/index.html"), before);
    assert!(t.read("dist/about/index.html").contains("About us!</h1>"));
    t.assert_same_as_clean_build();
}

#[test]
fn the_record_of_a_build_is_kept_outside_the_output() {
    let t = SiteTest::from_fixture("basic");
    t.build().success();
    let records: Vec<_> = std::fs::read_dir(t.path(".cache/build"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(records.iter().any(|r| r.ends_with(".bin")), "{records:?}");
    assert!(records.iter().any(|r| r == "content"), "{records:?}");
    let stray = walkdir::WalkDir::new(t.path("dist"))
        .into_iter()
        .map(Result::unwrap)
        .find(|e| {
            let name = e.file_name().to_string_lossy();
            [".bin", ".json", ".lock"].iter().any(|x| name.ends_with(x))
        });
    assert!(stray.is_none(), "{stray:?}");
}

#[test]
fn the_first_build_into_a_folder_prepares_a_spare_of_hard_links() {
    let t = SiteTest::from_fixture("basic");
    t.build().success();
    // `build` started this in the background; run again, it waits for that one (the
    // lock) and finds the spare made, or makes it.
    t.run(&["prepare-spare", "--root", ".", "--output", "dist"])
        .success();
    assert_eq!(
        identities(&t, ".dist.spare"),
        identities(&t, "dist"),
        "the spare is the output's files, linked"
    );
    let before = identities(&t, "dist");
    t.change("content/about.md", "We are a team.", "We are a small team.");
    t.build().success();
    assert_eq!(
        rewritten(&before, &identities(&t, "dist")),
        ["about/index.html"]
    );
    t.assert_same_as_clean_build();
}

#[test]
fn rebuilds_write_into_the_spare_output_and_publish_nothing_left_there() {
    let t = SiteTest::from_fixture("basic");
    t.build().success();
    t.build().success();
    assert!(
        t.path(".dist.spare/about/index.html").is_file(),
        "the output a build replaced is kept beside it for the next one"
    );
    // Files someone leaves in the output: the spare holds them after the next swap.
    t.write("dist/about/stray.html", "left behind");
    t.write("dist/services/new/index.html", "left behind");
    t.change("content/about.md", "We are a team.", "We are a small team.");
    t.build().success();
    let before = identities(&t, "dist");
    t.change("content/about.md", "a small team.", "a tiny team.");
    t.build().success();
    assert_eq!(
        rewritten(&before, &identities(&t, "dist")),
        ["about/index.html"]
    );
    assert!(!t.path("dist/about/stray.html").exists());
    assert!(!t.path("dist/services/new").exists());
    assert!(t.read("dist/about/index.html").contains("tiny team"));
    t.assert_same_as_clean_build();
}

#[test]
fn a_page_taken_from_the_cache_reports_its_faqs_broken_link_where_it_was_written() {
    let t = SiteTest::from_fixture("basic");
    t.change(
        "content/services/scalp.md",
        "[touch-up](peel.md)",
        "[touch-up](peel.md#results)",
    );
    t.change(
        "content/services/peel.md",
        "A light peel.",
        "## Results\n\nA light peel.",
    );
    t.build().success();
    // Peel edited: scalp, unchanged, comes from the cache with its links.
    t.change(
        "content/services/peel.md",
        "A light peel.",
        "A gentle peel.",
    );
    t.build().success().stderr_has("; 1 read from content/");
    // Then the anchor goes from peel.
    t.change("content/services/peel.md", "## Results\n\n", "");
    t.build()
        .failure(1)
        .stderr_has("content/services/scalp.md:12:1: link `peel.md#results` in the FAQ answer:");
}

#[test]
fn a_rebuild_reads_only_the_changed_files_and_links_follow_a_moved_page() {
    let t = SiteTest::from_fixture("basic");
    let first = t.build().success();
    let (pages, _) = counts(&first.stderr);
    first.stderr_has(&format!("; {pages} read from content/"));
    t.build().success().stderr_has("; 0 read from content/");
    t.change("content/about.md", "We are a team.", "We are a small team.");
    t.build().success().stderr_has("; 1 read from content/");
    t.assert_same_as_clean_build();

    // Another page links to peel.md: when its address changes, every page is read
    // again, so that link follows it.
    t.change(
        "content/services/peel.md",
        "price: 85.5",
        "price: 85.5\nslug: chemical-peel",
    );
    t.build()
        .success()
        .stderr_has(&format!("; {pages} read from content/"));
    assert!(t
        .read("dist/services/scalp/index.html")
        .contains("/services/chemical-peel/"));
    t.assert_same_as_clean_build();
}

#[test]
fn a_rebuild_checks_the_image_of_a_page_it_did_not_read_again() {
    let t = SiteTest::from_fixture("basic");
    t.change(
        "content/services/peel.md",
        "price: 85.5",
        "price: 85.5\nimage: /door.svg\nimage_alt: The clinic's door",
    );
    t.build().success();
    std::fs::remove_file(t.path("content/door.svg")).unwrap();
    // peel.md is unchanged, so it comes from the content cache, image and all.
    t.build()
        .failure(1)
        .stderr_has("content/services/peel.md:6: image: /door.svg does not exist");
}

/// The output folders that records in `.cache/build` describe.
fn recorded_outputs(t: &SiteTest) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(t.path(".cache/build"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "bin"))
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap();
            postcard::take_from_bytes::<(u32, std::path::PathBuf)>(&bytes)
                .unwrap()
                .0
                 .1
        })
        .collect()
}

#[test]
fn the_records_of_output_folders_that_are_gone_are_removed() {
    let t = SiteTest::from_fixture("basic");
    t.run(&["build", "--output", "old"]).success();
    // Wait for the spare `build` prepares in the background to have its record too.
    t.run(&["prepare-spare", "--root", ".", "--output", "old"])
        .success();
    let named = |outputs: &[std::path::PathBuf], name: &str| {
        outputs.iter().any(|o| o.file_name().unwrap() == name)
    };
    let before = recorded_outputs(&t);
    assert!(
        named(&before, "old") && named(&before, ".old.spare"),
        "{before:?}"
    );
    std::fs::remove_dir_all(t.path("old")).unwrap();
    std::fs::remove_dir_all(t.path(".old.spare")).unwrap();
    t.build().success();
    let after = recorded_outputs(&t);
    assert!(named(&after, "dist"), "{after:?}");
    assert!(
        !named(&after, "old") && !named(&after, ".old.spare"),
        "{after:?}"
    );
}

mod at_once;
mod random_edits;
mod running;
