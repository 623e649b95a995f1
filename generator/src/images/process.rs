//! Encoding: the photo decoded from its pixels (so nothing of the original file's
//! metadata can follow), turned the way the camera recorded, resized once per width,
//! and written as AVIF, lossy WebP and a JPEG or PNG fallback into the cache.

use std::io::Cursor;
use std::path::Path;

use image::codecs::avif::AvifEncoder;
use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::{CompressionType, FilterType as PngFilter, PngEncoder};
use image::imageops::FilterType;
use image::{DynamicImage, ImageDecoder, ImageEncoder, ImageReader};

use super::cache::write_atomically;
use super::plan::{Fallback, OutputName, Photo};
use super::ImageError;

/// rav1e's fastest speed: a few times quicker than the default for a slightly larger file.
const AVIF_SPEED: u8 = 10;
const AVIF_QUALITY: u8 = 55;
const WEBP_QUALITY: f32 = 72.0;
const JPEG_QUALITY: u8 = 80;

/// Decodes `photo` and writes every output into `cache` (those already there are kept).
pub(super) fn encode(photo: &Photo, cache: &Path) -> Result<(), ImageError> {
    let img = decode(photo)?;
    std::fs::create_dir_all(cache).map_err(|e| ImageError::Write {
        path: cache.display().to_string(),
        reason: e.to_string(),
    })?;
    // Each width is made from the largest version rather than the full-size source:
    // resizing a 12-megapixel photo is the slow part, so it is done once.
    let largest = photo
        .widths
        .iter()
        .copied()
        .max()
        .unwrap_or(photo.width)
        .max(photo.fallback_output().width);
    let base = resized(&img, largest, photo);
    drop(img);
    for o in photo.outputs() {
        let path = cache.join(&o.name);
        if path.is_file() {
            continue;
        }
        let version = resized(&base, o.width, photo);
        let bytes = encode_one(&version, &o, photo)?;
        write_atomically(&path, &bytes).map_err(|e| ImageError::Write {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
    }
    Ok(())
}

fn decode(photo: &Photo) -> Result<DynamicImage, ImageError> {
    let err = |e: &dyn std::fmt::Display| ImageError::Decode {
        path: photo.shown.clone(),
        reason: e.to_string(),
    };
    let bytes = std::fs::read(&photo.source).map_err(|e| ImageError::Read {
        path: photo.shown.clone(),
        reason: e.to_string(),
    })?;
    let mut decoder = ImageReader::new(Cursor::new(&bytes[..]))
        .with_guessed_format()
        .map_err(|e| err(&e))?
        .into_decoder()
        .map_err(|e| err(&e))?;
    // Planned within the limit, but the file may have been replaced since.
    let (w, h) = decoder.dimensions();
    super::check_pixels(&photo.shown, w, h)?;
    let orientation = decoder.orientation().map_err(|e| err(&e))?;
    let mut img = DynamicImage::from_decoder(decoder).map_err(|e| err(&e))?;
    img.apply_orientation(orientation);
    // 16-bit PNGs and the like: browsers show 8 bits, and the encoders want them.
    Ok(if img.color().has_alpha() {
        DynamicImage::ImageRgba8(img.into_rgba8())
    } else {
        DynamicImage::ImageRgb8(img.into_rgb8())
    })
}

fn resized(img: &DynamicImage, width: u32, photo: &Photo) -> DynamicImage {
    if img.width() == width {
        return img.clone();
    }
    img.resize_exact(width, photo.height_at(width), FilterType::CatmullRom)
}

fn encode_one(img: &DynamicImage, o: &OutputName, photo: &Photo) -> Result<Vec<u8>, ImageError> {
    let err = |e: &dyn std::fmt::Display| ImageError::Write {
        path: o.name.clone(),
        reason: e.to_string(),
    };
    let (w, h) = (img.width(), img.height());
    let mut out = Vec::new();
    match o.ext {
        "avif" => {
            let enc = AvifEncoder::new_with_speed_quality(&mut out, AVIF_SPEED, AVIF_QUALITY);
            enc.write_image(img.as_bytes(), w, h, img.color().into())
                .map_err(|e| err(&e))?;
        }
        "webp" => {
            let enc = match img {
                DynamicImage::ImageRgba8(rgba) => webp::Encoder::from_rgba(rgba.as_raw(), w, h),
                _ => webp::Encoder::from_rgb(img.as_bytes(), w, h),
            };
            let mem = enc
                .encode_simple(false, WEBP_QUALITY)
                .map_err(|e| err(&format!("{e:?}")))?;
            out.extend_from_slice(&mem);
        }
        _ => match photo.fallback {
            Fallback::Jpeg => {
                let rgb = img.to_rgb8();
                JpegEncoder::new_with_quality(&mut out, JPEG_QUALITY)
                    .write_image(rgb.as_raw(), w, h, image::ExtendedColorType::Rgb8)
                    .map_err(|e| err(&e))?;
            }
            Fallback::Png => {
                PngEncoder::new_with_quality(&mut out, CompressionType::Best, PngFilter::Adaptive)
                    .write_image(img.as_bytes(), w, h, img.color().into())
                    .map_err(|e| err(&e))?;
            }
        },
    }
    Ok(out)
}
