//! Notes which test tools this machine lacks, so the tests that need them are marked
//! ignored with the reason and the install command, shown in the test run's own
//! output (`test ... ignored, needs ...`) rather than passing having checked nothing.
//! With `CI` set nothing is marked: a missing tool then fails its test.
//!
//! It also makes Cargo rebuild when the starter site or the default theme, which
//! `generator init` carries, change.

use std::path::Path;

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

fn main() {
    println!("cargo::rustc-check-cfg=cfg(missing_chromium)");
    println!("cargo::rustc-check-cfg=cfg(missing_vnu)");
    println!("cargo::rustc-check-cfg=cfg(missing_wrangler)");
    println!("cargo::rerun-if-env-changed=CI");
    println!("cargo::rerun-if-env-changed=PATH");
    // Installing a tool changes its folder: watch the folders (a path that does not
    // exist would make Cargo rebuild this crate on every run).
    println!("cargo::rerun-if-changed=/usr/bin");
    // `generator init` carries these inside the binary.
    println!("cargo::rerun-if-changed=starter");
    println!("cargo::rerun-if-changed=../themes/default");
    let ci = std::env::var_os("CI").is_some();
    if !ci && !Path::new(CHROMEDRIVER).exists() {
        println!("cargo::rustc-cfg=missing_chromium");
    }
    let path: Vec<_> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).filter(|d| d.is_dir()).collect())
        .unwrap_or_default();
    for dir in &path {
        println!("cargo::rerun-if-changed={}", dir.display());
    }
    if !ci && !path.iter().any(|d| d.join("vnu").is_file()) {
        println!("cargo::rustc-cfg=missing_vnu");
    }
    if !ci && !path.iter().any(|d| d.join("wrangler").is_file()) {
        println!("cargo::rustc-cfg=missing_wrangler");
    }
}
