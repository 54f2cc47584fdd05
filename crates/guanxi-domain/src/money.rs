//! Money as people type it and as the books keep it: integer minor units (分), never a float.
//! One parser for every form, filter and import, so "1,000.50" means the same everywhere.

/// Parses yuan as typed ("1000", "1,000.5", "¥1000") into minor units (分), exactly: no float
/// rounding touches money.
pub fn parse_money(v: &str) -> Result<i64, &'static str> {
    let s: String = v
        .trim()
        .trim_start_matches(['¥', '￥'])
        .chars()
        .filter(|c| *c != ',' && *c != '，')
        .collect();
    let (int, frac) = s.split_once('.').unwrap_or((&s, ""));
    if int.is_empty() || !int.bytes().all(|b| b.is_ascii_digit()) {
        return Err("not_a_number");
    }
    if frac.len() > 2 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return Err("not_a_number");
    }
    let yuan: i64 = int.parse().map_err(|_| "out_of_range")?;
    let fen: i64 = format!("{frac:0<2}").parse().map_err(|_| "not_a_number")?;
    yuan.checked_mul(100)
        .and_then(|m| m.checked_add(fen))
        .ok_or("out_of_range")
}

/// Minor units as plain decimal text, `1234.50` / `-0.05`: exact to the fen, for files a
/// program reads (CSV exports) and for stored custom-field values.
pub fn plain_money(minor: i64) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let m = minor.unsigned_abs();
    format!("{sign}{}.{:02}", m / 100, m % 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_is_exact() {
        assert_eq!(parse_money("1000"), Ok(100_000));
        assert_eq!(parse_money("¥1,000.5"), Ok(100_050));
        assert_eq!(parse_money("0.07"), Ok(7));
        assert_eq!(parse_money("1.005"), Err("not_a_number"));
        assert_eq!(parse_money("-3"), Err("not_a_number"));
        assert_eq!(parse_money("99999999999999999999"), Err("out_of_range"));
        // Beyond 2^53 fen a float would round; the parser does not.
        assert_eq!(parse_money("90071992547409.93"), Ok(9_007_199_254_740_993));
    }
}
