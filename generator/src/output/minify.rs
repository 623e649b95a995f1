//! Smaller CSS for the fingerprinted stylesheets: comments and the whitespace the
//! browser ignores are dropped, everything else is copied as written.
//!
//! Service pages have a weight budget (page plus CSS under 30 KB) and the theme's
//! stylesheet is a tenth of it; about a sixth of the file is comments and indentation.
//! This is not a CSS parser: it keeps strings whole, and only removes spaces next to
//! `{`, `}`, `;`, `,`, `>` and after `:`, where they never change meaning (a space
//! before `:` can be a descendant combinator, and `+` or `-` need theirs in `calc()`).

/// `src` without comments and insignificant whitespace.
pub(crate) fn minify_css(src: &str) -> String {
    const TIGHT: &[char] = &['{', '}', ';', ',', '>'];
    let mut out = String::with_capacity(src.len());
    let mut space = false;
    let mut chars = src.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c == '"' || c == '\'' {
            // A string, copied whole, escapes included.
            let mut end = src.len();
            let mut escaped = false;
            for (j, d) in chars.by_ref() {
                if escaped {
                    escaped = false;
                } else if d == '\\' {
                    escaped = true;
                } else if d == c {
                    end = j + 1;
                    break;
                }
            }
            push_space(&mut out, &mut space, c, TIGHT);
            out.push_str(&src[i..end]);
            continue;
        }
        if c == '/' && chars.peek().is_some_and(|&(_, d)| d == '*') {
            chars.next();
            let mut star = false;
            for (_, d) in chars.by_ref() {
                if star && d == '/' {
                    break;
                }
                star = d == '*';
            }
            space = true;
            continue;
        }
        if c.is_whitespace() {
            space = true;
            continue;
        }
        push_space(&mut out, &mut space, c, TIGHT);
        if c == '}' && out.ends_with(';') {
            out.pop();
        }
        out.push(c);
    }
    out
}

/// Writes one pending space before `next`, unless it sits beside punctuation that
/// makes it meaningless.
fn push_space(out: &mut String, space: &mut bool, next: char, tight: &[char]) {
    if std::mem::take(space)
        && !tight.contains(&next)
        && out
            .chars()
            .next_back()
            .is_some_and(|last| !tight.contains(&last) && last != ':')
    {
        out.push(' ');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drops_comments_and_spaces_that_mean_nothing() {
        let css = "/* theme */\n:root {\n  --sans: system-ui, \"Segoe UI\";\n}\n\
                   .a > .b, .c { margin: 0 0 1em; color: var(--ink); }\n\
                   @media (min-width: 40rem) and (max-width: 60rem) {\n  .d { padding: 0; } /* wide */\n}\n";
        assert_eq!(
            minify_css(css),
            ":root{--sans:system-ui,\"Segoe UI\"}.a>.b,.c{margin:0 0 1em;color:var(--ink)}\
             @media (min-width:40rem) and (max-width:60rem){.d{padding:0}}"
        );
    }

    #[test]
    fn keeps_what_changes_meaning() {
        for (css, want) in [
            (".a :hover { x: y }", ".a :hover{x:y}"),
            (".a .b{}", ".a .b{}"),
            (
                "a { width: calc(1rem + 2px - 3%); }",
                "a{width:calc(1rem + 2px - 3%)}",
            ),
            (
                "a::after { content: \" (\" attr(href) \")\"; }",
                "a::after{content:\" (\" attr(href) \")\"}",
            ),
            (
                "a { content: '/* not a comment */ ; }'; }",
                "a{content:'/* not a comment */ ; }'}",
            ),
            (
                "a { content: \"say \\\"hi\\\" \"; }",
                "a{content:\"say \\\"hi\\\" \"}",
            ),
            ("a { color: #000 !important; }", "a{color:#000 !important}"),
            ("a[href^=\"/\"] ~ b + c {}", "a[href^=\"/\"] ~ b + c{}"),
        ] {
            assert_eq!(minify_css(css), want, "{css}");
        }
    }

    #[test]
    fn unfinished_input_does_not_panic() {
        assert_eq!(minify_css("a { content: \"open"), "a{content:\"open");
        assert_eq!(minify_css("a {} /* open"), "a{}");
        assert_eq!(minify_css(""), "");
    }
}
