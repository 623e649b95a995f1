//! `generator new service "Title"`: a documented draft that builds as it is.

use crate::site_test::{Run, SiteTest};

#[test]
fn scaffolds_a_draft_service_that_builds() {
    let t = SiteTest::from_fixture("basic");
    t.run(&["new", "service", "Laser Hair Removal"])
        .success()
        .stderr_has("content/services/laser-hair-removal.md");
    let text = t.read("content/services/laser-hair-removal.md");
    for field in [
        "title:",
        "summary:",
        "duration:",
        "price:",
        "sessions:",
        "order:",
        "draft:",
        "faqs:",
        "# slug:",
        "# aliases:",
        "# image:",
        "# image_alt:",
        "# currency:",
        "# extra:",
    ] {
        assert!(text.contains(field), "{field} not documented");
    }
    t.build().success();
    assert!(
        !t.path("dist/services/laser-hair-removal").exists(),
        "a draft until the editor publishes it"
    );
    t.run(&["build", "--drafts"]).success();
    assert!(t
        .path("dist/services/laser-hair-removal/index.html")
        .is_file());

    // Published with its placeholders still in, it is refused, each at its line; its
    // price is not made up.
    let page = "content/services/laser-hair-removal.md";
    t.change(page, "draft: true", "draft: false");
    let run = t.build().failure(1);
    for needle in [
        "laser-hair-removal.md:6: summary: still the placeholder text `generator new` wrote",
        "FAQ answer: still the placeholder text",
        "the text is still the placeholder text",
    ] {
        assert!(run.stderr.contains(needle), "{needle}:\n{}", run.stderr);
    }
    assert!(run.stderr.contains("4 problems found"), "{}", run.stderr);
    let text = t.read(page);
    let mut mine = text
        .replace(
            "Write one or two sentences that say what this treatment does and who it is for.",
            "Smooth skin for months.",
        )
        .replace(
            "Describe the treatment here in Markdown.",
            "A gentle laser.",
        );
    for (i, answer) in [
        "Say what people can expect afterwards, and for how long.",
        "Say what to do, or avoid, before the appointment.",
    ]
    .iter()
    .enumerate()
    {
        mine = mine.replace(answer, &format!("Answer {i}."));
    }
    t.write(page, &mine);
    t.build().success();
    let html = t.read("dist/services/laser-hair-removal/index.html");
    assert!(html.contains("Price on consultation"), "{html}");
}

#[test]
fn never_overwrites_an_existing_page() {
    let t = SiteTest::from_fixture("basic");
    let before = t.read("content/services/peel.md");
    t.run(&["new", "service", "Peel"])
        .failure(2)
        .stderr_has("already exists");
    assert_eq!(t.read("content/services/peel.md"), before);
    t.run(&["new", "service", "!!!"]).failure(2);
}

/// Run outside a site (from `content/`, or with a mistyped `--root`), it writes nothing:
/// the page would land where no build reads it.
#[test]
fn refuses_a_folder_that_is_not_a_site_and_writes_nothing() {
    let t = SiteTest::from_fixture("basic");
    let run = Run::from(
        crate::site_test::bin()
            .args(["new", "service", "Foo Bar"])
            .current_dir(t.path("content"))
            .output()
            .unwrap(),
    );
    let run = run.failure(2);
    assert!(
        run.stderr
            .contains("this folder has no site.yaml: run this in the site's folder"),
        "{}",
        run.stderr
    );
    assert!(
        !t.path("content/content").exists(),
        "a stray content/ was made"
    );
    t.run(&["new", "service", "Foo Bar", "--root", "no-such-site"])
        .failure(2)
        .stderr_has("no-such-site has no site.yaml");
    assert!(!t.path("no-such-site").exists());
}
