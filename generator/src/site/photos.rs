//! The site's side of photos: which file an image address means, each page's HTML with
//! `<picture>`s in place, the processed files added to the output, and the original
//! files replaced by clean copies. The image work itself is in [`crate::images`].

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::Value;
use site_config::{escape_html, Diagnostic, Diagnostics, SiteConfig};

use crate::content::Page;
use crate::images::{
    gallery_html, markdown_galleries, picture_html, rewrite_images, Figure, Loading, PageImages,
    Photo, Photos, Rewritten, Use, OUTPUT_DIR,
};
use crate::output::{Output, OutputFile};
use crate::Error;

use super::reuse::RecordedPhoto;
use super::Site;

/// Photos by output stem, with every place they are used.
pub type PhotoUses = BTreeMap<String, (Arc<Photo>, Vec<Use>)>;

impl Site {
    /// Photos over the size limits (a warning: they are published all the same).
    pub fn photo_warnings(&self) -> Vec<Diagnostic> {
        let all: Vec<Diagnostic> = self
            .page_photos
            .values()
            .flat_map(|p| p.warnings.iter().cloned())
            .collect();
        let mut all = Diagnostics(all);
        all.sort();
        all.0
    }

    /// Makes every photo's files that are not cached yet (in parallel). A photo that
    /// cannot be decoded is a problem at each line that shows it.
    pub fn encode_photos(&self) -> Result<(), Error> {
        let problems = self.photos.encode(&self.photo_uses);
        all_or_nothing(problems)
    }

    /// The photo work a preview can do in the background: the photos not yet cached.
    pub fn pending_photos(&self) -> (Arc<Photos>, PhotoUses) {
        let todo = self
            .photo_uses
            .iter()
            .filter(|(_, (p, _))| !self.photos.is_cached(p))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        (self.photos.clone(), todo)
    }

    /// The photos page `i` showed when it was last rendered, as its record lists them;
    /// `None` when one cannot be planned now, is over the size limits, or is not the
    /// file it was (the page is rendered, and says why).
    pub(super) fn recorded_photos(&self, i: usize, shown: &[RecordedPhoto]) -> Option<PagePhotos> {
        let page = &self.content.pages[i];
        let mut uses = Vec::with_capacity(shown.len());
        for recorded in shown {
            let photo = self
                .photos
                .plan(&self.opts.root.join(&recorded.source))
                .ok()?;
            if photo.warning.is_some() || photo.stem != recorded.stem {
                return None;
            }
            let at = Use {
                page: page.source.clone(),
                line: recorded.line,
            };
            uses.push((photo, at));
        }
        Some(PagePhotos {
            uses,
            ..PagePhotos::default()
        })
    }

    /// How page `photos` are recorded ([`Site::recorded_photos`] reads them back).
    pub(super) fn record_photos(photos: &PagePhotos) -> Vec<RecordedPhoto> {
        photos
            .uses
            .iter()
            .map(|(photo, u)| RecordedPhoto {
                source: photo.shown.clone(),
                line: u.line,
                stem: photo.stem.clone(),
            })
            .collect()
    }

    /// Collects the photos every page uses and puts their files in the output.
    pub fn publish_photos(&mut self) -> Result<(), Error> {
        let mut uses = PhotoUses::new();
        for p in self.page_photos.values() {
            for (photo, u) in &p.uses {
                uses.entry(photo.stem.clone())
                    .or_insert_with(|| (photo.clone(), Vec::new()))
                    .1
                    .push(u.clone());
            }
        }
        let problems = publish(&mut self.output, &mut uses, &self.photos, &self.opts.root);
        self.photo_uses = uses;
        all_or_nothing(problems)
    }
}

/// Ok when there are no problems, else all of them, in file and line order.
fn all_or_nothing(problems: Vec<Diagnostic>) -> Result<(), Error> {
    if problems.is_empty() {
        return Ok(());
    }
    let mut all = Diagnostics(problems);
    all.sort();
    Err(Error::Site(all))
}

