//! Tera's errors as diagnostics: the template's path, the line where Tera gives one
//! (syntax errors) or where the variable or function it names is (render errors), the
//! page being rendered, and a hint for a listing's missing fields.

use std::path::Path;

use site_config::{Diagnostic, Diagnostics};

/// The error and every error under it, as one line.
pub(super) fn error_chain(e: &tera::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        parts.push(s.to_string());
        source = s.source();
    }
    parts.join(": ")
}

/// A Tera error as a diagnostic with the template's path and, where it can be found,
/// the line: Tera gives one for syntax errors; for render errors we look for the
/// variable or function it names.
pub(super) fn template_diagnostic(
    path: &Path,
    src: &str,
    e: &tera::Error,
    page: Option<&Path>,
) -> Diagnostic {
    let chain = error_chain(e);
    let (line, col) = pest_position(&chain)
        .or_else(|| named_position(&chain, src))
        .unwrap_or((0, 0));
    // A syntax error from pest reads " --> 4:1 | <source> | = expected ..."; keep the last part.
    let message = match chain.find(" --> ") {
        Some(_) => chain
            .lines()
            .find_map(|l| l.trim_start().strip_prefix("= "))
            .map(|m| format!("template syntax error: {m}"))
            .unwrap_or_else(|| "template syntax error".to_string()),
        None => chain
            .split(": ")
            .filter(|p| !p.starts_with("Failed to render") && !p.starts_with("Failed to parse"))
            .collect::<Vec<_>>()
            .join(": "),
    };
    let mut message = if message.is_empty() {
        chain.clone()
    } else {
        message
    };
    if let Some(page) = page {
        message = format!("{message} (while rendering {})", page.display());
    }
    let mut d = Diagnostic::new(path, message);
    if line > 0 {
        d = d.at(line, col.max(1));
    }
    if let Some(hint) = listed_field_hint(&chain) {
        d = d.with_hint(hint);
    }
    d
}

/// One mistake in a template that many pages share is one problem: the same file,
/// position and message "(while rendering X)" for several pages becomes one line
/// naming the first page and how many others. Sorted as [`Diagnostics::sort`] sorts.
pub fn merge_repeats(problems: &Diagnostics) -> Diagnostics {
    const WHILE: &str = " (while rendering ";
    let mut merged: Vec<(Diagnostic, usize)> = Vec::new();
    let mut sorted = problems.clone();
    sorted.sort();
    for d in sorted.0 {
        let base = d.message.rfind(WHILE).map(|i| &d.message[..i]);
        let same = |m: &Diagnostic| {
            m.path == d.path
                && m.line == d.line
                && m.column == d.column
                && m.hint == d.hint
                && base.is_some()
                && m.message.rfind(WHILE).map(|i| &m.message[..i]) == base
        };
        // Sorted: a repeat follows the problem it repeats.
        match merged.last_mut().filter(|(m, _)| same(m)) {
            Some((_, others)) => *others += 1,
            None => merged.push((d, 0)),
        }
    }
    Diagnostics(
        merged
            .into_iter()
            .map(|(mut d, others)| {
                if others > 0 {
                    let plural = if others == 1 { "" } else { "s" };
                    if let Some(close) = d.message.rfind(')') {
                        d.message
                            .insert_str(close, &format!(" and {others} other page{plural}"));
                    }
                }
                d
            })
            .collect(),
    )
}

/// The template Tera was rendering when a variable was not found ("... not found in
/// context while rendering 'partials/card.html'").
pub(super) fn included_in_error(chain: &str) -> Option<&str> {
    let start = chain.find("while rendering '")? + "while rendering '".len();
    Some(&chain[start..start + chain[start..].find('\'')?])
}

/// A hint for a template that reads a service's `content` or `faqs` from a listing,
/// which leaves them out (`site::context::Shape::Listed`, themes/README.md).
fn listed_field_hint(chain: &str) -> Option<&'static str> {
    let name = named_in(chain).filter(|_| chain.contains("Variable `"))?;
    let mut parts = name.split('.');
    let listed = parts.next().is_some_and(|first| first != "page");
    (listed && parts.any(|p| p == "faqs" || p == "content")).then_some(
        "the services in `services` have no `content` or `faqs`: listings leave them out \
         (themes/README.md); show them in service.html",
    )
}

fn pest_position(chain: &str) -> Option<(usize, usize)> {
    let rest = &chain[chain.find("--> ")? + 4..];
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == ':'))
        .unwrap_or(rest.len());
    let (l, c) = rest[..end].split_once(':')?;
    Some((l.parse().ok()?, c.parse().ok()?))
}

/// The variable, function or filter a Tera error names: the first name in backticks.
pub(super) fn named_in(chain: &str) -> Option<&str> {
    let start = chain.find('`')? + 1;
    let name = &chain[start..start + chain[start..].find('`')?];
    (!name.is_empty()).then_some(name)
}

fn named_position(chain: &str, src: &str) -> Option<(usize, usize)> {
    let name = named_in(chain)?;
    src.lines()
        .enumerate()
        .find_map(|(i, l)| l.find(name).map(|c| (i + 1, l[..c].chars().count() + 1)))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use tera::{Context, Tera};

    use super::*;

    #[test]
    fn a_listed_services_faqs_or_text_get_a_hint_and_a_pages_do_not() {
        let chain = |name: &str| {
            format!("Failed to render 'home.html': Variable `{name}` not found in context while rendering 'partials/service-card.html'")
        };
        assert!(listed_field_hint(&chain("service.faqs")).is_some());
        assert!(listed_field_hint(&chain("s.content")).is_some());
        assert!(listed_field_hint(&chain("page.faqs")).is_none());
        assert!(listed_field_hint(&chain("service.price.text")).is_none());
        assert!(listed_field_hint("Failed to render 'home.html'").is_none());
    }

    #[test]
    fn syntax_errors_carry_tera_position() {
        let mut t = Tera::default();
        let e = t
            .add_raw_template("x.html", "<p>\n{{ page.title </p>")
            .unwrap_err();
        let d = template_diagnostic(Path::new("themes/t/templates/x.html"), "", &e, None);
        assert_eq!(d.line, Some(2), "{d}");
    }

    #[test]
    fn a_mistake_shared_by_many_pages_is_said_once() {
        let at = |page: &str| {
            Diagnostic::new(
                "templates/service.html",
                format!("Variable `x` not found (while rendering {page})"),
            )
            .at(23, 5)
        };
        let all = Diagnostics(vec![
            at("content/services/b.md"),
            at("content/services/a.md"),
            Diagnostic::new("content/a.md", "other").at(1, 1),
            at("content/services/c.md"),
        ]);
        let merged = merge_repeats(&all);
        assert_eq!(merged.len(), 2, "{merged}");
        assert_eq!(
            merged.0[1].message,
            "Variable `x` not found (while rendering content/services/a.md and 2 other pages)"
        );
        assert_eq!(
            merge_repeats(&Diagnostics(vec![at("p.md")])).0[0].message,
            at("p.md").message
        );
    }

    #[test]
    fn render_errors_point_at_the_variable_and_page() {
        let src = "<p>\n{{ page.nope }}</p>";
        let mut t = Tera::default();
        t.add_raw_template("x.html", src).unwrap();
        let e = t.render("x.html", &Context::new()).unwrap_err();
        let d = template_diagnostic(
            Path::new("x.html"),
            src,
            &e,
            Some(Path::new("content/a.md")),
        );
        assert_eq!(d.line, Some(2), "{d}");
        assert!(d.message.contains("page.nope"), "{d}");
        assert!(d.message.contains("while rendering content/a.md"), "{d}");
    }
}
