//! What the seats of a snapshot cost, in integer cents, under the pricing model `hkaudit.toml`
//! picks (docs/pricing.md): seats per team by role (per seat with a billed minimum, free up to N
//! members, or no seat charge), or per person across an Enterprise Account's teams (a price per
//! unique user, or contract licences bought against licences used); spend on inactive and viewer
//! seats; what each finding's person's seats cost; and the saving if every finding of a rule with
//! `frees-seat: true` were acted on, each seat counted once and broken down by the rule's
//! `saving-reason`. One computation for the cost report, the trends across snapshots and `diff`.
//!
//! A team whose members were not read has no counts: it is named in `excluded` and left out of
//! every total, never counted as zero.
use std::collections::{BTreeMap, BTreeSet};

use super::config::{Licences, PricingModel};
use super::{money, AnalyzeError, Config, Finding, SavingReason};
use crate::snapshot::email_norm as norm;
use crate::snapshot::grants::Unread;
use crate::snapshot::rows::Rows;
use crate::snapshot::{Snapshot, SnapshotError};

/// Team roles, each a seat, in the order the cost report shows them.
pub const ROLES: [&str; 4] = ["admin", "member", "viewer", "collaborator"];

/// One team membership, as the snapshot holds it.
#[derive(Debug, Clone)]
pub struct Member {
    pub team_id: String,
    pub team: String,
    pub email: String,
    pub role: String,
}

/// Team seats as the snapshot holds them.
#[derive(Debug, Clone)]
pub struct Seats {
    pub members: Vec<Member>,
    pub team_ids: Vec<String>,
    pub team_names: Vec<String>,
    /// Team id → its Enterprise Account's name (empty for a team outside one).
    pub team_ea: BTreeMap<String, String>,
    /// Enterprise Account name → how many people its member list holds (by email).
    pub ea_members: BTreeMap<String, u32>,
}

