//! The clinic's own example site in the repository: it builds, passes `check`, keeps
//! service pages under the weight budget, and (where the Nu Html Checker is
//! installed, as CI does) produces valid HTML and CSS.

use std::process::Command;

use crate::site_test::{bin, repo_root};

fn build_example() -> tempfile::TempDir {
    let out = tempfile::tempdir().unwrap();
    let status = bin()
        .args(["build", "--root"])
        .arg(repo_root())
        .arg("--output")
        .arg(out.path().join("site"))
        .status()
        .unwrap();
    assert!(status.success());
    out
}

#[test]
fn example_site_passes_check() {
    let out = bin()
        .arg("check")
        .arg("--root")
        .arg(repo_root())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The bytes a phone downloads for `bytes` from a host that compresses (gzip -9).
fn gzipped(bytes: &[u8]) -> u64 {
    use std::io::Write;
    let mut child = Command::new("gzip")
        .args(["-9", "-c"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("gzip is installed");
    child.stdin.take().unwrap().write_all(bytes).unwrap();
    child.wait_with_output().unwrap().stdout.len() as u64
}

/// The 30 KB budget is what a phone downloads (HTML and CSS as hosts send them,
/// compressed): service pages carry their FAQs twice (as text and as FAQPage data) and
/// the booking and comment forms, and with photos they passed 30 KB uncompressed.
#[test]
fn example_service_pages_stay_under_30_kb_with_css() {
    let out = build_example();
    let site = out.path().join("site");
    let css: Vec<u8> = std::fs::read_dir(site.join("assets"))
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.path().extension().is_some_and(|x| x == "css"))
        .flat_map(|e| std::fs::read(e.path()).unwrap())
        .collect();
    for entry in std::fs::read_dir(site.join("services")).unwrap() {
        let page = entry.unwrap().path().join("index.html");
        if page.is_file() {
            let html = std::fs::read(&page).unwrap();
            let total = gzipped(&html) + gzipped(&css);
            assert!(
                total < 30 * 1024,
                "{}: {total} bytes with CSS, compressed",
                page.display()
            );
            // Uncompressed, a page stays within reason too.
            assert!(html.len() + css.len() < 40 * 1024, "{}", page.display());
        }
    }
}

/// The photos in a phone's first screen (the page's first, fetched early) weigh under
/// 100 KB in the formats phones take (AVIF, WebP), at the largest width offered.
#[test]
fn example_first_screen_photos_stay_under_100_kb() {
    let out = build_example();
    let site = out.path().join("site");
    let mut checked = 0;
    for page in ["index.html", "services/scalp-micropigmentation/index.html"] {
        let html = std::fs::read_to_string(site.join(page)).unwrap();
        let first = html.find("<picture>").expect("a photo on the page");
        let picture = &html[first..first + html[first..].find("</picture>").unwrap()];
        assert!(picture.contains("fetchpriority=\"high\""), "{picture}");
        for ext in [".avif", ".webp"] {
            let largest = picture
                .split(['"', ' ', ','])
                .filter(|p| p.starts_with("/assets/img/") && p.ends_with(ext))
                .map(|p| std::fs::metadata(site.join(&p[1..])).unwrap().len())
                .max()
                .unwrap();
            assert!(largest < 100 * 1024, "{page} {ext}: {largest} bytes");
            checked += 1;
        }
    }
    assert_eq!(checked, 4);
}

#[test]
fn example_site_html_is_valid() {
    let out = build_example();
    assert_valid_html_and_css(out.path());
}

/// Runs the Nu Html Checker over every HTML and CSS file under `dir`, failing with its
/// messages. Skipped (with a note) where vnu is not installed, except in CI.
pub(crate) fn assert_valid_html_and_css(dir: &std::path::Path) {
    let Ok(vnu) = which("vnu") else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must install the Nu Html Checker (vnu)"
        );
        eprintln!("skipped: vnu (Nu Html Checker) is not installed; .ci/run installs it");
        return;
    };
    let pages: Vec<_> = walkdir::WalkDir::new(dir)
        .into_iter()
        .map(Result::unwrap)
        .filter(|e| {
            e.path()
                .extension()
                .is_some_and(|x| x == "html" || x == "css")
        })
        .map(|e| e.into_path())
        .collect();
    assert!(pages.len() > 10);
    let (css, html): (Vec<_>, Vec<_>) = pages
        .iter()
        .partition(|p| p.extension().is_some_and(|x| x == "css"));
    for (kind, files) in [("--html", html), ("--css", css)] {
        let result = Command::new(&vnu)
            .args(["--errors-only", kind])
            .args(&files)
            .output()
            .unwrap();
        assert!(
            result.status.success(),
            "validation ({kind}) failed:\n{}{}",
            String::from_utf8_lossy(&result.stdout),
            String::from_utf8_lossy(&result.stderr)
        );
    }
}

fn which(name: &str) -> Result<std::path::PathBuf, ()> {
    let path = std::env::var_os("PATH").ok_or(())?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
        .ok_or(())
}