/// What a page's photos change in what its template sees.
#[derive(Debug, Default)]
pub(super) struct PagePhotos {
    /// Every photo the page shows, with where.
    pub uses: Vec<(Arc<Photo>, Use)>,
    /// Photos over the size limits.
    pub warnings: Vec<Diagnostic>,
    /// The processed `image:`, when it is a photo.
    pub hero: Option<Arc<Photo>>,
}

/// Where published files come from: files beside pages, then the site's and the theme's
/// `static/`.
pub(super) struct Locator {
    /// The site's root, which pages' sources are relative to.
    root: PathBuf,
    content: HashMap<String, PathBuf>,
    statics: [PathBuf; 2],
}

impl Locator {
    pub(super) fn new(root: &Path, theme: &str, assets: &[(PathBuf, String)]) -> Locator {
        Locator {
            root: root.to_path_buf(),
            content: assets.iter().map(|(p, u)| (u.clone(), p.clone())).collect(),
            statics: [
                root.join("static"),
                root.join("themes").join(theme).join("static"),
            ],
        }
    }

    /// The file published at site path `url`, if it is on disk.
    pub(super) fn locate(&self, url: &str) -> Option<PathBuf> {
        let path = url.split(['?', '#']).next().unwrap_or(url);
        if let Some(p) = self.content.get(path) {
            return Some(p.clone());
        }
        let rel = path.trim_start_matches('/');
        if rel.is_empty() || rel.split('/').any(|s| s == "..") {
            return None;
        }
        self.statics
            .iter()
            .map(|d| d.join(rel))
            .find(|p| p.is_file())
    }
}

/// Puts `<picture>`s into the page value `value` (its `content`, FAQ answers, and
/// `image_html` for the `image:`), and `og_image` (absolute URL of the 1200 px
/// version). Problems are a photo that cannot be read, at the line that shows it.
pub(super) fn apply(
    page: &Page,
    value: &mut Value,
    photos: &Photos,
    locator: &Locator,
    config: &SiteConfig,
) -> Result<PagePhotos, Vec<Diagnostic>> {
    let mut lines: Vec<(String, usize)> = page
        .links
        .iter()
        .filter(|l| l.link.is_image)
        .map(|l| (l.link.url.clone(), l.link.line))
        .collect();
    // The line is read from the page's file again: a file read per page, when only a
    // page with a gallery needs it.
    let gallery_line = if page.gallery.is_empty() {
        None
    } else {
        key_line(&locator.root, page, "gallery")
    };
    if let Some(line) = gallery_line {
        lines.extend(page.gallery.iter().map(|g| (g.image.clone(), line)));
    }
    let locate = |u: &str| locator.locate(u);
    let images = PageImages {
        photos,
        page: &page.source,
        lines: &lines,
        locate: &locate,
    };
    let mut all = Rewritten::default();
    let mut first = true;
    let mut result = PagePhotos::default();
    // The `image:` is shown above the text by the themes, so it is the page's first.
    if let (Some(url), Some(obj)) = (&page.image, value.as_object_mut()) {
        let line = key_line(&locator.root, page, "image");
        if let Some(photo) = images.photo(url, line, &mut all) {
            let html = picture_html(
                &photo,
                page.image_alt.as_deref().unwrap_or(""),
                None,
                Some("page-image"),
                if std::mem::take(&mut first) {
                    Loading::First
                } else {
                    Loading::Lazy
                },
            );
            obj.insert("image_html".into(), html.into());
            let og = photo.fallback_output();
            obj.insert(
                "og_image".into(),
                format!("{}{}", config.base_url, photo.url(&og)).into(),
            );
            obj.insert("og_image_width".into(), og.width.into());
            obj.insert("og_image_height".into(), photo.height_at(og.width).into());
            result.hero = Some(photo);
        }
    }
    // Only HTML with an image changes (most pages have none: no copy then).
    let has_image = |v: &Value| v.as_str().is_some_and(|h| h.contains("<img "));
    if let Some(html) = value
        .get("content")
        .filter(|v| has_image(v))
        .and_then(Value::as_str)
    {
        let mut r = rewrite_images(&markdown_galleries(html), &images, &mut first);
        value["content"] = std::mem::take(&mut r.html).into();
        merge(&mut all, r);
    }
    if let Some(faqs) = value.get_mut("faqs").and_then(Value::as_array_mut) {
        for faq in faqs {
            if let Some(html) = faq
                .get("answer")
                .filter(|v| has_image(v))
                .and_then(Value::as_str)
            {
                let mut r = rewrite_images(html, &images, &mut first);
                faq["answer"] = std::mem::take(&mut r.html).into();
                merge(&mut all, r);
            }
        }
    }
    if !page.gallery.is_empty() {
        for g in &page.gallery {
            if locator.locate(&g.image).is_none() {
                let d = Diagnostic::new(
                    &page.source,
                    format!(
                        "gallery photo {} is not a file beside the page or in static/",
                        g.image
                    ),
                );
                all.problems.push(match gallery_line {
                    Some(l) => d.at_line(l),
                    None => d,
                });
            }
        }
        let html = front_matter_gallery(page);
        let mut r = rewrite_images(&html, &images, &mut first);
        if let Some(obj) = value.as_object_mut() {
            obj.insert("gallery_html".into(), std::mem::take(&mut r.html).into());
        }
        merge(&mut all, r);
    }
    if !all.problems.is_empty() {
        return Err(all.problems);
    }
    result.uses = all.uses;
    result.warnings = all.warnings;
    Ok(result)
}

