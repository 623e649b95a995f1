//! Honest prices and metadata (issue 15, items 15 and 16): "from" and "quoted" prices
//! shown and described as what they are, JSON-LD that validators read (one node per
//! script, no `@graph`), breadcrumbs, and thank-you pages kept out of search.

use std::process::Command;

use serde_json::Value;

use crate::site_test::SiteTest;

/// Every JSON-LD node of a page, one per `<script>`; each written with its keys in the
/// order of their names, as it always was (so a page's bytes do not change for nothing).
fn json_ld(html: &str) -> Vec<Value> {
    html.split("<script type=\"application/ld+json\">")
        .skip(1)
        .map(|s| {
            let text = &s[..s.find("</script>").unwrap()];
            let node: Value = serde_json::from_str(text).unwrap();
            let sorted = serde_json::to_string(&node)
                .unwrap()
                .replace('<', "\\u003c");
            assert_eq!(text, sorted, "keys in name order");
            node
        })
        .collect()
}

fn node<'a>(nodes: &'a [Value], ty: &str) -> &'a Value {
    nodes
        .iter()
        .find(|n| n["@type"] == ty)
        .unwrap_or_else(|| panic!("no {ty} in {nodes:?}"))
}

#[test]
fn a_quoted_treatment_is_not_free() {
    let site = SiteTest::from_fixture("basic");
    site.change("content/services/scalp.md", "price: 0", "price: quoted");
    site.run(&["build"]).success();
    let html = site.read("dist/services/scalp/index.html");
    assert!(
        html.contains("<dd>Quoted at your consultation</dd>"),
        "{html}"
    );
    assert!(!html.contains(">Free<"), "{html}");
    let nodes = json_ld(&html);
    let offer = &node(&nodes, "Service")["offers"];
    assert_eq!(offer["@type"], "Offer");
    assert!(
        offer.get("price").is_none(),
        "no price for a quote: {offer}"
    );
    assert!(offer.get("priceSpecification").is_none(), "{offer}");
    assert_eq!(offer["description"], "Quoted at your consultation");
}

#[test]
fn a_from_price_is_a_minimum() {
    let site = SiteTest::from_fixture("basic");
    site.change("content/services/scalp.md", "price: 0", "price_from: 90");
    site.run(&["build"]).success();
    let html = site.read("dist/services/scalp/index.html");
    assert!(html.contains("<dd>From £90</dd>"), "{html}");
    let listing = site.read("dist/services/index.html");
    assert!(listing.contains("From £90"), "{listing}");
    let nodes = json_ld(&html);
    let offer = &node(&nodes, "Service")["offers"];
    assert!(offer.get("price").is_none(), "{offer}");
    assert_eq!(offer["priceSpecification"]["minPrice"], "90.00");
    assert_eq!(offer["priceSpecification"]["priceCurrency"], "GBP");

    site.change(
        "content/services/scalp.md",
        "price_from: 90",
        "price_from: 90\nprice: 120",
    );
    site.run(&["build"])
        .failure(1)
        .stderr_has("`price` and `price_from` are both set");
}

#[test]
fn json_ld_has_no_graph_and_follows_the_breadcrumbs() {
    let site = SiteTest::from_fixture("basic");
    site.run(&["build"]).success();
    let html = site.read("dist/services/scalp/index.html");
    assert!(!html.contains("@graph"), "{html}");
    let nodes = json_ld(&html);
    assert_eq!(nodes.len(), 3, "{nodes:?}");
    for n in &nodes {
        assert_eq!(n["@context"], "https://schema.org", "{n}");
    }
    assert_eq!(node(&nodes, "Service")["offers"]["price"], "0.00");
    node(&nodes, "FAQPage");
    let crumbs = node(&nodes, "BreadcrumbList")["itemListElement"]
        .as_array()
        .unwrap();
    let names: Vec<&str> = crumbs.iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Home", "Services", "Scalp Micropigmentation"]);
    assert_eq!(crumbs[2]["item"], "https://clinic.example/services/scalp/");
    assert_eq!(crumbs[0]["position"], 1);
}

/// The npm `structured-data-testing-tool` finds every node of a service page. Skipped
/// where it is not installed, except in CI (which installs it).
#[test]
fn structured_data_testing_tool_reads_service_pages() {
    let Some(sdtt) = which("sdtt") else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must install structured-data-testing-tool"
        );
        eprintln!("skipped: sdtt is not installed (npm i -g structured-data-testing-tool)");
        return;
    };
    let site = SiteTest::from_fixture("basic");
    site.change("content/services/scalp.md", "price: 0", "price: quoted");
    site.run(&["build"]).success();
    let out = Command::new(sdtt)
        .arg("--file")
        .arg(site.path("dist/services/scalp/index.html"))
        .args(["--schemas", "Service", "FAQPage", "BreadcrumbList"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("Schema.org schemas: Service, FAQPage, BreadcrumbList"),
        "{text}"
    );
    assert!(text.contains("0 warnings"), "{text}");
}

#[test]
fn thank_you_pages_are_noindex_and_not_in_the_sitemap() {
    let site = SiteTest::from_fixture("basic");
    site.run(&["build"]).success();
    let thanks = site.read("dist/thanks/index.html");
    assert!(
        thanks.contains("<meta name=\"robots\" content=\"noindex\">"),
        "{thanks}"
    );
    let sitemap = site.read("dist/sitemap.xml");
    assert!(!sitemap.contains("/thanks/"), "{sitemap}");
    assert!(
        sitemap.contains("https://clinic.example/about/"),
        "{sitemap}"
    );
    let about = site.read("dist/about/index.html");
    assert!(!about.contains("noindex"), "{about}");
}

#[test]
fn the_logo_is_in_the_header_and_the_business() {
    let site = SiteTest::from_fixture("basic");
    site.write(
        "static/logo.svg",
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 40 40\"><circle cx=\"20\" cy=\"20\" r=\"18\"/></svg>",
    );
    site.change("site.yaml", "menu:", "logo: /logo.svg\nmenu:");
    site.run(&["build"]).success();
    let home = site.read("dist/index.html");
    assert!(
        home.contains(
            "<img class=\"site-logo\" src=\"/logo.svg\" alt=\"\" width=\"40\" height=\"40\">"
        ),
        "{home}"
    );
    let business = node(&json_ld(&home), "MedicalClinic").clone();
    assert_eq!(business["logo"], "https://clinic.example/logo.svg");
    assert!(site.path("dist/logo.svg").is_file());
}

fn which(name: &str) -> Option<std::path::PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}
