//! China's public holidays and make-up working days (调休) as shipped with every new business
//! calendar. 2025 and 2026 are the State Council's published arrangements (checked day by day
//! against the `chinesecalendar` package in `tests/holidays.rs`). 2027's arrangement was not
//! available when this table was written: it holds the statutory days only (元旦 1, 春节 4 from
//! 除夕, 清明 1, 劳动节 2, 端午 1, 中秋 1, 国庆 3, per the 2024 revision of the holiday rules),
//! marked provisional, and the admin adds the bridging days and 调休 when the notice is out.

use chrono::NaiveDate;

use crate::ticket::calendar::DayRule;

/// One shipped dated exception.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShippedDay {
    /// `YYYY-MM-DD`.
    pub date: &'static str,
    /// Holiday or make-up working day.
    pub rule: DayRule,
    /// Which festival it belongs to (a locale key suffix: `holiday-spring_festival`).
    pub festival: &'static str,
    /// True where the official arrangement was not yet known (2027).
    pub provisional: bool,
}

const fn h(date: &'static str, festival: &'static str) -> ShippedDay {
    ShippedDay {
        date,
        rule: DayRule::Holiday,
        festival,
        provisional: false,
    }
}

const fn w(date: &'static str, festival: &'static str) -> ShippedDay {
    ShippedDay {
        date,
        rule: DayRule::Workday,
        festival,
        provisional: false,
    }
}

const fn p(date: &'static str, festival: &'static str) -> ShippedDay {
    ShippedDay {
        date,
        rule: DayRule::Holiday,
        festival,
        provisional: true,
    }
}

/// Every shipped day, in date order.
pub const CHINA: &[ShippedDay] = &[
    // 2025 (国办发明电〔2024〕12号)
    h("2025-01-01", "new_year"),
    w("2025-01-26", "spring_festival"),
    h("2025-01-28", "spring_festival"),
    h("2025-01-29", "spring_festival"),
    h("2025-01-30", "spring_festival"),
    h("2025-01-31", "spring_festival"),
    h("2025-02-01", "spring_festival"),
    h("2025-02-02", "spring_festival"),
    h("2025-02-03", "spring_festival"),
    h("2025-02-04", "spring_festival"),
    w("2025-02-08", "spring_festival"),
    h("2025-04-04", "qingming"),
    h("2025-04-05", "qingming"),
    h("2025-04-06", "qingming"),
    w("2025-04-27", "labour_day"),
    h("2025-05-01", "labour_day"),
    h("2025-05-02", "labour_day"),
    h("2025-05-03", "labour_day"),
    h("2025-05-04", "labour_day"),
    h("2025-05-05", "labour_day"),
    h("2025-05-31", "dragon_boat"),
    h("2025-06-01", "dragon_boat"),
    h("2025-06-02", "dragon_boat"),
    w("2025-09-28", "national_day"),
    h("2025-10-01", "national_day"),
    h("2025-10-02", "national_day"),
    h("2025-10-03", "national_day"),
    h("2025-10-04", "national_day"),
    h("2025-10-05", "national_day"),
    h("2025-10-06", "mid_autumn"),
    h("2025-10-07", "national_day"),
    h("2025-10-08", "national_day"),
    w("2025-10-11", "national_day"),
    // 2026 (国办发明电〔2025〕7号)
    h("2026-01-01", "new_year"),
    h("2026-01-02", "new_year"),
    h("2026-01-03", "new_year"),
    w("2026-01-04", "new_year"),
    w("2026-02-14", "spring_festival"),
    h("2026-02-15", "spring_festival"),
    h("2026-02-16", "spring_festival"),
    h("2026-02-17", "spring_festival"),
    h("2026-02-18", "spring_festival"),
    h("2026-02-19", "spring_festival"),
    h("2026-02-20", "spring_festival"),
    h("2026-02-21", "spring_festival"),
    h("2026-02-22", "spring_festival"),
    h("2026-02-23", "spring_festival"),
    w("2026-02-28", "spring_festival"),
    h("2026-04-04", "qingming"),
    h("2026-04-05", "qingming"),
    h("2026-04-06", "qingming"),
    h("2026-05-01", "labour_day"),
    h("2026-05-02", "labour_day"),
    h("2026-05-03", "labour_day"),
    h("2026-05-04", "labour_day"),
    h("2026-05-05", "labour_day"),
    w("2026-05-09", "labour_day"),
    h("2026-06-19", "dragon_boat"),
    h("2026-06-20", "dragon_boat"),
    h("2026-06-21", "dragon_boat"),
    w("2026-09-20", "national_day"),
    h("2026-09-25", "mid_autumn"),
    h("2026-09-26", "mid_autumn"),
    h("2026-09-27", "mid_autumn"),
    h("2026-10-01", "national_day"),
    h("2026-10-02", "national_day"),
    h("2026-10-03", "national_day"),
    h("2026-10-04", "national_day"),
    h("2026-10-05", "national_day"),
    h("2026-10-06", "national_day"),
    h("2026-10-07", "national_day"),
    w("2026-10-10", "national_day"),
    // 2027: statutory days only, until the State Council's notice is entered.
    p("2027-01-01", "new_year"),
    p("2027-02-05", "spring_festival"),
    p("2027-02-06", "spring_festival"),
    p("2027-02-07", "spring_festival"),
    p("2027-02-08", "spring_festival"),
    p("2027-04-05", "qingming"),
    p("2027-05-01", "labour_day"),
    p("2027-05-02", "labour_day"),
    p("2027-06-09", "dragon_boat"),
    p("2027-09-15", "mid_autumn"),
    p("2027-10-01", "national_day"),
    p("2027-10-02", "national_day"),
    p("2027-10-03", "national_day"),
];

/// The shipped days as calendar exceptions (the table is checked to parse in the tests).
pub fn china_days() -> impl Iterator<Item = (NaiveDate, DayRule)> {
    CHINA.iter().filter_map(|d| {
        NaiveDate::parse_from_str(d.date, "%Y-%m-%d")
            .ok()
            .map(|date| (date, d.rule))
    })
}
