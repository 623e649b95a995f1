//! The `generator` binary: parses the command line, runs the command, and is the
//! one place that picks the exit status (0 success, 1 site problems or a failure, 2 usage).

use std::process::ExitCode;

use clap::Parser;
use generator::cli::{Cli, Command, NewCommand};
use generator::cmd;
use generator::serve::ServeOptions;
use generator::site::BuildOptions;
use generator::Error;

// A build allocates and frees millions of small values on every thread; with glibc's
// allocator a 10,000-page build held 400-590 MB of memory for under 100 MB in use,
// and spent a tenth of its time faulting pages in (issue 17).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's `mi_option_purge_delay` (the same index in its v2 and v3 headers; the
/// sys crate names no constant for it).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Keeps freed memory for reuse instead of handing it back to the kernel. A command
/// that runs once and exits gains nothing from returning memory, and by default a
/// 10,000-page build gave back and faulted in again the same pages: 0.25 to 0.5 s of
/// kernel time, about a tenth of its CPU (issue 17). `serve` keeps the default, so
/// that its memory falls back after a rebuild; so does a `MIMALLOC_PURGE_DELAY` set in
/// the environment.
#[allow(unsafe_code)]
fn keep_freed_memory() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_some() {
        return;
    }
    // SAFETY: sets a plain integer option; mimalloc reads options at every use.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1) };
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let writes = matches!(cli.command, Command::Build { .. });
    if !matches!(cli.command, Command::Serve { .. }) {
        keep_freed_memory();
    }
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            report(&e, writes);
            ExitCode::from(e.exit_code())
        }
    }
}

fn run(cli: Cli) -> Result<(), Error> {
    match cli.command {
        Command::Build {
            root,
            output,
            drafts,
            base_url,
            form_service_url,
            comments,
        } => cmd::build::run(
            &BuildOptions {
                root,
                drafts,
                base_url,
                form_service_url,
                comments,
                content_cache: true,
            },
            output.as_deref(),
        ),
        Command::Check {
            root,
            drafts,
            comments,
        } => cmd::check::run(&BuildOptions {
            root,
            drafts,
            comments,
            ..BuildOptions::default()
        }),
        Command::Serve {
            root,
            port,
            bind,
            drafts,
            comments,
        } => cmd::serve::run(ServeOptions {
            build: BuildOptions {
                root,
                drafts,
                comments,
                // Pages unchanged since the last build start from its content cache.
                content_cache: true,
                ..BuildOptions::default()
            },
            bind,
            port,
        }),
        Command::New {
            what: NewCommand::Service { title, root },
        } => {
            let path = cmd::new::service(&root, &title)?;
            eprintln!(
                "created {} (a draft: set `draft: false` to publish it)",
                path.display()
            );
            Ok(())
        }
        Command::Init { dir } => cmd::init::run(&dir),
        Command::PrepareSpare { root, output } => cmd::spare::run(&root, &output),
        Command::Schema { root } => {
            let dir = cmd::schema::run(&root)?;
            eprintln!("wrote the front matter schemas into {}", dir.display());
            Ok(())
        }
    }
}

fn report(e: &Error, writes: bool) {
    match e {
        Error::Site(problems) => {
            let problems = generator::templates::merge_repeats(problems);
            for d in &problems.0 {
                eprintln!("error: {d}");
            }
            let n = problems.len();
            let plural = if n == 1 { "" } else { "s" };
            if writes {
                eprintln!("{n} problem{plural} found; nothing was written");
            } else {
                eprintln!("{n} problem{plural} found");
            }
        }
        other => eprintln!("error: {other}"),
    }
}
