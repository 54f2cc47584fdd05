//! Service-level targets: which policy a ticket falls under, and when each target is due.
//!
//! Due times are derived, never accumulated: a target's due time is computed from the ticket's
//! start, the policy's working minutes, the business calendar and the ticket's whole pause
//! history. Changing the policy or the calendar therefore recomputes the same answer from the
//! same facts and loses no accumulated pause (GLPI #15605, Zammad's admitted wrong statistics).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ticket::calendar::BusinessCalendar;
use crate::ticket::{Priority, TicketKind};

/// The conditions a policy applies under; an empty condition matches everything.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SlaConditions {
    /// Only this kind of ticket.
    pub kind: Option<TicketKind>,
    /// Only this category or one below it.
    pub category_id: Option<i64>,
    /// Only this priority.
    pub priority: Option<Priority>,
    /// Only customers of this value tier (`A`, `B`, `C` from the scores).
    pub tier: Option<String>,
}

/// What is known about a ticket when its policy is chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlaSubject<'a> {
    /// Kind.
    pub kind: TicketKind,
    /// The category and every category above it, nearest first.
    pub category_path: &'a [i64],
    /// Priority.
    pub priority: Priority,
    /// The customer's value tier, if scored.
    pub tier: Option<&'a str>,
}

impl SlaConditions {
    /// Whether a ticket falls under these conditions.
    pub fn matches(&self, t: &SlaSubject<'_>) -> bool {
        self.kind.is_none_or(|k| k == t.kind)
            && self
                .category_id
                .is_none_or(|c| t.category_path.contains(&c))
            && self.priority.is_none_or(|p| p == t.priority)
            && self.tier.as_deref().is_none_or(|tier| t.tier == Some(tier))
    }
}

/// The first policy, in the admin's order, whose conditions match: one predictable rule
/// (Zammad picks by name order, which nobody expects).
pub fn choose<'p, P>(
    policies: &'p [P],
    conditions: impl Fn(&P) -> &SlaConditions,
    t: &SlaSubject<'_>,
) -> Option<&'p P> {
    policies.iter().find(|p| conditions(p).matches(t))
}

/// A span of time the clock stood still (pending customer); `end` is `None` while it lasts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pause {
    /// When the ticket went to pending-customer.
    pub start: DateTime<Utc>,
    /// When it came back, if it has.
    pub end: Option<DateTime<Utc>>,
}

/// A target's due time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Due {
    /// Due at this instant.
    At(DateTime<Utc>),
    /// The clock is paused now, with this many working seconds left.
    Paused {
        /// Working seconds that remain of the target.
        remaining_seconds: i64,
    },
    /// The calendar has no working time to place it in.
    Never,
}

/// When `minutes` of working time, counted from `start` and not counting `pauses` (sorted by
/// start), run out. Pauses that begin after the target ran out do not move it: a breach stays
/// a breach.
pub fn due(cal: &BusinessCalendar, start: DateTime<Utc>, minutes: i64, pauses: &[Pause]) -> Due {
    let mut remaining = minutes.max(0) * 60;
    let mut cursor = start;
    for p in pauses {
        if p.end.is_some_and(|end| end <= cursor) {
            continue;
        }
        let pause_start = p.start.max(cursor);
        let worked = cal.working_seconds_between(cursor, pause_start);
        if worked >= remaining {
            break;
        }
        remaining -= worked;
        match p.end {
            Some(end) => cursor = end,
            None => {
                return Due::Paused {
                    remaining_seconds: remaining,
                }
            }
        }
    }
    let whole = remaining / 60;
    let Some(at) = cal.add_working_minutes(cursor, whole) else {
        return Due::Never;
    };
    let at = at + chrono::Duration::seconds(remaining % 60);
    Due::At(at)
}

