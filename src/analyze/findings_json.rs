//! The internal findings to and from their published form, `findings.json`
//! ([`crate::published::FindingSetV1`]). Writing borrows every string of every finding; reading
//! moves them.
use std::borrow::Cow;

use super::finding::{
    Certify, Confidence, Finding, FindingSet, Fix, RuleResult, RuleStatus, SavingReason, Severity, SkippedScope,
    Subject, UnknownValues,
};
use super::inputs::{IdpInputSummary, InputRecord, InputWarning, SigninCoverage, TextEncoding};
use crate::published::{
    CertifyV1, ConfidenceV1, FindingSetV1, FindingV1, FixV1, IdpInputSummaryV1, InputRecordV1, InputWarningV1,
    RuleResultV1, RuleStatusV1, SavingReasonV1, SeverityV1, SigninCoverageV1, SkippedScopeV1, SubjectV1,
    TextEncodingV1, UnknownValuesV1,
};

fn severity(s: Severity) -> SeverityV1 {
    match s {
        Severity::Info => SeverityV1::Info,
        Severity::Low => SeverityV1::Low,
        Severity::Medium => SeverityV1::Medium,
        Severity::High => SeverityV1::High,
        Severity::Critical => SeverityV1::Critical,
    }
}

fn severity_of(s: SeverityV1) -> Severity {
    match s {
        SeverityV1::Info => Severity::Info,
        SeverityV1::Low => Severity::Low,
        SeverityV1::Medium => Severity::Medium,
        SeverityV1::High => Severity::High,
        SeverityV1::Critical => Severity::Critical,
    }
}

fn confidence(c: Confidence) -> ConfidenceV1 {
    match c {
        Confidence::Low => ConfidenceV1::Low,
        Confidence::Medium => ConfidenceV1::Medium,
        Confidence::High => ConfidenceV1::High,
    }
}

fn confidence_of(c: ConfidenceV1) -> Confidence {
    match c {
        ConfidenceV1::Low => Confidence::Low,
        ConfidenceV1::Medium => Confidence::Medium,
        ConfidenceV1::High => Confidence::High,
    }
}

fn fix(f: Fix) -> FixV1 {
    match f {
        Fix::RemoveTeamMember => FixV1::RemoveTeamMember,
        Fix::RemoveAppCollaborator => FixV1::RemoveAppCollaborator,
        Fix::RevokeInvitation => FixV1::RevokeInvitation,
        Fix::RevokeAuthorization => FixV1::RevokeAuthorization,
        Fix::RemoveAllAccess => FixV1::RemoveAllAccess,
        Fix::Manual => FixV1::Manual,
    }
}

fn fix_of(f: FixV1) -> Fix {
    match f {
        FixV1::RemoveTeamMember => Fix::RemoveTeamMember,
        FixV1::RemoveAppCollaborator => Fix::RemoveAppCollaborator,
        FixV1::RevokeInvitation => Fix::RevokeInvitation,
        FixV1::RevokeAuthorization => Fix::RevokeAuthorization,
        FixV1::RemoveAllAccess => Fix::RemoveAllAccess,
        FixV1::Manual => Fix::Manual,
    }
}

fn saving_reason(r: SavingReason) -> SavingReasonV1 {
    match r {
        SavingReason::Left => SavingReasonV1::Left,
        SavingReason::Deprovisioned => SavingReasonV1::Deprovisioned,
        SavingReason::Inactive => SavingReasonV1::Inactive,
    }
}

fn saving_reason_of(r: SavingReasonV1) -> SavingReason {
    match r {
        SavingReasonV1::Left => SavingReason::Left,
        SavingReasonV1::Deprovisioned => SavingReason::Deprovisioned,
        SavingReasonV1::Inactive => SavingReason::Inactive,
    }
}

fn certify(c: Certify) -> CertifyV1 {
    match c {
        Certify::Revoke => CertifyV1::Revoke,
        Certify::Review => CertifyV1::Review,
    }
}

fn certify_of(c: CertifyV1) -> Certify {
    match c {
        CertifyV1::Revoke => Certify::Revoke,
        CertifyV1::Review => Certify::Review,
    }
}

fn status(s: RuleStatus) -> RuleStatusV1 {
    match s {
        RuleStatus::Ok => RuleStatusV1::Ok,
        RuleStatus::Partial => RuleStatusV1::Partial,
        RuleStatus::Skipped => RuleStatusV1::Skipped,
        RuleStatus::Disabled => RuleStatusV1::Disabled,
        RuleStatus::Error => RuleStatusV1::Error,
    }
}

