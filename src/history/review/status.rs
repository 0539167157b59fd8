//! Where a campaign stands: every workbook that came back (`returned/`), read and matched to the
//! campaign's rows. A row is decided (Approve or Deny, with the justification it needs),
//! don't-know, undecided (nothing came back for it, or its decision is empty) or invalid (a word
//! hkaudit does not know, a missing justification, two files that disagree, a decision by the
//! grant's own holder, a row from another snapshot).
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use serde::Serialize;

use super::campaign::{sha256_hex, Campaign, Item, RETURNED_DIR};
use crate::history::worksheet::{self, place, Decision, WorksheetRow};
use crate::history::HistoryError;
use crate::snapshot::email_norm;
use crate::snapshot::grants::GrantKey;

/// File name endings read as returned workbooks.
pub const RETURNED_EXTENSIONS: [&str; 5] = ["xlsx", "xlsm", "xls", "ods", "csv"];
const RETURNED_DEPTH: usize = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum State {
    Approved,
    Denied,
    DontKnow,
    Undecided,
    Invalid,
}

/// The decision a row carries, and where it was read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    pub decision: Decision,
    pub reviewer: String,
    pub decision_date: String,
    pub justification: String,
    /// `returned/carol.xlsx, sheet acme-web, row 4`.
    pub source: String,
    pub file: String,
    pub sheet: Option<String>,
    pub line: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct ItemStatus {
    pub key: GrantKey,
    pub reviewer: String,
    pub group: String,
    pub state: State,
    /// The decision taken for the row, when one was read.
    pub entry: Option<Entry>,
    pub problems: Vec<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub rows: usize,
    pub decided: usize,
    pub approved: usize,
    pub denied: usize,
    pub dont_know: usize,
    pub undecided: usize,
    pub invalid: usize,
}

impl Counts {
    fn add(&mut self, s: State) {
        self.rows += 1;
        match s {
            State::Approved => {
                self.approved += 1;
                self.decided += 1;
            }
            State::Denied => {
                self.denied += 1;
                self.decided += 1;
            }
            State::DontKnow => self.dont_know += 1,
            State::Undecided => self.undecided += 1,
            State::Invalid => self.invalid += 1,
        }
    }

