//! The `<picture>` element for a planned photo: AVIF and WebP sources with `srcset`
//! and `sizes`, and an `<img>` fallback with `width` and `height`, so nothing shifts
//! while it loads.

use std::fmt::Write;

use site_config::escape_html;

use super::Photo;

/// How the browser should fetch a photo.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Loading {
    /// The page's first photo, probably in the first screen: fetched early.
    First,
    /// Every other photo: fetched when scrolled near, decoded off the main thread.
    Lazy,
}

/// The theme's text column is 42rem wide; on phones photos span the screen less the
/// page's padding.
pub(super) const SIZES: &str = "(min-width: 44rem) 42rem, calc(100vw - 2rem)";

/// A gallery's photos share the column, two or more a row (cells of at least 9rem).
pub(super) const GALLERY_SIZES: &str = "(min-width: 44rem) 21rem, calc(50vw - 1.5rem)";

/// `<picture>` HTML for `photo`. `alt` and `title` are plain text; `class` goes on the `<img>`.
pub fn picture_html(
    photo: &Photo,
    alt: &str,
    title: Option<&str>,
    class: Option<&str>,
    loading: Loading,
) -> String {
    let sizes = if class == Some(super::gallery::GALLERY_PHOTO) {
        GALLERY_SIZES
    } else {
        SIZES
    };
    let mut s = String::from("<picture>");
    for (ext, mime) in [("avif", "image/avif"), ("webp", "image/webp")] {
        let srcset: Vec<String> = photo
            .outputs()
            .into_iter()
            .filter(|o| o.ext == ext)
            .map(|o| format!("{} {}w", photo.url(&o), o.width))
            .collect();
        let _ = write!(
            s,
            "<source type=\"{mime}\" srcset=\"{}\" sizes=\"{sizes}\">",
            srcset.join(", ")
        );
    }
    let fallback = photo.fallback_output();
    let _ = write!(
        s,
        "<img src=\"{}\" alt=\"{}\" width=\"{}\" height=\"{}\"",
        photo.url(&fallback),
        escape_html(alt),
        fallback.width,
        photo.height_at(fallback.width)
    );
    if let Some(t) = title.filter(|t| !t.is_empty()) {
        let _ = write!(s, " title=\"{}\"", escape_html(t));
    }
    if let Some(c) = class {
        let _ = write!(s, " class=\"{}\"", escape_html(c));
    }
    s.push_str(match loading {
        Loading::First => " fetchpriority=\"high\">",
        Loading::Lazy => " loading=\"lazy\" decoding=\"async\">",
    });
    s.push_str("</picture>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::images::Fallback;

    fn photo(width: u32, height: u32) -> Photo {
        Photo {
            source: "a.jpg".into(),
            shown: "content/a.jpg".into(),
            width,
            height,
            fallback: Fallback::Jpeg,
            widths: crate::images::plan::widths_for(width),
            stem: "hairline.0123456789".into(),
            warning: None,
        }
    }

    #[test]
    fn a_picture_has_sources_sizes_and_dimensions() {
        let html = picture_html(
            &photo(3024, 4032),
            "A \"soft\" hairline",
            None,
            None,
            Loading::Lazy,
        );
        assert!(html.starts_with("<picture><source type=\"image/avif\" srcset=\"/assets/img/hairline.0123456789.480.avif 480w, /assets/img/hairline.0123456789.960.avif 960w, /assets/img/hairline.0123456789.1440.avif 1440w\" sizes="), "{html}");
        assert!(html.contains("<source type=\"image/webp\" srcset=\"/assets/img/hairline.0123456789.480.webp 480w,"), "{html}");
        assert!(html.contains("<img src=\"/assets/img/hairline.0123456789.1200.jpg\" alt=\"A &quot;soft&quot; hairline\" width=\"1200\" height=\"1600\" loading=\"lazy\" decoding=\"async\"></picture>"), "{html}");
    }

    #[test]
    fn the_first_photo_is_fetched_early_and_small_ones_stay_small() {
        let html = picture_html(
            &photo(640, 480),
            "x",
            Some("t"),
            Some("page-image"),
            Loading::First,
        );
        assert!(html.contains("srcset=\"/assets/img/hairline.0123456789.480.avif 480w, /assets/img/hairline.0123456789.640.avif 640w\""), "{html}");
        assert!(html.contains("width=\"640\" height=\"480\" title=\"t\" class=\"page-image\" fetchpriority=\"high\">"), "{html}");
        assert!(!html.contains("loading="), "{html}");
    }
}