impl Seats {
    pub fn read(snapshot: &Snapshot) -> Result<Seats, SnapshotError> {
        let teams = Rows::new("teams", snapshot.read("teams")?);
        let team_names = teams.string("name")?;
        let team_ids = teams.string("id")?;
        let team_ea: BTreeMap<String, String> = team_ids
            .iter()
            .cloned()
            .zip(teams.str("enterprise_account_name")?.into_iter().map(Option::unwrap_or_default))
            .collect();
        let tm = Rows::new("team_members", snapshot.read("team_members")?);
        let (tid, tname, email, role) =
            (tm.string("team_id")?, tm.string("team_name")?, tm.string("email")?, tm.string("role")?);
        let members = (0..tm.len())
            .map(|i| Member {
                team_id: tid[i].clone(),
                team: tname[i].clone(),
                email: email[i].clone(),
                role: role[i].clone(),
            })
            .collect();
        let em = Rows::new("enterprise_members", snapshot.read("enterprise_members")?);
        let mut by_ea: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (ea, e) in em.string("enterprise_account_name")?.into_iter().zip(em.string("email")?) {
            by_ea.entry(ea).or_default().insert(norm(&e));
        }
        let ea_members = by_ea.into_iter().map(|(ea, people)| (ea, people.len() as u32)).collect();
        Ok(Seats { members, team_ids, team_names, team_ea, ea_members })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeamSeats {
    pub team: String,
    pub enterprise_account: String,
    /// Set when the team's members were not read: its counts are unknown and left out of every
    /// total.
    pub not_read: Option<String>,
    pub admins: u32,
    pub members: u32,
    pub viewers: u32,
    pub collaborators: u32,
    /// Seats held: admins, members and viewers, and collaborators when the model bills them.
    pub seats: u32,
    /// Seats billed under the model (at least the minimum, per seat; none for a free team).
    pub billed_seats: u32,
    pub monthly_cents: i64,
    /// Of `monthly_cents`, what the billed minimum adds over the seats held.
    pub minimum_cents: i64,
    /// Seats that acting on the findings would free (`frees-seat: true`), each once.
    pub freed_seats: u32,
    /// Seats a finding says are unused (`saving-reason: inactive`), whatever else frees them.
    pub inactive_seats: u32,
    pub inactive_cents: i64,
    pub viewer_cents: i64,
    /// What freeing those seats would save per month, minimum applied.
    pub saving_cents: i64,
    /// The saving by reason (`left`, `deprovisioned`, `inactive`, `other`), adding up to it.
    pub saving_by_reason: BTreeMap<String, i64>,
    /// Priced through the Enterprise contract instead of per team.
    pub enterprise_priced: bool,
    /// What each role's seats cost per month; with `minimum_cents` they add up to the bill.
    pub role_cents: BTreeMap<String, i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnterpriseSeats {
    pub enterprise_account: String,
    /// Set when a team of the account was not read: its unique users are a lower bound, so the
    /// account is left out of the totals.
    pub not_read: Option<String>,
    /// Unique people holding a seat in any of the account's teams (what the contract counts).
    pub unique_users: u32,
    /// People on the account's own member list, beside it: they differ by those with no team
    /// seat and those still in its teams after leaving the account.
    pub account_members: u32,
    pub price_cents: i64,
    pub monthly_cents: i64,
    /// People every one of whose seats in the account would be freed.
    pub inactive_users: u32,
    pub saving_cents: i64,
}

/// Contract licences against the people holding a seat in any Enterprise Account team.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LicenceUse {
    pub purchased: u32,
    /// Unique people holding a seat in the accounts' teams.
    pub used: u32,
    pub unused: u32,
    pub over_used: u32,
    pub price_per_year_cents: i64,
    pub annual_cents: i64,
    pub monthly_cents: i64,
    /// People every one of whose seats would be freed: licences not needed at renewal.
    pub freed: u32,
    pub saving_cents: i64,
    /// Set when a team of an account was not read: `used` is a lower bound.
    pub not_read: Option<String>,
}

/// The saving for one reason, each seat counted once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReasonSaving {
    /// `left`, `deprovisioned`, `inactive`, or `other` for a rule without `saving-reason`.
    pub reason: String,
    pub seats: u32,
    pub cents: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeatCost {
    /// Teams and accounts left out of the totals because they were not read, by name.
    pub excluded: Vec<String>,
    /// `excluding acme-payments (not read)`, said beside every total; empty when nothing is excluded.
    pub excluded_note: String,
    /// The pricing model, as the report names it, and where it comes from (docs/pricing.md).
    pub model: String,
    pub model_source: String,
    /// The pricing assumptions in one sentence.
    pub assumptions: String,
    pub price_per_seat_cents: i64,
    pub minimum_per_team: u32,
    pub teams: Vec<TeamSeats>,
    pub enterprise: Vec<EnterpriseSeats>,
    pub licences: Option<LicenceUse>,
    pub seats: u32,
    pub billed_seats: u32,
    pub monthly_cents: i64,
    pub inactive_cents: i64,
    pub viewer_cents: i64,
    pub freed_seats: u32,
    pub saving_cents: i64,
    /// The saving by reason, in [`SavingReason::ALL`] order then `other`; adds up to it.
    pub saving_by_reason: Vec<ReasonSaving>,
    /// Finding fingerprint → what the seats of the person it is about cost per month.
    pub finding_cents: BTreeMap<String, i64>,
    /// Lower-cased email → the seats acting on its findings frees, and what they cost per month.
    pub freed_by_email: BTreeMap<String, (u32, i64)>,
}

/// The seat cost of a snapshot (the seats its findings free, when findings are given).
pub fn seat_cost(snapshot: &Snapshot, findings: Option<&[Finding]>, config: &Config) -> Result<SeatCost, AnalyzeError> {
    let seats = Seats::read(snapshot)?;
    let unread = Unread::of(snapshot)?;
    Ok(seat_cost_of(&seats, findings.unwrap_or_default(), config, &unread))
}

/// Why a seat is freed, ordered: the first reason of a seat names it (`other` last).
type Reason = Option<SavingReason>;

fn reason_rank(r: Reason) -> usize {
    r.map_or(SavingReason::ALL.len(), |r| SavingReason::ALL.iter().position(|x| *x == r).unwrap_or(0))
}

fn reason_name(r: Reason) -> &'static str {
    r.map_or("other", SavingReason::as_str)
}

/// The reasons in breakdown order.
fn reasons() -> impl Iterator<Item = Reason> {
    SavingReason::ALL.into_iter().map(Some).chain([None])
}

/// How the model bills one team: (seats billed, cents per month).
fn team_bill(config: &Config, seats: u32) -> (u32, i64) {
    let s = &config.seats;
    let billed = match s.model {
        PricingModel::PerSeat => seats.max(s.minimum_per_team),
        PricingModel::FreeUpTo if seats <= s.free_up_to => 0,
        PricingModel::FreeUpTo => seats,
        PricingModel::NoCharge => 0,
    };
    (billed, i64::from(billed) * s.price_per_month_cents)
}

/// The seat cost of seats already read.
pub fn seat_cost_of(seats: &Seats, findings: &[Finding], config: &Config, unread: &Unread) -> SeatCost {
    let Seats { members, team_ids, team_names, team_ea, .. } = seats;
    let price = config.seats.price_per_month_cents;
    let min = config.seats.minimum_per_team;
    let contract = Contract::of(config);
    let is_seat = |role: &str| role != "collaborator" || config.seats.bill_collaborators;
    let team_unread = |name: &str| unread.team_members(name).map(|s| s.reason.clone());
    // Looked up once per finding: a scan of every member per finding was quadratic.
    let mut by_email: BTreeMap<String, Vec<&Member>> = BTreeMap::new();
    for m in members.iter().filter(|m| is_seat(&m.role)) {
        by_email.entry(norm(&m.email)).or_default().push(m);
    }
    // A person-wide finding (no team, no app) frees every team seat of its email.
    let seats_of_email = |email: &str| -> Vec<&Member> { by_email.get(email).cloned().unwrap_or_default() };
    let about = |f: &Finding| -> Vec<&Member> {
        let Some(email) = f.subject.email.as_deref().map(norm) else { return Vec::new() };
        match (&f.subject.team, &f.subject.app) {
            (Some(team), _) => seats_of_email(&email).into_iter().filter(|m| &m.team == team).collect(),
            (None, None) => seats_of_email(&email),
            (None, Some(_)) => Vec::new(),
        }
    };
    let mut freed: BTreeMap<(String, String), Reason> = BTreeMap::new();
    // Unused seats whatever else frees them: the inactive spend and the activity chart.
    let mut unused: BTreeSet<(String, String)> = BTreeSet::new();
    for f in findings.iter().filter(|f| f.frees_seat) {
        for m in about(f) {
            let key = (m.team.clone(), norm(&m.email));
            if f.saving_reason == Some(SavingReason::Inactive) {
                unused.insert(key.clone());
            }
            let keep = freed.get(&key).is_none_or(|old| reason_rank(f.saving_reason) < reason_rank(*old));
            if keep {
                freed.insert(key, f.saving_reason);
            }
        }
    }

    let mut teams = Vec::new();
    for (id, name) in team_ids.iter().zip(team_names) {
        let not_read = team_unread(name);
        // Whatever was read of an unread team is no count: it is left out, not shown as a fact.
        let ms: Vec<&Member> =
            if not_read.is_some() { Vec::new() } else { members.iter().filter(|m| &m.team_id == id).collect() };
        let count = |role: &str| ms.iter().filter(|m| m.role == role).count() as u32;
        let held: Vec<&&Member> = ms.iter().filter(|m| is_seat(&m.role)).collect();
        let seats = held.len() as u32;
        let reason_of = |m: &Member| freed.get(&(name.clone(), norm(&m.email))).copied();
        let freed_by = |r: Reason| held.iter().filter(|m| reason_of(m) == Some(r)).count() as u32;
        let freed_seats = held.iter().filter(|m| freed.contains_key(&(name.clone(), norm(&m.email)))).count() as u32;
        let inactive_seats = held.iter().filter(|m| unused.contains(&(name.clone(), norm(&m.email)))).count() as u32;
        let ea = team_ea.get(id).cloned().unwrap_or_default();
        let enterprise_priced = contract.is_some() && !ea.is_empty();
        let priced = !enterprise_priced && not_read.is_none();
        let (billed, monthly) = if priced { team_bill(config, seats) } else { (seats, 0) };
        // The saving by reason, one reason after the other in breakdown order: each seat once,
        // and the minimum applied to what is left, so the parts add up to the team's saving.
        let mut saving_by_reason = BTreeMap::new();
        let (mut left, mut bill) = (seats, monthly);
        for r in reasons() {
            let n = freed_by(r);
            if priced && n > 0 {
                left -= n;
                let (_, after) = team_bill(config, left);
                saving_by_reason.insert(reason_name(r).to_owned(), bill - after);
                bill = after;
            }
        }
        let saving = monthly - bill;
        // Per role, what the seats held cost; a free team's seats cost nothing.
        let team_pays = priced && monthly > 0;
        let role_cents: BTreeMap<String, i64> = ROLES
            .iter()
            .map(|r| {
                let cents = if team_pays && is_seat(r) { i64::from(count(r)) * price } else { 0 };
                ((*r).to_owned(), cents)
            })
            .collect();
        let minimum_cents = monthly - role_cents.values().sum::<i64>();
        teams.push(TeamSeats {
            team: name.clone(),
            enterprise_account: ea,
            not_read,
            admins: count("admin"),
            members: count("member"),
            viewers: count("viewer"),
            collaborators: count("collaborator"),
            seats,
            billed_seats: billed,
            monthly_cents: monthly,
            minimum_cents,
            freed_seats,
            inactive_seats,
            inactive_cents: if team_pays { i64::from(inactive_seats) * price } else { 0 },
            viewer_cents: role_cents.get("viewer").copied().unwrap_or(0),
            saving_cents: saving,
            saving_by_reason,
            enterprise_priced,
            role_cents,
        });
    }

    let people = EaPeople::of(seats, &teams, &freed, &is_seat, &team_unread);
    let (enterprise, licences) = match contract {
        Some(Contract::PerUser(p)) => (people.per_user(seats, p), None),
        Some(Contract::Licences(l)) => (Vec::new(), Some(people.licences(l))),
        None => (Vec::new(), None),
    };

    // Totals are sums of what was read; what was not is named beside them, never counted as zero.
    let counted: Vec<&TeamSeats> = teams.iter().filter(|t| t.not_read.is_none()).collect();
    let counted_ea: Vec<&EnterpriseSeats> = enterprise.iter().filter(|e| e.not_read.is_none()).collect();
    let mut excluded: Vec<String> = teams.iter().filter(|t| t.not_read.is_some()).map(|t| t.team.clone()).collect();
    excluded.extend(
        enterprise
            .iter()
            .filter(|e| e.not_read.is_some())
            .map(|e| format!("enterprise account {}", e.enterprise_account)),
    );
    if licences.as_ref().is_some_and(|l| l.not_read.is_some()) {
        excluded.push("the Enterprise licence count".into());
    }
    let excluded_note =
        if excluded.is_empty() { String::new() } else { format!("excluding {} (not read)", excluded.join(", ")) };
    let sum = |f: &dyn Fn(&TeamSeats) -> i64| counted.iter().map(|t| f(t)).sum::<i64>();
    let counted_licences = licences.as_ref().filter(|l| l.not_read.is_none());
    let ea_monthly: i64 =
        counted_ea.iter().map(|e| e.monthly_cents).sum::<i64>() + counted_licences.map_or(0, |l| l.monthly_cents);
    let mut saving_by_reason: Vec<ReasonSaving> = reasons()
        .filter_map(|r| {
            let name = reason_name(r);
            let cents = sum(&|t| t.saving_by_reason.get(name).copied().unwrap_or(0));
            let seats: u32 = counted
                .iter()
                .map(|t| freed.iter().filter(|((team, _), why)| team == &t.team && **why == r).count() as u32)
                .sum();
            (seats > 0).then(|| ReasonSaving { reason: name.to_owned(), seats, cents })
        })
        .collect();
    // A contract saves per person, once every seat of theirs is freed: by their first reason.
    for (reason, cents) in people.contract_saving_by_reason(&counted_ea, counted_licences) {
        match saving_by_reason.iter_mut().find(|s| s.reason == reason) {
            Some(s) => s.cents += cents,
            None => saving_by_reason.push(ReasonSaving { reason: reason.to_owned(), seats: 0, cents }),
        }
    }
    let ea_saving: i64 =
        counted_ea.iter().map(|e| e.saving_cents).sum::<i64>() + counted_licences.map_or(0, |l| l.saving_cents);
    let finding_cents = findings
        .iter()
        .filter_map(|f| {
            let held = about(f);
            if held.is_empty() {
                return None;
            }
            Some((f.fingerprint.clone(), finding_seat_cents(&held, &teams, contract, config)))
        })
        .collect();
    let mut freed_by_email: BTreeMap<String, (u32, i64)> = BTreeMap::new();
    for (team, email) in freed.keys() {
        let Some(m) = by_email.get(email).and_then(|ms| ms.iter().find(|m| &m.team == team)) else { continue };
        let e = freed_by_email.entry(email.clone()).or_default();
        e.0 += 1;
        e.1 += finding_seat_cents(&[*m], &teams, None, config);
    }
    for (email, e) in freed_by_email.iter_mut() {
        // Priced through a contract: the person's price once, when every seat of theirs goes.
        if let Some(c) = contract.filter(|_| people.fully_freed(email)) {
            e.1 += c.per_person_month_cents();
        }
    }
    let (model, model_source) = model_name(config, contract);
    SeatCost {
        assumptions: assumptions(config, contract),
        model,
        model_source,
        excluded,
        excluded_note,
        price_per_seat_cents: price,
        minimum_per_team: min,
        seats: counted.iter().map(|t| t.seats).sum(),
        billed_seats: counted.iter().map(|t| t.billed_seats).sum(),
        monthly_cents: sum(&|t| t.monthly_cents) + ea_monthly,
        inactive_cents: sum(&|t| t.inactive_cents),
        viewer_cents: sum(&|t| t.viewer_cents),
        freed_seats: counted.iter().map(|t| t.freed_seats).sum(),
        saving_cents: sum(&|t| t.saving_cents) + ea_saving,
        saving_by_reason,
        finding_cents,
        freed_by_email,
        teams,
        enterprise,
        licences,
    }
}

/// What the seats a finding is about cost per month: each team seat at its team's price (none
/// in a free team), a person priced through the contract once.
fn finding_seat_cents(held: &[&Member], teams: &[TeamSeats], contract: Option<Contract>, config: &Config) -> i64 {
    let mut cents = 0;
    let mut contract_counted = false;
    for m in held {
        let Some(t) = teams.iter().find(|t| t.team == m.team && t.not_read.is_none()) else { continue };
        if t.enterprise_priced {
            if !contract_counted {
                cents += contract.map_or(0, Contract::per_person_month_cents);
                contract_counted = true;
            }
        } else if t.monthly_cents > 0 {
            cents += config.seats.price_per_month_cents;
        }
    }
    cents
}

/// How an Enterprise Account's teams are priced, when `[enterprise]` says.
#[derive(Debug, Clone, Copy)]
enum Contract {
    PerUser(i64),
    Licences(Licences),
}

impl Contract {
    fn of(config: &Config) -> Option<Contract> {
        let e = &config.enterprise;
        e.licences.map(Contract::Licences).or(e.price_per_unique_user_per_month_cents.map(Contract::PerUser))
    }

