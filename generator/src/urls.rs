//! Addresses on the site: a page's URL and its output file, both ways, and where a
//! link found on a page leads. The build's link check ([`crate::links`]) and `check`'s
//! ([`crate::check`]) resolve links here, so both agree on what is external.

use std::borrow::Cow;

/// The output file of a site path: `/` -> `index.html`, `/services/smp/` ->
/// `services/smp/index.html`, `/404.html` -> `404.html`.
pub fn output_path(url: &str) -> String {
    let trimmed = url.trim_start_matches('/');
    if trimmed.is_empty() {
        "index.html".into()
    } else if trimmed.ends_with('/') {
        // Not `format!`: link checks make this for every link of every page.
        let mut path = String::with_capacity(trimmed.len() + "index.html".len());
        path.push_str(trimmed);
        path.push_str("index.html");
        path
    } else {
        trimmed.to_string()
    }
}

/// The URL of the page at an output path: [`output_path`]'s inverse
/// (`services/smp/index.html` -> `/services/smp/`).
pub fn page_url_of(output_path: &str) -> String {
    match output_path.strip_suffix("index.html") {
        Some(dir) => format!("/{dir}"),
        None => format!("/{output_path}"),
    }
}

/// Whether `s` starts with a URL scheme (`https:`, `mailto:`, `tel:`): it leaves the
/// site, or is no address of a file at all.
pub(crate) fn has_scheme(s: &str) -> bool {
    match s.find(':') {
        Some(i) => {
            s[..i]
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+.-".contains(c))
                && i > 0
        }
        None => false,
    }
}

/// A relative address resolved against the URL of the page it appears on
/// (`/services/smp/` + `a.jpg` -> `/services/smp/a.jpg`), as a browser would.
pub fn resolve_from_url(from: &str, rel: &str) -> String {
    let mut parts: Vec<&str> = from.split('/').filter(|p| !p.is_empty()).collect();
    if !from.ends_with('/') {
        parts.pop();
    }
    for seg in rel.split('/') {
        match seg {
            "." | "" => {}
            ".." => {
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    let mut out = format!("/{}", parts.join("/"));
    if rel.ends_with('/') && out != "/" {
        out.push('/');
    }
    out
}

/// Where a link leads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Resolved<'a> {
    /// Off the site: another scheme (`https:`, `mailto:`, `tel:`) or host (`//cdn…`).
    External,
    /// A place on the site.
    Target(Target<'a>),
}

/// A link to a place on the site, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Target<'a> {
    /// The path as written, without the query and fragment; empty for a link to the
    /// page itself (`#faq`, `?x=1`).
    pub path: &'a str,
    /// The site path it leads to (`/services/smp/`): `path` resolved against the page.
    pub site_path: Cow<'a, str>,
    /// The output file it names ([`output_path`] of `site_path`).
    pub output: String,
    /// What follows `#`, if there is a `#`.
    pub fragment: Option<&'a str>,
}

/// Where `url`, found on the page at `from` (a site path, `/services/smp/`), leads. A
/// URL under `base` (the site's own address) is a path on the site.
pub(crate) fn resolve<'a>(url: &'a str, from: &'a str, base: &str) -> Resolved<'a> {
    let url = url
        .strip_prefix(base)
        .filter(|r| r.starts_with('/'))
        .unwrap_or(url);
    if has_scheme(url) || url.starts_with("//") {
        return Resolved::External;
    }
    let (path, fragment) = match url.split_once('#') {
        Some((p, f)) => (p, Some(f)),
        None => (url, None),
    };
    let path = path.split('?').next().unwrap_or("");
    let site_path: Cow<'a, str> = if path.is_empty() {
        Cow::Borrowed(from)
    } else if path.starts_with('/') {
        Cow::Borrowed(path)
    } else {
        Cow::Owned(resolve_from_url(from, path))
    };
    let output = output_path(&site_path);
    Resolved::Target(Target {
        path,
        site_path,
        output,
        fragment,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_paths() {
        assert_eq!(output_path("/"), "index.html");
        assert_eq!(output_path("/services/smp/"), "services/smp/index.html");
        assert_eq!(output_path("/404.html"), "404.html");
    }

    #[test]
    fn page_urls_are_output_paths_inverse() {
        for url in ["/", "/services/smp/", "/404.html", "/img/a.jpg"] {
            assert_eq!(page_url_of(&output_path(url)), url);
        }
    }

    #[test]
    fn relative_urls_resolve_like_a_browser() {
        assert_eq!(
            resolve_from_url("/services/smp/", "a.jpg"),
            "/services/smp/a.jpg"
        );
        assert_eq!(resolve_from_url("/services/smp/", "../"), "/services/");
        assert_eq!(resolve_from_url("/a.html", "b/"), "/b/");
    }

    fn target<'a>(url: &'a str, from: &'a str) -> Target<'a> {
        match resolve(url, from, "https://c.example") {
            Resolved::Target(t) => t,
            Resolved::External => panic!("{url} resolved as external"),
        }
    }

    #[test]
    fn links_resolve_to_output_files() {
        let t = target("../prices/?tab=2#laser", "/services/smp/");
        assert_eq!(t.path, "../prices/");
        assert_eq!(t.site_path, "/services/prices/");
        assert_eq!(t.output, "services/prices/index.html");
        assert_eq!(t.fragment, Some("laser"));
        let t = target("#faq", "/services/smp/");
        assert_eq!((t.path, t.fragment), ("", Some("faq")));
        assert_eq!(t.output, "services/smp/index.html");
        let t = target("https://c.example/about/", "/");
        assert_eq!((t.path, t.output.as_str()), ("/about/", "about/index.html"));
        let t = target("/img/a.jpg", "/");
        assert_eq!((t.site_path.as_ref(), t.fragment), ("/img/a.jpg", None));
        // `://` after the path is a query's, not a scheme's.
        assert_eq!(target("/go/?to=https://x.example", "/").path, "/go/");
    }

    #[test]
    fn other_schemes_and_hosts_are_external() {
        for url in [
            "https://elsewhere.example/x",
            "http://c.example.org/",
            "mailto:hello@c.example",
            "tel:+441234567890",
            "sms:+441234567890",
            "//cdn.example/a.js",
        ] {
            assert_eq!(resolve(url, "/", "https://c.example"), Resolved::External);
        }
        // The site's own address without a path after it is no page path.
        assert_eq!(
            resolve("https://c.example", "/", "https://c.example"),
            Resolved::External
        );
    }
}
