//! URL slugs from titles: lowercase ASCII letters, digits and single hyphens.

/// Turns a title into a slug: `"Scalp Micropigmentation (SMP)"` -> `"scalp-micropigmentation-smp"`.
///
/// Accented Latin letters lose their accents; anything else that is not a letter or
/// digit separates words. The result may be empty (a title of only symbols).
pub fn slugify(title: &str) -> String {
    let mut out = String::with_capacity(title.len());
    let mut pending_dash = false;
    for c in title.chars().flat_map(fold_accent) {
        if c.is_ascii_alphanumeric() {
            if pending_dash && !out.is_empty() {
                out.push('-');
            }
            pending_dash = false;
            out.push(c.to_ascii_lowercase());
        } else if c != '\'' && c != '’' {
            // Apostrophes join ("men's" -> "mens"); everything else separates.
            pending_dash = true;
        }
    }
    out
}

fn fold_accent(c: char) -> impl Iterator<Item = char> {
    let folded: &[char] = match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'À' | 'Á' | 'Â' | 'Ã' | 'Ä' | 'Å' => &['a'],
        'æ' | 'Æ' => &['a', 'e'],
        'ç' | 'Ç' => &['c'],
        'è' | 'é' | 'ê' | 'ë' | 'È' | 'É' | 'Ê' | 'Ë' => &['e'],
        'ì' | 'í' | 'î' | 'ï' | 'Ì' | 'Í' | 'Î' | 'Ï' => &['i'],
        'ñ' | 'Ñ' => &['n'],
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'Ò' | 'Ó' | 'Ô' | 'Õ' | 'Ö' | 'Ø' => &['o'],
        'ù' | 'ú' | 'û' | 'ü' | 'Ù' | 'Ú' | 'Û' | 'Ü' => &['u'],
        'ý' | 'ÿ' | 'Ý' => &['y'],
        'ß' => &['s', 's'],
        '&' => &[' ', 'a', 'n', 'd', ' '],
        _ => return Folded::One(Some(c)),
    };
    Folded::Many(folded.iter().copied())
}

enum Folded<I> {
    One(Option<char>),
    Many(I),
}

impl<I: Iterator<Item = char>> Iterator for Folded<I> {
    type Item = char;
    fn next(&mut self) -> Option<char> {
        match self {
            Folded::One(c) => c.take(),
            Folded::Many(it) => it.next(),
        }
    }
}

/// True when `s` is already a valid slug (what `slugify` could produce, non-empty).
#[allow(dead_code)]
pub(crate) fn is_slug(s: &str) -> bool {
    !s.is_empty() && slugify(s) == s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        for (title, slug) in [
            ("Scalp Micropigmentation", "scalp-micropigmentation"),
            ("  Laser  Hair -- Removal! ", "laser-hair-removal"),
            ("Men's Facial", "mens-facial"),
            ("Crème Brûlée Peel", "creme-brulee-peel"),
            ("Botox & Fillers", "botox-and-fillers"),
            ("HydraFacial™ 2.0", "hydrafacial-2-0"),
            ("!!!", ""),
            ("Größe", "grosse"),
        ] {
            assert_eq!(slugify(title), slug, "{title}");
        }
    }

    #[test]
    fn is_slug_accepts_only_canonical() {
        assert!(is_slug("a-b-1"));
        assert!(!is_slug("A-b"));
        assert!(!is_slug("a--b"));
        assert!(!is_slug("-a"));
        assert!(!is_slug(""));
    }
}
