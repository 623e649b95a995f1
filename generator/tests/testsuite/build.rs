//! `generator build` on a good site: the files a CDN needs, with the right contents.

use crate::site_test::SiteTest;

#[test]
fn writes_every_page_at_its_pretty_url() {
    let t = SiteTest::from_fixture("basic");
    t.build().success().stderr_has("built 10 pages");
    for page in [
        "dist/index.html",
        "dist/services/index.html",
        "dist/services/scalp/index.html",
        "dist/services/peel/index.html",
        "dist/services/injections/index.html",
        "dist/about/index.html",
        "dist/thanks/index.html",
        "dist/404.html",
        "dist/door.svg",
        "dist/humans.txt",
    ] {
        assert!(t.path(page).is_file(), "{page} missing");
    }
    assert!(!t.path("dist/services/secret").exists(), "drafts stay out");
}

#[test]
fn drafts_are_built_when_asked() {
    let t = SiteTest::from_fixture("basic");
    t.run(&["build", "--drafts"]).success();
    assert!(t.path("dist/services/secret/index.html").is_file());
}

#[test]
fn service_page_shows_facts_faqs_and_the_form() {
    let t = SiteTest::from_fixture("basic");
    t.build().success();
    let html = t.read("dist/services/scalp/index.html");
    assert_eq!(html.matches("<h1").count(), 1, "one h1");
    assert!(
        html.contains("<time datetime=\"PT1H30M\">1 hr 30 min</time>"),
        "{html}"
    );
    assert!(html.contains("Free"));
    assert!(html.contains("2–3"));
    assert!(html.contains("<details id=\"faq-does-it-hurt\">"));
    assert!(html.contains("<em>slight</em>"), "FAQ answers are Markdown");
    assert!(html.contains("<h2 id=\"aftercare\">Aftercare</h2>"));
    assert!(html.contains("<table>") && html.contains("<del>call</del>"));
    assert!(
        html.contains("href=\"/about/#team\""),
        "links to .md files become pretty URLs"
    );
    assert!(
        html.contains(
            "action=\"https://forms.clinic.example/forms/consultation?from=/services/scalp/\""
        ),
        "the form says which page it was sent from: {html}"
    );
    assert!(
        html.contains("<option value=\"scalp\" selected>"),
        "the page's service is preselected"
    );
    assert!(!html.contains("style=\""), "no inline styles under the CSP");
    assert!(!html.contains("<script>"), "no inline scripts");

    let peel = t.read("dist/services/peel/index.html");
    assert!(peel.contains("£85.50"));
    let inj = t.read("dist/services/injections/index.html");
    assert!(inj.contains("Price on consultation"));
}

#[test]
fn services_are_listed_by_order_then_title() {
    let t = SiteTest::from_fixture("basic");
    t.build().success();
    let html = t.read("dist/services/index.html");
    let pos = |s: &str| html.find(s).unwrap_or_else(|| panic!("{s} not listed"));
    assert!(pos("Scalp Micropigmentation") < pos("Anti-wrinkle Injections"));
    assert!(
        pos("Anti-wrinkle Injections") < pos("Chemical Peel"),
        "same order: by title"
    );
    assert!(html.contains("45 min") && html.contains("£85.50"));
}

#[test]
fn head_has_canonical_description_and_open_graph() {
    let t = SiteTest::from_fixture("basic");
    t.build().success();
    let html = t.read("dist/services/peel/index.html");
    assert!(
        html.contains("<link rel=\"canonical\" href=\"https://clinic.example/services/peel/\">")
    );
    assert!(html.contains(
        "<meta name=\"description\" content=\"A peel that renews the skin&#39;s surface.\">"
    ));
    assert!(html.contains("<meta property=\"og:title\" content=\"Chemical Peel\">"));
    assert!(html
        .contains("<meta property=\"og:url\" content=\"https://clinic.example/services/peel/\">"));
}

/// The page's JSON-LD nodes, one per `<script>` (no `@graph`).
fn json_ld_nodes(html: &str) -> Vec<serde_json::Value> {
    html.split("<script type=\"application/ld+json\">")
        .skip(1)
        .map(|s| serde_json::from_str(&s[..s.find("</script>").unwrap()]).expect("valid JSON"))
        .collect()
}

