//! Finding a setting in `site.yaml`'s text by its key path, so that a value found wrong
//! after parsing (a time zone, a proxy address) is reported at its line and column.
//!
//! serde_yaml keeps no positions in parsed values; this walks the block structure by
//! indentation, which is how `site.yaml` is written, and also looks inside one-line flow
//! mappings (`rate_limit: {per_minute: 6, burst: 5}`).

/// Line and column (1-based) of the key at the end of `path`, e.g.
/// `["form_service", "rate_limit", "burst"]`.
pub fn locate_key(src: &str, path: &[&str]) -> Option<(usize, usize)> {
    let lines: Vec<&str> = src.lines().collect();
    let (mut from, mut to, mut parent_indent) = (0usize, lines.len(), None::<usize>);
    let mut found = None;
    for (depth, key) in path.iter().enumerate() {
        // A flow mapping on the parent's line: look for `key:` inside it.
        if let Some((line, _)) = found {
            let text: &str = lines[line - 1];
            if let Some(brace) = text.find('{') {
                let inner = &text[brace..];
                let needle = format!("{key}:");
                let at = inner
                    .match_indices(&needle)
                    .find(|(i, _)| {
                        inner[..*i]
                            .chars()
                            .last()
                            .is_some_and(|c| c == '{' || c == ' ' || c == ',')
                    })
                    .map(|(i, _)| i)?;
                let col = text[..brace + at].chars().count() + 1;
                if depth + 1 == path.len() {
                    return Some((line, col));
                }
                return None;
            }
        }
        let mut hit = None;
        let mut child_indent = None;
        for (i, raw) in lines.iter().enumerate().take(to).skip(from) {
            let trimmed = raw.trim_start();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            let indent = raw.len() - trimmed.len();
            if parent_indent.is_some_and(|p| indent <= p) {
                break;
            }
            // Only keys of this level: as indented as the section's first line.
            if *child_indent.get_or_insert(indent) != indent {
                continue;
            }
            let body = trimmed.strip_prefix("- ").unwrap_or(trimmed);
            let key_here = body
                .split_once(':')
                .map(|(k, _)| k.trim().trim_matches(['"', '\'']));
            if key_here == Some(*key) {
                let col = raw.len() - body.len() + 1;
                hit = Some((i, indent, col));
                break;
            }
        }
        let (i, indent, col) = hit?;
        found = Some((i + 1, col));
        from = i + 1;
        parent_indent = Some(indent);
        // The section ends at the next line indented no deeper than this key.
        to = lines
            .iter()
            .enumerate()
            .skip(i + 1)
            .find(|(_, l)| {
                let t = l.trim_start();
                !t.is_empty() && !t.starts_with('#') && l.len() - t.len() <= indent
            })
            .map_or(lines.len(), |(j, _)| j);
    }
    found
}

/// Line and column of `value` written under the key at `path` (a list item or the
/// key's own value); the key's position when the value is not found as written.
pub fn locate_value(src: &str, path: &[&str], value: &str) -> Option<(usize, usize)> {
    let (line, col) = locate_key(src, path)?;
    let lines: Vec<&str> = src.lines().collect();
    let key_indent = lines[line - 1].len() - lines[line - 1].trim_start().len();
    for (i, text) in lines.iter().enumerate().skip(line - 1) {
        if i > line - 1 {
            let t = text.trim_start();
            if !t.is_empty() && !t.starts_with('#') && text.len() - t.len() <= key_indent {
                break;
            }
        }
        let start = if i == line - 1 { col - 1 } else { 0 };
        if value.is_empty() {
            break;
        }
        if let Some(at) = text.get(start..).and_then(|t| t.find(value)) {
            return Some((i + 1, text[..start + at].chars().count() + 1));
        }
    }
    Some((line, col))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRC: &str = "\
title: T
# a comment
form_service:
  url: https://forms.example
  trusted_proxies:
    - 10.0.0.1
    - not-an-ip
  rate_limit: {per_minute: 6, burst: 5}
  backup:
    dir: /var/backups
    keep_days: 0
loyalty:
  url: x
";

    #[test]
    fn finds_nested_keys_flow_keys_and_list_values() {
        assert_eq!(locate_key(SRC, &["form_service", "url"]), Some((4, 3)));
        assert_eq!(locate_key(SRC, &["loyalty", "url"]), Some((13, 3)));
        assert_eq!(
            locate_key(SRC, &["form_service", "backup", "keep_days"]),
            Some((11, 5))
        );
        assert_eq!(
            locate_key(SRC, &["form_service", "rate_limit", "burst"]),
            Some((8, 31))
        );
        assert_eq!(
            locate_value(SRC, &["form_service", "trusted_proxies"], "not-an-ip"),
            Some((7, 7))
        );
        assert_eq!(locate_key(SRC, &["form_service", "nothing"]), None);
        assert_eq!(locate_key(SRC, &["backup"]), None);
    }
}
