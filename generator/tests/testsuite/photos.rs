//! Photos (issue 15, items 1-5): from plain Markdown and `image:` to `<picture>`, with
//! every piece of metadata gone, cached between builds, and problems said plainly.

use std::fs;
use std::io::Cursor;
use std::path::Path;

use image::GenericImageView;

use crate::photo_files::{leaks, phone_jpeg, phone_thumbnail, plain_jpeg, plain_png, png_claiming};
use crate::site_test::SiteTest;

fn write_bytes(site: &SiteTest, rel: &str, bytes: &[u8]) {
    let p = site.path(rel);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, bytes).unwrap();
}

/// Every file under `dir`, by path relative to it.
fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .map(Result::unwrap)
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            (
                e.path().strip_prefix(dir).unwrap().display().to_string(),
                fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

/// The peel page with a phone's photo beside it, shown twice in the text and once as
/// its `image:`.
fn site_with_photos() -> SiteTest {
    let site = SiteTest::from_fixture("basic");
    write_bytes(
        &site,
        "content/services/hairline.jpg",
        &phone_jpeg(1000, 640),
    );
    write_bytes(&site, "content/services/room.png", &plain_png(300, 200));
    site.write(
        "content/services/peel.md",
        "---\ntitle: Chemical Peel\nsummary: A peel that renews the skin's surface.\nduration: 45 min\nprice: 85.5\norder: 2\nimage: room.png\nimage_alt: The treatment room (an illustration)\n---\nA light peel.\n\n![A softened hairline after two sessions](hairline.jpg \"Two sessions\")\n\nAnd again, smaller:\n\n![The same hairline again](hairline.jpg)\n",
    );
    site
}

#[test]
fn markdown_photos_become_responsive_pictures() {
    let site = site_with_photos();
    site.run(&["build"]).success();
    let html = site.read("dist/services/peel/index.html");

    // The `image:` comes first on the page and is fetched early; text photos are lazy.
    let first = html.find("<picture>").expect("a picture");
    let hero = &html[first..first + html[first..].find("</picture>").unwrap()];
    assert!(
        hero.contains("class=\"page-image\" fetchpriority=\"high\""),
        "{hero}"
    );
    assert!(hero.contains("width=\"300\" height=\"200\""), "{hero}");
    assert!(
        hero.contains(".300.png\""),
        "a PNG keeps a PNG fallback: {hero}"
    );
    assert_eq!(html.matches("fetchpriority=\"high\"").count(), 1, "{html}");
    assert_eq!(
        html.matches("loading=\"lazy\" decoding=\"async\"").count(),
        2
    );

    // The phone photo is 1000×640 as stored, turned by its EXIF to 640×1000: widths
    // never exceed the source, and width/height are the turned ones.
    let start = html.find("alt=\"A softened hairline").unwrap();
    let pic_start = html[..start].rfind("<picture>").unwrap();
    let pic = &html[pic_start..start + html[start..].find("</picture>").unwrap()];
    assert!(
        pic.contains("<source type=\"image/avif\" srcset=\"/assets/img/hairline."),
        "{pic}"
    );
    assert!(
        pic.contains(".480.avif 480w, /assets/img/hairline."),
        "{pic}"
    );
    assert!(pic.contains(".640.avif 640w\""), "{pic}");
    assert!(!pic.contains(".960."), "never wider than the source: {pic}");
    assert!(pic.contains("<source type=\"image/webp\""), "{pic}");
    assert!(pic.contains(" sizes=\""), "{pic}");
    assert!(pic.contains("width=\"640\" height=\"1000\" title=\"Two sessions\" loading=\"lazy\" decoding=\"async\""), "{pic}");

    // Every file a picture names exists, fingerprinted under /assets/ (immutable).
    let headers = site.read("dist/_headers");
    assert!(headers.contains("/assets/*\n  Cache-Control: public, max-age=31536000, immutable"));
    let mut named = 0;
    for part in html.split(['"', ' ', ',']) {
        if part.starts_with("/assets/img/") {
            named += 1;
            let bytes = fs::read(site.path(&format!("dist{part}")))
                .unwrap_or_else(|e| panic!("{part}: {e}"));
            assert!(!bytes.is_empty(), "{part}");
        }
    }
    assert!(named >= 10, "{named} files named");

    // The fallback shows the photo turned: the red left half is now on top.
    let fallback = html[start..]
        .split('"')
        .find(|p| p.starts_with("/assets/img/hairline.") && p.ends_with(".jpg"))
        .map(str::to_string)
        .unwrap_or_else(|| {
            let src = html[pic_start..].find("<img src=\"").unwrap() + pic_start + 10;
            html[src..src + html[src..].find('"').unwrap()].to_string()
        });
    let img =
        image::load_from_memory(&fs::read(site.path(&format!("dist{fallback}"))).unwrap()).unwrap();
    assert_eq!(img.dimensions(), (640, 1000));
    let top = img.get_pixel(320, 50);
    let bottom = img.get_pixel(320, 950);
    assert!(top[0] > 150 && top[2] < 100, "top is red: {top:?}");
    assert!(
        bottom[2] > 150 && bottom[0] < 100,
        "bottom is blue: {bottom:?}"
    );
}

#[test]
fn no_published_file_keeps_the_phones_metadata() {
    let site = site_with_photos();
    site.run(&["build"]).success();
    let thumb = phone_thumbnail();
    let dist = files(&site.path("dist"));
    let images: Vec<_> = dist
        .iter()
        .filter(|(p, _)| {
            [".jpg", ".png", ".webp", ".avif"]
                .iter()
                .any(|e| p.ends_with(e))
        })
        .collect();
    assert!(
        images.len() >= 10,
        "{:?}",
        images.iter().map(|(p, _)| p).collect::<Vec<_>>()
    );
    for (path, bytes) in &images {
        let found = leaks(bytes, &thumb);
        assert!(found.is_empty(), "{path} still holds {found:?}");
    }
    // The original's own address still answers, with a clean copy.
    let original = &dist
        .iter()
        .find(|(p, _)| p == "services/hairline.jpg")
        .expect("the photo's own address is published")
        .1;
    assert!(leaks(original, &thumb).is_empty());
    assert!(image::load_from_memory(original).is_ok());
}

#[test]
fn sharing_uses_the_processed_photo() {
    let site = site_with_photos();
    site.change(
        "content/services/peel.md",
        "image: room.png",
        "image: hairline.jpg",
    );
    site.run(&["build"]).success();
    let html = site.read("dist/services/peel/index.html");
    let og = html
        .split("<meta property=\"og:image\" content=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("og:image");
    assert!(
        og.starts_with("https://clinic.example/assets/img/hairline."),
        "{og}"
    );
    assert!(
        og.ends_with(".640.jpg"),
        "at most 1200 px, never wider than the source: {og}"
    );
    assert!(
        html.contains(&format!("\"image\":\"{og}\"")),
        "schema.org image: {html}"
    );
    assert!(site
        .path(&format!("dist{}", &og["https://clinic.example".len()..]))
        .is_file());
    // A large card, described as the page describes the photo.
    assert!(html.contains(r#"<meta name="twitter:card" content="summary_large_image">"#));
    assert!(html.contains(
        r#"<meta property="og:image:alt" content="The treatment room (an illustration)">"#
    ));
}

#[test]
fn a_second_build_reuses_the_cache() {
    let site = site_with_photos();
    site.run(&["build"]).success();
    let cache = site.path(".cache/images");
    let before: Vec<_> = fs::read_dir(&cache)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (e.file_name(), e.metadata().unwrap().modified().unwrap())
        })
        .collect();
    assert_eq!(
        before.len(),
        8,
        "3 for the small PNG, 5 for the photo: {before:?}"
    );
    let first = files(&site.path("dist"));
    site.run(&["build"]).success();
    let after: Vec<_> = fs::read_dir(&cache)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (e.file_name(), e.metadata().unwrap().modified().unwrap())
        })
        .collect();
    assert_eq!(before, after, "nothing encoded again");
    assert_eq!(first, files(&site.path("dist")), "the same site");

    // A changed photo gets new names; the page follows.
    write_bytes(
        &site,
        "content/services/hairline.jpg",
        &plain_jpeg(500, 300),
    );
    let old = site.read("dist/services/peel/index.html");
    site.run(&["build"]).success();
    let new = site.read("dist/services/peel/index.html");
    assert_ne!(old, new);
    assert!(new.contains("width=\"500\" height=\"300\""), "{new}");
}

