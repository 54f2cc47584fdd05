//! The extended sections of the customer file. Individuals: education, career, family (with
//! the anniversaries that customer care reminds us of), lifestyle and preferences ("the
//! carrot-juice customer"), personality. Companies: traits, business and credit status,
//! payment terms. Each section may carry its own provenance, since a spouse's birthday learnt at
//! a dinner and a credit rating bought from an agency deserve different trust.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::error::ValidationErrors;
use crate::provenance::Provenance;
use crate::vocabulary::{BusinessStatus, CompanySize, CreditStatus, Gender};

/// Longest free-text field in a profile section.
pub const MAX_TEXT: usize = 500;
/// Most entries in any list in a profile section.
pub const MAX_ITEMS: usize = 50;

/// A month-day date with optional year, solar or lunar (农历). Many customers tell us "the
/// eighth of the eighth lunar month" without a year; a solar `NaiveDate` cannot hold that.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Anniversary {
    /// Year, when known.
    #[serde(default)]
    pub year: Option<i32>,
    /// Month 1–12 (lunar month when `lunar`).
    pub month: u32,
    /// Day 1–31 (1–30 when `lunar`).
    pub day: u32,
    /// True when the date is in the Chinese lunar calendar.
    #[serde(default)]
    pub lunar: bool,
}

impl Anniversary {
    /// Checks ranges; a solar date must exist (no 30 February), a lunar one fits 1–12/1–30.
    pub fn validate(&self, today: NaiveDate) -> Result<(), &'static str> {
        if let Some(y) = self.year {
            if !(1900..=2100).contains(&y) {
                return Err("out_of_range");
            }
        }
        if self.lunar {
            if !(1..=12).contains(&self.month) || !(1..=30).contains(&self.day) {
                return Err("invalid_date");
            }
            return Ok(());
        }
        let y = self.year.unwrap_or(2000); // a leap year, so 29 February is accepted without year
        let d = NaiveDate::from_ymd_opt(y, self.month, self.day).ok_or("invalid_date")?;
        if self.year.is_some() && d > today {
            return Err("in_future");
        }
        Ok(())
    }

    /// The next solar day, on or after `from`, on which this date is celebrated. A 29 February
    /// falls on 28 February in common years; a lunar 30th on the 29th when the month is short,
    /// and a lunar date in its regular month, not in a leap month that repeats it. `None` past
    /// the lunar table (2099).
    pub fn next_occurrence(&self, from: NaiveDate) -> Option<NaiveDate> {
        let on = |y: i32| -> Option<NaiveDate> {
            if self.lunar {
                let day = self.day.min(crate::lunar::month_days(y, self.month)?);
                crate::lunar::to_solar(crate::lunar::LunarDate {
                    year: y,
                    month: self.month,
                    day,
                    leap: false,
                })
            } else {
                NaiveDate::from_ymd_opt(y, self.month, self.day)
                    .or_else(|| NaiveDate::from_ymd_opt(y, self.month, self.day.saturating_sub(1)))
            }
        };
        let year = if self.lunar {
            crate::lunar::to_lunar(from)?.year
        } else {
            from.year()
        };
        (year..=year + 1).filter_map(on).find(|d| *d >= from)
    }

    /// How many years a celebration on `on` marks (the age turned, the years married), when
    /// the year is known: counted in lunar years for a lunar date.
    pub fn years_at(&self, on: NaiveDate) -> Option<i32> {
        let year = self.year?;
        let then = if self.lunar {
            crate::lunar::to_lunar(on)?.year
        } else {
            on.year()
        };
        Some(then - year).filter(|n| *n > 0)
    }

    /// Storage form: ISO `YYYY-MM-DD`, or `--MM-DD` when the year is unknown (ISO 8601).
    pub fn to_storage(&self) -> String {
        match self.year {
            Some(y) => format!("{y:04}-{:02}-{:02}", self.month, self.day),
            None => format!("--{:02}-{:02}", self.month, self.day),
        }
    }

    /// Parses the storage form back.
    pub fn from_storage(s: &str, lunar: bool) -> Option<Self> {
        let (year, rest) = match s.strip_prefix("--") {
            Some(rest) => (None, rest),
            None => {
                let (y, rest) = s.split_once('-')?;
                (Some(y.parse().ok()?), rest)
            }
        };
        let (m, d) = rest.split_once('-')?;
        Some(Self {
            year,
            month: m.parse().ok()?,
            day: d.parse().ok()?,
            lunar,
        })
    }
}

