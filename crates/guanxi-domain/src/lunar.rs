//! The Chinese lunar calendar (农历), 1900–2099: which lunar date a solar day is, and which
//! solar day a lunar date is. Customers give birthdays as "the eighth of the eighth month";
//! reminders and segments ("birthday within 7 days") need to know when that falls this year.
//!
//! The month table is generated from the `borax` package (Hong Kong Observatory data) by
//! tools/lunar_table.py and checked day by day against `lunar-python`, an independent
//! astronomical implementation (tests/lunar.rs, fixture from tools/lunar_fixture.py).

use chrono::{Duration, NaiveDate};

/// A lunar date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LunarDate {
    /// Lunar year (the one starting at its new year, 春节).
    pub year: i32,
    /// Month 1–12.
    pub month: u32,
    /// Day 1–30.
    pub day: u32,
    /// True in the leap (intercalary, 闰) month that repeats `month`.
    pub leap: bool,
}

/// First lunar year in the table; its new year was 1900-01-31.
const FIRST_YEAR: i32 = 1900;

/// Lunar years 1900–2099: leap month << 13 | 30-day-month bits (tools/lunar_table.py).
const YEARS: [u32; 200] = [
    0x116d2, 0x00752, 0x00ea5, 0x0b64a, 0x0064b, 0x00a9b, 0x09556, 0x0056a, 0x00b59, 0x05752,
    0x00752, 0x0db25, 0x00b25, 0x00a4b, 0x0b4ab, 0x002ad, 0x0056b, 0x04b69, 0x00da9, 0x0fd92,
    0x00e92, 0x00d25, 0x0ba4d, 0x00a56, 0x002b6, 0x095b5, 0x006d4, 0x00ea9, 0x05e92, 0x00e92,
    0x0cd26, 0x0052b, 0x00a57, 0x0b2b6, 0x00b5a, 0x006d4, 0x06ec9, 0x00749, 0x0f693, 0x00a93,
    0x0052b, 0x0ca5b, 0x00aad, 0x0056a, 0x09b55, 0x00ba4, 0x00b49, 0x05a93, 0x00a95, 0x0f52d,
    0x00536, 0x00aad, 0x0b5aa, 0x005b2, 0x00da5, 0x07d4a, 0x00d4a, 0x10a95, 0x00a97, 0x00556,
    0x0cab5, 0x00ad5, 0x006d2, 0x08ea5, 0x00ea5, 0x0064a, 0x06c97, 0x00a9b, 0x0f55a, 0x0056a,
    0x00b69, 0x0b752, 0x00b52, 0x00b25, 0x0964b, 0x00a4b, 0x114ab, 0x002ad, 0x0056d, 0x0cb69,
    0x00da9, 0x00d92, 0x09d25, 0x00d25, 0x15a4d, 0x00a56, 0x002b6, 0x0c5b5, 0x006d5, 0x00ea9,
    0x0be92, 0x00e92, 0x00d26, 0x06a56, 0x00a57, 0x114d6, 0x0035a, 0x006d5, 0x0b6c9, 0x00749,
    0x00693, 0x0952b, 0x0052b, 0x00a5b, 0x0555a, 0x0056a, 0x0fb55, 0x00ba4, 0x00b49, 0x0ba93,
    0x00a95, 0x0052d, 0x08aad, 0x00ab5, 0x135aa, 0x005d2, 0x00da5, 0x0dd4a, 0x00d4a, 0x00c95,
    0x0952e, 0x00556, 0x00ab5, 0x055b2, 0x006d2, 0x0cea5, 0x00725, 0x0064b, 0x0ac97, 0x00cab,
    0x0055a, 0x06ad6, 0x00b69, 0x17752, 0x00b52, 0x00b25, 0x0da4b, 0x00a4b, 0x004ab, 0x0a55b,
    0x005ad, 0x00b6a, 0x05b52, 0x00d92, 0x0fd25, 0x00d25, 0x00a55, 0x0b4ad, 0x004b6, 0x005b5,
    0x06daa, 0x00ec9, 0x11e92, 0x00e92, 0x00d26, 0x0ca56, 0x00a57, 0x004d6, 0x086d5, 0x00755,
    0x00749, 0x06e93, 0x00693, 0x0f52b, 0x0052b, 0x00a5b, 0x0b55a, 0x0056a, 0x00b65, 0x0974a,
    0x00b4a, 0x11a95, 0x00a95, 0x0052d, 0x0caad, 0x00ab5, 0x005aa, 0x08ba5, 0x00da5, 0x00d4a,
    0x07c95, 0x00c96, 0x0f94e, 0x00556, 0x00ab5, 0x0b5b2, 0x006d2, 0x00ea5, 0x08e4a, 0x0064b,
    0x10c97, 0x004ab, 0x0055b, 0x0cad6, 0x00b6a, 0x00752, 0x09725, 0x00b25, 0x00a8b, 0x0549b,
];

