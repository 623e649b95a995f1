//! The files hosts and crawlers read: `sitemap.xml`, `robots.txt`, `_headers`,
//! `_redirects`, and an HTML redirect page for each alias.

use std::fmt::Write;

use site_config::{escape_html, origin_of, SiteConfig};

/// A sitemap listing `urls` (site paths) as absolute addresses.
pub fn sitemap_xml(config: &SiteConfig, urls: &[&str]) -> String {
    let mut s = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n");
    for url in urls {
        let _ = writeln!(
            s,
            "  <url><loc>{}{}</loc></url>",
            config.base_url,
            escape_html(url)
        );
    }
    s.push_str("</urlset>\n");
    s
}

/// Allows everything and points at the sitemap.
pub fn robots_txt(config: &SiteConfig) -> String {
    format!(
        "User-agent: *\nAllow: /\n\nSitemap: {}/sitemap.xml\n",
        config.base_url
    )
}

/// Header rules in the `_headers` format Netlify and Cloudflare Pages read.
///
/// Security headers apply everywhere; fingerprinted assets under `/assets/` are
/// immutable. That is the only cache rule: those hosts join the values of every rule
/// that matches, and no pattern for pages can be kept off `/assets/` on both (Netlify
/// reads `/:a/:b/` with its last slash optional, so it matches `/assets/style.css`).
/// Pages, `404.html`, the sitemap and `robots.txt` keep the hosts' own default, which
/// asks the CDN every time whether they changed (a published comment shows at once).
pub fn headers_file(config: &SiteConfig) -> String {
    let form_origin = config.form_service.url.as_deref().and_then(origin_of);
    let extra = form_origin.map(|o| format!(" {o}")).unwrap_or_default();
    let csp = format!(
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; \
         connect-src 'self'{extra}; form-action 'self'{extra}; frame-ancestors 'none'; base-uri 'self'; object-src 'none'"
    );
    let mut s = String::new();
    let _ = writeln!(s, "/*");
    let _ = writeln!(s, "  Content-Security-Policy: {csp}");
    // Not no-referrer: with it, browsers send `Origin: null` on form posts, and the
    // form service could not tell the site's own forms from anyone else's.
    let _ = writeln!(s, "  Referrer-Policy: strict-origin-when-cross-origin");
    let _ = writeln!(s, "  X-Content-Type-Options: nosniff");
    let _ = writeln!(s, "  X-Frame-Options: DENY");
    let _ = writeln!(
        s,
        "  Permissions-Policy: camera=(), microphone=(), geolocation=(), payment=()"
    );
    let _ = writeln!(s, "  Cross-Origin-Opener-Policy: same-origin");
    if config.base_url.as_str().starts_with("https://") {
        let _ = writeln!(
            s,
            "  Strict-Transport-Security: max-age=31536000; includeSubDomains"
        );
    }
    let _ = writeln!(
        s,
        "\n/assets/*\n  Cache-Control: public, max-age=31536000, immutable"
    );
    s
}

/// `_redirects`: one permanent redirect per alias.
pub fn redirects_file(aliases: &[(String, String)]) -> String {
    let mut s = String::new();
    for (from, to) in aliases {
        let _ = writeln!(s, "{from} {to} 301");
    }
    s
}

/// A page at an alias path that sends browsers and crawlers on, for hosts that do
/// not read `_redirects`.
pub fn alias_page(config: &SiteConfig, to: &str) -> String {
    let target = escape_html(&format!("{}{}", config.base_url, to));
    format!(
        "<!doctype html>\n<html lang=\"{lang}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>Moved</title>\n\
         <meta name=\"robots\" content=\"noindex\">\n<link rel=\"canonical\" href=\"{target}\">\n\
         <meta http-equiv=\"refresh\" content=\"0; url={target}\">\n</head>\n<body>\n\
         <p>This page has moved to <a href=\"{target}\">{target}</a>.</p>\n</body>\n</html>\n",
        lang = escape_html(&config.language)
    )
}
