//! What the seats of a snapshot cost, in integer cents: seats per team by role at the configured
//! price with the per-team minimum applied (or per unique user across an Enterprise Account under
//! contract pricing), spend on inactive and viewer seats, and the saving if every finding of a
//! rule with `frees-seat: true` were acted on. One computation for the cost report, the trends
//! across snapshots and `diff`.
//!
//! A team whose members were not read has no counts: it is named in `excluded` and left out of
//! every total, never counted as zero.
use std::collections::{BTreeMap, BTreeSet};

use super::{AnalyzeError, Config, Finding};
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
        Ok(Seats { members, team_ids, team_names, team_ea })
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
    pub seats: u32,
    /// Seats billed: at least the configured minimum per team (Teams pricing).
    pub billed_seats: u32,
    pub monthly_cents: i64,
    /// Seats that acting on the findings would free (`frees-seat: true`): inactive seats, for
    /// the built-in rules.
    pub inactive_seats: u32,
    pub inactive_cents: i64,
    pub viewer_cents: i64,
    /// What freeing those seats would save per month, minimum applied.
    pub saving_cents: i64,
    /// Priced through the Enterprise contract instead of per team.
    pub enterprise_priced: bool,
    pub role_cents: BTreeMap<String, i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnterpriseSeats {
    pub enterprise_account: String,
    /// Set when a team of the account was not read: its unique users are a lower bound, so the
    /// account is left out of the totals.
    pub not_read: Option<String>,
    pub unique_users: u32,
    pub price_cents: i64,
    pub monthly_cents: i64,
    /// People every one of whose seats in the account would be freed.
    pub inactive_users: u32,
    pub saving_cents: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeatCost {
    /// Teams and accounts left out of the totals because they were not read, by name.
    pub excluded: Vec<String>,
    /// `excluding acme-payments (not read)`, said beside every total; empty when nothing is excluded.
    pub excluded_note: String,
    pub price_per_seat_cents: i64,
    pub minimum_per_team: u32,
    pub teams: Vec<TeamSeats>,
    pub enterprise: Vec<EnterpriseSeats>,
    pub seats: u32,
    pub billed_seats: u32,
    pub monthly_cents: i64,
    pub inactive_cents: i64,
    pub viewer_cents: i64,
    pub saving_cents: i64,
}

/// The seat cost of a snapshot (the seats its findings free, when findings are given).
pub fn seat_cost(snapshot: &Snapshot, findings: Option<&[Finding]>, config: &Config) -> Result<SeatCost, AnalyzeError> {
    let seats = Seats::read(snapshot)?;
    let unread = Unread::of(snapshot)?;
    Ok(seat_cost_of(&seats, findings.unwrap_or_default(), config, &unread))
}

/// The seat cost of seats already read.
pub fn seat_cost_of(seats: &Seats, findings: &[Finding], config: &Config, unread: &Unread) -> SeatCost {
    let Seats { members, team_ids, team_names, team_ea } = seats;
    let price = config.seats.price_per_month_cents;
    let min = config.seats.minimum_per_team;
    let ea_price = config.enterprise.price_per_unique_user_per_month_cents;
    let inactive: BTreeSet<(String, String)> = findings
        .iter()
        .filter(|f| f.frees_seat)
        .filter_map(|f| Some((f.subject.team.clone()?, norm(f.subject.email.as_deref()?))))
        .collect();
    let team_unread = |name: &str| unread.team_members(name).map(|s| s.reason.clone());

    let mut teams = Vec::new();
    for (id, name) in team_ids.iter().zip(team_names) {
        let not_read = team_unread(name);
        // Whatever was read of an unread team is no count: it is left out, not shown as a fact.
        let ms: Vec<&Member> =
            if not_read.is_some() { Vec::new() } else { members.iter().filter(|m| &m.team_id == id).collect() };
        let count = |role: &str| ms.iter().filter(|m| m.role == role).count() as u32;
        let seats = ms.len() as u32;
        let inactive_seats = ms.iter().filter(|m| inactive.contains(&(name.clone(), norm(&m.email)))).count() as u32;
        let ea = team_ea.get(id).cloned().unwrap_or_default();
        let enterprise_priced = ea_price.is_some() && !ea.is_empty();
        let (billed, monthly, saving) = if enterprise_priced || not_read.is_some() {
            // Priced per unique user across the Enterprise Account (see `enterprise`), or unknown.
            (seats, 0, 0)
        } else {
            let billed = seats.max(min);
            let after = (seats - inactive_seats).max(min);
            (billed, i64::from(billed) * price, i64::from(billed - after) * price)
        };
        let priced = !enterprise_priced && not_read.is_none();
        let role_cents: BTreeMap<String, i64> =
            ROLES.iter().map(|r| ((*r).to_owned(), if priced { i64::from(count(r)) * price } else { 0 })).collect();
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
            inactive_seats,
            inactive_cents: if priced { i64::from(inactive_seats) * price } else { 0 },
            viewer_cents: if priced { i64::from(count("viewer")) * price } else { 0 },
            saving_cents: saving,
            enterprise_priced,
            role_cents,
        });
    }

    let enterprise = match ea_price {
        Some(p) => enterprise_seats(seats, &teams, &inactive, p, &team_unread),
        None => Vec::new(),
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
    let excluded_note =
        if excluded.is_empty() { String::new() } else { format!("excluding {} (not read)", excluded.join(", ")) };
    let sum = |f: &dyn Fn(&TeamSeats) -> i64| counted.iter().map(|t| f(t)).sum::<i64>();
    let ea_monthly: i64 = counted_ea.iter().map(|e| e.monthly_cents).sum();
    let ea_saving: i64 = counted_ea.iter().map(|e| e.saving_cents).sum();
    SeatCost {
        excluded,
        excluded_note,
        price_per_seat_cents: price,
        minimum_per_team: min,
        seats: counted.iter().map(|t| t.seats).sum(),
        billed_seats: counted.iter().map(|t| t.billed_seats).sum(),
        monthly_cents: sum(&|t| t.monthly_cents) + ea_monthly,
        inactive_cents: sum(&|t| t.inactive_cents),
        viewer_cents: sum(&|t| t.viewer_cents),
        saving_cents: sum(&|t| t.saving_cents) + ea_saving,
        teams,
        enterprise,
    }
}

