//! A JSON Schema of the front matter, for editors' tools: written from the same field
//! table the build reads with ([`crate::content::fields`]), plus what only this site
//! knows (its forms and services), so an editor with a YAML language server gets
//! completion, descriptions and checking as they type.
//!
//! `build`, `new` and `schema` write it to `.generator/` in the site root (git-ignored;
//! not in the output, which is published): one file for service pages, one for the
//! others. A page opts in with a first front matter line
//! `# yaml-language-server: $schema=<relative path to the file>`.

use std::path::{Path, PathBuf};

use serde_json::{json, Map, Value};
use site_config::SiteConfig;

use crate::content::fields::{fields_for, DURATION_FORMS};
use crate::Error;

/// The folder in the site root that holds files written for editors' tools.
pub const DIR: &str = ".generator";
/// The schema of service pages' front matter, in [`DIR`].
pub const SERVICE_FILE: &str = "service.schema.json";
/// The schema of other pages' front matter, in [`DIR`].
pub const PAGE_FILE: &str = "page.schema.json";

/// The modeline a page at `page` (relative to the site root) needs to use the schema.
pub fn modeline(page: &Path, service: bool) -> String {
    let depth = page.parent().map_or(0, |p| p.components().count());
    let up = "../".repeat(depth);
    let file = if service { SERVICE_FILE } else { PAGE_FILE };
    format!("# yaml-language-server: $schema={up}{DIR}/{file}")
}

/// The schema for service pages (`service`) or other pages, with this site's forms
/// and the titles of its `services`.
pub fn front_matter_schema(config: &SiteConfig, services: &[String], service: bool) -> Value {
    let mut properties = Map::new();
    let mut required = Vec::new();
    for f in fields_for(service) {
        let mut p = field_schema(f.name, config);
        if let Some(obj) = p.as_object_mut() {
            obj.insert("description".into(), f.about.into());
        }
        properties.insert(f.name.into(), p);
        if f.required(service) {
            required.push(f.name);
        }
    }
    let (title, about) = if service {
        (
            "Service page front matter",
            format!(
                "A service page (content/services/*.md). This site's services: {}.",
                if services.is_empty() {
                    "none yet".to_string()
                } else {
                    services.join(", ")
                }
            ),
        )
    } else {
        (
            "Page front matter",
            "A page under content/ other than a service.".to_string(),
        )
    };
    json!({
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": title,
        "description": about,
        "type": "object",
        "additionalProperties": false,
        "required": required,
        "properties": properties,
        "dependencies": { "image": ["image_alt"], "image_alt": ["image"] },
    })
}

/// Both values of a letter, for patterns (JSON Schema has no case-insensitive flag).
fn ci(word: &str) -> String {
    word.chars()
        .map(|c| format!("[{}{}]", c, c.to_ascii_uppercase()))
        .collect()
}

fn duration_pattern() -> String {
    let hours = format!(
        "({h}(({r}{s}?)|({o}{u}{r}{s}?))?)",
        h = ci("h"),
        r = ci("r"),
        s = ci("s"),
        o = ci("o"),
        u = ci("u")
    );
    let minutes = format!(
        "({m}(({i}{n}{s}?)|({i}{n}{u}{t}{e}{s}?))?)",
        m = ci("m"),
        i = ci("i"),
        n = ci("n"),
        s = ci("s"),
        u = ci("u"),
        t = ci("t"),
        e = ci("e")
    );
    let num = r"\d+(\.\d+)?";
    format!(
        r"^\s*(({num}\s*{hours}[\s,]*({a}{n}{d}\s+)?({num}\s*{minutes})?)|({num}\s*{minutes}))\s*$",
        a = ci("a"),
        n = ci("n"),
        d = ci("d"),
    )
}

