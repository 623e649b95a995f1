//! Front matter as editors write it, read field by field so that one run reports
//! every mistake in a file: an unknown key (with the closest known one), a missing
//! required field, and each value that cannot be read, each at its own line.
//!
//! Values that have a shape (duration, price, sessions) are checked while reading;
//! rules that span fields (an image needs its alt text) are checked in [`super::page`].

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use serde::de::DeserializeOwned;
use serde::{de, Deserialize, Deserializer, Serialize};
use serde_yaml::{Mapping, Value};
use site_config::Diagnostic;

use super::duration::Duration;
use super::fields::{fields_for, DURATION_FORMS};
use super::price::{Amount, PriceField};

/// Free values for themes.
pub type Extra = BTreeMap<String, serde_yaml::Value>;

/// The front matter of any page, as far as it could be read. A field that was
/// missing or unreadable is `None` (or its default), and the reason is among the
/// problems [`read_front`] returned with it.
#[derive(Debug, Default)]
pub(crate) struct Front {
    pub title: Option<String>,
    pub summary: Option<String>,
    pub duration: Option<Duration>,
    pub price: Option<PriceField>,
    pub price_from: Option<Amount>,
    pub currency: Option<site_config::Currency>,
    pub sessions: Option<Sessions>,
    pub faqs: Vec<FaqFront>,
    pub template: Option<String>,
    pub form: Option<String>,
    pub order: i64,
    pub draft: bool,
    pub slug: Option<String>,
    pub aliases: Vec<String>,
    pub image: Option<String>,
    pub image_alt: Option<String>,
    pub gallery: Vec<GalleryItem>,
    pub extra: Extra,
}

/// A photo of a page's gallery: the file, its description, and an optional caption.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct GalleryItem {
    pub image: String,
    pub alt: String,
    #[serde(default)]
    pub caption: Option<String>,
}

/// Reads front matter `yaml` (which starts on line `first_line` of `path`) for a
/// service page or another page. `None` only when the YAML itself cannot be read;
/// otherwise every field that could be read, and a problem for each that could not.
pub(crate) fn read_front(
    yaml: &str,
    path: &Path,
    first_line: usize,
    service: bool,
) -> (Option<Front>, Vec<Diagnostic>) {
    let map: Mapping = match site_config::from_yaml_located(yaml, path, first_line) {
        Ok(m) => m,
        Err(d) => return (None, vec![d]),
    };
    let mut r = Reader {
        path,
        yaml,
        first_line,
        map,
        problems: Vec::new(),
    };
    let known: Vec<&str> = fields_for(service).map(|f| f.name).collect();
    let unknown: Vec<String> = r
        .map
        .keys()
        .map(|k| match k {
            Value::String(s) => s.clone(),
            other => serde_yaml::to_string(other)
                .unwrap_or_default()
                .trim()
                .to_string(),
        })
        .filter(|k| !known.contains(&k.as_str()))
        .collect();
    let mut suggested = Vec::new();
    for key in unknown {
        let hint = match site_config::suggest(&key, known.iter().copied()) {
            Some(s) => {
                suggested.push(s);
                format!("did you mean `{s}`?")
            }
            None => format!("the fields of this kind of page: {}", known.join(", ")),
        };
        let line = line_of_key(r.yaml, r.first_line, &key);
        r.problems.push(
            Diagnostic::new(path, format!("unknown field `{key}`"))
                .at(line, 1)
                .with_hint(hint),
        );
    }
    for f in fields_for(service).filter(|f| f.required(service)) {
        match r.map.get(f.name) {
            // A misspelt key already says "did you mean" this field: once is enough.
            None if !suggested.contains(&f.name) => r.problems.push(
                Diagnostic::new(path, format!("missing field `{}`", f.name)).at(first_line, 1),
            ),
            // `title:` and nothing after it: YAML reads null.
            Some(v) if v.is_null() => {
                let line = line_of_key(r.yaml, r.first_line, f.name);
                r.problems.push(
                    Diagnostic::new(path, format!("{} is empty", f.name))
                        .at_line(line)
                        .with_hint(format!("write the page's {} after `{}:`", f.name, f.name)),
                );
            }
            _ => {}
        }
    }
    let mut front = Front {
        title: r.get("title"),
        summary: r.get("summary"),
        order: r.get("order").unwrap_or_default(),
        draft: r.get("draft").unwrap_or_default(),
        slug: r.get("slug"),
        aliases: r.get("aliases").unwrap_or_default(),
        image: r.get("image"),
        image_alt: r.get("image_alt"),
        gallery: r.get("gallery").unwrap_or_default(),
        extra: r.get("extra").unwrap_or_default(),
        ..Front::default()
    };
    if service {
        front.duration = r.get("duration");
        front.price = r.get("price");
        front.price_from = r.get("price_from");
        front.currency = r.get("currency");
        front.sessions = r.get("sessions");
        front.faqs = r.faqs();
    } else {
        front.template = r.get("template");
        front.form = r.get("form");
    }
    (Some(front), r.problems)
}

