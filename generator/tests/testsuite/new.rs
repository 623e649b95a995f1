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
