//! History: what changed between snapshots, and whether what reviewers decided was done.
//!
//! Heroku leaves the loop open (no SCIM, no cascading removal); this stage closes it by reading
//! the outputs of earlier stages (snapshots, findings, filled-in worksheets) and nothing else.
pub mod certify;
pub mod diff;
pub mod plan;
pub mod retention;
pub mod review;
pub mod spreadsheet;
pub mod worksheet;

pub use certify::{certify, closure_csv, closure_markdown, Acceptance, Closure, ClosureReport, ClosureRow};
pub use diff::{diff, SnapshotDiff};
pub use plan::{load_inputs, plan_findings, plan_worksheet, Plan, PlanInputs};
pub use worksheet::{read_back, read_worksheet, Decision, ReadBack, WorksheetRow};

#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    #[error(transparent)]
    Snapshot(#[from] crate::snapshot::SnapshotError),
    #[error(transparent)]
    Output(#[from] crate::output::OutputError),
    #[error(transparent)]
    Analyze(#[from] crate::analyze::AnalyzeError),
    /// A worksheet, an option or a snapshot given is not what it must be.
    #[error(transparent)]
    BadInput(#[from] crate::analyze::InputError),
    /// A campaign file (workbook, closure, evidence) could not be written.
    #[error("{}: {action}", path.display())]
    Write {
        path: std::path::PathBuf,
        /// What was being done (`cannot write`, `cannot move the campaign into place`).
        action: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: cannot build the workbook")]
    Workbook {
        path: String,
        #[source]
        source: rust_xlsxwriter::XlsxError,
    },
    #[error("{path}: cannot write")]
    Json {
        path: String,
        #[source]
        source: serde_json::Error,
    },
}

impl HistoryError {
    /// A bad input (a campaign file, a workbook, a reviewers file): the one [`InputError`], whose
    /// `detail` already says what to do.
    ///
    /// [`InputError`]: crate::analyze::InputError
    /// A campaign file that could not be written: `action` says what was being done.
    pub(crate) fn write(path: &std::path::Path, action: &'static str, source: std::io::Error) -> Self {
        HistoryError::Write { path: path.to_owned(), action, source }
    }

    pub(crate) fn input(path: impl AsRef<str>, line: Option<usize>, detail: String) -> Self {
        HistoryError::BadInput(crate::analyze::InputError::new(std::path::Path::new(path.as_ref()), line, detail, ""))
    }
}

/// The diff as Markdown (template `reports/diff.md`).
pub fn diff_markdown(d: &SnapshotDiff) -> Result<String, HistoryError> {
    Ok(crate::output::render_named("diff.md", &serde_json::json!({ "d": d, "money": money_table(d) }))?)
}

/// Display strings for the cost figures, so the template does no arithmetic.
fn money_table(d: &SnapshotDiff) -> serde_json::Value {
    use crate::analyze::money;
    serde_json::json!({
        "old": money(d.cost.old_monthly_cents),
        "new": money(d.cost.new_monthly_cents),
        "delta": signed(d.cost.delta_cents),
        "excluded_note": d.cost.excluded_note,
        "teams": d.cost.teams.iter().map(|t| match &t.not_read {
            Some(why) => serde_json::json!({"team": t.team, "not_read": why}),
            None => serde_json::json!({"team": t.team, "old_seats": t.old_seats, "new_seats": t.new_seats, "old": money(t.old_monthly_cents), "new": money(t.new_monthly_cents), "delta": signed(t.delta_cents)}),
        }).collect::<Vec<_>>(),
    })
}

fn signed(cents: i64) -> String {
    let m = crate::analyze::money(cents.abs());
    if cents > 0 {
        format!("+{m}")
    } else if cents < 0 {
        format!("-{m}")
    } else {
        m
    }
}

/// One row per change, for spreadsheets.
pub fn diff_csv(d: &SnapshotDiff) -> Result<Vec<u8>, HistoryError> {
    let header = [
        "change",
        "grant_type",
        "enterprise_account",
        "team",
        "app",
        "email",
        "old",
        "new",
        "rule_id",
        "severity",
        "fingerprint",
    ];
    let mut rows: Vec<Vec<String>> = Vec::new();
    let grant = |kind: &str, g: &diff::GrantChange, old: &str, new: &str| {
        vec![
            kind.to_owned(),
            g.key.grant_type.clone(),
            g.key.enterprise_account.clone(),
            g.key.team.clone(),
            g.key.app.clone(),
            g.email.clone(),
            old.to_owned(),
            new.to_owned(),
            String::new(),
            String::new(),
            String::new(),
        ]
    };
    for g in &d.joiners {
        rows.push(grant("joiner", g, "", &g.role));
    }
    for g in &d.leavers {
        rows.push(grant("leaver", g, &g.role, ""));
    }
    for g in &d.unknown {
        rows.push(grant("unknown", g, "", ""));
    }
    for (kind, list) in [("role-change", &d.role_changes), ("permission-change", &d.permission_changes)] {
        for c in list {
            rows.push(vec![
                kind.to_owned(),
                c.key.grant_type.clone(),
                c.key.enterprise_account.clone(),
                c.key.team.clone(),
                c.key.app.clone(),
                c.email.clone(),
                c.old.clone(),
                c.new.clone(),
                String::new(),
                String::new(),
                String::new(),
            ]);
        }
    }
    if let Some(f) = &d.findings {
        for (kind, list) in [
            ("finding-new", &f.new),
            ("finding-resolved", &f.resolved),
            ("finding-persisting", &f.persisting),
            ("finding-not-rechecked", &f.not_rechecked),
        ] {
            for x in list {
                rows.push(vec![
                    kind.to_owned(),
                    String::new(),
                    String::new(),
                    String::new(),
                    String::new(),
                    x.subject.clone(),
                    String::new(),
                    x.message.clone(),
                    x.rule_id.clone(),
                    x.severity.clone(),
                    x.fingerprint.clone(),
                ]);
            }
        }
    }
    Ok(crate::output::csv_bytes(&header, rows.into_iter())?)
}

#[cfg(test)]
mod error_tests {
    use super::*;

    #[test]
    fn a_campaign_file_that_cannot_be_written_keeps_the_io_error_under_its_path() {
        let err = HistoryError::Write {
            path: "campaigns/2026-Q4/campaign.json".into(),
            action: "cannot write",
            source: std::io::Error::new(std::io::ErrorKind::StorageFull, "no space left on device"),
        };
        assert_eq!(err.to_string(), "campaigns/2026-Q4/campaign.json: cannot write");
        let chain = format!("{:#}", anyhow::Error::from(err));
        assert_eq!(chain, "campaigns/2026-Q4/campaign.json: cannot write: no space left on device");
    }
}
