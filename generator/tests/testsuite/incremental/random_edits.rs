//! Seeded random edits to the basic fixture, with builds killed part-way, builds run
//! side by side, sources edited while a build runs, and rebuilds started at once after a
//! first build (issue 17). After each step's last build:
//!
//! - it succeeded exactly when a clean build of the same sources does;
//! - when it succeeded, the output equals that clean build byte for byte, and every file
//!   whose bytes it did not change kept its inode and modification time;
//! - when it failed, the output is as it was, to the modification time.
//!
//! A failed edit (a broken link, a draft something links to) is then undone. Every edit
//! makes the files it changes longer or shorter: a file rewritten at the same size
//! within the file system's clock tick would be indistinguishable without reading it,
//! for this build as for rsync.
//!
//! `RANDOM_EDITS=<seed>:<steps>[,<seed>:<steps>…]` runs other sequences; a failure names
//! its seed and lists the steps that led to it. A seed replays the same edits, but where
//! a step races a build (killed, or edited while it runs) the moment it lands may differ.

use std::collections::BTreeMap;
use std::fs;
use std::path::PathBuf;
use std::process::ExitStatus;
use std::time::SystemTime;

use super::running::Running;
use crate::site_test::SiteTest;

/// Each file under a folder: its bytes, inode and modification time.
type Files = BTreeMap<String, (Vec<u8>, u64, SystemTime)>;

fn files(t: &SiteTest, rel: &str) -> Files {
    super::each_file(t, rel)
        .into_iter()
        .map(|(key, path, ino, modified)| (key, (fs::read(path).unwrap(), ino, modified)))
        .collect()
}

/// Whether two outputs hold the same files with the same bytes.
fn same_bytes(a: &Files, b: &Files) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|((n, f), (m, g))| n == m && f.0 == g.0)
}

/// The sources a build reads, by path: what a failed edit is undone to.
fn sources(t: &SiteTest) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut all = BTreeMap::new();
    for part in ["content", "themes", "templates", "static"] {
        for (_, path, _, _) in super::each_file(t, part) {
            let bytes = fs::read(&path).unwrap();
            all.insert(path, bytes);
        }
    }
    all.insert(t.path("site.yaml"), fs::read(t.path("site.yaml")).unwrap());
    all
}

/// Puts the sources back as `saved` holds them, writing only files that differ.
fn restore(t: &SiteTest, saved: &BTreeMap<PathBuf, Vec<u8>>) {
    for path in sources(t).keys() {
        if !saved.contains_key(path) {
            fs::remove_file(path).unwrap();
        }
    }
    for (path, bytes) in saved {
        if fs::read(path).ok().as_ref() != Some(bytes) {
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, bytes).unwrap();
        }
    }
}

/// How a step runs its builds.
#[derive(Debug, Clone, Copy)]
enum Mode {
    /// Edit, then build.
    Plain,
    /// Edit, start a build and kill it after some of its phases, then build.
    Killed(usize),
    /// Start a build, edit after some of its phases, let it end, then build.
    EditDuring(usize),
    /// Edit, run two builds side by side, then build.
    SideBySide,
    /// Build (into a new folder, if `fresh`), edit, and build again at once.
    AtOnce { fresh: bool },
}

/// What a step's builds before its last left in the output.
enum Left {
    /// A build killed part-way: the output before it (to the inode and time), or the
    /// new one, never a mix.
    Killed { before: Files, left: Files },
    /// Builds side by side: the new output when they succeeded, else the one before.
    SideBySide {
        before: Files,
        left: Files,
        succeeded: bool,
    },
}

impl Left {
    /// What is wrong with it, given the output a clean build makes (`None`: the sources
    /// have a problem, and no build may change the output).
    fn problem(&self, clean: Option<&Files>) -> Option<&'static str> {
        match (self, clean) {
            (Left::Killed { before, left }, Some(clean)) => (left != before
                && !same_bytes(left, clean))
            .then_some("a build killed part-way left a mix of outputs"),
            (
                Left::SideBySide {
                    left, succeeded, ..
                },
                Some(clean),
            ) => (!succeeded || !same_bytes(left, clean))
                .then_some("builds side by side did not leave the new output"),
            (
                Left::Killed { before, left }
                | Left::SideBySide {
                    before,
                    left,
                    succeeded: false,
                },
                None,
            ) => (left != before).then_some("a build of sources with a problem changed the output"),
            (Left::SideBySide { .. }, None) => {
                Some("builds side by side succeeded where a build fails")
            }
        }
    }
}

