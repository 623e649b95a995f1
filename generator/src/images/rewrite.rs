//! Finding the images in a page's rendered Markdown and putting a `<picture>` in place
//! of each local photo. pulldown-cmark writes every image as
//! `<img src="..." alt="..." />` (with `title` when given), so the tags are found in
//! its output rather than by changing how Markdown is rendered.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use site_config::{unescape_html, Diagnostic};

use super::{picture_html, problem, Loading, Photo, Photos, Use};

/// A page's HTML with its photos replaced, and what that needed.
#[derive(Debug, Default)]
pub struct Rewritten {
    /// The new HTML.
    pub html: String,
    /// Each photo shown, with where.
    pub uses: Vec<(Arc<Photo>, Use)>,
    /// Photos that cannot be read, at their line.
    pub problems: Vec<Diagnostic>,
    /// Photos published with a warning (too large).
    pub warnings: Vec<Diagnostic>,
}

/// Where a page's images come from.
pub struct PageImages<'a> {
    /// The site's photos.
    pub photos: &'a Photos,
    /// The page's source file, for messages.
    pub page: &'a Path,
    /// Image addresses found in the Markdown, with their lines, in order.
    pub lines: &'a [(String, usize)],
    /// A site path (`/services/smp/a.jpg`) to the file published there, if local.
    pub locate: &'a dyn Fn(&str) -> Option<PathBuf>,
}

impl PageImages<'_> {
    /// The line of the first image at `url` not yet taken.
    fn line_of(&self, url: &str, taken: &mut Vec<usize>) -> Option<usize> {
        let i = self
            .lines
            .iter()
            .enumerate()
            .position(|(i, (u, _))| u == url && !taken.contains(&i))?;
        taken.push(i);
        Some(self.lines[i].1)
    }

    /// The photo at site path `url`, planned, with its use recorded in `out`.
    pub fn photo(&self, url: &str, line: Option<usize>, out: &mut Rewritten) -> Option<Arc<Photo>> {
        let path = (self.locate)(url).filter(|p| Photos::is_photo(p))?;
        let u = Use {
            page: self.page.to_path_buf(),
            line,
        };
        match self.photos.plan(&path) {
            Ok(photo) => {
                if let Some(w) = &photo.warning {
                    let d = Diagnostic::new(&u.page, w.clone());
                    out.warnings.push(match line {
                        Some(l) => d.at_line(l),
                        None => d,
                    });
                }
                out.uses.push((photo.clone(), u));
                Some(photo)
            }
            Err(e) => {
                out.problems.push(problem(&u, &e));
                None
            }
        }
    }
}

/// Replaces every local photo's `<img>` in `html`. `first` is true while the page has
/// shown no photo yet; the first one is fetched early, every later one lazily.
pub fn rewrite_images(html: &str, images: &PageImages<'_>, first: &mut bool) -> Rewritten {
    let mut out = Rewritten::default();
    let mut taken = Vec::new();
    let mut rest = html;
    let mut result = String::with_capacity(html.len());
    while let Some(start) = rest.find("<img ") {
        result.push_str(&rest[..start]);
        let tag = &rest[start..];
        let Some((attrs, len)) = parse_img(tag) else {
            result.push_str("<img ");
            rest = &tag[5..];
            continue;
        };
        let get = |name: &str| {
            attrs
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.as_str())
        };
        let src = get("src").unwrap_or("");
        let url = percent_encoding::percent_decode_str(src)
            .decode_utf8_lossy()
            .into_owned();
        let line = images
            .line_of(src, &mut taken)
            .or_else(|| images.line_of(&url, &mut taken));
        let photo = if url.starts_with('/') && !url.starts_with("//") {
            images.photo(&url, line, &mut out)
        } else {
            None
        };
        match photo {
            Some(photo) => {
                let loading = if std::mem::take(first) {
                    Loading::First
                } else {
                    Loading::Lazy
                };
                result.push_str(&picture_html(
                    &photo,
                    get("alt").unwrap_or(""),
                    get("title"),
                    get("class"),
                    loading,
                ));
            }
            None => result.push_str(&tag[..len]),
        }
        rest = &tag[len..];
    }
    result.push_str(rest);
    out.html = result;
    out
}

/// Reads `<img name="value" ... />` at the start of `tag`: the attributes (unescaped)
/// and the tag's length. `None` when it is not in the form pulldown-cmark writes.
fn parse_img(tag: &str) -> Option<(Vec<(String, String)>, usize)> {
    let mut i = 4;
    let b = tag.as_bytes();
    let mut attrs = Vec::new();
    loop {
        while i < b.len() && b[i] == b' ' {
            i += 1;
        }
        if tag[i..].starts_with("/>") {
            return Some((attrs, i + 2));
        }
        if tag[i..].starts_with('>') {
            return Some((attrs, i + 1));
        }
        let eq = tag[i..].find("=\"")? + i;
        let name = &tag[i..eq];
        if name.is_empty() || !name.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-') {
            return None;
        }
        let vstart = eq + 2;
        let vend = tag[vstart..].find('"')? + vstart;
        attrs.push((name.to_ascii_lowercase(), unescape_html(&tag[vstart..vend])));
        i = vend + 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_tags_pulldown_cmark_writes() {
        let (a, len) =
            parse_img("<img src=\"/a%20b.jpg\" alt=\"A &amp; B\" title=\"T\" /> after").unwrap();
        assert_eq!(a[0], ("src".into(), "/a%20b.jpg".into()));
        assert_eq!(a[1], ("alt".into(), "A & B".into()));
        assert_eq!(a[2], ("title".into(), "T".into()));
        assert_eq!(
            len,
            "<img src=\"/a%20b.jpg\" alt=\"A &amp; B\" title=\"T\" />".len()
        );
        assert!(parse_img("<img src=x>").is_none());
    }

    #[test]
    fn leaves_remote_and_missing_images_alone() {
        let dir = tempfile::tempdir().unwrap();
        let photos = Photos::new(dir.path());
        let images = PageImages {
            photos: &photos,
            page: Path::new("content/a.md"),
            lines: &[],
            locate: &|_| None,
        };
        let html = "<p><img src=\"https://x.example/a.jpg\" alt=\"a\" /> <img src=\"/b.svg\" alt=\"b\" /></p>";
        let r = rewrite_images(html, &images, &mut true);
        assert_eq!(r.html, html);
        assert!(r.uses.is_empty() && r.problems.is_empty());
    }
}
