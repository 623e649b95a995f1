//! YAML into typed values, with serde_yaml's errors turned into [`Diagnostic`]s.
//!
//! serde_yaml reports positions inside the text it was given; callers that cut YAML
//! out of a larger file (front matter) pass the line it started on so the position
//! points into the real file.

use std::path::Path;

use serde::de::DeserializeOwned;

use crate::Diagnostic;

/// Parses `src` as YAML into `T`, or describes the first mistake.
///
/// `first_line` is the 1-based line of `src`'s first line within `path`. An unknown
/// field gets a "did you mean" hint naming the closest field serde expected.
pub fn from_yaml_located<T: DeserializeOwned>(
    src: &str,
    path: &Path,
    first_line: usize,
) -> Result<T, Diagnostic> {
    serde_yaml::from_str(src).map_err(|e| to_diagnostic(&e, src, path, first_line))
}

/// What [`from_yaml_located_all`] read: the value, when one could be read with the
/// mistaken keys set aside, every mistake found, and the lines set aside.
#[derive(Debug)]
pub struct ReadAll<T> {
    /// `src` read without the keys whose values could not be read; `None` when even
    /// that could not be (a YAML syntax error, a required key missing or set aside).
    pub value: Option<T>,
    /// Each mistake, in the order found.
    pub problems: Vec<Diagnostic>,
    /// The lines of `path` (as the diagnostics count them) that were set aside: a later
    /// check of the value must not report these keys again as missing or empty.
    pub set_aside: Vec<usize>,
}

/// [`from_yaml_located`] that goes on past a key whose value cannot be read (an unknown
/// key, a value of the wrong type): that key's lines are blanked, so that later lines
/// keep their numbers, and the text is read again. So one run names every such mistake,
/// as `check` promises, instead of one per run.
pub fn from_yaml_located_all<T: DeserializeOwned>(
    src: &str,
    path: &Path,
    first_line: usize,
) -> ReadAll<T> {
    let mut lines: Vec<String> = src.lines().map(str::to_string).collect();
    let mut text = src.to_string();
    let mut problems: Vec<Diagnostic> = Vec::new();
    let mut set_aside: Vec<usize> = Vec::new();
    // Keys set aside, and the names their did-you-mean offered: a required key missing
    // under one of these names is the same mistake, already named.
    let mut named: Vec<String> = Vec::new();
    // Each round blanks at least one line that was not blank: it ends.
    loop {
        let e = match serde_yaml::from_str::<T>(&text) {
            Ok(value) => {
                return ReadAll {
                    value: Some(value),
                    problems,
                    set_aside,
                }
            }
            Err(e) => e,
        };
        let d = to_diagnostic(&e, &text, path, first_line);
        let missing = d
            .message
            .split("missing field `")
            .nth(1)
            .and_then(|r| r.split('`').next())
            .map(str::to_string);
        // Already named (the same message again means setting aside did not help).
        if missing.as_ref().is_some_and(|k| named.contains(k))
            || problems.iter().any(|p| p.message == d.message)
        {
            break;
        }
        let at = key_line(&e, &text, &d).and_then(|l| l.checked_sub(first_line));
        if let Some(hint) = &d.hint {
            if let Some(name) = hint
                .strip_prefix("did you mean `")
                .and_then(|r| r.split('`').next())
            {
                named.push(name.to_string());
            }
        }
        problems.push(d);
        // A mistake in the YAML itself (not in what a key holds) leaves nothing
        // certain to read on from.
        let fixable = missing.is_none() && serde_yaml::from_str::<serde_yaml::Value>(&text).is_ok();
        let Some(at) = at.filter(|_| fixable) else {
            break;
        };
        let mut blanked = lines.clone();
        let Some(key) = set_aside_key(&mut blanked, at) else {
            break;
        };
        let next = blanked.join("\n");
        // Setting the key aside must leave YAML that still reads, or what follows
        // would be mistakes of our own making.
        if serde_yaml::from_str::<serde_yaml::Value>(&next).is_err() {
            break;
        }
        lines = blanked;
        named.push(key);
        set_aside.push(at + first_line);
        text = next;
    }
    ReadAll {
        value: None,
        problems,
        set_aside,
    }
}