/// Contract pricing: per unique user across each Enterprise Account's teams.
fn enterprise_seats(
    seats: &Seats,
    teams: &[TeamSeats],
    inactive: &BTreeSet<(String, String)>,
    price: i64,
    team_unread: &dyn Fn(&str) -> Option<String>,
) -> Vec<EnterpriseSeats> {
    let Seats { members, team_ea, .. } = seats;
    let mut by_ea: BTreeMap<String, (BTreeSet<String>, BTreeSet<String>)> = BTreeMap::new();
    let mut unread_teams: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for t in teams {
        if !t.enterprise_account.is_empty() {
            by_ea.entry(t.enterprise_account.clone()).or_default();
            if t.not_read.is_some() {
                unread_teams.entry(t.enterprise_account.clone()).or_default().push(t.team.clone());
            }
        }
    }
    for m in members.iter().filter(|m| team_unread(&m.team).is_none()) {
        let ea = team_ea.get(&m.team_id).cloned().unwrap_or_default();
        if ea.is_empty() {
            continue;
        }
        let entry = by_ea.entry(ea).or_default();
        entry.0.insert(norm(&m.email));
        if inactive.contains(&(m.team.clone(), norm(&m.email))) {
            entry.1.insert(norm(&m.email));
        }
    }
    let mut enterprise = Vec::new();
    for (ea, (users, inactive_in_some_team)) in by_ea {
        // A person stops costing only when every seat they hold in the account is inactive.
        let fully_inactive = inactive_in_some_team
            .iter()
            .filter(|e| {
                members
                    .iter()
                    .filter(|m| team_ea.get(&m.team_id) == Some(&ea) && &norm(&m.email) == *e)
                    .all(|m| inactive.contains(&(m.team.clone(), norm(&m.email))))
            })
            .count() as u32;
        let not_read = unread_teams
            .get(&ea)
            .map(|t| format!("{} not read: unique users are at least those counted", plural_teams(t)));
        let monthly = i64::from(users.len() as u32) * price;
        let saving = if not_read.is_some() { 0 } else { i64::from(fully_inactive) * price };
        enterprise.push(EnterpriseSeats {
            enterprise_account: ea,
            not_read,
            unique_users: users.len() as u32,
            price_cents: price,
            monthly_cents: monthly,
            inactive_users: fully_inactive,
            saving_cents: saving,
        });
    }
    enterprise
}

/// `team acme-payments`, `teams acme-data, acme-web`.
fn plural_teams(teams: &[String]) -> String {
    match teams {
        [one] => format!("team {one}"),
        many => format!("teams {}", many.join(", ")),
    }
}
