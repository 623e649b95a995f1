//! The live preview's rebuild step, driven directly (no file-system events): each kind
//! of change re-renders what it affects, problems keep the last good site, and the
//! result is what `build` would write.

use generator::serve::rebuild::{Preview, Update};
use generator::serve::watch::Change;
use generator::site::{build, BuildOptions};

use crate::site_test::SiteTest;

fn start(t: &SiteTest) -> Preview {
    let mut p = Preview::start(opts(t));
    assert_eq!(p.fill(), Update::Nothing);
    assert!(p.problems().is_empty(), "{}", p.problems());
    p
}

fn opts(t: &SiteTest) -> BuildOptions {
    BuildOptions {
        root: t.root().to_path_buf(),
        drafts: false,
        base_url: Some("http://127.0.0.1:9".into()),
        form_service_url: None,
        comments: None,
        content_cache: false,
    }
}

/// A page as served; pages not rendered since the site was loaded are rendered first,
/// as `serve` does between changes.
fn page(p: &mut Preview, path: &str) -> String {
    p.fill();
    match p.site.as_ref().unwrap().output.get(path) {
        Some(generator::output::OutputFile::Bytes(b)) => String::from_utf8(b.clone()).unwrap(),
        other => panic!("{path}: {other:?}"),
    }
}

fn content(rel: &str) -> Change {
    Change::Content(rel.into())
}

/// After any sequence of changes, the preview holds exactly what a fresh build writes.
fn assert_same_as_build(t: &SiteTest, p: &mut Preview) {
    p.fill();
    let fresh = build(&opts(t)).unwrap();
    let served = &p.site.as_ref().unwrap().output;
    assert_eq!(
        served.keys().collect::<Vec<_>>(),
        fresh.output.keys().collect::<Vec<_>>()
    );
    for (k, v) in &fresh.output {
        assert_eq!(&served[k], v, "{k} differs from a fresh build");
    }
}

/// Edits the peel's text (not what listings show): only its page renders again.
fn edit_the_peels_text(t: &SiteTest, p: &mut Preview) {
    t.change(
        "content/services/peel.md",
        "A light peel.",
        "A gentle peel with no downtime.",
    );
    let update = p.apply(&[content("services/peel.md")]);
    assert_eq!(update, Update::Pages(vec!["/services/peel/".into()]));
    assert!(page(p, "services/peel/index.html").contains("no downtime"));
}

#[test]
fn editing_a_services_text_rerenders_only_it() {
    let t = SiteTest::from_fixture("basic");
    let mut p = start(&t);
    edit_the_peels_text(&t, &mut p);
    assert_same_as_build(&t, &mut p);
}

#[test]
fn saving_a_page_unchanged_reloads_nothing() {
    let t = SiteTest::from_fixture("basic");
    let mut p = start(&t);
    // As an editor saving an unchanged buffer, or a second event for one save.
    let same = t.read("content/services/peel.md");
    t.write("content/services/peel.md", &same);
    assert_eq!(p.apply(&[content("services/peel.md")]), Update::Nothing);
    // A real edit still reaches the page.
    edit_the_peels_text(&t, &mut p);
    assert_eq!(p.apply(&[content("services/peel.md")]), Update::Nothing);
    assert_same_as_build(&t, &mut p);
}

#[test]
fn editing_what_listings_show_rerenders_them_too() {
    let t = SiteTest::from_fixture("basic");
    let mut p = start(&t);
    t.change("content/services/peel.md", "price: 85.5", "price: 90");
    let update = p.apply(&[content("services/peel.md")]);
    assert_eq!(
        update,
        Update::Pages(vec![
            "/".into(),
            "/404.html".into(),
            "/services/".into(),
            "/services/peel/".into()
        ])
    );
    assert!(page(&mut p, "services/index.html").contains("£90"));
    assert_same_as_build(&t, &mut p);
}