/// The line (as the diagnostics count) of the key a mistake is about: the one
/// serde_yaml names (`form_service.outbox_retry_hours: invalid type ...`), found in the
/// text, rather than where the parser was when it gave up (the next key, for an empty
/// value); an unknown key is where serde_yaml says.
fn key_line(e: &serde_yaml::Error, text: &str, d: &Diagnostic) -> Option<usize> {
    let full = e.to_string();
    if full.contains("unknown field") {
        return d.line;
    }
    let named = full
        .split_once(": ")
        .map(|(p, _)| p)
        .filter(|p| !p.contains(' ') && !p.contains('[') && !p.is_empty());
    match named {
        Some(p) => {
            let keys: Vec<&str> = p.split('.').collect();
            crate::locate_key(text, &keys).map(|(l, _)| l).or(d.line)
        }
        None => d.line,
    }
}

/// Blanks the key on line `at` (0-based) and the lines of its value below it; a key
/// that opens a list item (`- key: value`) keeps its dash. The key's name, or `None`
/// when the line holds no key to set aside.
fn set_aside_key(lines: &mut [String], at: usize) -> Option<String> {
    let line = lines.get(at)?;
    let indent = line.len() - line.trim_start().len();
    let rest = &line[indent..];
    let (dash, body) = match rest.strip_prefix("- ") {
        Some(b) => (true, b.trim_start()),
        None => (false, rest),
    };
    let key = body.split_once(':')?.0.trim().trim_matches(['"', '\'']);
    if key.is_empty() || key.starts_with('#') {
        return None;
    }
    let key = key.to_string();
    // The column the key's own value lines are deeper than.
    let key_col = if dash {
        line.len() - body.len()
    } else {
        indent
    };
    lines[at] = if dash {
        format!("{}-", &line[..indent])
    } else {
        String::new()
    };
    // A list may sit at the key's own indent (`menu:` then `- title: ...`): its items
    // are the value too, as the first line below the key shows.
    let mut compact_list: Option<bool> = None;
    for l in lines.iter_mut().skip(at + 1) {
        let trimmed = l.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let indent = l.len() - trimmed.len();
        let item = trimmed == "-" || trimmed.starts_with("- ");
        let compact = *compact_list.get_or_insert(!dash && indent == key_col && item);
        if indent < key_col || indent == key_col && !(compact && item) {
            break;
        }
        l.clear();
    }
    Some(key)
}

fn to_diagnostic(e: &serde_yaml::Error, src: &str, path: &Path, first_line: usize) -> Diagnostic {
    let full = e.to_string();
    let mut message = full.clone();
    let mut diag_pos = None;
    if let Some(loc) = e.location() {
        // The parser's own positions count from the front matter's first line, and
        // "while scanning ... at line 12" adds a second: the diagnostic's is the file's.
        if let Some(i) = full.find(" at line ") {
            message = full[..i].to_string();
        }
        diag_pos = Some((loc.line() + first_line - 1, loc.column()));
    }
    // A repeated key is reported where its mapping starts; point at the repeat.
    if let Some(key) = message
        .strip_prefix("duplicate field `")
        .or_else(|| message.split(": duplicate field `").nth(1))
        .and_then(|r| r.split('`').next())
        .or_else(|| {
            // Read into a map: `duplicate entry with key "price"`.
            message
                .split("duplicate entry with key \"")
                .nth(1)
                .and_then(|r| r.split('"').next())
        })
    {
        let starts = |l: &&str| {
            l.trim_start()
                .strip_prefix(key)
                .is_some_and(|r| r.trim_start().starts_with(':'))
        };
        if let Some(i) = src
            .lines()
            .enumerate()
            .filter(|(_, l)| starts(l))
            .nth(1)
            .map(|(i, _)| i)
        {
            diag_pos = Some((i + first_line, 1));
        }
    } else if !message.contains("unknown field") {
        // Errors from converting a value come back placed at the start of the enclosing
        // mapping (or the document); look for the quoted value from there on.
        let from = diag_pos.map_or(1, |(line, _)| line + 1 - first_line);
        if let Some((l, c)) = quoted_value_position(&message, src, from) {
            diag_pos = Some((l + first_line - 1, c));
        }
    }
    let hint = unknown_field_hint(&message).or_else(|| syntax_hint(&full));
    let message = plain_words(&message);
    let mut d = Diagnostic::new(path, message);
    if let Some((line, col)) = diag_pos {
        d = d.at(line, col);
    } else {
        d = d.at_line(first_line);
    }
    if let Some(h) = hint {
        d = d.with_hint(h);
    }
    d
}

