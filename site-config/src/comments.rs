//! Published comments: the data file the form service writes (`form-service comments
//! export`) and the generator reads to show approved comments on service pages.
//!
//! Both programs use these types, so the file has one definition. The file holds only
//! what is public: no emails, no moderation state. Its order is the order shown (the
//! exporter sorts by page, then time posted, then id), and [`CommentsFile::to_json_pretty`]
//! gives the same bytes for the same comments, so an unchanged file rebuilds
//! byte-identical pages.

use std::collections::HashSet;
use std::fs;
use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::{Diagnostic, Diagnostics, Error};

/// The whole file: `{"comments": [...]}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommentsFile {
    /// Approved comments, in the order they are shown (oldest first within a page).
    pub comments: Vec<PublishedComment>,
}

/// One approved comment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublishedComment {
    /// Stable public id (letters, digits, `-` and `_`); the page's anchor is `comment-<id>`.
    pub id: String,
    /// Site path of the service page: `/services/scalp-micropigmentation/`.
    pub page: String,
    /// The display name the member chose (never their email).
    pub author: String,
    /// The day it was posted, `YYYY-MM-DD` in the clinic's time zone.
    pub posted: String,
    /// What the member wrote: a small, safe subset of Markdown.
    pub text: String,
    /// The clinic's public answer, shown under the comment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply: Option<ClinicReply>,
}

/// The clinic's reply to a comment, shown as the business's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClinicReply {
    /// The day it was written, `YYYY-MM-DD` in the clinic's time zone.
    pub posted: String,
    /// The reply: the same Markdown subset as comments.
    pub text: String,
}

impl CommentsFile {
    /// Reads the file at `path`. `Ok(None)` when there is no such file (a site that has
    /// no published comments yet); a file that cannot be read or is malformed is an error
    /// naming the file, and the line and column where known.
    pub fn load(path: &Path) -> Result<Option<CommentsFile>, Error> {
        match fs::read_to_string(path) {
            Ok(src) => Self::parse(&src, path).map(Some),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(Error::Io {
                path: path.to_path_buf(),
                source,
            }),
        }
    }

    /// Parses the file's text; `path` is used in messages only.
    pub fn parse(src: &str, path: &Path) -> Result<CommentsFile, Error> {
        let file: CommentsFile = serde_json::from_str(src).map_err(|e| {
            let full = e.to_string();
            let suffix = format!(" at line {} column {}", e.line(), e.column());
            let message = full.strip_suffix(&suffix).unwrap_or(&full);
            let mut d = Diagnostic::new(path, format!("comments file: {message}"));
            if e.line() > 0 {
                d = d.at(e.line(), e.column().max(1));
            }
            Error::Invalid(d.into())
        })?;
        let problems = file.check(src, path);
        if problems.is_empty() {
            Ok(file)
        } else {
            Err(Error::Invalid(problems))
        }
    }

    /// The file's bytes: pretty JSON with a final newline. The same comments in the same
    /// order always give the same bytes.
    pub fn to_json_pretty(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("plain strings serialise");
        s.push('\n');
        s
    }

