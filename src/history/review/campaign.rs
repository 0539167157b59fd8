//! A review campaign: one folder holding `campaign.json` (what is reviewed, by whom, until when),
//! the workbooks sent to reviewers (`workbooks/`), what came back (`returned/`), and at the end
//! the closure and its evidence pack.
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::assign::{self, Directory, Known, Overrides};
use super::workbook;
use crate::analyze::Config;
use crate::history::HistoryError;
use crate::snapshot::grants::{load_grants, GrantKey, NOT_READ};
use crate::snapshot::{email_norm, Snapshot};

pub const CAMPAIGN_JSON: &str = "campaign.json";
/// The workbooks as sent, one `.xlsx` and one `.csv` per reviewer.
pub const WORKBOOKS_DIR: &str = "workbooks";
/// Where the campaign owner puts what reviewers send back (any name; xlsx, ods, xls or csv).
pub const RETURNED_DIR: &str = "returned";
/// Bumped when campaign.json changes meaning.
pub const FORMAT_VERSION: u32 = 1;
/// Days a campaign runs when `--due` is not given.
pub const DEFAULT_DAYS: i64 = 30;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Campaign {
    pub format_version: u32,
    pub id: String,
    pub created_at: DateTime<Utc>,
    pub hkaudit_version: String,
    pub snapshot: CampaignSnapshot,
    /// The quarter reviewed, e.g. `2026-Q4`.
    pub period: String,
    pub due: NaiveDate,
    pub fallback_reviewer: Option<String>,
    /// The `--reviewers` file, when one was given.
    pub reviewers_file: Option<String>,
    pub reviewers: Vec<Reviewer>,
    /// Scopes the snapshot did not read, with why: nothing in them is reviewed in this campaign.
    pub not_read: Vec<String>,
    /// Every grant under review, each assigned to exactly one reviewer.
    pub items: Vec<Item>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CampaignSnapshot {
    pub id: String,
    pub as_of: DateTime<Utc>,
    /// Where the snapshot was when the campaign started (`latest` resolved).
    pub path: PathBuf,
    /// SHA-256 of its `manifest.json`, which holds the SHA-256 of every table.
    pub manifest_sha256: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reviewer {
    pub email: String,
    /// Relative to the campaign folder.
    pub xlsx: String,
    pub csv: String,
    pub xlsx_sha256: String,
    pub csv_sha256: String,
    pub rows: usize,
    /// How many of them came to this reviewer as the fallback.
    pub fallback_rows: usize,
    /// The groups (teams, `enterprise account X`, `personal apps`) in the workbook.
    pub groups: Vec<String>,
    /// Heroku user ids of the reviewer's email, so a reviewer is recognised under another email.
    #[serde(default)]
    pub user_ids: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    pub key: GrantKey,
    /// The Heroku user id of the grant's holder, when the snapshot has one.
    pub holder_id: Option<String>,
    pub reviewer: String,
    /// Why this reviewer: `admin of team acme-web`, `fallback reviewer: …`.
    pub basis: String,
    /// The team, `enterprise account X` or `personal apps`: the sheet it is on.
    pub group: String,
    /// The grant has a finding: any decision on it needs a justification.
    pub flagged: bool,
    /// `Approve` or `Deny`, in the decision column's words.
    pub recommended: String,
    pub reason: String,
}

impl Campaign {
    pub fn load(dir: &Path) -> Result<Campaign, HistoryError> {
        let path = dir.join(CAMPAIGN_JSON);
        let text = std::fs::read_to_string(&path).map_err(|e| {
            HistoryError::input(
                path.display().to_string(),
                None,
                format!(
                "cannot read the campaign: {e}. Pass the folder `hkaudit review start` wrote (it holds campaign.json)"
            ),
            )
        })?;
        let c: Campaign = serde_json::from_str(&text).map_err(|e| {
            HistoryError::input(
                path.display().to_string(),
                Some(e.line()),
                format!(
                    "campaign.json does not parse: {e}. Restore it from the evidence pack or start the campaign again"
                ),
            )
        })?;
        if c.format_version != FORMAT_VERSION {
            return Err(HistoryError::input(
                path.display().to_string(),
                None,
                format!(
                    "campaign format version {} is not one this hkaudit reads (it reads {FORMAT_VERSION})",
                    c.format_version
                ),
            ));
        }
        Ok(c)
    }

    pub fn reviewer(&self, email: &str) -> Option<&Reviewer> {
        let e = email_norm(email);
        self.reviewers.iter().find(|r| r.email == e)
    }
}

/// What a campaign reviews, as the certification worksheet's rows give it: any table with the
/// worksheet's key and recommendation columns. Every other column is shown to the reviewer as
/// it comes, so a column added to the worksheet reaches the workbooks too.
#[derive(Debug, Clone, Default)]
pub struct ReviewInput {
    pub columns: Vec<String>,
    pub items: Vec<InputItem>,
    /// One line per scope not read (from the worksheet's `not-read` rows).
    pub not_read: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct InputItem {
    pub key: GrantKey,
    /// Aligned with [`ReviewInput::columns`].
    pub cells: Vec<String>,
    pub flagged: bool,
    pub recommended: String,
    pub reason: String,
}

/// Worksheet columns the campaign writes itself (after the grant's columns).
const OWN_COLUMNS: [&str; 6] =
    ["recommended_decision", "recommendation_reason", "reviewer", "decision", "decision_date", "justification"];

impl ReviewInput {
    /// From a worksheet's header and rows (e.g. `CertRow::HEADER` and each row's cells).
    pub fn from_table<R, C>(header: &[&str], rows: R) -> Result<ReviewInput, HistoryError>
    where
        R: IntoIterator<Item = C>,
        C: AsRef<[String]>,
    {
        let at = |name: &str| {
            header.iter().position(|h| *h == name).ok_or_else(|| {
                HistoryError::input("certification rows", None, format!("no `{name}` column (a bug in hkaudit)"))
            })
        };
        let [gt, ea, team, app, email, flags, rec, reason] = [
            at("grant_type")?,
            at("enterprise_account")?,
            at("team")?,
            at("app")?,
            at("user_email")?,
            at("flags")?,
            at("recommended_decision")?,
            at("recommendation_reason")?,
        ];
        let keep: Vec<usize> = (0..header.len()).filter(|i| !OWN_COLUMNS.contains(&header[*i])).collect();
        let mut input =
            ReviewInput { columns: keep.iter().map(|i| header[*i].to_owned()).collect(), ..Default::default() };
        for row in rows {
            let row = row.as_ref();
            let get = |i: usize| row.get(i).cloned().unwrap_or_default();
            if get(gt) == NOT_READ {
                let place = [get(ea), get(team), get(app)].into_iter().filter(|s| !s.is_empty()).collect::<Vec<_>>();
                input.not_read.push(format!("{}: {}", place.join(" / "), get(reason)));
                continue;
            }
            let recommended = match crate::history::Decision::parse(&get(rec)) {
                Some(d) if d.is_decided() => d.as_str().to_owned(),
                _ => String::new(),
            };
            input.items.push(InputItem {
                key: GrantKey {
                    grant_type: get(gt),
                    enterprise_account: get(ea),
                    team: get(team),
                    app: get(app),
                    email: email_norm(&get(email)),
                },
                cells: keep.iter().map(|i| get(*i)).collect(),
                flagged: !get(flags).trim().is_empty(),
                recommended,
                reason: get(reason),
            });
        }
        Ok(input)
    }
}

#[derive(Debug, Clone)]
pub struct StartOptions {
    pub snapshot_dir: PathBuf,
    /// Default: `<snapshots folder>/campaigns/<campaign id>`, where `snapshots prune` sees it.
    pub out: Option<PathBuf>,
    pub due: Option<NaiveDate>,
    pub reviewers: Option<PathBuf>,
    /// The started time (a test fixes it).
    pub now: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Started {
    pub dir: PathBuf,
    pub campaign: Campaign,
    /// Rows that went to the fallback reviewer, by why.
    pub fallback: BTreeMap<String, usize>,
}

impl Started {
    pub fn fallback_rows(&self) -> usize {
        self.fallback.values().sum()
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

pub(crate) fn sha256_file(path: &Path) -> Result<String, HistoryError> {
    let bytes = std::fs::read(path)
        .map_err(|e| HistoryError::input(path.display().to_string(), None, format!("cannot read: {e}")))?;
    Ok(sha256_hex(&bytes))
}

/// `2026-Q4` for the quarter `at` falls in, as the certification worksheet names it.
pub fn review_period(at: DateTime<Utc>) -> String {
    format!("{}-Q{}", at.year(), (at.month() - 1) / 3 + 1)
}

/// A reviewer's email as a file name: lower case, anything but letters, digits and `@._+-`
/// replaced, never hidden.
fn file_stem(email: &str, taken: &BTreeSet<String>) -> String {
    let mut s: String = email
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '@' | '.' | '_' | '+' | '-') { c } else { '_' })
        .collect();
    if s.starts_with('.') || s.is_empty() {
        s.insert(0, '_');
    }
    let mut name = s.clone();
    let mut n = 2;
    while taken.contains(&name) {
        name = format!("{s}-{n}");
        n += 1;
    }
    name
}

fn group_of(key: &GrantKey) -> String {
    if !key.team.is_empty() {
        key.team.clone()
    } else if !key.app.is_empty() {
        "personal apps".to_owned()
    } else {
        format!("enterprise account {}", key.enterprise_account)
    }
}

/// Start a campaign over `input` (the certification rows of `opts.snapshot_dir`): assign every
/// grant, write the workbooks and `campaign.json` into a new folder. The folder is built beside
/// its place and renamed in at the end, and an existing one is never touched: its returned
/// workbooks would be lost.
pub fn start(input: &ReviewInput, config: &Config, opts: &StartOptions) -> Result<Started, HistoryError> {
    let snapshot = Snapshot::open(&opts.snapshot_dir)?;
    let m = snapshot.manifest();
    let manifest_sha256 = sha256_file(&snapshot.dir().join("manifest.json"))?;
    let real_dir = std::fs::canonicalize(snapshot.dir()).unwrap_or_else(|_| snapshot.dir().to_owned());
    let period = review_period(m.as_of);
    let id = format!("{period}-{}", m.snapshot_id);
    let dir = match &opts.out {
        Some(d) => d.clone(),
        // Beside the snapshot as it was named (`snapshots/latest` → `snapshots/`), so the path
        // printed is one the user recognises.
        None => opts
            .snapshot_dir
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .or_else(|| real_dir.parent())
            .unwrap_or(Path::new("."))
            .join("campaigns")
            .join(&id),
    };
    if dir.exists() {
        return Err(HistoryError::input(dir.display().to_string(), None, "a campaign folder is already there: hkaudit never overwrites one (its returned workbooks would be lost). Pass another --out, or remove it yourself".into()));
    }

    let grants = load_grants(&snapshot)?;
    let audit = m.account_email.as_deref().map(email_norm);
    let excluded = |e: &str| audit.as_deref() == Some(e) || config.is_service_account(e);
    let directory = Directory::of(&snapshot, &grants, &excluded)?;
    let overrides = match &opts.reviewers {
        Some(p) => Overrides::read(p, &Known::of(&grants, &directory))?,
        None => Overrides::default(),
    };
    let holder: BTreeMap<&GrantKey, Option<&str>> = grants.iter().map(|g| (&g.key, g.user_id.as_deref())).collect();
    let fallback = config.review.fallback_reviewer.as_deref();

    let mut items = Vec::with_capacity(input.items.len());
    let mut fallback_counts: BTreeMap<String, usize> = BTreeMap::new();
    let mut problems = Vec::new();
    let mut seen = BTreeSet::new();
    for it in &input.items {
        let Some(holder_id) = holder.get(&it.key) else {
            return Err(HistoryError::input(
                snapshot.dir().display().to_string(),
                None,
                format!("{} is not a grant of snapshot {} (a bug in hkaudit)", it.key.display(), m.snapshot_id),
            ));
        };
        if !seen.insert(&it.key) {
            continue;
        }
        match assign::assign(&it.key, *holder_id, &directory, &overrides, fallback) {
            Ok(a) => {
                if a.fallback {
                    *fallback_counts
                        .entry(a.basis.trim_start_matches("fallback reviewer: ").to_owned())
                        .or_default() += 1;
                }
                items.push((
                    Item {
                        key: it.key.clone(),
                        holder_id: holder_id.map(str::to_owned),
                        reviewer: a.reviewer,
                        basis: a.basis,
                        group: group_of(&it.key),
                        flagged: it.flagged,
                        recommended: it.recommended.clone(),
                        reason: it.reason.clone(),
                    },
                    &it.cells,
                ));
            }
            Err(why) => problems.push(why),
        }
    }
    if !problems.is_empty() {
        let shown: Vec<&str> = problems.iter().take(5).map(String::as_str).collect();
        return Err(HistoryError::input(
            opts.reviewers.as_deref().map(|p| p.display().to_string()).unwrap_or_else(|| "hkaudit review start".into()),
            None,
            format!(
                "{} grant{} cannot be assigned to anyone who does not hold {}: {}{}",
                problems.len(),
                if problems.len() == 1 { "" } else { "s" },
                if problems.len() == 1 { "it" } else { "them" },
                shown.join("; "),
                if problems.len() > shown.len() { "; …" } else { "" }
            ),
        ));
    }

    // Per reviewer, their rows grouped by sheet, in the worksheet's order.
    let mut by_reviewer: BTreeMap<String, BTreeMap<String, Vec<usize>>> = BTreeMap::new();
    for (i, (item, _)) in items.iter().enumerate() {
        by_reviewer.entry(item.reviewer.clone()).or_default().entry(item.group.clone()).or_default().push(i);
    }
    let mut campaign = Campaign {
        format_version: FORMAT_VERSION,
        id: id.clone(),
        created_at: opts.now,
        hkaudit_version: env!("CARGO_PKG_VERSION").to_owned(),
        snapshot: CampaignSnapshot { id: m.snapshot_id.clone(), as_of: m.as_of, path: real_dir, manifest_sha256 },
        period,
        due: opts.due.unwrap_or_else(|| (opts.now + chrono::Duration::days(DEFAULT_DAYS)).date_naive()),
        fallback_reviewer: fallback.map(email_norm),
        reviewers_file: opts.reviewers.as_deref().map(|p| p.display().to_string()),
        reviewers: Vec::new(),
        not_read: input.not_read.clone(),
        items: Vec::new(),
    };

    let parent = dir.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    crate::fsutil::create_private_dir_all(parent).map_err(|e| HistoryError::write(parent, "cannot write", e))?;
    let name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "campaign".into());
    let tmp = parent.join(format!(".tmp-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    let result = (|| -> Result<(), HistoryError> {
        crate::fsutil::create_private_dir_all(&tmp.join(WORKBOOKS_DIR))
            .map_err(|e| HistoryError::write(&tmp, "cannot write", e))?;
        crate::fsutil::create_private_dir_all(&tmp.join(RETURNED_DIR))
            .map_err(|e| HistoryError::write(&tmp, "cannot write", e))?;
        let header = workbook::header(&input.columns);
        let header_refs: Vec<&str> = header.iter().map(String::as_str).collect();
        let mut stems = BTreeSet::new();
        for (reviewer, groups) in &by_reviewer {
            let stem = file_stem(reviewer, &stems);
            stems.insert(stem.clone());
            let mut sheets = Vec::new();
            let mut all_rows = Vec::new();
            for (group, idx) in groups {
                let rows: Vec<Vec<String>> = idx
                    .iter()
                    .map(|i| workbook::row_cells(&input.columns, &items[*i].0, items[*i].1, reviewer))
                    .collect();
                all_rows.extend(rows.iter().cloned());
                sheets.push(workbook::Sheet { title: group, rows });
            }
            let xlsx_rel = format!("{WORKBOOKS_DIR}/{stem}.xlsx");
            let csv_rel = format!("{WORKBOOKS_DIR}/{stem}.csv");
            let xlsx = workbook::xlsx(&campaign, reviewer, &header, &sheets, &xlsx_rel)?;
            let csv = crate::output::csv_bytes(&header_refs, all_rows.into_iter())?;
            for (rel, bytes) in [(&xlsx_rel, &xlsx), (&csv_rel, &csv)] {
                let p = tmp.join(rel);
                crate::fsutil::write_private_atomic(&p, bytes)
                    .map_err(|e| HistoryError::write(&p, "cannot write", e))?;
            }
            let rows = groups.values().map(Vec::len).sum();
            let fallback_rows =
                groups.values().flatten().filter(|i| items[**i].0.basis.starts_with("fallback")).count();
            campaign.reviewers.push(Reviewer {
                email: reviewer.clone(),
                xlsx: xlsx_rel,
                csv: csv_rel,
                xlsx_sha256: sha256_hex(&xlsx),
                csv_sha256: sha256_hex(&csv),
                rows,
                fallback_rows,
                groups: groups.keys().cloned().collect(),
                user_ids: directory.user_ids(reviewer),
            });
        }
        campaign.items = items.iter().map(|(i, _)| i.clone()).collect();
        let json = serde_json::to_vec_pretty(&campaign)
            .map_err(|source| HistoryError::Json { path: tmp.display().to_string(), source })?;
        let p = tmp.join(CAMPAIGN_JSON);
        crate::fsutil::write_private_atomic(&p, &json).map_err(|e| HistoryError::write(&p, "cannot write", e))?;
        std::fs::rename(&tmp, &dir).map_err(|e| HistoryError::write(&dir, "cannot move the campaign into place", e))
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(e);
    }
    Ok(Started { dir, campaign, fallback: fallback_counts })
}

/// A snapshot a campaign or worksheet needs, and who needs it: what `snapshots prune` keeps.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Reference {
    pub snapshot_id: String,
    pub by: String,
}

/// How deep under the snapshots folder campaigns are looked for (`campaigns/<id>/campaign.json`
/// is depth 3).
const SEARCH_DEPTH: usize = 4;

fn find_campaigns(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut entries: Vec<_> = entries.flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let name = e.file_name().to_string_lossy().into_owned();
        // Symlinks are not followed (`latest`, or a loop); temporary folders are half-written.
        let Ok(kind) = e.file_type() else { continue };
        if name.starts_with(".tmp-") {
            continue;
        }
        if kind.is_file() && name == CAMPAIGN_JSON {
            out.push(dir.to_owned());
        } else if kind.is_dir() && depth > 1 {
            find_campaigns(&e.path(), depth - 1, out);
        }
    }
}

/// The snapshots a campaign needs: the one reviewed, and the one it was closed against.
pub fn campaign_references(dir: &Path) -> Result<Vec<Reference>, HistoryError> {
    let c = Campaign::load(dir)?;
    let by = format!("campaign {} ({})", c.id, dir.display());
    let mut out = vec![Reference { snapshot_id: c.snapshot.id.clone(), by: by.clone() }];
    for closed in super::close::closed_against(dir)? {
        out.push(Reference { snapshot_id: closed, by: format!("{by}, closed against it") });
    }
    Ok(out)
}

/// Every snapshot the campaigns under `snapshots_dir`, the campaign folders `campaigns` and the
/// workbooks `workbooks` (xlsx, ods, xls; CSV worksheets are read by the pruner itself)
/// reference. A campaign or workbook that cannot be read is an error: then nothing is pruned.
pub fn referenced_snapshots(
    snapshots_dir: &Path,
    campaigns: &[PathBuf],
    workbooks: &[PathBuf],
) -> Result<Vec<Reference>, HistoryError> {
    let mut dirs = Vec::new();
    find_campaigns(snapshots_dir, SEARCH_DEPTH, &mut dirs);
    dirs.extend(campaigns.iter().cloned());
    let mut out = BTreeSet::new();
    for d in &dirs {
        out.extend(campaign_references(d)?);
    }
    for w in workbooks {
        for id in crate::history::worksheet::snapshot_ids(w)? {
            out.insert(Reference { snapshot_id: id, by: format!("workbook {}", w.display()) });
        }
    }
    Ok(out.into_iter().collect())
}
