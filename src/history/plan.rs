//! `hkaudit plan`: turn findings, or the grants reviewers denied in a worksheet, into a script of
//! `heroku` CLI commands and the equivalent Platform API calls. Nothing is executed: a person
//! reviews the plan and runs it.
//!
//! Everything that comes from Heroku or a worksheet is untrusted text (a team, app or email can
//! hold quotes, `$(...)`, newlines). Arguments are shell-quoted by `shlex`; comments are made one
//! line with control and invisible characters escaped, since a newline in a comment would start a
//! command; a positional value that begins with `-` is never written as a command, because the CLI
//! would read it as an option.

use std::path::Path;

use serde::Serialize;

use super::worksheet::{Decision, WorksheetRow};
use super::HistoryError;
pub use crate::analyze::remedy::{
    grant_action, one_line, plan_finding, read_invitations, Action, ApiCall, FindingRef, Invitation, PlanInputs,
    RowRef, Step, Steps,
};
use crate::analyze::{read_findings, FindingSet, Fix, InputError};
use crate::snapshot::grants::{load_grants, GrantKey};
use crate::snapshot::Snapshot;

/// The script refuses to run until this variable is `yes`: running it by accident does nothing.
pub const REVIEWED_VAR: &str = "HKAUDIT_PLAN_REVIEWED";

pub fn load_inputs(snapshot_dir: &Path) -> Result<PlanInputs, HistoryError> {
    let snapshot = Snapshot::open(snapshot_dir)?;
    let m = snapshot.manifest();
    let grants = load_grants(&snapshot)?;
    let invitations = read_invitations(&snapshot)?;
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
        steps: steps.into_steps(),
    })
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
        steps: steps.into_steps(),
    }
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