struct Sequence {
    rng: fastrand::Rng,
    t: SiteTest,
    seed: u64,
    step: usize,
    log: Vec<String>,
    /// Services this sequence added: the ones it may remove or rename without
    /// breaking a link.
    added: Vec<String>,
}

impl Sequence {
    fn new(seed: u64) -> Sequence {
        let t = SiteTest::from_fixture("basic");
        // Beyond forty services, forms no longer offer every one: a title edit renders
        // the two listings and little else, so the second renders with a copy of the
        // services.
        super::add_services(&t, 45);
        Sequence {
            rng: fastrand::Rng::with_seed(seed),
            t,
            seed,
            step: 0,
            log: Vec::new(),
            added: Vec::new(),
        }
    }

    #[track_caller]
    fn fail(&self, what: &str) -> ! {
        panic!(
            "RANDOM_EDITS={}:{}: step {}: {what}\nsteps:\n{}",
            self.seed,
            self.step + 1,
            self.step,
            self.log.join("\n")
        )
    }

    fn pick<T: Clone>(&mut self, from: &[T]) -> T {
        from[self.rng.usize(..from.len())].clone()
    }

    /// The files under `under` whose names end in `.ext`, relative to the site, sorted.
    fn files_under(&self, under: &str, ext: &str) -> Vec<String> {
        let mut all: Vec<String> = super::each_file(&self.t, under)
            .into_iter()
            .filter(|(_, path, _, _)| path.extension().is_some_and(|x| x == ext))
            .map(|(rel, _, _, _)| format!("{under}/{rel}"))
            .collect();
        all.sort();
        all
    }

    fn markdown(&self, under: &str) -> Vec<String> {
        self.files_under(under, "md")
    }

    fn services(&self) -> Vec<String> {
        let mut all = self.markdown("content/services");
        all.retain(|p| !p.ends_with("/_index.md"));
        all
    }

    /// Replaces the front matter line starting with `key` (or, with no such line,
    /// adds `line` after the first `---`).
    fn set_line(&self, rel: &str, key: &str, line: Option<&str>) {
        let text = self.t.read(rel);
        let mut lines: Vec<&str> = text.lines().collect();
        let at = lines.iter().position(|l| l.starts_with(key));
        match (at, line) {
            (Some(i), Some(new)) => lines[i] = new,
            (Some(i), None) => {
                lines.remove(i);
            }
            (None, Some(new)) => lines.insert(1, new),
            (None, None) => {}
        }
        self.t.write(rel, &(lines.join("\n") + "\n"));
    }

