//! The theme's Tera templates, overridden file by file by the site's `templates/`,
//! parsed once per build, with the helper functions themes use (`asset`, `url`, `form`).

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet, VecDeque};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use site_config::{
    offered, render_form, Diagnostic, Diagnostics, FieldKind, FormState, ServiceRef, SiteConfig,
};
use tera::{Context, Tera, Value};
use walkdir::WalkDir;

use crate::content::is_ignored;
use crate::output::AssetMap;
pub use errors::merge_repeats;
use errors::{error_chain, included_in_error, named_in, template_diagnostic};

mod errors;

/// The parsed templates and where each came from (for messages).
pub struct Templates {
    tera: Tera,
    paths: HashMap<String, PathBuf>,
    sources: HashMap<String, String>,
}

thread_local! {
    /// The service of the page rendering on this thread, if it is a service page.
    static OWN_SERVICE: RefCell<Option<String>> = const { RefCell::new(None) };
    /// Set by `form()` when a form offers a service other than the page's own: the page
    /// then shows other services' titles (all of them, in their order, up to 40).
    static OFFERED_OTHER_SERVICES: Cell<bool> = const { Cell::new(false) };
    /// The size of the last page rendered on this thread ([`Templates::render`]).
    static LAST_SIZE: Cell<usize> = const { Cell::new(32 * 1024) };
}

/// The largest buffer [`Templates::render`] sizes ahead of a page.
const MAX_SIZE_HINT: usize = 256 * 1024;

/// Runs `render`, the rendering of one page on this thread (`own_service`: its slug, for
/// a service page), and says whether a form in it offered any service but the page's
/// own: such a page changes when any service's title or order does ([`crate::site`]'s
/// build record keys it so); any other only with its own file. Tera calls functions on
/// the thread that renders, and nothing here renders in parallel, so the flag is this
/// page's alone.
pub fn noting_services<T>(own_service: Option<&str>, render: impl FnOnce() -> T) -> (T, bool) {
    OWN_SERVICE.with_borrow_mut(|own| *own = own_service.map(str::to_string));
    OFFERED_OTHER_SERVICES.set(false);
    let out = render();
    OWN_SERVICE.with_borrow_mut(|own| *own = None);
    (out, OFFERED_OTHER_SERVICES.replace(false))
}

/// Notes, for [`noting_services`], the services a form offers.
fn note_offered(offered: &[ServiceRef]) {
    let others = OWN_SERVICE.with_borrow(|own| {
        offered
            .iter()
            .any(|s| own.as_deref() != Some(s.slug.as_str()))
    });
    if others {
        OFFERED_OTHER_SERVICES.set(true);
    }
}

