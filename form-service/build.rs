//! Notes whether this machine lacks chromedriver, so the browser tests are marked
//! ignored with the reason and the install command, shown in the test run's own output
//! (`test ... ignored, needs ...`) rather than passing having checked nothing. With
//! `CI` set nothing is marked: a missing chromedriver then fails its test.

use std::path::Path;

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

fn main() {
    println!("cargo::rustc-check-cfg=cfg(missing_chromium)");
    println!("cargo::rerun-if-env-changed=CI");
    // Installing chromedriver changes its folder: watch the folder (a path that does
    // not exist would make Cargo rebuild this crate on every run).
    println!("cargo::rerun-if-changed=/usr/bin");
    if std::env::var_os("CI").is_none() && !Path::new(CHROMEDRIVER).exists() {
        println!("cargo::rustc-cfg=missing_chromium");
    }
}
