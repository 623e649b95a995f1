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

#[test]
fn example_service_pages_stay_under_30_kb_with_css() {
    let out = build_example();
    let site = out.path().join("site");
    let css: u64 = std::fs::read_dir(site.join("assets"))
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.path().extension().is_some_and(|x| x == "css"))
        .map(|e| e.metadata().unwrap().len())
        .sum();
    for entry in std::fs::read_dir(site.join("services")).unwrap() {
        let page = entry.unwrap().path().join("index.html");
        if page.is_file() {
            let total = std::fs::metadata(&page).unwrap().len() + css;
            assert!(
                total < 30 * 1024,
                "{}: {total} bytes with CSS",
                page.display()
            );
        }
    }
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