/// serde_yaml gives no position for errors raised while converting a value (our
/// checked types); they quote the offending value in backticks, so find where it is.
fn quoted_value_position(message: &str, src: &str, from_line: usize) -> Option<(usize, usize)> {
    let start = message.find('`')? + 1;
    let value = &message[start..start + message[start..].find('`')?];
    if value.is_empty() {
        return None;
    }
    src.lines()
        .enumerate()
        .skip(from_line.saturating_sub(1))
        .find_map(|(i, line)| {
            let (_, after_colon) = line.split_once(':')?;
            let at = after_colon.find(value)?;
            let col = line.len() - after_colon.len() + at;
            Some((i + 1, line[..col].chars().count() + 1))
        })
}

/// What to do about the YAML mistakes editors make most, by what the parser says.
fn syntax_hint(message: &str) -> Option<String> {
    let hint = if message.contains("mapping values are not allowed") {
        "text with `: ` in it needs quotes around it: summary: \"Before: a consultation\""
    } else if message.contains("tab character") {
        "indent with spaces, not tabs"
    } else if message.contains("cannot start any token") {
        "a line cannot start with a tab (indent with spaces), and text starting with `@`, `%` or a backtick needs quotes around it"
    } else if message.contains("expected a boolean") {
        "write `true` or `false`"
    } else if message.contains("quoted scalar") {
        "a quote opened on or above this line is not closed"
    } else if message.contains("did not find expected key")
        || message.contains("could not find expected ':'")
        || message.contains("did not find expected '-' indicator")
    {
        "check this line and the one above: each field is `name: value` at the same \
         indentation, text with `: ` or a leading quote needs quotes around it, and the \
         front matter ends with a line holding only `---`"
    } else {
        return None;
    };
    Some(hint.to_string())
}

