//! A fixture site in a temporary folder, and a runner for the `generator` binary.

use std::collections::BTreeMap;
use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

pub(crate) struct SiteTest {
    dir: tempfile::TempDir,
}

/// How a run ended and what it printed on stderr.
pub(crate) struct Run {
    pub(crate) code: i32,
    pub(crate) stderr: String,
}

impl Run {
    pub(crate) fn from(out: Output) -> Run {
        Run {
            code: out.status.code().unwrap_or(-1),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    #[track_caller]
    pub(crate) fn success(self) -> Run {
        assert_eq!(self.code, 0, "expected success; stderr:\n{}", self.stderr);
        self
    }

    #[track_caller]
    pub(crate) fn failure(self, code: i32) -> Run {
        assert_eq!(
            self.code, code,
            "expected exit {code}; stderr:\n{}",
            self.stderr
        );
        self
    }

    #[track_caller]
    pub(crate) fn stderr_has(self, needle: &str) -> Run {
        assert!(
            self.stderr.contains(needle),
            "stderr lacks {needle:?}:\n{}",
            self.stderr
        );
        self
    }
}

pub(crate) fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

pub(crate) fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_generator"))
}

fn copy_dir(from: &Path, to: &Path) {
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.unwrap();
        let rel = entry.path().strip_prefix(from).unwrap();
        let target = to.join(rel);
        if entry.file_type().is_dir() {
            fs::create_dir_all(&target).unwrap();
        } else {
            fs::copy(entry.path(), &target).unwrap();
        }
    }
}

impl SiteTest {
    /// A copy of `tests/fixtures/<name>` with the default theme.
    pub(crate) fn from_fixture(name: &str) -> SiteTest {
        let dir = tempfile::tempdir().unwrap();
        let fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name);
        copy_dir(&fixture, dir.path());
        copy_dir(
            &repo_root().join("themes/default"),
            &dir.path().join("themes/default"),
        );
        SiteTest { dir }
    }

    /// A clean copy of the example site as committed to git: the tracked files of
    /// `site.yaml`, `content/`, `themes/`, `templates/` and `static/` as staged (for a
    /// fresh clone, as committed), never the working tree's untracked drafts or the
    /// ignored `data/` (published comments) that would change what a test sees.
    pub(crate) fn example_site() -> SiteTest {
        let dir = tempfile::tempdir().unwrap();
        let repo = repo_root();
        let listed = Command::new("git")
            .args([
                "ls-files",
                "-z",
                "--",
                "site.yaml",
                "content",
                "themes",
                "templates",
                "static",
            ])
            .current_dir(&repo)
            .output();
        match listed {
            Ok(out) if out.status.success() && !out.stdout.is_empty() => {
                let prefix = format!("{}/", dir.path().display());
                let mut child = Command::new("git")
                    .args(["checkout-index", "-z", "--stdin", "--prefix"])
                    .arg(&prefix)
                    .current_dir(&repo)
                    .stdin(Stdio::piped())
                    .spawn()
                    .unwrap();
                use std::io::Write;
                child.stdin.take().unwrap().write_all(&out.stdout).unwrap();
                assert!(child.wait().unwrap().success(), "git checkout-index");
            }
            // Not a git checkout (a source archive): its files are the clean copy.
            _ => {
                for part in ["content", "themes", "templates", "static"] {
                    if repo.join(part).is_dir() {
                        copy_dir(&repo.join(part), &dir.path().join(part));
                    }
                }
                fs::copy(repo.join("site.yaml"), dir.path().join("site.yaml")).unwrap();
            }
        }
        SiteTest { dir }
    }

    /// A new site with a copy of this one's sources (`site.yaml`, `content/`,
    /// `themes/`, `templates/`, `static/`, `data/`) and nothing else: no output, record
    /// or cache.
    pub(crate) fn copy_of_sources(&self) -> SiteTest {
        let dir = tempfile::tempdir().unwrap();
        for part in ["content", "themes", "templates", "static", "data"] {
            if self.path(part).is_dir() {
                copy_dir(&self.path(part), &dir.path().join(part));
            }
        }
        fs::copy(self.path("site.yaml"), dir.path().join("site.yaml")).unwrap();
        SiteTest { dir }
    }

    pub(crate) fn root(&self) -> &Path {
        self.dir.path()
    }

    pub(crate) fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub(crate) fn write(&self, rel: &str, contents: &str) -> &Self {
        let p = self.path(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, contents).unwrap();
        self
    }

    pub(crate) fn read(&self, rel: &str) -> String {
        fs::read_to_string(self.path(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
    }

    /// Replaces `from` by `to` in a file; the text must be there.
    #[track_caller]
    pub(crate) fn change(&self, rel: &str, from: &str, to: &str) -> &Self {
        let text = self.read(rel);
        assert!(text.contains(from), "{rel} does not contain {from:?}");
        self.write(rel, &text.replacen(from, to, 1))
    }

    pub(crate) fn run(&self, args: &[&str]) -> Run {
        Run::from(bin().args(args).current_dir(self.root()).output().unwrap())
    }

    pub(crate) fn build(&self) -> Run {
        self.run(&["build"])
    }

    /// `generator build --root <this site>`, started in `cwd` rather than in the site.
    pub(crate) fn build_from(&self, cwd: &Path) -> Run {
        let out = bin()
            .arg("build")
            .arg("--root")
            .arg(self.root())
            .current_dir(cwd)
            .output()
            .unwrap();
        Run::from(out)
    }

    /// Asserts that `dist` equals a clean build of the site as it is now: no record of
    /// earlier builds, no content cache, no output to link from.
    #[track_caller]
    pub(crate) fn assert_same_as_clean_build(&self) {
        for old in [".cache/build", "clean", ".clean.spare"] {
            let _ = fs::remove_dir_all(self.path(old));
        }
        self.run(&["build", "--output", "clean"]).success();
        assert_eq!(
            self.snapshot_dir("dist"),
            self.snapshot_dir("clean"),
            "the rebuilt output differs from a clean build"
        );
    }

    /// Every file under `rel` with its bytes, for before/after comparisons.
    pub(crate) fn snapshot_dir(&self, rel: &str) -> BTreeMap<String, Vec<u8>> {
        let base = self.path(rel);
        walkdir::WalkDir::new(&base)
            .into_iter()
            .map(Result::unwrap)
            .filter(|e| e.file_type().is_file())
            .map(|e| {
                let key = e.path().strip_prefix(&base).unwrap().display().to_string();
                (key, fs::read(e.path()).unwrap())
            })
            .collect()
    }
}

/// A running `generator serve`, stopped with Ctrl-C (SIGINT) when dropped.
pub(crate) struct Server {
    child: Child,
    pub(crate) port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        use rustix::process::{kill_process, Pid, Signal};
        let _ = kill_process(Pid::from_child(&self.child), Signal::INT);
        // Bounded: a server that ignores Ctrl-C is killed rather than waited for forever.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while std::time::Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl SiteTest {
    /// Starts `generator serve` on a free port and returns once it listens.
    pub(crate) fn serve(&self) -> Server {
        let mut child = bin()
            .args(["serve", "--port", "0", "--root"])
            .arg(self.root())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let port = loop {
            let line = lines.next().expect("serve exited").unwrap();
            if let Some(rest) = line.strip_prefix("serving http://127.0.0.1:") {
                break rest.split('/').next().unwrap().parse().unwrap();
            }
        };
        // Keep draining stderr so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Server { child, port }
    }
}
