//! The ticket life cycle and the complaint procedure as rules, so the store, the API and the
//! page refuse the same moves with the same codes.
//!
//! Status: new → open → pending-customer / pending-internal → resolved → closed. A customer
//! reply reopens a resolved ticket, and a closed one within the reopen window; after that the
//! reply belongs on a new ticket linked to the old one, so first-contact resolution and
//! resolution times are not rewritten months later (frappe/helpdesk #3465).
//!
//! Complaints follow the seed's steps on top of the status: acknowledge, investigate, propose a
//! remedy, confirm with the customer, archive (投诉档案, done when the ticket closes).

use chrono::{DateTime, Duration, Utc};

use crate::error::ValidationErrors;
use crate::vocabulary;

vocabulary!(
    /// Where a ticket stands.
    TicketStatus {
        New => "new",
        Open => "open",
        /// Waiting for the customer: the SLA clock pauses.
        PendingCustomer => "pending_customer",
        /// Waiting for a colleague or another department: the clock runs.
        PendingInternal => "pending_internal",
        Resolved => "resolved",
        Closed => "closed",
    }
);

vocabulary!(
    /// The seed's complaint procedure, one step after the other.
    ComplaintStep {
        Received => "received",
        Acknowledged => "acknowledged",
        Investigating => "investigating",
        RemedyProposed => "remedy_proposed",
        Confirmed => "confirmed",
        Archived => "archived",
    }
);

impl TicketStatus {
    /// Whether work on the ticket is finished (resolved or closed).
    pub fn is_done(self) -> bool {
        matches!(self, TicketStatus::Resolved | TicketStatus::Closed)
    }

    /// The moves an agent may make from this status (reopening a closed ticket is further
    /// limited by [`may_reopen`]).
    pub fn next(self) -> &'static [TicketStatus] {
        use TicketStatus::*;
        match self {
            New => &[Open, PendingCustomer, PendingInternal, Resolved],
            Open => &[PendingCustomer, PendingInternal, Resolved],
            PendingCustomer => &[Open, PendingInternal, Resolved],
            PendingInternal => &[Open, PendingCustomer, Resolved],
            Resolved => &[Open, Closed],
            Closed => &[Open],
        }
    }
}

/// Whether a closed ticket may still be reopened: within `window_days` of closing.
pub fn may_reopen(closed_at: DateTime<Utc>, now: DateTime<Utc>, window_days: i64) -> bool {
    now - closed_at <= Duration::days(window_days)
}

/// What a status change must carry besides the target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusChange {
    /// The ticket's status now.
    pub from: TicketStatus,
    /// Where it goes.
    pub to: TicketStatus,
    /// When it was closed, if it is.
    pub closed_at: Option<DateTime<Utc>>,
    /// Whether a resolution code is set (on the ticket or in this change).
    pub has_resolution: bool,
    /// For complaints: the step reached (including this change).
    pub complaint_step: Option<ComplaintStep>,
    /// The shop's reopen window in days.
    pub reopen_days: i64,
}

/// Checks a status change; the error names the field the form shows it on.
pub fn check_status_change(c: &StatusChange, now: DateTime<Utc>) -> Result<(), ValidationErrors> {
    let mut e = ValidationErrors::new();
    if c.from == c.to || !c.from.next().contains(&c.to) {
        e.push("status", "transition_not_allowed");
    } else if c.from == TicketStatus::Closed
        && !c
            .closed_at
            .is_some_and(|at| may_reopen(at, now, c.reopen_days))
    {
        e.push("status", "reopen_window_passed");
    }
    if c.to == TicketStatus::Resolved && !c.has_resolution {
        e.push("resolution_code", "required");
    }
    if c.to == TicketStatus::Resolved
        && c.complaint_step
            .is_some_and(|s| s < ComplaintStep::RemedyProposed)
    {
        e.push("complaint_step", "remedy_required");
    }
    if e.is_empty() {
        Ok(())
    } else {
        Err(e)
    }
}

impl ComplaintStep {
    /// The steps an agent may record next: the following one, or back to investigating when the
    /// customer refuses the proposed remedy. Archiving happens by closing the ticket.
    pub fn next(self) -> &'static [ComplaintStep] {
        use ComplaintStep::*;
        match self {
            Received => &[Acknowledged],
            Acknowledged => &[Investigating],
            Investigating => &[RemedyProposed],
            RemedyProposed => &[Confirmed, Investigating],
            Confirmed | Archived => &[],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(from: TicketStatus, to: TicketStatus) -> StatusChange {
        StatusChange {
            from,
            to,
            closed_at: None,
            has_resolution: true,
            complaint_step: None,
            reopen_days: 7,
        }
    }

    #[test]
    fn the_life_cycle_allows_only_its_moves() {
        use TicketStatus::*;
        let now = Utc::now();
        assert!(check_status_change(&change(New, Open), now).is_ok());
        assert!(check_status_change(&change(Open, Resolved), now).is_ok());
        assert!(check_status_change(&change(Resolved, Closed), now).is_ok());
        for (from, to) in [
            (New, Closed),
            (Open, Closed),
            (Open, New),
            (Closed, Resolved),
            (Open, Open),
        ] {
            let e = check_status_change(&change(from, to), now).unwrap_err();
            assert_eq!(e.0[0].code, "transition_not_allowed", "{from} → {to}");
        }
    }

    #[test]
    fn resolving_needs_a_code_and_a_complaint_needs_a_remedy() {
        let now = Utc::now();
        let mut c = change(TicketStatus::Open, TicketStatus::Resolved);
        c.has_resolution = false;
        assert_eq!(
            check_status_change(&c, now).unwrap_err().0[0].field,
            "resolution_code"
        );
        c.has_resolution = true;
        c.complaint_step = Some(ComplaintStep::Investigating);
        assert_eq!(
            check_status_change(&c, now).unwrap_err().0[0].code,
            "remedy_required"
        );
        c.complaint_step = Some(ComplaintStep::Confirmed);
        assert!(check_status_change(&c, now).is_ok());
    }

    #[test]
    fn a_closed_ticket_reopens_only_within_the_window() {
        let now = Utc::now();
        let mut c = change(TicketStatus::Closed, TicketStatus::Open);
        c.closed_at = Some(now - Duration::days(3));
        assert!(check_status_change(&c, now).is_ok());
        c.closed_at = Some(now - Duration::days(8));
        assert_eq!(
            check_status_change(&c, now).unwrap_err().0[0].code,
            "reopen_window_passed"
        );
    }

    #[test]
    fn complaint_steps_go_forward_or_back_to_investigating() {
        use ComplaintStep::*;
        assert_eq!(Received.next(), &[Acknowledged]);
        assert!(RemedyProposed.next().contains(&Investigating));
        assert!(Confirmed.next().is_empty());
        assert!(Received < RemedyProposed && RemedyProposed < Archived);
    }
}
