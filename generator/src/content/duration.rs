//! A treatment's length, from the forms editors write (`1hr`, `45 min`, `1h 30m`,
//! `90m`, `2 hours`) to one shown to people (`1 hr 30 min`) and one for machines
//! (ISO 8601, `PT1H30M`).

use std::fmt;

use serde::{de, Deserialize, Deserializer, Serialize};

/// A positive length of time in whole minutes, under a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Duration {
    minutes: u32,
}

const MAX_MINUTES: u32 = 24 * 60;

impl Duration {
    /// Parses an editor's duration. The error says what was wrong, in words.
    pub fn parse(input: &str) -> Result<Duration, String> {
        let s = input.trim().to_ascii_lowercase();
        if s.is_empty() {
            return Err("duration is empty; write it like `1 hr`, `45 min` or `1h 30m`".into());
        }
        let mut rest = s.as_str();
        let mut total = 0.0_f64;
        let mut seen_hours = false;
        let mut seen_minutes = false;
        while !rest.is_empty() {
            let here = rest;
            let num_len = rest
                .find(|c: char| !(c.is_ascii_digit() || c == '.'))
                .unwrap_or(rest.len());
            if num_len == 0 {
                return Err(format!(
                    "`{input}` is not a duration: expected a number at `{rest}`"
                ));
            }
            let number_text = &rest[..num_len];
            let number: f64 = number_text
                .parse()
                .map_err(|_| format!("`{input}`: `{number_text}` is not a number"))?;
            rest = rest[num_len..].trim_start();
            let unit_len = rest
                .find(|c: char| !c.is_ascii_alphabetic())
                .unwrap_or(rest.len());
            let unit = &rest[..unit_len];
            rest = rest[unit_len..].trim_start_matches([' ', ',']);
            rest = rest.strip_prefix("and ").unwrap_or(rest).trim_start();
            match unit {
                "h" | "hr" | "hrs" | "hour" | "hours" if !seen_hours && !seen_minutes => {
                    seen_hours = true;
                    total += number * 60.0;
                }
                "m" | "min" | "mins" | "minute" | "minutes" if !seen_minutes => {
                    seen_minutes = true;
                    total += number;
                }
                // After hours, the whole value with the minutes' unit added (`1h30`
                // is `1h 30 min`, not the `30 min` a hint naming the number implied).
                "" if seen_hours && !seen_minutes => {
                    let before = s[..s.len() - here.len()].trim_end();
                    return Err(format!(
                        "`{input}` has no unit after `{number_text}`; write `{before} {number_text} min`"
                    ));
                }
                "" if seen_minutes => {
                    return Err(format!(
                        "`{input}` has a number without a unit after the minutes, `{number_text}`; write it like `1h 30m`"
                    ))
                }
                "" => {
                    return Err(format!(
                        "`{input}` has no unit; {}",
                        unit_hint(number_text, number)
                    ))
                }
                "h" | "hr" | "hrs" | "hour" | "hours" | "m" | "min" | "mins" | "minute"
                | "minutes" => {
                    return Err(format!(
                        "`{input}` gives hours or minutes twice, or minutes before hours; write it like `1h 30m`"
                    ))
                }
                other => {
                    return Err(format!(
                        "`{input}`: `{other}` is not a unit; use hours (`hr`, `h`, `hours`) or minutes (`min`, `m`)"
                    ))
                }
            }
        }
        if total.fract().abs() > 1e-9 {
            return Err(format!("`{input}` is not a whole number of minutes"));
        }
        let minutes = total as u32;
        if minutes == 0 {
            return Err(format!(
                "`{input}` is no time at all; a treatment takes at least a minute"
            ));
        }
        if minutes > MAX_MINUTES {
            return Err(format!("`{input}` is longer than a day; is that right?"));
        }
        Ok(Duration { minutes })
    }

    /// Whole minutes.
    pub fn minutes(self) -> u32 {
        self.minutes
    }

    /// ISO 8601, as schema.org wants it: `PT1H30M`.
    pub fn iso8601(self) -> String {
        let (h, m) = (self.minutes / 60, self.minutes % 60);
        match (h, m) {
            (0, m) => format!("PT{m}M"),
            (h, 0) => format!("PT{h}H"),
            (h, m) => format!("PT{h}H{m}M"),
        }
    }
}