/// One school or degree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EducationEntry {
    /// School or university.
    pub school: String,
    /// Degree (本科, MBA …).
    #[serde(default)]
    pub degree: Option<String>,
    /// Major / field.
    #[serde(default)]
    pub major: Option<String>,
    /// Year started.
    #[serde(default)]
    pub from_year: Option<i32>,
    /// Year finished.
    #[serde(default)]
    pub to_year: Option<i32>,
}

/// One position held.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CareerEntry {
    /// Employer name.
    pub employer: String,
    /// Job title.
    #[serde(default)]
    pub title: Option<String>,
    /// Year started.
    #[serde(default)]
    pub from_year: Option<i32>,
    /// Year left; absent while current.
    #[serde(default)]
    pub to_year: Option<i32>,
}

/// A child of the customer, for birthday care and family offers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Child {
    /// Name or nickname.
    pub name: String,
    /// Gender.
    #[serde(default)]
    pub gender: Option<Gender>,
    /// Birthday.
    #[serde(default)]
    pub birthday: Option<Anniversary>,
}

/// Family: spouse, children, wedding anniversary.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Family {
    /// single, married, divorced, widowed — free text on purpose: cultures differ.
    #[serde(default)]
    pub marital_status: Option<String>,
    /// Spouse's name (link the spouse as a relation when they are a customer too).
    #[serde(default)]
    pub spouse_name: Option<String>,
    /// Spouse's birthday.
    #[serde(default)]
    pub spouse_birthday: Option<Anniversary>,
    /// Wedding anniversary.
    #[serde(default)]
    pub wedding_anniversary: Option<Anniversary>,
    /// Children.
    #[serde(default)]
    pub children: Vec<Child>,
}

/// Lifestyle and preferences: what a good hotel knows about a regular guest.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Lifestyle {
    /// Food preferences and restrictions.
    #[serde(default)]
    pub food: Vec<String>,
    /// Drinks ("carrot juice, no ice").
    #[serde(default)]
    pub drinks: Vec<String>,
    /// Hobbies.
    #[serde(default)]
    pub hobbies: Vec<String>,
    /// Favourite colour.
    #[serde(default)]
    pub favourite_colour: Option<String>,
    /// Room preference (floor, view, quiet side …).
    #[serde(default)]
    pub room_preference: Option<String>,
    /// Preferred temperature / climate.
    #[serde(default)]
    pub temperature_preference: Option<String>,
    /// Anything else worth remembering.
    #[serde(default)]
    pub notes: Option<String>,
}

/// Personality as the relationship owner sees it; guides how to approach the customer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Personality {
    /// Traits ("decisive", "detail-oriented").
    #[serde(default)]
    pub traits: Vec<String>,
    /// Preferred communication style ("WeChat voice, not calls").
    #[serde(default)]
    pub communication_style: Option<String>,
    /// Free notes.
    #[serde(default)]
    pub notes: Option<String>,
}

/// Extended profile of an individual. Every section optional; each may record its provenance.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IndividualProfile {
    /// Schools and degrees.
    #[serde(default)]
    pub education: Vec<EducationEntry>,
    /// Positions held (the current employer/title live on the customer itself).
    #[serde(default)]
    pub career: Vec<CareerEntry>,
    /// Family and anniversaries.
    #[serde(default)]
    pub family: Option<Family>,
    /// Lifestyle and preferences.
    #[serde(default)]
    pub lifestyle: Option<Lifestyle>,
    /// Personality.
    #[serde(default)]
    pub personality: Option<Personality>,
    /// Provenance per section name (`education`, `career`, `family`, `lifestyle`, `personality`).
    #[serde(default)]
    pub sources: std::collections::BTreeMap<String, Provenance>,
}

/// One credit incident (late payment, default, legal dispute).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreditIncident {
    /// When it happened.
    pub date: NaiveDate,
    /// What happened.
    pub description: String,
    /// Amount involved, minor units.
    #[serde(default)]
    pub amount_minor: Option<i64>,
}

