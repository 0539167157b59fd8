//! The cost report, for finance: what each team's seats cost per month and per year, spend on
//! inactive and viewer seats, and the saving if the findings that free a seat were acted on.
//! The figures come from [`crate::analyze::cost`]; this is how the reader sees them, each amount
//! also as display text so templates do no arithmetic.
use std::collections::BTreeMap;

use serde::Serialize;

use crate::analyze::cost::{EnterpriseSeats, LicenceUse, ReasonSaving, SeatCost, TeamSeats};
use crate::analyze::money;

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct TeamCost {
    pub team: String,
    pub enterprise_account: String,
    /// Set when the team's members were not read: its counts are unknown, shown as "not read",
    /// and left out of every total.
    pub not_read: Option<String>,
    pub admins: u32,
    pub members: u32,
    pub viewers: u32,
    pub collaborators: u32,
    pub seats: u32,
    /// Seats billed: at least the configured minimum per team (Teams pricing).
    pub billed_seats: u32,
    pub monthly_cents: i64,
    pub annual_cents: i64,
    /// Of the monthly bill, what the billed minimum adds over the seats held.
    pub minimum_cents: i64,
    /// Seats the findings would free (`frees-seat: true`), each once.
    pub freed_seats: u32,
    /// Seats a finding says are unused (`saving-reason: inactive`), whatever else frees them.
    pub inactive_seats: u32,
    pub inactive_cents: i64,
    pub viewer_cents: i64,
    /// What acting on every finding that frees a seat (`frees-seat: true`) would save per month,
    /// minimum applied.
    pub saving_cents: i64,
    /// Priced through the Enterprise contract instead of per team.
    pub enterprise_priced: bool,
    pub monthly: String,
    pub annual: String,
    pub inactive: String,
    pub viewer: String,
    pub saving: String,
    pub role_cents: BTreeMap<String, i64>,
    pub saving_by_reason: BTreeMap<String, i64>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct EnterpriseCost {
    pub enterprise_account: String,
    /// Set when a team of the account was not read: its unique users are a lower bound, so the
    /// account is left out of the totals.
    pub not_read: Option<String>,
    pub unique_users: u32,
    /// The account's own member list, beside the people holding its team seats.
    pub account_members: u32,
    pub price: String,
    pub monthly_cents: i64,
    pub monthly: String,
    pub inactive_users: u32,
    pub saving_cents: i64,
    pub saving: String,
}

/// Contract licences bought against licences used.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct LicenceCost {
    pub purchased: u32,
    pub used: u32,
    pub unused: u32,
    pub over_used: u32,
    pub price_per_year: String,
    pub annual: String,
    pub monthly_cents: i64,
    pub monthly: String,
    pub freed: u32,
    pub saving_cents: i64,
    pub saving: String,
    pub not_read: Option<String>,
}

/// One reason's share of the saving.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ReasonCost {
    pub reason: String,
    pub seats: u32,
    pub cents: i64,
    pub monthly: String,
    pub annual: String,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct CostReport {
    /// The pricing model used, as the report names it, and where it is described.
    pub model: String,
    pub model_source: String,
    /// The pricing assumptions, one sentence.
    pub assumptions: String,
    pub licences: Option<LicenceCost>,
    pub freed_seats: u32,
    pub saving_by_reason: Vec<ReasonCost>,
    /// Teams and accounts left out of the totals because they were not read, by name.
    pub excluded: Vec<String>,
    /// `excluding acme-payments (not read)`, said beside every total; empty when nothing is excluded.
    pub excluded_note: String,
    pub price_per_seat_cents: i64,
    pub price_per_seat: String,
    pub minimum_per_team: u32,
    pub teams: Vec<TeamCost>,
    pub enterprise: Vec<EnterpriseCost>,
    pub seats: u32,
    pub billed_seats: u32,
    pub monthly_cents: i64,
    pub annual_cents: i64,
    pub inactive_cents: i64,
    pub viewer_cents: i64,
    pub saving_cents: i64,
    pub monthly: String,
    pub annual: String,
    pub inactive: String,
    pub viewer: String,
    pub saving: String,
    pub annual_saving: String,
}

