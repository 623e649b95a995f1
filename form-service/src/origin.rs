//! Web origins (`scheme://host[:port]`): what the site's and the service's addresses
//! reduce to, and the one test of whether an origin a browser named is ours. CORS
//! answers and the check on posts (`http::guard`) both ask [`is_allowed`].

/// `scheme://host[:port]` of an absolute URL ([`site_config::origin_of`]), lowercased
/// as browsers send it; anything else as it is (`null` is no origin of ours).
pub fn of(url: &str) -> String {
    site_config::origin_of(url)
        .unwrap_or(url)
        .to_ascii_lowercase()
}

/// True when `named` (an `Origin` header, or a `Referer` page address) is one of
/// `allowed` (origins as [`of`] gives them). `null` and anything unparsable are not.
pub fn is_allowed(named: &str, allowed: &[String]) -> bool {
    allowed.contains(&of(named))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_drop_paths_and_case() {
        assert_eq!(of("https://Clinic.example/spa/"), "https://clinic.example");
        assert_eq!(of("http://127.0.0.1:8080"), "http://127.0.0.1:8080");
        assert_eq!(of("http://a.example?x"), "http://a.example");
    }

    #[test]
    fn only_listed_origins_are_allowed() {
        let allowed = vec![
            "https://clinic.example".to_string(),
            "http://127.0.0.1:8080".to_string(),
        ];
        for ok in [
            "https://clinic.example",
            "https://CLINIC.example",
            "https://clinic.example/services/x/",
            "http://127.0.0.1:8080",
        ] {
            assert!(is_allowed(ok, &allowed), "{ok}");
        }
        for bad in [
            "null",
            "",
            "https://evil.example",
            "http://clinic.example",
            "https://clinic.example:8443",
            "https://clinic.example.evil.example",
            "http://127.0.0.1:8081",
        ] {
            assert!(!is_allowed(bad, &allowed), "{bad}");
        }
    }
}