fn json_ld(html: &str) -> serde_json::Value {
    json_ld_nodes(html).remove(0)
}

#[test]
fn structured_data_describes_business_services_and_faqs() {
    let t = SiteTest::from_fixture("basic");
    t.build().success();
    let home = json_ld(&t.read("dist/index.html"));
    assert_eq!(home["@type"], "MedicalClinic");
    assert_eq!(home["address"]["postalCode"], "N1 1AA");
    assert_eq!(
        home["openingHoursSpecification"][0]["dayOfWeek"][4],
        "Friday"
    );

    let graph = json_ld_nodes(&t.read("dist/services/scalp/index.html"));
    let service = graph.iter().find(|n| n["@type"] == "Service").unwrap();
    assert_eq!(service["offers"]["price"], "0.00");
    assert_eq!(service["offers"]["priceCurrency"], "GBP");
    assert_eq!(service["offers"]["additionalProperty"]["value"], "PT1H30M");
    let faq = graph.iter().find(|n| n["@type"] == "FAQPage").unwrap();
    assert_eq!(faq["mainEntity"][0]["name"], "Does it hurt?");

    let inj = json_ld(&t.read("dist/services/injections/index.html"));
    assert!(
        inj["offers"].get("price").is_none(),
        "no price when on consultation"
    );
}

#[test]
fn cdn_files_are_written() {
    let t = SiteTest::from_fixture("basic");
    t.build().success();
    let sitemap = t.read("dist/sitemap.xml");
    assert!(sitemap.contains("<loc>https://clinic.example/services/scalp/</loc>"));
    assert!(!sitemap.contains("secret"));
    assert!(!sitemap.contains("404"));
    assert!(t
        .read("dist/robots.txt")
        .contains("Sitemap: https://clinic.example/sitemap.xml"));

    let headers = t.read("dist/_headers");
    assert!(headers.contains("Referrer-Policy: strict-origin-when-cross-origin"));
    let csp = headers
        .lines()
        .find(|l| l.contains("Content-Security-Policy"))
        .unwrap();
    assert!(!csp.contains("unsafe-inline"));
    assert!(csp.contains("form-action 'self' https://forms.clinic.example"));
    assert!(headers.contains("/assets/*\n  Cache-Control: public, max-age=31536000, immutable"));
    // Hosts join every matching rule's values: no other cache rule may reach /assets/.
    assert_eq!(headers.matches("Cache-Control").count(), 1, "{headers}");

    assert_eq!(t.read("dist/_redirects"), "/smp/ /services/scalp/ 301\n");
    let alias = t.read("dist/smp/index.html");
    assert!(alias.contains("url=https://clinic.example/services/scalp/"));
}

#[test]
fn css_is_fingerprinted_and_linked() {
    let t = SiteTest::from_fixture("basic");
    t.build().success();
    let html = t.read("dist/index.html");
    let start = html.find("href=\"/assets/style.").expect("stylesheet link") + 6;
    let href = &html[start..start + html[start..].find('"').unwrap()];
    assert!(
        href.ends_with(".css") && href.len() > "/assets/style.css".len(),
        "{href}"
    );
    assert!(t.path(&format!("dist{href}")).is_file());
    assert!(!t.path("dist/assets/style.css").exists());
}

#[test]
fn site_overrides_theme_file_by_file() {
    let t = SiteTest::from_fixture("basic");
    t.write("templates/page.html", "{% extends \"base.html\" %}{% block content %}<p>OVERRIDDEN {{ page.title }}</p>{% endblock content %}");
    t.write(
        "static/favicon.svg",
        "<svg xmlns=\"http://www.w3.org/2000/svg\"/>",
    );
    t.build().success();
    assert!(t
        .read("dist/about/index.html")
        .contains("OVERRIDDEN About us"));
    assert!(
        t.read("dist/services/peel/index.html").contains("£85.50"),
        "other templates still from the theme"
    );
    assert_eq!(
        t.read("dist/favicon.svg"),
        "<svg xmlns=\"http://www.w3.org/2000/svg\"/>"
    );
}

#[test]
fn base_url_can_be_overridden() {
    let t = SiteTest::from_fixture("basic");
    t.run(&["build", "--base-url", "http://127.0.0.1:8080/"])
        .success();
    assert!(t
        .read("dist/about/index.html")
        .contains("href=\"http://127.0.0.1:8080/about/\""));
    t.run(&["build", "--base-url", "ftp://x"])
        .failure(2)
        .stderr_has("base_url");
}