/// Extended profile of a company.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompanyProfile {
    /// Date founded.
    #[serde(default)]
    pub founded: Option<NaiveDate>,
    /// Legal form (有限责任公司, LLC, GmbH …).
    #[serde(default)]
    pub legal_form: Option<String>,
    /// Size band.
    #[serde(default)]
    pub size: Option<CompanySize>,
    /// Number of employees.
    #[serde(default)]
    pub employees: Option<i64>,
    /// Total assets in minor units.
    #[serde(default)]
    pub assets_minor: Option<i64>,
    /// Currency of money amounts (ISO 4217).
    #[serde(default)]
    pub currency: Option<String>,
    /// Where the company serves customers.
    #[serde(default)]
    pub service_area: Option<String>,
    /// Traits (family-owned, state-owned, export-oriented …).
    #[serde(default)]
    pub traits: Vec<String>,
    /// Business status.
    #[serde(default)]
    pub business_status: Option<BusinessStatus>,
    /// Credit status.
    #[serde(default)]
    pub credit_status: Option<CreditStatus>,
    /// Credit incidents.
    #[serde(default)]
    pub credit_incidents: Vec<CreditIncident>,
    /// Payment terms in days (30 = net 30).
    #[serde(default)]
    pub payment_terms_days: Option<i64>,
    /// Website.
    #[serde(default)]
    pub website: Option<String>,
    /// Provenance per section (`basics`, `credit`, `business`).
    #[serde(default)]
    pub sources: std::collections::BTreeMap<String, Provenance>,
}

/// Checks an optional free-text field's length and characters.
pub fn check_text(errs: &mut ValidationErrors, field: &str, v: Option<&str>, max: usize) {
    if let Some(v) = v {
        if v.chars().count() > max {
            errs.push(field, "too_long");
        } else if v.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
            errs.push(field, "invalid_characters");
        }
    }
}

/// A name a form requires: trimmed, not empty, within `max` characters.
pub fn required_text<'a>(
    errs: &mut ValidationErrors,
    field: &str,
    v: &'a str,
    max: usize,
) -> &'a str {
    let v = v.trim();
    if v.is_empty() {
        errs.push(field, "required");
    }
    check_text(errs, field, Some(v), max);
    v
}

/// An optional text: trimmed, empty as none, within `max` characters.
pub fn optional_text<'a>(
    errs: &mut ValidationErrors,
    field: &str,
    v: Option<&'a str>,
    max: usize,
) -> Option<&'a str> {
    let v = v.map(str::trim).filter(|x| !x.is_empty());
    check_text(errs, field, v, max);
    v
}

fn check_list(errs: &mut ValidationErrors, field: &str, v: &[String]) {
    if v.len() > MAX_ITEMS {
        errs.push(field, "too_many");
    }
    for (i, s) in v.iter().enumerate() {
        check_text(errs, &format!("{field}[{i}]"), Some(s), MAX_TEXT);
        if s.trim().is_empty() {
            errs.push(format!("{field}[{i}]"), "required");
        }
    }
}

fn check_year(errs: &mut ValidationErrors, field: &str, y: Option<i32>) {
    if let Some(y) = y {
        if !(1900..=2100).contains(&y) {
            errs.push(field, "out_of_range");
        }
    }
}

fn check_anniversary(
    errs: &mut ValidationErrors,
    field: &str,
    a: Option<&Anniversary>,
    today: NaiveDate,
) {
    if let Some(a) = a {
        errs.field(field, a.validate(today));
    }
}

fn check_sources(
    errs: &mut ValidationErrors,
    sources: &std::collections::BTreeMap<String, Provenance>,
    allowed: &[&str],
) {
    for k in sources.keys() {
        if !allowed.contains(&k.as_str()) {
            errs.push(format!("sources.{k}"), "unknown_section");
        }
    }
}

