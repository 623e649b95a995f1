//! Photos: every local JPEG, PNG or WebP a page shows becomes a responsive `<picture>`
//! (AVIF and WebP at a few widths, a JPEG or PNG fallback), re-encoded from pixels so no
//! metadata (EXIF, GPS, serial numbers, XMP, thumbnails) is ever published.
//!
//! The work is split so a preview never waits for encoding: [`Photos::plan`] reads a
//! file's header and hash (fast) and fixes every output name and size, which is all the
//! HTML needs; [`Photos::encode`] makes the files, in parallel, into a cache folder
//! keyed by content and settings, so unchanged photos cost nothing on the next build.

mod cache;
mod gallery;
mod html;
mod plan;
mod process;
mod rewrite;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rayon::prelude::*;
use site_config::Diagnostic;

pub use gallery::{gallery_html, markdown_galleries, Figure};
pub use html::{picture_html, Loading};
pub use plan::{Fallback, Photo};
pub use rewrite::{rewrite_images, PageImages, Rewritten};

/// Widths (in pixels) published for each photo, never wider than the source.
pub const WIDTHS: [u32; 3] = [480, 960, 1440];
/// Width of the fallback `<img src>`, which is also the `og:image`.
pub const FALLBACK_WIDTH: u32 = 1200;
/// Above these a photo is published, with a warning: it is probably straight from a camera.
pub const WARN_BYTES: u64 = 20 * 1024 * 1024;
/// See [`WARN_BYTES`].
pub const WARN_PIXELS: u32 = 6000;
/// The most pixels a photo may have: decoding one takes 3 to 4 bytes a pixel, and a
/// file of a few hundred KB can claim billions. 250 megapixels is above any camera a
/// clinic would use (phones' 200 MP mode is 16,320×12,240).
pub const MAX_PIXELS: u64 = 250_000_000;

/// Refuses a photo of `width`×`height` pixels (as its header claims) over [`MAX_PIXELS`],
/// before anything is decoded.
pub(crate) fn check_pixels(shown: &str, width: u32, height: u32) -> Result<(), ImageError> {
    if u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(ImageError::TooLarge {
            path: shown.to_string(),
            width,
            height,
        });
    }
    Ok(())
}
/// Where processed files are published (the `_headers` file makes `/assets/*` immutable).
pub const OUTPUT_DIR: &str = "assets/img";
/// The cache folder, relative to the site root (git-ignored).
pub const CACHE_DIR: &str = ".cache/images";

/// Why a photo cannot be published.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ImageError {
    /// The file could not be read.
    #[error("cannot read {path}: {reason}")]
    Read {
        /// Shown path.
        path: String,
        /// What the OS said.
        reason: String,
    },
    /// The file is not an image this build can read (corrupt, truncated, or another format).
    #[error("{path} is not a readable JPEG, PNG or WebP image ({reason})")]
    Decode {
        /// Shown path.
        path: String,
        /// What the decoder said.
        reason: String,
    },
    /// More pixels than [`MAX_PIXELS`].
    #[error("{path} is {width}×{height} px, more than the {} megapixels a photo may have; export a smaller copy (2,000 to 3,000 px wide is plenty)", MAX_PIXELS / 1_000_000)]
    TooLarge {
        /// Shown path.
        path: String,
        /// Its width in pixels, as the file claims.
        width: u32,
        /// Its height.
        height: u32,
    },
    /// A format that browsers or this build do not handle (HEIC, TIFF, BMP...).
    #[error(
        "{path}: {format} images cannot be published; export it as JPEG (photos) or PNG (drawings)"
    )]
    Unsupported {
        /// Shown path.
        path: String,
        /// The format's name.
        format: String,
    },
    /// The processed files could not be written to the cache.
    #[error("cannot write the processed image {path}: {reason}")]
    Write {
        /// The cache file.
        path: String,
        /// What the OS said.
        reason: String,
    },
}