#[test]
fn editing_a_services_faq_rerenders_only_it() {
    // Listings show a service without its FAQs (themes/README.md).
    let t = SiteTest::from_fixture("basic");
    let mut p = start(&t);
    t.change(
        "content/services/scalp.md",
        "answer: Many years",
        "answer: Five to seven years",
    );
    let update = p.apply(&[content("services/scalp.md")]);
    assert_eq!(update, Update::Pages(vec!["/services/scalp/".into()]));
    assert!(page(&mut p, "services/scalp/index.html").contains("Five to seven years"));
    assert_same_as_build(&t, &mut p);
}

#[test]
fn a_404_page_that_shows_the_services_follows_their_edits() {
    let t = SiteTest::from_fixture("basic");
    t.write(
        "templates/404.html",
        "{% extends \"base.html\" %}{% block content %}<ul>{% for s in services %}<li>{{ s.title }}: {{ s.price.text }}</li>{% endfor %}</ul>{% endblock content %}",
    );
    let mut p = start(&t);
    t.change("content/services/peel.md", "price: 85.5", "price: 90");
    p.apply(&[content("services/peel.md")]);
    assert!(page(&mut p, "404.html").contains("Chemical Peel: £90"));
    t.change(
        "content/services/peel.md",
        "title: Chemical Peel",
        "title: Glow Peel",
    );
    p.apply(&[content("services/peel.md")]);
    assert!(page(&mut p, "404.html").contains("Glow Peel: £90"));
    assert_same_as_build(&t, &mut p);
}

#[test]
fn editing_a_plain_page_rerenders_only_it() {
    let t = SiteTest::from_fixture("basic");
    let mut p = start(&t);
    t.change("content/about.md", "We are a team.", "We are a small team.");
    assert_eq!(
        p.apply(&[content("about.md")]),
        Update::Pages(vec!["/about/".into()])
    );
    assert_same_as_build(&t, &mut p);
}

#[test]
fn a_broken_edit_keeps_the_last_good_page_until_fixed() {
    let t = SiteTest::from_fixture("basic");
    let mut p = start(&t);
    let before = page(&mut p, "services/peel/index.html");
    t.change(
        "content/services/peel.md",
        "duration: 45 min",
        "duration: 45 mins and a bit",
    );
    assert_eq!(p.apply(&[content("services/peel.md")]), Update::Broken);
    let problems = p.problems().to_string();
    assert!(
        problems.starts_with("content/services/peel.md:4:"),
        "{problems}"
    );
    assert_eq!(
        page(&mut p, "services/peel/index.html"),
        before,
        "last good page kept"
    );

    // Another page may be edited meanwhile; the problem stays listed.
    t.change("content/about.md", "We are a team.", "We are a big team.");
    assert_eq!(p.apply(&[content("about.md")]), Update::Broken);
    assert!(page(&mut p, "about/index.html").contains("big team"));

    t.change(
        "content/services/peel.md",
        "duration: 45 mins and a bit",
        "duration: 50 min",
    );
    assert_eq!(p.apply(&[content("services/peel.md")]), Update::Everything);
    assert!(p.problems().is_empty());
    assert!(page(&mut p, "services/peel/index.html").contains("50 min"));
    assert_same_as_build(&t, &mut p);
}

#[test]
fn new_deleted_and_renamed_pages_rebuild_everything() {
    let t = SiteTest::from_fixture("basic");
    // The page renamed below is not in the menu (a menu link to no page fails a build).
    t.change(
        "site.yaml",
        "{title: About, url: /about/}",
        "{title: Privacy, url: /privacy/}",
    );
    let mut p = start(&t);
    t.write(
        "content/services/facial.md",
        "---\ntitle: Facial\nsummary: A facial.\nduration: 1 hr\n---\nNice.\n",
    );
    assert_eq!(
        p.apply(&[content("services/facial.md")]),
        Update::Everything
    );
    assert!(page(&mut p, "services/index.html").contains("Facial"));

    // A rename breaks the links to the old file, which the build refuses: fix them too.
    std::fs::rename(t.path("content/about.md"), t.path("content/team.md")).unwrap();
    t.change(
        "content/services/scalp.md",
        "../about.md#team",
        "../team.md#team",
    );
    p.apply(&[
        content("about.md"),
        content("team.md"),
        content("services/scalp.md"),
    ]);
    assert!(page(&mut p, "team/index.html").contains("We are a team"));
    assert!(!p
        .site
        .as_ref()
        .unwrap()
        .output
        .contains_key("about/index.html"));
    assert_same_as_build(&t, &mut p);
}

