//! Cutting a Markdown file's front matter (the YAML between two `---` lines) from its
//! text, with the lines each part starts on: the generator reads every page with it,
//! and both programs read the services' files with it ([`crate::discover_services`]).

/// Front matter cut from a Markdown file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrontMatterSplit<'a> {
    /// The YAML between the `---` lines (empty when the file has none).
    pub yaml: &'a str,
    /// 1-based line in the file where `yaml` starts.
    pub yaml_line: usize,
    /// The Markdown after the closing `---`.
    pub body: &'a str,
    /// 1-based line in the file where `body` starts.
    pub body_line: usize,
}

/// Splits `---\nyaml\n---\nbody`. Returns `None` when the file opens a front matter
/// block and never closes it; a file with no block is all body.
pub fn split_front_matter(src: &str) -> Option<FrontMatterSplit<'_>> {
    let src = src.strip_prefix('\u{feff}').unwrap_or(src);
    let Some(after_open) = src
        .strip_prefix("---\n")
        .or_else(|| src.strip_prefix("---\r\n"))
    else {
        return Some(FrontMatterSplit {
            yaml: "",
            yaml_line: 1,
            body: src,
            body_line: 1,
        });
    };
    let mut offset = 0;
    for line in after_open.split_inclusive('\n') {
        if line.trim_end() == "---" {
            let yaml = &after_open[..offset];
            let body = &after_open[offset + line.len()..];
            let body_line = 2 + yaml.matches('\n').count() + 1;
            return Some(FrontMatterSplit {
                yaml,
                yaml_line: 2,
                body,
                body_line,
            });
        }
        offset += line.len();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_finds_lines() {
        let s = split_front_matter("---\ntitle: A\nx: 1\n---\n# Body\n").unwrap();
        assert_eq!(s.yaml, "title: A\nx: 1\n");
        assert_eq!(s.yaml_line, 2);
        assert_eq!(s.body, "# Body\n");
        assert_eq!(s.body_line, 5);
    }

    #[test]
    fn split_handles_crlf_bom_and_no_front_matter() {
        let s = split_front_matter("\u{feff}---\r\ntitle: A\r\n---\r\nBody").unwrap();
        assert_eq!(s.yaml, "title: A\r\n");
        assert_eq!(s.body, "Body");
        let s = split_front_matter("just text").unwrap();
        assert_eq!((s.yaml, s.body), ("", "just text"));
        assert!(split_front_matter("---\ntitle: A\n").is_none());
    }
}