    fn per_person_month_cents(self) -> i64 {
        match self {
            Contract::PerUser(p) => p,
            Contract::Licences(l) => l.price_per_year_cents / 12,
        }
    }
}

fn model_name(config: &Config, contract: Option<Contract>) -> (String, String) {
    let s = &config.seats;
    let teams = match s.model {
        PricingModel::PerSeat => format!("per seat with a billed minimum of {} per team", s.minimum_per_team),
        PricingModel::FreeUpTo => format!("free up to {} members per team, then per seat", s.free_up_to),
        PricingModel::NoCharge => "no seat charge".to_owned(),
    };
    let source = "docs/pricing.md".to_owned();
    match contract {
        None => (teams, source),
        Some(Contract::PerUser(_)) => (format!("{teams}; Enterprise Account teams per unique user"), source),
        Some(Contract::Licences(_)) => (format!("{teams}; Enterprise Account teams by contract licences"), source),
    }
}

/// The pricing assumptions in one sentence, as the cost section states them.
fn assumptions(config: &Config, contract: Option<Contract>) -> String {
    let s = &config.seats;
    let seat = match s.model {
        PricingModel::PerSeat => format!(
            "each seat costs {} a month with at least {} seats billed per team",
            money(s.price_per_month_cents),
            s.minimum_per_team
        ),
        PricingModel::FreeUpTo => format!(
            "a team of up to {} seats is free and a larger one pays {} a month for every seat",
            s.free_up_to,
            money(s.price_per_month_cents)
        ),
        PricingModel::NoCharge => "team seats cost nothing".to_owned(),
    };
    let roles = if s.bill_collaborators {
        "admins, members, viewers and team collaborators each hold a seat"
    } else {
        "admins, members and viewers each hold a seat and team collaborators do not"
    };
    let ea = match contract {
        None => String::new(),
        Some(Contract::PerUser(p)) => format!(
            "; an Enterprise Account's teams cost {} a month per unique person holding a seat in any of its teams (not its member list, shown beside)",
            money(p)
        ),
        Some(Contract::Licences(l)) => format!(
            "; Enterprise Account teams are covered by {} contract licences at {} a year each, a licence used by each unique person holding a seat in any of its teams (not its member list)",
            l.purchased,
            money(l.price_per_year_cents)
        ),
    };
    format!("Pricing: {seat}; {roles}{ea}.")
}

/// People holding seats in Enterprise Account teams, for contract pricing.
struct EaPeople {
    /// Account → (people holding a seat, of those the ones all of whose seats are freed, with the
    /// first reason among their seats).
    by_ea: BTreeMap<String, (BTreeSet<String>, BTreeMap<String, Reason>)>,
    unread_teams: BTreeMap<String, Vec<String>>,
}

impl EaPeople {
    fn of(
        seats: &Seats,
        teams: &[TeamSeats],
        freed: &BTreeMap<(String, String), Reason>,
        is_seat: &dyn Fn(&str) -> bool,
        team_unread: &dyn Fn(&str) -> Option<String>,
    ) -> EaPeople {
        let Seats { members, team_ea, .. } = seats;
        let mut by_ea: BTreeMap<String, (BTreeSet<String>, BTreeMap<String, Reason>)> = BTreeMap::new();
        let mut unread_teams: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for t in teams.iter().filter(|t| !t.enterprise_account.is_empty()) {
            by_ea.entry(t.enterprise_account.clone()).or_default();
            if t.not_read.is_some() {
                unread_teams.entry(t.enterprise_account.clone()).or_default().push(t.team.clone());
            }
        }
        let held: Vec<(&String, &Member)> = members
            .iter()
            .filter(|m| team_unread(&m.team).is_none() && is_seat(&m.role))
            .filter_map(|m| Some((team_ea.get(&m.team_id).filter(|e| !e.is_empty())?, m)))
            .collect();
        // Each person's seats in each account, gathered in one pass (a scan of every seat per
        // person was quadratic: minutes at 10,000 members).
        let mut seats_of: BTreeMap<(&String, String), Vec<Option<&Reason>>> = BTreeMap::new();
        for (ea, m) in &held {
            let email = norm(&m.email);
            by_ea.entry((*ea).clone()).or_default().0.insert(email.clone());
            let reason = freed.get(&(m.team.clone(), email.clone()));
            seats_of.entry((*ea, email)).or_default().push(reason);
        }
        for ((ea, u), theirs) in seats_of {
            // A person stops costing only when every seat they hold in the account is freed.
            if theirs.iter().all(Option::is_some) {
                let first = theirs.into_iter().flatten().copied().min_by_key(|r| reason_rank(*r)).flatten();
                if let Some((_, fully)) = by_ea.get_mut(ea) {
                    fully.insert(u, first);
                }
            }
        }
        EaPeople { by_ea, unread_teams }
    }