fn first_new_year() -> NaiveDate {
    NaiveDate::from_ymd_opt(1900, 1, 31).unwrap_or_default()
}

/// The years the table covers.
fn years() -> std::ops::Range<i32> {
    FIRST_YEAR..FIRST_YEAR + YEARS.len() as i32
}

/// The months of a lunar year in order, (month, leap, days); `None` outside the table.
fn months(year: i32) -> Option<impl Iterator<Item = (u32, bool, i64)>> {
    let word = YEARS
        .get(usize::try_from(year - FIRST_YEAR).ok()?)
        .copied()?;
    let leap = word >> 13;
    let mut out = Vec::with_capacity(13);
    for m in 1..=12u32 {
        out.push((m, false));
        if m == leap {
            out.push((m, true));
        }
    }
    Some(
        out.into_iter()
            .enumerate()
            .map(move |(k, (m, l))| (m, l, if word & (1 << k) != 0 { 30 } else { 29 })),
    )
}

fn year_days(year: i32) -> i64 {
    months(year).map_or(0, |ms| ms.map(|m| m.2).sum())
}

/// Days from the first new year in the table to each year's new year (one more entry than
/// years: the last is the table's end). Computed once: a care refresh converts a date for
/// every customer, and summing the years each time made that the refresh's main cost.
fn year_starts() -> &'static [i64] {
    static STARTS: std::sync::OnceLock<Vec<i64>> = std::sync::OnceLock::new();
    STARTS.get_or_init(|| {
        let mut out = Vec::with_capacity(YEARS.len() + 1);
        let mut at = 0;
        out.push(at);
        for year in years() {
            at += year_days(year);
            out.push(at);
        }
        out
    })
}

/// The lunar date of a solar day; `None` before 1900-01-31 or after lunar 2099.
pub fn to_lunar(date: NaiveDate) -> Option<LunarDate> {
    let offset = (date - first_new_year()).num_days();
    let starts = year_starts();
    if offset < 0 || offset >= *starts.last()? {
        return None;
    }
    let k = starts.partition_point(|s| *s <= offset) - 1;
    let year = FIRST_YEAR + k as i32;
    let mut offset = offset - starts[k];
    for (month, leap, days) in months(year)? {
        if offset < days {
            return Some(LunarDate {
                year,
                month,
                day: offset as u32 + 1,
                leap,
            });
        }
        offset -= days;
    }
    None
}

/// The solar day of a lunar date; `None` when the date does not exist (a 30th in a 29-day
/// month, a leap month the year does not have) or is outside the table.
pub fn to_solar(date: LunarDate) -> Option<NaiveDate> {
    let months = months(date.year)?;
    let mut offset: i64 = *year_starts().get(usize::try_from(date.year - FIRST_YEAR).ok()?)?;
    for (month, leap, days) in months {
        if month == date.month && leap == date.leap {
            if date.day == 0 || i64::from(date.day) > days {
                return None;
            }
            return Some(first_new_year() + Duration::days(offset + i64::from(date.day) - 1));
        }
        offset += days;
    }
    None
}

/// Days in a regular (non-leap) lunar month, if the year is in the table.
pub fn month_days(year: i32, month: u32) -> Option<u32> {
    months(year)?
        .find(|(m, l, _)| *m == month && !l)
        .map(|(_, _, d)| d as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_new_years_and_a_leap_month() {
        // 春节 2024 was 10 February; 2025 had a leap sixth month (闰六月) from 25 July.
        let d = |y, m, dd| NaiveDate::from_ymd_opt(y, m, dd).unwrap();
        let ny = LunarDate {
            year: 2024,
            month: 1,
            day: 1,
            leap: false,
        };
        assert_eq!(to_solar(ny), Some(d(2024, 2, 10)));
        assert_eq!(to_lunar(d(2024, 2, 10)), Some(ny));
        let leap = LunarDate {
            year: 2025,
            month: 6,
            day: 1,
            leap: true,
        };
        assert_eq!(to_solar(leap), Some(d(2025, 7, 25)));
        assert_eq!(to_lunar(d(2025, 7, 25)), Some(leap));
        assert_eq!(to_lunar(d(1900, 1, 30)), None);
        assert_eq!(
            to_solar(LunarDate {
                year: 2024,
                month: 6,
                day: 1,
                leap: true
            }),
            None
        );
    }
}