impl Templates {
    /// Reads `themes/<theme>/templates` and the site's `templates/`, the site's
    /// file winning when both have one of the same name.
    pub fn load(root: &Path, theme: &str) -> Result<Templates, Diagnostics> {
        let theme_dir = root.join("themes").join(theme).join("templates");
        let mut problems = Diagnostics::default();
        if !theme_dir.is_dir() {
            problems.push(
                Diagnostic::new(
                    "site.yaml",
                    format!("theme `{theme}` has no templates folder at themes/{theme}/templates"),
                )
                .with_hint("check `theme:` in site.yaml"),
            );
            return Err(problems);
        }
        let mut paths: HashMap<String, PathBuf> = HashMap::new();
        for dir in [theme_dir, root.join("templates")] {
            if !dir.is_dir() {
                continue;
            }
            for e in WalkDir::new(&dir)
                .into_iter()
                .filter_entry(|e| !is_ignored(e.file_name().to_str().unwrap_or("")))
                .flatten()
            {
                if e.file_type().is_file() {
                    let rel = e.path().strip_prefix(&dir).unwrap_or(e.path());
                    let name = rel
                        .iter()
                        .filter_map(|p| p.to_str())
                        .collect::<Vec<_>>()
                        .join("/");
                    paths.insert(
                        name,
                        e.path()
                            .strip_prefix(root)
                            .unwrap_or(e.path())
                            .to_path_buf(),
                    );
                }
            }
        }
        let mut sources = HashMap::new();
        for (name, rel) in &paths {
            match fs::read_to_string(root.join(rel)) {
                Ok(s) => {
                    sources.insert(name.clone(), s);
                }
                Err(e) => problems.push(Diagnostic::new(rel, format!("cannot read: {e}"))),
            }
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        let mut tera = Tera::default();
        tera.autoescape_on(vec![".html", ".xml"]);
        // Tera's own escaper also escapes `/`, which bloats every URL in the output.
        tera.set_escape_fn(site_config::escape_html);
        // Add one by one first so a syntax error names its own file...
        for (name, src) in &sources {
            if let Err(e) = tera::Template::new(name, None, src) {
                problems.push(template_diagnostic(&paths[name], src, &e, None));
            }
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        // ...then together, which resolves `extends` and `include`.
        let all: Vec<(&str, &str)> = sources
            .iter()
            .map(|(n, s)| (n.as_str(), s.as_str()))
            .collect();
        if let Err(e) = tera.add_raw_templates(all) {
            let (name, src) = sources
                .iter()
                .find(|(n, _)| error_chain(&e).contains(&format!("'{n}'")))
                .map(|(n, s)| (n.clone(), s.as_str()))
                .unwrap_or_default();
            let path = paths
                .get(&name)
                .cloned()
                .unwrap_or_else(|| PathBuf::from("templates"));
            problems.push(template_diagnostic(&path, src, &e, None));
            return Err(problems);
        }
        Ok(Templates {
            tera,
            paths,
            sources,
        })
    }

    /// Registers `asset()`, `url()` and `form()` for this build.
    pub fn register_functions(
        &mut self,
        config: Arc<SiteConfig>,
        assets: AssetMap,
        services: Arc<Vec<ServiceRef>>,
    ) {
        self.tera.register_function("asset", move |args: &HashMap<String, Value>| {
            let path = str_arg(args, "path", "asset")?;
            let key = path.trim_start_matches('/');
            assets
                .get(key)
                .map(|u| Value::String(u.clone()))
                .ok_or_else(|| tera::Error::msg(format!("asset(path=\"{path}\"): there is no file `{key}` in the theme's or site's static/ folder")))
        });
        let base = config.base_url.as_str().to_string();
        self.tera
            .register_function("url", move |args: &HashMap<String, Value>| {
                let path = str_arg(args, "path", "url")?;
                if path.contains("://") {
                    return Ok(Value::String(path));
                }
                if !path.starts_with('/') {
                    return Err(tera::Error::msg(format!(
                        "url(path=\"{path}\"): give a site path starting with /"
                    )));
                }
                Ok(Value::String(format!("{base}{path}")))
            });
        // A form without a service field is the same on every page that shows it, so it
        // is rendered once here rather than once per page.
        let fixed: HashMap<String, String> = config
            .forms
            .iter()
            .filter(|(_, decl)| !decl.fields.iter().any(|f| f.kind == FieldKind::Service))
            .map(|(name, decl)| {
                let action = config.form_action(name);
                let html = render_form(name, decl, &action, &[], None, &FormState::default());
                (name.clone(), html)
            })
            .collect();
        let by_slug: HashMap<String, usize> = services
            .iter()
            .enumerate()
            .map(|(i, s)| (s.slug.clone(), i))
            .collect();
        self.tera
            .register_function("form", move |args: &HashMap<String, Value>| {
                let name = str_arg(args, "name", "form")?;
                if let Some(html) = fixed.get(&name) {
                    return Ok(Value::String(html.clone()));
                }
                let decl = config.forms.get(&name).ok_or_else(|| {
                    tera::Error::msg(format!(
                        "form(name=\"{name}\"): no form `{name}` is declared in site.yaml"
                    ))
                })?;
                let preselect = args.get("service").and_then(Value::as_str);
                // `from` (the page's path) tells the form service, and so staff, where
                // a request was sent from.
                let mut action = config.form_action(&name);
                if let Some(from) = args.get("from").and_then(Value::as_str) {
                    action.push_str("?from=");
                    action.push_str(from);
                }
                let offered = offered(&services, preselect, |slug| by_slug.get(slug).copied());
                note_offered(offered);
                let html = render_form(
                    &name,
                    decl,
                    &action,
                    offered,
                    preselect,
                    &FormState::default(),
                );
                Ok(Value::String(html))
            });
    }

    /// Every template that uses `name`, directly or through others (`extends`,
    /// `include`, `import`), with `name` itself.
    pub fn dependents(&self, name: &str) -> Vec<String> {
        let mut found = vec![name.to_string()];
        let mut i = 0;
        while i < found.len() {
            let target = found[i].clone();
            for (user, src) in &self.sources {
                if !found.contains(user) && references(src).iter().any(|r| *r == target) {
                    found.push(user.clone());
                }
            }
            i += 1;
        }
        found
    }

    /// True when a template of this name exists.
    /// Every template's name and source, by name.
    pub fn sources(&self) -> Vec<(&String, &String)> {
        let mut all: Vec<_> = self.sources.iter().collect();
        all.sort();
        all
    }

    pub fn has(&self, name: &str) -> bool {
        self.paths.contains_key(name)
    }

    /// Renders `name` for the page from `page_source`; a failure names both.
    pub fn render(
        &self,
        name: &str,
        ctx: &Context,
        page_source: &Path,
    ) -> Result<String, Diagnostic> {
        // Into a buffer the size of this thread's last page: Tera's starts at 2 KB and
        // doubles, copying each 30 KB page about four times over (~1% of a build). A
        // listing (megabytes) does not size the page after it.
        let hint = LAST_SIZE.get().min(MAX_SIZE_HINT);
        let mut buffer = Vec::with_capacity(hint + hint / 8);
        let rendered = self.tera.render_to(name, ctx, &mut buffer).and_then(|()| {
            LAST_SIZE.set(buffer.len());
            String::from_utf8(buffer).map_err(|e| tera::Error::msg(e.to_string()))
        });
        rendered.map_err(|e| {
            let name = self.blamed(name, &error_chain(&e));
            let path = self
                .paths
                .get(name)
                .cloned()
                .unwrap_or_else(|| PathBuf::from(name));
            let src = self.sources.get(name).map(String::as_str).unwrap_or("");
            template_diagnostic(&path, src, &e, Some(page_source))
        })
    }

    /// The template to report a render error of `name` against: the one Tera names as
    /// being rendered (an included partial), or else the first of it and the templates
    /// it pulls in (`extends`, `include`, `import`, nearest first) whose source holds
    /// the variable or function the error names, so that a line can be found.
    fn blamed<'a>(&'a self, name: &'a str, chain: &str) -> &'a str {
        let start = included_in_error(chain)
            .and_then(|n| self.paths.get_key_value(n))
            .map_or(name, |(n, _)| n.as_str());
        let Some(named) = named_in(chain).filter(|_| !chain.contains(" --> ")) else {
            return start;
        };
        let mut queue = VecDeque::from([start]);
        let mut seen = HashSet::new();
        while let Some(t) = queue.pop_front() {
            let Some((t, src)) = self.sources.get_key_value(t) else {
                continue;
            };
            if !seen.insert(t.as_str()) {
                continue;
            }
            if src.contains(named) {
                return t;
            }
            queue.extend(references(src));
        }
        start
    }
}

/// Names a template pulls in with `extends`, `include` or `import`.
fn references(src: &str) -> Vec<&str> {
    let mut out = Vec::new();
    for tag in src.split("{%").skip(1) {
        let tag = tag.trim_start_matches('-').trim_start();
        if ["extends", "include", "import"]
            .iter()
            .any(|k| tag.starts_with(k))
        {
            let mut parts = tag.split(['"', '\'']);
            if let (Some(_), Some(name)) = (parts.next(), parts.next()) {
                out.push(name);
            }
        }
    }
    out
}

fn str_arg(args: &HashMap<String, Value>, key: &str, func: &str) -> tera::Result<String> {
    match args.get(key) {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(other) => Err(tera::Error::msg(format!(
            "{func}(): `{key}` must be a string, not {other}"
        ))),
        None => Err(tera::Error::msg(format!("{func}() needs `{key}=...`"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_references() {
        let src = "{% extends \"base.html\" %}{%- include 'partials/a.html' %}{% import \"m.html\" as m %}{% if x %}";
        assert_eq!(references(src), ["base.html", "partials/a.html", "m.html"]);
    }
}