    /// Writes the file atomically: into a temporary file beside it, flushed to disk, then
    /// renamed over `path`, so a reader never sees half a file. Creates the folder.
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        let dir = path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        fs::create_dir_all(dir)?;
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("comments");
        let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
        let result = (|| {
            // Readable by its owner only: it sits in the form service's private data
            // folder (the published site is built from it, not served from it).
            let mut open = fs::OpenOptions::new();
            open.write(true).create(true).truncate(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut open, 0o600);
            let mut f = open.open(&tmp)?;
            f.write_all(self.to_json_pretty().as_bytes())?;
            f.sync_all()?;
            fs::rename(&tmp, path)
        })();
        if result.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        result
    }

    /// Mistakes serde cannot see: ids that are unusable as anchors or repeated, pages
    /// that are not site paths, empty names or texts, dates that do not exist.
    fn check(&self, src: &str, path: &Path) -> Diagnostics {
        let mut problems = Diagnostics::default();
        let mut seen = HashSet::new();
        for (i, c) in self.comments.iter().enumerate() {
            let nth_id = seen.iter().filter(|s| **s == c.id.as_str()).count();
            let mut report = |message: String| {
                let mut d = Diagnostic::new(path, message);
                if let Some(line) = line_of_comment_id(src, &c.id, nth_id) {
                    d = d.at_line(line);
                }
                problems.push(d);
            };
            let who = if c.id.is_empty() {
                format!("comment {}", i + 1)
            } else {
                format!("comment `{}`", c.id)
            };
            if !is_public_id(&c.id) {
                report(format!(
                    "{who}: `id` must be 1 to 64 letters, digits, - or _ (it becomes the anchor #comment-<id>)"
                ));
            } else if !seen.insert(c.id.as_str()) {
                report(format!("{who}: the id is used by an earlier comment too"));
            }
            if !c.page.starts_with('/') {
                report(format!(
                    "{who}: `page` must be a site path starting with /, such as /services/smp/"
                ));
            }
            if c.author.trim().is_empty() {
                report(format!("{who}: `author` is empty"));
            }
            if c.text.trim().is_empty() {
                report(format!("{who}: `text` is empty"));
            }
            if !is_date(&c.posted) {
                report(format!(
                    "{who}: `posted` must be a date written YYYY-MM-DD, not `{}`",
                    c.posted
                ));
            }
            if let Some(r) = &c.reply {
                if !is_date(&r.posted) {
                    report(format!(
                        "{who}: the reply's `posted` must be a date written YYYY-MM-DD, not `{}`",
                        r.posted
                    ));
                }
                if r.text.trim().is_empty() {
                    report(format!("{who}: the reply's `text` is empty"));
                }
            }
        }
        problems
    }
}

/// True for an id that can go into an HTML `id` and a URL fragment as it is.
fn is_public_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// True for `YYYY-MM-DD` naming a day that exists.
pub(crate) fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        let part = &s[r];
        part.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| part.parse().ok())
            .flatten()
    };
    let (Some(y), Some(m), Some(d)) = (num(0..4), num(5..7), num(8..10)) else {
        return false;
    };
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&d)
}

