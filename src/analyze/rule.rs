//! Audit rules: one SQL file each in `queries/`, the file stem is the rule's stable id and the
//! `--` header is its documentation.
//!
//! ```sql
//! -- title: Paid seat with no recent activity
//! -- severity: medium
//! -- confidence: high
//! -- description: One paragraph; continuation lines start with `--` and two spaces.
//! -- remediation: What to do about a finding.
//! -- tables: team_members, activity
//! -- evidence: audit_events
//! -- params: as_of_epoch, inactive_days
//! -- gap_scope: team
//! -- by_person: activity
//! SELECT ...
//! ```
//! `tables` are those whose completeness the findings depend on; `evidence` tables only add
//! detail.
//!
//! `gap_scope` says what one finding is about, and so how a gap (a read that failed, in the
//! manifest) cuts the rule's judgement: exactly the scope the gap covers, never more.
//! - `team`: each row names its team (`team_id`). A gap on a team withholds that team's findings
//!   (and a gap on an enterprise account those of its teams); every other team is judged.
//! - `app`: each row names its app (`app_id`, and `team_id` for a team's app). A gap on an app, or
//!   on the team or enterprise account it belongs to, withholds that app's findings.
//! - `enterprise`: each row names its enterprise account (`enterprise_account_id`). A gap on the
//!   account withholds its findings; a gap on one of its teams qualifies them (see below).
//! - `person`: a finding is about a person across every scope (their access, their tokens). A gap
//!   never withholds one, since what was read is still true; it qualifies it instead.
//! - `global: <reason>`: the rule cannot be cut; any gap on its tables skips it. The reason is
//!   required, so a rule says why no narrower scope works.
//!
//! A finding whose judgement may depend on an unread part of a wider scope (a person's access in
//! a team that was not read, an enterprise manager who may administer the unread team) is kept and
//! qualified: its message ends with "also possibly in team X: not read" and its evidence has a
//! `not_read` entry. `by_person` lists tables joined to a row through the person rather than
//! through the row's scope (activity is anyone's, anywhere): a gap on them anywhere qualifies every
//! finding instead of withholding one scope.
//!
//! A row whose `unknown` column is set is not a finding: it names a value the rule needed and did
//! not have (a null 2FA flag, say), is counted in the rule result (`unknown`: what, how many,
//! which teams) and makes the rule `partial`, since unknown is never fine.
//!
//! A row's `confidence` column (`low`, `medium` or `high`), when the query returns one, is that
//! finding's confidence instead of the header's: a rule whose certainty depends on the evidence
//! (was a sign-in log covering the whole period read?) says so per row.
//!
//! `requires: idp` skips the rule when no identity-provider export is given. `exempt:
//! service_accounts` drops findings about allow-listed service accounts.
//!
//! What acting on a finding means downstream is declared here too, so that no code names a rule
//! and a rule of one's own (`--queries`) is planned, certified and costed like a built-in one:
//! - `fix:` what `plan` writes: `remove-team-member` (needs `team` and `email`),
//!   `remove-app-collaborator` (`app`, `email`), `revoke-invitation` (`team`, `email`),
//!   `revoke-authorization` (`item` the authorization id, `email` its owner), `remove-all-access`
//!   (`email`: every grant and invitation of the person), or `manual` (the remediation, by hand).
//! - `certify:` `revoke` recommends revoking the grants a finding is about in the certification
//!   worksheet; `review` recommends keeping them if justified.
//! - `frees-seat: true` counts acting on a finding as a saving in the cost report (the seat of the
//!   subject's team membership, or every team seat of a person-wide subject); it needs a `fix`
//!   that removes that membership.
//! - `saving-reason:` `left`, `deprovisioned` or `inactive`: why the seat goes, for the cost
//!   report's breakdown of the saving; only with `frees-seat: true`.
//!
//! Each is optional, defaulting to the safe choice: `manual`, `review`, `false`, no reason.
use std::collections::BTreeMap;
use std::path::Path;

use super::finding::{Certify, Confidence, Fix, SavingReason, Severity};
use super::{AnalyzeError, InputError};

/// Rules shipped in the binary (every `queries/*.sql` at build time).
const BUILTIN: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/builtin_rules.rs"));

/// Parameters a rule may use as `${name}`; values are formatted by hkaudit, never by the user.
pub const PARAMS: &[&str] =
    &["as_of_epoch", "inactive_days", "invite_stale_days", "seat_price_cents", "window_since_epoch"];

