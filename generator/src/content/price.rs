//! What a service costs: an amount in a currency, free, "from" an amount, quoted at the
//! consultation, or "price on consultation" when the page says nothing.

use std::fmt;

use serde::{de, Deserialize, Deserializer, Serialize};

/// An amount in minor units (pence), read from a plain YAML number >= 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Amount(u64);

impl Amount {
    /// From a number as written in YAML; at most two decimals.
    pub fn from_f64(v: f64) -> Result<Amount, String> {
        if !v.is_finite() || v < 0.0 {
            return Err(format!("price `{v}` must be a number of 0 or more"));
        }
        let minor = (v * 100.0).round();
        if (minor - v * 100.0).abs() > 1e-6 {
            return Err(format!("price `{v}` has more than two decimals"));
        }
        if minor > 1e12 {
            return Err(format!("price `{v}` is too large"));
        }
        Ok(Amount(minor as u64))
    }

    /// The amount in minor units.
    pub fn minor(self) -> u64 {
        self.0
    }

    /// `150.00`, as schema.org's `price` wants it.
    pub fn decimal(self) -> String {
        format!("{}.{:02}", self.0 / 100, self.0 % 100)
    }
}

impl<'de> Deserialize<'de> for Amount {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl de::Visitor<'_> for V {
            type Value = Amount;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number of 0 or more")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Amount, E> {
                v.checked_mul(100)
                    .filter(|m| *m <= 100_000_000_000_000)
                    .map(Amount)
                    .ok_or_else(|| E::custom(format!("price `{v}` is too large")))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Amount, E> {
                if v < 0 {
                    return Err(E::custom(format!(
                        "price `{v}` must be a number of 0 or more"
                    )));
                }
                self.visit_u64(v as u64)
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Amount, E> {
                Amount::from_f64(v).map_err(E::custom)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Amount, E> {
                if v.trim().eq_ignore_ascii_case("free") {
                    return Err(E::custom(
                        "price `free` is written `0` (shown as Free); leave `price` out for \"price on consultation\"",
                    ));
                }
                // A number in quotes (`"50"`) is still the number meant.
                let t = v.trim();
                if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
                    if let Ok(n) = t.parse::<f64>() {
                        return Amount::from_f64(n).map_err(E::custom);
                    }
                }
                Err(E::custom(format!(
                    "price `{v}` must be a plain number such as 150 or 49.50, or `quoted`{}",
                    match number_in(t) {
                        Some(n) => format!(
                            ": write `{n}` (the currency comes from `currency` or site.yaml)"
                        ),
                        None => " (the currency comes from `currency` or site.yaml; `price_from: 90` shows \"From\" and the amount)".into(),
                    }
                )))
            }
        }
        d.deserialize_any(V)
    }
}

/// The plain number in a price written with a currency sign, a currency code or
/// commas between thousands (`£1,200` → `1200`, `50 EUR` → `50`), when that is surely
/// what was meant: `49,50` or `1.200` could be either, and get no number.
fn number_in(text: &str) -> Option<String> {
    let letters: String = text.chars().filter(|c| c.is_alphabetic()).collect();
    // Letters only as a currency code: `call us` is no price.
    if !(letters.is_empty()
        || letters.len() == 3 && letters.chars().all(|c| c.is_ascii_uppercase()))
    {
        return None;
    }
    let kept: String = text
        .chars()
        .filter(|c| !(c.is_whitespace() || c.is_alphabetic() || "£$€¥".contains(*c)))
        .collect();
    let (whole, decimals) = kept.split_once('.').unwrap_or((&kept, ""));
    let groups: Vec<&str> = whole.split(',').collect();
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let grouped = groups.len() == 1
        || (1..=3).contains(&groups[0].len()) && groups[1..].iter().all(|g| g.len() == 3);
    let sure = groups.iter().all(|g| digits(g))
        && grouped
        && (decimals.is_empty() || digits(decimals) && decimals.len() <= 2)
        && !kept.ends_with('.');
    sure.then(|| {
        let whole = groups.concat();
        if decimals.is_empty() {
            whole
        } else {
            format!("{whole}.{decimals}")
        }
    })
}

/// The `price` field as written: an amount, or `quoted` (priced at the consultation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PriceField {
    /// A fixed amount.
    Amount(Amount),
    /// `quoted`: the price is set at the consultation.
    Quoted,
}

impl<'de> Deserialize<'de> for PriceField {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = serde_yaml::Value::deserialize(d)?;
        if v.as_str()
            .is_some_and(|s| s.trim().eq_ignore_ascii_case("quoted"))
        {
            return Ok(PriceField::Quoted);
        }
        Amount::deserialize(v)
            .map(PriceField::Amount)
            .map_err(de::Error::custom)
    }
}

/// A service's price as shown: an amount in a currency, free, from an amount, quoted
/// at the consultation, or on consultation.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Price {
    /// None means "price on consultation" (or quoted, when `quoted`).
    pub amount: Option<Amount>,
    /// ISO 4217 code.
    pub currency: String,
    /// The amount is the lowest price (`price_from`), not the price.
    pub from: bool,
    /// `price: quoted`: a fixed quote is given at the consultation.
    pub quoted: bool,
}

impl Price {
    /// True when the treatment itself costs nothing (a fixed price of zero).
    pub fn is_free(&self) -> bool {
        !self.from && self.amount.is_some_and(|a| a.0 == 0)
    }