fn merge(into: &mut Rewritten, from: Rewritten) {
    into.uses.extend(from.uses);
    into.problems.extend(from.problems);
    into.warnings.extend(from.warnings);
}

/// The line of `key:` in the front matter of `page`, of the site at `root`.
fn key_line(root: &Path, page: &Page, key: &str) -> Option<usize> {
    crate::content::key_line_in_file(root, &page.source, key)
}

/// The `gallery:` of the front matter as `<img>`s in figures; each photo among them
/// becomes a `<picture>` like any other.
fn front_matter_gallery(page: &Page) -> String {
    let figures: Vec<Figure> = page
        .gallery
        .iter()
        .map(|g| Figure {
            img: format!(
                "<img src=\"{}\" alt=\"{}\" />",
                escape_html(&g.image),
                escape_html(&g.alt)
            ),
            caption: g.caption.clone(),
        })
        .collect();
    gallery_html(&figures)
}

/// Adds every processed file of `uses` to `output`, and replaces each original photo
/// copied as it was (beside a page or from `static/`) by its clean fallback, so no
/// published file keeps the camera's metadata. Problems are originals that cannot be read.
pub(super) fn publish(
    output: &mut Output,
    uses: &mut PhotoUses,
    photos: &Photos,
    root: &Path,
) -> Vec<Diagnostic> {
    let mut problems = Vec::new();
    let originals: Vec<(String, PathBuf)> = output
        .iter()
        .filter_map(|(k, f)| match f {
            OutputFile::Copy(p) if Photos::is_photo(p) && !photos.is_cache_file(p) => {
                Some((k.clone(), p.clone()))
            }
            _ => None,
        })
        .collect();
    for (key, path) in originals {
        let shown = path.strip_prefix(root).unwrap_or(&path).to_path_buf();
        match photos.plan(&path) {
            Ok(photo) => {
                output.insert(
                    key,
                    OutputFile::Copy(photos.cache_path(&photo.fallback_output().name)),
                );
                uses.entry(photo.stem.clone())
                    .or_insert_with(|| (photo.clone(), Vec::new()))
                    .1
                    .push(Use {
                        page: shown,
                        line: None,
                    });
            }
            Err(e) => {
                output.remove(&key);
                problems.push(Diagnostic::new(shown, e.to_string()));
            }
        }
    }
    output.retain(|k, _| !k.starts_with(OUTPUT_DIR));
    for (photo, _) in uses.values() {
        for o in photo.outputs() {
            output.insert(
                format!("{OUTPUT_DIR}/{}", o.name),
                OutputFile::Copy(photos.cache_path(&o.name)),
            );
        }
    }
    problems
}
