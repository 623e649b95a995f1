//! Just enough of a MIME reader to check what the SMTP server received: unfolded
//! headers, RFC 2047 encoded words, and the text and HTML parts decoded from base64 or
//! quoted-printable. Written here, independent of lettre, so it checks lettre's output.

/// A parsed message.
#[derive(Debug)]
pub struct Mail {
    /// `(name lowercased, decoded value)`.
    pub headers: Vec<(String, String)>,
    /// The `text/plain` part, decoded.
    pub text: String,
    /// The `text/html` part, decoded.
    pub html: String,
}

impl Mail {
    /// The first header called `name`.
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .iter()
            .find(|(k, _)| k == &name.to_ascii_lowercase())
            .map_or("", |(_, v)| v.as_str())
    }
}

/// Parses a raw message.
pub fn parse(raw: &str) -> Mail {
    let raw = raw.replace("\r\n", "\n");
    let (head, body) = raw.split_once("\n\n").unwrap_or((&raw, ""));
    let mut mail = Mail {
        headers: headers(head),
        text: String::new(),
        html: String::new(),
    };
    let ct = mail.header("content-type").to_string();
    if let Some(boundary) = param(&ct, "boundary") {
        for part in body.split(&format!("--{boundary}")).skip(1) {
            if part.starts_with("--") {
                break;
            }
            let part = part.strip_prefix('\n').unwrap_or(part);
            let (phead, pbody) = part.split_once("\n\n").unwrap_or((part, ""));
            let ph = headers(phead);
            let get = |n: &str| {
                ph.iter()
                    .find(|(k, _)| k == n)
                    .map_or(String::new(), |(_, v)| v.to_ascii_lowercase())
            };
            let decoded = decode_body(&get("content-transfer-encoding"), pbody.trim_end());
            if get("content-type").starts_with("text/plain") {
                mail.text = decoded;
            } else if get("content-type").starts_with("text/html") {
                mail.html = decoded;
            }
        }
    } else {
        mail.text = decode_body(
            &mail
                .header("content-transfer-encoding")
                .to_ascii_lowercase(),
            body,
        );
    }
    mail
}

fn headers(head: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in head.lines() {
        if line.starts_with([' ', '\t']) {
            if let Some(last) = out.last_mut() {
                last.1.push_str(line);
            }
        } else if let Some((k, v)) = line.split_once(':') {
            out.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
    }
    for h in &mut out {
        h.1 = decode_words(&h.1);
    }
    out
}

fn param(v: &str, name: &str) -> Option<String> {
    v.split(';').find_map(|p| {
        p.trim()
            .strip_prefix(&format!("{name}="))
            .map(|b| b.trim_matches('"').to_string())
    })
}

fn decode_body(encoding: &str, body: &str) -> String {
    match encoding {
        "base64" => {
            String::from_utf8(base64(&body.split_whitespace().collect::<String>())).unwrap()
        }
        "quoted-printable" => String::from_utf8(quoted_printable(body)).unwrap(),
        _ => body.to_string(),
    }
}

/// Decodes `=?utf-8?b?...?=` and `=?utf-8?q?...?=` words, dropping the space between
/// adjacent encoded words as RFC 2047 says.
pub fn decode_words(v: &str) -> String {
    let mut out = String::new();
    let mut rest = v;
    let mut last_was_word = false;
    while let Some(start) = rest.find("=?") {
        let between = &rest[..start];
        if !(last_was_word && between.trim().is_empty()) {
            out.push_str(between);
        }
        let after = &rest[start + 2..];
        let parts: Vec<&str> = after.splitn(3, '?').collect();
        if parts.len() < 3 {
            out.push_str(&rest[start..]);
            return out;
        }
        let Some(end) = parts[2].find("?=") else {
            out.push_str(&rest[start..]);
            return out;
        };
        let text = &parts[2][..end];
        let bytes = match parts[1].to_ascii_lowercase().as_str() {
            "b" => base64(text),
            _ => quoted_printable(&text.replace('_', " ")),
        };
        out.push_str(&String::from_utf8_lossy(&bytes));
        let consumed = 2 + parts[0].len() + 1 + parts[1].len() + 1 + end + 2;
        rest = &rest[start + consumed..];
        last_was_word = true;
    }
    out.push_str(rest);
    out
}

fn base64(s: &str) -> Vec<u8> {
    let val = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let mut out = Vec::new();
    let mut acc = 0u32;
    let mut bits = 0;
    for c in s.bytes() {
        let Some(v) = val(c) else { continue };
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    out
}

fn quoted_printable(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'=' {
            if b.get(i + 1) == Some(&b'\n') {
                i += 2;
                continue;
            }
            if b.get(i + 1) == Some(&b'\r') && b.get(i + 2) == Some(&b'\n') {
                i += 3;
                continue;
            }
            if let Some(hex) = s.get(i + 1..i + 3) {
                if let Ok(v) = u8::from_str_radix(hex, 16) {
                    out.push(v);
                    i += 3;
                    continue;
                }
            }
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

#[test]
fn decodes_words_and_bodies() {
    assert_eq!(decode_words("=?utf-8?b?4oCU?= x"), "— x");
    assert_eq!(
        decode_words("a =?utf-8?q?caf=C3=A9?= =?utf-8?q?_bar?="),
        "a café bar"
    );
    assert_eq!(String::from_utf8(base64("aGVsbG8=")).unwrap(), "hello");
    assert_eq!(
        String::from_utf8(quoted_printable("a=3Db=\nc")).unwrap(),
        "a=bc"
    );
}