struct Reader<'a> {
    path: &'a Path,
    yaml: &'a str,
    first_line: usize,
    map: Mapping,
    problems: Vec<Diagnostic>,
}

impl Reader<'_> {
    /// The value of `key`, if present and readable; a problem if present and not.
    /// `null` counts as absent, as serde reads it for an `Option`.
    fn get<T: DeserializeOwned>(&mut self, key: &str) -> Option<T> {
        let value = self.map.get(key)?.clone();
        if value.is_null() {
            return serde_yaml::from_value(value).ok();
        }
        match serde_yaml::from_value(value) {
            Ok(v) => Some(v),
            Err(e) => {
                let line = line_of_key(self.yaml, self.first_line, key);
                let column = key_line(self.yaml, key)
                    .and_then(|i| self.yaml.lines().nth(i))
                    .map_or(1, |l| value_column(l, key));
                let mut d =
                    Diagnostic::new(self.path, value_message(key, &e.to_string())).at(line, column);
                if key == "duration" {
                    d = d.with_hint(format!("write it like {DURATION_FORMS}"));
                }
                self.problems.push(d);
                None
            }
        }
    }

    /// Each FAQ that reads, and a problem at the line of each that does not.
    fn faqs(&mut self) -> Vec<FaqFront> {
        let Some(value) = self.map.get("faqs").cloned() else {
            return Vec::new();
        };
        let Value::Sequence(items) = value else {
            if !value.is_null() {
                let line = line_of_key(self.yaml, self.first_line, "faqs");
                self.problems.push(
                    Diagnostic::new(
                        self.path,
                        "faqs should be a list of `- question: ...` with `answer: ...` under each",
                    )
                    .at_line(line),
                );
            }
            return Vec::new();
        };
        let mut faqs = Vec::with_capacity(items.len());
        let lines = faq_lines(self.yaml, items.len());
        for (i, item) in items.into_iter().enumerate() {
            let line = lines
                .get(i)
                .map_or(self.first_line, |l| l + self.first_line);
            match serde_yaml::from_value::<FaqFront>(item) {
                Ok(faq) => faqs.push(FaqFront { line, ..faq }),
                Err(e) => {
                    let message = e.to_string();
                    let mut d =
                        Diagnostic::new(self.path, format!("FAQ {}: {}", i + 1, plain(&message)))
                            .at_line(line);
                    if let Some(field) = unknown_field(&message) {
                        if let Some(s) = site_config::suggest(field, ["question", "answer"]) {
                            d = d.with_hint(format!("did you mean `{s}`?"));
                        }
                    }
                    self.problems.push(d);
                }
            }
        }
        faqs
    }
}

/// `key: message`, unless the message already starts by naming the field (our own
/// types say "price `-5` must be ..."), so no word is said twice.
fn value_message(key: &str, message: &str) -> String {
    let message = plain(message);
    if message.starts_with(key) {
        message
    } else {
        format!("{key}: {message}")
    }
}

/// serde's wording, in an editor's words; without its position, which is the key's.
fn plain(message: &str) -> String {
    let message = match message.find(" at line ") {
        Some(i) => &message[..i],
        None => message,
    };
    let mut m = message
        .replace("invalid type: sequence", "wrong kind of value: a list")
        .replace("invalid type: map", "wrong kind of value: a set of fields")
        .replace("invalid type: unit value", "no value")
        .replace("invalid type: ", "wrong kind of value: ")
        .replace(
            "expected a sequence",
            "expected a list (lines starting with `- `)",
        );
    if let Some(i) = m.find("expected struct ") {
        m.truncate(i);
        m.push_str("expected fields written as `name: value`, one per line");
    }
    if m.contains("unknown field") {
        if let Some(rest) = m.split(", expected").next() {
            return rest.to_string();
        }
    }
    m
}