    /// Rows still open: undecided, don't know, invalid.
    pub fn open(&self) -> usize {
        self.rows - self.decided
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct GroupStatus {
    pub group: String,
    pub counts: Counts,
}

#[derive(Debug, Clone, Serialize)]
pub struct ReviewerStatus {
    pub reviewer: String,
    pub workbook: String,
    pub counts: Counts,
    pub groups: Vec<GroupStatus>,
    /// Returned files that decided any of this reviewer's rows.
    pub returned: Vec<String>,
    pub overdue: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct ReturnedFile {
    /// Relative to the campaign folder.
    pub path: String,
    pub sha256: String,
    pub rows: usize,
    /// The file could not be read at all: none of its rows count.
    pub error: Option<String>,
    /// Sheets without a `decision` column, not read.
    pub skipped_sheets: Vec<String>,
}

/// Something in a returned file that does not count toward any row.
#[derive(Debug, Clone, Serialize)]
pub struct Problem {
    pub source: String,
    pub problem: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Status {
    pub campaign: String,
    pub snapshot_id: String,
    pub due: NaiveDate,
    pub today: NaiveDate,
    pub overdue: bool,
    /// Every row decided (Approve or Deny, valid).
    pub complete: bool,
    pub counts: Counts,
    pub reviewers: Vec<ReviewerStatus>,
    pub files: Vec<ReturnedFile>,
    /// Rows matching no row of the campaign, files not read, other files in `returned/`.
    pub problems: Vec<Problem>,
    /// The rows that are invalid, each with why (also in `items`).
    pub invalid: Vec<ItemStatus>,
    /// Every row of the campaign, in campaign.json's order.
    #[serde(skip)]
    pub items: Vec<ItemStatus>,
}

fn is_returned_candidate(name: &str) -> bool {
    // Office and LibreOffice leave lock files beside an open workbook: `~$x.xlsx`, `.~lock.x#`.
    !name.starts_with('.') && !name.starts_with("~$")
}

fn list_returned(dir: &Path, rel: &Path, depth: usize, files: &mut Vec<PathBuf>, ignored: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir.join(rel)) else { return };
    let mut entries: Vec<_> = entries.flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let name = e.file_name().to_string_lossy().into_owned();
        let Ok(kind) = e.file_type() else { continue };
        let r = rel.join(&name);
        if !is_returned_candidate(&name) {
            continue;
        }
        if kind.is_dir() && depth > 1 {
            list_returned(dir, &r, depth - 1, files, ignored);
        } else if kind.is_file() {
            let ext = Path::new(&name).extension().and_then(|x| x.to_str()).unwrap_or_default().to_lowercase();
            if RETURNED_EXTENSIONS.contains(&ext.as_str()) {
                files.push(r);
            } else {
                ignored.push(r.display().to_string());
            }
        } else {
            ignored.push(r.display().to_string());
        }
    }
}

/// The returned files, relative to the campaign folder, in name order.
pub fn returned_files(dir: &Path) -> (Vec<PathBuf>, Vec<String>) {
    let mut files = Vec::new();
    let mut ignored = Vec::new();
    list_returned(dir, Path::new(RETURNED_DIR), RETURNED_DEPTH, &mut files, &mut ignored);
    (files, ignored)
}

fn justification_needed(item: &Item, decision: Decision) -> Option<&'static str> {
    match decision {
        Decision::Deny => Some("a Deny needs a justification"),
        Decision::Approve if item.flagged => Some("an Approve of a row with a finding needs a justification"),
        _ => None,
    }
}

/// Read `returned/` of the campaign in `dir` and say where every row stands on `today`.
pub fn status(dir: &Path, today: NaiveDate) -> Result<Status, HistoryError> {
    let campaign = Campaign::load(dir)?;
    status_of(&campaign, dir, today)
}

pub fn status_of(campaign: &Campaign, dir: &Path, today: NaiveDate) -> Result<Status, HistoryError> {
    let index: BTreeMap<&GrantKey, usize> = campaign.items.iter().enumerate().map(|(i, it)| (&it.key, i)).collect();
    let mut entries: Vec<Vec<Entry>> = vec![Vec::new(); campaign.items.len()];
    let mut issues: Vec<Vec<String>> = vec![Vec::new(); campaign.items.len()];
    let mut problems = Vec::new();
    let mut files = Vec::new();
    let (paths, ignored) = returned_files(dir);
    for name in ignored {
        problems.push(Problem {
            source: name,
            problem: "not a workbook hkaudit reads (xlsx, xlsm, xls, ods, csv): left out".into(),
        });
    }
    for rel in &paths {
        let full = dir.join(rel);
        let rel_s = rel.display().to_string();
        let bytes = std::fs::read(&full)
            .map_err(|e| HistoryError::input(full.display().to_string(), None, format!("cannot read: {e}")))?;
        let mut file = ReturnedFile {
            path: rel_s.clone(),
            sha256: sha256_hex(&bytes),
            rows: 0,
            error: None,
            skipped_sheets: vec![],
        };
        let back = match worksheet::read_back(&full) {
            Ok(b) => b,
            Err(e) => {
                file.error = Some(e.to_string());
                files.push(file);
                continue;
            }
        };
        file.skipped_sheets = back.skipped_sheets.clone();
        let src = |sheet: Option<&str>, line: usize| format!("{rel_s}, {}", place(sheet, line));
        for issue in back.issues() {
            let at = src(issue.sheet.as_deref(), issue.line);
            match issue.key.as_ref().and_then(|k| index.get(k)) {
                Some(i) => issues[*i].push(format!("{at}: {}", issue.problem)),
                None => problems.push(Problem { source: at, problem: format!("{}. {}", issue.problem, issue.fix) }),
            }
        }
        for row in back.rows() {
            file.rows += 1;
            let at = src(row.sheet.as_deref(), row.line);
            let Some(i) = index.get(&row.key).copied() else {
                problems.push(Problem {
                    source: at,
                    problem: format!(
                        "{} matches no row of campaign {}: keep the grant columns as hkaudit wrote them",
                        row.key.display(),
                        campaign.id
                    ),
                });
                continue;
            };
            if !row.snapshot_id.is_empty() && row.snapshot_id != campaign.snapshot.id {
                issues[i].push(format!(
                    "{at}: the row is from snapshot {}, not this campaign's {}",
                    row.snapshot_id, campaign.snapshot.id
                ));
                continue;
            }
            let item = &campaign.items[i];
            entries[i].push(Entry {
                decision: row.decision,
                reviewer: if row.reviewer.trim().is_empty() {
                    item.reviewer.clone()
                } else {
                    row.reviewer.trim().to_owned()
                },
                decision_date: row.decision_date.clone(),
                justification: row.justification.trim().to_owned(),
                source: at,
                file: rel_s.clone(),
                sheet: row.sheet.clone(),
                line: row.line,
            });
        }
        files.push(file);
    }
    for f in &files {
        if let Some(e) = &f.error {
            problems.push(Problem { source: f.path.clone(), problem: format!("not read: {e}") });
        }
    }

    let mut items = Vec::with_capacity(campaign.items.len());
    for (i, item) in campaign.items.iter().enumerate() {
        let mut probs = std::mem::take(&mut issues[i]);
        let decided: Vec<&Entry> = entries[i].iter().filter(|e| e.decision != Decision::NotReviewed).collect();
        let words: BTreeSet<Decision> = decided.iter().map(|e| e.decision).collect();
        if words.len() > 1 {
            probs.push(format!(
                "conflicting decisions: {}",
                decided
                    .iter()
                    .map(|e| format!("{} in {}", e.decision.as_str(), e.source))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        let entry = decided.first().map(|e| (*e).clone());
        if let Some(e) = &entry {
            if e.decision != Decision::DontKnow {
                let reviewer_ids: Vec<String> =
                    campaign.reviewer(&e.reviewer).map(|r| r.user_ids.clone()).unwrap_or_default();
                let own = email_norm(&e.reviewer) == item.key.email
                    || item.holder_id.as_ref().is_some_and(|h| reviewer_ids.contains(h));
                if own {
                    probs.push(format!(
                        "{}: decided by {}, who holds this grant: someone else must review it",
                        e.source, e.reviewer
                    ));
                }
                if e.justification.is_empty() {
                    if let Some(why) = justification_needed(item, e.decision) {
                        probs.push(format!("{}: {why}", e.source));
                    }
                }
            }
        }
        let state = if !probs.is_empty() {
            State::Invalid
        } else {
            match entry.as_ref().map(|e| e.decision) {
                Some(Decision::Approve) => State::Approved,
                Some(Decision::Deny) => State::Denied,
                Some(Decision::DontKnow) => State::DontKnow,
                _ => State::Undecided,
            }
        };
        items.push(ItemStatus {
            key: item.key.clone(),
            reviewer: item.reviewer.clone(),
            group: item.group.clone(),
            state,
            entry,
            problems: probs,
        });
    }

    let overdue_day = today > campaign.due;
    let mut counts = Counts::default();
    let mut per: BTreeMap<&str, BTreeMap<&str, Counts>> = BTreeMap::new();
    let mut returned_by: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for s in &items {
        counts.add(s.state);
        per.entry(&s.reviewer).or_default().entry(&s.group).or_default().add(s.state);
        if let Some(e) = &s.entry {
            returned_by.entry(&s.reviewer).or_default().insert(&e.file);
        }
    }
    let reviewers = campaign
        .reviewers
        .iter()
        .map(|r| {
            let groups: Vec<GroupStatus> = per
                .get(r.email.as_str())
                .map(|g| g.iter().map(|(name, c)| GroupStatus { group: (*name).to_owned(), counts: *c }).collect())
                .unwrap_or_default();
            let mut c = Counts::default();
            for g in &groups {
                c.rows += g.counts.rows;
                c.decided += g.counts.decided;
                c.approved += g.counts.approved;
                c.denied += g.counts.denied;
                c.dont_know += g.counts.dont_know;
                c.undecided += g.counts.undecided;
                c.invalid += g.counts.invalid;
            }
            ReviewerStatus {
                reviewer: r.email.clone(),
                workbook: r.xlsx.clone(),
                overdue: overdue_day && c.open() > 0,
                counts: c,
                groups,
                returned: returned_by
                    .get(r.email.as_str())
                    .map(|s| s.iter().map(|f| (*f).to_owned()).collect())
                    .unwrap_or_default(),
            }
        })
        .collect();
    let complete = counts.open() == 0;
    Ok(Status {
        campaign: campaign.id.clone(),
        snapshot_id: campaign.snapshot.id.clone(),
        due: campaign.due,
        today,
        overdue: overdue_day && !complete,
        complete,
        counts,
        reviewers,
        files,
        problems,
        invalid: items.iter().filter(|i| i.state == State::Invalid).cloned().collect(),
        items,
    })
}

impl Status {
    /// The rows decided Deny, as worksheet rows naming the file and sheet they were read from:
    /// what `plan --from-campaign` removes.
    pub fn denied_rows(&self, snapshot_id: &str) -> Vec<WorksheetRow> {
        self.items
            .iter()
            .filter(|i| i.state == State::Denied)
            .filter_map(|i| {
                let e = i.entry.as_ref()?;
                Some(WorksheetRow {
                    line: e.line,
                    sheet: e.sheet.clone(),
                    source: Some(match &e.sheet {
                        Some(s) => format!("{} (sheet {s})", e.file),
                        None => e.file.clone(),
                    }),
                    key: i.key.clone(),
                    snapshot_id: snapshot_id.to_owned(),
                    decision: Decision::Deny,
                    reviewer: e.reviewer.clone(),
                    decision_date: e.decision_date.clone(),
                    justification: e.justification.clone(),
                })
            })
            .collect()
    }
}
