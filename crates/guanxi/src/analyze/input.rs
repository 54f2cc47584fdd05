//! Reading transactions for `guanxi analyze`: a CSV a user brings, or the orders table.
//!
//! Large files are the point (the RFM benchmark reads 10 M rows), so a file without quoted
//! fields is split at line boundaries and parsed on every core; a file with quotes goes through
//! the `csv` crate in one pass. Either way a bad row stops the run with its line number, column
//! and reason, and nothing is computed from a partly read file.

use std::collections::HashMap;

use anyhow::{bail, Context};
use guanxi_analytics::Transactions;

/// Which columns hold what.
#[derive(Debug, Clone)]
pub struct Columns {
    /// Customer id column.
    pub customer: String,
    /// Date column.
    pub date: String,
    /// Amount column.
    pub amount: String,
}

/// Transactions plus the original customer ids when they were not integers.
pub struct Loaded {
    /// The columns.
    pub tx: Transactions,
    /// Original ids by code, when the file's ids were text.
    pub names: Option<Vec<String>>,
}

impl Loaded {
    /// The id to print for a customer code.
    pub fn id(&self, code: i64) -> String {
        match &self.names {
            Some(n) => n.get(code as usize).cloned().unwrap_or_default(),
            None => code.to_string(),
        }
    }
}

/// A problem in one row.
#[derive(Debug, Clone)]
struct RowError {
    line: u64,
    column: String,
    why: String,
}

/// Days since 1970-01-01 for a proleptic Gregorian date (Hinnant's days_from_civil).
pub fn days_from_civil(y: i32, m: u32, d: u32) -> i32 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m as i32 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i32 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day number, as `YYYY-MM-DD`.
pub fn civil_from_days(z: i32) -> String {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    format!("{:04}-{:02}-{:02}", if m <= 2 { y + 1 } else { y }, m, d)
}

fn digits(b: &[u8]) -> Option<u32> {
    if b.is_empty() || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(b.iter().fold(0u32, |a, d| a * 10 + u32::from(d - b'0')))
}

/// Parses `YYYY-MM-DD`, `YYYY/MM/DD` or `YYYYMMDD`, optionally followed by a time.
pub fn parse_date(b: &[u8]) -> Result<i32, &'static str> {
    let b = b.trim_ascii();
    let (y, m, d) = if b.len() >= 10 && (b[4] == b'-' || b[4] == b'/') && b[7] == b[4] {
        (digits(&b[0..4]), digits(&b[5..7]), digits(&b[8..10]))
    } else if b.len() == 8 {
        (digits(&b[0..4]), digits(&b[4..6]), digits(&b[6..8]))
    } else {
        return Err("not a date (use YYYY-MM-DD, YYYY/MM/DD or YYYYMMDD)");
    };
    let (Some(y), Some(m), Some(d)) = (y, m, d) else {
        return Err("not a date (use YYYY-MM-DD, YYYY/MM/DD or YYYYMMDD)");
    };
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let dim = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if !(1..=12).contains(&m) || d == 0 || d > dim[(m - 1) as usize] || !(1900..=2200).contains(&y)
    {
        return Err("no such date");
    }
    Ok(days_from_civil(y as i32, m, d))
}

/// Plain decimals (`123`, `45.60`) exactly: the digits as an integer divided by a power of ten.
/// Both operands are exact doubles (mantissa < 2^53, 10^k for k ≤ 22) and IEEE division rounds
/// correctly, so the result is bit-identical to `str::parse` (Clinger's fast path) — at a
/// fraction of the cost on ten million rows. Anything else returns `None`.
fn fast_decimal(b: &[u8]) -> Option<f64> {
    const POW10: [f64; 19] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
        1e17, 1e18,
    ];
    let (mut mantissa, mut digits, mut frac, mut seen_dot) = (0u64, 0usize, 0usize, false);
    for &c in b {
        match c {
            b'0'..=b'9' => {
                mantissa = mantissa * 10 + u64::from(c - b'0');
                digits += 1;
                frac += usize::from(seen_dot);
            }
            b'.' if !seen_dot => seen_dot = true,
            _ => return None,
        }
    }
    if digits == 0 || digits > 15 || frac > 18 {
        return None;
    }
    Some(mantissa as f64 / POW10[frac])
}

fn parse_amount(b: &[u8]) -> Result<f64, &'static str> {
    if let Some(v) = fast_decimal(b) {
        return Ok(v);
    }
    let s = std::str::from_utf8(b.trim_ascii()).map_err(|_| "not text")?;
    let v: f64 = s.parse().map_err(|_| "not a number")?;
    if !v.is_finite() {
        Err("not a finite number")
    } else if v < 0.0 {
        Err("negative amounts (returns) are not supported; net them into their order first")
    } else {
        Ok(v)
    }
}

/// Parsed columns of one chunk.
#[derive(Default)]
struct Chunk {
    customer: Vec<i64>,
    day: Vec<i32>,
    amount: Vec<f64>,
    lines: u64,
    error: Option<RowError>,
    text_ids: bool,
}

