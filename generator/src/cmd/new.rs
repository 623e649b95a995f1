//! `generator new service "Title"`: a new service page with every field explained.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};

use site_config::slugify;

use crate::content::fields::placeholder;
use crate::Error;

/// Writes `content/services/<slug>.md` under `root` and returns its path. Never
/// overwrites an existing page.
pub fn service(root: &Path, title: &str) -> Result<PathBuf, Error> {
    let title = title.trim();
    let slug = slugify(title);
    if slug.is_empty() {
        return Err(Error::Usage(format!(
            "\"{title}\" gives no usable file name; use letters or digits in the title"
        )));
    }
    if title.contains(['\n', '\r']) {
        return Err(Error::Usage("the title must be one line".into()));
    }
    // Not a site (a typo in --root, or run from content/): the page would land where
    // no build reads it, and a `content/` folder be made beside it.
    if !root.join("site.yaml").is_file() {
        return Err(Error::Usage(format!(
            "{} has no site.yaml: run this in the site's folder (where site.yaml is), or give it with --root",
            if root.as_os_str().is_empty() || root == Path::new(".") {
                "this folder".to_string()
            } else {
                root.display().to_string()
            }
        )));
    }
    let dir = root.join("content").join("services");
    std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    let path = dir.join(format!("{slug}.md"));
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => Error::Usage(format!(
                "{} already exists; edit it, or choose another title",
                path.display()
            )),
            _ => Error::io(&path, e),
        })?;
    let rel = Path::new("content/services").join(format!("{slug}.md"));
    file.write_all(scaffold(title, &crate::schema::modeline(&rel, true)).as_bytes())
        .map_err(|e| Error::io(&path, e))?;
    // The schema the modeline points at; with a site.yaml that cannot be read yet
    // there is none to write, and the page is still made.
    if let Ok(config) = site_config::SiteConfig::load(root) {
        let services = super::schema::service_titles(root, &config);
        crate::schema::write(root, &config, &services)?;
    }
    Ok(path)
}

fn scaffold(title: &str, modeline: &str) -> String {
    let quoted = serde_yaml::to_string(title).unwrap_or_else(|_| format!("\"{title}\"\n"));
    format!(
        r#"---
{modeline}
# The service's name, as visitors see it.
title: {title_yaml}
# One or two sentences: shown in listings, search results and link previews.
summary: {summary}
# How long one appointment takes: 1hr, 1 hr, 45 min, 1h 30m, 90m or 2 hours.
duration: 1 hr
# Price in the site's currency (a plain number). 0 shows "Free" (only when the
# treatment itself is free). `price: quoted` shows "Quoted at your consultation";
# `price_from: 90` instead of price shows "From" and the amount. Without a price the page
# shows "Price on consultation": take the # off the next line and set it.
# price: 100
# Another ISO 4217 currency for this service only (the site's default is in site.yaml).
# currency: EUR
# How many sessions a course usually takes: 1, or a range such as 2-3.
sessions: 1
# Position in the services list (lower first; equal numbers sort by title).
order: 100
# true keeps the page out of the site until you are ready (build --drafts shows it).
draft: true
# The address is /services/<slug>/; set this to change it. Lowercase, digits, hyphens.
# slug: {slug}
# Old addresses that should send visitors here.
# aliases: [/old-address/]
# A picture for the page and link previews, next to this file or in static/.
# image_alt is required with it: describe the picture for people who cannot see it.
# image: {slug}.jpg
# image_alt: A practitioner preparing the treatment room
# Photos shown together after the text, each with a description and a caption.
# gallery:
#   - image: before.jpg
#     alt: Describe the photo
#     caption: Before
# Questions people ask. Answers can use Markdown.
faqs:
  - question: Is there any downtime?
    answer: {answer_0}
  - question: How do I prepare?
    answer: {answer_1}
# Free values for the theme.
# extra:
#   badge: New
---
{body} Use `##` for section headings: the page's
title is its only top-level heading.

## What happens during the treatment

## Aftercare
"#,
        title_yaml = quoted.trim_end(),
        slug = slugify(title),
        modeline = modeline,
        summary = placeholder::SUMMARY,
        answer_0 = placeholder::ANSWERS[0],
        answer_1 = placeholder::ANSWERS[1],
        body = placeholder::BODY,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scaffold_is_valid_front_matter() {
        let text = scaffold(
            "Laser: \"Hair\" Removal",
            "# yaml-language-server: $schema=x",
        );
        let split = site_config::split_front_matter(&text).unwrap();
        let v: serde_yaml::Value = serde_yaml::from_str(split.yaml).unwrap();
        assert_eq!(v["title"].as_str(), Some("Laser: \"Hair\" Removal"));
        assert_eq!(v["draft"].as_bool(), Some(true));
    }
}
