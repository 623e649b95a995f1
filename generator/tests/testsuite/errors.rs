//! Broken content and templates: exit status 1, every problem named with file and
//! line, and the previous output left exactly as it was.

use crate::site_test::SiteTest;

const SCALP: &str = "content/services/scalp.md";

#[test]
fn misspelt_field_names_line_and_suggests() {
    let t = SiteTest::from_fixture("basic");
    t.change(SCALP, "duration: 1h 30m", "durration: 1h 30m");
    t.build()
        .failure(1)
        .stderr_has("error: content/services/scalp.md:4:1: unknown field `durration`\n  help: did you mean `duration`?");
}

#[test]
fn bad_duration_names_its_line() {
    let t = SiteTest::from_fixture("basic");
    t.change(SCALP, "duration: 1h 30m", "duration: ninety minutes");
    t.build()
        .failure(1)
        .stderr_has("content/services/scalp.md:4:")
        .stderr_has("`ninety minutes`");
}

#[test]
fn negative_price_names_its_line() {
    let t = SiteTest::from_fixture("basic");
    t.change(SCALP, "price: 0", "price: -10");
    t.build()
        .failure(1)
        .stderr_has("content/services/scalp.md:5:")
        .stderr_has("0 or more");
}

#[test]
fn missing_required_field_is_named() {
    let t = SiteTest::from_fixture("basic");
    t.change(
        "content/services/peel.md",
        "summary: A peel that renews the skin's surface.\n",
        "",
    );
    t.build()
        .failure(1)
        .stderr_has("content/services/peel.md:")
        .stderr_has("missing field `summary`");
}

#[test]
fn image_without_alt_is_refused() {
    let t = SiteTest::from_fixture("basic");
    t.change(
        "content/about.md",
        "summary: Who we are.",
        "summary: Who we are.\nimage: door.svg",
    );
    t.build()
        .failure(1)
        .stderr_has("content/about.md:4: `image` needs `image_alt`");
}

#[test]
fn unclosed_front_matter_is_refused() {
    let t = SiteTest::from_fixture("basic");
    t.write(
        "content/broken.md",
        "---\ntitle: Broken\n\nNo closing line.\n",
    );
    t.build()
        .failure(1)
        .stderr_has("content/broken.md:1:1: front matter opened with `---` is never closed");
}

#[test]
fn invalid_yaml_and_wrong_types_are_refused() {
    let t = SiteTest::from_fixture("basic");
    t.change(SCALP, "sessions: 2-3", "sessions: [2, 3]");
    t.write(
        "content/bad-yaml.md",
        "---\ntitle: \"Unclosed\nsummary: x\n---\n",
    );
    t.build()
        .failure(1)
        .stderr_has("content/services/scalp.md:")
        .stderr_has("content/bad-yaml.md:");
}

#[test]
fn not_utf8_is_refused_with_position() {
    let t = SiteTest::from_fixture("basic");
    std::fs::write(t.path("content/latin1.md"), b"---\ntitle: Caf\xe9\n---\n").unwrap();
    t.build()
        .failure(1)
        .stderr_has("content/latin1.md:2:11: the file is not valid UTF-8 text");
}

#[test]
fn two_pages_on_one_url_are_refused() {
    let t = SiteTest::from_fixture("basic");
    t.change(
        "content/services/peel.md",
        "order: 2",
        "order: 2\nslug: scalp",
    );
    t.build()
        .failure(1)
        .stderr_has("would both be published at /services/scalp/");
}

