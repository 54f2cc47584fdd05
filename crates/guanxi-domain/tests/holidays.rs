//! The shipped Chinese holiday table against an outside reference: the `chinesecalendar`
//! package's record of the State Council notices (fixture from tools/holiday_fixture.py), and
//! the provisional 2027 festival days against the lunar calendar.

use chrono::{Datelike, Duration, NaiveDate};
use guanxi_domain::lunar::{to_solar, LunarDate};
use guanxi_domain::ticket::calendar::DayRule;
use guanxi_domain::ticket::holidays::{china_days, CHINA};

fn fixture() -> serde_json::Value {
    let text = include_str!("fixtures/cn_holidays_chinesecalendar.json");
    serde_json::from_str(text).unwrap()
}

#[test]
fn shipped_2025_and_2026_match_the_reference_day_by_day() {
    let f = fixture();
    let mut expected: Vec<(String, DayRule)> = Vec::new();
    for (key, rule) in [
        ("holidays", DayRule::Holiday),
        ("workdays", DayRule::Workday),
    ] {
        for d in f[key].as_object().unwrap().keys() {
            expected.push((d.clone(), rule));
        }
    }
    expected.sort();
    let mut shipped: Vec<(String, DayRule)> = china_days()
        .filter(|(d, _)| d.year() <= 2026)
        .map(|(d, r)| (d.to_string(), r))
        .collect();
    shipped.sort();
    assert_eq!(shipped, expected);
    assert_eq!(
        china_days().count(),
        CHINA.len(),
        "every shipped date parses"
    );
}

#[test]
fn provisional_2027_festivals_fall_on_their_lunar_days() {
    let lunar = |month, day| {
        to_solar(LunarDate {
            year: 2027,
            month,
            day,
            leap: false,
        })
        .unwrap()
    };
    let days: Vec<NaiveDate> = china_days()
        .filter(|(d, _)| d.year() == 2027)
        .map(|(d, _)| d)
        .collect();
    let new_year = lunar(1, 1);
    for d in 0..4 {
        assert!(days.contains(&(new_year - Duration::days(1) + Duration::days(d))));
    }
    assert!(days.contains(&lunar(5, 5)), "端午");
    assert!(days.contains(&lunar(8, 15)), "中秋");
    assert!(CHINA
        .iter()
        .filter(|d| d.date.starts_with("2027"))
        .all(|d| d.provisional));
    assert!(CHINA
        .iter()
        .filter(|d| !d.date.starts_with("2027"))
        .all(|d| !d.provisional));
}