    /// What people read: `£150`, `£49.50`, `Free`, `From £90`, `Quoted at your
    /// consultation`, `Price on consultation`.
    pub fn text(&self) -> String {
        let Some(amount) = self.amount else {
            return if self.quoted {
                "Quoted at your consultation".into()
            } else {
                "Price on consultation".into()
            };
        };
        if amount.0 == 0 && !self.from {
            return "Free".into();
        }
        let number = if amount.0 % 100 == 0 {
            group_thousands(amount.0 / 100)
        } else {
            format!("{}.{:02}", group_thousands(amount.0 / 100), amount.0 % 100)
        };
        let shown = match currency_symbol(&self.currency) {
            Some(sym) => format!("{sym}{number}"),
            None => format!("{number} {}", self.currency),
        };
        if self.from {
            format!("From {shown}")
        } else {
            shown
        }
    }
}

fn group_thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn currency_symbol(code: &str) -> Option<&'static str> {
    Some(match code {
        "GBP" => "£",
        "EUR" => "€",
        "USD" => "$",
        "JPY" => "¥",
        "INR" => "₹",
        _ => return None,
    })
}

impl Serialize for Price {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Price", 7)?;
        st.serialize_field("amount", &self.amount.map(Amount::decimal))?;
        st.serialize_field("currency", &self.currency)?;
        st.serialize_field("text", &self.text())?;
        st.serialize_field("is_free", &self.is_free())?;
        st.serialize_field("on_consultation", &self.amount.is_none())?;
        st.serialize_field("from", &self.from)?;
        st.serialize_field("quoted", &self.quoted)?;
        st.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn price(yaml: Option<&str>, currency: &str) -> Price {
        Price {
            amount: yaml.map(|y| serde_yaml::from_str(y).unwrap()),
            currency: currency.into(),
            ..Price::default()
        }
    }

    #[test]
    fn from_and_quoted_prices_say_so() {
        let from = Price {
            from: true,
            ..price(Some("90"), "GBP")
        };
        assert_eq!(from.text(), "From £90");
        assert!(!from.is_free());
        let from_zero = Price {
            from: true,
            ..price(Some("0"), "GBP")
        };
        assert_eq!(from_zero.text(), "From £0");
        let quoted = Price {
            quoted: true,
            ..price(None, "GBP")
        };
        assert_eq!(quoted.text(), "Quoted at your consultation");
        assert!(!quoted.is_free());
        assert_eq!(
            serde_yaml::from_str::<PriceField>("quoted").unwrap(),
            PriceField::Quoted
        );
        assert!(matches!(
            serde_yaml::from_str::<PriceField>("150").unwrap(),
            PriceField::Amount(_)
        ));
        let e = serde_yaml::from_str::<PriceField>("'call us'")
            .unwrap_err()
            .to_string();
        assert!(e.contains("or `quoted`"), "{e}");
        let e = serde_yaml::from_str::<PriceField>("Free")
            .unwrap_err()
            .to_string();
        assert!(e.contains("is written `0`"), "{e}");
    }

    #[test]
    fn shows_prices_as_people_read_them() {
        assert_eq!(price(Some("0"), "GBP").text(), "Free");
        assert_eq!(price(Some("0.0"), "GBP").text(), "Free");
        assert_eq!(price(None, "GBP").text(), "Price on consultation");
        assert_eq!(price(Some("150"), "GBP").text(), "£150");
        assert_eq!(price(Some("49.5"), "EUR").text(), "€49.50");
        assert_eq!(price(Some("1250"), "USD").text(), "$1,250");
        assert_eq!(price(Some("80"), "CHF").text(), "80 CHF");
        assert_eq!(
            price(Some("150"), "GBP").amount.unwrap().decimal(),
            "150.00"
        );
    }

    #[test]
    fn refuses_what_is_not_a_price() {
        for (yaml, needle) in [
            ("-5", "0 or more"),
            (
                "'£50'",
                "plain number such as 150 or 49.50, or `quoted`: write `50`",
            ),
            ("'1,200'", "write `1200`"),
            ("'50 EUR'", "write `50`"),
            ("'call us'", "the currency comes from"),
            ("'49,50'", "or `quoted` (the currency comes from"),
            ("'€1.200'", "or `quoted` (the currency comes from"),
            ("'£1,200.50'", "write `1200.50`"),
            ("12.345", "two decimals"),
            (".nan", "0 or more"),
            ("99999999999999999", "too large"),
        ] {
            let err = serde_yaml::from_str::<Amount>(yaml)
                .unwrap_err()
                .to_string();
            assert!(err.contains(needle), "{yaml}: {err}");
        }
    }

    /// A number in quotes is the number meant, not a mistake to explain.
    #[test]
    fn a_quoted_number_is_read_as_the_number() {
        let a: Amount = serde_yaml::from_str("\"50\"").unwrap();
        assert_eq!(a.minor(), 5000);
        let a: Amount = serde_yaml::from_str("'49.50'").unwrap();
        assert_eq!(a.minor(), 4950);
        let err = serde_yaml::from_str::<Amount>("'49.505'")
            .unwrap_err()
            .to_string();
        assert!(err.contains("two decimals"), "{err}");
    }

    #[test]
    fn templates_get_every_form_of_the_price() {
        let v = serde_json::to_value(price(None, "GBP")).unwrap();
        assert_eq!(v["on_consultation"], true);
        assert_eq!(v["amount"], serde_json::Value::Null);
        let v = serde_json::to_value(price(Some("0"), "GBP")).unwrap();
        assert_eq!(v["is_free"], true);
        assert_eq!(v["amount"], "0.00");
    }
}
