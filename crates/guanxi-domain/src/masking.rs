//! Masking of sensitive values for roles that may see that a value exists but not what it is.

/// Masks all but the first `keep_start` and last `keep_end` characters with `*`.
pub fn mask(value: &str, keep_start: usize, keep_end: usize) -> String {
    let chars: Vec<char> = value.chars().collect();
    if chars.len() <= keep_start + keep_end {
        return "*".repeat(chars.len().max(4));
    }
    chars
        .iter()
        .enumerate()
        .map(|(i, c)| {
            if i < keep_start || i >= chars.len() - keep_end {
                *c
            } else {
                '*'
            }
        })
        .collect()
}

/// ID numbers show region (3) and last 4 — enough to confirm identity on the phone, no more.
pub fn mask_id_number(v: &str) -> String {
    mask(v, 3, 4)
}

/// A message address shown to someone who needs to recognise it, not to copy it: an e-mail
/// keeps the first and last letter of the mailbox and the domain, a phone number the first 3
/// and last 4 digits.
pub fn mask_address(address: &str) -> String {
    match address.split_once('@') {
        Some((user, domain)) => format!("{}@{domain}", mask(user, 1, 1)),
        None => mask(address, 3, 4),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks() {
        assert_eq!(mask_id_number("11010519491231002X"), "110***********002X");
        assert_eq!(mask_id_number("E12"), "****");
        assert_eq!(mask_address("wang.wei@example.cn"), "w******i@example.cn");
        assert_eq!(mask_address("+8613800138000"), "+86*******8000");
    }
}
