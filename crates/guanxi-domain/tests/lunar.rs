//! The lunar calendar against lunar-python (tools/lunar_fixture.py): every 11th solar day from
//! 1900 to 2088 and every day of 2024–2028, converted both ways. (Beyond 2088 the astronomical
//! predictions of the two sources differ on two month boundaries; see the fixture script.)

use chrono::NaiveDate;
use guanxi_domain::lunar::{to_lunar, to_solar, LunarDate};

#[test]
fn every_fixture_day_matches_lunar_python_both_ways() {
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lunar_python.csv"),
    )
    .unwrap();
    let mut rows = 0;
    let mut leap_days = 0;
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let solar = NaiveDate::parse_from_str(f[0], "%Y-%m-%d").unwrap();
        let want = LunarDate {
            year: f[1].parse().unwrap(),
            month: f[2].parse().unwrap(),
            day: f[3].parse().unwrap(),
            leap: f[4] == "1",
        };
        assert_eq!(to_lunar(solar), Some(want), "{solar}");
        assert_eq!(to_solar(want), Some(solar), "{want:?}");
        rows += 1;
        leap_days += usize::from(want.leap);
    }
    assert_eq!(rows, 7_934);
    assert!(
        leap_days > 200,
        "leap months are covered ({leap_days} days)"
    );
}