fn unknown_field(message: &str) -> Option<&str> {
    let start = message.find("unknown field `")? + "unknown field `".len();
    let end = start + message[start..].find('`')?;
    Some(&message[start..end])
}

/// 1-based column where the value starts on the line of `key:` (1 when there is none).
fn value_column(line: &str, key: &str) -> usize {
    let after_key = line.get(key.len()..).unwrap_or("");
    let after_colon = after_key
        .trim_start()
        .strip_prefix(':')
        .unwrap_or(after_key);
    let value = after_colon.trim_start();
    if value.is_empty() {
        return 1;
    }
    line[..line.len() - value.len()].chars().count() + 1
}

/// 1-based line, in the file whose text is `src`, of a top-level `key:` of its front
/// matter.
pub(crate) fn file_key_line(src: &str, key: &str) -> Option<usize> {
    let split = site_config::split_front_matter(src)?;
    key_line(split.yaml, key).map(|i| i + split.yaml_line)
}

/// 1-based line of a top-level `key:` in the front matter of `source` (a page's file,
/// shown from `root`), read again: for problems found after the file was read.
pub(crate) fn key_line_in_file(root: &Path, source: &Path, key: &str) -> Option<usize> {
    let src = std::fs::read_to_string(root.join(source)).ok()?;
    file_key_line(&src, key)
}

/// 1-based line of the first line of `source`'s front matter (read again, like
/// [`key_line_in_file`]) that holds `needle` (an alias, `slug:`); else 1.
pub(crate) fn line_mentioning(root: &Path, source: &Path, needle: &str) -> usize {
    let src = std::fs::read_to_string(root.join(source)).unwrap_or_default();
    site_config::split_front_matter(&src)
        .and_then(|split| {
            let at = split.yaml.lines().position(|l| l.contains(needle))?;
            Some(at + split.yaml_line)
        })
        .unwrap_or(1)
}

/// 1-based line of a top-level `key:` in a file whose front matter `yaml` starts on
/// line `first_line`; that line when the key is absent.
pub(super) fn line_of_key(yaml: &str, first_line: usize, key: &str) -> usize {
    key_line(yaml, key).map_or(first_line, |i| i + first_line)
}

/// 0-based line (within the YAML) of a top-level `key:`.
pub(crate) fn key_line(yaml: &str, key: &str) -> Option<usize> {
    yaml.lines().position(|l| {
        l.strip_prefix(key)
            .is_some_and(|r| r.trim_start().starts_with(':'))
    })
}

/// 0-based lines (within the YAML) of the first `count` items under `faqs:`, in order.
fn faq_lines(yaml: &str, count: usize) -> Vec<usize> {
    let Some(start) = key_line(yaml, "faqs") else {
        return Vec::new();
    };
    yaml.lines()
        .enumerate()
        .skip(start + 1)
        .filter(|(_, l)| l.trim_start().starts_with("- "))
        .filter(|(_, l)| {
            let indent = l.len() - l.trim_start().len();
            indent <= 2
        })
        .map(|(n, _)| n)
        .take(count)
        .collect()
}

/// One question and its Markdown answer.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FaqFront {
    pub question: String,
    pub answer: String,
    /// Line of the item in the file (set after reading).
    #[serde(skip)]
    pub line: usize,
}

/// How many sessions a course takes: `3` or a range `2-3`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sessions {
    pub min: u32,
    pub max: u32,
}

impl Sessions {
    pub fn parse(s: &str) -> Result<Sessions, String> {
        let bad = || {
            format!("sessions `{s}` should be a number of sessions or a range, like `3` or `2-3`")
        };
        let t = s.trim();
        let (a, b) = match t.split_once(['-', '–']) {
            Some((a, b)) => (a.trim(), b.trim()),
            None => (t, t),
        };
        let min: u32 = a.parse().map_err(|_| bad())?;
        let max: u32 = b.parse().map_err(|_| bad())?;
        if min == 0 || max < min || max > 100 {
            return Err(bad());
        }
        Ok(Sessions { min, max })
    }
}