#[test]
fn a_title_edit_rerenders_the_pages_that_offer_the_service() {
    let t = SiteTest::from_fixture("basic");
    let mut p = start(&t);
    t.change(
        "content/services/peel.md",
        "title: Chemical Peel",
        "title: Glow Peel",
    );
    // Up to 40 services every service page's form offers them all, as the
    // consultation page's does; the listings show the title. Nothing else changes.
    let Update::Pages(paths) = p.apply(&[content("services/peel.md")]) else {
        panic!("a title edit that keeps the page's place re-renders pages")
    };
    for url in [
        "/",
        "/services/",
        "/services/peel/",
        "/services/scalp/",
        "/consultation/",
    ] {
        assert!(paths.contains(&url.to_string()), "{url}: {paths:?}");
    }
    assert!(!paths.contains(&"/about/".to_string()), "{paths:?}");
    assert!(
        page(&mut p, "services/scalp/index.html").contains(">Glow Peel</option>"),
        "forms list services"
    );
    assert_same_as_build(&t, &mut p);

    // A title that moves the service before another reorders the same pages' forms
    // and listings (and the sitemap), nothing more; so does an order that moves it
    // first.
    t.change(
        "content/services/peel.md",
        "title: Glow Peel",
        "title: Aesthetic Peel",
    );
    let reordered = |p: &mut Preview| {
        let Update::Pages(paths) = p.apply(&[content("services/peel.md")]) else {
            panic!("a title edit that moves the page re-renders pages")
        };
        for url in ["/", "/services/", "/services/peel/", "/services/scalp/"] {
            assert!(paths.contains(&url.to_string()), "{url}: {paths:?}");
        }
        assert!(!paths.contains(&"/about/".to_string()), "{paths:?}");
    };
    reordered(&mut p);
    let form = page(&mut p, "services/scalp/index.html");
    let at = |title: &str| form.find(&format!(">{title}</option>")).unwrap();
    assert!(
        at("Aesthetic Peel") < at("Anti-wrinkle Injections"),
        "{form}"
    );
    assert_same_as_build(&t, &mut p);
    t.change("content/services/peel.md", "order: 2", "order: 0");
    reordered(&mut p);
    assert_same_as_build(&t, &mut p);
}

#[test]
fn a_title_edit_that_moves_a_plain_page_rerenders_it_and_the_sitemap() {
    let t = SiteTest::from_fixture("basic");
    let mut p = start(&t);
    t.change("content/about.md", "title: About us", "title: Who we are");
    assert_eq!(
        p.apply(&[content("about.md")]),
        Update::Pages(vec!["/404.html".into(), "/about/".into()])
    );
    // Requests for any page still find it.
    let site = p.site.as_ref().unwrap();
    for (i, page) in site.content.pages.iter().enumerate() {
        let path = generator::urls::output_path(&page.url);
        assert_eq!(site.page_at(&path), Some(i), "{path}");
    }
    let sitemap = page(&mut p, "sitemap.xml");
    assert!(
        sitemap.find("/privacy/").unwrap() < sitemap.find("/about/").unwrap(),
        "{sitemap}"
    );
    assert_same_as_build(&t, &mut p);
}

