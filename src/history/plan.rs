//! `hkaudit plan`: turn findings, or the grants reviewers denied in a worksheet, into a script of
//! `heroku` CLI commands and the equivalent Platform API calls. Nothing is executed: a person
//! reviews the plan and runs it.
//!
//! Everything that comes from Heroku or a worksheet is untrusted text (a team, app or email can
//! hold quotes, `$(...)`, newlines). Arguments are shell-quoted by `shlex`; comments are made one
//! line with control and invisible characters escaped, since a newline in a comment would start a
//! command; a positional value that begins with `-` is never written as a command, because the CLI
//! would read it as an option.
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::Serialize;

use super::worksheet::{Decision, WorksheetRow};
use super::HistoryError;
use crate::analyze::{read_findings, Finding, FindingSet, Fix, InputError};
use crate::snapshot::email_norm as norm;
use crate::snapshot::grants::{
    load_grants, Grant, GrantKey, APP_PERMISSION, ENTERPRISE_MEMBERSHIP, PERSONAL_APP_COLLABORATOR, TEAM_INVITATION,
    TEAM_MEMBERSHIP,
};
use crate::snapshot::rows::Rows;
use crate::snapshot::{Snapshot, SnapshotError};

/// The script refuses to run until this variable is `yes`: running it by accident does nothing.
pub const REVIEWED_VAR: &str = "HKAUDIT_PLAN_REVIEWED";

/// A pending team invitation, from the snapshot's `team_invitations` table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Invitation {
    pub id: String,
    pub team: String,
    pub email: String,
}

/// What a plan is made from; [`load_inputs`] reads it from a snapshot folder.
#[derive(Debug, Clone)]
pub struct PlanInputs {
    pub snapshot_id: String,
    pub as_of: String,
    pub complete: bool,
    pub grants: Vec<Grant>,
    pub invitations: Vec<Invitation>,
    /// `findings.json`, when the snapshot was analyzed.
    pub findings: Option<FindingSet>,
}

pub fn load_inputs(snapshot_dir: &Path) -> Result<PlanInputs, HistoryError> {
    let snapshot = Snapshot::open(snapshot_dir)?;
    let m = snapshot.manifest();
    let grants = load_grants(&snapshot)?;
    let df = snapshot.read("team_invitations")?;
    let rows = Rows::new("team_invitations", df);
    let column = |name: &str| -> Result<Vec<String>, SnapshotError> { rows.string(name) };
    let (ids, teams, emails) = (column("id")?, column("team_name")?, column("email")?);
    let invitations =
        ids.into_iter().zip(teams).zip(emails).map(|((id, team), email)| Invitation { id, team, email }).collect();
    Ok(PlanInputs {
        snapshot_id: m.snapshot_id.clone(),
        as_of: m.as_of.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        complete: m.complete,
        grants,
        invitations,
        // Only the findings mode needs them; it says so when they are missing.
        findings: read_findings(snapshot.dir()).ok(),
    })
}

/// One change to make, in terms of Heroku objects.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Action {
    RevokeInvitation {
        team: String,
        email: String,
        id: String,
    },
    RemoveAppCollaborator {
        app: String,
        email: String,
        personal: bool,
    },
    RemoveTeamMember {
        team: String,
        email: String,
    },
    RemoveEnterpriseMember {
        enterprise_account: String,
        email: String,
    },
    /// Only its owner can revoke an authorization: the script runs it only when logged in as them.
    RevokeAuthorization {
        id: String,
        owner: String,
    },
    /// No safe automatic fix: the text says what to do by hand.
    Manual {
        text: String,
    },
}

/// Path segments are percent-encoded, keeping `@` so emails stay readable (RFC 3986 allows it).
const SEGMENT: &percent_encoding::AsciiSet =
    &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~').remove(b'@');

fn seg(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, SEGMENT).to_string()
}