impl TeamCost {
    fn of(t: &TeamSeats) -> TeamCost {
        TeamCost {
            team: t.team.clone(),
            enterprise_account: t.enterprise_account.clone(),
            not_read: t.not_read.clone(),
            admins: t.admins,
            members: t.members,
            viewers: t.viewers,
            collaborators: t.collaborators,
            seats: t.seats,
            billed_seats: t.billed_seats,
            monthly_cents: t.monthly_cents,
            annual_cents: t.monthly_cents * 12,
            minimum_cents: t.minimum_cents,
            freed_seats: t.freed_seats,
            inactive_seats: t.inactive_seats,
            inactive_cents: t.inactive_cents,
            viewer_cents: t.viewer_cents,
            saving_cents: t.saving_cents,
            enterprise_priced: t.enterprise_priced,
            monthly: money(t.monthly_cents),
            annual: money(t.monthly_cents * 12),
            inactive: money(t.inactive_cents),
            viewer: money(t.viewer_cents),
            saving: money(t.saving_cents),
            role_cents: t.role_cents.clone(),
            saving_by_reason: t.saving_by_reason.clone(),
        }
    }
}

impl EnterpriseCost {
    fn of(e: &EnterpriseSeats) -> EnterpriseCost {
        EnterpriseCost {
            enterprise_account: e.enterprise_account.clone(),
            not_read: e.not_read.clone(),
            unique_users: e.unique_users,
            account_members: e.account_members,
            price: money(e.price_cents),
            monthly_cents: e.monthly_cents,
            monthly: money(e.monthly_cents),
            inactive_users: e.inactive_users,
            saving_cents: e.saving_cents,
            saving: money(e.saving_cents),
        }
    }
}

impl CostReport {
    pub fn of(c: &SeatCost) -> CostReport {
        CostReport {
            model: c.model.clone(),
            model_source: c.model_source.clone(),
            assumptions: c.assumptions.clone(),
            licences: c.licences.as_ref().map(LicenceCost::of),
            freed_seats: c.freed_seats,
            saving_by_reason: c.saving_by_reason.iter().map(ReasonCost::of).collect(),
            excluded: c.excluded.clone(),
            excluded_note: c.excluded_note.clone(),
            price_per_seat_cents: c.price_per_seat_cents,
            price_per_seat: money(c.price_per_seat_cents),
            minimum_per_team: c.minimum_per_team,
            teams: c.teams.iter().map(TeamCost::of).collect(),
            enterprise: c.enterprise.iter().map(EnterpriseCost::of).collect(),
            seats: c.seats,
            billed_seats: c.billed_seats,
            monthly_cents: c.monthly_cents,
            annual_cents: c.monthly_cents * 12,
            inactive_cents: c.inactive_cents,
            viewer_cents: c.viewer_cents,
            saving_cents: c.saving_cents,
            monthly: money(c.monthly_cents),
            annual: money(c.monthly_cents * 12),
            inactive: money(c.inactive_cents),
            viewer: money(c.viewer_cents),
            saving: money(c.saving_cents),
            annual_saving: money(c.saving_cents * 12),
        }
    }
}

impl LicenceCost {
    fn of(l: &LicenceUse) -> LicenceCost {
        LicenceCost {
            purchased: l.purchased,
            used: l.used,
            unused: l.unused,
            over_used: l.over_used,
            price_per_year: money(l.price_per_year_cents),
            annual: money(l.annual_cents),
            monthly_cents: l.monthly_cents,
            monthly: money(l.monthly_cents),
            freed: l.freed,
            saving_cents: l.saving_cents,
            saving: money(l.saving_cents),
            not_read: l.not_read.clone(),
        }
    }
}

impl ReasonCost {
    fn of(r: &ReasonSaving) -> ReasonCost {
        ReasonCost {
            reason: r.reason.clone(),
            seats: r.seats,
            cents: r.cents,
            monthly: money(r.cents),
            annual: money(r.cents * 12),
        }
    }
}
