//! Published comments (issue 7): the file the form service exports, shown on service
//! pages with the comment form under them; hostile texts inert; orphans reported.

use generator::serve::rebuild::{Preview, Update};
use generator::serve::watch::Change;
use generator::site::{build, BuildOptions};
use site_config::{ClinicReply, CommentsFile, PublishedComment};

use crate::example_site::assert_valid_html_and_css;
use crate::serve_http::{http_get, next_event, open_events};
use crate::site_test::SiteTest;

/// The fixture with a `kind: comment` form declared, as the example site has.
fn site_taking_comments() -> SiteTest {
    let t = SiteTest::from_fixture("basic");
    let config = t.read("site.yaml");
    t.write(
        "site.yaml",
        &format!(
            "{config}  comment:\n    title: Comment\n    thank_you: /thanks/\n    kind: comment\n    fields:\n      \
             - {{name: display_name, label: Name to show, type: text, required: true, max_length: 40}}\n      \
             - {{name: comment, label: Your comment, type: textarea, required: true, max_length: 2000, help: No medical details please.}}\n      \
             - {{name: service, label: Treatment, type: service, required: true}}\n      \
             - {{name: email, label: Your email, type: email}}\n      \
             - {{name: consent, label: I agree to the programme's terms, type: checkbox, link: {{text: Terms, href: /membership/}}}}\n"
        ),
    );
    t
}

fn comment(id: &str, page: &str, author: &str, posted: &str, text: &str) -> PublishedComment {
    PublishedComment {
        id: id.into(),
        page: page.into(),
        author: author.into(),
        posted: posted.into(),
        text: text.into(),
        reply: None,
    }
}

fn write_comments(t: &SiteTest, comments: Vec<PublishedComment>) {
    CommentsFile { comments }
        .save(&t.path("data/comments.json"))
        .unwrap();
}

fn three_on_scalp_one_on_peel() -> Vec<PublishedComment> {
    let mut first = comment(
        "b7",
        "/services/scalp/",
        "Priya",
        "2026-02-03",
        "Does it *hurt*? See [my photos](https://photos.example/p).",
    );
    first.reply = Some(ClinicReply {
        posted: "2026-02-04".into(),
        text: "Most people feel **very little**.".into(),
    });
    vec![
        first,
        comment(
            "a2",
            "/services/peel/",
            "Tom",
            "2026-02-10",
            "Great result.",
        ),
        comment(
            "z9",
            "/services/scalp/",
            "Sam",
            "2026-03-01",
            "Second comment.",
        ),
        comment("c1", "/services/scalp/", "Alex", "2026-03-15", "Third one."),
    ]
}

#[test]
fn comments_show_on_their_page_oldest_first_with_count_and_reply() {
    let t = site_taking_comments();
    write_comments(&t, three_on_scalp_one_on_peel());
    t.build().success();

    let scalp = t.read("dist/services/scalp/index.html");
    assert!(scalp.contains(
        "<section class=\"comments\" id=\"comments\" aria-labelledby=\"comments-title\">\n\
         <h2 id=\"comments-title\">3 comments</h2>"
    ));
    let pos = |id: &str| {
        scalp
            .find(&format!("<article class=\"comment\" id=\"comment-{id}\">"))
            .unwrap_or_else(|| panic!("comment {id} missing:\n{scalp}"))
    };
    assert!(pos("b7") < pos("z9") && pos("z9") < pos("c1"), "file order");
    assert!(scalp.contains(
        "<p class=\"comment__meta\"><bdi class=\"comment__author\">Priya</bdi> \
         <time datetime=\"2026-02-03\">3 February 2026</time></p>\n\
         <div class=\"comment__body\" dir=\"auto\">\n\
         <p>Does it <em>hurt</em>? See <a href=\"https://photos.example/p\" rel=\"ugc nofollow\">my photos</a>.</p>\n</div>"
    ), "{scalp}");
    let reply = scalp
        .find("Reply from Fixture Clinic")
        .expect("the clinic's reply");
    assert!(
        pos("b7") < reply && reply < pos("z9"),
        "the reply sits under its comment"
    );
    assert!(scalp.contains("<time datetime=\"2026-02-04\">4 February 2026</time>"));
    assert!(scalp.contains("<p>Most people feel <strong>very little</strong>.</p>"));
    assert!(!scalp.contains("Tom"), "other pages' comments stay there");
    // The form comes after the comments, carrying this page's service.
    let form = scalp
        .find("<form class=\"form\" id=\"form-comment\"")
        .unwrap();
    assert!(form > pos("c1"));
    assert!(scalp.contains(
        "<input type=\"hidden\" id=\"comment-service\" name=\"service\" value=\"scalp\">"
    ));
    assert!(scalp
        .contains("action=\"https://forms.clinic.example/forms/comment?from=/services/scalp/\""));

    let peel = t.read("dist/services/peel/index.html");
    assert!(peel.contains("<h2 id=\"comments-title\">1 comment</h2>"));
    assert!(peel.contains("id=\"comment-a2\""));

    let injections = t.read("dist/services/injections/index.html");
    assert!(injections.contains("<h2 id=\"comments-title\">Comments</h2>"));
    assert!(injections.contains("No comments yet. Ask the first question"));
    assert!(injections.contains("value=\"injections\""));
    assert!(
        !t.read("dist/about/index.html").contains("comments"),
        "only service pages have comments"
    );
}