fn status_of(s: RuleStatusV1) -> RuleStatus {
    match s {
        RuleStatusV1::Ok => RuleStatus::Ok,
        RuleStatusV1::Partial => RuleStatus::Partial,
        RuleStatusV1::Skipped => RuleStatus::Skipped,
        RuleStatusV1::Disabled => RuleStatus::Disabled,
        RuleStatusV1::Error => RuleStatus::Error,
    }
}

fn encoding(e: TextEncoding) -> TextEncodingV1 {
    match e {
        TextEncoding::Utf8 => TextEncodingV1::Utf8,
        TextEncoding::Utf8Bom => TextEncodingV1::Utf8Bom,
        TextEncoding::Utf16LeBom => TextEncodingV1::Utf16LeBom,
        TextEncoding::Utf16BeBom => TextEncodingV1::Utf16BeBom,
    }
}

fn encoding_of(e: TextEncodingV1) -> TextEncoding {
    match e {
        TextEncodingV1::Utf8 => TextEncoding::Utf8,
        TextEncodingV1::Utf8Bom => TextEncoding::Utf8Bom,
        TextEncodingV1::Utf16LeBom => TextEncoding::Utf16LeBom,
        TextEncodingV1::Utf16BeBom => TextEncoding::Utf16BeBom,
    }
}

/// An input as the published formats (`findings.json`, `summary.json`) list it.
pub fn input_record(r: &InputRecord) -> InputRecordV1 {
    InputRecordV1 {
        name: r.name.clone(),
        kind: r.kind.clone(),
        file: r.file.clone(),
        idp: r.idp.as_ref().map(|s| IdpInputSummaryV1 {
            format: s.format.clone(),
            format_name: s.format_name.clone(),
            format_given: s.format_given,
            encoding: encoding(s.encoding),
            delimiter: s.delimiter.clone(),
            preamble: s.preamble.clone(),
            rows: s.rows,
            users: s.users,
            active: s.active,
            suspended: s.suspended,
            deprovisioned: s.deprovisioned,
            guests: s.guests,
            non_email_logins: s.non_email_logins,
            domains: s.domains.clone(),
            domains_from: s.domains_from.clone(),
            date_order: s.date_order.clone(),
            warnings: s.warnings,
            warning_list: s
                .warning_list
                .iter()
                .map(|w| InputWarningV1 { line: w.line, column: w.column.clone(), message: w.message.clone() })
                .collect(),
        }),
        signins: r.signins.as_ref().map(|c| SigninCoverageV1 {
            format: c.format.clone(),
            encoding: encoding(c.encoding),
            first: c.first,
            last: c.last,
            span_days: c.span_days(),
            apps: c.apps.clone(),
            rows: c.rows,
            other_rows: c.other_rows,
            warnings: c.warnings,
            warning_list: c
                .warning_list
                .iter()
                .map(|w| InputWarningV1 { line: w.line, column: w.column.clone(), message: w.message.clone() })
                .collect(),
        }),
    }
}

fn input_record_of(r: InputRecordV1) -> InputRecord {
    InputRecord {
        name: r.name,
        kind: r.kind,
        file: r.file,
        idp: r.idp.map(|s| IdpInputSummary {
            format: s.format,
            format_name: s.format_name,
            format_given: s.format_given,
            encoding: encoding_of(s.encoding),
            delimiter: s.delimiter,
            preamble: s.preamble,
            rows: s.rows,
            users: s.users,
            active: s.active,
            suspended: s.suspended,
            deprovisioned: s.deprovisioned,
            guests: s.guests,
            non_email_logins: s.non_email_logins,
            domains: s.domains,
            domains_from: s.domains_from,
            date_order: s.date_order,
            warnings: s.warnings,
            warning_list: s
                .warning_list
                .into_iter()
                .map(|w| InputWarning { line: w.line, column: w.column, message: w.message })
                .collect(),
        }),
        signins: r.signins.map(|c| SigninCoverage {
            format: c.format,
            encoding: encoding_of(c.encoding),
            first: c.first,
            last: c.last,
            apps: c.apps,
            rows: c.rows,
            other_rows: c.other_rows,
            warnings: c.warnings,
            warning_list: c
                .warning_list
                .into_iter()
                .map(|w| InputWarning { line: w.line, column: w.column, message: w.message })
                .collect(),
        }),
    }
}