#[test]
fn a_rebuild_links_the_pages_that_show_photos_and_publishes_their_files() {
    let site = site_with_photos();
    site.run(&["build"]).success();
    site.change("content/about.md", "We are a team.", "We are a small team.");
    // Even with the processed photos to make again.
    fs::remove_dir_all(site.path(".cache/images")).unwrap();
    // The page with photos is linked, not rendered again: only about/ is.
    site.run(&["build"]).success().stderr_has("(1 rendered;");
    // Its photos' files are still published: the same site as a clean build.
    site.assert_same_as_clean_build();
    assert!(site
        .snapshot_dir("dist")
        .keys()
        .any(|name| name.starts_with("assets/img/hairline.") && name.ends_with(".avif")));
}

#[test]
fn a_photo_replaced_keeping_its_size_and_time_renders_the_pages_that_show_it() {
    let site = site_with_photos();
    site.run(&["build"]).success();
    let path = site.path("content/services/hairline.jpg");
    let before = fs::metadata(&path).unwrap();
    // Another photo of the same length (zeros after its end), its time set back, as a
    // backup restored over it would leave it: the site's fingerprint does not change.
    let mut other = plain_jpeg(500, 300);
    assert!(other.len() < before.len() as usize);
    other.resize(before.len() as usize, 0);
    fs::write(&path, &other).unwrap();
    fs::File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_modified(before.modified().unwrap())
        .unwrap();
    site.run(&["build"]).success();
    let html = site.read("dist/services/peel/index.html");
    assert!(html.contains("width=\"500\" height=\"300\""), "{html}");
    site.assert_same_as_clean_build();
}