fn field_schema(name: &str, config: &SiteConfig) -> Value {
    match name {
        "title" => json!({ "type": "string", "minLength": 1 }),
        "summary" => json!({ "type": "string", "minLength": 1 }),
        "duration" => json!({
            "type": "string",
            "pattern": duration_pattern(),
            "examples": ["1hr", "1 hr", "45 min", "1h 30m", "90m", "2 hours"],
            "errorMessage": format!("write it like {DURATION_FORMS}"),
        }),
        "price" => json!({ "type": "number", "minimum": 0, "examples": [85, 49.5, 0] }),
        "currency" => {
            json!({ "type": "string", "pattern": "^[A-Z]{3}$", "examples": ["EUR", "GBP", "USD"] })
        }
        "sessions" => json!({
            "anyOf": [
                { "type": "integer", "minimum": 1, "maximum": 100 },
                { "type": "string", "pattern": r"^\s*[1-9]\d*\s*([-–]\s*[1-9]\d*\s*)?$" }
            ],
            "examples": [1, "2-3"],
        }),
        "faqs" => json!({
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": false,
                "required": ["question", "answer"],
                "properties": {
                    "question": { "type": "string", "minLength": 1, "description": "The question, as people ask it." },
                    "answer": { "type": "string", "minLength": 1, "description": "The answer, in Markdown." }
                }
            }
        }),
        "template" => json!({ "type": "string", "pattern": r"^[^.][^\s]*\.html$" }),
        "form" => {
            let forms: Vec<&str> = config.forms.keys().map(String::as_str).collect();
            json!({ "type": "string", "enum": forms })
        }
        "order" => json!({ "type": "integer" }),
        "draft" => json!({ "type": "boolean" }),
        "slug" => json!({ "type": "string", "pattern": "^[a-z0-9]+(-[a-z0-9]+)*$" }),
        "aliases" => json!({
            "type": "array",
            "items": { "type": "string", "pattern": r#"^/[^\s"<>#?]*$"# },
            "examples": [["/old-page/"]],
        }),
        "image" => json!({ "type": "string", "minLength": 1 }),
        "image_alt" => json!({ "type": "string", "minLength": 1 }),
        "extra" => json!({ "type": "object" }),
        _ => json!({}),
    }
}

/// Writes both schemas into `.generator/` under `root` (only when they changed, so
/// watchers are not woken for nothing); returns the folder.
pub fn write(root: &Path, config: &SiteConfig, services: &[String]) -> Result<PathBuf, Error> {
    let dir = root.join(DIR);
    std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    for (file, service) in [(SERVICE_FILE, true), (PAGE_FILE, false)] {
        let path = dir.join(file);
        let mut text =
            serde_json::to_string_pretty(&front_matter_schema(config, services, service))
                .expect("a JSON value serialises");
        text.push('\n');
        if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
            std::fs::write(&path, text).map_err(|e| Error::io(&path, e))?;
        }
    }
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modeline_points_up_to_the_root() {
        assert_eq!(
            modeline(Path::new("content/services/x.md"), true),
            "# yaml-language-server: $schema=../../.generator/service.schema.json"
        );
        assert_eq!(
            modeline(Path::new("content/about.md"), false),
            "# yaml-language-server: $schema=../.generator/page.schema.json"
        );
    }

    #[test]
    fn the_service_schema_knows_every_field() {
        let config = SiteConfig::parse(
            "title: C\nbase_url: https://c.example\ndescription: d\ncurrency: GBP\n\
             business:\n  name: C\n  email: a@c.example\n  phone: '1'\n  address:\n    \
             street: s\n    locality: l\n    postal_code: p\n    country: GB\n",
            Path::new("site.yaml"),
        )
        .unwrap();
        let s = front_matter_schema(&config, &["Peel".into()], true);
        assert_eq!(s["required"], json!(["title", "summary", "duration"]));
        assert_eq!(s["additionalProperties"], json!(false));
        assert!(s["properties"]["duration"]["description"]
            .as_str()
            .unwrap()
            .contains("1h 30m"));
        assert!(s["properties"].get("template").is_none());
        assert!(s["description"].as_str().unwrap().contains("Peel"));
        let p = front_matter_schema(&config, &[], false);
        assert!(p["properties"].get("duration").is_none());
        assert_eq!(p["properties"]["form"]["enum"], json!([]));
    }
}
