//! Strings from `site.yaml` that are checked when read (an address, a currency, a time,
//! a day, a schema.org type), so the code that uses them can trust them; each refusal
//! says what was expected.

use serde::Deserialize;

macro_rules! checked_string {
    ($(#[$doc:meta])* $name:ident, $check:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
        #[serde(try_from = "String")]
        pub struct $name(String);

        impl TryFrom<String> for $name {
            type Error = String;
            fn try_from(s: String) -> Result<Self, String> {
                let check: fn(&str) -> Result<String, String> = $check;
                check(&s).map($name)
            }
        }

        impl $name {
            /// The checked value.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

checked_string!(
    /// An absolute `http(s)://` address without a trailing slash.
    BaseUrl,
    |s| {
        let t = s.trim().trim_end_matches('/');
        let rest = t
            .strip_prefix("https://")
            .or_else(|| t.strip_prefix("http://"))
            .ok_or_else(|| format!("base_url `{s}` must start with https:// or http://"))?;
        if rest.is_empty() || rest.contains(char::is_whitespace) {
            return Err(format!("base_url `{s}` has no host name"));
        }
        Ok(t.to_string())
    }
);

checked_string!(
    /// An ISO 4217 code such as `GBP`, of a currency the standard lists.
    Currency,
    |s| {
        if iso_currency::Currency::from_code(s).is_some() {
            Ok(s.to_string())
        } else if s.len() == 3 && s.bytes().all(|b| b.is_ascii_uppercase()) {
            Err(format!(
                "currency `{s}` is not a currency ISO 4217 lists (like GBP, EUR or USD); check the letters"
            ))
        } else {
            Err(format!(
                "currency `{s}` is not an ISO 4217 code (three capital letters, like GBP or EUR)"
            ))
        }
    }
);

checked_string!(
    /// A 24-hour time, `HH:MM`.
    ClockTime,
    |s| {
        let ok = s.len() == 5
            && s.as_bytes()[2] == b':'
            && s[..2].parse::<u8>().is_ok_and(|h| h < 24)
            && s[3..].parse::<u8>().is_ok_and(|m| m < 60);
        if ok {
            Ok(s.to_string())
        } else {
            Err(format!("time `{s}` must be written HH:MM, like 09:30"))
        }
    }
);

/// The days of the week, Monday first, as `site.yaml` writes them.
pub const WEEKDAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

checked_string!(
    /// An English day name, `Monday` to `Sunday`.
    Weekday,
    |s| {
        WEEKDAYS
            .iter()
            .find(|d| d.eq_ignore_ascii_case(s.trim()))
            .map(|d| d.to_string())
            .ok_or_else(|| {
                let hint = crate::suggest(s, WEEKDAYS)
                    .map(|d| format!(" (did you mean {d}?)"))
                    .unwrap_or_default();
                format!("`{s}` is not a day of the week{hint}")
            })
    }
);

const SCHEMA_TYPES: [&str; 6] = [
    "MedicalClinic",
    "MedicalBusiness",
    "HealthAndBeautyBusiness",
    "DaySpa",
    "BeautySalon",
    "LocalBusiness",
];

checked_string!(
    /// A schema.org business type the generator knows to be valid.
    SchemaType,
    |s| {
        if SCHEMA_TYPES.contains(&s) {
            Ok(s.to_string())
        } else {
            Err(format!(
                "schema_type `{s}` is not one of {}",
                SCHEMA_TYPES.join(", ")
            ))
        }
    }
);

impl SchemaType {
    /// `MedicalClinic`, the type a clinic's site gets unless it says otherwise.
    pub(crate) fn medical_clinic() -> SchemaType {
        SchemaType("MedicalClinic".into())
    }
}
