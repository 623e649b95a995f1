//! Phone numbers as a `tel:` link dials them, for staff emails (a visitor's number)
//! and the service's own pages (the clinic's).

/// `number` as a `tel:` link dials it: its digits, and a leading `+`.
pub fn dial(number: &str) -> String {
    number
        .trim()
        .chars()
        .enumerate()
        .filter(|&(i, c)| c.is_ascii_digit() || (i == 0 && c == '+'))
        .map(|(_, c)| c)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::dial;

    #[test]
    fn only_digits_and_a_leading_plus_are_dialled() {
        assert_eq!(dial("020 7946 0321"), "02079460321");
        assert_eq!(dial(" +44 (0)20-7946 0321 "), "+4402079460321");
        assert_eq!(dial("07700 900+123"), "07700900123");
        assert_eq!(dial("call us"), "");
    }
}
