//! Issue 16, items 1 to 6: what an editor meets. Every mistake in one run, no broken
//! internal link published, drafts counted, messages they can act on, the front
//! matter schema for their editor, and `init` for a new clinic's site.

use crate::site_test::SiteTest;

const SCALP: &str = "content/services/scalp.md";

/// Item 1: a misspelt field, an impossible duration and a broken link in one page,
/// and a problem in another file, all in one run of `build` and of `check`.
#[test]
fn one_run_reports_every_problem_in_every_file() {
    let t = SiteTest::from_fixture("basic");
    t.change(SCALP, "sessions: 2-3", "sesions: 2-3")
        .change(SCALP, "duration: 1h 30m", "duration: 30 hours")
        .change(
            SCALP,
            "Read [about us](../about.md#team)",
            "Read [about us](../abuot.md#team)",
        )
        .change(
            "content/about.md",
            "title: About us",
            "title: About us\nimage_alt: A door",
        );
    for cmd in ["build", "check"] {
        let run = t
            .run(&[cmd])
            .failure(1)
            .stderr_has("error: content/services/scalp.md:4:11: duration: `30 hours` is longer than a day")
            .stderr_has("error: content/services/scalp.md:6:1: unknown field `sesions`\n  help: did you mean `sessions`?")
            .stderr_has("error: content/services/scalp.md:26:6: link `../abuot.md#team`: no page comes from content/abuot.md\n  help: did you mean `about.md`?")
            .stderr_has("error: content/about.md:")
            .stderr_has("image_alt is set but there is no `image`");
        assert!(
            run.stderr.contains("4 problems found"),
            "{cmd}:\n{}",
            run.stderr
        );
    }
    assert!(!t.path("dist").exists(), "nothing written");
}

/// Item 2: `build` never publishes a broken internal link or anchor; it says what the
/// editor typed and which page or anchor was probably meant, and leaves the previous
/// output as it was.
#[test]
fn build_refuses_broken_internal_links_and_anchors() {
    let t = SiteTest::from_fixture("basic");
    t.build().success();
    let before = t.snapshot_dir("dist");
    t.change(
        SCALP,
        "Read [about us](../about.md#team)",
        "Read [about us](../about.md#taem), the [peel](peel.md#aftercare), [prices](/servics/peel/)",
    );
    t.build()
        .failure(1)
        .stderr_has("content/services/scalp.md:26:6: link `../about.md#taem`: /about/ has no #taem\n  help: did you mean `#team`?")
        .stderr_has("content/services/scalp.md:26:40: link `peel.md#aftercare`: /services/peel/ has no #aftercare")
        .stderr_has("content/services/scalp.md:26:67: link `/servics/peel/`: there is no page or file at /servics/peel/\n  help: did you mean `/services/peel/`?")
        .stderr_has("3 problems found; nothing was written");
    assert_eq!(
        t.snapshot_dir("dist"),
        before,
        "the previous output is untouched"
    );
    // An FAQ answer's link is checked too, at the FAQ's line.
    let t = SiteTest::from_fixture("basic");
    t.change(SCALP, "[touch-up](peel.md)", "[touch-up](pel.md)");
    t.build()
        .failure(1)
        .stderr_has("content/services/scalp.md:12:1: link `pel.md` in the FAQ answer: no page comes from content/services/pel.md\n  help: did you mean `peel.md`?");
    // External links are `check`'s business, and not followed at all.
    let t = SiteTest::from_fixture("basic");
    t.change(
        SCALP,
        "[touch-up](peel.md)",
        "[touch-up](https://nowhere.invalid/x)",
    );
    t.build().success();
}

/// Item 3: `check` says how many drafts it left out, and `--drafts` checks them.
#[test]
fn check_counts_drafts_and_checks_them_when_asked() {
    let t = SiteTest::from_fixture("basic");
    t.run(&["check"])
        .success()
        .stderr_has("1 draft left out (`check --drafts` checks it too)");
    // A mistake in a draft does not stop the build, until drafts are asked for.
    t.change("content/services/secret.md", "title:", "tilte: x\ntitle:");
    t.run(&["check"]).success();
    // The count is given when other pages have problems too.
    t.change(SCALP, "duration: 1h 30m", "duration: soon");
    t.run(&["check"])
        .failure(1)
        .stderr_has("note: 1 draft left out (`check --drafts` checks it too)");
    t.change(SCALP, "duration: soon", "duration: 1h 30m");
    t.run(&["check", "--drafts"])
        .failure(1)
        .stderr_has("content/services/secret.md:2:1: unknown field `tilte`");
}

/// Item 4: an unreadable duration lists the accepted forms; no word said twice.
#[test]
fn messages_list_accepted_forms_without_doubled_words() {
    let t = SiteTest::from_fixture("basic");
    t.change(SCALP, "duration: 1h 30m", "duration: 45")
        .change(SCALP, "price: 0", "price: -5");
    let run = t
        .build()
        .failure(1)
        .stderr_has("content/services/scalp.md:4:11: duration `45` has no unit; write `45 min`\n  help: write it like `1hr`, `1 hr`, `45 min`, `1h 30m`, `90m` or `2 hours`")
        .stderr_has("content/services/scalp.md:5:8: price `-5` must be a number of 0 or more");
    assert!(!run.stderr.contains("duration: duration"), "{}", run.stderr);
    assert!(!run.stderr.contains("price: price"), "{}", run.stderr);
}

