//! `findings.json` (the frozen, versioned form other tools read) and `findings.parquet` (one row
//! per finding, evidence as JSON text), written atomically and readable by the owner only.
use std::path::Path;

use super::{AnalyzeError, FindingSet, InputError};
use crate::fsutil;
use crate::snapshot::TableBuilder;

pub const FINDINGS_JSON: &str = "findings.json";
pub const FINDINGS_PARQUET: &str = "findings.parquet";

pub fn write_findings(set: &FindingSet, dir: &Path) -> Result<(), AnalyzeError> {
    fsutil::create_private_dir_all(dir).map_err(|e| AnalyzeError::output(dir, e))?;
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
        .str("saving_reason", f.iter().map(|x| x.saving_reason.map(|r| r.as_str())))
        .i64("monthly_cost_cents", f.iter().map(|x| x.monthly_cost_cents))
        .str("fingerprint", f.iter().map(|x| Some(&x.fingerprint)))
        .build("findings")?;
    write_frame(dir, FINDINGS_PARQUET, &mut df)?;
    // Written through its published type, so no internal change can change the format unseen.
    let path = dir.join(FINDINGS_JSON);
    let json =
        serde_json::to_vec_pretty(&super::findings_json::to_v1(set)).map_err(|e| AnalyzeError::output(&path, e))?;
    fsutil::write_private_atomic(&path, &json).map_err(|e| AnalyzeError::output(&path, e))
}

/// The normalised identity-provider rows analyze used, kept beside the findings so the report's
/// certification worksheet can show each person's IdP status.
pub const IDP_USERS_PARQUET: &str = "idp_users.parquet";
pub const IDP_DOMAINS_PARQUET: &str = "idp_domains.parquet";
/// The Heroku sign-ins read from `--signins` logs (`signins` table), kept for the same reason.
pub const SIGNINS_PARQUET: &str = "signins.parquet";

/// Write a Parquet file (mode 0600) through a temporary sibling and a rename.
pub fn write_frame(dir: &Path, file: &str, df: &mut polars::prelude::DataFrame) -> Result<(), AnalyzeError> {
    let path = dir.join(file);
    let tmp = dir.join(format!(".{file}.tmp-{}", std::process::id()));
    let handle = fsutil::create_private_file(&tmp).map_err(|e| AnalyzeError::output(&tmp, e))?;
    polars::prelude::ParquetWriter::new(handle).finish(df).map_err(|e| AnalyzeError::output(&tmp, e))?;
    std::fs::rename(&tmp, &path).map_err(|e| AnalyzeError::output(&path, e))
}

/// Read `findings.json` back (for `report` and `diff`).
pub fn read_findings(dir: &Path) -> Result<FindingSet, AnalyzeError> {
    let path = dir.join(FINDINGS_JSON);
    let bytes = std::fs::read(&path).map_err(|e| {
        InputError::new(
            &path,
            None,
            format!("cannot read findings ({e})"),
            "run `hkaudit analyze` on this snapshot first",
        )
    })?;
    let set: crate::published::FindingSetV1<'static> = serde_json::from_slice(&bytes).map_err(|e| {
        InputError::new(
            &path,
            None,
            format!("not a findings file: {e}"),
            "run `hkaudit analyze` on this snapshot again",
        )
    })?;
    if set.format_version != FindingSet::FORMAT_VERSION {
        return Err(InputError::new(
            &path,
            None,
            format!("findings format version {} is not {}", set.format_version, FindingSet::FORMAT_VERSION),
            "run `hkaudit analyze` again",
        )
        .into());
    }
    Ok(super::findings_json::from_v1(set))
}
