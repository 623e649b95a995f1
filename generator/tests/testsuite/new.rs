//! `generator new service "Title"`: a documented draft that builds as it is.

use crate::site_test::SiteTest;

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
