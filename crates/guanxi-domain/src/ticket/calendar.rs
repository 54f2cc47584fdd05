//! Business calendars: when the service desk works, so an SLA of "8 working hours" means what a
//! Chinese shop means by it. Weekly hours per weekday, then per-date exceptions: a public
//! holiday takes a working day away, and a make-up working day (调休, a Saturday or Sunday
//! worked in exchange for a longer holiday) adds one. The research notes found no reference
//! system that can express the second; here it is one more row in the date table.
//!
//! Time zones are a fixed UTC offset: the markets Guanxi serves first (mainland China, Hong
//! Kong, Taiwan, Singapore) have no daylight saving, and a fixed offset keeps the arithmetic
//! exact and IO-free.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};

use crate::error::ValidationErrors;
use crate::vocabulary;

/// Minutes in a day; a period ends at most here.
const DAY_MINUTES: u16 = 24 * 60;

/// How far ahead a due time is searched: a target that does not fit into ten years of a
/// calendar's working time is a misconfigured calendar, not a deadline.
const HORIZON_DAYS: i64 = 3660;

vocabulary!(
    /// What a dated exception does to a day.
    DayRule {
        /// A public holiday: no working hours whatever the weekday.
        Holiday => "holiday",
        /// A make-up working day (调休): the calendar's working-day hours on a weekend.
        Workday => "workday",
    }
);

/// One working period of a day, in minutes from local midnight, `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Period {
    /// First working minute.
    pub start: u16,
    /// First minute after work.
    pub end: u16,
}

/// A calendar as the store keeps it and the admin edits it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BusinessCalendar {
    /// Offset of local time from UTC in minutes (China: 480).
    pub utc_offset_minutes: i32,
    /// Working periods per weekday, Monday first.
    pub week: [Vec<Period>; 7],
    /// The hours of a make-up working day: a normal weekday's.
    pub workday_hours: Vec<Period>,
    /// Dated exceptions.
    pub days: BTreeMap<NaiveDate, DayRule>,
}

impl BusinessCalendar {
    /// The usual Chinese office week: Monday to Friday, 9:00–12:00 and 13:00–18:00, UTC+8,
    /// with no dated exceptions (the shipped holidays are added by the caller).
    pub fn china_office() -> Self {
        let day = vec![
            Period {
                start: 540,
                end: 720,
            },
            Period {
                start: 780,
                end: 1080,
            },
        ];
        Self {
            utc_offset_minutes: 480,
            week: [
                day.clone(),
                day.clone(),
                day.clone(),
                day.clone(),
                day.clone(),
                Vec::new(),
                Vec::new(),
            ],
            workday_hours: day,
            days: BTreeMap::new(),
        }
    }

    /// Checks the periods (ordered, non-overlapping, within a day), the offset, and that some
    /// day has working time, so every due time can be found.
    pub fn validate(&self) -> Result<(), ValidationErrors> {
        let mut e = ValidationErrors::new();
        if !(-14 * 60..=14 * 60).contains(&self.utc_offset_minutes) {
            e.push("utc_offset_minutes", "out_of_range");
        }
        for (i, day) in self.week.iter().enumerate() {
            check_periods(&mut e, &format!("week[{i}]"), day);
        }
        check_periods(&mut e, "workday_hours", &self.workday_hours);
        if self.week.iter().all(Vec::is_empty) && self.workday_hours.is_empty() {
            e.push("week", "no_working_time");
        }
        if e.is_empty() {
            Ok(())
        } else {
            Err(e)
        }
    }

    /// The working periods of a local date.
    pub fn periods(&self, date: NaiveDate) -> &[Period] {
        match self.days.get(&date) {
            Some(DayRule::Holiday) => &[],
            Some(DayRule::Workday) => &self.workday_hours,
            None => &self.week[date.weekday().num_days_from_monday() as usize],
        }
    }

