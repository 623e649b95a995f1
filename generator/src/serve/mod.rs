//! `generator serve`: builds into memory, serves it on the address asked for
//! (`--bind`, 127.0.0.1 unless told), rebuilds what a change affects, and tells open
//! tabs to reload.
//!
//! Small parts, each tested alone: [`watch`] turns file events into changes,
//! [`rebuild`] turns changes into a new preview, [`server`] serves it, [`reload`]
//! announces rebuilds, [`overlay`] shows problems in the page.

pub mod overlay;
pub mod rebuild;
pub mod reload;
pub mod server;
pub mod watch;

use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::sync::{mpsc, Arc, RwLock};
use std::time::{Duration, Instant};

use notify::{RecursiveMode, Watcher};

use crate::site::BuildOptions;
use crate::{Error, ServeStep};
use rebuild::Preview;
use server::Shared;
use watch::{classify, collect_batch, comments_change, Change, Pace, Touched};

/// Everything `serve` needs.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// How to build the site.
    pub build: BuildOptions,
    /// Address to listen on.
    pub bind: IpAddr,
    /// Port (0 picks a free one).
    pub port: u16,
}

/// How long a save may keep producing events before we rebuild: editors that write a
/// temp file and rename it produce several within a few milliseconds. A file closed
/// after writing ends most saves, and what may follow (the rename) comes at once.
const PACE: Pace = Pace {
    quiet: Duration::from_millis(15),
    settled: Duration::from_millis(3),
    max: Duration::from_millis(150),
};
/// Pages rendered between two looks for a change, at most, and for about how long: a
/// save waits for at most one batch.
const FILL_BATCH: usize = 128;
const FILL_BUDGET: Duration = Duration::from_millis(5);

/// Runs the preview until Ctrl-C. Deletes nothing.
pub fn run(mut opts: ServeOptions) -> Result<(), Error> {
    let started = Instant::now();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|source| Error::Serve {
            step: ServeStep::Start,
            source,
        })?;
    let wanted = SocketAddr::new(opts.bind, opts.port);
    let listen = |source| Error::Serve {
        step: ServeStep::Listen(wanted),
        source,
    };
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind(wanted))
        .map_err(listen)?;
    let addr = listener.local_addr().map_err(listen)?;
    let host = if addr.ip().is_unspecified() {
        "127.0.0.1".to_string()
    } else {
        addr.ip().to_string()
    };
    let shown_host = if host.contains(':') {
        format!("[{host}]")
    } else {
        host
    };
    // Links in the preview must stay on the preview server.
    opts.build.base_url = Some(format!("http://{shown_host}:{}", addr.port()));

    let preview = Preview::start(opts.build.clone());
    report(&preview, started, "loaded");
    let shared = Arc::new(Shared {
        preview: RwLock::new(preview),
        events: reload::channel(),
    });
    encode_photos_behind(&shared);

    let (tx, rx) = mpsc::channel::<Touched>();
    let root = std::path::absolute(&opts.build.root).map_err(|e| Error::io(&opts.build.root, e))?;
    let mut watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
        if let Ok(event) = &res {
            for touched in Touched::of(event) {
                let _ = tx.send(touched);
            }
        }
    })
    .map_err(|e| Error::Serve {
        step: ServeStep::Watch(root.clone()),
        source: std::io::Error::other(e),
    })?;
    watch_dirs(&mut watcher, &root, &theme_of(&shared));
    // The comments file is written by the form service, usually into data/ beside the
    // database: watch its folder alone, not recursively.
    let comments = crate::site::comments_file(&opts.build);
    let comments = std::path::absolute(&comments).map_err(|e| Error::io(&comments, e))?;
    let comments_dir = comments.parent().map(Path::to_path_buf);
    if let Some(dir) = comments_dir.as_deref().filter(|d| d.is_dir()) {
        let _ = watcher.watch(dir, RecursiveMode::NonRecursive);
    }

    let loop_shared = shared.clone();
    let loop_root = root.clone();
    std::thread::spawn(move || {
        let mut waiting = None;
        loop {
            // Render the pages not rendered yet, a batch at a time, as long as no
            // change is waiting: a save is handled first, and the rest after it.
            let filled = Instant::now();
            let mut rendered_any = false;
            while waiting.is_none() {
                let batch = loop_shared
                    .preview
                    .read()
                    .unwrap_or_else(|e| e.into_inner())
                    .render_batch(FILL_BATCH, FILL_BUDGET);
                let Some(batch) = batch else { break };
                rendered_any = true;
                let update = loop_shared
                    .preview
                    .write()
                    .unwrap_or_else(|e| e.into_inner())
                    .keep(batch);
                if let Some(message) = reload::message_for(&update) {
                    let _ = loop_shared.events.send(message);
                }
                waiting = rx.try_recv().ok();
            }
            if rendered_any && waiting.is_none() {
                let preview = loop_shared
                    .preview
                    .read()
                    .unwrap_or_else(|e| e.into_inner());
                report(&preview, filled, "rendered every page");
                drop(preview);
                encode_photos_behind(&loop_shared);
            }
            let Some(paths) = collect_batch(&rx, waiting.take(), PACE) else {
                break;
            };
            let started = Instant::now();
            let theme = theme_of(&loop_shared);
            let mut changes: Vec<Change> = paths
                .iter()
                .filter_map(|p| {
                    comments_change(&comments, p).or_else(|| classify(&loop_root, &theme, p))
                })
                .collect();
            changes.sort();
            changes.dedup();
            if changes.is_empty() {
                continue;
            }
            if changes.contains(&Change::Config) {
                watch_dirs(&mut watcher, &loop_root, &theme);
            }
            if changes.contains(&Change::Comments) {
                // The folder may have just been created.
                if let Some(dir) = comments_dir.as_deref().filter(|d| d.is_dir()) {
                    let _ = watcher.watch(dir, RecursiveMode::NonRecursive);
                }
            }
            let update = {
                let mut preview = loop_shared
                    .preview
                    .write()
                    .unwrap_or_else(|e| e.into_inner());
                let update = preview.apply(&changes);
                report(&preview, started, "rebuilt");
                update
            };
            if let Some(message) = reload::message_for(&update) {
                let _ = loop_shared.events.send(message);
            }
            encode_photos_behind(&loop_shared);
        }
    });

    eprintln!(
        "serving http://{shown_host}:{}/ (rebuilds on change; Ctrl-C to stop)",
        addr.port()
    );
    // On Ctrl-C, stop at once: open tabs hold event streams that never end, so a
    // graceful shutdown would wait for ever. Nothing is written, so nothing is lost.
    runtime.block_on(async move {
        tokio::select! {
            served = axum::serve(listener, server::app(shared)) => {
                served.map_err(|source| Error::Serve {
                    step: ServeStep::Serving,
                    source,
                })
            }
            _ = tokio::signal::ctrl_c() => {
                eprintln!("stopped");
                Ok(())
            }
        }
    })
}

