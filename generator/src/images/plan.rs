//! A photo's plan: what its header says (size after the camera's orientation, format)
//! and every file it will be published as, named by a hash of its bytes and the
//! settings. Reading a header takes milliseconds, so pages can be rendered before (and
//! without waiting for) the encoding.

use std::io::Cursor;
use std::path::{Path, PathBuf};

use image::{ImageDecoder, ImageFormat, ImageReader};
use site_config::slugify;

use super::{ImageError, FALLBACK_WIDTH, OUTPUT_DIR, WARN_BYTES, WARN_PIXELS, WIDTHS};

/// Changes whenever encoding settings change, so cached files made with older ones are
/// not reused.
pub(super) const SETTINGS: &str =
    "v1 avif q55 s10; webp q72; jpeg q80; widths 480 960 1440; fallback 1200; catmullrom";

/// The format of the `<img src>` every browser can show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fallback {
    /// Photos.
    Jpeg,
    /// Drawings and images with transparency.
    Png,
}

impl Fallback {
    /// File extension.
    pub fn ext(self) -> &'static str {
        match self {
            Fallback::Jpeg => "jpg",
            Fallback::Png => "png",
        }
    }
}

/// One photo, planned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Photo {
    /// The source file.
    pub source: PathBuf,
    /// The source as shown in messages (relative to the site root).
    pub shown: String,
    /// Width and height as displayed (the camera's orientation applied).
    pub width: u32,
    /// See `width`.
    pub height: u32,
    /// The fallback's format.
    pub fallback: Fallback,
    /// Widths of the AVIF and WebP versions, ascending.
    pub widths: Vec<u32>,
    /// `name.<hash>`: the stem of every output file.
    pub stem: String,
    /// Why this photo deserves a second look (too large), if it does.
    pub warning: Option<String>,
}

/// One file to publish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputName {
    /// File name in the cache and under [`OUTPUT_DIR`].
    pub name: String,
    /// Pixel width.
    pub width: u32,
    /// `avif`, `webp`, `jpg` or `png`.
    pub ext: &'static str,
}

impl Photo {
    /// Every file this photo is published as.
    pub fn outputs(&self) -> Vec<OutputName> {
        let mut out = Vec::with_capacity(self.widths.len() * 2 + 1);
        for ext in ["avif", "webp"] {
            for &w in &self.widths {
                out.push(OutputName {
                    name: format!("{}.{w}.{ext}", self.stem),
                    width: w,
                    ext,
                });
            }
        }
        out.push(self.fallback_output());
        out
    }

    /// The `<img src>` file, also used for `og:image` and the photo's own address.
    pub fn fallback_output(&self) -> OutputName {
        let w = self.width.min(FALLBACK_WIDTH);
        let ext = self.fallback.ext();
        OutputName {
            name: format!("{}.{w}.{ext}", self.stem),
            width: w,
            ext,
        }
    }

    /// The site path of an output file.
    pub fn url(&self, o: &OutputName) -> String {
        format!("/{OUTPUT_DIR}/{}", o.name)
    }

    /// Height of a version `w` pixels wide, keeping the proportions.
    pub fn height_at(&self, w: u32) -> u32 {
        ((u64::from(self.height) * u64::from(w) + u64::from(self.width) / 2)
            / u64::from(self.width.max(1)))
        .max(1) as u32
    }
}

/// The widths published for a source `source_width` pixels wide: the standard widths
/// below it, and the source's own width when it is smaller than the largest.
pub(super) fn widths_for(source_width: u32) -> Vec<u32> {
    let mut w: Vec<u32> = WIDTHS
        .iter()
        .copied()
        .filter(|&w| w < source_width)
        .collect();
    let largest = WIDTHS[WIDTHS.len() - 1];
    if source_width <= largest {
        w.push(source_width);
    } else {
        w.push(largest);
    }
    w.dedup();
    w
}

