//! `findings.json` (the frozen, versioned form other tools read) and `findings.parquet` (one row
//! per finding, evidence as JSON text), written atomically and readable by the owner only.
use std::path::Path;

use super::{AnalyzeError, FindingSet};
use crate::fsutil;
use crate::snapshot::TableBuilder;

pub const FINDINGS_JSON: &str = "findings.json";
pub const FINDINGS_PARQUET: &str = "findings.parquet";

pub fn write_findings(set: &FindingSet, dir: &Path) -> Result<(), AnalyzeError> {
    let out = |path: &Path, e: &dyn std::fmt::Display| AnalyzeError::Output {
        path: path.display().to_string(),
        detail: e.to_string(),
    };
    fsutil::create_private_dir_all(dir).map_err(|e| out(dir, &e))?;
    let f = &set.findings;
    let mut df = TableBuilder::new()
        .str("rule_id", f.iter().map(|x| Some(&x.rule_id)))
        .str("severity", f.iter().map(|x| Some(x.severity.as_str())))
        .str("confidence", f.iter().map(|x| Some(format!("{:?}", x.confidence).to_lowercase())))
        .str("title", f.iter().map(|x| Some(&x.title)))
        .str("enterprise_account_name", f.iter().map(|x| x.subject.enterprise_account.as_ref()))
        .str("team_name", f.iter().map(|x| x.subject.team.as_ref()))
        .str("app_name", f.iter().map(|x| x.subject.app.as_ref()))
        .str("email", f.iter().map(|x| x.subject.email.as_ref()))
        .str("item", f.iter().map(|x| x.subject.item.as_ref()))
        .str("message", f.iter().map(|x| Some(&x.message)))
        .str("evidence", f.iter().map(|x| serde_json::to_string(&x.evidence).ok()))
        .str("remediation", f.iter().map(|x| Some(&x.remediation)))
        .str("fix", f.iter().map(|x| Some(x.fix.as_str())))
        .str("certify", f.iter().map(|x| Some(x.certify.as_str())))
        .bool("frees_seat", f.iter().map(|x| Some(x.frees_seat)))
        .i64("monthly_cost_cents", f.iter().map(|x| x.monthly_cost_cents))
        .str("fingerprint", f.iter().map(|x| Some(&x.fingerprint)))
        .build("findings")?;
    write_frame(dir, FINDINGS_PARQUET, &mut df)?;
    // Written through its published type, so no internal change can change the format unseen.
    let json = serde_json::to_vec_pretty(&super::findings_json::to_v1(set)).map_err(|e| out(dir, &e))?;
    let path = dir.join(FINDINGS_JSON);
    fsutil::write_private_atomic(&path, &json).map_err(|e| out(&path, &e))
}

/// The normalised identity-provider rows analyze used, kept beside the findings so the report's
/// certification worksheet can show each person's IdP status.
pub const IDP_USERS_PARQUET: &str = "idp_users.parquet";
pub const IDP_DOMAINS_PARQUET: &str = "idp_domains.parquet";

/// Write a Parquet file (mode 0600) through a temporary sibling and a rename.
pub fn write_frame(dir: &Path, file: &str, df: &mut polars::prelude::DataFrame) -> Result<(), AnalyzeError> {
    let out = |path: &Path, e: &dyn std::fmt::Display| AnalyzeError::Output {
        path: path.display().to_string(),
        detail: e.to_string(),
    };
    let path = dir.join(file);
    let tmp = dir.join(format!(".{file}.tmp-{}", std::process::id()));
    let handle = fsutil::create_private_file(&tmp).map_err(|e| out(&tmp, &e))?;
    polars::prelude::ParquetWriter::new(handle).finish(df).map_err(|e| out(&tmp, &e))?;
    std::fs::rename(&tmp, &path).map_err(|e| out(&path, &e))
}

/// Read `findings.json` back (for `report` and `diff`).
pub fn read_findings(dir: &Path) -> Result<FindingSet, AnalyzeError> {
    let path = dir.join(FINDINGS_JSON);
    let bytes = std::fs::read(&path).map_err(|e| AnalyzeError::Input {
        path: path.display().to_string(),
        detail: format!("cannot read findings ({e}): run `hkaudit analyze` on this snapshot first"),
    })?;
    let set: crate::published::FindingSetV1<'static> = serde_json::from_slice(&bytes).map_err(|e| {
        AnalyzeError::Input { path: path.display().to_string(), detail: format!("not a findings file: {e}") }
    })?;
    let set = super::findings_json::from_v1(set);
    if set.format_version != FindingSet::FORMAT_VERSION {
        return Err(AnalyzeError::Input {
            path: path.display().to_string(),
            detail: format!(
                "findings format version {} is not {}: run `hkaudit analyze` again",
                set.format_version,
                FindingSet::FORMAT_VERSION
            ),
        });
    }
    Ok(set)
}