    /// Whether the desk works at all on a local date.
    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        !self.periods(date).is_empty()
    }

    fn local(&self, t: DateTime<Utc>) -> chrono::NaiveDateTime {
        t.naive_utc() + Duration::minutes(i64::from(self.utc_offset_minutes))
    }

    fn utc(&self, local: chrono::NaiveDateTime) -> DateTime<Utc> {
        Utc.from_utc_datetime(&(local - Duration::minutes(i64::from(self.utc_offset_minutes))))
    }

    /// The instant `minutes` of working time after `start`: an SLA target's due time. `None`
    /// when the calendar has no working time within ten years.
    pub fn add_working_minutes(&self, start: DateTime<Utc>, minutes: i64) -> Option<DateTime<Utc>> {
        let local = self.local(start);
        let mut remaining = Duration::minutes(minutes.max(0));
        let mut date = local.date();
        for _ in 0..HORIZON_DAYS {
            for p in self.periods(date) {
                let from = at_minute(date, p.start);
                let to = at_minute(date, p.end);
                let begin = from.max(local);
                if begin >= to {
                    continue;
                }
                let available = to - begin;
                if remaining <= available {
                    return Some(self.utc(begin + remaining));
                }
                remaining -= available;
            }
            date = date.succ_opt()?;
        }
        None
    }

    /// Working seconds between two instants (0 when `to` is not after `from`): the clock an SLA
    /// runs on.
    pub fn working_seconds_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> i64 {
        if to <= from {
            return 0;
        }
        let (a, b) = (self.local(from), self.local(to));
        let mut total = 0;
        let mut date = a.date();
        while date <= b.date() {
            for p in self.periods(date) {
                let begin = at_minute(date, p.start).max(a);
                let end = at_minute(date, p.end).min(b);
                if end > begin {
                    total += (end - begin).num_seconds();
                }
            }
            match date.succ_opt() {
                Some(d) => date = d,
                None => break,
            }
        }
        total
    }
}

/// The local instant `m` minutes after a date's midnight; minute 1440 is the next midnight.
fn at_minute(date: NaiveDate, m: u16) -> chrono::NaiveDateTime {
    date.and_time(NaiveTime::MIN) + Duration::minutes(i64::from(m))
}

fn check_periods(e: &mut ValidationErrors, field: &str, periods: &[Period]) {
    let mut last_end = 0;
    for (i, p) in periods.iter().enumerate() {
        if p.start >= p.end || p.end > DAY_MINUTES || (i > 0 && p.start < last_end) {
            e.push(format!("{field}[{i}]"), "invalid_period");
        }
        last_end = p.end;
    }
}

/// Reads a day's hours as an admin types them: `09:00-12:00, 13:00-18:00` (full-width comma
/// and dashes accepted; `24:00` ends at midnight; empty means no work that day). The periods'
/// order and overlap are [`BusinessCalendar::validate`]'s to check.
pub fn parse_periods(s: &str) -> Result<Vec<Period>, &'static str> {
    let minute = |t: &str| -> Option<u16> {
        let (h, m) = t.trim().split_once([':', '：'])?;
        let (h, m) = (h.trim().parse::<u16>().ok()?, m.trim().parse::<u16>().ok()?);
        (m < 60 && (h < 24 || (h == 24 && m == 0))).then_some(h * 60 + m)
    };
    s.split([',', '，', ';', '；'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (a, b) = p
                .split_once(['-', '–', '—', '~', '～'])
                .ok_or("invalid_hours")?;
            match (minute(a), minute(b)) {
                (Some(start), Some(end)) => Ok(Period { start, end }),
                _ => Err("invalid_hours"),
            }
        })
        .collect()
}

