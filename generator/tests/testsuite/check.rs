//! `generator check`: links, anchors, images and alt text, all listed, nothing written.

use crate::site_test::SiteTest;

#[test]
fn a_good_site_passes() {
    let t = SiteTest::from_fixture("basic");
    t.run(&["check"]).success().stderr_has("no problems found");
    assert!(!t.path("dist").exists(), "check writes nothing");
}

#[test]
fn lists_every_broken_link_anchor_and_image() {
    let t = SiteTest::from_fixture("basic");
    t.write(
        "content/links.md",
        "---\ntitle: Links\nsummary: Broken on purpose.\n---\nSee [prices](/prices/).\n\n\
         Read [the team](about.md#staff) and [aftercare](services/scalp.md#aftercare).\n\n\
         ![](door.svg)\n\n![A missing picture](missing.png)\n\n[Gone](old.md)\n",
    );
    let run = t.run(&["check"]).failure(1);
    let e = &run.stderr;
    assert!(
        e.contains("content/links.md:5:5: link `/prices/`: there is no page or file at /prices/"),
        "{e}"
    );
    assert!(
        e.contains("content/links.md:7:6: link `about.md#staff`: /about/ has no #staff"),
        "{e}"
    );
    assert!(!e.contains("#aftercare"), "a good anchor is fine: {e}");
    assert!(
        e.contains("content/links.md:9:1: image `door.svg` has no alt text"),
        "{e}"
    );
    assert!(
        e.contains(
            "content/links.md:11:1: image `missing.png`: there is no page or file at /missing.png"
        ),
        "{e}"
    );
    assert!(
        e.contains("content/links.md:13:1: link `old.md`: no page comes from content/old.md"),
        "{e}"
    );
    assert!(!t.path("dist").exists());
}

#[test]
fn an_html_image_in_the_text_without_alt_is_named_at_its_line() {
    let t = SiteTest::from_fixture("basic");
    t.change(
        "content/about.md",
        "We are a team.",
        "We are a team.\n\n<img src=\"door.svg\">",
    );
    t.run(&["check"])
        .failure(1)
        .stderr_has("content/about.md:9: an image in the page's text has no alt text: <img src=\"door.svg\">")
        .stderr_has("content/about.md:9: HTML in the page's text links to door.svg: there is no page or file at door.svg");
}

#[test]
fn a_broken_menu_link_is_named_once_at_its_line_in_site_yaml() {
    let t = SiteTest::from_fixture("basic");
    t.change("site.yaml", "url: /about/}", "url: /abuot/}");
    let run = t
        .run(&["check"])
        .failure(1)
        .stderr_has("site.yaml:10: the menu links to /abuot/: ");
    assert!(run.stderr.contains("1 problem found"), "{}", run.stderr);
    // A dead link on every page is not published: the build refuses it too, with a
    // did-you-mean; a menu link to a draft says so.
    t.build()
        .failure(1)
        .stderr_has("site.yaml:10: the menu links to /abuot/: ")
        .stderr_has("did you mean `/about/`?");
    assert!(!t.path("dist").exists());
    // With the form service on the site's own host, its pages are not the site's.
    t.change("site.yaml", "url: /abuot/}", "url: /members/}");
    t.build()
        .failure(1)
        .stderr_has("the menu links to /members/");
    t.change("site.yaml", "  url: https://forms.clinic.example\n", "");
    t.build().success();
    t.change("site.yaml", "url: /members/}", "url: /about/}");
    t.change(
        "content/about.md",
        "title: About us",
        "title: About us\ndraft: true",
    );
    t.build()
        .failure(1)
        .stderr_has("the menu links to /about/: /about/ is a draft (`draft: true` in ");
}

#[test]
fn broken_links_in_faq_answers_point_at_the_faq() {
    let t = SiteTest::from_fixture("basic");
    t.change(
        "content/services/scalp.md",
        "[touch-up](peel.md)",
        "[touch-up](touch-up.md)",
    );
    t.run(&["check"]).failure(1).stderr_has(
        "content/services/scalp.md:12:1: link `touch-up.md` in the FAQ answer: no page comes from content/services/touch-up.md",
    );
}

#[test]
fn broken_links_in_templates_are_found() {
    let t = SiteTest::from_fixture("basic");
    t.write("templates/page.html", "{% extends \"base.html\" %}{% block content %}<a href=\"/nowhere/\">x</a>{% endblock content %}");
    t.run(&["check"])
        .failure(1)
        .stderr_has("content/about.md: the page's template links to /nowhere/");
}

#[test]
fn missing_front_matter_image_is_found() {
    let t = SiteTest::from_fixture("basic");
    t.change(
        "content/about.md",
        "summary: Who we are.",
        "summary: Who we are.\nimage: nope.jpg\nimage_alt: Nothing",
    );
    t.run(&["check"])
        .failure(1)
        .stderr_has("content/about.md:4: image: /nope.jpg does not exist");
}

/// Issue 15, item 9: a dependent field's condition is checked with its place: the
/// example site's phone number needed "by phone", misspelt.
#[test]
fn a_misspelt_required_when_is_reported_with_its_line() {
    let t = SiteTest::example_site();
    let line = t
        .read("site.yaml")
        .lines()
        .position(|l| l.trim() == "is: phone")
        .expect("the example's phone field depends on the contact method")
        + 1;
    t.change("site.yaml", "is: phone", "is: fone");
    t.run(&["check"]).failure(1).stderr_has(&format!(
        "site.yaml:{line}: form `consultation`: `fone` is not a choice of `contact_method` (its values: in-person, phone, email, video)"
    ));
}