/// Parses unquoted CSV lines; `first_line` is the 1-based line number of the chunk's first line.
fn parse_plain(
    body: &[u8],
    idx: (usize, usize, usize),
    names: (&str, &str, &str),
    first_line: u64,
) -> Chunk {
    let mut c = Chunk::default();
    let need = idx.0.max(idx.1).max(idx.2);
    // The three wanted fields of the current line: customer, date, amount.
    let mut fields: [&[u8]; 3] = [&[], &[], &[]];
    for (k, raw) in body.split(|&b| b == b'\n').enumerate() {
        let line = first_line + k as u64;
        c.lines += 1;
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        if raw.is_empty() {
            continue;
        }
        let mut n = 0;
        for (k, f) in raw.split(|&b| b == b',').enumerate() {
            n = k + 1;
            if k == idx.0 {
                fields[0] = f;
            } else if k == idx.1 {
                fields[1] = f;
            } else if k == idx.2 {
                fields[2] = f;
            } else if k > need {
                break;
            }
        }
        if n <= need {
            c.error = Some(RowError {
                line,
                column: "-".into(),
                why: format!("{n} fields, the header has more"),
            });
            return c;
        }
        let cid = fields[0].trim_ascii();
        let id = match std::str::from_utf8(cid)
            .ok()
            .and_then(|s| s.parse::<i64>().ok())
        {
            Some(v) => v,
            None => {
                c.text_ids = true;
                return c;
            }
        };
        let day = match parse_date(fields[1]) {
            Ok(d) => d,
            Err(why) => {
                c.error = Some(RowError {
                    line,
                    column: names.1.into(),
                    why: format!("{why}: `{}`", String::from_utf8_lossy(fields[1])),
                });
                return c;
            }
        };
        let amount = match parse_amount(fields[2]) {
            Ok(a) => a,
            Err(why) => {
                c.error = Some(RowError {
                    line,
                    column: names.2.into(),
                    why: format!("{why}: `{}`", String::from_utf8_lossy(fields[2])),
                });
                return c;
            }
        };
        c.customer.push(id);
        c.day.push(day);
        c.amount.push(amount);
    }
    c
}