/// Writes a day's hours the way [`parse_periods`] reads them.
pub fn format_periods(periods: &[Period]) -> String {
    periods
        .iter()
        .map(|p| {
            format!(
                "{:02}:{:02}-{:02}:{:02}",
                p.start / 60,
                p.start % 60,
                p.end / 60,
                p.end % 60
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn working_minutes_skip_lunch_and_the_night() {
        let cal = BusinessCalendar::china_office();
        // Monday 2026-03-02 11:00 Beijing + 4 h = 11–12, 13–16 → 16:00.
        let due = cal.add_working_minutes(at("2026-03-02T11:00:00+08:00"), 240);
        assert_eq!(due, Some(at("2026-03-02T16:00:00+08:00")));
        // Friday 17:00 + 2 h → Monday 10:00.
        let due = cal.add_working_minutes(at("2026-03-06T17:00:00+08:00"), 120);
        assert_eq!(due, Some(at("2026-03-09T10:00:00+08:00")));
        // Started at night: the clock starts at 9:00.
        let due = cal.add_working_minutes(at("2026-03-03T02:00:00+08:00"), 30);
        assert_eq!(due, Some(at("2026-03-03T09:30:00+08:00")));
        assert_eq!(
            cal.working_seconds_between(
                at("2026-03-06T17:00:00+08:00"),
                at("2026-03-09T10:00:00+08:00")
            ),
            7200
        );
    }

    #[test]
    fn holidays_and_make_up_days_move_the_due_time() {
        let mut cal = BusinessCalendar::china_office();
        // 2026 National Day: 1–7 October off, Saturday 10 October worked.
        for d in 1..=7 {
            cal.days
                .insert(date(&format!("2026-10-0{d}")), DayRule::Holiday);
        }
        cal.days.insert(date("2026-10-10"), DayRule::Workday);
        // Wednesday 30 September 17:00 + 2 h: 1 h that day, then the holiday, then Thursday 8th.
        let due = cal.add_working_minutes(at("2026-09-30T17:00:00+08:00"), 120);
        assert_eq!(due, Some(at("2026-10-08T10:00:00+08:00")));
        // Friday 9th 17:00 + 2 h: the make-up Saturday counts.
        let due = cal.add_working_minutes(at("2026-10-09T17:00:00+08:00"), 120);
        assert_eq!(due, Some(at("2026-10-10T10:00:00+08:00")));
        assert!(cal.is_working_day(date("2026-10-10")));
        assert!(!cal.is_working_day(date("2026-10-05")));
    }

    #[test]
    fn a_calendar_without_hours_is_refused_and_finds_no_due_time() {
        let mut cal = BusinessCalendar::china_office();
        cal.week = Default::default();
        cal.workday_hours.clear();
        assert!(cal.validate().is_err());
        assert_eq!(cal.add_working_minutes(Utc::now(), 10), None);
        let mut bad = BusinessCalendar::china_office();
        bad.week[0] = vec![Period {
            start: 600,
            end: 500,
        }];
        let e = bad.validate().unwrap_err();
        assert_eq!(e.0[0].field, "week[0][0]");
        assert!(BusinessCalendar::china_office().validate().is_ok());
    }

    #[test]
    fn a_round_the_clock_calendar_counts_every_minute() {
        let all = vec![Period {
            start: 0,
            end: 1440,
        }];
        let cal = BusinessCalendar {
            utc_offset_minutes: 0,
            week: std::array::from_fn(|_| all.clone()),
            workday_hours: all,
            days: BTreeMap::new(),
        };
        let start = at("2026-03-02T23:30:00Z");
        assert_eq!(
            cal.add_working_minutes(start, 60),
            Some(at("2026-03-03T00:30:00Z"))
        );
        assert_eq!(
            cal.working_seconds_between(start, at("2026-03-04T23:30:00Z")),
            172_800
        );
    }

    #[test]
    fn hours_read_as_typed_and_write_back_the_same() {
        let p = parse_periods("09:00-12:00，13:00～18:00").expect("read");
        assert_eq!(
            p,
            vec![
                Period {
                    start: 540,
                    end: 720
                },
                Period {
                    start: 780,
                    end: 1080
                }
            ]
        );
        assert_eq!(format_periods(&p), "09:00-12:00, 13:00-18:00");
        assert_eq!(parse_periods(" ").expect("empty"), Vec::new());
        assert_eq!(parse_periods("20:00-24:00").expect("midnight")[0].end, 1440);
        assert_eq!(parse_periods("9-12"), Err("invalid_hours"));
        assert_eq!(parse_periods("25:00-26:00"), Err("invalid_hours"));
    }
}
