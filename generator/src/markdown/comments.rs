//! Comment text to HTML: the small, safe Markdown subset members and staff write in.
//!
//! Paragraphs, line breaks, emphasis, strong, and links to `http`, `https` and `mailto`
//! addresses (with `rel="ugc nofollow"`). Everything else a member types is shown as
//! text: raw HTML escaped, an image by its description, a heading, list item, quote or
//! code block as a plain paragraph. The HTML is written here, tag by tag, from
//! pulldown-cmark's events rather than by its HTML writer, so no construct we did not
//! think of can reach the page. Pages are built from this output and must stay valid
//! HTML whatever was written, which is why addresses are checked and re-encoded too.

use pulldown_cmark::{Event, LinkType, Options, Parser, Tag, TagEnd};
use site_config::escape_html;

/// Renders a comment's (or a reply's) text as HTML: `<p>`, `<br>`, `<em>`, `<strong>`
/// and `<a href rel="ugc nofollow">` only, every other character escaped.
pub fn render_comment(text: &str) -> String {
    let text = clean_text(text);
    let mut w = Writer {
        out: String::with_capacity(text.len() + text.len() / 4 + 16),
        open: false,
        line_ended: false,
    };
    // For each link open in the Markdown: whether it became an `<a>`.
    let mut links: Vec<bool> = Vec::new();
    // Code blocks and HTML blocks keep their line breaks.
    let mut literal_lines = false;
    // No tables, footnotes, strikethrough or other extensions: less to get wrong.
    for event in Parser::new_ext(&text, Options::empty()) {
        match event {
            Event::Start(Tag::Emphasis) => w.inline("<em>"),
            Event::End(TagEnd::Emphasis) => w.inline("</em>"),
            Event::Start(Tag::Strong) => w.inline("<strong>"),
            Event::End(TagEnd::Strong) => w.inline("</strong>"),
            Event::Start(Tag::Link {
                link_type,
                dest_url,
                ..
            }) => {
                let inside_a = links.iter().any(|&a| a);
                match safe_href(link_type, &dest_url).filter(|_| !inside_a) {
                    Some(href) => {
                        w.inline("<a href=\"");
                        w.out.push_str(&escape_html(&href));
                        w.out.push_str("\" rel=\"ugc nofollow\">");
                        links.push(true);
                    }
                    None => links.push(false),
                }
            }
            Event::End(TagEnd::Link) => {
                if links.pop() == Some(true) {
                    w.inline("</a>");
                }
            }
            // An image shows its description, as text.
            Event::Start(Tag::Image { .. }) | Event::End(TagEnd::Image) => {}
            // Any other inline markup shows its text only.
            Event::Start(Tag::Strikethrough | Tag::Superscript | Tag::Subscript)
            | Event::End(TagEnd::Strikethrough | TagEnd::Superscript | TagEnd::Subscript) => {}
            // Every block (paragraph, heading, list item, quote, code, HTML, table) ends
            // any open paragraph; its text starts a new one.
            Event::Start(tag) => {
                w.close();
                literal_lines = matches!(tag, Tag::CodeBlock(_) | Tag::HtmlBlock);
            }
            Event::End(_) => {
                w.close();
                literal_lines = false;
            }
            Event::Text(t) | Event::Code(t) | Event::Html(t) | Event::InlineHtml(t) => {
                if literal_lines {
                    w.literal(&t);
                } else {
                    w.text(&t);
                }
            }
            Event::InlineMath(t) | Event::DisplayMath(t) | Event::FootnoteReference(t) => {
                w.text(&t)
            }
            Event::SoftBreak => w.inline("\n"),
            Event::HardBreak => w.inline("<br>\n"),
            Event::Rule | Event::TaskListMarker(_) => {}
        }
    }
    w.close();
    w.out
}

/// Builds the HTML, opening a paragraph before the first inline content of a block.
struct Writer {
    out: String,
    open: bool,
    /// A line of a code or HTML block ended; the next text starts a new line.
    line_ended: bool,
}