/// Reads a transactions CSV (header row required).
pub fn read_csv(
    path: &std::path::Path,
    cols: &Columns,
    progress: &indicatif::ProgressBar,
) -> anyhow::Result<Loaded> {
    let data = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    progress.set_length(data.len() as u64);
    let header_end = data.iter().position(|&b| b == b'\n').unwrap_or(data.len());
    let header: Vec<String> = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(&data[..header_end])
        .records()
        .next()
        .transpose()?
        .map(|r| {
            r.iter()
                .map(|h| h.trim_start_matches('\u{feff}').trim().to_string())
                .collect()
        })
        .unwrap_or_default();
    if header.is_empty() {
        bail!(
            "{} is empty: expected a header row with {}, {} and {}",
            path.display(),
            cols.customer,
            cols.date,
            cols.amount
        );
    }
    let find = |name: &str| {
        header.iter().position(|h| h == name).with_context(|| format!("no column `{name}` in the header ({}); name the columns with --customer-col, --date-col, --amount-col", header.join(", ")))
    };
    let idx = (
        find(&cols.customer)?,
        find(&cols.date)?,
        find(&cols.amount)?,
    );
    let names = (
        cols.customer.as_str(),
        cols.date.as_str(),
        cols.amount.as_str(),
    );
    let body = if header_end < data.len() {
        &data[header_end + 1..]
    } else {
        &[][..]
    };
    let loaded = if body.contains(&b'"') {
        read_quoted(body, idx, names)?
    } else {
        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(16);
        let mut bounds = vec![0usize];
        for t in 1..threads {
            let target = body.len() * t / threads;
            let cut = body[target..]
                .iter()
                .position(|&b| b == b'\n')
                .map_or(body.len(), |p| target + p + 1);
            if cut > *bounds.last().unwrap_or(&0) && cut < body.len() {
                bounds.push(cut);
            }
        }
        bounds.push(body.len());
        let pieces: Vec<&[u8]> = bounds.windows(2).map(|w| &body[w[0]..w[1]]).collect();
        // Line numbers: each piece's first line, from the newlines before it.
        let mut first_lines = vec![2u64];
        for p in &pieces[..pieces.len() - 1] {
            let prev = *first_lines.last().unwrap_or(&2);
            first_lines.push(prev + p.iter().filter(|&&b| b == b'\n').count() as u64);
        }
        let chunks: Vec<Chunk> = std::thread::scope(|s| {
            let handles: Vec<_> = pieces
                .iter()
                .zip(&first_lines)
                .map(|(p, &fl)| {
                    let p = p.strip_suffix(b"\n").unwrap_or(p);
                    s.spawn(move || {
                        let c = parse_plain(p, idx, names, fl);
                        progress.inc(p.len() as u64 + 1);
                        c
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_default())
                .collect()
        });
        if chunks.iter().any(|c| c.text_ids) {
            read_quoted(body, idx, names)?
        } else {
            if let Some(e) = chunks.iter().find_map(|c| c.error.clone()) {
                bail!("line {}, column {}: {}", e.line, e.column, e.why);
            }
            let n: usize = chunks.iter().map(|c| c.customer.len()).sum();
            let mut tx = Transactions {
                customer: Vec::with_capacity(n),
                day: Vec::with_capacity(n),
                amount: Vec::with_capacity(n),
            };
            for c in chunks {
                tx.customer.extend(c.customer);
                tx.day.extend(c.day);
                tx.amount.extend(c.amount);
            }
            Loaded { tx, names: None }
        }
    };
    progress.finish_and_clear();
    if loaded.tx.is_empty() {
        bail!("{} has a header but no transactions", path.display());
    }
    Ok(loaded)
}

/// The general path: any CSV quoting, text customer ids interned to codes.
fn read_quoted(
    body: &[u8],
    idx: (usize, usize, usize),
    names: (&str, &str, &str),
) -> anyhow::Result<Loaded> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(body);
    let mut tx = Transactions::default();
    let mut codes: HashMap<String, i64> = HashMap::new();
    let mut ids: Vec<String> = Vec::new();
    let mut all_int = true;
    let mut raw_ids: Vec<String> = Vec::new();
    let mut rec = csv::ByteRecord::new();
    loop {
        match rdr.read_byte_record(&mut rec) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => bail!(
                "line {}: malformed CSV: {e}",
                e.position().map_or(0, |p| p.line() + 1)
            ),
        }
        let line = rec.position().map_or(0, |p| p.line() + 1);
        let field = |i: usize, name: &str| {
            rec.get(i)
                .with_context(|| format!("line {line}, column {name}: missing"))
        };
        let cid = String::from_utf8_lossy(field(idx.0, names.0)?.trim_ascii()).to_string();
        if cid.is_empty() {
            bail!("line {line}, column {}: empty customer id", names.0);
        }
        let day = parse_date(field(idx.1, names.1)?)
            .map_err(|why| anyhow::anyhow!("line {line}, column {}: {why}", names.1))?;
        let amount = parse_amount(field(idx.2, names.2)?)
            .map_err(|why| anyhow::anyhow!("line {line}, column {}: {why}", names.2))?;
        all_int &= cid.parse::<i64>().is_ok();
        let code = *codes.entry(cid.clone()).or_insert_with(|| {
            ids.push(cid.clone());
            (ids.len() - 1) as i64
        });
        raw_ids.push(cid);
        tx.customer.push(code);
        tx.day.push(day);
        tx.amount.push(amount);
    }
    if all_int {
        tx.customer = raw_ids
            .iter()
            .map(|s| s.parse().unwrap_or_default())
            .collect();
        return Ok(Loaded { tx, names: None });
    }
    Ok(Loaded {
        tx,
        names: Some(ids),
    })
}

/// Orders from the database; days in the shop's time zone (`utc_offset_hours`).
pub async fn from_db(store: &guanxi_store::Store, utc_offset_hours: i64) -> anyhow::Result<Loaded> {
    let tx = store.order_transactions(utc_offset_hours).await?;
    if tx.is_empty() {
        bail!("the database has no orders to analyse (load some, or try `guanxi demo`)");
    }
    Ok(Loaded { tx, names: None })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_decimals_equal_std_parse() {
        for s in [
            "0",
            "1",
            "12.5",
            "0.1",
            "0.3",
            "227.31",
            "999999.99",
            "123456789.123456",
            "5.",
            ".5",
            "00012.340",
        ] {
            assert_eq!(
                fast_decimal(s.as_bytes()),
                Some(s.parse::<f64>().unwrap()),
                "{s}"
            );
        }
        for s in [
            "1e5",
            "-1",
            "1,000.5",
            "",
            ".",
            "1.2.3",
            "12345678901234567",
        ] {
            assert_eq!(fast_decimal(s.as_bytes()), None, "{s}");
        }
        let mut x: u64 = 1;
        for _ in 0..100_000 {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            let s = format!("{}.{:02}", (x >> 40) % 1_000_000, (x >> 20) % 100);
            assert_eq!(
                fast_decimal(s.as_bytes()),
                Some(s.parse::<f64>().unwrap()),
                "{s}"
            );
        }
    }

    #[test]
    fn dates() {
        assert_eq!(parse_date(b"1970-01-01"), Ok(0));
        assert_eq!(parse_date(b"19970101"), parse_date(b"1997/01/01"));
        assert_eq!(
            parse_date(b"2024-02-29 13:00:00"),
            Ok(days_from_civil(2024, 2, 29))
        );
        assert!(parse_date(b"2023-02-29").is_err());
        assert!(parse_date(b"yesterday").is_err());
        assert_eq!(
            civil_from_days(parse_date(b"2026-11-22").unwrap()),
            "2026-11-22"
        );
    }
}