impl IndividualProfile {
    /// Validates every section; field paths are relative to the profile.
    pub fn validate(&self, today: NaiveDate) -> Result<(), ValidationErrors> {
        let mut e = ValidationErrors::new();
        if self.education.len() > MAX_ITEMS {
            e.push("education", "too_many");
        }
        for (i, ed) in self.education.iter().enumerate() {
            let f = format!("education[{i}]");
            if ed.school.trim().is_empty() {
                e.push(format!("{f}.school"), "required");
            }
            check_text(&mut e, &format!("{f}.school"), Some(&ed.school), MAX_TEXT);
            check_text(
                &mut e,
                &format!("{f}.degree"),
                ed.degree.as_deref(),
                MAX_TEXT,
            );
            check_text(&mut e, &format!("{f}.major"), ed.major.as_deref(), MAX_TEXT);
            check_year(&mut e, &format!("{f}.from_year"), ed.from_year);
            check_year(&mut e, &format!("{f}.to_year"), ed.to_year);
            if let (Some(a), Some(b)) = (ed.from_year, ed.to_year) {
                if b < a {
                    e.push(format!("{f}.to_year"), "before_start");
                }
            }
        }
        if self.career.len() > MAX_ITEMS {
            e.push("career", "too_many");
        }
        for (i, c) in self.career.iter().enumerate() {
            let f = format!("career[{i}]");
            if c.employer.trim().is_empty() {
                e.push(format!("{f}.employer"), "required");
            }
            check_text(
                &mut e,
                &format!("{f}.employer"),
                Some(&c.employer),
                MAX_TEXT,
            );
            check_text(&mut e, &format!("{f}.title"), c.title.as_deref(), MAX_TEXT);
            check_year(&mut e, &format!("{f}.from_year"), c.from_year);
            check_year(&mut e, &format!("{f}.to_year"), c.to_year);
            if let (Some(a), Some(b)) = (c.from_year, c.to_year) {
                if b < a {
                    e.push(format!("{f}.to_year"), "before_start");
                }
            }
        }
        if let Some(fam) = &self.family {
            check_text(
                &mut e,
                "family.marital_status",
                fam.marital_status.as_deref(),
                50,
            );
            check_text(
                &mut e,
                "family.spouse_name",
                fam.spouse_name.as_deref(),
                200,
            );
            check_anniversary(
                &mut e,
                "family.spouse_birthday",
                fam.spouse_birthday.as_ref(),
                today,
            );
            check_anniversary(
                &mut e,
                "family.wedding_anniversary",
                fam.wedding_anniversary.as_ref(),
                today,
            );
            if fam.children.len() > MAX_ITEMS {
                e.push("family.children", "too_many");
            }
            for (i, c) in fam.children.iter().enumerate() {
                let f = format!("family.children[{i}]");
                if c.name.trim().is_empty() {
                    e.push(format!("{f}.name"), "required");
                }
                check_text(&mut e, &format!("{f}.name"), Some(&c.name), 200);
                check_anniversary(&mut e, &format!("{f}.birthday"), c.birthday.as_ref(), today);
            }
        }
        if let Some(l) = &self.lifestyle {
            check_list(&mut e, "lifestyle.food", &l.food);
            check_list(&mut e, "lifestyle.drinks", &l.drinks);
            check_list(&mut e, "lifestyle.hobbies", &l.hobbies);
            check_text(
                &mut e,
                "lifestyle.favourite_colour",
                l.favourite_colour.as_deref(),
                100,
            );
            check_text(
                &mut e,
                "lifestyle.room_preference",
                l.room_preference.as_deref(),
                MAX_TEXT,
            );
            check_text(
                &mut e,
                "lifestyle.temperature_preference",
                l.temperature_preference.as_deref(),
                MAX_TEXT,
            );
            check_text(&mut e, "lifestyle.notes", l.notes.as_deref(), 4000);
        }
        if let Some(p) = &self.personality {
            check_list(&mut e, "personality.traits", &p.traits);
            check_text(
                &mut e,
                "personality.communication_style",
                p.communication_style.as_deref(),
                MAX_TEXT,
            );
            check_text(&mut e, "personality.notes", p.notes.as_deref(), 4000);
        }
        check_sources(
            &mut e,
            &self.sources,
            &["education", "career", "family", "lifestyle", "personality"],
        );
        e.finish(|| ())
    }
}

