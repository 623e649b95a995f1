//! Phase timings on standard error when `GENERATOR_TIMINGS` is set: how `bench/run`'s
//! figures are taken apart when profiling (issue 17).

use std::sync::OnceLock;
use std::time::Instant;

/// Prints how long `what` took since `since`, when timings are asked for.
pub fn phase(what: &str, since: Instant) {
    static ON: OnceLock<bool> = OnceLock::new();
    if *ON.get_or_init(|| std::env::var_os("GENERATOR_TIMINGS").is_some()) {
        eprintln!("timing: {what} {} ms", since.elapsed().as_millis());
    }
}
