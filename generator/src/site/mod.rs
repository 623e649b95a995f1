//! The site: config, templates, content and static files loaded once, then rendered
//! either into an [`Output`] map in memory (`check`, and `serve`, which keeps a [`Site`]
//! and re-renders only the pages a change affects) or page by page to disk (`build`,
//! [`Site::write_into`], swapped in as the output by [`publish`]).

mod comments;
mod context;
pub mod deps;
mod edit;
mod listings;
mod photos;
mod publish;
mod reuse;
mod site_files;
mod spare_lock;
mod stream;

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use rayon::prelude::*;
use serde_json::Value;
use site_config::{Diagnostic, Diagnostics, SiteConfig};
use tera::Context;

use crate::content::cache::{self as shard, ContentCache};
use crate::content::{load_content_cached, reload_page, Content, Page, PageKind};
use crate::images::Photos;
use crate::links::{check_links, Targets};
use crate::output::{self, json_ld, AssetMap, Output, OutputFile};
use crate::templates::Templates;
use crate::urls::output_path;
use crate::Error;
use comments::PageComments;
pub use comments::{comments_file, DEFAULT_COMMENTS_FILE};
use context::{page_value, site_value, Contexts, Shape};
use deps::{is_listing, Target};
pub use photos::PhotoUses;
use photos::{Locator, PagePhotos};
pub use publish::{publish, Published};
pub use reuse::Record;
use site_files::is_thank_you;
pub use spare_lock::SpareLock;
pub use stream::{Opened, Stager};

/// One page rendered by [`Site::render_page`]: its HTML and the photos it shows.
pub struct RenderedPage {
    /// Where it goes in the output (`services/smp/index.html`).
    pub path: String,
    /// Its URL (`/services/smp/`).
    pub url: String,
    /// Its HTML.
    pub html: String,
    /// A form in it offers a service other than its own (so it shows their titles).
    pub offers_services: bool,
    photos: PagePhotos,
}

/// A rendered page, or every problem that kept it from rendering.
pub type Rendered = Result<RenderedPage, Vec<Diagnostic>>;

/// What a build needs to know beyond the site itself.
#[derive(Debug, Clone, Default)]
pub struct BuildOptions {
    /// The site root (holds `site.yaml`).
    pub root: PathBuf,
    /// Include pages marked `draft: true`.
    pub drafts: bool,
    /// Replaces `base_url` from `site.yaml` (for previews and staging).
    pub base_url: Option<String>,
    /// Replaces `form_service.url` from `site.yaml`: where the forms post.
    pub form_service_url: Option<String>,
    /// The published comments file, instead of `data/comments.json` in the root; it
    /// must exist when given.
    pub comments: Option<PathBuf>,
    /// Take the pages whose files did not change from the last build's cache instead
    /// of reading them (`build`; see [`crate::content::cache`]).
    pub content_cache: bool,
}

/// A loaded site and its rendered output.
pub struct Site {
    /// The options it was loaded with.
    pub opts: BuildOptions,
    /// The configuration.
    pub config: Arc<SiteConfig>,
    /// The pages and assets.
    pub content: Content,
    /// Every output file, once rendered.
    pub output: Output,
    templates: Templates,
    assets: AssetMap,
    /// The templates' contexts, holding `site`.
    contexts: Contexts,
    /// The services as listings show them, made when first needed and lent to one
    /// listing at a time ([`Site::render_listing`]): moved into its context and back.
    services_value: Mutex<Option<Value>>,
    /// A copy of them (about 40 MB at 10,000 services) for a second listing to render
    /// alongside the first, made only by a build that renders little else
    /// ([`Site::make_services`]).
    services_copy: Mutex<Option<Value>>,
    comments: PageComments,
    photos: Arc<Photos>,
    locator: Locator,
    /// Each rendered page's photos (by URL), and every photo published, with its uses.
    page_photos: HashMap<String, PagePhotos>,
    photo_uses: PhotoUses,
    /// Each page's output path to its index, for rendering a page when it is asked for.
    by_path: HashMap<String, usize>,
    /// The output paths of the pages kept rendered whose forms offered services other
    /// than their own ([`deps::Target::OfferingServices`]).
    offering_services: HashSet<String>,
    /// What the content cache depends on beyond the pages' files.
    cache_context: String,
}