fn rule_result(r: &RuleResult) -> RuleResultV1 {
    RuleResultV1 {
        rule_id: r.rule_id.clone(),
        title: r.title.clone(),
        description: r.description.clone(),
        remediation: r.remediation.clone(),
        fix: fix(r.fix),
        certify: certify(r.certify),
        frees_seat: r.frees_seat,
        severity: severity(r.severity),
        status: status(r.status),
        findings: r.findings,
        ignored: r.ignored,
        skipped: r
            .skipped
            .iter()
            .map(|s| SkippedScopeV1 {
                scope: s.scope.clone(),
                reason: s.reason.clone(),
                id: s.id.clone(),
                teams: s.teams.clone(),
            })
            .collect(),
        unknown: r
            .unknown
            .iter()
            .map(|u| UnknownValuesV1 { what: u.what.clone(), count: u.count, teams: u.teams.clone() })
            .collect(),
        error: r.error.clone(),
    }
}

fn rule_result_of(r: RuleResultV1) -> RuleResult {
    RuleResult {
        rule_id: r.rule_id,
        title: r.title,
        description: r.description,
        remediation: r.remediation,
        fix: fix_of(r.fix),
        certify: certify_of(r.certify),
        frees_seat: r.frees_seat,
        severity: severity_of(r.severity),
        status: status_of(r.status),
        findings: r.findings,
        ignored: r.ignored,
        skipped: r
            .skipped
            .into_iter()
            .map(|s| SkippedScope { scope: s.scope, reason: s.reason, id: s.id, teams: s.teams })
            .collect(),
        unknown: r
            .unknown
            .into_iter()
            .map(|u| UnknownValues { what: u.what, count: u.count, teams: u.teams })
            .collect(),
        error: r.error,
    }
}

fn part(v: &Option<String>) -> Option<Cow<'_, str>> {
    v.as_deref().map(Cow::Borrowed)
}

fn finding(f: &Finding) -> FindingV1<'_> {
    let s = &f.subject;
    FindingV1 {
        rule_id: Cow::Borrowed(&f.rule_id),
        severity: severity(f.severity),
        confidence: confidence(f.confidence),
        title: Cow::Borrowed(&f.title),
        subject: SubjectV1 {
            enterprise_account: part(&s.enterprise_account),
            team: part(&s.team),
            app: part(&s.app),
            email: part(&s.email),
            item: part(&s.item),
        },
        message: Cow::Borrowed(&f.message),
        evidence: Cow::Borrowed(&f.evidence),
        remediation: Cow::Borrowed(&f.remediation),
        fix: fix(f.fix),
        certify: certify(f.certify),
        frees_seat: f.frees_seat,
        saving_reason: f.saving_reason.map(saving_reason),
        monthly_cost_cents: f.monthly_cost_cents,
        fingerprint: Cow::Borrowed(&f.fingerprint),
    }
}

fn finding_of(f: FindingV1<'_>) -> Finding {
    let s = f.subject;
    let part = |v: Option<Cow<'_, str>>| v.map(Cow::into_owned);
    Finding {
        rule_id: f.rule_id.into_owned(),
        severity: severity_of(f.severity),
        confidence: confidence_of(f.confidence),
        title: f.title.into_owned(),
        subject: Subject {
            enterprise_account: part(s.enterprise_account),
            team: part(s.team),
            app: part(s.app),
            email: part(s.email),
            item: part(s.item),
        },
        message: f.message.into_owned(),
        evidence: f.evidence.into_owned(),
        remediation: f.remediation.into_owned(),
        fix: fix_of(f.fix),
        certify: certify_of(f.certify),
        frees_seat: f.frees_seat,
        saving_reason: f.saving_reason.map(saving_reason_of),
        monthly_cost_cents: f.monthly_cost_cents,
        fingerprint: f.fingerprint.into_owned(),
    }
}

/// The published form of a finding set, borrowing its findings.
pub fn to_v1(set: &FindingSet) -> FindingSetV1<'_> {
    FindingSetV1 {
        format_version: set.format_version,
        snapshot_id: set.snapshot_id.clone(),
        as_of: set.as_of,
        complete: set.complete,
        inputs: set.inputs.iter().map(input_record).collect(),
        rules: set.rules.iter().map(rule_result).collect(),
        findings: set.findings.iter().map(finding).collect(),
    }
}

/// A finding set read from its published form.
pub fn from_v1(set: FindingSetV1<'_>) -> FindingSet {
    FindingSet {
        format_version: set.format_version,
        snapshot_id: set.snapshot_id,
        as_of: set.as_of,
        complete: set.complete,
        inputs: set.inputs.into_iter().map(input_record_of).collect(),
        rules: set.rules.into_iter().map(rule_result_of).collect(),
        findings: set.findings.into_iter().map(finding_of).collect(),
    }
}