#[test]
fn a_broken_photo_names_page_line_and_file_and_keeps_the_last_site() {
    let site = site_with_photos();
    site.run(&["build"]).success();
    let before = files(&site.path("dist"));
    // A JPEG cut off after its header, and a text file named like a photo.
    let mut cut = plain_jpeg(400, 300);
    cut.truncate(cut.len() / 3);
    write_bytes(&site, "content/services/cut.jpg", &cut);
    site.write("content/services/notes.jpg", "not a photo at all");
    site.change(
        "content/services/peel.md",
        "A light peel.\n",
        "A light peel.\n\n![Cut](cut.jpg)\n\n![Notes](notes.jpg)\n",
    );
    let run = site.run(&["build"]).failure(1);
    run.stderr_has("content/services/peel.md:12: ")
        .stderr_has("content/services/cut.jpg")
        .stderr_has("content/services/peel.md:14: ")
        .stderr_has("content/services/notes.jpg is not a readable JPEG, PNG or WebP image");
    assert_eq!(
        before,
        files(&site.path("dist")),
        "the previous site is untouched"
    );

    // A format browsers cannot show is named as such.
    site.write("content/services/notes.jpg", "");
    write_bytes(
        &site,
        "content/services/notes.jpg",
        b"\0\0\0\x18ftypheic\0\0\0\0mif1heic",
    );
    site.change("content/services/peel.md", "![Cut](cut.jpg)\n\n", "");
    site.run(&["build"]).failure(1).stderr_has(
        "content/services/peel.md:12: content/services/notes.jpg: HEIC images cannot be published",
    );
}

/// The lines of `image:` and `gallery:` are read from the page's file in the site, not
/// from a path relative to wherever the generator was started.
#[test]
fn a_photo_claiming_billions_of_pixels_is_refused_not_decoded() {
    let site = site_with_photos();
    // 300 bytes that would take 7.5 GB to decode.
    write_bytes(
        &site,
        "content/services/bomb.png",
        &png_claiming(50_000, 50_000),
    );
    site.change(
        "content/services/peel.md",
        "A light peel.\n",
        "A light peel.\n\n![Huge](bomb.png)\n",
    );
    for command in ["build", "check"] {
        site.run(&[command])
            .failure(1)
            .stderr_has("content/services/peel.md:12: ")
            .stderr_has(
                "content/services/bomb.png is 50000×50000 px, more than the 250 megapixels",
            );
    }
}