#[test]
fn every_broken_page_is_reported_in_one_run() {
    let t = SiteTest::from_fixture("basic");
    t.change(SCALP, "duration: 1h 30m", "duration: 0 min");
    t.change("content/services/peel.md", "price: 85.5", "price: \"£85\"");
    t.change("content/about.md", "title: About us", "titel: About us");
    let run = t.build().failure(1);
    assert!(
        run.stderr.contains("content/services/scalp.md:4"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("content/services/peel.md:5"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("content/about.md:2"), "{}", run.stderr);
    assert!(run.stderr.contains("3 problems found"), "{}", run.stderr);
}

#[test]
fn level_one_heading_in_body_is_refused() {
    let t = SiteTest::from_fixture("basic");
    t.change("content/about.md", "## Team", "# Team");
    t.build()
        .failure(1)
        .stderr_has("content/about.md:5: a level-1 heading");
    // In an FAQ answer too, at the FAQ's line.
    let t = SiteTest::from_fixture("basic");
    t.change(
        SCALP,
        "answer: Many years, with an occasional [touch-up](peel.md).",
        "answer: \"# Many years\\n\\nWith an occasional [touch-up](peel.md).\"",
    );
    t.build()
        .failure(1)
        .stderr_has("content/services/scalp.md:12: a level-1 heading in an FAQ answer");
}

#[test]
fn template_syntax_error_names_template_and_line() {
    let t = SiteTest::from_fixture("basic");
    t.write("templates/page.html", "{% extends \"base.html\" %}\n{% block content %}\n{{ page.title \n{% endblock content %}\n");
    // Tera notices the unclosed tag where the next one starts.
    t.build()
        .failure(1)
        .stderr_has("error: templates/page.html:4:1: template syntax error: expected");
}

#[test]
fn template_render_error_names_template_and_page() {
    let t = SiteTest::from_fixture("basic");
    t.write("templates/page.html", "{% extends \"base.html\" %}\n{% block content %}\n<p>{{ page.no_such_thing }}</p>\n{% endblock content %}\n");
    t.build()
        .failure(1)
        .stderr_has("templates/page.html:3:")
        .stderr_has("page.no_such_thing")
        .stderr_has("while rendering content/about.md");
}

#[test]
fn a_render_error_in_the_base_template_names_its_line() {
    // Tera names the page's template (page.html), which extends base.html.
    let t = SiteTest::from_fixture("basic");
    let base = t.read("themes/default/templates/base.html");
    t.write(
        "templates/base.html",
        &base.replacen("</body>", "{{ site.no_such_thing }}</body>", 1),
    );
    let line = t
        .read("templates/base.html")
        .lines()
        .position(|l| l.contains("site.no_such_thing"))
        .unwrap()
        + 1;
    t.build()
        .failure(1)
        .stderr_has(&format!("error: templates/base.html:{line}:"))
        .stderr_has("site.no_such_thing")
        .stderr_has("while rendering content/about.md");
}

#[test]
fn a_card_that_shows_faqs_is_told_listings_leave_them_out() {
    let t = SiteTest::from_fixture("basic");
    t.write(
        "templates/partials/service-card.html",
        "<li>{{ service.title }}\n{% for faq in service.faqs %}{{ faq.question }}{% endfor %}</li>\n",
    );
    t.build()
        .failure(1)
        .stderr_has("templates/partials/service-card.html:2:")
        .stderr_has("service.faqs")
        .stderr_has("help: the services in `services` have no `content` or `faqs`");
}

#[test]
fn bad_site_yaml_names_line() {
    let t = SiteTest::from_fixture("basic");
    t.change("site.yaml", "currency: GBP", "currency: pounds");
    t.build()
        .failure(1)
        .stderr_has("site.yaml:5:")
        .stderr_has("ISO 4217");
}

#[test]
fn failed_build_leaves_previous_output_untouched() {
    let t = SiteTest::from_fixture("basic");
    t.build().success();
    let before = t.snapshot_dir("dist");
    t.change("content/services/peel.md", "price: 85.5", "price: 90");
    t.change(SCALP, "duration: 1h 30m", "duration: soon");
    t.build().failure(1).stderr_has("nothing was written");
    assert_eq!(
        t.snapshot_dir("dist"),
        before,
        "dist changed after a failed build"
    );
    let leftovers: Vec<_> = std::fs::read_dir(t.root())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        // The spare (the output replaced last, kept for the next build) is no leftover.
        .filter(|n| n.contains("dist") && n != "dist" && !n.starts_with(".dist.spare"))
        .collect();
    assert!(
        leftovers.is_empty(),
        "staging folders left behind: {leftovers:?}"
    );
}

#[test]
fn successful_rebuild_replaces_output_and_removes_stale_files() {
    let t = SiteTest::from_fixture("basic");
    t.build().success();
    std::fs::remove_file(t.path("content/thanks.md")).unwrap();
    t.build().success();
    assert!(!t.path("dist/thanks").exists());
}

#[test]
fn output_folder_that_would_hold_the_site_is_refused() {
    let t = SiteTest::from_fixture("basic");
    t.run(&["build", "--output", "."])
        .failure(2)
        .stderr_has("it is the site root");
    t.run(&["build", "--output", "content/out"])
        .failure(2)
        .stderr_has("inside the site's content/ folder");
    t.run(&["build", "--output", ".."])
        .failure(2)
        .stderr_has("contains the site root");
    assert!(
        t.path("content/services/scalp.md").is_file(),
        "nothing deleted"
    );
}

#[test]
fn a_port_in_use_fails_with_status_1_not_as_a_usage_error() {
    let t = SiteTest::from_fixture("basic");
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    t.run(&["serve", "--port", &port])
        .failure(1)
        .stderr_has(&format!("error: cannot listen on 127.0.0.1:{port}: "));
}

#[test]
fn usage_errors_exit_2() {
    let t = SiteTest::from_fixture("basic");
    t.run(&["build", "--no-such-flag"]).failure(2);
    t.run(&["frobnicate"]).failure(2);
    let missing = t.run(&["build", "--root", "does-not-exist"]).failure(1);
    assert!(missing.stderr.contains("site.yaml"), "{}", missing.stderr);
}

#[test]
fn settings_the_form_service_would_refuse_are_all_named() {
    let t = SiteTest::from_fixture("basic");
    t.change(
        "site.yaml",
        "timezone: Europe/London",
        "timezone: Europe/Londn",
    );
    t.change(
        "site.yaml",
        "  url: https://forms.clinic.example",
        "  url: https://forms.clinic.example\n  trusted_proxies: [10.0.0.1, proxy.local]\n  from: bookings at clinic",
    );
    t.run(&["check"])
        .failure(1)
        .stderr_has("site.yaml:6:11: timezone `Europe/Londn` is not a known IANA time zone\n  help: did you mean `Europe/London`?")
        .stderr_has("site.yaml:27:31: form_service.trusted_proxies: `proxy.local` is not an IP address")
        .stderr_has("site.yaml:28:9: form_service.from: `bookings at clinic` is not an email address");
}

#[test]
fn an_alias_on_a_page_or_a_file_is_refused_at_its_line() {
    let t = SiteTest::from_fixture("basic");
    t.build().success();
    let before = t.snapshot_dir("dist");
    t.change(
        "content/about.md",
        "summary: Who we are.",
        "summary: Who we are.\naliases:\n  - /index.html\n  - /door.svg\n  - /humans.txt\n  - /robots.txt",
    );
    t.build()
        .failure(1)
        .stderr_has("content/about.md:5:")
        .stderr_has("alias /index.html is already the address of content/_index.md")
        .stderr_has("content/about.md:6:")
        .stderr_has("alias /door.svg would replace the file content/door.svg with a redirect")
        .stderr_has("content/about.md:7:")
        .stderr_has("alias /humans.txt would replace the static file humans.txt")
        .stderr_has("content/about.md:8:")
        .stderr_has("alias /robots.txt would replace robots.txt, a file the build writes");
    assert_eq!(t.snapshot_dir("dist"), before, "nothing was replaced");
}

#[test]
fn a_page_saved_as_markdown_or_md_in_capitals_is_named_not_published_raw() {
    let t = SiteTest::from_fixture("basic");
    let about = t.read("content/about.md");
    t.write("content/brow.markdown", &about);
    t.write("content/lash.MD", &about);
    t.write("content/Thumbs.db", "windows thumbnails");
    t.build()
        .failure(1)
        .stderr_has("content/brow.markdown: `.markdown` is not a page: only files ending in `.md` are\n  help: rename it to brow.md")
        .stderr_has("content/lash.MD: `.MD` is not a page");
    std::fs::remove_file(t.path("content/brow.markdown")).unwrap();
    std::fs::remove_file(t.path("content/lash.MD")).unwrap();
    t.build().success();
    assert!(!t.path("dist/Thumbs.db").exists());
}
