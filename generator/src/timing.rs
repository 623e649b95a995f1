//! Phase timings on standard error when `GENERATOR_TIMINGS` is set: how `bench/run`'s
//! figures are taken apart when profiling (issue 17). Where the system tells, each line
//! also gives the memory in use and the peak so far.

use std::sync::OnceLock;
use std::time::Instant;

/// Prints how long `what` took since `since`, when timings are asked for.
pub fn phase(what: &str, since: Instant) {
    static ON: OnceLock<bool> = OnceLock::new();
    if *ON.get_or_init(|| std::env::var_os("GENERATOR_TIMINGS").is_some()) {
        eprintln!(
            "timing: {what} {} ms{}",
            since.elapsed().as_millis(),
            memory()
        );
    }
}

/// ` (RSS now 120 MB, peak 480 MB)` on Linux; nothing elsewhere.
fn memory() -> String {
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else {
        return String::new();
    };
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches(" kB").parse::<u64>().ok())
            .map_or(0, |kb| kb / 1024)
    };
    format!(
        " (RSS now {} MB, peak {} MB)",
        field("VmRSS:"),
        field("VmHWM:")
    )
}
