//! Pages in the site's look, built from the generated site itself.
//!
//! A form shown again takes the form's own page (`<site-dir><page>/index.html`),
//! swaps its `<form id="form-NAME">` for one filled with the answers and messages, and
//! puts the summary of what to fix first in `<main>`: the form may sit far down a
//! phone's screen, and without script nothing scrolls to it (issue 15, item 8). A
//! refusal takes `404.html` and swaps the inside of `<main>`. Root-relative links are
//! made absolute to the site, since these pages are served from the form service's
//! host. Without the generated files, a plain built-in page says the same.

use site_config::{error_summary, escape_html, render_form, FormDecl, FormState};

use super::view;
use crate::Settings;

/// The form's page with `state` filled in: the page it was sent from (`from`, a plain
/// site path checked by `validate::page_from`) when that page holds the form, else the
/// form's own `page`. The form posts where that page's form posted; without the page
/// (no generated site), to this service (`--public-url`), from the same page.
pub fn form_page(
    s: &Settings,
    form: &str,
    decl: &FormDecl,
    from: Option<&str>,
    state: &FormState,
) -> String {
    let default_action = action(s, form, from);
    let summary = error_summary(form, decl, state);
    let read = |page: &str| {
        let file = s.site_dir.join(page.trim_matches('/')).join("index.html");
        let html = std::fs::read_to_string(&file).ok()?;
        let found = find_form(&html, form);
        if found.is_none() {
            tracing::warn!(file = %file.display(), "no <form id=\"form-{form}\"> in the page");
        }
        found.map(|range| (html, range))
    };
    let shown = from
        .and_then(&read)
        .or_else(|| read(decl.page.as_deref().unwrap_or("/")));
    if let Some((html, (start, end))) = shown {
        let action = attribute(&html[start..end], "action").unwrap_or(default_action);
        let filled = render_form(form, decl, &action, &s.services, None, state);
        let mut out = String::with_capacity(html.len() + filled.len());
        out.push_str(&html[..start]);
        out.push_str(&filled);
        out.push_str(&html[end..]);
        let out = insert_at_main(&out, &format!("<div class=\"wrap\">\n{summary}</div>\n"));
        return absolutize(&prefix_title(&out, "Error: "), &s.base_url);
    }
    let filled = render_form(form, decl, &default_action, &s.services, None, state);
    plain_page(
        s,
        &format!("Error: {}", decl.title),
        &format!("{summary}<h1>{}</h1>\n{filled}", escape_html(&decl.title)),
    )
}

/// Where a form shown by this service posts when its generated page does not say:
/// this service's own address (not `form_service.url`, which is production's when
/// serving a preview), with `?from=` kept as the generator writes it.
fn action(s: &Settings, form: &str, from: Option<&str>) -> String {
    let mut action = s.service_url(&format!("/forms/{form}"));
    if let Some(from) = from {
        action.push_str("?from=");
        action.push_str(from);
    }
    action
}

/// `html` with `first` at the start of `<main>` (unchanged without a `<main>`).
fn insert_at_main(html: &str, first: &str) -> String {
    let Some(open) = html.find("<main") else {
        return html.to_string();
    };
    let Some(end) = html[open..].find('>').map(|i| open + i + 1) else {
        return html.to_string();
    };
    format!("{}\n{first}{}", &html[..end], &html[end..])
}

/// A short page: a heading, what to do, and a link back to the site.
pub fn notice_page(s: &Settings, title: &str, message: &str) -> String {
    let home = format!("{}/", s.base_url);
    let body = view::notice(title, &escape_html(message), &home, "Go to the home page");
    page(s, title, &body)
}

/// "Too many forms sent" (issue 15, item 14): in the site's look, with the clinic's
/// phone number as a link a phone can call and a way back to the form.
pub fn too_many_page(s: &Settings, title: &str, wait: &str, back: &str) -> String {
    let phone = &s.site.business.phone;
    // As the theme's phone link does: the international form when the site gives it.
    let dial = crate::phone::dial(
        s.site
            .business
            .phone_international
            .as_deref()
            .unwrap_or(phone),
    );
    page(s, title, &view::too_many(title, wait, phone, &dial, back))
}

/// `body` (HTML for inside `<main>`) in the site's look, titled `title`.
pub fn page(s: &Settings, title: &str, body: &str) -> String {
    let shell = s.site_dir.join("404.html");
    if let Ok(html) = std::fs::read_to_string(&shell) {
        if let Some(out) = replace_main(&html, body) {
            let out = replace_title(&out, &format!("{title} | {}", s.site.title));
            return absolutize(&out, &s.base_url);
        }
    }
    plain_page(s, title, body)
}