impl CompanyProfile {
    /// Validates the company sections; field paths are relative to the profile.
    pub fn validate(&self, today: NaiveDate) -> Result<(), ValidationErrors> {
        let mut e = ValidationErrors::new();
        if self.founded.is_some_and(|d| d > today) {
            e.push("founded", "in_future");
        }
        check_text(&mut e, "legal_form", self.legal_form.as_deref(), 100);
        check_text(
            &mut e,
            "service_area",
            self.service_area.as_deref(),
            MAX_TEXT,
        );
        check_text(&mut e, "website", self.website.as_deref(), 300);
        check_list(&mut e, "traits", &self.traits);
        if self.employees.is_some_and(|n| n < 0) {
            e.push("employees", "negative");
        }
        if self.assets_minor.is_some_and(|n| n < 0) {
            e.push("assets_minor", "negative");
        }
        if self
            .payment_terms_days
            .is_some_and(|n| !(0..=365).contains(&n))
        {
            e.push("payment_terms_days", "out_of_range");
        }
        if let Some(c) = &self.currency {
            e.field("currency", crate::order::check_currency(c));
        }
        if self.credit_incidents.len() > MAX_ITEMS {
            e.push("credit_incidents", "too_many");
        }
        for (i, inc) in self.credit_incidents.iter().enumerate() {
            let f = format!("credit_incidents[{i}]");
            if inc.date > today {
                e.push(format!("{f}.date"), "in_future");
            }
            if inc.description.trim().is_empty() {
                e.push(format!("{f}.description"), "required");
            }
            check_text(
                &mut e,
                &format!("{f}.description"),
                Some(&inc.description),
                MAX_TEXT,
            );
        }
        check_sources(&mut e, &self.sources, &["basics", "business", "credit"]);
        e.finish(|| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 22).unwrap()
    }

    #[test]
    fn anniversary_storage_round_trips() {
        for a in [
            Anniversary {
                year: Some(1988),
                month: 2,
                day: 29,
                lunar: false,
            },
            Anniversary {
                year: None,
                month: 8,
                day: 8,
                lunar: true,
            },
        ] {
            assert_eq!(Anniversary::from_storage(&a.to_storage(), a.lunar), Some(a));
        }
    }

    #[test]
    fn next_occurrence_in_either_calendar() {
        let d = |y, m, dd| NaiveDate::from_ymd_opt(y, m, dd).unwrap();
        let solar = |month, day| Anniversary {
            year: None,
            month,
            day,
            lunar: false,
        };
        let lunar = |month, day| Anniversary {
            year: Some(1985),
            month,
            day,
            lunar: true,
        };
        assert_eq!(
            solar(12, 1).next_occurrence(d(2026, 12, 1)),
            Some(d(2026, 12, 1))
        );
        assert_eq!(
            solar(11, 30).next_occurrence(d(2026, 12, 1)),
            Some(d(2027, 11, 30))
        );
        assert_eq!(
            solar(2, 29).next_occurrence(d(2027, 1, 1)),
            Some(d(2027, 2, 28))
        );
        // 中秋 (8/15) 2026 was 25 September; from 1 December the next one is in 2027.
        assert_eq!(
            lunar(8, 15).next_occurrence(d(2026, 9, 25)),
            Some(d(2026, 9, 25))
        );
        assert_eq!(
            lunar(8, 15).next_occurrence(d(2026, 12, 1)),
            Some(d(2027, 9, 15))
        );
        // Lunar 12/30 in a year whose twelfth month has 29 days: 除夕 2027-02-05.
        assert_eq!(
            lunar(12, 30).next_occurrence(d(2027, 1, 1)),
            Some(d(2027, 2, 5))
        );
        // A sixth-month birthday in 2025 (leap sixth month): the regular month, 2025-06-25.
        assert_eq!(
            lunar(6, 1).next_occurrence(d(2025, 6, 1)),
            Some(d(2025, 6, 25))
        );
    }

    #[test]
    fn lunar_thirtieth_is_fine_but_solar_thirtieth_of_february_is_not() {
        let lunar = Anniversary {
            year: Some(1990),
            month: 2,
            day: 30,
            lunar: true,
        };
        assert!(lunar.validate(today()).is_ok());
        let solar = Anniversary {
            lunar: false,
            ..lunar
        };
        assert_eq!(solar.validate(today()), Err("invalid_date"));
    }

    #[test]
    fn profile_errors_name_the_field() {
        let p = IndividualProfile {
            career: vec![CareerEntry {
                employer: " ".into(),
                title: None,
                from_year: Some(2010),
                to_year: Some(2001),
            }],
            ..Default::default()
        };
        let errs = p.validate(today()).unwrap_err();
        let fields: Vec<_> = errs.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["career[0].employer", "career[0].to_year"]);
    }
}