    fn fully_freed(&self, email: &str) -> bool {
        self.by_ea.values().any(|(_, fully)| fully.contains_key(email))
    }

    fn not_read(&self, ea: &str) -> Option<String> {
        self.unread_teams
            .get(ea)
            .map(|t| format!("{} not read: unique users are at least those counted", plural_teams(t)))
    }

    fn per_user(&self, seats: &Seats, price: i64) -> Vec<EnterpriseSeats> {
        self.by_ea
            .iter()
            .map(|(ea, (users, fully))| {
                let not_read = self.not_read(ea);
                let saving = if not_read.is_some() { 0 } else { i64::from(fully.len() as u32) * price };
                EnterpriseSeats {
                    enterprise_account: ea.clone(),
                    not_read,
                    unique_users: users.len() as u32,
                    account_members: seats.ea_members.get(ea).copied().unwrap_or(0),
                    price_cents: price,
                    monthly_cents: i64::from(users.len() as u32) * price,
                    inactive_users: fully.len() as u32,
                    saving_cents: saving,
                }
            })
            .collect()
    }

    fn licences(&self, l: Licences) -> LicenceUse {
        let used: BTreeSet<&String> = self.by_ea.values().flat_map(|(u, _)| u).collect();
        let freed: BTreeSet<&String> = self.by_ea.values().flat_map(|(_, f)| f.keys()).collect();
        let used = used.len() as u32;
        let not_read: Vec<String> = self.unread_teams.values().flatten().cloned().collect();
        let not_read = (!not_read.is_empty())
            .then(|| format!("{} not read: licences used are at least those counted", plural_teams(&not_read)));
        let annual = i64::from(l.purchased) * l.price_per_year_cents;
        let freed_n = freed.len() as u32;
        LicenceUse {
            purchased: l.purchased,
            used,
            unused: l.purchased.saturating_sub(used),
            over_used: used.saturating_sub(l.purchased),
            price_per_year_cents: l.price_per_year_cents,
            annual_cents: annual,
            monthly_cents: annual / 12,
            freed: freed_n,
            saving_cents: if not_read.is_some() { 0 } else { i64::from(freed_n) * l.price_per_year_cents / 12 },
            not_read,
        }
    }

