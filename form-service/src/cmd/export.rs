//! `form-service export FORM`: submissions as CSV (safe to open in a spreadsheet) or
//! JSON, oldest first, optionally from a day on.

use crate::error::Usage;
use std::fmt::Write;
use std::path::Path;

use crate::cli::ExportFormat;
use crate::settings::Overrides;
use crate::store::{self, StoredSubmission};
use crate::{Error, Settings};

pub(super) fn run(
    config: &Path,
    data_dir: &Path,
    form: &str,
    since: Option<&str>,
    format: ExportFormat,
) -> Result<(), Error> {
    let settings = Settings::load(config, Overrides::default())?;
    let Some(decl) = settings.form(form) else {
        let known: Vec<_> = settings.site.forms.keys().cloned().collect();
        return Err(Usage::NoForm {
            form: form.to_string(),
            known,
        }
        .into());
    };
    // Registrations and comments are not kept as submissions: exporting them would
    // print zero rows, which reads as "nobody joined". Say where they are instead.
    match decl.kind {
        site_config::FormKind::Request => {}
        site_config::FormKind::Registration => {
            return Err(Usage::RegistrationForm(form.to_string()).into())
        }
        site_config::FormKind::Comment => return Err(Usage::CommentForm(form.to_string()).into()),
    }
    let since = match since {
        None => i64::MIN,
        Some(day) => start_of_day(day, &settings.tz)?,
    };
    let conn = super::open_db(data_dir)?;
    let rows = store::export(&conn, form, since)?;
    let fields: Vec<&str> = decl.fields.iter().map(|f| f.name.as_str()).collect();
    let text = match format {
        ExportFormat::Csv => write_csv(&fields, &rows, &settings.tz),
        ExportFormat::Json => write_json(&rows, &settings.tz),
    };
    super::print(&text)?;
    eprintln!("{} submission(s) of `{form}` exported", rows.len());
    Ok(())
}

fn start_of_day(day: &str, tz: &jiff::tz::TimeZone) -> Result<i64, Error> {
    let date: jiff::civil::Date = day.parse().map_err(|_| Usage::NotADate(day.to_string()))?;
    let zoned = date
        .to_zoned_datetime(tz.clone())
        .map_err(|source| Usage::DateOutOfRange {
            day: day.to_string(),
            source,
        })?;
    Ok(zoned.timestamp().as_second())
}

fn local(at: i64, tz: &jiff::tz::TimeZone) -> String {
    jiff::Timestamp::from_second(at).map_or_else(
        |_| at.to_string(),
        |t| {
            t.to_zoned_datetime(tz.clone())
                .strftime("%Y-%m-%d %H:%M:%S %Z")
                .to_string()
        },
    )
}

/// CSV with a header row: `id`, `received`, then each declared field.
pub fn write_csv(fields: &[&str], rows: &[StoredSubmission], tz: &jiff::tz::TimeZone) -> String {
    let mut out = String::new();
    let header: Vec<String> = ["id", "received"]
        .iter()
        .chain(fields)
        .map(|h| csv_field(h))
        .collect();
    let _ = writeln!(out, "{}", header.join(","));
    for r in rows {
        let mut cells = vec![csv_field(&r.id), csv_field(&local(r.received_at, tz))];
        for f in fields {
            let v = r
                .answers
                .iter()
                .find(|(k, _)| k == f)
                .map_or("", |(_, v)| v.as_str());
            cells.push(csv_field(v));
        }
        let _ = writeln!(out, "{}", cells.join(","));
    }
    out
}

/// One CSV cell. A value a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab,
/// carriage return first) gets a leading `'`, as OWASP recommends; then RFC 4180 quoting.
pub fn csv_field(v: &str) -> String {
    let defused = if v.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{v}")
    } else {
        v.to_string()
    };
    if defused.contains([',', '"', '\n', '\r']) || defused != defused.trim() {
        format!("\"{}\"", defused.replace('"', "\"\""))
    } else {
        defused
    }
}

/// A JSON array of `{id, received_at, received_local, answers}`.
pub fn write_json(rows: &[StoredSubmission], tz: &jiff::tz::TimeZone) -> String {
    let list: Vec<serde_json::Value> = rows
        .iter()
        .map(|r| {
            let answers: serde_json::Map<String, serde_json::Value> = r
                .answers
                .iter()
                .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
                .collect();
            serde_json::json!({
                "id": r.id,
                "received_at": super::utc(r.received_at),
                "received_local": local(r.received_at, tz),
                "answers": answers,
            })
        })
        .collect();
    let mut s = serde_json::to_string_pretty(&list).unwrap_or_else(|_| "[]".into());
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_defuses_formulas_and_quotes() {
        assert_eq!(csv_field("Ann"), "Ann");
        assert_eq!(csv_field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_field("+44 20"), "'+44 20");
        assert_eq!(csv_field("-1"), "'-1");
        assert_eq!(csv_field("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("line\nbreak"), "\"line\nbreak\"");
    }

    #[test]
    fn csv_has_a_row_per_submission_in_field_order() {
        let tz = jiff::tz::db().get("Europe/London").unwrap();
        let rows = vec![StoredSubmission {
            id: "abc".into(),
            received_at: 1_751_371_200, // 2025-07-01 12:00 UTC, 13:00 in London (BST)
            answers: vec![
                ("email".into(), "a@b.example".into()),
                ("name".into(), "=1+1".into()),
            ],
        }];
        assert_eq!(
            write_csv(&["name", "email"], &rows, &tz),
            "id,received,name,email\nabc,2025-07-01 13:00:00 BST,'=1+1,a@b.example\n"
        );
        assert!(start_of_day("2025-07-01", &tz).unwrap() == 1_751_324_400);
        assert!(start_of_day("July", &tz).is_err());
    }
}
