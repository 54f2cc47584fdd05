//! A customer's own dates worth a greeting, derived from the customer file: their birthday,
//! their spouse's and children's birthdays, the wedding anniversary, and the day they became a
//! customer. The store keeps one row per date with its next solar occurrence, so "who has a
//! date in the next seven days" is an index range, not a pass over every profile.

use chrono::{Datelike, NaiveDate};

use super::festival::Festival;
use crate::lunar::{to_solar, LunarDate};
use crate::profile::{Anniversary, IndividualProfile};

crate::vocabulary! {
    /// What a customer's date celebrates.
    OccasionKind {
        /// The customer's own birthday (solar or lunar).
        Birthday => "birthday",
        /// The spouse's birthday.
        SpouseBirthday => "spouse_birthday",
        /// The wedding anniversary.
        Wedding => "wedding",
        /// A child's birthday.
        ChildBirthday => "child_birthday",
        /// The anniversary of becoming a customer.
        CustomerSince => "customer_since",
    }
}

/// An occasion a greeting, a plan or a touch is about: one of the customer's own dates, or a
/// festival. Its code (`birthday`, `festival.mid_autumn`) is what the store keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Occasion {
    /// One of the customer's dates.
    Customer(OccasionKind),
    /// A festival.
    Festival(Festival),
}

impl Occasion {
    /// The stored code.
    pub fn code(self) -> String {
        match self {
            Occasion::Customer(k) => k.as_str().to_string(),
            Occasion::Festival(f) => format!("festival.{}", f.as_str()),
        }
    }

    /// Parses a stored code; unknown codes are an error.
    pub fn parse(s: &str) -> Result<Self, &'static str> {
        match s.strip_prefix("festival.") {
            Some(f) => Festival::parse(f).map(Occasion::Festival),
            None => OccasionKind::parse(s).map(Occasion::Customer),
        }
    }

    /// Every occasion, the customer's dates first: what a picker offers.
    pub fn all() -> Vec<Occasion> {
        OccasionKind::ALL
            .iter()
            .map(|k| Occasion::Customer(*k))
            .chain(Festival::ALL.iter().map(|f| Occasion::Festival(*f)))
            .collect()
    }
}

/// One of a customer's dates: which occasion, whose (a child's name), and the date itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CareDate {
    /// What it celebrates.
    pub kind: OccasionKind,
    /// Which one of its kind, unique per customer: the kind's code, or `child_birthday.<n>` for
    /// the n-th child.
    pub key: String,
    /// Whose date, when not the customer's own (a child's name).
    pub label: Option<String>,
    /// The date, solar or lunar, with its year when known.
    pub date: Anniversary,
}

impl CareDate {
    /// The next solar day, on or after `from`, this date is celebrated on. A date with a known
    /// year is first celebrated the year after it (a customer who joined today has no
    /// anniversary today).
    pub fn next_on(&self, from: NaiveDate) -> Option<NaiveDate> {
        let from = match self.original() {
            Some(first) if first >= from => first.succ_opt()?,
            _ => from,
        };
        self.date.next_occurrence(from)
    }

    /// How many years a celebration on `on` marks (the age turned, the years married or a
    /// customer), when the year is known.
    pub fn years_at(&self, on: NaiveDate) -> Option<i32> {
        self.date.years_at(on)
    }

    /// The solar day of the date itself, when its year is known.
    fn original(&self) -> Option<NaiveDate> {
        let year = self.date.year?;
        if self.date.lunar {
            to_solar(LunarDate {
                year,
                month: self.date.month,
                day: self.date.day,
                leap: false,
            })
        } else {
            NaiveDate::from_ymd_opt(year, self.date.month, self.date.day)
        }
    }
}

/// Most children whose birthdays are kept (the profile holds at most this many anyway).
const MAX_CHILDREN: usize = crate::profile::MAX_ITEMS;