#[test]
fn a_template_rerenders_the_pages_that_use_it() {
    let t = SiteTest::from_fixture("basic");
    t.write("templates/page.html", "{% extends \"base.html\" %}{% block content %}<h1>{{ page.title }}</h1>{{ page.content | safe }}{% endblock content %}");
    let mut p = start(&t);
    t.write("templates/page.html", "{% extends \"base.html\" %}{% block content %}<h1>{{ page.title }}!</h1>{{ page.content | safe }}{% endblock content %}");
    let Update::Pages(paths) = p.apply(&[Change::Template("page.html".into())]) else {
        panic!()
    };
    assert!(paths.contains(&"/about/".to_string()));
    assert!(
        !paths.iter().any(|p| p.starts_with("/services/")),
        "{paths:?}"
    );
    assert!(page(&mut p, "about/index.html").contains("About us!"));

    // A broken template: problems shown, last good pages kept; fixed, all clear.
    t.write(
        "templates/page.html",
        "{% extends \"base.html\" %}{% block content %}{{ page.title {% endblock content %}",
    );
    assert_eq!(
        p.apply(&[Change::Template("page.html".into())]),
        Update::Broken
    );
    assert!(
        p.problems().to_string().contains("templates/page.html:1:"),
        "{}",
        p.problems()
    );
    assert!(page(&mut p, "about/index.html").contains("About us!"));
    t.write("templates/page.html", "{% extends \"base.html\" %}{% block content %}<h1>{{ page.title }}.</h1>{% endblock content %}");
    assert_eq!(
        p.apply(&[Change::Template("page.html".into())]),
        Update::Everything
    );
    assert_same_as_build(&t, &mut p);
}

#[test]
fn a_stylesheet_change_swaps_its_url_everywhere() {
    let t = SiteTest::from_fixture("basic");
    let mut p = start(&t);
    let before = page(&mut p, "index.html");
    let css = t.read("themes/default/static/assets/style.css");
    t.write(
        "themes/default/static/assets/style.css",
        &format!("{css}\nbody{{outline:0}}"),
    );
    let Update::Css(pairs) = p.apply(&[Change::Static("assets/style.css".into())]) else {
        panic!()
    };
    assert_eq!(pairs.len(), 1);
    let (old, new) = &pairs[0];
    assert!(before.contains(old.as_str()));
    assert!(page(&mut p, "services/peel/index.html").contains(new.as_str()));
    assert!(
        !p.site
            .as_ref()
            .unwrap()
            .output
            .contains_key(old.trim_start_matches('/')),
        "old file gone"
    );
    assert_same_as_build(&t, &mut p);
}

#[test]
fn site_yaml_rebuilds_everything() {
    let t = SiteTest::from_fixture("basic");
    let mut p = start(&t);
    t.change(
        "site.yaml",
        "title: Fixture Clinic",
        "title: Renamed Clinic",
    );
    assert_eq!(p.apply(&[Change::Config]), Update::Everything);
    assert!(page(&mut p, "about/index.html").contains("Renamed Clinic"));
    t.change("site.yaml", "currency: GBP", "currency: gbp");
    assert_eq!(p.apply(&[Change::Config]), Update::Broken);
    assert!(
        page(&mut p, "about/index.html").contains("Renamed Clinic"),
        "last good site kept"
    );
}

#[test]
fn a_site_that_never_built_is_reported() {
    let t = SiteTest::from_fixture("basic");
    t.change("site.yaml", "currency: GBP", "currency: gbp");
    let mut p = Preview::start(opts(&t));
    assert!(p.site.is_none());
    assert!(p.problems().to_string().contains("site.yaml:5:"));
    t.change("site.yaml", "currency: gbp", "currency: GBP");
    assert_eq!(p.apply(&[Change::Config]), Update::Everything);
    assert!(p.site.is_some());
}

#[test]
fn the_preview_starts_before_rendering_and_fills_in_the_pages() {
    let t = SiteTest::from_fixture("basic");
    let mut p = Preview::start(opts(&t));
    let site = p.site.as_ref().unwrap();
    assert!(
        !site.output.contains_key("about/index.html"),
        "pages are rendered after the preview starts"
    );
    assert!(
        site.output.contains_key("404.html"),
        "site-wide files at once"
    );
    assert!(site.unrendered().count() > 0);
    assert_eq!(p.fill(), Update::Nothing);
    assert_eq!(p.site.as_ref().unwrap().unrendered().count(), 0);
    assert_same_as_build(&t, &mut p);
}