/// serde's wording is precise but terse; editors are not programmers.
fn plain_words(message: &str) -> String {
    let mut m = message
        .replace("invalid type: sequence", "wrong kind of value: a list")
        .replace("invalid type: map", "wrong kind of value: a set of fields")
        .replace("invalid type: ", "wrong kind of value: ")
        .replace(
            "expected a sequence",
            "expected a list (lines starting with `- `)",
        );
    // Rust's number types, in words (`expected u32` is `expected a whole number...`).
    for (rust, words) in [
        ("u8", "a whole number of 0 or more"),
        ("u16", "a whole number of 0 or more"),
        ("u32", "a whole number of 0 or more"),
        ("u64", "a whole number of 0 or more"),
        ("usize", "a whole number of 0 or more"),
        ("i32", "a whole number"),
        ("i64", "a whole number"),
        ("f32", "a number"),
        ("f64", "a number"),
    ] {
        let typed = format!("expected {rust}");
        if let Some(at) = m.find(&typed) {
            let end = at + typed.len();
            if !m[end..].starts_with(|c: char| c.is_alphanumeric()) {
                m.replace_range(at..end, &format!("expected {words}"));
            }
        }
    }
    // serde names our Rust types ("expected struct PageFront"); editors need the shape.
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

/// For "unknown field `durration`, expected one of `title`, `duration`", suggests the
/// closest expected name, or lists them when none is close.
fn unknown_field_hint(message: &str) -> Option<String> {
    let start = message.find("unknown field `")? + "unknown field `".len();
    let end = start + message[start..].find('`')?;
    let field = &message[start..end];
    let expected: Vec<&str> = message[end + 1..]
        .split('`')
        .skip(1)
        .step_by(2)
        .filter(|s| !s.is_empty())
        .collect();
    match suggest(field, expected.iter().copied()) {
        Some(best) => Some(format!("did you mean `{best}`?")),
        None if !expected.is_empty() => Some(format!("known fields: {}", expected.join(", "))),
        None => None,
    }
}

/// The candidate most like `input`, if any is similar enough to be a likely typo.
pub fn suggest<'a>(input: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(input, c), c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Demo {
        title: String,
        duration: String,
    }

    #[test]
    fn unknown_field_names_line_and_closest_field() {
        let src = "title: A\ndurration: 1hr\n";
        let d = from_yaml_located::<Demo>(src, Path::new("a.md"), 2).unwrap_err();
        assert_eq!(d.line, Some(3), "line counts from the file's start");
        assert_eq!(d.message, "unknown field `durration`");
        assert_eq!(d.hint.as_deref(), Some("did you mean `duration`?"));
    }

    #[test]
    fn far_off_names_list_the_known_fields() {
        let src = "title: A\nzzz: 1\n";
        let d = from_yaml_located::<Demo>(src, Path::new("a.md"), 1).unwrap_err();
        assert_eq!(d.hint.as_deref(), Some("known fields: title, duration"));
    }

    #[test]
    fn wrong_type_is_worded_plainly() {
        let src = "title: [1]\nduration: x\n";
        let d = from_yaml_located::<Demo>(src, Path::new("a.md"), 1).unwrap_err();
        assert!(d.message.contains("wrong kind of value"), "{}", d.message);
        assert_eq!(d.line, Some(1));
    }

    /// Rust's names for numbers and a yes/no are not an editor's words.
    #[test]
    fn numbers_and_yes_no_are_asked_for_in_words() {
        #[derive(Debug, Deserialize)]
        #[allow(dead_code)]
        struct Typed {
            order: Option<i64>,
            limit: Option<u32>,
            draft: Option<bool>,
        }
        let d = from_yaml_located::<Typed>("order: first\n", Path::new("a.md"), 1).unwrap_err();
        assert!(
            d.message.ends_with("expected a whole number"),
            "{}",
            d.message
        );
        let d = from_yaml_located::<Typed>("limit: many\n", Path::new("a.md"), 1).unwrap_err();
        assert!(
            d.message.ends_with("expected a whole number of 0 or more"),
            "{}",
            d.message
        );
        let d = from_yaml_located::<Typed>("draft: no\n", Path::new("a.md"), 1).unwrap_err();
        assert_eq!(d.hint.as_deref(), Some("write `true` or `false`"), "{d}");
        let d = from_yaml_located::<serde_yaml::Mapping>(
            "title: A\n\tdraft: true\n",
            Path::new("a.md"),
            1,
        )
        .unwrap_err();
        assert!(
            d.hint.is_some_and(|h| h.contains("indent with spaces")),
            "a tab"
        );
    }

    #[test]
    fn repeated_keys_point_at_the_repeat() {
        let src = "title: A\nduration: x\ntitle: B\n";
        let d = from_yaml_located::<Demo>(src, Path::new("a.md"), 2).unwrap_err();
        assert_eq!(d.message, "duplicate field `title`");
        assert_eq!(d.line, Some(4));
    }

    #[test]
    fn syntax_mistakes_are_placed_once_in_the_file_with_a_hint() {
        use serde_yaml::Mapping;
        let at = |src: &str| from_yaml_located::<Mapping>(src, Path::new("a.md"), 2).unwrap_err();
        let d = at("title: A\nsummary: Before: after\n");
        assert_eq!(d.line, Some(3), "{d}");
        assert!(!d.message.contains("line"), "{d}");
        assert!(d.hint.unwrap().contains("needs quotes"));

        let d = at("title: A\nfaqs:\n  - question: Q\n    answer: |\n      one\n\t  two\n");
        assert!(!d.message.contains("line"), "one position, the file's: {d}");
        assert_eq!(
            d.hint.as_deref(),
            Some("indent with spaces, not tabs"),
            "{d}"
        );

        let d = at("title: A\nprice: 1\nsummary: S\nprice: 2\n");
        assert_eq!(d.line, Some(5), "the repeat: {d}");

        let d = at("title: \"A\nsummary: S\n");
        assert!(d.hint.is_some(), "{d}");
    }

    #[test]
    fn a_list_instead_of_fields_is_explained_without_rust_names() {
        let d = from_yaml_located::<Demo>("- a\n- b\n", Path::new("a.md"), 1).unwrap_err();
        assert!(!d.message.contains("struct"), "{}", d.message);
        assert!(d.message.contains("name: value"), "{}", d.message);
        assert!(d.message.contains("a list"), "{}", d.message);
    }

    #[test]
    fn suggest_prefers_the_closest() {
        assert_eq!(suggest("sumary", ["summary", "sessions"]), Some("summary"));
        assert_eq!(suggest("qqq", ["summary"]), None);
    }
}