/// Encodes the photos the preview shows but the cache lacks, on a thread of its own, so
/// a text edit is never held up behind photo work; open tabs reload when they are ready.
/// Until then the page is there, with its photos' places kept by their sizes.
fn encode_photos_behind(shared: &Arc<Shared>) {
    let work = {
        let preview = shared.preview.read().unwrap_or_else(|e| e.into_inner());
        preview.site.as_ref().map(|s| s.pending_photos())
    };
    let Some((photos, todo)) = work.filter(|(_, todo)| !todo.is_empty()) else {
        return;
    };
    let shared = shared.clone();
    std::thread::spawn(move || {
        let started = Instant::now();
        let problems = photos.encode(&todo);
        for d in &problems {
            eprintln!("error: {d}");
        }
        eprintln!(
            "encoded {} photo(s) in {} ms",
            todo.len(),
            started.elapsed().as_millis()
        );
        let update = rebuild::Update::Everything;
        if let Some(message) = reload::message_for(&update) {
            let _ = shared.events.send(message);
        }
    });
}

fn theme_of(shared: &Shared) -> String {
    let preview = shared.preview.read().unwrap_or_else(|e| e.into_inner());
    preview
        .site
        .as_ref()
        .map_or_else(|| "default".to_string(), |s| s.config.theme.clone())
}

fn watch_dirs(watcher: &mut impl Watcher, root: &Path, theme: &str) {
    // The root itself non-recursively: editors that replace site.yaml on save, and
    // templates/ or static/ appearing later. Not recursively: dist/ and target/ churn.
    let _ = watcher.watch(root, RecursiveMode::NonRecursive);
    for dir in ["content", "templates", "static"]
        .map(|d| root.join(d))
        .into_iter()
        .chain([root.join("themes").join(theme)])
    {
        if dir.is_dir() {
            let _ = watcher.watch(&dir, RecursiveMode::Recursive);
        }
    }
}

fn report(preview: &Preview, started: Instant, what: &str) {
    let problems = preview.problems();
    if problems.is_empty() {
        eprintln!("{what} in {} ms", started.elapsed().as_millis());
    } else {
        for d in &problems.0 {
            eprintln!("error: {d}");
        }
        let n = problems.len();
        let count = if n == 1 {
            "1 problem".to_string()
        } else {
            format!("{n} problems")
        };
        if preview.site.is_some() {
            eprintln!("{count}; still serving the last good site");
        } else {
            eprintln!("{count}; nothing to serve until they are fixed (each page shows them)");
        }
    }
}
