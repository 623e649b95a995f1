//! Galleries: photos shown together, with captions. Editors write them without HTML,
//! either as `gallery:` in the front matter or, in Markdown, as a paragraph holding
//! only images (two or more), each image's title (`![alt](a.jpg "Before")`) becoming
//! its caption.

use site_config::{escape_html, unescape_html};

/// One photo of a gallery, as HTML: the `<img>` (later replaced by a `<picture>`) and
/// the caption text.
pub struct Figure {
    /// `<img>` HTML.
    pub img: String,
    /// Plain-text caption.
    pub caption: Option<String>,
}

/// The class a gallery gives its photos: a photo with it is fetched at a grid cell's
/// width, not the text column's ([`super::html::GALLERY_SIZES`]).
pub(super) const GALLERY_PHOTO: &str = "gallery__photo";

/// A gallery's HTML.
pub fn gallery_html(figures: &[Figure]) -> String {
    let mut s = String::from("<div class=\"gallery\">");
    for f in figures {
        s.push_str("<figure>");
        match f.img.strip_prefix("<img ") {
            Some(rest) if !f.img.contains(" class=\"") => {
                s.push_str("<img class=\"");
                s.push_str(GALLERY_PHOTO);
                s.push_str("\" ");
                s.push_str(rest);
            }
            _ => s.push_str(&f.img),
        }
        if let Some(c) = f.caption.as_deref().filter(|c| !c.trim().is_empty()) {
            s.push_str("<figcaption>");
            s.push_str(&escape_html(c));
            s.push_str("</figcaption>");
        }
        s.push_str("</figure>");
    }
    s.push_str("</div>");
    s
}

/// Turns each paragraph of rendered Markdown that holds only two or more images into
/// a gallery, their titles as captions.
pub fn markdown_galleries(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(start) = rest.find("<p><img ") {
        out.push_str(&rest[..start]);
        let para = &rest[start..];
        let Some(end) = para.find("</p>") else {
            break;
        };
        let inner = &para[3..end];
        match images_only(inner) {
            Some(figures) if figures.len() >= 2 => out.push_str(&gallery_html(&figures)),
            _ => out.push_str(&para[..end + 4]),
        }
        rest = &para[end + 4..];
    }
    out.push_str(rest);
    out
}

/// The images of `inner` when it holds nothing else (whitespace aside).
fn images_only(inner: &str) -> Option<Vec<Figure>> {
    let mut figures = Vec::new();
    let mut rest = inner.trim_start();
    while !rest.is_empty() {
        if !rest.starts_with("<img ") {
            return None;
        }
        let end = rest.find("/>")? + 2;
        let tag = &rest[..end];
        let (img, caption) = match tag.find(" title=\"") {
            Some(t) => {
                let v = t + 8;
                let close = tag[v..].find('"')? + v;
                let caption = unescape_html(&tag[v..close]);
                (format!("{}{}", &tag[..t], &tag[close + 1..]), Some(caption))
            }
            None => (tag.to_string(), None),
        };
        figures.push(Figure { img, caption });
        rest = rest[end..].trim_start();
    }
    Some(figures)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_paragraph_of_images_is_a_gallery() {
        let html = "<p>Text</p>\n<p><img src=\"/a.jpg\" alt=\"A\" title=\"Before &amp; after\" />\n<img src=\"/b.jpg\" alt=\"B\" /></p>\n";
        assert_eq!(
            markdown_galleries(html),
            "<p>Text</p>\n<div class=\"gallery\"><figure><img class=\"gallery__photo\" src=\"/a.jpg\" alt=\"A\" /><figcaption>Before &amp; after</figcaption></figure><figure><img class=\"gallery__photo\" src=\"/b.jpg\" alt=\"B\" /></figure></div>\n"
        );
    }

    #[test]
    fn one_image_or_images_with_text_stay() {
        for html in [
            "<p><img src=\"/a.jpg\" alt=\"A\" /></p>",
            "<p><img src=\"/a.jpg\" alt=\"A\" /> and <img src=\"/b.jpg\" alt=\"B\" /></p>",
        ] {
            assert_eq!(markdown_galleries(html), html);
        }
    }
}