/// The units a bare `number` could take: only minutes when more than a day's hours
/// (`90`), only hours when not whole (`1.5` minutes would be refused).
fn unit_hint(text: &str, number: f64) -> String {
    if number > 24.0 {
        format!("write `{text} min`")
    } else if number.fract() != 0.0 {
        format!("write `{text} hr`")
    } else {
        format!("write `{text} min` or `{text} hr`")
    }
}

/// For people: `1 hr 30 min`, `45 min`, `2 hr`.
impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (h, m) = (self.minutes / 60, self.minutes % 60);
        match (h, m) {
            (0, m) => write!(f, "{m} min"),
            (h, 0) => write!(f, "{h} hr"),
            (h, m) => write!(f, "{h} hr {m} min"),
        }
    }
}

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl de::Visitor<'_> for V {
            type Value = Duration;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration like `1 hr`, `45 min` or `1h 30m`")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Duration, E> {
                Duration::parse(v).map_err(E::custom)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Duration, E> {
                Err(E::custom(format!(
                    "duration `{v}` has no unit; {}",
                    unit_hint(&v.to_string(), v as f64)
                )))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Duration, E> {
                self.visit_u64(v.unsigned_abs())
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Duration, E> {
                Err(E::custom(format!(
                    "duration `{v}` has no unit; {}",
                    unit_hint(&v.to_string(), v)
                )))
            }
        }
        d.deserialize_any(V)
    }
}

/// What templates see: `{text, iso, minutes}`.
impl Serialize for Duration {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Duration", 3)?;
        st.serialize_field("text", &self.to_string())?;
        st.serialize_field("iso", &self.iso8601())?;
        st.serialize_field("minutes", &self.minutes)?;
        st.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_every_documented_form() {
        for (input, text, iso) in [
            ("1hr", "1 hr", "PT1H"),
            ("1 hr", "1 hr", "PT1H"),
            ("45 min", "45 min", "PT45M"),
            ("1h 30m", "1 hr 30 min", "PT1H30M"),
            ("90m", "1 hr 30 min", "PT1H30M"),
            ("2 hours", "2 hr", "PT2H"),
            ("1 hour 15 minutes", "1 hr 15 min", "PT1H15M"),
            ("1h30m", "1 hr 30 min", "PT1H30M"),
            ("1.5 hours", "1 hr 30 min", "PT1H30M"),
            ("  30 MINS ", "30 min", "PT30M"),
            ("1 hr, 10 min", "1 hr 10 min", "PT1H10M"),
            ("1 hr and 5 min", "1 hr 5 min", "PT1H5M"),
            ("120 min", "2 hr", "PT2H"),
        ] {
            let d = Duration::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(
                (d.to_string().as_str(), d.iso8601().as_str()),
                (text, iso),
                "{input}"
            );
        }
    }

    #[test]
    fn rejects_what_is_not_a_duration() {
        for (input, needle) in [
            ("", "empty"),
            ("90", "no unit"),
            ("an hour", "expected a number"),
            ("1 fortnight", "not a unit"),
            ("30m 1h", "minutes before hours"),
            ("1h 2h", "twice"),
            ("0 min", "no time"),
            ("1.25 min", "whole number"),
            ("25 hours", "longer than a day"),
            ("1..5h", "not a number"),
            ("1h 30", "no unit after `30`; write `1h 30 min`"),
            ("1hr30", "write `1hr 30 min`"),
            ("1h 30m 15", "without a unit after the minutes"),
            ("90", "no unit; write `90 min`"),
            ("2", "write `2 min` or `2 hr`"),
        ] {
            let err = Duration::parse(input).unwrap_err();
            assert!(err.contains(needle), "{input:?}: {err}");
        }
    }

    #[test]
    fn yaml_numbers_ask_for_a_unit() {
        let err = serde_yaml::from_str::<Duration>("90")
            .unwrap_err()
            .to_string();
        assert!(err.contains("`90` has no unit"), "{err}");
        let d: Duration = serde_yaml::from_str("1h 30m").unwrap();
        assert_eq!(d.minutes(), 90);
    }
}
