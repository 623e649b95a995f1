//! Checks made before a post's body is read, as layers for each area (`forms`, `posts`,
//! `loyalty`): is the form or area there, does a browser post come from the site, and
//! has this client address posted too often; and which
//! browser origins get CORS answers. Both origin checks ask `crate::origin`.
//!
//! The client address is the connection's peer, or, when the peer is a configured
//! proxy, the nearest untrusted address in `X-Forwarded-For`.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::sync::Mutex;
use std::time::Instant;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::header::{HOST, ORIGIN, REFERER};
use axum::http::{HeaderMap, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::Response;
use site_config::RateLimit;

use super::error::AppError;
use super::AppState;
use crate::origin;

/// Runs on `/forms/{form}` before the handler.
pub(super) async fn forms(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    req: Request,
    next: Next,
) -> Result<Response, AppError> {
    let form = req.uri().path().strip_prefix("/forms/").unwrap_or_default();
    if app.settings.form(form).is_none() {
        return Err(AppError::NotFound);
    }
    if req.method() != Method::POST {
        return Ok(next.run(req).await);
    }
    check_post(&app, peer, req.headers(), form)?;
    let ip = client_ip(peer, req.headers(), &app.settings.trusted_proxies);
    let res = next.run(req).await;
    // A visitor correcting their answers is never the flood the limit is for: a post
    // sent back to be fixed gives its token back (issue 13, item 16).
    if res.status() == axum::http::StatusCode::UNPROCESSABLE_ENTITY {
        app.limiter.refund(ip);
    }
    Ok(res)
}

/// Runs before the staff pages: posts must come from the site or the service's own
/// pages, and count against the client's rate limit (`check_post`).
pub(super) async fn posts(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    req: Request,
    next: Next,
) -> Result<Response, AppError> {
    if req.method() == Method::POST {
        check_post(&app, peer, req.headers(), req.uri().path())?;
    }
    Ok(next.run(req).await)
}

/// Runs before the members' area and comments' links: without a loyalty programme
/// they do not exist; posts are checked as [`posts`] checks them.
pub(super) async fn loyalty(
    State(app): State<AppState>,
    peer: ConnectInfo<SocketAddr>,
    req: Request,
    next: Next,
) -> Result<Response, AppError> {
    if app.settings.loyalty.is_none() {
        return Err(AppError::NotFound);
    }
    posts(State(app), peer, req, next).await
}

/// What every state-changing request passes: it comes from the site (or the service's
/// own pages), and its client has not posted too often. `what` names it in the log.
pub(super) fn check_post(
    app: &AppState,
    peer: SocketAddr,
    headers: &HeaderMap,
    what: &str,
) -> Result<(), AppError> {
    if !origin_allowed(headers, &app.settings.allowed_origins) {
        tracing::info!(what, "refused a post from another origin");
        return Err(AppError::WrongOrigin);
    }
    let ip = client_ip(peer, headers, &app.settings.trusted_proxies);
    app.limiter.check(ip, Instant::now()).map_err(|retry| {
        tracing::info!(what, "rate limit reached");
        AppError::TooMany(retry)
    })
}

/// Browsers send `Origin` with every POST (and `Referer` on older ones). Programs send
/// neither and are let through; anything that names another origin, or `null`, is not.
/// The service's own origin (the `Host` the browser asked) is allowed too: the form on
/// a page it answered with (a 422) posts from there.
pub fn origin_allowed(headers: &HeaderMap, allowed: &[String]) -> bool {
    let named = headers
        .get(ORIGIN)
        .or_else(|| headers.get(REFERER))
        .map(HeaderValue::to_str);
    match named {
        None => true,
        Some(Ok(o)) => origin::is_allowed(o, allowed) || same_host(&origin::of(o), headers),
        Some(Err(_)) => false,
    }
}

/// The request's `Origin`, to echo in CORS headers, when it is one of `allowed`. Only
/// the configured origins: a same-host page needs no CORS.
pub(super) fn cors_origin(headers: &HeaderMap, allowed: &[String]) -> Option<HeaderValue> {
    headers
        .get(ORIGIN)
        .filter(|o| o.to_str().is_ok_and(|o| origin::is_allowed(o, allowed)))
        .cloned()
}

fn same_host(origin: &str, headers: &HeaderMap) -> bool {
    let authority = origin.split_once("://").map_or("", |(_, a)| a);
    let host = headers
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    !authority.is_empty() && authority == host
}

/// The address to rate-limit: the peer, unless the peer is a trusted proxy.
pub fn client_ip(peer: SocketAddr, headers: &HeaderMap, trusted: &[IpAddr]) -> IpAddr {
    let mut ip = canonical(peer.ip());
    if !trusted.contains(&ip) {
        return ip;
    }
    // Walk the chain from the nearest hop; the first address no trusted proxy vouches
    // for is the client. Everything left of it could have been written by the client.
    let chain: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .collect();
    for hop in chain.iter().rev() {
        match hop.trim().parse::<IpAddr>() {
            Ok(h) => {
                ip = canonical(h);
                if !trusted.contains(&ip) {
                    return ip;
                }
            }
            Err(_) => return ip,
        }
    }
    ip
}

fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

/// A token bucket per address (IPv6 by /64, since one host may hold the whole block).
#[derive(Debug)]
pub struct RateLimiter {
    limit: RateLimit,
    buckets: Mutex<HashMap<IpAddr, (f64, Instant)>>,
}

/// What per-client limits (posts here, open connections in `server`) count by: the
/// address, an IPv4-mapped one as IPv4, and IPv6 by /64.
pub fn limit_key(ip: IpAddr) -> IpAddr {
    match canonical(ip) {
        IpAddr::V6(v6) => {
            let s = v6.segments();
            IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
        }
        v4 => v4,
    }
}

/// Buckets kept before full ones are forgotten.
const MAX_TRACKED: usize = 100_000;

impl RateLimiter {
    /// A limiter; `per_minute: 0` allows everything.
    pub fn new(limit: RateLimit) -> Self {
        Self {
            limit,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Gives back the token a post took (it was sent back to be corrected).
    pub fn refund(&self, ip: IpAddr) {
        if self.limit.per_minute == 0 {
            return;
        }
        let burst = f64::from(self.limit.burst.max(1));
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((tokens, _)) = buckets.get_mut(&limit_key(ip)) {
            *tokens = (*tokens + 1.0).min(burst);
        }
    }

    /// Takes a token for `ip`, or says in how many seconds one will be there.
    pub fn check(&self, ip: IpAddr, now: Instant) -> Result<(), u64> {
        if self.limit.per_minute == 0 {
            return Ok(());
        }
        let key = limit_key(ip);
        let burst = f64::from(self.limit.burst.max(1));
        let rate = f64::from(self.limit.per_minute) / 60.0;
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if buckets.len() >= MAX_TRACKED {
            buckets.retain(|_, (tokens, at)| {
                *tokens + now.duration_since(*at).as_secs_f64() * rate < burst
            });
        }
        let (tokens, at) = buckets.entry(key).or_insert((burst, now));
        *tokens = (*tokens + now.duration_since(*at).as_secs_f64() * rate).min(burst);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - *tokens) / rate).ceil().max(1.0) as u64)
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut m = HeaderMap::new();
        for (k, v) in pairs {
            m.append(*k, v.parse().unwrap());
        }
        m
    }

    #[test]
    fn origin_rules() {
        let allowed = vec!["https://clinic.example".to_string()];
        assert!(origin_allowed(&headers(&[]), &allowed));
        assert!(origin_allowed(
            &headers(&[("origin", "https://clinic.example")]),
            &allowed
        ));
        assert!(!origin_allowed(
            &headers(&[("origin", "https://evil.example")]),
            &allowed
        ));
        assert!(!origin_allowed(&headers(&[("origin", "null")]), &allowed));
        assert!(origin_allowed(
            &headers(&[("referer", "https://clinic.example/services/x/")]),
            &allowed
        ));
        assert!(!origin_allowed(
            &headers(&[("referer", "https://clinic.example.evil.example/")]),
            &allowed
        ));
        // A post from the service's own error page.
        assert!(origin_allowed(
            &headers(&[
                ("origin", "https://forms.clinic.example"),
                ("host", "forms.clinic.example")
            ]),
            &allowed
        ));
        assert!(!origin_allowed(
            &headers(&[
                ("origin", "https://evil.example"),
                ("host", "forms.clinic.example")
            ]),
            &allowed
        ));
    }

    #[test]
    fn cors_answers_only_configured_origins() {
        let allowed = vec!["https://clinic.example".to_string()];
        let cors = |pairs| cors_origin(&headers(pairs), &allowed);
        assert_eq!(
            cors(&[("origin", "https://clinic.example")]).unwrap(),
            "https://clinic.example"
        );
        assert_eq!(cors(&[]), None);
        assert_eq!(cors(&[("origin", "https://evil.example")]), None);
        assert_eq!(cors(&[("origin", "null")]), None);
        // A page of the site names it in `Referer`, which is no CORS request.
        assert_eq!(cors(&[("referer", "https://clinic.example/x/")]), None);
        // The service's own host is allowed to post, but needs no CORS.
        assert_eq!(
            cors(&[
                ("origin", "https://forms.clinic.example"),
                ("host", "forms.clinic.example")
            ]),
            None
        );
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let proxy: IpAddr = "10.0.0.1".parse().unwrap();
        let h = headers(&[("x-forwarded-for", "6.6.6.6, 203.0.113.9")]);
        let direct: SocketAddr = "198.51.100.7:5000".parse().unwrap();
        assert_eq!(
            client_ip(direct, &h, &[proxy]),
            "198.51.100.7".parse::<IpAddr>().unwrap()
        );
        let via: SocketAddr = "10.0.0.1:5000".parse().unwrap();
        assert_eq!(
            client_ip(via, &h, &[proxy]),
            "203.0.113.9".parse::<IpAddr>().unwrap()
        );
        assert_eq!(client_ip(via, &headers(&[]), &[proxy]), proxy);
        let mapped: SocketAddr = "[::ffff:198.51.100.7]:1".parse().unwrap();
        assert_eq!(
            client_ip(mapped, &h, &[]),
            "198.51.100.7".parse::<IpAddr>().unwrap()
        );
    }

    #[test]
    fn limits_count_ipv6_by_64_and_mapped_ipv4_as_ipv4() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert_eq!(limit_key(ip("192.0.2.1")), ip("192.0.2.1"));
        assert_eq!(limit_key(ip("::ffff:192.0.2.1")), ip("192.0.2.1"));
        assert_eq!(limit_key(ip("2001:db8:1:2:3:4:5:6")), ip("2001:db8:1:2::"));
        assert_ne!(
            limit_key(ip("2001:db8:1:3::1")),
            limit_key(ip("2001:db8:1:2::1"))
        );
    }

    #[test]
    fn bucket_allows_a_burst_then_refills() {
        let l = RateLimiter::new(RateLimit {
            per_minute: 6,
            burst: 2,
        });
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let t = Instant::now();
        assert!(l.check(ip, t).is_ok());
        assert!(l.check(ip, t).is_ok());
        assert_eq!(l.check(ip, t), Err(10));
        assert!(
            l.check("192.0.2.2".parse().unwrap(), t).is_ok(),
            "other addresses unaffected"
        );
        assert!(l.check(ip, t + Duration::from_secs(10)).is_ok());
        let v6a: IpAddr = "2001:db8::1".parse().unwrap();
        let v6b: IpAddr = "2001:db8::2".parse().unwrap();
        assert!(l.check(v6a, t).is_ok() && l.check(v6b, t).is_ok());
        assert!(l.check(v6a, t).is_err(), "one /64 shares a bucket");
    }
}