enum Arg<'a> {
    Word(&'static str),
    /// A positional value: must not look like an option.
    Value(&'a str),
    /// `--name=VALUE`: the `=` form, so the value can never be taken for another option.
    Flag(&'static str, &'a str),
}

impl Action {
    /// Runs in this order: invitations and app grants before the memberships that imply them,
    /// Enterprise Account last among grants, then authorizations, then what is left by hand.
    fn order(&self) -> u8 {
        match self {
            Action::RevokeInvitation { .. } => 0,
            Action::RemoveAppCollaborator { .. } => 1,
            Action::RemoveTeamMember { .. } => 2,
            Action::RemoveEnterpriseMember { .. } => 3,
            Action::RevokeAuthorization { .. } => 4,
            Action::Manual { .. } => 5,
        }
    }

    pub fn api(&self) -> Option<ApiCall> {
        let path = match self {
            Action::RevokeInvitation { team, id, .. } => format!("/teams/{}/invitations/{}", seg(team), seg(id)),
            Action::RemoveAppCollaborator { app, email, personal: false } => {
                format!("/teams/apps/{}/collaborators/{}", seg(app), seg(email))
            }
            Action::RemoveAppCollaborator { app, email, personal: true } => {
                format!("/apps/{}/collaborators/{}", seg(app), seg(email))
            }
            Action::RemoveTeamMember { team, email } => format!("/teams/{}/members/{}", seg(team), seg(email)),
            Action::RemoveEnterpriseMember { enterprise_account, email } => {
                format!("/enterprise-accounts/{}/members/{}", seg(enterprise_account), seg(email))
            }
            Action::RevokeAuthorization { id, .. } => format!("/oauth/authorizations/{}", seg(id)),
            Action::Manual { .. } => return None,
        };
        let run_as = match self {
            Action::RevokeAuthorization { owner, .. } => Some(owner.clone()),
            _ => None,
        };
        Some(ApiCall { method: "DELETE".into(), path, body: None, run_as })
    }

    fn args(&self) -> Vec<Arg<'_>> {
        match self {
            // `members:remove` revokes the pending invitation when the email is an invitee's.
            Action::RevokeInvitation { team, email, .. } | Action::RemoveTeamMember { team, email } => {
                vec![Arg::Word("members:remove"), Arg::Value(email), Arg::Flag("team", team)]
            }
            Action::RemoveAppCollaborator { app, email, .. } => {
                vec![Arg::Word("access:remove"), Arg::Value(email), Arg::Flag("app", app)]
            }
            Action::RemoveEnterpriseMember { enterprise_account, email } => vec![
                Arg::Word("enterprises:members-remove"),
                Arg::Value(email),
                Arg::Flag("enterprise-account", enterprise_account),
            ],
            Action::RevokeAuthorization { id, .. } => vec![Arg::Word("authorizations:revoke"), Arg::Value(id)],
            Action::Manual { .. } => vec![],
        }
    }

    /// The arguments after `heroku`, unquoted; None for a step done by hand.
    pub fn argv(&self) -> Option<Vec<String>> {
        let args = self.args();
        (!args.is_empty()).then(|| {
            args.into_iter()
                .map(|a| match a {
                    Arg::Word(w) => w.to_owned(),
                    Arg::Value(v) => v.to_owned(),
                    Arg::Flag(name, v) => format!("--{name}={v}"),
                })
                .collect()
        })
    }

    /// The `heroku ...` command line, or why it cannot be written safely.
    pub fn command(&self) -> Result<Option<String>, String> {
        let args = self.args();
        if args.is_empty() {
            return Ok(None);
        }
        let quote = |v: &str| {
            shlex::try_quote(v).map(|q| q.into_owned()).map_err(|_| format!("`{}` contains a NUL byte", one_line(v)))
        };
        let mut words = vec!["heroku".to_owned()];
        for a in args {
            words.push(match a {
                Arg::Word(w) => w.to_owned(),
                Arg::Value("") => return Err("a value is empty".into()),
                Arg::Value(v) if v.starts_with('-') => {
                    return Err(format!("`{}` begins with `-`, which the CLI would read as an option", one_line(v)))
                }
                Arg::Value(v) => quote(v)?,
                Arg::Flag(name, v) => format!("--{name}={}", quote(v)?),
            });
        }
        Ok(Some(words.join(" ")))
    }

    /// What the action does, in words, for the comment above it and `reason` in plan.json.
    fn describe(&self) -> String {
        match self {
            Action::RevokeInvitation { team, email, id } => format!("revoke the pending invitation {id} of {email} to team {team} (for an invitee, `members:remove` revokes the invitation)"),
            Action::RemoveAppCollaborator { app, email, personal } => format!("remove {email} from {} app {app}", if *personal { "personal" } else { "team" }),
            Action::RemoveTeamMember { team, email } => format!("remove {email} from team {team}"),
            Action::RemoveEnterpriseMember { enterprise_account, email } => format!("remove {email} from Enterprise Account {enterprise_account}"),
            Action::RevokeAuthorization { id, owner } => format!("revoke OAuth authorization {id} of {owner}; only its owner can: run as that user (heroku login as them), or ask Heroku support"),
            Action::Manual { text } => format!("by hand: {text}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ApiCall {
    pub method: String,
    pub path: String,
    pub body: Option<serde_json::Value>,
    /// Whose token the call needs, when an admin's will not do.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run_as: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct FindingRef {
    pub rule_id: String,
    pub subject: String,
    pub fingerprint: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct RowRef {
    pub file: String,
    pub line: usize,
    pub reviewer: String,
    pub decision_date: String,
    pub justification: String,
}

#[derive(Debug, Clone)]
pub struct Step {
    pub action: Action,
    pub grant: Option<GrantKey>,
    pub findings: Vec<FindingRef>,
    pub rows: Vec<RowRef>,
}

#[derive(Debug, Clone)]
pub struct Plan {
    pub snapshot_id: String,
    pub as_of: String,
    /// Where the steps come from, for the header.
    pub source: String,
    pub warnings: Vec<String>,
    /// Sorted: by [`Action::order`], then by what they act on.
    pub steps: Vec<Step>,
}

/// Steps keyed by what they do, so a grant two findings point at is removed once.
#[derive(Default)]
struct Steps(BTreeMap<(u8, String), Step>);

impl Steps {
    fn add(&mut self, action: Action, grant: Option<GrantKey>, finding: Option<FindingRef>, row: Option<RowRef>) {
        // A manual step is keyed by its text: findings with the same remediation share one step.
        let key = match (&action, action.api()) {
            (_, Some(api)) => api.path,
            (Action::Manual { text }, None) => text.clone(),
            _ => String::new(),
        };
        let step = self.0.entry((action.order(), key)).or_insert_with(|| Step {
            action,
            grant,
            findings: Vec::new(),
            rows: Vec::new(),
        });
        step.findings.extend(finding);
        step.rows.extend(row);
        step.findings.sort();
        step.findings.dedup();
        step.rows.sort();
    }
}

fn grant_action(key: &GrantKey, inputs: &PlanInputs) -> Action {
    let email = key.email.clone();
    match key.grant_type.as_str() {
        TEAM_INVITATION => {
            match inputs.invitations.iter().find(|i| i.team == key.team && norm(&i.email) == key.email) {
                Some(inv) => Action::RevokeInvitation { team: inv.team.clone(), email, id: inv.id.clone() },
                None => Action::Manual {
                    text: format!("the invitation of {email} to team {} is not in the snapshot any more", key.team),
                },
            }
        }
        TEAM_MEMBERSHIP => Action::RemoveTeamMember { team: key.team.clone(), email },
        ENTERPRISE_MEMBERSHIP => {
            Action::RemoveEnterpriseMember { enterprise_account: key.enterprise_account.clone(), email }
        }
        APP_PERMISSION => Action::RemoveAppCollaborator { app: key.app.clone(), email, personal: false },
        PERSONAL_APP_COLLABORATOR => Action::RemoveAppCollaborator { app: key.app.clone(), email, personal: true },
        other => Action::Manual { text: format!("grant type `{other}` has no removal hkaudit knows") },
    }
}

fn header_warnings(inputs: &PlanInputs) -> Vec<String> {
    let mut w = Vec::new();
    if !inputs.complete {
        w.push(format!("snapshot {} is incomplete (see the gaps in its manifest.json): access in what it did not read is not in this plan", inputs.snapshot_id));
    }
    w
}

/// The rules `plan` fixes when `--rules` is not given: those whose header declares a safe,
/// mechanical fix (anything but `fix: manual`), in the order of the analysis.
pub fn default_rules(set: &FindingSet) -> Vec<String> {
    let mut rules: Vec<String> = Vec::new();
    let declared = set.rules.iter().map(|r| (&r.rule_id, r.fix));
    for (id, fix) in declared.chain(set.findings.iter().map(|f| (&f.rule_id, f.fix))) {
        if fix != Fix::Manual && !rules.contains(id) {
            rules.push(id.clone());
        }
    }
    rules
}

/// The plan for the findings of `rules` (default [`default_rules`]).
pub fn plan_findings(inputs: &PlanInputs, rules: Option<&[String]>) -> Result<Plan, HistoryError> {
    let set = inputs.findings.as_ref().ok_or_else(|| {
        InputError::new(
            Path::new(&inputs.snapshot_id),
            None,
            "this snapshot has no findings.json",
            "run `hkaudit analyze` on it first, or pass --from-worksheet",
        )
    })?;
    let chosen: Vec<String> = match rules {
        Some(r) => r.to_vec(),
        None => default_rules(set),
    };
    let mut known: Vec<String> =
        set.rules.iter().map(|r| r.rule_id.clone()).chain(set.findings.iter().map(|f| f.rule_id.clone())).collect();
    known.sort();
    known.dedup();
    if let Some(bad) = chosen.iter().find(|r| !known.contains(r)) {
        return Err(InputError::option(
            "--rules",
            format!("unknown rule `{bad}`"),
            format!("the rules of this analysis are {}", known.join(", ")),
        )
        .into());
    }
    let mut warnings = header_warnings(inputs);
    if set.snapshot_id != inputs.snapshot_id {
        warnings.push(format!("findings.json is for snapshot {}, not {}", set.snapshot_id, inputs.snapshot_id));
    }
    let mut steps = Steps::default();
    for f in set.findings.iter().filter(|f| chosen.contains(&f.rule_id)) {
        plan_finding(inputs, f, &mut steps);
    }
    Ok(Plan {
        snapshot_id: inputs.snapshot_id.clone(),
        as_of: inputs.as_of.clone(),
        source: format!("findings.json, rules {}", chosen.join(", ")),
        warnings,
        steps: steps.0.into_values().collect(),
    })
}

fn plan_finding(inputs: &PlanInputs, f: &Finding, steps: &mut Steps) {
    let r = FindingRef {
        rule_id: f.rule_id.clone(),
        subject: f.subject.display(),
        fingerprint: f.fingerprint.clone(),
        message: f.message.clone(),
    };
    let s = &f.subject;
    let email = s.email.as_deref().map(norm);
    let manual = |text: String| Action::Manual { text };
    let missing = || manual(format!("the finding lacks the team, app, email or id a command needs; {}", f.remediation));
    let action = match (f.fix, &s.team, &s.app, &email) {
        (Fix::RemoveTeamMember, Some(team), _, Some(email)) => Action::RemoveTeamMember { team: team.clone(), email: email.clone() },
        (Fix::RemoveAppCollaborator, team, Some(app), Some(email)) => {
            // A personal app's collaborator and a team app's are removed through different
            // endpoints: the snapshot's grant says which this is, else the finding's team.
            let grant = inputs.grants.iter().find(|g| &g.key.app == app && &g.key.email == email && [APP_PERMISSION, PERSONAL_APP_COLLABORATOR].contains(&g.key.grant_type.as_str()));
            let personal = grant.map_or(team.is_none(), |g| g.key.grant_type == PERSONAL_APP_COLLABORATOR);
            Action::RemoveAppCollaborator { app: app.clone(), email: email.clone(), personal }
        }
        (Fix::RevokeInvitation, Some(team), _, Some(email)) => match inputs.invitations.iter().find(|i| &i.team == team && &norm(&i.email) == email) {
            Some(inv) => Action::RevokeInvitation { team: team.clone(), email: email.clone(), id: inv.id.clone() },
            None => manual(format!("the invitation of {email} to team {team} is not in the snapshot any more: check `heroku members --team {team} --pending`")),
        },
        (Fix::RevokeAuthorization, _, _, Some(owner)) => match &s.item {
            Some(id) => Action::RevokeAuthorization { id: id.clone(), owner: owner.clone() },
            None => missing(),
        },
        (Fix::RemoveAllAccess, _, _, Some(email)) => {
            let mut any = false;
            // The rule gathers a person's access under every email of their user id: so does the plan.
            let ids: BTreeSet<&str> =
                inputs.grants.iter().filter(|g| &g.key.email == email).filter_map(|g| g.user_id.as_deref()).collect();
            let emails: BTreeSet<&str> = inputs
                .grants
                .iter()
                .filter(|g| &g.key.email == email || g.user_id.as_deref().is_some_and(|u| ids.contains(u)))
                .map(|g| g.key.email.as_str())
                .chain([email.as_str()])
                .collect();
            // Invitations are revoked just below, with their ids.
            for g in inputs.grants.iter().filter(|g| emails.contains(g.key.email.as_str()) && g.key.grant_type != TEAM_INVITATION) {
                steps.add(grant_action(&g.key, inputs), Some(g.key.clone()), Some(r.clone()), None);
                any = true;
            }
            for inv in inputs.invitations.iter().filter(|i| emails.contains(norm(&i.email).as_str())) {
                steps.add(Action::RevokeInvitation { team: inv.team.clone(), email: norm(&inv.email), id: inv.id.clone() }, None, Some(r.clone()), None);
                any = true;
            }
            if !any {
                steps.add(manual(format!("no grant or invitation of {email} is in the snapshot; {}", f.remediation)), None, Some(r.clone()), None);
            }
            // Authorizations are per user and not in the snapshot: say so once per person.
            manual(format!("{email}'s OAuth authorizations are not in the snapshot: have them run `heroku authorizations` and revoke each, or ask Heroku support to disable the account"))
        }
        (Fix::Manual, ..) => manual(f.remediation.clone()),
        _ => missing(),
    };
    let grant = match &action {
        Action::RemoveTeamMember { team, email } => inputs
            .grants
            .iter()
            .find(|g| g.key.grant_type == TEAM_MEMBERSHIP && &g.key.team == team && &g.key.email == email)
            .map(|g| g.key.clone()),
        Action::RemoveAppCollaborator { app, email, .. } => inputs
            .grants
            .iter()
            .find(|g| g.key.grant_type != TEAM_MEMBERSHIP && &g.key.app == app && &g.key.email == email)
            .map(|g| g.key.clone()),
        _ => None,
    };
    steps.add(action, grant, Some(r), None);
}

/// The plan for the grants a worksheet denies (`decision` = Deny).
pub fn plan_worksheet(inputs: &PlanInputs, worksheet_name: &str, rows: &[WorksheetRow]) -> Plan {
    let mut warnings = header_warnings(inputs);
    let other: Vec<usize> = rows
        .iter()
        .filter(|r| !r.snapshot_id.is_empty() && r.snapshot_id != inputs.snapshot_id)
        .map(|r| r.line)
        .collect();
    if !other.is_empty() {
        warnings.push(format!(
            "{} worksheet rows are from another snapshot than {} (first on line {}): grants are looked up in {}",
            other.len(),
            inputs.snapshot_id,
            other[0],
            inputs.snapshot_id
        ));
    }
    let mut steps = Steps::default();
    // Looked up once per denied row: a scan of every grant per row was quadratic in a large review.
    let known: std::collections::BTreeSet<&GrantKey> = inputs.grants.iter().map(|g| &g.key).collect();
    for row in rows.iter().filter(|r| r.decision == Decision::Deny) {
        let r = RowRef {
            file: row.source.clone().unwrap_or_else(|| match &row.sheet {
                Some(sheet) => format!("{worksheet_name} (sheet {sheet})"),
                None => worksheet_name.to_owned(),
            }),
            line: row.line,
            reviewer: row.reviewer.clone(),
            decision_date: row.decision_date.clone(),
            justification: row.justification.clone(),
        };
        let action = if known.contains(&row.key) {
            grant_action(&row.key, inputs)
        } else {
            Action::Manual { text: format!("{} is not in snapshot {}: removed since, or in a scope the snapshot did not read (see its gaps); nothing to run", row.key.display(), inputs.snapshot_id) }
        };
        steps.add(action, Some(row.key.clone()), None, Some(r));
    }
    Plan {
        snapshot_id: inputs.snapshot_id.clone(),
        as_of: inputs.as_of.clone(),
        source: format!("worksheet {worksheet_name}, rows with decision Deny"),
        warnings,
        steps: steps.0.into_values().collect(),
    }
}

/// One line, with control and invisible characters (newlines, bidi overrides, zero-width) written
/// as escapes, so text from Heroku can go in a comment without ending it or hiding anything.
pub fn one_line(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        let invisible = matches!(c, '\u{200B}'..='\u{200F}' | '\u{2028}'..='\u{202E}' | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}');
        if c.is_ascii_control() {
            out.extend(c.escape_default());
        } else if c.is_control() || invisible {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

fn comment(out: &mut String, text: &str) {
    out.push_str("# ");
    out.push_str(&one_line(text));
    out.push('\n');
}

fn or_none(s: &str, none: &str) -> String {
    if s.trim().is_empty() {
        none.to_owned()
    } else {
        s.to_owned()
    }
}

impl Plan {
    /// `plan.sh`: POSIX sh, refuses to run until `HKAUDIT_PLAN_REVIEWED=yes`, stops at the first
    /// failing command.
    pub fn script(&self) -> String {
        let commands = self.steps.iter().filter(|s| !matches!(s.action, Action::Manual { .. })).count();
        let mut out = String::from("#!/bin/sh\n");
        comment(&mut out, "Access remediation plan generated by `hkaudit plan`. Nothing in it has been run.");
        comment(&mut out, &format!("Snapshot: {} (as of {})", self.snapshot_id, self.as_of));
        comment(&mut out, &format!("From: {}", self.source));
        comment(
            &mut out,
            &format!(
                "Steps: {} ({} commands, {} to do by hand)",
                self.steps.len(),
                commands,
                self.steps.len() - commands
            ),
        );
        for w in &self.warnings {
            comment(&mut out, &format!("WARNING: {w}"));
        }
        out.push_str("#\n");
        for line in [
            "REVIEW EVERY STEP BEFORE RUNNING THIS. Each command removes access at once, and a removal",
            "cannot be undone: the person must be invited or added again. Delete the lines you do not want.",
            "It stops at the first command that fails (set -eu); comment out the steps already done",
            "before running it again. `enterprises:members-remove` needs the heroku-enterprise CLI plugin.",
            "Authorization revocations run only when you are logged in as their owner; otherwise skipped.",
            "When you have reviewed it:   HKAUDIT_PLAN_REVIEWED=yes sh plan.sh",
        ] {
            comment(&mut out, line);
        }
        out.push_str("set -eu\n");
        out.push_str(&format!("if [ \"${{{REVIEWED_VAR}:-}}\" != yes ]; then\n  echo \"review this plan before running it, then run it as: {REVIEWED_VAR}=yes sh plan.sh\" >&2\n  exit 1\nfi\n"));
        if self.steps.is_empty() {
            out.push('\n');
            comment(&mut out, "Nothing to do.");
        }
        for (i, step) in self.steps.iter().enumerate() {
            out.push('\n');
            comment(&mut out, &format!("step {}: {}", i + 1, step.action.describe()));
            for f in &step.findings {
                comment(
                    &mut out,
                    &format!("  finding {} {} (fingerprint {}): {}", f.rule_id, f.subject, f.fingerprint, f.message),
                );
            }
            for r in &step.rows {
                comment(
                    &mut out,
                    &format!(
                        "  worksheet {} line {}: Deny by {} on {}: {}",
                        r.file,
                        r.line,
                        or_none(&r.reviewer, "(no reviewer)"),
                        or_none(&r.decision_date, "(no date)"),
                        or_none(&r.justification, "(no justification)")
                    ),
                );
            }
            if let Some(g) = &step.grant {
                comment(&mut out, &format!("  grant: {}", g.display()));
            }
            match (step.action.command(), &step.action) {
                (Ok(None), _) => {}
                (Err(why), _) => comment(&mut out, &format!("  NOT WRITTEN AS A COMMAND: {why}; do this step by hand")),
                (Ok(Some(cmd)), Action::RevokeAuthorization { id, owner }) => {
                    // Quoting both with the same quoter keeps the test a plain string comparison.
                    let q = |v: &str| shlex::try_quote(v).map(|c| c.into_owned()).unwrap_or_default();
                    out.push_str(&format!(
                        "if [ \"$(heroku auth:whoami 2>/dev/null || true)\" = {owner_q} ]; then\n  {cmd}\nelse\n  printf 'step {n} skipped: authorization %s belongs to %s; log in as them to revoke it\\n' {id_q} {owner_q} >&2\nfi\n",
                        owner_q = q(owner),
                        id_q = q(id),
                        n = i + 1,
                    ));
                }
                (Ok(Some(cmd)), _) => {
                    out.push_str(&cmd);
                    out.push('\n');
                }
            }
        }
        out.push_str("\nexit 0\n");
        out
    }

    /// `plan.json`: the Platform API calls, one per step that has a command.
    pub fn api_json(&self) -> Result<String, HistoryError> {
        #[derive(Serialize)]
        struct Entry<'a> {
            step: usize,
            #[serde(flatten)]
            call: ApiCall,
            #[serde(skip_serializing_if = "Option::is_none")]
            grant: Option<&'a GrantKey>,
            #[serde(skip_serializing_if = "Vec::is_empty")]
            findings: &'a Vec<FindingRef>,
            #[serde(skip_serializing_if = "Vec::is_empty")]
            worksheet_rows: &'a Vec<RowRef>,
            reason: String,
        }
        let entries: Vec<Entry> = self
            .steps
            .iter()
            .enumerate()
            .filter_map(|(i, s)| {
                s.action.api().map(|call| Entry {
                    step: i + 1,
                    call,
                    grant: s.grant.as_ref(),
                    findings: &s.findings,
                    worksheet_rows: &s.rows,
                    reason: s.action.describe(),
                })
            })
            .collect();
        let mut text = serde_json::to_string_pretty(&entries)
            .map_err(|source| HistoryError::Json { path: "plan.json".into(), source })?;
        text.push('\n');
        Ok(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_keeps_hostile_values_one_word_and_refuses_option_lookalikes() {
        let a = Action::RemoveTeamMember { team: "t'; rm -rf ~ $(id)".into(), email: "a'b`x`@e.example".into() };
        let cmd = a.command().ok().flatten().unwrap_or_default();
        assert!(cmd.starts_with("heroku members:remove "), "{cmd}");
        assert_eq!(
            shlex::split(&cmd).unwrap_or_default(),
            vec!["heroku", "members:remove", "a'b`x`@e.example", "--team=t'; rm -rf ~ $(id)"]
        );
        let dash = Action::RemoveTeamMember { team: "t".into(), email: "--team=other".into() };
        assert!(dash.command().is_err());
        let nul = Action::RemoveTeamMember { team: "t\0".into(), email: "a@e.example".into() };
        assert!(nul.command().is_err());
    }

    #[test]
    fn comments_cannot_be_broken_out_of() {
        let s = one_line("a\nrm -rf ~\r\u{202E}x\u{2028}");
        assert!(!s.contains('\n') && !s.contains('\r') && !s.contains('\u{202E}') && !s.contains('\u{2028}'), "{s}");
        assert_eq!(one_line("Mo Müller"), "Mo Müller");
    }

    #[test]
    fn api_paths_encode_segments() {
        let a = Action::RemoveAppCollaborator { app: "a/b".into(), email: "x+y@e.example".into(), personal: false };
        assert_eq!(a.api().map(|c| c.path).unwrap_or_default(), "/teams/apps/a%2Fb/collaborators/x%2By@e.example");
    }
}