/// Working seconds a target has used between `start` and `now`, pauses not counted: the
/// figure reports use for "resolved in N working hours".
pub fn working_seconds_used(
    cal: &BusinessCalendar,
    start: DateTime<Utc>,
    now: DateTime<Utc>,
    pauses: &[Pause],
) -> i64 {
    let mut total = cal.working_seconds_between(start, now);
    for p in pauses {
        let from = p.start.max(start);
        let to = p.end.unwrap_or(now).min(now);
        total -= cal.working_seconds_between(from, to);
    }
    total.max(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ticket::calendar::DayRule;
    use chrono::NaiveDate;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn policies_match_in_order_and_by_category_subtree() {
        let vip = SlaConditions {
            tier: Some("A".into()),
            ..Default::default()
        };
        let complaints = SlaConditions {
            kind: Some(TicketKind::Complaint),
            category_id: Some(10),
            ..Default::default()
        };
        let all = SlaConditions::default();
        let policies = [("vip", vip), ("complaint", complaints), ("default", all)];
        let subject = |tier, path: &'static [i64]| SlaSubject {
            kind: TicketKind::Complaint,
            category_path: path,
            priority: Priority::Normal,
            tier,
        };
        let pick = |t: &SlaSubject<'_>| choose(&policies, |p| &p.1, t).map(|p| p.0);
        assert_eq!(pick(&subject(Some("A"), &[11, 10])), Some("vip"));
        assert_eq!(pick(&subject(Some("B"), &[11, 10])), Some("complaint"));
        assert_eq!(pick(&subject(None, &[12])), Some("default"));
    }

    #[test]
    fn a_pause_moves_the_due_time_by_its_working_time_only() {
        let cal = BusinessCalendar::china_office();
        let start = at("2026-03-02T09:00:00+08:00");
        // 8 working hours from Monday 9:00 → Monday 18:00.
        assert_eq!(
            due(&cal, start, 480, &[]),
            Due::At(at("2026-03-02T18:00:00+08:00"))
        );
        // Paused 10:00–11:00 and again over the night (no working time lost) → 19:00 is not
        // working time, so Tuesday 10:00.
        let pauses = [
            Pause {
                start: at("2026-03-02T10:00:00+08:00"),
                end: Some(at("2026-03-02T11:00:00+08:00")),
            },
            Pause {
                start: at("2026-03-02T20:00:00+08:00"),
                end: Some(at("2026-03-03T08:00:00+08:00")),
            },
        ];
        assert_eq!(
            due(&cal, start, 480, &pauses),
            Due::At(at("2026-03-03T10:00:00+08:00"))
        );
        // An open pause stops the clock with what is left.
        let open = [Pause {
            start: at("2026-03-02T10:00:00+08:00"),
            end: None,
        }];
        assert_eq!(
            due(&cal, start, 480, &open),
            Due::Paused {
                remaining_seconds: 7 * 3600
            }
        );
        assert_eq!(
            working_seconds_used(&cal, start, at("2026-03-02T12:00:00+08:00"), &open),
            3600
        );
    }

    #[test]
    fn a_pause_after_the_breach_does_not_undo_it() {
        let cal = BusinessCalendar::china_office();
        let start = at("2026-03-02T09:00:00+08:00");
        let late = [Pause {
            start: at("2026-03-02T11:00:00+08:00"),
            end: None,
        }];
        assert_eq!(
            due(&cal, start, 60, &late),
            Due::At(at("2026-03-02T10:00:00+08:00"))
        );
    }

    #[test]
    fn golden_week_with_its_make_up_saturday() {
        let mut cal = BusinessCalendar::china_office();
        cal.days.extend(crate::ticket::holidays::china_days());
        // A complaint on Sunday 28 September 2025 at 16:00: a make-up working day. 4 working
        // hours: 16–18 that day, then Monday 29th 9–11.
        let start = at("2025-09-28T16:00:00+08:00");
        assert!(cal.is_working_day(NaiveDate::from_ymd_opt(2025, 9, 28).unwrap()));
        assert_eq!(
            due(&cal, start, 240, &[]),
            Due::At(at("2025-09-29T11:00:00+08:00"))
        );
        // Tuesday 30 September 17:00 + 2 h: 1 h, then 1–8 October off, Thursday 9th 10:00.
        let start = at("2025-09-30T17:00:00+08:00");
        assert_eq!(
            due(&cal, start, 120, &[]),
            Due::At(at("2025-10-09T10:00:00+08:00"))
        );
        assert_eq!(
            cal.days
                .get(&NaiveDate::from_ymd_opt(2025, 10, 11).unwrap()),
            Some(&DayRule::Workday)
        );
    }
}
