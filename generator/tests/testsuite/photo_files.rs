//! Photos the tests make themselves: a JPEG as a phone writes it (EXIF orientation,
//! GPS position, camera serial number, an embedded thumbnail, XMP), and ways to look
//! inside published files for any of that.

use std::io::Cursor;

use image::{ImageEncoder, Rgb, RgbImage};

/// The camera serial number written into the test photo's EXIF.
pub(crate) const SERIAL: &str = "SN-CLINIC-4711";
/// Text only the test photo's XMP packet holds.
pub(crate) const XMP_SECRET: &str = "XMP-CLIENT-HOME";

/// A `w`×`h` JPEG, red on the left half and blue on the right, so turning it shows.
pub(crate) fn plain_jpeg(w: u32, h: u32) -> Vec<u8> {
    let img = RgbImage::from_fn(w, h, |x, y| {
        // A little texture, so encoders have something to do.
        let n = ((x * 7 + y * 13) % 16) as u8;
        if x < w / 2 {
            Rgb([220 - n, 30 + n, 30])
        } else {
            Rgb([30, 30 + n, 220 - n])
        }
    });
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90)
        .write_image(img.as_raw(), w, h, image::ExtendedColorType::Rgb8)
        .unwrap();
    out
}

/// A PNG of `w`×`h`.
pub(crate) fn plain_png(w: u32, h: u32) -> Vec<u8> {
    let img = RgbImage::from_fn(w, h, |x, _| Rgb([(x % 256) as u8, 100, 150]));
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new(&mut out)
        .write_image(img.as_raw(), w, h, image::ExtendedColorType::Rgb8)
        .unwrap();
    out
}

/// A small PNG whose header claims `w`×`h` pixels (a decompression bomb's first step).
pub(crate) fn png_claiming(w: u32, h: u32) -> Vec<u8> {
    let mut png = plain_png(1, 1);
    // Signature (8), IHDR length (4), "IHDR" (4), width, height, ..., CRC over type + data.
    png[16..20].copy_from_slice(&w.to_be_bytes());
    png[20..24].copy_from_slice(&h.to_be_bytes());
    let crc = crc32(&png[12..29]);
    png[29..33].copy_from_slice(&crc.to_be_bytes());
    png
}

/// PNG's CRC-32 (ISO 3309), bit by bit.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A phone's photo: `plain_jpeg(w, h)` with EXIF (orientation 6, "turn 90° clockwise
/// to show", GPS latitude 51°30'N, make, serial number, a thumbnail) and XMP.
pub(crate) fn phone_jpeg(w: u32, h: u32) -> Vec<u8> {
    let jpeg = plain_jpeg(w, h);
    let thumb = plain_jpeg(16, 8);
    let exif = tiff(&thumb);
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend_from_slice(&exif);
    let xmp = format!(
        "http://ns.adobe.com/xap/1.0/\0<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\"><rdf:Description xmlns:exif=\"http://ns.adobe.com/exif/1.0/\" exif:GPSLatitude=\"51,30.0N\" exif:UserComment=\"{XMP_SECRET}\"/></rdf:RDF></x:xmpmeta>"
    );
    let mut out = jpeg[..2].to_vec();
    for payload in [app1, xmp.into_bytes()] {
        out.extend_from_slice(&[0xFF, 0xE1]);
        out.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
        out.extend_from_slice(&payload);
    }
    out.extend_from_slice(&jpeg[2..]);
    out
}

/// One IFD entry: tag, type (2 ASCII, 3 SHORT, 4 LONG, 5 RATIONAL), count, value bytes.
type Entry = (u16, u16, u32, Vec<u8>);

fn le16(v: u16) -> Vec<u8> {
    v.to_le_bytes().to_vec()
}
fn le32(v: u32) -> Vec<u8> {
    v.to_le_bytes().to_vec()
}

/// An IFD placed at `at`, with values over 4 bytes after it; `next` is the next IFD.
fn ifd(entries: &[Entry], at: u32, next: u32) -> Vec<u8> {
    let data_start = at + 2 + 12 * entries.len() as u32 + 4;
    let mut head = le16(entries.len() as u16);
    let mut data = Vec::new();
    for (tag, ty, count, value) in entries {
        head.extend(le16(*tag));
        head.extend(le16(*ty));
        head.extend(le32(*count));
        if value.len() <= 4 {
            let mut v = value.clone();
            v.resize(4, 0);
            head.extend(v);
        } else {
            head.extend(le32(data_start + data.len() as u32));
            data.extend_from_slice(value);
            if data.len() % 2 == 1 {
                data.push(0);
            }
        }
    }
    head.extend(le32(next));
    head.extend(data);
    head
}

fn ascii(s: &str) -> (u32, Vec<u8>) {
    let mut v = s.as_bytes().to_vec();
    v.push(0);
    (v.len() as u32, v)
}