/// Reads `source`'s header and hash.
pub(super) fn plan(source: &Path, shown: &str) -> Result<Photo, ImageError> {
    let bytes = std::fs::read(source).map_err(|e| ImageError::Read {
        path: shown.to_string(),
        reason: e.to_string(),
    })?;
    let decode_err = |e: &dyn std::fmt::Display| ImageError::Decode {
        path: shown.to_string(),
        reason: e.to_string(),
    };
    let reader = ImageReader::new(Cursor::new(&bytes[..]))
        .with_guessed_format()
        .map_err(|e| decode_err(&e))?;
    let format = match reader.format() {
        Some(f @ (ImageFormat::Jpeg | ImageFormat::Png | ImageFormat::WebP)) => f,
        Some(other) => {
            return Err(ImageError::Unsupported {
                path: shown.to_string(),
                format: format!("{other:?}").to_uppercase(),
            })
        }
        None => return Err(sniff_unsupported(&bytes, shown)),
    };
    // The JPEG decoder forgives a file cut short and greys out what is missing; a
    // publishing build should not, so a JPEG must end its image data.
    if format == ImageFormat::Jpeg && !jpeg_has_end(&bytes) {
        return Err(decode_err(
            &"the file ends before the image does; it may have been cut off while copying",
        ));
    }
    let mut decoder = reader.into_decoder().map_err(|e| decode_err(&e))?;
    let (w, h) = decoder.dimensions();
    if w == 0 || h == 0 {
        return Err(decode_err(&"the image has no pixels"));
    }
    super::check_pixels(shown, w, h)?;
    let orientation = decoder.orientation().map_err(|e| decode_err(&e))?;
    let swaps = matches!(
        orientation,
        image::metadata::Orientation::Rotate90
            | image::metadata::Orientation::Rotate270
            | image::metadata::Orientation::Rotate90FlipH
            | image::metadata::Orientation::Rotate270FlipH
    );
    let (width, height) = if swaps { (h, w) } else { (w, h) };
    let has_alpha = decoder.color_type().has_alpha();
    let fallback = if format == ImageFormat::Jpeg || (format == ImageFormat::WebP && !has_alpha) {
        Fallback::Jpeg
    } else {
        Fallback::Png
    };
    let mut hasher = blake3::Hasher::new();
    hasher.update(SETTINGS.as_bytes());
    hasher.update(&bytes);
    let hash = hasher.finalize().to_hex();
    let name = source
        .file_stem()
        .and_then(|s| s.to_str())
        .map(slugify)
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "image".into());
    let warning = if bytes.len() as u64 > WARN_BYTES || width.max(height) > WARN_PIXELS {
        Some(format!(
            "{shown} is {:.1} MB and {width}×{height} px; it is published at most {} px wide, but a photo over 20 MB or 6,000 px is probably straight from a camera: export a smaller copy to keep builds quick",
            bytes.len() as f64 / 1_048_576.0,
            WIDTHS[WIDTHS.len() - 1],
        ))
    } else {
        None
    };
    Ok(Photo {
        source: source.to_path_buf(),
        shown: shown.to_string(),
        width,
        height,
        fallback,
        widths: widths_for(width),
        stem: format!("{name}.{}", &hash.as_str()[..10]),
        warning,
    })
}

/// True when a JPEG has an end-of-image marker after its first scan. Inside scan data
/// every 0xFF byte is followed by 0x00 or a restart marker, so 0xFF 0xD9 there is the
/// end. (Phones may append data after it, such as a motion photo's video.)
fn jpeg_has_end(bytes: &[u8]) -> bool {
    // Walk the segments before the first scan by their lengths: an EXIF thumbnail is a
    // whole JPEG inside one of them, with an end of its own.
    let mut i = 2;
    while i + 4 <= bytes.len() {
        if bytes[i] != 0xFF {
            return false;
        }
        let marker = bytes[i + 1];
        if marker == 0xFF {
            i += 1;
            continue;
        }
        let len = usize::from(u16::from_be_bytes([bytes[i + 2], bytes[i + 3]]));
        if marker == 0xDA {
            return bytes[i + 2 + len.min(bytes.len() - i - 2)..]
                .windows(2)
                .any(|w| w == [0xFF, 0xD9]);
        }
        i += 2 + len;
    }
    false
}

/// Names a format `image` does not read, from its first bytes, for a clearer message.
fn sniff_unsupported(bytes: &[u8], shown: &str) -> ImageError {
    let format = if bytes.len() > 12 && &bytes[4..8] == b"ftyp" {
        Some(if bytes[8..12].starts_with(b"avif") {
            "AVIF"
        } else {
            "HEIC"
        })
    } else if bytes.starts_with(b"GIF8") {
        Some("GIF")
    } else if bytes.starts_with(b"II*\0") || bytes.starts_with(b"MM\0*") {
        Some("TIFF")
    } else if bytes.starts_with(b"BM") {
        Some("BMP")
    } else {
        None
    };
    match format {
        Some(f) => ImageError::Unsupported {
            path: shown.to_string(),
            format: f.into(),
        },
        None => ImageError::Decode {
            path: shown.to_string(),
            reason: "the file does not start like any image format".into(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_never_exceed_the_source() {
        assert_eq!(widths_for(4032), [480, 960, 1440]);
        assert_eq!(widths_for(1440), [480, 960, 1440]);
        assert_eq!(widths_for(1000), [480, 960, 1000]);
        assert_eq!(widths_for(300), [300]);
        assert_eq!(widths_for(480), [480]);
    }

    #[test]
    fn a_jpeg_cut_short_is_found() {
        let img = image::RgbImage::from_pixel(64, 64, image::Rgb([200, 10, 10]));
        let mut jpeg = Vec::new();
        image::codecs::jpeg::JpegEncoder::new(&mut jpeg)
            .encode_image(&img)
            .unwrap();
        assert!(jpeg_has_end(&jpeg));
        let mut with_trailer = jpeg.clone();
        with_trailer.extend_from_slice(b"motion photo video");
        assert!(jpeg_has_end(&with_trailer));
        assert!(!jpeg_has_end(&jpeg[..jpeg.len() - 10]));
        assert!(!jpeg_has_end(b"\xFF\xD8"));
    }

    #[test]
    fn text_is_not_an_image() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.jpg");
        std::fs::write(&p, "hello").unwrap();
        let e = plan(&p, "content/a.jpg").unwrap_err().to_string();
        assert!(e.contains("content/a.jpg is not a readable"), "{e}");
        std::fs::write(&p, b"\0\0\0\x18ftypheic\0\0\0\0").unwrap();
        let e = plan(&p, "content/a.jpg").unwrap_err().to_string();
        assert!(e.contains("HEIC images cannot be published"), "{e}");
    }
}
