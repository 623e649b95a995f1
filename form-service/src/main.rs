//! `form-service`: the command line. Parsing and exit codes live here; the work is in
//! the library so that tests can drive it the same way.

// The workspace denies unsafe code; only the generator binary sets one allocator
// option through FFI. Nothing here may.
#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // Everything the service writes (the database and its -wal/-shm, mail, backups, the
    // comments file, lock files) is readable by its own user only, whatever umask it was
    // started with (issue 13, item 6). The library also sets modes where it creates
    // files, for callers that are not this binary.
    #[cfg(unix)]
    rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o077));
    let cli = match form_service::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // clap prints help and version to stdout with success, usage mistakes to stderr.
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    form_service::cli::init_logging();
    match form_service::cmd::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("form-service: {e:#}");
            ExitCode::from(e.exit_code())
        }
    }
}