/// A customer's dates: `birthday` from the customer's basics, the family's from the profile,
/// and the day they became a customer (`since`, solar).
pub fn care_dates(
    birthday: Option<&Anniversary>,
    profile: Option<&IndividualProfile>,
    since: NaiveDate,
) -> Vec<CareDate> {
    let own = |kind: OccasionKind, date: &Anniversary| CareDate {
        kind,
        key: kind.as_str().to_string(),
        label: None,
        date: *date,
    };
    let mut out = Vec::new();
    if let Some(b) = birthday {
        out.push(own(OccasionKind::Birthday, b));
    }
    if let Some(fam) = profile.and_then(|p| p.family.as_ref()) {
        if let Some(b) = &fam.spouse_birthday {
            out.push(CareDate {
                label: fam.spouse_name.clone().filter(|n| !n.trim().is_empty()),
                ..own(OccasionKind::SpouseBirthday, b)
            });
        }
        if let Some(w) = &fam.wedding_anniversary {
            out.push(own(OccasionKind::Wedding, w));
        }
        for (n, child) in fam.children.iter().take(MAX_CHILDREN).enumerate() {
            if let Some(b) = &child.birthday {
                out.push(CareDate {
                    kind: OccasionKind::ChildBirthday,
                    key: format!("{}.{}", OccasionKind::ChildBirthday.as_str(), n + 1),
                    label: Some(child.name.clone()),
                    date: *b,
                });
            }
        }
    }
    out.push(own(
        OccasionKind::CustomerSince,
        &Anniversary {
            year: Some(since.year()),
            month: since.month(),
            day: since.day(),
            lunar: false,
        },
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::{Child, Family};

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn ann(year: Option<i32>, month: u32, day: u32, lunar: bool) -> Anniversary {
        Anniversary {
            year,
            month,
            day,
            lunar,
        }
    }

    #[test]
    fn dates_come_from_the_basics_the_family_and_the_first_day() {
        let profile = IndividualProfile {
            family: Some(Family {
                spouse_name: Some("李娜".into()),
                spouse_birthday: Some(ann(None, 3, 8, false)),
                wedding_anniversary: Some(ann(Some(2010), 5, 20, false)),
                children: vec![
                    Child {
                        name: "小明".into(),
                        gender: None,
                        birthday: Some(ann(Some(2015), 8, 15, true)),
                    },
                    Child {
                        name: "无生日".into(),
                        gender: None,
                        birthday: None,
                    },
                ],
                ..Family::default()
            }),
            ..IndividualProfile::default()
        };
        let dates = care_dates(
            Some(&ann(Some(1980), 2, 29, false)),
            Some(&profile),
            d(2020, 6, 1),
        );
        let keys: Vec<&str> = dates.iter().map(|c| c.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "birthday",
                "spouse_birthday",
                "wedding",
                "child_birthday.1",
                "customer_since"
            ]
        );
        assert_eq!(dates[1].label.as_deref(), Some("李娜"));
        assert_eq!(dates[3].label.as_deref(), Some("小明"));
        // A lunar 8/15 is 中秋: 2026-09-25, and the child turns 11 by the lunar year.
        assert_eq!(dates[3].next_on(d(2026, 9, 1)), Some(d(2026, 9, 25)));
        assert_eq!(dates[3].years_at(d(2026, 9, 25)), Some(11));
        // 29 February is kept on the 28th in a common year.
        assert_eq!(dates[0].next_on(d(2027, 1, 1)), Some(d(2027, 2, 28)));
        assert_eq!(dates[0].years_at(d(2027, 2, 28)), Some(47));
    }

    #[test]
    fn an_anniversary_starts_the_year_after() {
        let since = care_dates(None, None, d(2026, 12, 6)).remove(0);
        assert_eq!(since.kind, OccasionKind::CustomerSince);
        assert_eq!(since.next_on(d(2026, 12, 6)), Some(d(2027, 12, 6)));
        assert_eq!(since.years_at(d(2027, 12, 6)), Some(1));
        assert_eq!(since.next_on(d(2027, 12, 7)), Some(d(2028, 12, 6)));
    }

    #[test]
    fn occasion_codes_round_trip() {
        for o in Occasion::all() {
            assert_eq!(Occasion::parse(&o.code()), Ok(o));
        }
        assert_eq!(
            Occasion::parse("festival.mid_autumn"),
            Ok(Occasion::Festival(Festival::MidAutumn))
        );
        assert!(Occasion::parse("festival.halloween").is_err());
        assert!(Occasion::parse("child_birthday.1").is_err());
    }
}
