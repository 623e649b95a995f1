//! The clinic as a business in `site.yaml` (`business:`): its name, contacts, postal
//! address and opening hours, as the pages and the structured data show them.

use serde::Deserialize;

use crate::checked::{ClockTime, SchemaType, Weekday};

/// The clinic as a business.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Business {
    /// Trading name.
    pub name: String,
    /// schema.org type for structured data.
    #[serde(default = "default_schema_type")]
    pub schema_type: SchemaType,
    /// Public email address.
    pub email: String,
    /// Public phone number as written for people (`020 7946 0000`).
    pub phone: String,
    /// Phone number in international form for `tel:` links (`+442079460000`).
    #[serde(default)]
    pub phone_international: Option<String>,
    /// Postal address.
    pub address: Address,
    /// Opening hours, one entry per run of days with the same hours.
    #[serde(default)]
    pub opening_hours: Vec<OpeningHours>,
    /// Site path of the privacy notice.
    #[serde(default = "default_privacy")]
    pub privacy_url: String,
}

fn default_schema_type() -> SchemaType {
    SchemaType::medical_clinic()
}
fn default_privacy() -> String {
    "/privacy/".into()
}

/// A postal address.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Address {
    /// Street and number.
    pub street: String,
    /// Town or city.
    pub locality: String,
    /// County, state or region.
    #[serde(default)]
    pub region: Option<String>,
    /// Postcode.
    pub postal_code: String,
    /// ISO 3166 country code (`GB`).
    pub country: String,
}

/// Hours for a run of days.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpeningHours {
    /// English day names (`Monday`).
    pub days: Vec<Weekday>,
    /// Opening time, `HH:MM`.
    pub opens: ClockTime,
    /// Closing time, `HH:MM`.
    pub closes: ClockTime,
}