impl fmt::Display for Sessions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.min == self.max {
            write!(f, "{}", self.min)
        } else {
            write!(f, "{}–{}", self.min, self.max)
        }
    }
}

impl Serialize for Sessions {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Sessions {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl de::Visitor<'_> for V {
            type Value = Sessions;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number of sessions or a range like `2-3`")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Sessions, E> {
                Sessions::parse(v).map_err(E::custom)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Sessions, E> {
                Sessions::parse(&v.to_string()).map_err(E::custom)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Sessions, E> {
                Sessions::parse(&v.to_string()).map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_keys_line_in_the_file_is_in_its_front_matter() {
        let src = "---\ntitle: T\nimage : a.jpg\n---\ngallery: not a key here\n";
        assert_eq!(file_key_line(src, "image"), Some(3));
        assert_eq!(file_key_line(src, "title"), Some(2));
        assert_eq!(file_key_line(src, "gallery"), None);
        assert_eq!(
            file_key_line("\u{feff}---\r\nimage: a.jpg\r\n---\r\n", "image"),
            Some(2)
        );
    }

    #[test]
    fn sessions_forms() {
        assert_eq!(Sessions::parse("2-3").unwrap().to_string(), "2–3");
        assert_eq!(Sessions::parse("2 – 3").unwrap().to_string(), "2–3");
        assert_eq!(Sessions::parse("1").unwrap().to_string(), "1");
        let s: Sessions = serde_yaml::from_str("4").unwrap();
        assert_eq!(s, Sessions { min: 4, max: 4 });
        for bad in ["0", "3-2", "a few", "2-", ""] {
            assert!(Sessions::parse(bad).is_err(), "{bad}");
        }
    }

    fn read(yaml: &str, service: bool) -> Vec<String> {
        read_front(yaml, Path::new("a.md"), 2, service)
            .1
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn misspelt_fields_are_refused_with_a_hint() {
        let e = read("title: A\nsummary: s\ndurration: 1hr\n", true);
        assert!(
            e.contains(
                &"a.md:4:1: unknown field `durration`\n  help: did you mean `duration`?"
                    .to_string()
            ),
            "{e:?}"
        );
        let e = read("title: A\nduration: 1hr\n", false);
        assert!(e[0].contains("unknown field `duration`"), "{e:?}");
    }

    /// Issue 16, item 1: every mistake in a file's front matter in one run.
    #[test]
    fn every_field_problem_is_reported_at_its_line() {
        let e = read(
            "title: A\nsumary: s\nduration: 45\nprice: -5\nsessions: a few\nfaqs:\n  - question: Q\n    anwser: A\n",
            true,
        );
        let all = e.join("\n");
        assert!(all.contains("a.md:3:1: unknown field `sumary`"), "{all}");
        assert!(all.contains("help: did you mean `summary`?"), "{all}");
        assert!(
            !all.contains("missing field `summary`"),
            "said once, as a did-you-mean: {all}"
        );
        assert!(
            all.contains("a.md:4:11: duration `45` has no unit"),
            "{all}"
        );
        assert!(all.contains("a.md:5:8: price `-5` must be"), "{all}");
        assert!(all.contains("a.md:6:11: sessions `a few`"), "{all}");
        assert!(
            all.contains("a.md:8: FAQ 1: unknown field `anwser`"),
            "{all}"
        );
        assert!(all.contains("did you mean `answer`?"), "{all}");
        assert_eq!(e.len(), 5, "{all}");
    }

    /// Issue 16, item 4: no word said twice, and the accepted forms listed.
    #[test]
    fn messages_name_each_field_once() {
        let all = read("title: A\nsummary: s\nduration: soon\nprice: -5\n", true).join("\n");
        assert!(!all.contains("duration: duration"), "{all}");
        assert!(!all.contains("price: price"), "{all}");
        assert!(
            all.contains(
                "help: write it like `1hr`, `1 hr`, `45 min`, `1h 30m`, `90m` or `2 hours`"
            ),
            "{all}"
        );
        let all = read("title: [a]\n", false).join("\n");
        assert!(all.contains("title: wrong kind of value: a list"), "{all}");
    }
}