impl Writer {
    fn inline(&mut self, html: &str) {
        if !self.open {
            self.out.push_str("<p>");
            self.open = true;
        }
        self.out.push_str(html);
    }

    fn text(&mut self, text: &str) {
        self.inline(&escape_html(text));
    }

    /// Text of a code or HTML block: one `<br>` per line break inside it.
    fn literal(&mut self, text: &str) {
        for (i, line) in text.split('\n').enumerate() {
            self.line_ended |= i > 0;
            if line.is_empty() {
                continue;
            }
            if self.line_ended && self.open {
                self.out.push_str("<br>\n");
            }
            self.line_ended = false;
            self.text(line);
        }
    }

    fn close(&mut self) {
        if self.open {
            self.out.push_str("</p>\n");
            self.open = false;
        }
        self.line_ended = false;
    }
}

/// Removes the characters that could change how the rest of the page reads or make it
/// invalid HTML: bidirectional overrides and isolates (U+202A–U+202E, U+2066–U+2069),
/// control characters other than tab and line breaks, and Unicode noncharacters.
/// Zero-width joiners and spaces stay: they are needed in some scripts and emoji, and
/// are inert in text.
pub fn clean_text(s: &str) -> String {
    s.chars()
        .filter(|&c| {
            let cp = c as u32;
            let bidi_control = (0x202A..=0x202E).contains(&cp) || (0x2066..=0x2069).contains(&cp);
            let control = c.is_control() && !matches!(c, '\t' | '\n' | '\r');
            let nonchar = (0xFDD0..=0xFDEF).contains(&cp) || cp & 0xFFFE == 0xFFFE;
            !(bidi_control || control || nonchar)
        })
        .collect()
}

/// The address to link to, or `None` when the link must be plain text: only `http`,
/// `https` (with an ordinary host name or IPv4 address) and `mailto` are linked.
///
/// The check reads the address as a browser would (leading and trailing spaces and
/// controls dropped, tabs and line breaks inside removed, scheme in any case; entities
/// were already decoded by the parser), so `jav&#x61;script:`, ` JavaScript:` and
/// `java<TAB>script:` are all refused. The result is percent-encoded where a browser
/// or the HTML checker would object.
fn safe_href(link_type: LinkType, dest: &str) -> Option<String> {
    let mut url: String = dest
        .trim_matches(|c: char| c <= ' ')
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .collect();
    if link_type == LinkType::Email {
        url.insert_str(0, "mailto:");
    }
    let colon = url.find(':')?;
    let scheme = url[..colon].to_ascii_lowercase();
    let rest = &url[colon + 1..];
    match scheme.as_str() {
        "mailto" => Some(format!("mailto:{}", encode_url_part(rest))),
        "http" | "https" => {
            let after = rest.strip_prefix("//")?;
            let end = after.find(['/', '?', '#']).unwrap_or(after.len());
            let (authority, tail) = after.split_at(end);
            valid_authority(authority)
                .then(|| format!("{scheme}://{authority}{}", encode_url_part(tail)))
        }
        _ => None,
    }
}

/// `host` or `host:port`, the host being ASCII labels (`clinic.example`) or a dotted
/// IPv4 address. No user name (`https://bank.example@elsewhere.example` misleads), no
/// international or bracketed hosts: those links are shown as text.
fn valid_authority(authority: &str) -> bool {
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (authority, None),
    };
    if let Some(p) = port {
        if p.is_empty() || p.len() > 5 || !p.bytes().all(|b| b.is_ascii_digit()) {
            return false;
        }
        if p.parse::<u32>().map_or(true, |n| n > 65535) {
            return false;
        }
    }
    let labels: Vec<&str> = host.split('.').collect();
    let label_ok = |l: &&str| {
        !l.is_empty()
            && l.len() <= 63
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    if host.len() > 253 || !labels.iter().all(label_ok) {
        return false;
    }
    // A host ending in a number is read as an IPv4 address by browsers: it must be one.
    let last = labels[labels.len() - 1];
    if last.starts_with(|c: char| c.is_ascii_alphabetic()) && !last.starts_with("0x") {
        return true;
    }
    labels.len() == 4
        && labels.iter().all(|l| {
            l.len() <= 3
                && l.bytes().all(|b| b.is_ascii_digit())
                && l.parse::<u16>().is_ok_and(|n| n <= 255)
        })
}

