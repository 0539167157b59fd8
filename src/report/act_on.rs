//! "People to act on", for security reviewers: one row per person with any finding, the worst
//! first, with everything they hold, every finding about them, the seats and money acting frees,
//! and the steps in the order `hkaudit plan` would run them (the same step logic,
//! [`crate::analyze::remedy`]).
//!
//! A person is a Heroku user id across the emails Heroku shows for it ([`SamePerson`]). Ranked by
//! the worst severity of their findings, then by the access they hold (grants, most first), then
//! by how many findings they have, then by email: the order the acme fixture's README documents.
use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::people::SamePerson;
use crate::analyze::remedy::{plan_finding, Invitation, PlanInputs, Steps};
use crate::analyze::{money, Finding, Fix, Severity};
use crate::snapshot::email_norm as norm;
use crate::snapshot::grants::{
    Grant, APP_PERMISSION, ENTERPRISE_MEMBERSHIP, NOT_READ, PERSONAL_APP_COLLABORATOR, TEAM_INVITATION, TEAM_MEMBERSHIP,
};

#[derive(Debug, Clone, Serialize)]
pub struct PersonToAct {
    pub rank: usize,
    /// The email their findings name first (as Heroku writes it).
    pub email: String,
    /// Every email of the person, lower-cased.
    pub emails: Vec<String>,
    /// Display name, where an identity-provider export or Heroku gives one.
    pub name: String,
    pub worst_severity: String,
    /// What they hold: `team acme-web (admin)`, `enterprise account acme (view)`, `app acme-billing
    /// (view, deploy)`, `personal app olga-scratch (collaborator)`, `invitation to team acme-data`.
    pub grants: Vec<String>,
    /// OAuth authorizations of theirs the findings know of (from `heroku authorizations` exports).
    pub tokens: Vec<String>,
    pub findings: Vec<PersonFinding>,
    /// Seats acting on their findings frees, and what those seats cost per month.
    pub seats_freed: u32,
    pub monthly_cents: i64,
    pub monthly: String,
    /// In the order `plan` runs them.
    pub steps: Vec<PersonStep>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PersonFinding {
    pub severity: String,
    pub rule_id: String,
    pub title: String,
    pub subject: String,
    pub message: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct PersonStep {
    /// What the step does, in words (`remove x from team y`, `by hand: ...`).
    pub text: String,
    /// The `heroku` command, when the step is one.
    pub command: Option<String>,
}

/// What the people view is made from.
pub struct Sources<'a> {
    pub findings: &'a [Finding],
    pub grants: &'a [Grant],
    pub invitations: &'a [Invitation],
    pub same_person: &'a SamePerson,
    /// Lower-cased email → (seats freed, cents per month), from the cost computation.
    pub freed_by_email: &'a BTreeMap<String, (u32, i64)>,
    /// Lower-cased email → display name.
    pub names: &'a BTreeMap<String, String>,
    pub snapshot_id: &'a str,
    pub as_of: &'a str,
}

fn grant_text(g: &Grant) -> Option<String> {
    let perms = g.permissions.join(", ");
    let with = |what: String, detail: &str| if detail.is_empty() { what } else { format!("{what} ({detail})") };
    Some(match g.key.grant_type.as_str() {
        TEAM_MEMBERSHIP => with(format!("team {}", g.key.team), &g.role),
        ENTERPRISE_MEMBERSHIP => with(format!("enterprise account {}", g.key.enterprise_account), &perms),
        APP_PERMISSION => with(format!("app {}", g.key.app), &perms),
        PERSONAL_APP_COLLABORATOR => format!("personal app {} (collaborator)", g.key.app),
        TEAM_INVITATION => format!("invitation to team {}", g.key.team),
        NOT_READ => return None,
        other => format!("{other} {}", g.key.display()),
    })
}

/// Everyone with a finding about them, ranked (module documentation).
pub fn people_to_act(s: &Sources<'_>) -> Vec<PersonToAct> {
    // The person of each email: the smallest email of their user id stands for them.
    let key_of = |email: &str| -> String {
        let e = norm(email);
        s.same_person.emails(&e).into_iter().next().unwrap_or(e)
    };
    let mut by_person: BTreeMap<String, Vec<&Finding>> = BTreeMap::new();
    for f in s.findings {
        if let Some(email) = f.subject.email.as_deref() {
            by_person.entry(key_of(email)).or_default().push(f);
        }
    }
    let mut grants_of: BTreeMap<String, Vec<&Grant>> = BTreeMap::new();
    for g in s.grants.iter().filter(|g| g.key.grant_type != NOT_READ) {
        let k = key_of(&g.key.email);
        if by_person.contains_key(&k) {
            grants_of.entry(k).or_default().push(g);
        }
    }
    let mut invitations_of: BTreeMap<String, Vec<&Invitation>> = BTreeMap::new();
    for i in s.invitations {
        let k = key_of(&i.email);
        if by_person.contains_key(&k) {
            invitations_of.entry(k).or_default().push(i);
        }
    }
    let mut people: Vec<(Severity, usize, PersonToAct)> = by_person
        .into_iter()
        .map(|(key, fs)| {
            let grants: Vec<&Grant> = grants_of.remove(&key).unwrap_or_default();
            let emails: BTreeSet<String> = s.same_person.emails(&key);
            // The plan's own step logic, over this person's grants only: what `plan` would do.
            let inputs = PlanInputs {
                snapshot_id: s.snapshot_id.to_owned(),
                as_of: s.as_of.to_owned(),
                complete: true,
                grants: grants.iter().map(|g| (*g).clone()).collect(),
                invitations: invitations_of.remove(&key).unwrap_or_default().into_iter().cloned().collect(),
                findings: None,
            };
            let mut steps = Steps::default();
            for f in &fs {
                plan_finding(&inputs, f, &mut steps);
            }
            let steps = steps
                .into_steps()
                .into_iter()
                .map(|st| PersonStep { text: st.action.describe(), command: st.action.command().ok().flatten() })
                .collect();
            let worst = fs.iter().map(|f| f.severity).max().unwrap_or(Severity::Info);
            let mut ordered: Vec<&&Finding> = fs.iter().collect();
            ordered.sort_by_key(|f| (std::cmp::Reverse(f.severity), f.rule_id.clone(), f.subject.display()));
            let tokens: BTreeSet<String> = fs
                .iter()
                .filter(|f| f.fix == Fix::RevokeAuthorization)
                .filter_map(|f| f.subject.item.clone())
                .map(|id| format!("OAuth authorization {id}"))
                .collect();
            let (seats_freed, cents) =
                emails.iter().filter_map(|e| s.freed_by_email.get(e)).fold((0, 0), |(n, c), (n2, c2)| (n + n2, c + c2));
            let name = emails.iter().find_map(|e| s.names.get(e)).cloned().unwrap_or_default();
            let grant_texts: Vec<String> = grants.iter().filter_map(|g| grant_text(g)).collect();
            let held = grant_texts.len() + tokens.len();
            let person = PersonToAct {
                rank: 0,
                email: fs.iter().find_map(|f| f.subject.email.clone()).unwrap_or(key.clone()),
                emails: emails.into_iter().collect(),
                name,
                worst_severity: worst.as_str().to_owned(),
                grants: grant_texts,
                tokens: tokens.into_iter().collect(),
                findings: ordered
                    .iter()
                    .map(|f| PersonFinding {
                        severity: f.severity.as_str().to_owned(),
                        rule_id: f.rule_id.clone(),
                        title: f.title.clone(),
                        subject: f.subject.display(),
                        message: f.message.clone(),
                    })
                    .collect(),
                seats_freed,
                monthly_cents: cents,
                monthly: money(cents),
                steps,
            };
            (worst, held, person)
        })
        .collect();
    people.sort_by(|(sa, ha, a), (sb, hb, b)| {
        sb.cmp(sa).then(hb.cmp(ha)).then(b.findings.len().cmp(&a.findings.len())).then(a.emails.cmp(&b.emails))
    });
    people
        .into_iter()
        .enumerate()
        .map(|(i, (_, _, mut p))| {
            p.rank = i + 1;
            p
        })
        .collect()
}

impl PersonToAct {
    pub const HEADER: [&'static str; 12] = [
        "rank",
        "person",
        "name",
        "emails",
        "worst_severity",
        "findings",
        "grants",
        "tokens",
        "seats_freed",
        "monthly_cost_recovered",
        "steps",
        "commands",
    ];

    /// One `people.csv` row; lists are `; `-separated, steps numbered in the order they run.
    pub fn cells(&self) -> Vec<String> {
        let findings: Vec<String> = self
            .findings
            .iter()
            .map(|f| format!("{} {} {}: {}", f.severity, f.rule_id, f.subject, f.message))
            .collect();
        let steps: Vec<String> = self.steps.iter().enumerate().map(|(i, s)| format!("{}. {}", i + 1, s.text)).collect();
        let commands: Vec<String> = self.steps.iter().filter_map(|s| s.command.clone()).collect();
        vec![
            self.rank.to_string(),
            self.email.clone(),
            self.name.clone(),
            self.emails.join("; "),
            self.worst_severity.clone(),
            findings.join("; "),
            self.grants.join("; "),
            self.tokens.join("; "),
            self.seats_freed.to_string(),
            self.monthly.clone(),
            steps.join("; "),
            commands.join("; "),
        ]
    }
}