#[test]
fn a_site_taking_comments_without_a_file_invites_the_first() {
    let t = site_taking_comments();
    t.build().success();
    let scalp = t.read("dist/services/scalp/index.html");
    assert!(scalp.contains("<h2 id=\"comments-title\">Comments</h2>"));
    assert!(scalp.contains("No comments yet."));
    assert!(scalp.contains("id=\"form-comment\""));
    t.run(&["check"]).success();
}

/// A site whose service page shows comments written to break out of it; built.
fn hostile_site() -> (SiteTest, usize) {
    let t = site_taking_comments();
    let hostile = [
        "<script>alert('x')</script>",
        "<img src=x onerror=alert(1)>",
        "[click](javascript:alert(1)) [data](data:text/html;base64,PHNjcmlwdD4=) [vb](VBScript:x)",
        "[entity](jav&#x61;script:alert(1)) [spaced]( javascript:alert(1)) <javascript:alert(1)>",
        "</div></article></section><h1>Fake</h1><form action=https://evil.example>",
        "**unclosed *broken [markdown](",
        &"Pneumonoultramicroscopicsilicovolcanoconiosis".repeat(100),
        "\u{202E}txet sdrawkcab\u{202C} and \u{2067}isolated\u{2069} עברית a\u{200B}b\u{200D}c",
        "ctrl\u{0}\u{7}\u{1b}[0m \u{FFFF} end",
        "[ok](<https://clinic.example/a b\"c>) [spoof](https://bank.example@evil.example/)",
        "![tracker](https://evil.example/pixel.png)",
    ];
    let mut comments: Vec<PublishedComment> = hostile
        .iter()
        .enumerate()
        .map(|(i, text)| {
            comment(
                &format!("h{i}"),
                "/services/scalp/",
                "<b>Eve</b>\u{202E}",
                "2026-01-01",
                text,
            )
        })
        .collect();
    comments[0].reply = Some(ClinicReply {
        posted: "2026-01-02".into(),
        text: "<script>alert(2)</script>".into(),
    });
    write_comments(&t, comments);
    t.build().success();
    (t, hostile.len())
}

#[test]
fn hostile_comments_render_inert() {
    let (t, count) = hostile_site();
    let html = t.read("dist/services/scalp/index.html");
    let start = html.find("<section class=\"comments\"").unwrap();
    let comments_html = &html[start..start + html[start..].find("</section>").unwrap()];
    assert!(comments_html.contains(&format!("<h2 id=\"comments-title\">{count} comments</h2>")));
    // Every tag in the section is one the theme or the safe subset writes, with no
    // event handler, and every link goes to the web, an email address or the site.
    const ALLOWED: [&str; 18] = [
        "section", "h2", "h3", "article", "p", "bdi", "time", "div", "em", "strong", "a", "br",
        "span", "form", "label", "input", "textarea", "button",
    ];
    let mut rest = comments_html;
    while let Some(i) = rest.find('<') {
        let end = i + rest[i..].find('>').unwrap() + 1;
        let tag = &rest[i..end];
        rest = &rest[end..];
        let name: String = tag
            .trim_start_matches(['<', '/'])
            .chars()
            .take_while(char::is_ascii_alphanumeric)
            .collect();
        assert!(
            ALLOWED.contains(&name.as_str()),
            "tag {tag} in:\n{comments_html}"
        );
        assert!(
            !tag.split_whitespace()
                .any(|a| a.to_lowercase().starts_with("on")),
            "event handler in {tag}"
        );
        if let Some(h) = tag.find(" href=\"") {
            let href = &tag[h + 7..];
            assert!(
                ["https://", "http://", "mailto:", "/"]
                    .iter()
                    .any(|p| href.starts_with(p)),
                "link {tag}"
            );
        }
    }
    for bad in ["\u{202E}", "\u{2067}", "\u{0}", "\u{1b}", "\u{FFFF}"] {
        assert!(!html.contains(bad), "{bad:?} reached the page");
    }
    assert!(
        !comments_html.contains("\"https://evil.example")
            && !comments_html.contains("\"https://bank"),
        "no images, no misleading links"
    );
    assert!(comments_html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"));
    assert!(
        comments_html.contains("&lt;b&gt;Eve&lt;/b&gt;"),
        "names are text too"
    );
    assert!(comments_html.contains("עברית a\u{200B}b\u{200D}c"));
    assert!(
        comments_html.contains(
            "<a href=\"https://clinic.example/a%20b%22c\" rel=\"ugc nofollow\">ok</a> spoof"
        ),
        "{comments_html}"
    );
    // The page still has its own structure after the comments.
    assert_eq!(html.matches("<h1>").count(), 1);
    assert!(html.trim_end().ends_with("</html>"));
    assert_eq!(
        comments_html.matches("<article").count(),
        comments_html.matches("</article>").count()
    );
}

#[test]
#[cfg_attr(
    missing_vnu,
    ignore = "needs vnu, the Nu Html Checker (see README, Tests)"
)]
fn hostile_comments_leave_the_page_valid_html() {
    let (t, _) = hostile_site();
    assert_valid_html_and_css(&t.path("dist"));
}