/// Tables a rule may read besides the snapshot's: the IdP exports, their sign-in logs (`signins`,
/// one row per sign-in to Heroku; `signin_logs`, the period each log covers), the organisation's
/// domains, and `people` (every email shown with access or a token, and the person it belongs to:
/// the Heroku user id shown with it, else the email). Without `--idp` or `--signins` their tables
/// are empty.
pub const INPUT_TABLES: &[&str] = &["idp_users", "idp_domains", "signins", "signin_logs", "org_domains", "people"];

/// How a gap cuts a rule's judgement (module documentation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GapScope {
    Team,
    App,
    Enterprise,
    Person,
    /// Cannot be cut: any gap on the rule's tables skips it, for the reason given.
    Global(String),
}

impl GapScope {
    /// The column each row must carry to say which scope it belongs to.
    pub fn key_column(&self) -> Option<&'static str> {
        match self {
            GapScope::Team => Some("team_id"),
            GapScope::App => Some("app_id"),
            GapScope::Enterprise => Some("enterprise_account_id"),
            GapScope::Person | GapScope::Global(_) => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Rule {
    pub id: String,
    pub title: String,
    pub severity: Severity,
    pub confidence: Confidence,
    pub description: String,
    pub remediation: String,
    /// Tables whose completeness the findings depend on: a gap on one of them withholds findings.
    pub tables: Vec<String>,
    /// Tables read only to add evidence: a gap there does not block the rule.
    pub evidence_tables: Vec<String>,
    pub params: Vec<String>,
    pub gap_scope: GapScope,
    /// Tables joined to a row through the person, not through its scope (`by_person`).
    pub by_person: Vec<String>,
    pub requires_idp: bool,
    pub exempt_service_accounts: bool,
    /// `fix`: what `plan` does about a finding.
    pub fix: Fix,
    /// `certify`: what the worksheet recommends for the grants a finding is about.
    pub certify: Certify,
    /// `frees-seat`: acting on a finding frees a paid seat (the cost report's saving).
    pub frees_seat: bool,
    /// `saving-reason`: why acting on a finding frees the seat.
    pub saving_reason: Option<SavingReason>,
    pub sql: String,
    /// Where it came from, for error messages.
    pub origin: String,
}

impl Rule {
    /// Parse a rule from its file text. `origin` names the file in errors.
    pub fn parse(id: &str, text: &str, origin: &str) -> Result<Rule, AnalyzeError> {
        let bad = |line: usize, detail: String| -> AnalyzeError {
            InputError::new(Path::new(origin), (line > 0).then_some(line), detail, "").into()
        };
        if !is_kebab(id) {
            return Err(bad(
                0,
                format!("rule id `{id}` (the file stem) must be kebab-case: lower-case letters, digits and `-`"),
            ));
        }
        let (mut fields, sql) = header(text, &bad)?;
        let mut take = |key: &str| -> Result<(usize, String), AnalyzeError> {
            fields
                .remove(key)
                .filter(|(_, v)| !v.is_empty())
                .ok_or_else(|| bad(0, format!("the header lacks `-- {key}: ...`")))
        };
        let title = take("title")?.1;
        let (line, severity) = take("severity")?;
        let severity = severity.parse().map_err(|e| bad(line, e))?;
        let (line, confidence) = take("confidence")?;
        let confidence = confidence.parse().map_err(|e| bad(line, e))?;
        let description = take("description")?.1;
        let remediation = take("remediation")?.1;
        let (line, tables) = take("tables")?;
        let tables = list(&tables);
        for t in &tables {
            if !crate::snapshot::TABLES.contains(&t.as_str()) && !INPUT_TABLES.contains(&t.as_str()) {
                return Err(bad(line, format!("unknown table `{t}` in `tables`")));
            }
        }
        let evidence_tables = match fields.remove("evidence") {
            Some((line, v)) => {
                let t = list(&v);
                if let Some(x) = t
                    .iter()
                    .find(|x| !crate::snapshot::TABLES.contains(&x.as_str()) && !INPUT_TABLES.contains(&x.as_str()))
                {
                    return Err(bad(line, format!("unknown table `{x}` in `evidence`")));
                }
                t
            }
            None => Vec::new(),
        };
        let params = match fields.remove("params") {
            Some((line, v)) => {
                let params = list(&v);
                if let Some(p) = params.iter().find(|p| !PARAMS.contains(&p.as_str())) {
                    return Err(bad(line, format!("unknown parameter `{p}`: known are {}", PARAMS.join(", "))));
                }
                params
            }
            None => Vec::new(),
        };
        let (line, scope) = fields.remove("gap_scope").filter(|(_, v)| !v.is_empty()).ok_or_else(|| {
            bad(0, "the header lacks `-- gap_scope: ...` (team, app, enterprise, person or `global: <reason>`)".into())
        })?;
        let gap_scope = match scope.split_once(':') {
            None if scope == "team" => GapScope::Team,
            None if scope == "app" => GapScope::App,
            None if scope == "enterprise" => GapScope::Enterprise,
            None if scope == "person" => GapScope::Person,
            Some((kind, reason)) if kind.trim() == "global" && !reason.trim().is_empty() => {
                GapScope::Global(reason.trim().to_owned())
            }
            _ if scope.starts_with("global") => {
                return Err(bad(
                    line,
                    "gap_scope `global` needs a reason: `global: why no narrower scope works`".into(),
                ))
            }
            _ => {
                return Err(bad(
                    line,
                    format!("gap_scope `{scope}`: use team, app, enterprise, person or `global: <reason>`"),
                ))
            }
        };
        let by_person = match fields.remove("by_person") {
            Some((line, v)) => {
                let t = list(&v);
                if let Some(x) = t.iter().find(|x| !tables.contains(x)) {
                    return Err(bad(line, format!("`by_person` table `{x}` is not one of the rule's `tables`")));
                }
                t
            }
            None => Vec::new(),
        };
        let requires_idp = match fields.remove("requires") {
            Some((_, v)) if v == "idp" => true,
            Some((line, v)) => return Err(bad(line, format!("requires `{v}`: only `idp` is known"))),
            None => false,
        };
        let exempt_service_accounts = match fields.remove("exempt") {
            Some((_, v)) if v == "service_accounts" => true,
            Some((line, v)) => return Err(bad(line, format!("exempt `{v}`: only `service_accounts` is known"))),
            None => false,
        };
        let (fix, certify, frees_seat, saving_reason) = consequences(&mut fields, &bad)?;
        if let Some((key, (line, _))) = fields.into_iter().next() {
            let hint = match key.as_str() {
                "frees_seat" => ": did you mean `frees-seat`?",
                "saving_reason" => ": did you mean `saving-reason`?",
                "gap-scope" => ": did you mean `gap_scope`?",
                "by-person" => ": did you mean `by_person`?",
                _ => "",
            };
            return Err(bad(line, format!("unknown header field `{key}`{hint}")));
        }
        // Every placeholder used must be declared, so the header stays the truth.
        for used in placeholders(&sql) {
            if !params.contains(&used) {
                return Err(bad(0, format!("the SQL uses ${{{used}}} but `params` does not declare it")));
            }
        }
        Ok(Rule {
            id: id.to_owned(),
            title,
            severity,
            confidence,
            description,
            remediation,
            tables,
            evidence_tables,
            params,
            gap_scope,
            by_person,
            requires_idp,
            exempt_service_accounts,
            fix,
            certify,
            frees_seat,
            saving_reason,
            sql,
            origin: origin.to_owned(),
        })
    }

    /// The rule's SQL with `${name}` replaced by the values given.
    pub fn bind(&self, values: &BTreeMap<&str, String>) -> Result<String, AnalyzeError> {
        let mut sql = self.sql.clone();
        for p in &self.params {
            let value = values.get(p.as_str()).ok_or_else(|| {
                InputError::new(Path::new(&self.origin), None, format!("no value for parameter `{p}`"), "")
            })?;
            sql = sql.replace(&format!("${{{p}}}"), value);
        }
        Ok(sql)
    }
}

/// A header field's line and value, by key.
type Fields = BTreeMap<String, (usize, String)>;

/// The `--` header's fields, and the SQL after it.
fn header(text: &str, bad: &dyn Fn(usize, String) -> AnalyzeError) -> Result<(Fields, String), AnalyzeError> {
    let mut fields: Fields = BTreeMap::new();
    let mut last: Option<String> = None;
    let mut body_start = None;
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        let Some(rest) = line.strip_prefix("--") else {
            if line.trim().is_empty() && body_start.is_none() {
                last = None;
                continue;
            }
            body_start = Some(i);
            break;
        };
        if rest.starts_with("  ") || rest.starts_with("\t") {
            // A continuation of the previous field.
            match &last {
                Some(key) => {
                    if let Some((_, value)) = fields.get_mut(key) {
                        value.push(' ');
                        value.push_str(rest.trim());
                    }
                }
                None => return Err(bad(n, "an indented header line continues no field".into())),
            }
            continue;
        }
        let Some((key, value)) = rest.trim().split_once(':') else {
            last = None;
            continue;
        };
        let key = key.trim().to_owned();
        if fields.insert(key.clone(), (n, value.trim().to_owned())).is_some() {
            return Err(bad(n, format!("header field `{key}` appears twice")));
        }
        last = Some(key);
    }
    let sql = body_start.map(|s| text.lines().skip(s).collect::<Vec<_>>().join("\n")).unwrap_or_default();
    if sql.trim().is_empty() {
        return Err(bad(0, "no SQL after the header".into()));
    }
    Ok((fields, sql))
}

/// `fix`, `certify` and `frees-seat`: what acting on a finding means downstream.
fn consequences(
    fields: &mut Fields,
    bad: &dyn Fn(usize, String) -> AnalyzeError,
) -> Result<(Fix, Certify, bool, Option<SavingReason>), AnalyzeError> {
    let fix = match fields.remove("fix") {
        Some((line, v)) => v.parse().map_err(|e| bad(line, e))?,
        None => Fix::Manual,
    };
    let certify = match fields.remove("certify") {
        Some((line, v)) => v.parse().map_err(|e| bad(line, e))?,
        None => Certify::Review,
    };
    let (frees_line, frees_seat) = match fields.remove("frees-seat") {
        Some((line, v)) if v == "true" => (line, true),
        Some((line, v)) if v == "false" => (line, false),
        Some((line, v)) => return Err(bad(line, format!("frees-seat `{v}`: use true or false"))),
        None => (0, false),
    };
    if frees_seat && !fix.removes_team_membership() {
        return Err(bad(
            frees_line,
            format!(
                "frees-seat: true needs a fix that removes the team membership (remove-team-member or remove-all-access), not `{}`",
                fix.as_str()
            ),
        ));
    }
    let saving_reason = match fields.remove("saving-reason") {
        Some((line, _)) if !frees_seat => {
            return Err(bad(line, "saving-reason says why a seat is freed: it needs `frees-seat: true`".into()))
        }
        Some((line, v)) => Some(v.parse().map_err(|e| bad(line, e))?),
        None => None,
    };
    Ok((fix, certify, frees_seat, saving_reason))
}

fn list(value: &str) -> Vec<String> {
    value.split(',').map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect()
}

fn is_kebab(id: &str) -> bool {
    !id.is_empty()
        && !id.starts_with('-')
        && !id.ends_with('-')
        && id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

fn placeholders(sql: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = sql;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        match after.find('}') {
            Some(end) => {
                out.push(after[..end].to_owned());
                rest = &after[end + 1..];
            }
            None => break,
        }
    }
    out
}

/// The rules shipped with hkaudit, sorted by id.
pub fn builtin_rules() -> Result<Vec<Rule>, AnalyzeError> {
    BUILTIN
        .iter()
        .map(|(file, text)| Rule::parse(file.trim_end_matches(".sql"), text, &format!("queries/{file}")))
        .collect()
}

/// Rules from a folder (`--queries DIR`), sorted by id.
pub fn load_rules(dir: &Path) -> Result<Vec<Rule>, AnalyzeError> {
    let io = |e: std::io::Error| {
        InputError::new(dir, None, format!("cannot read the rules folder: {e}"), "check the --queries path")
    };
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .map_err(io)?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "sql"))
        .collect();
    paths.sort();
    if paths.is_empty() {
        return Err(InputError::new(
            dir,
            None,
            "no .sql rules in this folder",
            "put one SQL file per rule in it, as in queries/",
        )
        .into());
    }
    paths
        .iter()
        .map(|p| {
            let text = std::fs::read_to_string(p)
                .map_err(|e| InputError::new(p, None, format!("cannot read the rule: {e}"), "check the file"))?;
            let id = p.file_stem().and_then(|s| s.to_str()).unwrap_or_default();
            Rule::parse(id, &text, &p.display().to_string())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "-- title: T\n-- severity: high\n-- confidence: medium\n-- description: first\n--   second\n-- remediation: fix it\n-- tables: team_members\n-- params: inactive_days\n-- gap_scope: team\nSELECT ${inactive_days} AS x, 'm' AS message FROM team_members\n";

    #[test]
    fn a_complete_header_parses() {
        let rule = Rule::parse("some-rule", GOOD, "x.sql").expect("parses");
        assert_eq!(rule.description, "first second");
        assert_eq!(rule.severity, Severity::High);
        assert_eq!(rule.gap_scope, GapScope::Team);
        let sql = rule.bind(&BTreeMap::from([("inactive_days", "90".to_owned())])).expect("binds");
        assert!(sql.starts_with("SELECT 90 AS x"), "{sql}");
    }

    #[test]
    fn header_problems_name_the_file_and_line() {
        let err =
            Rule::parse("some-rule", &GOOD.replace("severity: high", "severity: severe"), "queries/some-rule.sql")
                .expect_err("must be refused");
        assert_eq!(
            err.to_string(),
            "queries/some-rule.sql:2: unknown severity `severe`: use one of info, low, medium, high, critical."
        );
        let err = Rule::parse("some-rule", &GOOD.replace("-- remediation: fix it\n", ""), "r.sql")
            .expect_err("must be refused");
        assert!(err.to_string().contains("lacks `-- remediation"), "{err}");
        let err = Rule::parse("some-rule", &GOOD.replace("-- params: inactive_days\n", ""), "r.sql")
            .expect_err("must be refused");
        assert!(err.to_string().contains("does not declare it"), "{err}");
        let err = Rule::parse("Some_Rule", GOOD, "r.sql").expect_err("must be refused");
        assert!(err.to_string().contains("kebab-case"), "{err}");
    }

    #[test]
    fn gap_scope_is_required_and_global_needs_a_reason() {
        let without = GOOD.replace("-- gap_scope: team\n", "");
        let err = Rule::parse("some-rule", &without, "r.sql").expect_err("must be refused");
        assert!(err.to_string().contains("lacks `-- gap_scope"), "{err}");
        let err = Rule::parse("some-rule", &GOOD.replace("gap_scope: team", "gap_scope: global"), "r.sql")
            .expect_err("must be refused");
        assert_eq!(
            err.to_string(),
            "r.sql:9: gap_scope `global` needs a reason: `global: why no narrower scope works`."
        );
        let rule = Rule::parse(
            "some-rule",
            &GOOD.replace("gap_scope: team", "gap_scope: global: compares every team with every other"),
            "r.sql",
        )
        .expect("parses");
        assert_eq!(rule.gap_scope, GapScope::Global("compares every team with every other".into()));
        for (word, scope) in
            [("app", GapScope::App), ("enterprise", GapScope::Enterprise), ("person", GapScope::Person)]
        {
            let rule =
                Rule::parse("some-rule", &GOOD.replace("gap_scope: team", &format!("gap_scope: {word}")), "r.sql")
                    .expect("parses");
            assert_eq!(rule.gap_scope, scope);
        }
        let err = Rule::parse("some-rule", &GOOD.replace("gap_scope: team", "gap_scope: region"), "r.sql")
            .expect_err("must be refused");
        assert!(err.to_string().contains("use team, app, enterprise, person"), "{err}");
    }

    #[test]
    fn consequences_parse_and_default_to_the_safe_choice() {
        let rule = Rule::parse("some-rule", GOOD, "r.sql").expect("parses");
        assert_eq!((rule.fix, rule.certify, rule.frees_seat), (Fix::Manual, Certify::Review, false));
        let declared = GOOD.replace(
            "-- gap_scope: team\n",
            "-- gap_scope: team\n-- fix: remove-team-member\n-- certify: revoke\n-- frees-seat: true\n",
        );
        let rule = Rule::parse("some-rule", &declared, "r.sql").expect("parses");
        assert_eq!((rule.fix, rule.certify, rule.frees_seat), (Fix::RemoveTeamMember, Certify::Revoke, true));
        for fix in Fix::ALL {
            let text = GOOD.replace("-- gap_scope: team\n", &format!("-- gap_scope: team\n-- fix: {}\n", fix.as_str()));
            assert_eq!(Rule::parse("some-rule", &text, "r.sql").expect("parses").fix, fix);
        }
    }

    #[test]
    fn unknown_consequences_name_the_file_line_and_allowed_values() {
        let with = |extra: &str| GOOD.replace("-- gap_scope: team\n", &format!("-- gap_scope: team\n{extra}"));
        let err = Rule::parse("some-rule", &with("-- fix: delete-user\n"), "queries/some-rule.sql")
            .expect_err("must be refused");
        assert_eq!(
            err.to_string(),
            "queries/some-rule.sql:10: unknown fix `delete-user`: use one of remove-team-member, \
             remove-app-collaborator, revoke-invitation, revoke-authorization, remove-all-access, manual."
        );
        let err = Rule::parse("some-rule", &with("-- certify: deny\n"), "r.sql").expect_err("must be refused");
        assert_eq!(err.to_string(), "r.sql:10: unknown certify `deny`: use one of revoke, review.");
        let err = Rule::parse("some-rule", &with("-- frees-seat: yes\n"), "r.sql").expect_err("must be refused");
        assert_eq!(err.to_string(), "r.sql:10: frees-seat `yes`: use true or false.");
        let err = Rule::parse("some-rule", &with("-- fix: revoke-invitation\n-- frees-seat: true\n"), "r.sql")
            .expect_err("must be refused");
        assert!(
            err.to_string().starts_with("r.sql:11: frees-seat: true needs a fix that removes the team membership"),
            "{err}"
        );
        let err = Rule::parse("some-rule", &with("-- frees_seat: true\n"), "r.sql").expect_err("must be refused");
        assert_eq!(err.to_string(), "r.sql:10: unknown header field `frees_seat`: did you mean `frees-seat`?.");
    }

    /// Every built-in rule's id and the header fields that decide what its findings mean, one line
    /// each: renaming a rule or changing what acting on it does shows in review as a change to
    /// this snapshot (as cargo-deny lists its diagnostic codes). Built-in rules state `fix`,
    /// `certify` and `frees-seat` explicitly: the defaults are for rules of one's own.
    #[test]
    fn builtin_rule_ids_and_headers() {
        let rules = builtin_rules().expect("built-in rules parse");
        let mut listing = format!(
            "{:<32} {:<8} {:<10} {:<10} {:<23} {:<7} {:<10} saving-reason\n",
            "id", "severity", "confidence", "gap_scope", "fix", "certify", "frees-seat"
        );
        for rule in &rules {
            let text = BUILTIN.iter().find(|(file, _)| file.trim_end_matches(".sql") == rule.id).map(|(_, t)| *t);
            for key in ["fix", "certify", "frees-seat"] {
                assert!(
                    text.is_some_and(|t| t.lines().any(|l| l.starts_with(&format!("-- {key}:")))),
                    "queries/{}.sql must state `-- {key}:`",
                    rule.id
                );
            }
            let scope = match &rule.gap_scope {
                GapScope::Team => "team",
                GapScope::App => "app",
                GapScope::Enterprise => "enterprise",
                GapScope::Person => "person",
                GapScope::Global(_) => "global",
            };
            let confidence = format!("{:?}", rule.confidence).to_lowercase();
            listing.push_str(&format!(
                "{:<32} {:<8} {:<10} {:<10} {:<23} {:<7} {:<10} {}\n",
                rule.id,
                rule.severity.as_str(),
                confidence,
                scope,
                rule.fix.as_str(),
                rule.certify.as_str(),
                rule.frees_seat,
                rule.saving_reason.map_or("-", |r| r.as_str())
            ));
        }
        let mut ids: Vec<&str> = rules.iter().map(|r| r.id.as_str()).collect();
        ids.dedup();
        assert_eq!(ids.len(), rules.len(), "rule ids are unique");
        insta::assert_snapshot!("builtin_rule_headers", listing);
    }

    #[test]
    fn by_person_tables_must_be_read_by_the_rule() {
        let err = Rule::parse(
            "some-rule",
            &GOOD.replace("-- gap_scope: team\n", "-- gap_scope: team\n-- by_person: activity\n"),
            "r.sql",
        )
        .expect_err("must be refused");
        assert!(err.to_string().contains("`by_person` table `activity`"), "{err}");
        let rule = Rule::parse(
            "some-rule",
            &GOOD.replace("-- gap_scope: team\n", "-- gap_scope: team\n-- by_person: team_members\n"),
            "r.sql",
        )
        .expect("parses");
        assert_eq!(rule.by_person, vec!["team_members".to_owned()]);
    }
}
