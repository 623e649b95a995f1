//! What the preview adds to each page: the reload script, and while the site is
//! broken, a panel listing each problem with its file and line.
//!
//! Everything shown is escaped: a problem's message quotes what the editor wrote.

use site_config::{escape_html, Diagnostics};

/// Path of the script that listens for rebuilds.
pub const SCRIPT_PATH: &str = "/__generator/reload.js";
/// Path of the overlay's stylesheet.
pub const STYLE_PATH: &str = "/__generator/overlay.css";

/// Is there a good version of the site behind the panel? (Not when `serve` started on
/// a site that has never built.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behind {
    /// The last good version is shown below the panel.
    LastGood,
    /// Nothing has built yet: the panel is all there is.
    Nothing,
}

/// The panel for `problems`.
pub fn overlay_html(problems: &Diagnostics, behind: Behind) -> String {
    let (title, lead) = match behind {
        Behind::LastGood => (
            "The site could not be rebuilt",
            "The last good version is shown below. Fix these and save; this message goes away by itself.",
        ),
        Behind::Nothing => (
            "The site could not be built",
            "There is no page to show until these are fixed. Fix them and save; the site appears by itself.",
        ),
    };
    let mut h = format!(
        "<div id=\"generator-overlay\" role=\"alert\" aria-live=\"assertive\"><h2>{title}</h2><p>{lead}</p><ol>"
    );
    for d in &problems.0 {
        h.push_str("<li><code>");
        h.push_str(&escape_html(&d.location()));
        h.push_str("</code> ");
        h.push_str(&with_code(&d.message));
        if let Some(hint) = &d.hint {
            h.push_str("<br><em>");
            h.push_str(&with_code(hint));
            h.push_str("</em>");
        }
        h.push_str("</li>");
    }
    h.push_str("</ol></div>");
    h
}

/// `text` escaped, with what the terminal shows between backticks (`` `duration` ``)
/// set as code, as the backticks mean; an unpaired backtick stays as it is.
fn with_code(text: &str) -> String {
    let parts: Vec<&str> = text.split('`').collect();
    if parts.len().is_multiple_of(2) {
        return escape_html(text);
    }
    let mut out = String::with_capacity(text.len() + 32);
    for (i, part) in parts.iter().enumerate() {
        if i % 2 == 1 {
            out.push_str("<code>");
            out.push_str(&escape_html(part));
            out.push_str("</code>");
        } else {
            out.push_str(&escape_html(part));
        }
    }
    out
}

/// `html` with the reload script, and the overlay when there are problems. Pages
/// without `<head>`/`<body>` (alias redirects) get only what fits.
pub fn inject(html: &str, problems: &Diagnostics) -> String {
    inject_over(html, problems, Behind::LastGood)
}

/// [`inject`], saying what is [`Behind`] the panel.
pub fn inject_over(html: &str, problems: &Diagnostics, behind: Behind) -> String {
    let mut head = format!("<script src=\"{SCRIPT_PATH}\" defer></script>");
    let mut out = String::with_capacity(html.len() + 512);
    let body_panel = if problems.is_empty() {
        String::new()
    } else {
        head.push_str(&format!("<link rel=\"stylesheet\" href=\"{STYLE_PATH}\">"));
        overlay_html(problems, behind)
    };
    match html.find("</head>") {
        Some(i) => {
            out.push_str(&html[..i]);
            out.push_str(&head);
            out.push_str(&html[i..]);
        }
        None => {
            out.push_str(&head);
            out.push_str(html);
        }
    }
    if !body_panel.is_empty() {
        if let Some(start) = out.find("<body") {
            if let Some(end) = out[start..].find('>') {
                out.insert_str(start + end + 1, &body_panel);
                return out;
            }
        }
        out.push_str(&body_panel);
    }
    out
}

/// Listens for rebuilds: reloads when this page changed, swaps stylesheets in place.
pub const SCRIPT: &str = r#"(function () {
  "use strict";
  var source = new EventSource("/__reload");
  var here = location.pathname;
  function affects(paths) {
    return paths.some(function (p) {
      return p === "*" || p === here || p + "index.html" === here || p === here + "index.html";
    });
  }
  source.addEventListener("reload", function (e) {
    var data = JSON.parse(e.data);
    if (affects(data.paths)) { location.reload(); }
  });
  source.addEventListener("css", function (e) {
    JSON.parse(e.data).forEach(function (pair) {
      document.querySelectorAll('link[rel="stylesheet"]').forEach(function (link) {
        if (link.getAttribute("href") === pair[0]) { link.setAttribute("href", pair[1]); }
      });
    });
  });
  source.addEventListener("broken", function () { location.reload(); });
  // After the server restarts, show what it serves now.
  var opened = false;
  source.addEventListener("open", function () {
    if (opened) { location.reload(); }
    opened = true;
  });
})();
"#;

/// The overlay's look: readable over any theme.
pub const STYLE: &str = "#generator-overlay{position:sticky;top:0;z-index:2147483647;background:#fff5f5;\
color:#5c0011;border-bottom:4px solid #b00020;padding:1rem 1.5rem;font:16px/1.5 system-ui,sans-serif;\
max-height:60vh;overflow:auto}#generator-overlay h2{margin:0 0 .25rem;font-size:1.25rem}\
#generator-overlay code{font-weight:700;color:#000}#generator-overlay ol{margin:.5rem 0 0;padding-left:1.5rem}\n";

#[cfg(test)]
mod tests {
    use super::*;
    use site_config::Diagnostic;

    #[test]
    fn overlay_escapes_and_names_file_and_line() {
        let problems = Diagnostics(vec![Diagnostic::new(
            "content/a.md",
            "bad `<script>alert(1)</script>`",
        )
        .at(4, 2)
        .with_hint("did you mean `duration`?")]);
        let html = inject(
            "<html><head><title>x</title></head><body class=\"b\"><p>page</p></body></html>",
            &problems,
        );
        assert!(html.contains("<code>content/a.md:4:2</code>"));
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(!html.contains("<script>alert"));
        assert!(html.contains("<body class=\"b\"><div id=\"generator-overlay\""));
        assert!(html.contains("reload.js\" defer></script><link rel=\"stylesheet\" href=\"/__generator/overlay.css\"></head>"));
    }

    /// Started on a site that never built, the panel does not promise a last good
    /// version; what is between backticks reads as code, not as backticks.
    #[test]
    fn with_nothing_built_the_panel_says_so_and_sets_backticks_as_code() {
        let problems = Diagnostics(vec![Diagnostic::new(
            "content/a.md",
            "unknown field `durration`",
        )
        .with_hint("did you mean `duration`?")]);
        let html = inject_over(
            "<html><head></head><body></body></html>",
            &problems,
            Behind::Nothing,
        );
        assert!(
            html.contains("There is no page to show until these are fixed"),
            "{html}"
        );
        assert!(!html.contains("last good version"), "{html}");
        assert!(
            html.contains("unknown field <code>durration</code>"),
            "{html}"
        );
        assert!(
            html.contains("did you mean <code>duration</code>?"),
            "{html}"
        );
        assert!(with_code("a ` b").contains("a ` b"));
    }

    #[test]
    fn healthy_pages_get_only_the_script() {
        let html = inject(
            "<html><head></head><body></body></html>",
            &Diagnostics::default(),
        );
        assert_eq!(html, "<html><head><script src=\"/__generator/reload.js\" defer></script></head><body></body></html>");
    }
}