#[test]
fn unchanged_comments_rebuild_byte_identical() {
    let t = site_taking_comments();
    write_comments(&t, three_on_scalp_one_on_peel());
    t.build().success();
    let first = t.snapshot_dir("dist");
    // The exporter writes the same comments again: same bytes, same site.
    let before = t.read("data/comments.json");
    write_comments(&t, three_on_scalp_one_on_peel());
    assert_eq!(t.read("data/comments.json"), before);
    t.build().success();
    assert_eq!(t.snapshot_dir("dist"), first);
}

#[test]
fn a_comment_removed_from_the_file_leaves_the_next_build() {
    let t = site_taking_comments();
    write_comments(&t, three_on_scalp_one_on_peel());
    t.build().success();
    assert!(t
        .read("dist/services/scalp/index.html")
        .contains("Second comment."));
    let mut fewer = three_on_scalp_one_on_peel();
    fewer.retain(|c| c.id != "z9");
    write_comments(&t, fewer);
    t.build().success();
    let scalp = t.read("dist/services/scalp/index.html");
    assert!(!scalp.contains("Second comment.") && !scalp.contains("comment-z9"));
    assert!(scalp.contains("<h2 id=\"comments-title\">2 comments</h2>"));
}

#[test]
fn a_site_without_comments_builds_as_before() {
    // The fixture declares no comment form: with no file its pages have no comments
    // section at all (the service page snapshot, taken before comments existed, pins
    // that), and taking the file away again gives the same bytes as never having one.
    let t = SiteTest::from_fixture("basic");
    t.build().success();
    let without = t.snapshot_dir("dist");
    assert!(!t
        .read("dist/services/scalp/index.html")
        .contains("comments"));

    write_comments(&t, three_on_scalp_one_on_peel());
    t.build().success();
    let scalp = t.read("dist/services/scalp/index.html");
    assert!(scalp.contains("3 comments"), "a file alone shows comments");
    assert!(!scalp.contains("form-comment"), "but no form is declared");

    std::fs::remove_file(t.path("data/comments.json")).unwrap();
    t.build().success();
    assert_eq!(t.snapshot_dir("dist"), without);
}

#[test]
fn comments_on_missing_pages_fail_check_and_are_left_out_by_build() {
    let t = site_taking_comments();
    let mut comments = three_on_scalp_one_on_peel();
    comments.push(comment(
        "gone1",
        "/services/tattoo-removal/",
        "Kim",
        "2026-03-02",
        "Bye",
    ));
    comments.push(comment(
        "about1",
        "/about/",
        "Lee",
        "2026-03-03",
        "Not a service",
    ));
    // An old address listed in a service page's aliases still reaches that page.
    comments.push(comment(
        "alias1",
        "/smp/",
        "Ana",
        "2026-03-20",
        "Through the alias",
    ));
    write_comments(&t, comments);

    let check = t.run(&["check"]).failure(1);
    assert!(check.stderr.contains(
        "error: data/comments.json:36: comment `gone1` is on /services/tattoo-removal/, which is not a service page of this site, so it is not shown"
    ), "{}", check.stderr);
    assert!(
        check.stderr.contains("comment `about1` is on /about/"),
        "{}",
        check.stderr
    );
    assert!(
        check.stderr.contains("2 problems found"),
        "{}",
        check.stderr
    );

    let built = t.build().success();
    assert!(
        built
            .stderr
            .contains("warning: data/comments.json:36: comment `gone1`"),
        "{}",
        built.stderr
    );
    let scalp = t.read("dist/services/scalp/index.html");
    assert!(scalp.contains("<h2 id=\"comments-title\">4 comments</h2>"));
    assert!(scalp.contains("Through the alias"));
    assert!(!t.read("dist/about/index.html").contains("Not a service"));
}