/// A little-endian TIFF structure: IFD0 (make, orientation, pointers), the Exif IFD
/// (serial number), the GPS IFD (latitude), IFD1 (the thumbnail).
fn tiff(thumb: &[u8]) -> Vec<u8> {
    let layout = |exif_at: u32, gps_at: u32, thumb_at: u32| {
        let (mc, make) = ascii("PhoneCo");
        let ifd0 = vec![
            (0x010F, 2, mc, make),
            (0x0112, 3, 1, le16(6)),
            (0x8769, 4, 1, le32(exif_at)),
            (0x8825, 4, 1, le32(gps_at)),
        ];
        let (sc, serial) = ascii(SERIAL);
        let exif = vec![(0xA431, 2, sc, serial)];
        let mut lat = Vec::new();
        for (n, d) in [(51u32, 1u32), (30, 1), (1234, 100)] {
            lat.extend(le32(n));
            lat.extend(le32(d));
        }
        let gps = vec![(0x0001, 2, 2, b"N\0".to_vec()), (0x0002, 5, 3, lat)];
        let ifd1 = vec![
            (0x0201, 4, 1, le32(thumb_at)),
            (0x0202, 4, 1, le32(thumb.len() as u32)),
        ];
        (ifd0, exif, gps, ifd1)
    };
    // Sizes do not depend on the offsets: lay out once to measure, once for real.
    let (a, b, c, d) = layout(0, 0, 0);
    let s0 = ifd(&a, 8, 0).len() as u32;
    let s1 = ifd(&b, 0, 0).len() as u32;
    let s2 = ifd(&c, 0, 0).len() as u32;
    let s3 = ifd(&d, 0, 0).len() as u32;
    let (exif_at, gps_at, ifd1_at) = (8 + s0, 8 + s0 + s1, 8 + s0 + s1 + s2);
    let thumb_at = ifd1_at + s3;
    let (a, b, c, d) = layout(exif_at, gps_at, thumb_at);
    let mut out = b"II*\0".to_vec();
    out.extend(le32(8));
    out.extend(ifd(&a, 8, ifd1_at));
    out.extend(ifd(&b, exif_at, 0));
    out.extend(ifd(&c, gps_at, 0));
    out.extend(ifd(&d, ifd1_at, 0));
    out.extend_from_slice(thumb);
    out
}

/// The EXIF a reader finds in `bytes` (JPEG, PNG, WebP or HEIF/AVIF), if any.
pub(crate) fn exif_of(bytes: &[u8]) -> Option<exif::Exif> {
    exif::Reader::new()
        .read_from_container(&mut std::io::BufReader::new(Cursor::new(bytes)))
        .ok()
}

/// What of the phone's private data `bytes` still holds, by name; empty when none.
pub(crate) fn leaks(bytes: &[u8], thumb: &[u8]) -> Vec<&'static str> {
    let has = |needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
    let mut found = Vec::new();
    if exif_of(bytes).is_some() {
        found.push("EXIF (read by kamadak-exif)");
    }
    if has(b"Exif\0\0") || has(b"II*\0") || has(b"MM\0*") {
        found.push("an EXIF block");
    }
    if has(SERIAL.as_bytes()) {
        found.push("the serial number");
    }
    if has(b"PhoneCo") {
        found.push("the camera make");
    }
    if has(XMP_SECRET.as_bytes()) || has(b"ns.adobe.com/xap") || has(b"xmpmeta") {
        found.push("XMP");
    }
    // The thumbnail's scan data (after its headers), which would survive a copy.
    if thumb.len() > 200 && has(&thumb[thumb.len() - 64..]) {
        found.push("the embedded thumbnail");
    }
    found
}

/// The thumbnail embedded by [`phone_jpeg`].
pub(crate) fn phone_thumbnail() -> Vec<u8> {
    plain_jpeg(16, 8)
}

#[test]
fn the_test_photo_carries_what_a_phone_writes() {
    let photo = phone_jpeg(64, 40);
    let exif = exif_of(&photo).expect("kamadak-exif reads the test photo's EXIF");
    let orientation = exif
        .get_field(exif::Tag::Orientation, exif::In::PRIMARY)
        .and_then(|f| f.value.get_uint(0));
    assert_eq!(orientation, Some(6));
    assert!(exif
        .get_field(exif::Tag::GPSLatitude, exif::In::PRIMARY)
        .is_some());
    assert!(exif
        .get_field(exif::Tag::BodySerialNumber, exif::In::PRIMARY)
        .is_some());
    assert!(exif
        .get_field(exif::Tag::JPEGInterchangeFormat, exif::In::THUMBNAIL)
        .is_some());
    let found = leaks(&photo, &phone_thumbnail());
    for what in ["EXIF (read by kamadak-exif)", "the serial number", "XMP"] {
        assert!(found.contains(&what), "{what}: {found:?}");
    }
    // The image crate reads the orientation too: 64×40 is shown 40×64.
    let decoder = image::ImageReader::new(Cursor::new(&photo))
        .with_guessed_format()
        .unwrap()
        .into_decoder()
        .unwrap();
    let mut decoder = decoder;
    use image::ImageDecoder;
    assert_eq!(
        decoder.orientation().unwrap(),
        image::metadata::Orientation::Rotate90
    );
}