/// Loads and renders the whole site. Every problem found in config, content and
/// templates is returned together.
pub fn build(opts: &BuildOptions) -> Result<Site, Error> {
    let mut site = Site::load(opts)?;
    let rendered = site.render_all();
    // Links are checked against the rendered site when it rendered, so ids the
    // templates write count; otherwise against the content, so one run still says all.
    let links = site.broken_links(rendered.is_ok());
    match rendered {
        Err(Error::Site(mut problems)) => {
            problems.0.extend(links.0);
            problems.sort();
            problems.0.dedup();
            Err(Error::Site(problems))
        }
        Err(e) => Err(e),
        Ok(()) if !links.is_empty() => Err(Error::Site(links)),
        Ok(()) => Ok(site),
    }
}

impl Site {
    /// Reads config, templates, content and static files; renders nothing.
    pub fn load(opts: &BuildOptions) -> Result<Site, Error> {
        let root = &opts.root;
        let mut config = SiteConfig::load(root)?;
        if let Some(url) = &opts.base_url {
            config.base_url = url.clone().try_into().map_err(Error::Usage)?;
        }
        if let Some(url) = &opts.form_service_url {
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                return Err(Error::Usage(format!(
                    "--form-service-url `{url}` must start with https:// or http://"
                )));
            }
            config.form_service.url = Some(url.trim_end_matches('/').to_string());
        }
        let config = Arc::new(config);
        let t = std::time::Instant::now();
        let templates = Templates::load(root, &config.theme);
        crate::timing::phase("templates", t);
        let t = std::time::Instant::now();
        // Reading a page does not depend on the address the site is published at
        // (`serve` and `--base-url` change it); listings' permalinks do, and are added
        // when the listings are made.
        let mut settings = (*config).clone();
        if let Ok(any) = String::from("https://site.invalid").try_into() {
            settings.base_url = any;
        }
        let cache_context = ContentCache::context(&format!("{:?}", (&settings, opts.drafts)));
        let cache = opts
            .content_cache
            .then(|| ContentCache::load(root, &cache_context));
        crate::timing::phase("content cache", t);
        let t = std::time::Instant::now();
        let (content, mut problems) = load_content_cached(root, &config, opts.drafts, cache);
        crate::timing::phase("content", t);
        let t = std::time::Instant::now();
        if let Err(t) = &templates {
            t.0.iter().cloned().for_each(|d| problems.push(d));
        }
        if !problems.is_empty() {
            // One run says everything: the links of every page that could be read too.
            let mut scratch = Output::new();
            let _ = output::collect_static(root, &config.theme, &mut scratch);
            let clashes = site_files::alias_clashes(root, &content, |p| scratch.contains_key(p));
            problems.0.extend(clashes.0);
            let targets = Targets::from_content(&content, scratch.into_keys());
            problems
                .0
                .extend(check_links(root, &content, &targets, &config).0);
            problems.sort();
            return Err(Error::Site(problems));
        }
        let templates = templates.map_err(Error::Site)?;
        let comments = PageComments::load(opts, &config, &content)?;
        let locator = Locator::new(root, &config.theme, &content.assets);
        let mut site = Site {
            opts: opts.clone(),
            contexts: Contexts::new(site_value(&config)),
            config,
            content,
            output: Output::new(),
            templates,
            assets: AssetMap::new(),
            services_value: Mutex::new(None),
            services_copy: Mutex::new(None),
            comments,
            photos: Arc::new(Photos::new(root)),
            locator,
            page_photos: HashMap::new(),
            photo_uses: PhotoUses::new(),
            by_path: HashMap::new(),
            offering_services: HashSet::new(),
            cache_context,
        };
        site.by_path = site
            .content
            .pages
            .iter()
            .enumerate()
            .map(|(i, p)| (output_path(&p.url), i))
            .collect();
        site.load_static()?;
        let clashes =
            site_files::alias_clashes(root, &site.content, |p| site.output.contains_key(p));
        if !clashes.is_empty() {
            return Err(Error::Site(clashes));
        }
        site.services_changed();
        crate::timing::phase("rest of load", t);
        Ok(site)
    }

    /// Internal links and anchors in the editors' Markdown that lead nowhere; against
    /// the rendered output when `rendered`, else against the content alone.
    pub fn broken_links(&self, rendered: bool) -> Diagnostics {
        let static_files = self.output.keys().cloned();
        let mut targets = Targets::from_content(&self.content, static_files);
        if rendered {
            targets.add_output(&self.output);
        }
        check_links(&self.opts.root, &self.content, &targets, &self.config)
    }

    /// Comments left out of the site because their page is not one of its service
    /// pages (a warning for `build`, a problem for `check`).
    pub fn comment_orphans(&self) -> &Diagnostics {
        &self.comments.orphans
    }

    /// Reads the static files again; returns the fingerprinted URLs that changed
    /// (old, new), so open pages can swap a stylesheet.
    pub fn load_static(&mut self) -> Result<Vec<(String, String)>, Error> {
        self.output
            .retain(|path, _| path.ends_with(".html") || !is_static_output(path, &self.assets));
        let old = std::mem::take(&mut self.assets);
        self.assets =
            output::collect_static(&self.opts.root, &self.config.theme, &mut self.output)?;
        let mut changed = Vec::new();
        for (key, url) in &self.assets {
            if let Some(before) = old.get(key) {
                if before != url {
                    changed.push((before.clone(), url.clone()));
                }
            }
        }
        // Pages link fingerprinted files by name: point them at the new names
        // rather than rendering every page again.
        for (before, after) in &changed {
            for file in self.output.values_mut() {
                if let OutputFile::Bytes(bytes) = file {
                    if let Some(text) = std::str::from_utf8(bytes)
                        .ok()
                        .filter(|t| t.contains(before.as_str()))
                    {
                        *bytes = text.replace(before.as_str(), after).into_bytes();
                    }
                }
            }
        }
        self.register_functions();
        Ok(changed)
    }

    /// Reads the templates again.
    pub fn load_templates(&mut self) -> Result<(), Error> {
        self.templates = Templates::load(&self.opts.root, &self.config.theme)?;
        self.register_functions();
        Ok(())
    }

    /// The names of the templates that use `name` (itself included), through
    /// `extends`, `include` and `import`.
    pub fn templates_using(&self, name: &str) -> Vec<String> {
        self.templates.dependents(name)
    }

    /// What this build read of each page, for the next build to take the pages whose
    /// files did not change instead of reading them: made now, saved by calling the
    /// returned function, which `build` does on a thread of its own while the pages
    /// render. A failure to save only costs the next build time.
    ///
    /// Once written, how listings show each page read from its file is kept as its
    /// fingerprint only (listings make theirs from the page; only a page from the cache
    /// needs the text): 6 MB fewer at 10,000 pages while they render.
    pub fn content_cache_saver(&mut self) -> impl FnOnce() -> std::io::Result<()> + Send + 'static {
        // A file of the cache is written again when a page in it was read.
        let mut dirty = [false; shard::SHARDS];
        let all = self.content.pages.iter().all(|p| !p.origin.cached);
        for p in self.content.pages.iter().filter(|p| !p.origin.cached) {
            dirty[shard::shard_of(&p.source)] = true;
        }
        let files = ContentCache::files(
            &self.cache_context,
            &self.content.addresses(),
            &self.content.pages,
            |n| all || dirty[n],
        );
        for p in self.content.pages.iter_mut().filter(|p| !p.origin.cached) {
            if let Some(listed) = &mut p.origin.listed {
                listed.text = String::new();
            }
        }
        let root = self.opts.root.clone();
        move || files.and_then(|files| ContentCache::save(&root, files))
    }

    /// Renders every page and the site-wide files.
    pub fn render_all(&mut self) -> Result<(), Error> {
        let all = self.pages_for(&BTreeSet::from([Target::AllPages]));
        self.check_templates()?;
        self.render_pages(&all)?;
        self.render_site_files()?;
        Ok(())
    }

    /// The pages these targets name, in site order.
    pub fn pages_for(&self, targets: &BTreeSet<Target>) -> Vec<usize> {
        let pages = &self.content.pages;
        if targets.contains(&Target::AllPages) {
            return (0..pages.len()).collect();
        }
        let listings = targets.contains(&Target::Listings);
        let offering = targets.contains(&Target::OfferingServices);
        (0..pages.len())
            .filter(|&i| {
                targets.contains(&Target::Page(i))
                    || listings && is_listing(pages[i].kind)
                    || offering && self.offering_services.contains(&output_path(&pages[i].url))
            })
            .collect()
    }

    /// Makes the site ready to serve with its pages rendered later, one by one
    /// ([`Site::render_page`]): checks the templates exist and renders the site-wide
    /// files. `serve` starts this way and renders the pages after it listens.
    pub fn prepare(&mut self) -> Result<(), Error> {
        self.check_templates()?;
        self.render_site_files()
    }

    /// The page whose output is at `path` (`services/smp/index.html`).
    pub fn page_at(&self, path: &str) -> Option<usize> {
        self.by_path.get(path).copied()
    }

    /// Pages whose HTML is not in the output yet: the listings first, then the others in
    /// site order. A listing takes longest (each shows every service: about 0.1 to 0.3 s
    /// at 10,000), and a save `serve` sees while one renders waits for it; first, they
    /// render while the preview starts rather than in the middle of an editor's work.
    pub fn unrendered(&self) -> impl Iterator<Item = usize> + '_ {
        let pages = &self.content.pages;
        let listings = (0..pages.len()).filter(|&i| is_listing(pages[i].kind));
        let others = (0..pages.len()).filter(|&i| !is_listing(pages[i].kind));
        listings
            .chain(others)
            .filter(|&i| !self.output.contains_key(&output_path(&pages[i].url)))
    }

    /// Keeps a page rendered elsewhere ([`Site::render_page`]) in the output; call
    /// [`Site::publish_photos`] once a batch is kept.
    pub fn keep_rendered(&mut self, page: RenderedPage) {
        if page.offers_services {
            self.offering_services.insert(page.path.clone());
        } else {
            self.offering_services.remove(&page.path);
        }
        self.output
            .insert(page.path, OutputFile::Bytes(page.html.into_bytes()));
        self.page_photos.insert(page.url, page.photos);
    }

    fn check_templates(&self) -> Result<(), Error> {
        let mut problems = Diagnostics::default();
        for p in &self.content.pages {
            if !self.templates.has(&p.template) {
                problems.push(Diagnostic::new(
                    &p.source,
                    format!(
                        "template `{}` does not exist in the theme or the site's templates/",
                        p.template
                    ),
                ));
            }
        }
        if !self.templates.has("404.html") {
            problems.push(Diagnostic::new(
                format!("themes/{}/templates/404.html", self.config.theme),
                "the theme has no 404.html template",
            ));
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(Error::Site(problems))
        }
    }

    /// Renders the pages at these indexes into the output; on any failure nothing
    /// is changed and every failure is returned.
    pub fn render_pages(&mut self, indexes: &[usize]) -> Result<Vec<String>, Error> {
        let rendered: Vec<Rendered> = indexes.par_iter().map(|&i| self.render_page(i)).collect();
        let mut problems = Diagnostics::default();
        let mut done = Vec::with_capacity(rendered.len());
        for r in rendered {
            match r {
                Ok(page) => done.push(page),
                Err(ds) => ds.into_iter().for_each(|d| problems.push(d)),
            }
        }
        if !problems.is_empty() {
            problems.sort();
            return Err(Error::Site(problems));
        }
        let paths = done.iter().map(|p| p.path.clone()).collect();
        for page in done {
            self.keep_rendered(page);
        }
        self.publish_photos()?;
        Ok(paths)
    }

    /// One page's output path and HTML, and the photos it shows; changes nothing.
    pub fn render_page(&self, i: usize) -> Rendered {
        let page = &self.content.pages[i];
        if page.origin.cached {
            // Taken from the content cache without its text: read it now. A file
            // changed since the site was loaded would mix two versions of the page.
            let rel = page.source.strip_prefix("content").unwrap_or(&page.source);
            let read = reload_page(&self.opts.root, &self.config, rel, &self.content)?;
            if read.origin.hash != page.origin.hash {
                return Err(vec![Diagnostic::new(
                    &page.source,
                    "this file changed while the site was being built",
                )
                .with_hint("build again")]);
            }
            return self.render_loaded(&read);
        }
        self.render_loaded(page)
    }

    fn render_loaded(&self, page: &Page) -> Rendered {
        let listing = is_listing(page.kind);
        let mut value = page_value(page, &self.config, Shape::Own);
        if let (Some(list), Some(obj)) = (
            self.comments.for_page(page.kind, &page.url),
            value.as_object_mut(),
        ) {
            obj.insert("comments".into(), list);
        }
        if let (true, Some(obj)) = (is_thank_you(&self.config, &page.url), value.as_object_mut()) {
            obj.insert("noindex".into(), true.into());
        }
        let photos = photos::apply(page, &mut value, &self.photos, &self.locator, &self.config)?;
        let og_image = value
            .get("og_image")
            .and_then(Value::as_str)
            .map(str::to_string);
        let json_ld = json_ld::for_page(page, &self.config, og_image.as_deref());
        let own = (page.kind == PageKind::Service).then_some(page.slug.as_str());
        let (html, offers_services) = crate::templates::noting_services(own, || {
            if listing {
                self.render_listing(&page.template, &page.source, &page.url, value, json_ld)
            } else {
                let render =
                    |ctx: &Context| self.templates.render(&page.template, ctx, &page.source);
                self.contexts
                    .render(&page.url, value, json_ld, None, render)
                    .0
            }
        });
        Ok(RenderedPage {
            path: output_path(&page.url),
            url: page.url.clone(),
            html: html.map_err(|d| vec![d])?,
            offers_services,
            photos,
        })
    }
}

fn is_static_output(path: &str, assets: &AssetMap) -> bool {
    assets.values().any(|u| u.trim_start_matches('/') == path)
}