    /// Changes the sources; says what it did.
    fn edit_sources(&mut self) -> String {
        let n = self.step;
        match self.rng.u8(..12) {
            0..=2 => {
                let page = self.pick(&self.markdown("content"));
                let text = self.t.read(&page);
                self.t
                    .write(&page, &format!("{text}\nA sentence added in step {n}.\n"));
                format!("text of {page}")
            }
            3 => {
                let page = self.pick(&self.services());
                let text = self.t.read(&page);
                let title = text.lines().find(|l| l.starts_with("title: ")).unwrap();
                self.set_line(&page, "title: ", Some(&format!("{title} {n}")));
                format!("title of {page}")
            }
            4 => {
                let page = self.pick(&self.services());
                let has = self.t.read(&page).contains("\norder: ");
                let order = format!("order: {}", self.rng.u8(..5));
                self.set_line(&page, "order: ", (!has).then_some(order.as_str()));
                format!("order of {page}")
            }
            5 => {
                let page = self.pick(&self.services());
                let draft = self.t.read(&page).contains("\ndraft: true");
                self.set_line(&page, "draft: ", (!draft).then_some("draft: true"));
                format!("draft of {page}: {}", !draft)
            }
            6 => match self.rng.u8(..3) {
                0 if !self.added.is_empty() => {
                    let i = self.rng.usize(..self.added.len());
                    let gone = self.added.remove(i);
                    fs::remove_file(self.t.path(&gone)).unwrap();
                    format!("removed {gone}")
                }
                1 if !self.added.is_empty() => {
                    let i = self.rng.usize(..self.added.len());
                    let to = format!("content/services/moved-{n}.md");
                    fs::rename(self.t.path(&self.added[i]), self.t.path(&to)).unwrap();
                    let from = std::mem::replace(&mut self.added[i], to.clone());
                    format!("moved {from} to {to}")
                }
                _ => {
                    let page = format!("content/services/added-{n}.md");
                    let order = self.rng.u8(..5);
                    self.t.write(
                        &page,
                        &format!(
                            "---\ntitle: Treatment of step {n}\nsummary: Added in step {n}.\n\
                             duration: 20 min\norder: {order}\n---\nNew in step {n}.\n"
                        ),
                    );
                    self.added.push(page.clone());
                    format!("added {page}")
                }
            },
            7 => {
                let file = self.pick(&self.files_under("themes", "html"));
                let text = self.t.read(&file);
                self.t.write(&file, &format!("{text}{{# step {n} #}}\n"));
                format!("comment in {file}")
            }
            8 => {
                let base = "themes/default/templates/base.html";
                self.t
                    .change(base, "</body>", &format!("<!-- step {n} --></body>"));
                format!("markup in {base}")
            }
            9 => {
                let file = format!("static/note-{}.txt", self.rng.u8(..3));
                if self.t.path(&file).exists() && self.rng.bool() {
                    fs::remove_file(self.t.path(&file)).unwrap();
                    format!("removed {file}")
                } else {
                    // One byte longer each step: never the same size twice.
                    self.t.write(&file, &"x".repeat(n + 1));
                    format!("wrote {file}")
                }
            }
            10 => {
                let text = self.t.read("site.yaml");
                let line = text
                    .lines()
                    .find(|l| l.starts_with("description: "))
                    .unwrap();
                self.t.change("site.yaml", line, &format!("{line} {n}"));
                "description in site.yaml".into()
            }
            _ => {
                let page = self.pick(&self.markdown("content"));
                let text = self.t.read(&page);
                self.t
                    .write(&page, &format!("{text}\nSee [this](/gone-{n}/).\n"));
                format!("broken link in {page}")
            }
        }
    }

    /// Changes the output by hand, or removes it.
    fn edit_output(&mut self) -> String {
        let output = files(&self.t, "dist");
        if output.is_empty() || self.rng.u8(..4) == 0 {
            let _ = fs::remove_dir_all(self.t.path("dist"));
            return "removed dist".into();
        }
        // Pages mostly: the files a build decides most about.
        let mut names: Vec<String> = output.keys().cloned().collect();
        if self.rng.u8(..4) > 0 {
            names.retain(|n| n.ends_with("index.html"));
        }
        let file = format!("dist/{}", self.pick(&names));
        let how = if self.rng.u8(..3) > 0 {
            self.t.write(&file, "changed by hand");
            "changed"
        } else {
            fs::remove_file(self.t.path(&file)).unwrap();
            "removed"
        };
        self.t.write("dist/stray.txt", "left by hand");
        format!("{how} {file} by hand")
    }

    fn edit(&mut self, sources_only: bool) -> String {
        if !sources_only && self.rng.u8(..5) == 0 {
            self.edit_output()
        } else {
            self.edit_sources()
        }
    }

    fn run_step(&mut self) {
        let mode = match self.rng.u8(..20) {
            0..=9 => Mode::Plain,
            10..=12 => Mode::Killed(self.rng.usize(..16)),
            13..=15 => Mode::EditDuring(self.rng.usize(..16)),
            16..=17 => Mode::SideBySide,
            _ => Mode::AtOnce {
                fresh: self.rng.bool(),
            },
        };
        let saved = sources(&self.t);
        let added = self.added.clone();
        self.log.push(format!("{}: {mode:?}:", self.step));
        let mut left = None;
        match mode {
            Mode::Plain => self.edit_logged(false),
            Mode::Killed(after) => {
                self.edit_logged(false);
                let before = files(&self.t, "dist");
                let build = Running::start(&self.t);
                build.read_phases(after);
                build.kill();
                left = Some(Left::Killed {
                    before,
                    left: files(&self.t, "dist"),
                });
            }
            Mode::EditDuring(after) => {
                let build = Running::start(&self.t);
                build.read_phases(after);
                self.edit_logged(true);
                let (status, lines) = build.finish_status();
                self.ended_cleanly("the build the edit was made during", status, &lines);
            }
            Mode::SideBySide => {
                self.edit_logged(false);
                let before = files(&self.t, "dist");
                let (a, b) = (Running::start(&self.t), Running::start(&self.t));
                let (a, b) = (a.finish_status(), b.finish_status());
                self.ended_cleanly("a build side by side", a.0, &a.1);
                self.ended_cleanly("a build side by side", b.0, &b.1);
                if a.0.success() != b.0.success() {
                    self.fail(&format!("side by side, one build failed: {:?}", [a.1, b.1]));
                }
                left = Some(Left::SideBySide {
                    before,
                    left: files(&self.t, "dist"),
                    succeeded: a.0.success(),
                });
            }
            Mode::AtOnce { fresh } => {
                if fresh {
                    let _ = fs::remove_dir_all(self.t.path("dist"));
                }
                let first = self.t.build();
                if first.code != 0 {
                    self.fail(&format!("the first build failed: {}", first.stderr));
                }
                self.edit_logged(false);
            }
        }
        self.check_last_build(&saved, added, left);
    }