#[test]
fn a_malformed_file_stops_the_build_and_names_its_line() {
    let t = site_taking_comments();
    t.build().success();
    let before = t.snapshot_dir("dist");
    t.write(
        "data/comments.json",
        "{\"comments\": [\n  {\"id\": \"a\", \"page\": \"/services/scalp/\", \"author\": \"A\",\n   \"posted\": \"2026-02-30\", \"text\": \"t\"},\n  {\"id\": \"b\" \"page\": 1}\n]}\n",
    );
    t.build()
        .failure(1)
        .stderr_has("error: data/comments.json:4:14: comments file: expected `,` or `}`");
    assert_eq!(t.snapshot_dir("dist"), before, "the last good site stays");
    t.write(
        "data/comments.json",
        "{\"comments\": [\n  {\"id\": \"a\", \"page\": \"/services/scalp/\", \"author\": \"A\",\n   \"posted\": \"2026-02-30\", \"text\": \"t\"}\n]}\n",
    );
    t.run(&["check"]).failure(1).stderr_has(
        "data/comments.json:2: comment `a`: `posted` must be a date written YYYY-MM-DD, not `2026-02-30`",
    );
}

#[test]
fn the_comments_flag_names_another_file() {
    let t = site_taking_comments();
    CommentsFile {
        comments: vec![comment(
            "x1",
            "/services/peel/",
            "Jo",
            "2026-01-05",
            "From elsewhere",
        )],
    }
    .save(&t.path("exports/published.json"))
    .unwrap();
    write_comments(&t, three_on_scalp_one_on_peel());
    t.run(&["build", "--comments", "exports/published.json"])
        .success();
    let peel = t.read("dist/services/peel/index.html");
    assert!(peel.contains("From elsewhere") && !peel.contains("Great result."));
    t.run(&["check", "--comments", "exports/nope.json"])
        .failure(2)
        .stderr_has("--comments exports/nope.json: there is no such file");
}

#[test]
fn the_preview_shows_new_comments_when_the_file_changes() {
    let t = site_taking_comments();
    let opts = BuildOptions {
        root: t.root().to_path_buf(),
        drafts: false,
        base_url: Some("http://127.0.0.1:9".into()),
        form_service_url: None,
        comments: None,
        content_cache: false,
    };
    let mut preview = Preview::start(opts.clone());
    assert!(preview.problems().is_empty(), "{}", preview.problems());
    write_comments(&t, three_on_scalp_one_on_peel());
    assert_eq!(preview.apply(&[Change::Comments]), Update::Everything);
    assert_eq!(preview.fill(), Update::Nothing);
    let served = &preview.site.as_ref().unwrap().output;
    let fresh = build(&opts).unwrap();
    assert_eq!(served, &fresh.output, "the preview is what a build writes");
    let Some(generator::output::OutputFile::Bytes(page)) = served.get("services/scalp/index.html")
    else {
        panic!("no scalp page");
    };
    assert!(String::from_utf8_lossy(page).contains("3 comments"));
}

#[test]
fn serve_picks_up_an_exported_file_and_a_new_data_folder() {
    let t = site_taking_comments();
    let server = t.serve();
    let mut events = open_events(server.port);
    assert!(http_get(server.port, "/services/scalp/").contains("No comments yet."));

    // The first export creates data/ as well: the folder appears after serve started.
    write_comments(&t, three_on_scalp_one_on_peel());
    while !http_get(server.port, "/services/scalp/").contains("3 comments") {
        next_event(&mut events, "reload");
    }

    // Staff withdraw a comment and export again (a new file renamed over the old one).
    let mut fewer = three_on_scalp_one_on_peel();
    fewer.retain(|c| c.id != "c1");
    write_comments(&t, fewer);
    while !http_get(server.port, "/services/scalp/").contains("2 comments") {
        next_event(&mut events, "reload");
    }
    assert!(!http_get(server.port, "/services/scalp/").contains("Third one."));
}