fn plain_page(s: &Settings, title: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"{}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{} | {}</title>\n</head>\n<body>\n<main id=\"main\">\n{body}</main>\n</body>\n</html>\n",
        escape_html(&s.site.language),
        escape_html(title),
        escape_html(&s.site.title)
    )
}

/// Byte range of `<form ... id="form-NAME" ...> ... </form>`.
fn find_form(html: &str, form: &str) -> Option<(usize, usize)> {
    let id = format!("id=\"form-{form}\"");
    let mut from = 0;
    while let Some(i) = html[from..].find("<form") {
        let start = from + i;
        let tag_end = start + html[start..].find('>')?;
        if html[start..tag_end].contains(&id) {
            let close = tag_end + html[tag_end..].find("</form>")?;
            return Some((start, close + "</form>".len()));
        }
        from = tag_end;
    }
    None
}

/// The value of `name="..."` in a start tag, unescaped for the few entities we write.
fn attribute(tag: &str, name: &str) -> Option<String> {
    let open = tag.find(&format!(" {name}=\""))? + name.len() + 3;
    let len = tag[open..].find('"')?;
    Some(
        tag[open..open + len]
            .replace("&quot;", "\"")
            .replace("&#39;", "'")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&"),
    )
}

fn replace_main(html: &str, inner: &str) -> Option<String> {
    let open = html.find("<main")?;
    let open_end = open + html[open..].find('>')? + 1;
    let close = open_end + html[open_end..].find("</main>")?;
    Some(format!("{}\n{inner}{}", &html[..open_end], &html[close..]))
}

fn replace_title(html: &str, title: &str) -> String {
    match (html.find("<title>"), html.find("</title>")) {
        (Some(a), Some(b)) if a < b => {
            format!("{}<title>{}{}", &html[..a], escape_html(title), &html[b..])
        }
        _ => html.to_string(),
    }
}

fn prefix_title(html: &str, prefix: &str) -> String {
    match html.find("<title>") {
        Some(a) => {
            let at = a + "<title>".len();
            format!("{}{}{}", &html[..at], escape_html(prefix), &html[at..])
        }
        None => html.to_string(),
    }
}

/// Turns `href="/x"`, `src="/x"` and `action="/x"` into addresses on the site.
fn absolutize(html: &str, base: &str) -> String {
    let mut out = html.to_string();
    for attr in ["href=\"/", "src=\"/", "action=\"/"] {
        let mut result = String::with_capacity(out.len());
        let mut rest = out.as_str();
        while let Some(i) = rest.find(attr) {
            let after = i + attr.len();
            result.push_str(&rest[..after - 1]);
            if rest[after..].starts_with('/') {
                result.push('/'); // protocol-relative: leave it
            } else {
                result.push_str(base);
                result.push('/');
            }
            rest = &rest[after..];
        }
        result.push_str(rest);
        out = result;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_right_form() {
        let html = "<form id=\"form-other\">a</form><p>x</p><form class=\"f\" id=\"form-c\" action=\"/forms/c\">b</form>";
        let (a, b) = find_form(html, "c").unwrap();
        assert_eq!(
            &html[a..b],
            "<form class=\"f\" id=\"form-c\" action=\"/forms/c\">b</form>"
        );
        assert_eq!(
            attribute(&html[a..b], "action").as_deref(),
            Some("/forms/c")
        );
        assert!(find_form(html, "missing").is_none());
    }

    #[test]
    fn root_relative_links_point_at_the_site() {
        let html =
            "<a href=\"/about/\"><img src=\"/a.png\"><a href=\"//cdn.example/x\"><a href=\"#f\">";
        assert_eq!(
            absolutize(html, "https://clinic.example"),
            "<a href=\"https://clinic.example/about/\"><img src=\"https://clinic.example/a.png\"><a href=\"//cdn.example/x\"><a href=\"#f\">"
        );
    }

    #[test]
    fn the_summary_goes_first_in_main() {
        let html = "<header>h</header><main id=\"main\">\n<p>page</p><form>f</form></main>";
        assert_eq!(
            insert_at_main(html, "<div>S</div>"),
            "<header>h</header><main id=\"main\">\n<div>S</div>\n<p>page</p><form>f</form></main>"
        );
        assert_eq!(insert_at_main("<p>x</p>", "S"), "<p>x</p>");
    }

    #[test]
    fn main_and_title_are_replaced() {
        let html = "<title>Old</title><main id=\"main\"><p>old</p></main><footer>f</footer>";
        let out = replace_title(&replace_main(html, "<p>new</p>").unwrap(), "New & improved");
        assert_eq!(
            out,
            "<title>New &amp; improved</title><main id=\"main\">\n<p>new</p></main><footer>f</footer>"
        );
        assert_eq!(
            prefix_title(html, "Error: "),
            html.replace("<title>Old", "<title>Error: Old")
        );
    }
}