#[test]
fn front_matter_photo_lines_hold_when_built_from_another_folder() {
    let site = SiteTest::from_fixture("basic");
    write_bytes(&site, "content/services/wide.png", &plain_png(6100, 20));
    site.change(
        "content/services/peel.md",
        "order: 2\n",
        "order: 2\nimage: wide.png\nimage_alt: A very wide strip\n",
    );
    let elsewhere = tempfile::tempdir().unwrap();
    site.build_from(elsewhere.path())
        .success()
        .stderr_has("warning: content/services/peel.md:7: content/services/wide.png is");
    site.change(
        "content/services/peel.md",
        "image_alt: A very wide strip\n",
        "image_alt: A very wide strip\ngallery:\n  - image: gone.jpg\n    alt: A photo that is not there\n",
    );
    site.build_from(elsewhere.path()).failure(1).stderr_has(
        "content/services/peel.md:9: gallery photo /services/gone.jpg is not a file beside the page",
    );
}

#[test]
fn huge_photos_warn_svg_stays_and_missing_alt_is_an_error() {
    let site = SiteTest::from_fixture("basic");
    write_bytes(&site, "content/services/wide.png", &plain_png(6100, 20));
    site.change(
        "content/services/peel.md",
        "A light peel.\n",
        "A light peel.\n\n![A very wide strip](wide.png)\n\n![A door](../door.svg)\n",
    );
    site.run(&["build"])
        .success()
        .stderr_has("warning: content/services/peel.md:10: content/services/wide.png is")
        .stderr_has("6100×20 px");
    // Every build says it, the page rendered again rather than linked.
    site.run(&["build"])
        .success()
        .stderr_has("warning: content/services/peel.md:10: content/services/wide.png is");
    let html = site.read("dist/services/peel/index.html");
    assert!(
        html.contains("<img src=\"/door.svg\" alt=\"A door\""),
        "{html}"
    );
    assert_eq!(
        fs::read(site.path("dist/door.svg")).unwrap(),
        fs::read(site.path("content/door.svg")).unwrap(),
        "SVG is published as it is"
    );
    site.change("content/services/peel.md", "![A very wide strip]", "![]");
    site.run(&["check"])
        .failure(1)
        .stderr_has("content/services/peel.md:10:1: image `wide.png` has no alt text");
}

#[test]
fn decoded_dimensions_match_the_html() {
    // Guards the claim that width/height keep the layout still: the AVIF and WebP of
    // each width have that width and the photo's proportions.
    let site = site_with_photos();
    site.run(&["build"]).success();
    for (path, bytes) in files(&site.path("dist/assets/img")) {
        if path.ends_with(".webp") || path.ends_with(".jpg") || path.ends_with(".png") {
            let img = image::ImageReader::new(Cursor::new(&bytes))
                .with_guessed_format()
                .unwrap()
                .decode()
                .unwrap_or_else(|e| panic!("{path}: {e}"));
            let width: u32 = path.rsplit('.').nth(1).unwrap().parse().unwrap();
            assert_eq!(img.width(), width, "{path}");
        }
    }
}

/// A gallery's photos are fetched at a grid cell's width; a photo in the text at the
/// column's.
#[test]
fn gallery_photos_ask_for_a_cells_width() {
    let site = site_with_photos();
    write_bytes(&site, "content/services/after.jpg", &plain_jpeg(1200, 800));
    site.change(
        "content/services/peel.md",
        "A light peel.\n",
        "A light peel.\n\n![Before](hairline.jpg \"Before\") ![After](after.jpg \"After\")\n",
    );
    site.run(&["build"]).success();
    let html = site.read("dist/services/peel/index.html");
    let gallery = &html[html.find("<div class=\"gallery\">").expect("a gallery")..];
    let gallery = &gallery[..gallery.find("</div>").unwrap()];
    assert_eq!(gallery.matches("<picture>").count(), 2, "{gallery}");
    assert!(
        gallery.contains(r#"sizes="(min-width: 44rem) 21rem, calc(50vw - 1.5rem)""#),
        "{gallery}"
    );
    assert!(!gallery.contains("42rem"), "{gallery}");
    let outside = html.replace(gallery, "");
    assert!(
        outside.contains(r#"sizes="(min-width: 44rem) 42rem, calc(100vw - 2rem)""#),
        "the other photos keep the column's width"
    );
}