/// Percent-encodes what may not appear as it is in a URL's path, query or fragment:
/// spaces, non-ASCII, quotes, angle brackets, backslashes, a second `#`, and a `%`
/// that does not start an escape.
fn encode_url_part(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut seen_hash = false;
    for (i, &b) in bytes.iter().enumerate() {
        let keep = match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' => true,
            b'-' | b'.' | b'_' | b'~' | b'!' | b'$' | b'&' | b'\'' | b'(' | b')' | b'*' => true,
            b'+' | b',' | b';' | b'=' | b':' | b'@' | b'/' | b'?' => true,
            b'#' if !seen_hash => {
                seen_hash = true;
                true
            }
            b'%' => {
                bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                    && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit)
            }
            _ => false,
        };
        if keep {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every tag in `html`, to hold the output to the five the subset allows.
    fn tags(html: &str) -> Vec<&str> {
        let mut found = Vec::new();
        let mut rest = html;
        while let Some(i) = rest.find('<') {
            rest = &rest[i..];
            let end = rest.find('>').expect("a tag is closed") + 1;
            found.push(&rest[..end]);
            rest = &rest[end..];
        }
        found
    }

    #[track_caller]
    fn assert_inert(src: &str) -> String {
        let html = render_comment(src);
        for tag in tags(&html) {
            let allowed = matches!(
                tag,
                "<p>" | "</p>" | "<em>" | "</em>" | "<strong>" | "</strong>" | "<br>" | "</a>"
            ) || (tag.starts_with("<a href=\"")
                && tag.ends_with("\" rel=\"ugc nofollow\">")
                && [
                    "<a href=\"https://",
                    "<a href=\"http://",
                    "<a href=\"mailto:",
                ]
                .iter()
                .any(|p| tag.starts_with(p))
                && tag.matches('"').count() == 4);
            assert!(allowed, "tag {tag} from {src:?}:\n{html}");
        }
        assert_eq!(
            html.matches("<a ").count(),
            html.matches("</a>").count(),
            "{html}"
        );
        assert_eq!(html.matches("<p>").count(), html.matches("</p>").count());
        html
    }

    #[test]
    fn the_subset_renders() {
        assert_eq!(
            render_comment("Hello *there* and **you**.\nSecond line  \nafter a break\n\nNew paragraph with [a link](https://clinic.example/a?b=1&c=2#d)."),
            "<p>Hello <em>there</em> and <strong>you</strong>.\nSecond line<br>\nafter a break</p>\n\
             <p>New paragraph with <a href=\"https://clinic.example/a?b=1&amp;c=2#d\" rel=\"ugc nofollow\">a link</a>.</p>\n"
        );
        assert_eq!(
            render_comment("Write to <someone@clinic.example> or [us](mailto:hello@clinic.example)"),
            "<p>Write to <a href=\"mailto:someone@clinic.example\" rel=\"ugc nofollow\">someone@clinic.example</a> \
             or <a href=\"mailto:hello@clinic.example\" rel=\"ugc nofollow\">us</a></p>\n"
        );
        assert_eq!(
            render_comment("<https://clinic.example:8443/x>"),
            "<p><a href=\"https://clinic.example:8443/x\" rel=\"ugc nofollow\">https://clinic.example:8443/x</a></p>\n"
        );
    }

    #[test]
    fn raw_html_and_event_handlers_are_text() {
        for src in [
            "<script>alert(1)</script>",
            "Hi <script>alert(1)</script> there",
            "<img src=x onerror=alert(1)>",
            "<a href=\"javascript:alert(1)\">x</a>",
            "<div onmouseover=\"alert(1)\">hover</div>",
            "<svg><script>alert(1)</script></svg>",
            "<!-- comment --><style>body{display:none}</style>",
            "</p></article><script>alert(1)</script>",
            "<iframe src=https://evil.example></iframe>",
            "\" onmouseover=\"alert(1)",
        ] {
            let html = assert_inert(src);
            assert!(
                html.contains("&lt;") || html.contains("&quot;"),
                "{src:?} shows as text: {html}"
            );
        }
        assert_eq!(
            render_comment("<script>alert(1)</script>"),
            "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>\n"
        );
        assert_eq!(
            render_comment("<div>\n<script>alert(1)</script>\n</div>\n\nafter"),
            "<p>&lt;div&gt;<br>\n&lt;script&gt;alert(1)&lt;/script&gt;<br>\n&lt;/div&gt;</p>\n<p>after</p>\n"
        );
        assert_eq!(
            render_comment("a <b onclick=x>b</b>"),
            "<p>a &lt;b onclick=x&gt;b&lt;/b&gt;</p>\n"
        );
    }

    #[test]
    fn only_http_https_and_mailto_are_linked() {
        for src in [
            "[x](javascript:alert(1))",
            "[x](JaVaScRiPt:alert(1))",
            "[x](  javascript:alert(1))",
            "[x](<java\tscript:alert(1)>)",
            "[x](<\u{1}javascript:alert(1)>)",
            "[x](&#106;avascript:alert(1))",
            "[x](jav&#x61;script:alert(1))",
            "[x](javascript&#58;alert(1))",
            "[x](javascript&colon;alert(1))",
            "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
            "[x](vbscript:msgbox(1))",
            "[x](file:///etc/passwd)",
            "[x](//evil.example/)",
            "[x](/relative/)",
            "[x](java\u{200B}script:alert(1))",
            "[x][r]\n\n[r]: javascript:alert(1)",
            "<javascript:alert(1)>",
            "[x](https://)",
            "[x](https://bank.example@evil.example/)",
            "[x](https://[::1]/)",
            "[x](https://1.2.3.999/)",
            "[x](https://0x7f.1/)",
            "[x](https://exämple.example/)",
            "[x](https://a..b/)",
            "[x](https://a.example:99999/)",
        ] {
            let html = assert_inert(src);
            assert!(!html.contains("<a "), "{src:?} is not linked: {html}");
            assert!(
                html.contains('x') || html.contains("javascript"),
                "{src:?}: {html}"
            );
        }
        for (src, href) in [
            ("[x](HTTPS://clinic.example)", "https://clinic.example"),
            (
                "[x]( https://clinic.example/a )",
                "https://clinic.example/a",
            ),
            ("[x](http://10.0.0.1:8080/)", "http://10.0.0.1:8080/"),
            (
                "[x](<https://clinic.example/a b\"c>)",
                "https://clinic.example/a%20b%22c",
            ),
            (
                "[x](https://clinic.example/%zz/%41#a#b)",
                "https://clinic.example/%25zz/%41#a%23b",
            ),
            (
                "[x](https://clinic.example/é)",
                "https://clinic.example/%C3%A9",
            ),
            (
                "[x](https://clinic.example/a\\b)",
                "https://clinic.example/a%5Cb",
            ),
        ] {
            let html = assert_inert(src);
            let want = format!(
                "<a href=\"{}\" rel=\"ugc nofollow\">x</a>",
                escape_html(href)
            );
            assert!(html.contains(&want), "{src:?}: {html}");
        }
    }

    #[test]
    fn link_titles_cannot_add_attributes() {
        let html = assert_inert("[x](https://clinic.example \"t\\\" onmouseover=\\\"alert(1)\")");
        assert_eq!(
            html,
            "<p><a href=\"https://clinic.example\" rel=\"ugc nofollow\">x</a></p>\n"
        );
    }

    #[test]
    fn everything_else_becomes_plain_paragraphs() {
        assert_eq!(
            render_comment("# Big\n\n- one\n- two\n\n> quoted *text*\n\n```\nlet x = 1;\nif x < 2 {}\n```\n\n`code`\n\n---\n\n| a | b |\n|---|---|\n"),
            "<p>Big</p>\n<p>one</p>\n<p>two</p>\n<p>quoted <em>text</em></p>\n\
             <p>let x = 1;<br>\nif x &lt; 2 {}</p>\n<p>code</p>\n<p>| a | b |\n|---|---|</p>\n"
        );
        assert_eq!(
            render_comment("![a *scalp* photo](https://evil.example/track.png)"),
            "<p>a <em>scalp</em> photo</p>\n"
        );
        assert_eq!(render_comment("~~no~~ [^1]"), "<p>~~no~~ [^1]</p>\n");
        assert_eq!(render_comment(""), "");
        assert_eq!(render_comment("#\n\n   \n"), "");
    }

    #[test]
    fn broken_markdown_stays_balanced() {
        for src in [
            "**unclosed *em [link(",
            "*a **b* c**",
            "[a [b](https://c.example) d](https://e.example)",
            "[![x [y](https://y.example)](https://i.example/a.png)](https://o.example)",
            "[text\n\nmore](https://x.example)",
            "> > > > > > > deep *quote",
            "1. a\n   - b\n     > c\n       ```\n       d",
            "\\<script\\>",
            "&lt;script&gt; &amp; &#0; &#xD800; &#1114112;",
            "<",
            "]]]]((((*_*_`",
        ] {
            assert_inert(src);
        }
        let html = assert_inert(
            "[![x [y](https://y.example)](https://i.example/a.png)](https://o.example)",
        );
        assert!(!html.contains("<a href=\"https://i.example"), "{html}");
    }

    #[test]
    fn hostile_characters_are_removed_or_inert() {
        // Right-to-left override would make the rest of the page read backwards.
        let html =
            assert_inert("file\u{202E}gpj.exe and \u{2066}isolate\u{2069} \u{202A}x\u{202C}");
        for c in ['\u{202E}', '\u{2066}', '\u{2069}', '\u{202A}', '\u{202C}'] {
            assert!(!html.contains(c), "{c:?} removed: {html}");
        }
        assert!(html.contains("filegpj.exe"));
        // Right-to-left text itself is kept (the page marks it dir="auto").
        assert!(render_comment("שלום עולם").contains("שלום עולם"));
        // Zero-width characters are kept as text and do not form markup.
        let zw = assert_inert("a\u{200B}b\u{200D}c <\u{200B}script>");
        assert!(
            zw.contains("a\u{200B}b\u{200D}c &lt;\u{200B}script&gt;"),
            "{zw}"
        );
        // Controls and noncharacters would make the page invalid.
        let ctl = render_comment("a\u{0}b\u{7}c\u{1b}[31md\u{85}e\u{FFFF}f\u{FDD0}g\r\nh");
        assert_eq!(ctl, "<p>abc[31mdefg\nh</p>\n");
    }

    #[test]
    fn huge_words_and_texts_render() {
        let word = "a".repeat(20_000);
        let html = assert_inert(&word);
        assert_eq!(html.len(), word.len() + "<p></p>\n".len());
        let many = "*a* [b](https://c.example) <x> ".repeat(2_000);
        assert_inert(&many);
    }

    #[test]
    fn clean_text_keeps_ordinary_text() {
        let s = "Zoë’s café — 10% off! 👍🏽 👨‍👩‍👧\tok\nnext";
        assert_eq!(clean_text(s), s);
    }
}