/// Where a page uses a photo, for messages.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Use {
    /// The page's source file (`content/services/smp.md`).
    pub page: PathBuf,
    /// 1-based line, when known.
    pub line: Option<usize>,
}

/// A planned photo with the length and modification time its file had then.
type Known = (u64, Option<std::time::SystemTime>, Arc<Photo>);

/// The photos of one site: plans by source file, and where each is used.
#[derive(Debug)]
pub struct Photos {
    root: PathBuf,
    cache: PathBuf,
    /// Plans by source path, with the file's length and modification time, so an
    /// unchanged file is not read again while serving.
    plans: Mutex<HashMap<PathBuf, Known>>,
}

impl Photos {
    /// Photos of the site at `root`, cached in `root/.cache/images`.
    pub fn new(root: &Path) -> Photos {
        Photos {
            root: root.to_path_buf(),
            cache: root.join(CACHE_DIR),
            plans: Mutex::new(HashMap::new()),
        }
    }

    /// True for the files this module publishes as responsive images.
    pub fn is_photo(path: &Path) -> bool {
        path.extension().and_then(|e| e.to_str()).is_some_and(|e| {
            matches!(
                e.to_ascii_lowercase().as_str(),
                "jpg" | "jpeg" | "png" | "webp"
            )
        })
    }

    /// The plan for the photo at `source` (an absolute path or one under the root).
    pub fn plan(&self, source: &Path) -> Result<Arc<Photo>, ImageError> {
        let shown = source
            .strip_prefix(&self.root)
            .unwrap_or(source)
            .display()
            .to_string();
        let meta = std::fs::metadata(source).map_err(|e| ImageError::Read {
            path: shown.clone(),
            reason: e.to_string(),
        })?;
        let modified = meta.modified().ok();
        {
            let plans = self.plans.lock().unwrap_or_else(|e| e.into_inner());
            if let Some((len, m, photo)) = plans.get(source) {
                if *len == meta.len() && *m == modified && modified.is_some() {
                    return Ok(photo.clone());
                }
            }
        }
        let photo = Arc::new(plan::plan(source, &shown)?);
        self.plans
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(source.to_path_buf(), (meta.len(), modified, photo.clone()));
        Ok(photo)
    }

    /// The cache file that holds `photo`'s output `name`.
    pub fn cache_path(&self, name: &str) -> PathBuf {
        self.cache.join(name)
    }

    /// True for a file this module made (already clean).
    pub fn is_cache_file(&self, path: &Path) -> bool {
        path.starts_with(&self.cache)
    }

    /// True when every file of `photo` is already in the cache.
    pub fn is_cached(&self, photo: &Photo) -> bool {
        photo
            .outputs()
            .iter()
            .all(|o| self.cache_path(&o.name).is_file())
    }

    /// Makes the files of every photo not yet in the cache, in parallel. Returns a
    /// problem for each photo that failed, placed at its uses.
    pub fn encode(&self, photos: &BTreeMap<String, (Arc<Photo>, Vec<Use>)>) -> Vec<Diagnostic> {
        let todo: Vec<&(Arc<Photo>, Vec<Use>)> = photos
            .values()
            .filter(|(p, _)| !self.is_cached(p))
            .collect();
        todo.par_iter()
            .filter_map(|(photo, uses)| {
                process::encode(photo, &self.cache).err().map(|e| (e, uses))
            })
            .collect::<Vec<_>>()
            .into_iter()
            .flat_map(|(e, uses)| uses.iter().map(|u| problem(u, &e)).collect::<Vec<_>>())
            .collect()
    }
}

/// A problem with a photo, placed where a page uses it.
pub fn problem(u: &Use, e: &ImageError) -> Diagnostic {
    let d = Diagnostic::new(&u.page, e.to_string());
    match u.line {
        Some(l) => d.at_line(l),
        None => d,
    }
}