    fn edit_logged(&mut self, sources_only: bool) {
        let what = self.edit(sources_only);
        if let Some(last) = self.log.last_mut() {
            last.push(' ');
            last.push_str(&what);
        }
    }

    /// A build ended as builds end: done, or stopped by a problem it reported.
    fn ended_cleanly(&self, which: &str, status: ExitStatus, lines: &[String]) {
        if !matches!(status.code(), Some(0 | 1)) || lines.iter().any(|l| l.contains("panicked")) {
            self.fail(&format!("{which} ended with {status}: {lines:?}"));
        }
    }

    /// The step's last build, checked against a clean build of the same sources.
    fn check_last_build(
        &mut self,
        saved: &BTreeMap<PathBuf, Vec<u8>>,
        added: Vec<String>,
        left: Option<Left>,
    ) {
        let before = files(&self.t, "dist");
        let run = self.t.build();
        let clean = self.t.copy_of_sources();
        let clean_run = clean.build();
        match (run.code == 0, clean_run.code == 0) {
            (true, true) => {
                let after = files(&self.t, "dist");
                let clean = files(&clean, "dist");
                let names = |f: &Files| f.keys().cloned().collect::<Vec<_>>();
                if names(&after) != names(&clean) {
                    self.fail(&format!(
                        "files differ from a clean build's: {:?} and {:?}",
                        names(&after),
                        names(&clean)
                    ));
                }
                if let Some(problem) = left.as_ref().and_then(|l| l.problem(Some(&clean))) {
                    self.fail(problem);
                }
                for (name, (bytes, ino, modified)) in &after {
                    if *bytes != clean[name].0 {
                        self.fail(&format!("{name} differs from a clean build's"));
                    }
                    if let Some(was) = before.get(name).filter(|was| was.0 == *bytes) {
                        if (was.1, was.2) != (*ino, *modified) {
                            self.fail(&format!("{name} was rewritten with the same bytes"));
                        }
                    }
                }
            }
            (false, false) => {
                if files(&self.t, "dist") != before {
                    self.fail("a failed build changed the output");
                }
                if let Some(problem) = left.as_ref().and_then(|l| l.problem(None)) {
                    self.fail(problem);
                }
                self.log
                    .push("   failed, as a clean build does; undone".into());
                restore(&self.t, saved);
                self.added = added;
            }
            (ok, _) => self.fail(&format!(
                "the build {} but a clean build {}:\n{}\n{}",
                if ok { "succeeded" } else { "failed" },
                if ok { "failed" } else { "succeeded" },
                run.stderr,
                clean_run.stderr
            )),
        }
    }
}

fn run_sequence(seed: u64, steps: usize) {
    let mut s = Sequence::new(seed);
    s.t.build().success();
    for step in 0..steps {
        s.step = step;
        s.run_step();
    }
}

#[test]
fn random_edits_kills_and_builds_side_by_side_give_the_clean_builds_output() {
    let runs: Vec<(u64, usize)> = match std::env::var("RANDOM_EDITS") {
        Ok(spec) => spec
            .split(',')
            .map(|one| {
                let (seed, steps) = one.split_once(':').expect("RANDOM_EDITS=<seed>:<steps>");
                (seed.parse().unwrap(), steps.parse().unwrap())
            })
            .collect(),
        Err(_) => vec![(17, 80)],
    };
    for (seed, steps) in runs {
        run_sequence(seed, steps);
    }
}