/// Each page's menu marks the page or section it is in, and no other: the templates'
/// contexts are kept from page to page, one per state of the menu.
#[test]
fn each_page_marks_its_own_place_in_the_menu() {
    let t = SiteTest::from_fixture("basic");
    t.build().success();
    let nav = |rel: &str| {
        let html = t.read(rel);
        let start = html.find("<nav class=\"site-nav\"").unwrap();
        let end = start + html[start..].find("</nav>").unwrap();
        html[start..end].to_string()
    };
    let current = |rel: &str| -> Vec<String> {
        nav(rel)
            .split("<li>")
            .filter(|item| item.contains("aria-current"))
            .map(|item| {
                let href = item
                    .split("href=\"")
                    .nth(1)
                    .unwrap()
                    .split('"')
                    .next()
                    .unwrap();
                let state = item
                    .split("aria-current=\"")
                    .nth(1)
                    .unwrap()
                    .split('"')
                    .next()
                    .unwrap();
                format!("{href} {state}")
            })
            .collect()
    };
    // Pages of every kind, in an order that switches between menu states.
    assert_eq!(
        current("dist/services/scalp/index.html"),
        ["/services/ true"]
    );
    assert_eq!(current("dist/about/index.html"), ["/about/ page"]);
    assert_eq!(current("dist/services/index.html"), ["/services/ page"]);
    assert_eq!(current("dist/index.html"), ["/ page"]);
    assert_eq!(
        current("dist/services/peel/index.html"),
        ["/services/ true"]
    );
    assert_eq!(current("dist/privacy/index.html"), Vec::<String>::new());
    assert_eq!(current("dist/404.html"), Vec::<String>::new());
}

#[test]
fn service_page_snapshot() {
    let t = SiteTest::from_fixture("basic");
    t.build().success();
    let html = t.read("dist/services/scalp/index.html");
    // The stylesheet's hash changes with every CSS edit; the page should not.
    let start = html.find("/assets/style.").unwrap();
    let end = start + html[start..].find(".css").unwrap() + 4;
    let html = html.replace(&html[start..end], "/assets/style.HASH.css");
    insta::assert_snapshot!(html);
}

const SCALP_SRC: &str = "content/services/scalp.md";

#[test]
fn a_page_in_its_own_folder_is_published_at_the_folders_address_with_its_files() {
    let t = SiteTest::from_fixture("basic");
    let about = t.read("content/about.md");
    std::fs::remove_file(t.path("content/about.md")).unwrap();
    std::fs::create_dir_all(t.path("content/about")).unwrap();
    std::fs::rename(t.path("content/door.svg"), t.path("content/about/door.svg")).unwrap();
    t.write("content/about/index.md", &about);
    let peel = t.read("content/services/peel.md");
    std::fs::remove_file(t.path("content/services/peel.md")).unwrap();
    t.write("content/services/peel/index.md", &peel);
    t.write("content/services/peel/before.txt", "kept beside the page");
    // Links between Markdown files name the page's file.
    t.change(SCALP_SRC, "(peel.md)", "(peel/index.md)");
    t.change(SCALP_SRC, "(../about.md#team)", "(../about/index.md#team)");
    t.build().success();
    let scalp = t.read("dist/services/scalp/index.html");
    assert!(scalp.contains(r#"href="/about/#team""#), "{scalp}");
    assert!(scalp.contains(r#"href="/services/peel/""#), "{scalp}");

    let page = t.read("dist/about/index.html");
    assert!(page.contains(r#"src="/about/door.svg""#), "{page}");
    assert!(t.path("dist/about/door.svg").is_file());
    assert!(!t.path("dist/about/index/index.html").exists());
    let peel = t.read("dist/services/peel/index.html");
    assert!(
        peel.contains("application/ld+json"),
        "a service page: {peel}"
    );
    assert!(t
        .read("dist/services/index.html")
        .contains(r#"href="/services/peel/""#));
    assert!(t.path("dist/services/peel/before.txt").is_file());

    // The page and a file of the same name would both be /about/.
    t.write("content/about.md", &about);
    t.build()
        .failure(1)
        .stderr_has("would both be published at /about/");
}