/// 1-based line, in a comments file whose text is `src`, of the `nth` (0-based) comment
/// whose id is `id`: where it is the value of an `"id"` key, pretty or compact, else
/// where it appears as any JSON string. serde_json gives no positions for values it
/// accepted.
pub fn line_of_comment_id(src: &str, id: &str, nth: usize) -> Option<usize> {
    let quoted = serde_json::to_string(id).ok()?;
    let is_id = |at: usize| {
        src[..at]
            .trim_end()
            .strip_suffix(':')
            .is_some_and(|key| key.trim_end().ends_with("\"id\""))
    };
    let offset = src
        .match_indices(&quoted)
        .map(|(at, _)| at)
        .filter(|&at| is_id(at))
        .nth(nth)
        .or_else(|| src.match_indices(&quoted).nth(nth).map(|(at, _)| at))?;
    Some(crate::line_col(src, offset).0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_found_in_pretty_and_compact_json() {
        let src = "{\"comments\": [\n  {\n    \"id\": \"a\",\n    \"id\": \"b\"}]}";
        assert_eq!(line_of_comment_id(src, "b", 0), Some(4));
        assert_eq!(line_of_comment_id("{\"id\":\"x\"}", "x", 0), Some(1));
        assert_eq!(line_of_comment_id("{}", "x", 0), None);
        // The second comment with an id, and an id that is also some other value.
        let src = "[{\"id\": \"a\", \"text\": \"b\"},\n {\"id\": \"b\"},\n {\"id\": \"b\"}]";
        assert_eq!(line_of_comment_id(src, "b", 0), Some(2));
        assert_eq!(line_of_comment_id(src, "b", 1), Some(3));
    }

    fn sample() -> CommentsFile {
        CommentsFile {
            comments: vec![
                PublishedComment {
                    id: "k3x9m2".into(),
                    page: "/services/smp/".into(),
                    author: "Sam".into(),
                    posted: "2026-03-01".into(),
                    text: "Does it *hurt*?".into(),
                    reply: Some(ClinicReply {
                        posted: "2026-03-02".into(),
                        text: "Very little.".into(),
                    }),
                },
                PublishedComment {
                    id: "a1".into(),
                    page: "/services/peel/".into(),
                    author: "Ana".into(),
                    posted: "2024-02-29".into(),
                    text: "Lovely.".into(),
                    reply: None,
                },
            ],
        }
    }

    #[test]
    fn round_trips_with_stable_bytes() {
        let file = sample();
        let json = file.to_json_pretty();
        assert!(json.starts_with("{\n  \"comments\": [\n    {\n      \"id\": \"k3x9m2\","));
        assert!(json.ends_with("}\n"));
        assert!(!json.contains("null"), "an absent reply is left out");
        let back = CommentsFile::parse(&json, Path::new("comments.json")).unwrap();
        assert_eq!(back, file);
        assert_eq!(back.to_json_pretty(), json);
    }

    #[test]
    fn a_missing_file_is_none_and_save_writes_what_load_reads() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data/comments.json");
        assert_eq!(CommentsFile::load(&path).unwrap(), None);
        sample().save(&path).unwrap();
        assert_eq!(CommentsFile::load(&path).unwrap(), Some(sample()));
        assert_eq!(
            fs::read_dir(path.parent().unwrap()).unwrap().count(),
            1,
            "no temporary file left behind"
        );
    }

    #[test]
    fn syntax_errors_name_file_line_and_column() {
        let src = "{\"comments\": [\n  {\"id\": \"a\", \"page\": \"/s/\",\n   \"author\": \"A\" \"posted\": \"2026-01-01\"}\n]}";
        let d = CommentsFile::parse(src, Path::new("data/comments.json"))
            .unwrap_err()
            .into_diagnostics()
            .0
            .remove(0);
        assert_eq!((d.line, d.column), (Some(3), Some(18)), "{d}");
        assert!(
            d.to_string()
                .starts_with("data/comments.json:3:18: comments file: expected"),
            "{d}"
        );
    }

    #[test]
    fn unknown_fields_are_refused() {
        let src = r#"{"comments": [{"id": "a", "page": "/s/", "author": "A", "email": "a@b.c",
            "posted": "2026-01-01", "text": "t"}]}"#;
        let d = CommentsFile::parse(src, Path::new("c.json"))
            .unwrap_err()
            .to_string();
        assert!(d.contains("unknown field `email`"), "{d}");
        assert!(d.starts_with("c.json:1:"), "{d}");
    }

    #[test]
    fn bad_values_are_all_reported_at_their_comment() {
        let mut file = sample();
        file.comments[0].id = "a1".into();
        file.comments[1].posted = "2026-02-30".into();
        file.comments[1].page = "services/peel/".into();
        file.comments[0].reply.as_mut().unwrap().posted = "2 March".into();
        file.comments.push(PublishedComment {
            id: "<script>".into(),
            page: "/s/".into(),
            author: " ".into(),
            posted: "2026-01-01".into(),
            text: "".into(),
            reply: None,
        });
        let json = file.to_json_pretty();
        let text = CommentsFile::parse(&json, Path::new("c.json"))
            .unwrap_err()
            .to_string();
        for want in [
            "c.json:4: comment `a1`: the reply's `posted` must be a date written YYYY-MM-DD, not `2 March`",
            "c.json:15: comment `a1`: the id is used by an earlier comment too",
            "c.json:15: comment `a1`: `page` must be a site path",
            "c.json:15: comment `a1`: `posted` must be a date written YYYY-MM-DD, not `2026-02-30`",
            "comment `<script>`: `id` must be 1 to 64 letters",
            "comment `<script>`: `author` is empty",
            "comment `<script>`: `text` is empty",
        ] {
            assert!(text.contains(want), "missing {want:?} in\n{text}");
        }
    }

    #[test]
    fn dates_must_exist() {
        for good in ["2026-01-31", "2024-02-29", "2000-02-29", "2026-12-01"] {
            assert!(is_date(good), "{good}");
        }
        for bad in [
            "2026-02-29",
            "1900-02-29",
            "2026-13-01",
            "2026-00-10",
            "2026-1-01",
            "26-01-01",
            "2026/01/01",
            "2026-01-32",
            "+026-01-01",
            "2026-01-1 ",
        ] {
            assert!(!is_date(bad), "{bad}");
        }
    }
}
