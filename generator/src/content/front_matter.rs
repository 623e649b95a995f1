//! Front matter as editors write it: one raw struct per kind of page, read with
//! serde_yaml and refusing unknown fields, so a misspelt key is an error with a hint.
//!
//! Values that have a shape (duration, price, sessions) are checked while reading;
//! rules that span fields (an image needs its alt text) are checked in [`super::page`].
#![allow(missing_docs)] // Field meanings are documented for editors in the README.

use std::collections::BTreeMap;
use std::fmt;

use serde::{de, Deserialize, Deserializer, Serialize};

use super::duration::Duration;
use super::price::{Amount, PriceField};

/// Free values for themes.
pub type Extra = BTreeMap<String, serde_yaml::Value>;

/// Front matter of a service page (`content/services/*.md`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ServiceFront {
    pub title: String,
    pub summary: String,
    pub duration: Duration,
    #[serde(default)]
    pub price: Option<PriceField>,
    #[serde(default)]
    pub price_from: Option<Amount>,
    #[serde(default)]
    pub currency: Option<CurrencyCode>,
    #[serde(default)]
    pub sessions: Option<Sessions>,
    #[serde(default)]
    pub faqs: Vec<FaqFront>,
    // The fields every page has. Written out in each kind rather than flattened,
    // because serde's `flatten` silently disables `deny_unknown_fields`.
    #[serde(default)]
    pub order: i64,
    #[serde(default)]
    pub draft: bool,
    #[serde(default)]
    pub slug: Option<String>,
    #[serde(default)]
    pub aliases: Vec<String>,
    #[serde(default)]
    pub image: Option<String>,
    #[serde(default)]
    pub image_alt: Option<String>,
    #[serde(default)]
    pub gallery: Vec<GalleryItem>,
    #[serde(default)]
    pub extra: Extra,
}

/// Front matter of a plain page, the home page or a section index.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PageFront {
    pub title: String,
    #[serde(default)]
    pub summary: Option<String>,
    /// A template other than `page.html`.
    #[serde(default)]
    pub template: Option<String>,
    /// A declared form to show after the body.
    #[serde(default)]
    pub form: Option<String>,
    // The fields every page has. Written out in each kind rather than flattened,
    // because serde's `flatten` silently disables `deny_unknown_fields`.
    #[serde(default)]
    pub order: i64,
    #[serde(default)]
    pub draft: bool,
    #[serde(default)]
    pub slug: Option<String>,
    #[serde(default)]
    pub aliases: Vec<String>,
    #[serde(default)]
    pub image: Option<String>,
    #[serde(default)]
    pub image_alt: Option<String>,
    #[serde(default)]
    pub gallery: Vec<GalleryItem>,
    #[serde(default)]
    pub extra: Extra,
}

/// A photo of a page's gallery: the file, its description, and an optional caption.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct GalleryItem {
    pub image: String,
    pub alt: String,
    #[serde(default)]
    pub caption: Option<String>,
}

/// One question and its Markdown answer.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FaqFront {
    pub question: String,
    pub answer: String,
}

/// An ISO 4217 code such as `EUR`.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "String")]
pub(crate) struct CurrencyCode(pub String);

impl TryFrom<String> for CurrencyCode {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        if s.len() == 3 && s.bytes().all(|b| b.is_ascii_uppercase()) {
            Ok(CurrencyCode(s))
        } else {
            Err(format!(
                "currency `{s}` is not an ISO 4217 code (three capital letters, like GBP or EUR)"
            ))
        }
    }
}

/// How many sessions a course takes: `3` or a range `2-3`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sessions {
    pub min: u32,
    pub max: u32,
}

impl Sessions {
    pub fn parse(s: &str) -> Result<Sessions, String> {
        let bad = || {
            format!("sessions `{s}` should be a number of sessions or a range, like `3` or `2-3`")
        };
        let t = s.trim();
        let (a, b) = match t.split_once(['-', '–']) {
            Some((a, b)) => (a.trim(), b.trim()),
            None => (t, t),
        };
        let min: u32 = a.parse().map_err(|_| bad())?;
        let max: u32 = b.parse().map_err(|_| bad())?;
        if min == 0 || max < min || max > 100 {
            return Err(bad());
        }
        Ok(Sessions { min, max })
    }
}

impl fmt::Display for Sessions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.min == self.max {
            write!(f, "{}", self.min)
        } else {
            write!(f, "{}–{}", self.min, self.max)
        }
    }
}

impl Serialize for Sessions {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Sessions {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl de::Visitor<'_> for V {
            type Value = Sessions;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number of sessions or a range like `2-3`")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Sessions, E> {
                Sessions::parse(v).map_err(E::custom)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Sessions, E> {
                Sessions::parse(&v.to_string()).map_err(E::custom)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Sessions, E> {
                Sessions::parse(&v.to_string()).map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_forms() {
        assert_eq!(Sessions::parse("2-3").unwrap().to_string(), "2–3");
        assert_eq!(Sessions::parse("2 – 3").unwrap().to_string(), "2–3");
        assert_eq!(Sessions::parse("1").unwrap().to_string(), "1");
        let s: Sessions = serde_yaml::from_str("4").unwrap();
        assert_eq!(s, Sessions { min: 4, max: 4 });
        for bad in ["0", "3-2", "a few", "2-", ""] {
            assert!(Sessions::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn misspelt_fields_are_refused_with_a_hint() {
        let d = site_config::from_yaml_located::<ServiceFront>(
            "title: A\nsummary: s\ndurration: 1hr\n",
            std::path::Path::new("a.md"),
            2,
        )
        .unwrap_err();
        assert_eq!(d.line, Some(4));
        assert_eq!(d.hint.as_deref(), Some("did you mean `duration`?"));
        let d = site_config::from_yaml_located::<PageFront>(
            "title: A\nduration: 1hr\n",
            std::path::Path::new("a.md"),
            2,
        )
        .unwrap_err();
        assert!(d.message.contains("unknown field `duration`"), "{d}");
    }
}
