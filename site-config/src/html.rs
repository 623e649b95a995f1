//! Escaping text into HTML and reading it back: the one escaper both programs write
//! pages and forms with, and its inverse for attribute values read from HTML.

/// Escapes text for HTML content and quoted attribute values: `&`, `<`, `>`, `"` and
/// `'`. Copies the runs between them whole rather than a `char` at a time: the
/// generator's templates call it for every `{{ }}` that is not `| safe`, tens of
/// thousands of times on a listing of every service.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 16);
    let mut from = 0;
    for (i, b) in s.bytes().enumerate() {
        let entity = match b {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            b'\'' => "&#39;",
            _ => continue,
        };
        // ASCII bytes never occur inside a multi-byte character: `i` is a boundary.
        out.push_str(&s[from..i]);
        out.push_str(entity);
        from = i + 1;
    }
    out.push_str(&s[from..]);
    out
}

/// The entities [`unescape_html`] reads: what [`escape_html`] and pulldown-cmark write,
/// and Tera's own escaper's `&#x2F;`.
const ENTITIES: [(&str, char); 6] = [
    ("&amp;", '&'),
    ("&lt;", '<'),
    ("&gt;", '>'),
    ("&quot;", '"'),
    ("&#39;", '\''),
    ("&#x2F;", '/'),
];

/// An attribute value written by an HTML escaper, back to its text: the inverse of
/// [`escape_html`]. Any other `&` is left as it is (this reads our own output, not any
/// HTML).
pub fn unescape_html(s: &str) -> String {
    let Some(first) = s.find('&') else {
        return s.to_string();
    };
    let mut out = String::with_capacity(s.len());
    out.push_str(&s[..first]);
    let mut rest = &s[first..];
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        match ENTITIES.iter().find(|(e, _)| rest.starts_with(e)) {
            Some((e, c)) => {
                out.push(*c);
                rest = &rest[e.len()..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXTS: [&str; 8] = [
        "",
        "plain",
        "Tom & Jerry's <b>\"quoted\"</b>",
        "&&<<>>",
        "é à – “smart” & 漢字 <x>",
        "'",
        "ends with &",
        "&amp; written out, &lt;b&gt;",
    ];

    #[test]
    fn escapes_the_five_characters() {
        assert_eq!(
            escape_html("Tom & Jerry's <b>\"x\"</b>"),
            "Tom &amp; Jerry&#39;s &lt;b&gt;&quot;x&quot;&lt;/b&gt;"
        );
        assert_eq!(escape_html("é – 漢字/"), "é – 漢字/");
    }

    #[test]
    fn unescaping_undoes_escaping() {
        for s in TEXTS {
            assert_eq!(unescape_html(&escape_html(s)), s, "{s}");
        }
        assert_eq!(unescape_html("a&#x2F;b &copy; &"), "a/b &copy; &");
        assert_eq!(unescape_html("&amp;lt;"), "&lt;");
    }
}
