//! Reading the figures (`gather`) and writing them in the text format (`render`), apart
//! so the format is tested on fixed numbers.

use std::fmt::Write;
use std::sync::atomic::Ordering;

use crate::http::AppState;
use crate::Error;

/// Everything `/metrics` shows, read at one moment.
#[derive(Debug, Default, Clone)]
pub struct Snapshot {
    /// Stored requests by form.
    pub stored_by_form: Vec<(String, i64)>,
    /// Emails waiting.
    pub outbox_waiting: i64,
    /// Emails given up on.
    pub outbox_failed: i64,
    /// Seconds since the oldest waiting email was queued (0 when none waits).
    pub oldest_waiting_seconds: i64,
    /// Failed attempts of the emails still in the outbox.
    pub retries: i64,
    /// Answers by status and reason.
    pub answers: Vec<((u16, &'static str), u64)>,
    /// Cumulative latency buckets and the sum of latencies.
    pub latency: (Vec<u64>, f64),
    /// Seconds since the last scheduled backup, when backups are configured.
    pub backup_age_seconds: Option<i64>,
    /// Seconds since the last retention purge and the purges that failed since start,
    /// when `retention_days` is configured.
    pub purge: Option<(i64, u64)>,
}

/// Reads the figures: counters in memory and three aggregate queries.
pub async fn gather(app: &AppState) -> Result<Snapshot, Error> {
    let now = app.store.clock().now();
    let (stored_by_form, oldest, retries) = app
        .store
        .read(move |c| {
            let mut stmt = c.prepare("SELECT form, count(*) FROM submissions GROUP BY form ORDER BY form")?;
            let forms = stmt
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<Result<Vec<(String, i64)>, _>>()?;
            let oldest: Option<i64> = c.query_row(
                "SELECT min(created_at) FROM outbox WHERE status = 'pending'",
                [],
                |r| r.get(0),
            )?;
            let retries: i64 = c.query_row(
                "SELECT coalesce(sum(max(attempts - 1, 0)), 0) FROM outbox WHERE status != 'sent' OR attempts > 1",
                [],
                |r| r.get(0),
            )?;
            Ok((forms, oldest, retries))
        })
        .await?;
    let c = app.store.counters();
    let backup_age_seconds = app.settings.site.form_service.backup.as_ref().map(|_| {
        let last = c.last_backup_at.load(Ordering::Relaxed);
        if last == 0 {
            -1
        } else {
            now - last
        }
    });
    let purge = app.settings.site.form_service.retention_days.map(|_| {
        let last = c.last_purge_at.load(Ordering::Relaxed);
        let age = if last == 0 { -1 } else { now - last };
        (age, c.purge_failures.load(Ordering::Relaxed))
    });
    Ok(Snapshot {
        stored_by_form,
        outbox_waiting: c.pending.load(Ordering::Relaxed),
        outbox_failed: c.failed.load(Ordering::Relaxed),
        oldest_waiting_seconds: oldest.map_or(0, |o| (now - o).max(0)),
        retries,
        answers: c.http.answers(),
        latency: c.http.histogram(),
        backup_age_seconds,
        purge,
    })
}

/// The Prometheus text exposition of `s`.
pub fn render(s: &Snapshot) -> String {
    let mut o = String::new();
    let head = |o: &mut String, name: &str, kind: &str, help: &str| {
        let _ = writeln!(o, "# HELP {name} {help}\n# TYPE {name} {kind}");
    };
    head(
        &mut o,
        "form_service_submissions",
        "gauge",
        "Requests stored, by form.",
    );
    for (form, n) in &s.stored_by_form {
        let _ = writeln!(
            o,
            "form_service_submissions{{form=\"{}\"}} {n}",
            label(form)
        );
    }
    head(
        &mut o,
        "form_service_outbox_waiting",
        "gauge",
        "Emails waiting to be sent.",
    );
    let _ = writeln!(o, "form_service_outbox_waiting {}", s.outbox_waiting);
    head(
        &mut o,
        "form_service_outbox_failed",
        "gauge",
        "Emails given up on (see `form-service outbox`).",
    );
    let _ = writeln!(o, "form_service_outbox_failed {}", s.outbox_failed);
    head(
        &mut o,
        "form_service_outbox_oldest_waiting_seconds",
        "gauge",
        "Age of the oldest waiting email (0 when none waits).",
    );
    let _ = writeln!(
        o,
        "form_service_outbox_oldest_waiting_seconds {}",
        s.oldest_waiting_seconds
    );
    head(
        &mut o,
        "form_service_outbox_retries",
        "gauge",
        "Failed delivery attempts of the emails still in the outbox.",
    );
    let _ = writeln!(o, "form_service_outbox_retries {}", s.retries);
    head(
        &mut o,
        "form_service_http_responses_total",
        "counter",
        "Answers since start, by status and reason.",
    );
    let mut limited = 0;
    for ((status, reason), n) in &s.answers {
        let _ = writeln!(
            o,
            "form_service_http_responses_total{{status=\"{status}\",reason=\"{reason}\"}} {n}"
        );
        if *reason == "rate_limited" {
            limited += n;
        }
    }
    head(
        &mut o,
        "form_service_rate_limited_total",
        "counter",
        "Posts refused for coming too often from one client.",
    );
    let _ = writeln!(o, "form_service_rate_limited_total {limited}");
    head(
        &mut o,
        "form_service_http_request_duration_seconds",
        "histogram",
        "Time to answer a request.",
    );
    let (counts, sum) = &s.latency;
    for (i, n) in counts.iter().enumerate() {
        let le = super::BUCKETS
            .get(i)
            .map_or("+Inf".to_string(), |b| b.to_string());
        let _ = writeln!(
            o,
            "form_service_http_request_duration_seconds_bucket{{le=\"{le}\"}} {n}"
        );
    }
    let _ = writeln!(o, "form_service_http_request_duration_seconds_sum {sum}");
    let _ = writeln!(
        o,
        "form_service_http_request_duration_seconds_count {}",
        counts.last().copied().unwrap_or(0)
    );
    if let Some(age) = s.backup_age_seconds {
        head(
            &mut o,
            "form_service_last_backup_age_seconds",
            "gauge",
            "Seconds since the last scheduled backup (-1: none yet).",
        );
        let _ = writeln!(o, "form_service_last_backup_age_seconds {age}");
    }
    if let Some((age, failures)) = s.purge {
        head(
            &mut o,
            "form_service_last_purge_age_seconds",
            "gauge",
            "Seconds since the service last deleted what is past retention_days (-1: not yet).",
        );
        let _ = writeln!(o, "form_service_last_purge_age_seconds {age}");
        head(
            &mut o,
            "form_service_purge_failures_total",
            "counter",
            "Scheduled retention purges that failed since start.",
        );
        let _ = writeln!(o, "form_service_purge_failures_total {failures}");
    }
    o
}

/// A label value with `\`, `"` and newlines escaped.
fn label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_format() {
        let s = Snapshot {
            stored_by_form: vec![("consultation".into(), 3)],
            outbox_waiting: 2,
            answers: vec![((201, "ok"), 3), ((429, "rate_limited"), 4)],
            latency: (vec![1, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3, 7], 1.5),
            backup_age_seconds: Some(60),
            purge: Some((120, 1)),
            ..Snapshot::default()
        };
        let text = render(&s);
        for line in [
            "# TYPE form_service_submissions gauge",
            "form_service_submissions{form=\"consultation\"} 3",
            "form_service_outbox_waiting 2",
            "form_service_http_responses_total{status=\"429\",reason=\"rate_limited\"} 4",
            "form_service_rate_limited_total 4",
            "form_service_http_request_duration_seconds_bucket{le=\"0.001\"} 1",
            "form_service_http_request_duration_seconds_bucket{le=\"+Inf\"} 7",
            "form_service_http_request_duration_seconds_count 7",
            "form_service_last_backup_age_seconds 60",
            "form_service_last_purge_age_seconds 120",
            "form_service_purge_failures_total 1",
        ] {
            assert!(text.lines().any(|l| l == line), "no {line:?} in\n{text}");
        }
        assert_eq!(label("a\"b\\"), "a\\\"b\\\\");
    }
}
