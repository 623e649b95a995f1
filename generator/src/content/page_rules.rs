//! What every page's front matter must hold beyond its types (a title, a usable slug,
//! site-path aliases, alt text for its images, a declared form, a `.html` template),
//! and [`Problems`], which places each problem found at its key's line.

use std::path::Path;

use site_config::{slugify, Diagnostic, SiteConfig};

use super::front_matter::{line_of_key, Front};
use super::paths::slug_from_file_name;
use super::PageKind;

/// Problems found in one file's front matter, each placed on the line of its key.
pub(super) struct Problems<'a> {
    /// The file, as shown in messages.
    pub path: &'a Path,
    /// Its front matter.
    pub yaml: &'a str,
    /// The file's line `yaml` starts on.
    pub first_line: usize,
    /// What was found so far.
    pub found: Vec<Diagnostic>,
}

impl Problems<'_> {
    /// Adds a problem at the line of `key` (the front matter's first line without it).
    pub(super) fn at(&mut self, key: &str, message: String) -> &mut Diagnostic {
        let d = Diagnostic::new(self.path, message).at_line(line_of_key(
            self.yaml,
            self.first_line,
            key,
        ));
        self.found.push(d);
        self.found.last_mut().expect("just pushed")
    }
}

/// Checks what every page has; returns the page's slug.
pub(super) fn check_common(
    c: &Front,
    kind: PageKind,
    rel: &Path,
    config: &SiteConfig,
    problems: &mut Problems,
) -> String {
    if c.title.as_ref().is_some_and(|t| t.trim().is_empty()) {
        problems.at("title", "title is empty".into());
    }
    let slug = match &c.slug {
        Some(s) if slugify(s) == *s && !s.is_empty() => s.clone(),
        Some(s) => {
            let fixed = slugify(s);
            let (message, hint) = if fixed.is_empty() {
                (
                    format!("slug `{s}` gives no address"),
                    "leave `slug` out to use the file name, or write one like `laser-hair-removal`"
                        .to_string(),
                )
            } else {
                (
                    format!("slug `{s}` may use only lowercase letters, digits and single hyphens"),
                    format!("try `{fixed}`"),
                )
            };
            problems.at("slug", message).hint = Some(hint);
            fixed
        }
        None => {
            let s = slug_from_file_name(rel);
            if s.is_empty() && kind != PageKind::Home {
                problems.found.push(
                    Diagnostic::new(problems.path, "the file name gives no usable URL")
                        .at(1, 1)
                        .with_hint("rename the file, or set `slug:`"),
                );
            }
            s
        }
    };
    for alias in &c.aliases {
        if !alias.starts_with('/')
            || alias.contains("..")
            || alias.contains(char::is_whitespace)
            || alias.contains(['"', '<', '>', '#', '?'])
        {
            problems.at(
                "aliases",
                format!("alias `{alias}` must be a site path such as `/old-page/` (starting with /, no spaces, `..`, `?` or `#`)"),
            );
        }
    }
    for (i, g) in c.gallery.iter().enumerate() {
        if g.alt.trim().is_empty() {
            problems.at(
                "gallery",
                format!("gallery photo {} ({}) needs `alt`: a short description for people who cannot see it", i + 1, g.image),
            );
        }
    }
    match (&c.image, &c.image_alt) {
        (Some(_), None) => {
            problems.at(
                "image",
                "`image` needs `image_alt`: a short description for people who cannot see it"
                    .into(),
            );
        }
        (Some(_), Some(alt)) if alt.trim().is_empty() => {
            problems.at(
                "image_alt",
                "image_alt is empty; describe the image in a few words".into(),
            );
        }
        (None, Some(_)) => {
            problems.at(
                "image_alt",
                "image_alt is set but there is no `image`".into(),
            );
        }
        _ => {}
    }
    if let Some(f) = c.form.as_ref().filter(|f| !config.forms.contains_key(*f)) {
        let names: Vec<&str> = config.forms.keys().map(String::as_str).collect();
        let hint = match site_config::suggest(f, names.iter().copied()) {
            Some(s) => Some(format!("did you mean `{s}`?")),
            None if !names.is_empty() => Some(format!("declared forms: {}", names.join(", "))),
            None => None,
        };
        problems
            .at("form", format!("form `{f}` is not declared in site.yaml"))
            .hint = hint;
    }
    if let Some(t) = c
        .template
        .as_ref()
        .filter(|t| !t.ends_with(".html") || t.contains(".."))
    {
        problems.at(
            "template",
            format!("template `{t}` must be a `.html` file in the theme's templates"),
        );
    }
    slug
}