/// Item 5: `new` points the page at the schema and writes it; `build` and `schema`
/// write it too, outside the published output.
#[test]
fn the_front_matter_schema_is_written_for_editors_tools() {
    let t = SiteTest::from_fixture("basic");
    t.run(&["new", "service", "LED Light Therapy"]).success();
    let page = t.read("content/services/led-light-therapy.md");
    assert!(
        page.starts_with(
            "---\n# yaml-language-server: $schema=../../.generator/service.schema.json\n"
        ),
        "{page}"
    );
    let schema: serde_json::Value =
        serde_json::from_str(&t.read(".generator/service.schema.json")).unwrap();
    assert_eq!(schema["additionalProperties"], false);
    assert_eq!(
        schema["required"],
        serde_json::json!(["title", "summary", "duration"])
    );
    assert!(schema["properties"]["duration"]["description"]
        .as_str()
        .unwrap()
        .contains("1h 30m"));
    let page_schema: serde_json::Value =
        serde_json::from_str(&t.read(".generator/page.schema.json")).unwrap();
    assert_eq!(
        page_schema["properties"]["form"]["enum"],
        serde_json::json!(["consultation"]),
        "the site's own forms"
    );
    std::fs::remove_dir_all(t.path(".generator")).unwrap();
    t.build().success();
    assert!(t.path(".generator/page.schema.json").is_file());
    assert!(!t.path("dist/.generator").exists(), "never published");
    std::fs::remove_dir_all(t.path(".generator")).unwrap();
    t.run(&["schema"]).success();
    assert!(t.path(".generator/service.schema.json").is_file());
}

/// Item 6: `init` makes a site that checks and builds as it is, and says what next.
#[test]
fn init_starts_a_site_that_checks_and_builds() {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("my-clinic");
    let out = crate::site_test::bin()
        .args(["init"])
        .arg(&site)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("Next steps:"), "{stderr}");
    assert!(stderr.contains("CHANGE ME"), "{stderr}");
    for file in [
        "site.yaml",
        "content/_index.md",
        "content/services/_index.md",
        "content/services/first-treatment.md",
        "content/consultation.md",
        "content/consultation/thank-you.md",
        "content/membership.md",
        "content/membership/thank-you.md",
        "content/privacy.md",
        "themes/default/templates/base.html",
        ".gitignore",
    ] {
        assert!(site.join(file).is_file(), "{file} missing");
    }
    let run = |args: &[&str]| {
        crate::site_test::bin()
            .args(args)
            .arg("--root")
            .arg(&site)
            .output()
            .unwrap()
    };
    let check = run(&["check"]);
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    let build = run(&["build"]);
    assert!(
        build.status.success(),
        "{}",
        String::from_utf8_lossy(&build.stderr)
    );
    assert!(site
        .join("dist/services/first-treatment/index.html")
        .is_file());
    // A folder with something in it is never written over.
    let again = crate::site_test::bin()
        .arg("init")
        .arg(&site)
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(2));
}

/// A link to a page that is not published says why: a draft is named as one; a page
/// whose file cannot be read reports its own problem, and the links to it none.
#[test]
fn a_link_to_a_draft_or_an_unreadable_page_says_why() {
    let t = SiteTest::from_fixture("basic");
    t.change(
        "content/services/peel.md",
        "order: 2",
        "order: 2\ndraft: true",
    );
    t.build()
        .failure(1)
        .stderr_has("content/services/scalp.md:12:1: link `peel.md` in the FAQ answer: /services/peel/ is a draft (`draft: true` in content/services/peel.md), so it is not published\n  help: publish that page first")
        .stderr_has("1 problem found");
    t.run(&["build", "--drafts"]).success();

    let t = SiteTest::from_fixture("basic");
    t.change(
        "content/services/peel.md",
        "title: Chemical Peel",
        "title: \"Chemical Peel",
    );
    let run = t.build().failure(1).stderr_has("content/services/peel.md:");
    assert!(run.stderr.contains("1 problem found"), "{}", run.stderr);
    assert!(!run.stderr.contains("scalp.md"), "{}", run.stderr);
}

/// A link from a site path (`/about.md`) names the page's file under `content/`, as
/// the hints for a link from another folder suggest.
#[test]
fn a_link_to_a_markdown_file_from_the_site_root_resolves() {
    let t = SiteTest::from_fixture("basic");
    t.change(SCALP, "(../about.md#team)", "(/about.md#taem)");
    t.build()
        .failure(1)
        .stderr_has("link `/about.md#taem`: /about/ has no #taem");
    t.change(SCALP, "(/about.md#taem)", "(/about.md#team)");
    t.build().success();
    assert!(t
        .read("dist/services/scalp/index.html")
        .contains(r#"href="/about/#team""#));
}

/// Two pages claim one alias: the page saved last (where the editor just typed it) is
/// named at its alias's line, whatever the files' names; the other keeps it.
#[test]
fn a_clashing_alias_is_blamed_on_the_page_saved_last() {
    let t = SiteTest::from_fixture("basic");
    t.change(
        "content/services/peel.md",
        "order: 2",
        "order: 2\naliases: [/offer/]",
    );
    let an_hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    std::fs::File::options()
        .write(true)
        .open(t.path("content/services/peel.md"))
        .unwrap()
        .set_modified(an_hour_ago)
        .unwrap();
    t.change(
        "content/services/injections.md",
        "order: 2",
        "order: 2\naliases: [/offer/]",
    );
    t.build().failure(1).stderr_has(
        "content/services/injections.md:6: alias /offer/ is already an alias of content/services/peel.md",
    );
}
