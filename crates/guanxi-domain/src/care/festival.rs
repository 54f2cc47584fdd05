//! The festivals a Chinese-speaking business greets its customers on: five on the lunar
//! calendar (春节, 元宵, 端午, 中秋, 重阳) and six on the solar one (元旦, 妇女节, 母亲节, 父亲节,
//! 教师节, 国庆). Mother's and Father's Day are the second Sunday of May and the third Sunday of
//! June, as observed in China.

use chrono::{Datelike, NaiveDate, Weekday};

use crate::lunar::{to_solar, LunarDate};

crate::vocabulary! {
    /// A festival, by its stable code.
    Festival {
        /// 元旦, 1 January.
        NewYear => "new_year",
        /// 春节, the first day of the first lunar month.
        SpringFestival => "spring_festival",
        /// 元宵节, lunar 1/15.
        Lantern => "lantern",
        /// 妇女节, 8 March.
        WomensDay => "womens_day",
        /// 母亲节, the second Sunday of May.
        MothersDay => "mothers_day",
        /// 端午节, lunar 5/5.
        DragonBoat => "dragon_boat",
        /// 父亲节, the third Sunday of June.
        FathersDay => "fathers_day",
        /// 教师节, 10 September.
        TeachersDay => "teachers_day",
        /// 中秋节, lunar 8/15.
        MidAutumn => "mid_autumn",
        /// 国庆节, 1 October.
        NationalDay => "national_day",
        /// 重阳节, lunar 9/9.
        DoubleNinth => "double_ninth",
    }
}

impl Festival {
    /// The solar day the festival falls on in `year`; `None` past the lunar table (2099).
    pub fn on(self, year: i32) -> Option<NaiveDate> {
        let lunar = |month, day| {
            to_solar(LunarDate {
                year,
                month,
                day,
                leap: false,
            })
        };
        match self {
            Festival::NewYear => NaiveDate::from_ymd_opt(year, 1, 1),
            Festival::SpringFestival => lunar(1, 1),
            Festival::Lantern => lunar(1, 15),
            Festival::WomensDay => NaiveDate::from_ymd_opt(year, 3, 8),
            Festival::MothersDay => NaiveDate::from_weekday_of_month_opt(year, 5, Weekday::Sun, 2),
            Festival::DragonBoat => lunar(5, 5),
            Festival::FathersDay => NaiveDate::from_weekday_of_month_opt(year, 6, Weekday::Sun, 3),
            Festival::TeachersDay => NaiveDate::from_ymd_opt(year, 9, 10),
            Festival::MidAutumn => lunar(8, 15),
            Festival::NationalDay => NaiveDate::from_ymd_opt(year, 10, 1),
            Festival::DoubleNinth => lunar(9, 9),
        }
    }

    /// True for the festivals kept on the lunar calendar.
    pub fn is_lunar(self) -> bool {
        matches!(
            self,
            Festival::SpringFestival
                | Festival::Lantern
                | Festival::DragonBoat
                | Festival::MidAutumn
                | Festival::DoubleNinth
        )
    }

    /// The next day, on or after `from`, the festival falls on.
    pub fn next_on(self, from: NaiveDate) -> Option<NaiveDate> {
        (from.year()..=from.year() + 1)
            .filter_map(|y| self.on(y))
            .find(|d| *d >= from)
    }
}

/// Every festival falling between `from` and `to` (both included), in date order.
pub fn festivals_between(from: NaiveDate, to: NaiveDate) -> Vec<(Festival, NaiveDate)> {
    let mut out: Vec<(Festival, NaiveDate)> = (from.year()..=to.year())
        .flat_map(|y| {
            Festival::ALL
                .iter()
                .filter_map(move |f| Some((*f, f.on(y)?)))
        })
        .filter(|(_, d)| *d >= from && *d <= to)
        .collect();
    out.sort_by_key(|(f, d)| (*d, *f));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn festivals_fall_on_their_published_days() {
        // Dates from the State Council's holiday notices and the Hong Kong Observatory tables.
        assert_eq!(Festival::SpringFestival.on(2026), Some(d(2026, 2, 17)));
        assert_eq!(Festival::Lantern.on(2026), Some(d(2026, 3, 3)));
        assert_eq!(Festival::DragonBoat.on(2026), Some(d(2026, 6, 19)));
        assert_eq!(Festival::MidAutumn.on(2026), Some(d(2026, 9, 25)));
        assert_eq!(Festival::DoubleNinth.on(2026), Some(d(2026, 10, 18)));
        assert_eq!(Festival::SpringFestival.on(2027), Some(d(2027, 2, 6)));
        assert_eq!(Festival::MidAutumn.on(2027), Some(d(2027, 9, 15)));
        assert_eq!(Festival::MothersDay.on(2026), Some(d(2026, 5, 10)));
        assert_eq!(Festival::FathersDay.on(2026), Some(d(2026, 6, 21)));
        assert_eq!(Festival::TeachersDay.on(2026), Some(d(2026, 9, 10)));
    }

    #[test]
    fn festivals_between_crosses_the_year() {
        let got = festivals_between(d(2026, 12, 20), d(2027, 2, 10));
        assert_eq!(
            got,
            vec![
                (Festival::NewYear, d(2027, 1, 1)),
                (Festival::SpringFestival, d(2027, 2, 6)),
            ]
        );
        assert_eq!(
            Festival::MidAutumn.next_on(d(2026, 9, 26)),
            Some(d(2027, 9, 15))
        );
        assert!(Festival::MidAutumn.is_lunar() && !Festival::NationalDay.is_lunar());
    }
}
