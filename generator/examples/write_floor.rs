//! The write floor for `bench/run` (issue 17): how fast this disk takes a built site
//! when nothing else is done. It reads every file of a built output into memory (not
//! timed), then, timed, creates the same folders and files with the same bytes into a
//! new folder on one thread, the simplest writer there is, and prints the seconds.
//!
//!     cargo run --release -p generator --example write_floor -- SRC DEST

use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

fn main() -> ExitCode {
    let args: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    let [src, dest] = args.as_slice() else {
        eprintln!("usage: write_floor SRC DEST (DEST must not exist)");
        return ExitCode::from(2);
    };
    match run(src, dest) {
        Ok(seconds) => {
            println!("{seconds:.4}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("write_floor: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(src: &Path, dest: &Path) -> std::io::Result<f64> {
    let mut folders = Vec::new();
    let mut files = Vec::new();
    for entry in walkdir::WalkDir::new(src).sort_by_file_name() {
        let entry = entry.map_err(std::io::Error::other)?;
        let rel = entry.path().strip_prefix(src).unwrap_or(entry.path());
        if entry.file_type().is_dir() {
            folders.push(dest.join(rel));
        } else {
            files.push((dest.join(rel), fs::read(entry.path())?));
        }
    }
    let started = Instant::now();
    write(&folders, &files)?;
    Ok(started.elapsed().as_secs_f64())
}

fn write(folders: &[PathBuf], files: &[(PathBuf, Vec<u8>)]) -> std::io::Result<()> {
    for dir in folders {
        fs::create_dir(dir)?;
    }
    for (path, bytes) in files {
        fs::write(Path::new(path), bytes)?;
    }
    Ok(())
}