    /// A contract's saving by each freed person's first reason.
    fn contract_saving_by_reason(
        &self,
        counted_ea: &[&EnterpriseSeats],
        licences: Option<&LicenceUse>,
    ) -> Vec<(&'static str, i64)> {
        let mut out: BTreeMap<usize, (&'static str, i64)> = BTreeMap::new();
        let mut add = |r: Reason, cents: i64| {
            let e = out.entry(reason_rank(r)).or_insert((reason_name(r), 0));
            e.1 += cents;
        };
        for e in counted_ea {
            if let Some((_, fully)) = self.by_ea.get(&e.enterprise_account) {
                for r in fully.values() {
                    add(*r, e.price_cents);
                }
            }
        }
        if let Some(l) = licences.filter(|l| l.not_read.is_none()) {
            let mut people: BTreeMap<&String, Reason> = BTreeMap::new();
            for (_, fully) in self.by_ea.values() {
                for (p, r) in fully {
                    let keep = people.get(p).is_none_or(|old| reason_rank(*r) < reason_rank(*old));
                    if keep {
                        people.insert(p, *r);
                    }
                }
            }
            // Whole cents per reason: the total is `freed × price / 12`, so split that total.
            let total = l.saving_cents;
            let n = people.len() as i64;
            let mut given = 0;
            let mut by: BTreeMap<usize, (Reason, i64)> = BTreeMap::new();
            for r in people.values() {
                by.entry(reason_rank(*r)).or_insert((*r, 0)).1 += 1;
            }
            let last = by.keys().last().copied();
            for (rank, (r, count)) in &by {
                let cents = if Some(*rank) == last { total - given } else { total * count / n.max(1) };
                given += cents;
                add(*r, cents);
            }
        }
        out.into_values().collect()
    }
}

/// `team acme-payments`, `teams acme-data, acme-web`.
fn plural_teams(teams: &[String]) -> String {
    match teams {
        [one] => format!("team {one}"),
        many => format!("teams {}", many.join(", ")),
    }
}