#[test]
fn the_fill_renders_the_listings_first() {
    // Each listing shows every service and takes longest to render (0.1 to 0.3 s at
    // 10,000); a save made while the fill renders one waits for it. First, they render
    // while the preview starts rather than between two saves of an editor's.
    let t = SiteTest::from_fixture("basic");
    let p = Preview::start(opts(&t));
    let site = p.site.as_ref().unwrap();
    let order: Vec<&str> = site
        .unrendered()
        .map(|i| site.content.pages[i].url.as_str())
        .collect();
    let mut first = order[..2].to_vec();
    first.sort();
    assert_eq!(first, ["/", "/services/"], "{order:?}");
    assert!(order.len() > 2, "{order:?}");
}

#[test]
fn a_page_that_fails_to_render_in_the_fill_is_reported_until_fixed() {
    let t = SiteTest::from_fixture("basic");
    t.write(
        "templates/odd.html",
        "{% extends \"base.html\" %}{% block content %}{{ page.nope.deeper }}{% endblock content %}",
    );
    t.change(
        "content/about.md",
        "title: About us",
        "title: About us\ntemplate: odd.html",
    );
    let mut p = Preview::start(opts(&t));
    assert!(p.problems().is_empty(), "nothing rendered yet");
    assert_eq!(p.fill(), Update::Broken);
    assert!(
        p.problems().to_string().contains("content/about.md"),
        "{}",
        p.problems()
    );
    t.write(
        "templates/odd.html",
        "{% extends \"base.html\" %}{% block content %}odd{% endblock content %}",
    );
    assert_eq!(
        p.apply(&[Change::Template("odd.html".into())]),
        Update::Everything
    );
    assert!(p.problems().is_empty(), "{}", p.problems());
    assert!(page(&mut p, "about/index.html").contains("odd"));
    assert_same_as_build(&t, &mut p);
}

#[test]
fn a_preview_started_from_the_last_builds_content_cache_serves_what_a_build_writes() {
    let t = SiteTest::from_fixture("basic");
    // A build at the site's own address; the preview serves another. In this process:
    // a cache is only used by the program that made it.
    generator::cmd::build::run(
        &BuildOptions {
            base_url: None,
            content_cache: true,
            ..opts(&t)
        },
        None,
    )
    .unwrap();
    let mut p = Preview::start(BuildOptions {
        content_cache: true,
        ..opts(&t)
    });
    let cached = |p: &Preview| {
        p.site
            .as_ref()
            .unwrap()
            .content
            .pages
            .iter()
            .filter(|page| page.origin.cached)
            .count()
    };
    assert!(cached(&p) > 0, "no page came from the content cache");
    assert_same_as_build(&t, &mut p);

    edit_the_peels_text(&t, &mut p);
    t.change("content/services/peel.md", "price: 85.5", "price: 90");
    p.apply(&[content("services/peel.md")]);
    assert!(page(&mut p, "services/index.html").contains("90"));
    assert_same_as_build(&t, &mut p);
}

#[test]
fn a_page_changed_after_it_was_taken_from_the_content_cache_is_not_mixed_with_it() {
    let t = SiteTest::from_fixture("basic");
    let cached = BuildOptions {
        content_cache: true,
        ..opts(&t)
    };
    generator::cmd::build::run(&cached, None).unwrap();
    let site = generator::site::Site::load(&cached).unwrap();
    let i = site.page_at("about/index.html").unwrap();
    assert!(site.content.pages[i].origin.cached);
    t.change("content/about.md", "We are a team.", "We are a small team.");
    let Err(problems) = site.render_page(i) else {
        panic!("rendered from a file that changed after loading");
    };
    assert!(
        problems[0]
            .to_string()
            .contains("content/about.md: this file changed while the site was being built"),
        "{}",
        problems[0]
    );
}
