//! `hkaudit.toml`: the audit's policy (which domains are ours, what counts as inactive, what a
//! seat costs, which rules run and which findings are accepted). It is read and validated in full
//! before any work starts, and every error points at the file, line and key to change.
//!
//! ```toml
//! org_domains = ["acme.example"]          # default: decided by the caller
//! idp_domains = ["acme.example"]          # default: the domains present in the IdP exports
//! inactive_days = 90
//! invite_stale_days = 14
//! service_accounts = ["deploy-bot@acme.example", "*@bots.acme.example"]
//!
//! [seats]
//! model = "per-seat"                      # per-seat | free-up-to | none (docs/pricing.md)
//! price_per_month = "10.00"               # USD, a string so that cents stay exact
//! minimum_per_team = 5                    # per-seat: seats billed at least, per team
//! free_up_to = 5                          # free-up-to: a team this size or smaller is free
//! bill_collaborators = false              # team role `collaborator` holds a seat
//!
//! [enterprise]                            # one of the two, for the teams of an Enterprise Account
//! price_per_unique_user_per_month = "25.00"
//! # licences_purchased = 40               # contract licences, with their yearly price
//! # price_per_licence_per_year = "300.00"
//!
//! [review]
//! fallback_reviewer = "security@acme.example"  # reviews what nobody else can (`review start`)
//!
//! [rules.inactive-seat]
//! enabled = true
//! severity = "medium"                     # info | low | medium | high | critical
//!
//! [[rules.inactive-seat.ignore]]
//! subject = "ops@acme.example"
//! reason = "break-glass account, reviewed quarterly"
//! expires = "2026-12-31"                  # optional
//! ```
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use serde::Deserialize;
use toml::Spanned;

use super::inputs::{line_of, read_utf8, InputError};

pub const DEFAULT_INACTIVE_DAYS: u32 = 90;
pub const DEFAULT_INVITE_STALE_DAYS: u32 = 14;
/// Heroku Teams list price: $10 per user per month, billed for at least 5 users.
pub const DEFAULT_SEAT_PRICE_CENTS: i64 = 1_000;
pub const DEFAULT_MINIMUM_SEATS: u32 = 5;

pub use super::finding::Severity;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The file read, `None` for built-in defaults.
    pub path: Option<PathBuf>,
    /// `None`: the caller decides (the audit identity's domain and the IdP exports' domains).
    pub org_domains: Option<Vec<String>>,
    /// `None`: each IdP export covers the domains present in it.
    pub idp_domains: Option<Vec<String>>,
    pub inactive_days: u32,
    pub invite_stale_days: u32,
    pub seats: Seats,
    pub enterprise: Enterprise,
    /// Lower-cased emails or patterns where `*` matches any run of characters.
    pub service_accounts: Vec<String>,
    /// Keyed by rule id; only rules the file mentions.
    pub rules: BTreeMap<String, RuleConfig>,
    pub review: Review,
}

/// `[review]`: access-review campaigns (`hkaudit review start`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Review {
    /// Lower-cased email of who reviews the grants no admin, manager or owner can (a team whose
    /// only admin is the audit identity, say).
    pub fallback_reviewer: Option<String>,
}

/// How a Teams team's seats are billed (`[seats] model`); each model's source is in
/// docs/pricing.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PricingModel {
    /// Every seat at the price, at least `minimum_per_team` seats billed per team.
    #[default]
    PerSeat,
    /// A team of at most `free_up_to` seats is free; a larger one pays for every seat.
    FreeUpTo,
    /// No seat charge at all.
    NoCharge,
}

impl PricingModel {
    pub const ALL: [PricingModel; 3] = [PricingModel::PerSeat, PricingModel::FreeUpTo, PricingModel::NoCharge];

    pub fn as_str(self) -> &'static str {
        match self {
            PricingModel::PerSeat => "per-seat",
            PricingModel::FreeUpTo => "free-up-to",
            PricingModel::NoCharge => "none",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seats {
    pub model: PricingModel,
    pub price_per_month_cents: i64,
    pub minimum_per_team: u32,
    /// `free-up-to`: the largest team that pays nothing.
    pub free_up_to: u32,
    /// Whether team role `collaborator` holds a paid seat (admin, member and viewer always do).
    pub bill_collaborators: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Enterprise {
    pub price_per_unique_user_per_month_cents: Option<i64>,
    /// Contract licences bought for the account's teams, and their yearly price: set together.
    pub licences: Option<Licences>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Licences {
    pub purchased: u32,
    pub price_per_year_cents: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RuleConfig {
    pub enabled: Option<bool>,
    pub severity: Option<Severity>,
    pub ignore: Vec<Ignore>,
}

/// An accepted finding: `subject` is matched by the rule runner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ignore {
    pub subject: String,
    pub reason: String,
    pub expires: Option<NaiveDate>,
    /// Where it is written, so a report can point at it.
    pub line: usize,
}

impl Ignore {
    /// An ignore stops applying on its `expires` day.
    pub fn applies_on(&self, day: NaiveDate) -> bool {
        self.expires.is_none_or(|e| day < e)
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            path: None,
            org_domains: None,
            idp_domains: None,
            inactive_days: DEFAULT_INACTIVE_DAYS,
            invite_stale_days: DEFAULT_INVITE_STALE_DAYS,
            seats: Seats {
                model: PricingModel::PerSeat,
                price_per_month_cents: DEFAULT_SEAT_PRICE_CENTS,
                minimum_per_team: DEFAULT_MINIMUM_SEATS,
                free_up_to: DEFAULT_MINIMUM_SEATS,
                bill_collaborators: false,
            },
            enterprise: Enterprise::default(),
            service_accounts: Vec::new(),
            rules: BTreeMap::new(),
            review: Review::default(),
        }
    }
}

impl Config {
    pub fn rule(&self, id: &str) -> Option<&RuleConfig> {
        self.rules.get(id)
    }

    /// Rules run unless the config switches them off.
    pub fn rule_enabled(&self, id: &str) -> bool {
        self.rule(id).and_then(|r| r.enabled).unwrap_or(true)
    }

    pub fn is_service_account(&self, email: &str) -> bool {
        let email = email.trim().to_lowercase();
        self.service_accounts.iter().any(|p| glob_match(p, &email))
    }
}

/// Reads `hkaudit.toml` (`None`: defaults). `known_rule_ids` are the ids `[rules.<id>]` may name.
pub fn load_config(path: Option<&Path>, known_rule_ids: &[&str]) -> Result<Config, InputError> {
    let Some(path) = path else {
        return Ok(Config::default());
    };
    let text = read_utf8(path)?;
    let raw: RawConfig = toml::from_str(&text).map_err(|e| toml_error(path, &text, &e))?;
    Validator { path, text: &text }.config(raw, known_rule_ids)
}

/// Formats cents as US dollars: `$1,234.50`, `-$3.00`.
pub fn money(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let abs = cents.unsigned_abs();
    let dollars = (abs / 100).to_string();
    let mut grouped = String::new();
    for (i, c) in dollars.chars().enumerate() {
        if i > 0 && (dollars.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("{sign}${grouped}.{:02}", abs % 100)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    org_domains: Option<Vec<Spanned<String>>>,
    idp_domains: Option<Vec<Spanned<String>>>,
    inactive_days: Option<Spanned<i64>>,
    invite_stale_days: Option<Spanned<i64>>,
    seats: Option<RawSeats>,
    enterprise: Option<RawEnterprise>,
    service_accounts: Option<Vec<Spanned<String>>>,
    rules: Option<BTreeMap<Spanned<String>, RawRule>>,
    review: Option<RawReview>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawReview {
    fallback_reviewer: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSeats {
    model: Option<Spanned<String>>,
    price_per_month: Option<Spanned<toml::Value>>,
    minimum_per_team: Option<Spanned<i64>>,
    free_up_to: Option<Spanned<i64>>,
    bill_collaborators: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEnterprise {
    price_per_unique_user_per_month: Option<Spanned<toml::Value>>,
    licences_purchased: Option<Spanned<i64>>,
    price_per_licence_per_year: Option<Spanned<toml::Value>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    enabled: Option<bool>,
    severity: Option<Spanned<String>>,
    #[serde(default)]
    ignore: Vec<Spanned<RawIgnore>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIgnore {
    subject: Option<Spanned<String>>,
    reason: Option<Spanned<String>>,
    expires: Option<Spanned<toml::Value>>,
}

fn toml_error(path: &Path, text: &str, e: &toml::de::Error) -> InputError {
    let line = e.span().map(|s| line_of(text, s.start));
    let key =
        line.and_then(|l| text.lines().nth(l - 1)).and_then(|l| l.split_once('=')).map(|(k, _)| k.trim().to_owned());
    let message = e.message().trim().replace('\n', " ");
    let (problem, fix) = if message.starts_with("unknown field") {
        (message.replacen("unknown field", "unknown key", 1), "remove it or correct its spelling".to_owned())
    } else if let Some(key) = key.filter(|k| !k.is_empty() && !k.starts_with('[')) {
        let fix = if message.starts_with("invalid type") || message.starts_with("invalid value") {
            format!("give `{key}` a value of the expected type")
        } else {
            "fix the TOML syntax at that spot (https://toml.io)".to_owned()
        };
        (format!("key `{key}`: {message}"), fix)
    } else {
        (message, "fix the TOML syntax at that spot (https://toml.io)".to_owned())
    };
    InputError::new(path, line, problem, fix)
}

struct Validator<'a> {
    path: &'a Path,
    text: &'a str,
}

impl Validator<'_> {
    fn at<T>(&self, spanned: &Spanned<T>, key: &str, problem: impl AsRef<str>, fix: impl Into<String>) -> InputError {
        InputError::new(
            self.path,
            Some(line_of(self.text, spanned.span().start)),
            format!("key `{key}`: {}", problem.as_ref()),
            fix,
        )
    }

    fn config(&self, raw: RawConfig, known_rule_ids: &[&str]) -> Result<Config, InputError> {
        let mut config = Config { path: Some(self.path.to_path_buf()), ..Config::default() };
        config.org_domains = raw.org_domains.map(|d| self.domains(d, "org_domains")).transpose()?;
        config.idp_domains = raw.idp_domains.map(|d| self.domains(d, "idp_domains")).transpose()?;
        if let Some(days) = raw.inactive_days {
            config.inactive_days = self.days(&days, "inactive_days")?;
        }
        if let Some(days) = raw.invite_stale_days {
            config.invite_stale_days = self.days(&days, "invite_stale_days")?;
        }
        if let Some(seats) = raw.seats {
            if let Some(model) = seats.model {
                config.seats.model =
                    PricingModel::ALL.into_iter().find(|m| m.as_str() == model.get_ref().trim()).ok_or_else(|| {
                        self.at(
                            &model,
                            "seats.model",
                            format!("`{}` is not a pricing model", model.get_ref()),
                            "use per-seat, free-up-to or none (docs/pricing.md says where each comes from)",
                        )
                    })?;
            }
            if let Some(price) = seats.price_per_month {
                config.seats.price_per_month_cents = self.price(&price, "seats.price_per_month")?;
            }
            if let Some(minimum) = seats.minimum_per_team {
                config.seats.minimum_per_team = self.count(
                    &minimum,
                    "seats.minimum_per_team",
                    "use a whole number of seats, 0 or more (Heroku's is 5)",
                )?;
            }
            if let Some(free) = seats.free_up_to {
                config.seats.free_up_to =
                    self.count(&free, "seats.free_up_to", "use a whole number of members, 0 or more (Heroku's was 5)")?;
            }
            if let Some(bill) = seats.bill_collaborators {
                config.seats.bill_collaborators = bill;
            }
        }
        if let Some(e) = raw.enterprise {
            if let Some(price) = e.price_per_unique_user_per_month {
                config.enterprise.price_per_unique_user_per_month_cents =
                    Some(self.price(&price, "enterprise.price_per_unique_user_per_month")?);
            }
            match (e.licences_purchased, e.price_per_licence_per_year) {
                (None, None) => {}
                (Some(n), Some(price)) => {
                    if config.enterprise.price_per_unique_user_per_month_cents.is_some() {
                        return Err(self.at(
                            &n,
                            "enterprise.licences_purchased",
                            "contract licences and a price per unique user are two pricings of the same seats",
                            "keep one: licences_purchased with price_per_licence_per_year, or price_per_unique_user_per_month",
                        ));
                    }
                    let purchased =
                        self.count(&n, "enterprise.licences_purchased", "use a whole number of licences, 0 or more")?;
                    let price_per_year_cents = self.price(&price, "enterprise.price_per_licence_per_year")?;
                    config.enterprise.licences = Some(Licences { purchased, price_per_year_cents });
                }
                (Some(n), None) => return Err(self.at(
                    &n,
                    "enterprise.licences_purchased",
                    "licences need their price",
                    "add price_per_licence_per_year = \"300.00\" (US dollars per licence per year, from the contract)",
                )),
                (None, Some(p)) => {
                    return Err(self.at(
                        &p,
                        "enterprise.price_per_licence_per_year",
                        "a licence price needs the number of licences bought",
                        "add licences_purchased = 40 (the count in the contract)",
                    ))
                }
            }
        }
        for pattern in raw.service_accounts.unwrap_or_default() {
            let value = pattern.get_ref().trim().to_lowercase();
            let ok = value.split_once('@').is_some_and(|(local, domain)| !local.is_empty() && !domain.is_empty());
            if !ok {
                return Err(self.at(
                    &pattern,
                    "service_accounts",
                    format!("`{}` is neither an email nor an email pattern", pattern.get_ref()),
                    "write an email such as \"deploy-bot@acme.example\" or a pattern such as \"*@bots.acme.example\"",
                ));
            }
            config.service_accounts.push(value);
        }
        if let Some(f) = raw.review.and_then(|r| r.fallback_reviewer) {
            let value = f.get_ref().trim().to_lowercase();
            let ok = value.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty() && !domain.is_empty() && !domain.contains('@') && !value.contains('*')
            });
            if !ok {
                return Err(self.at(
                    &f,
                    "review.fallback_reviewer",
                    format!("`{}` is not an email", f.get_ref()),
                    "name the fallback reviewer by the email they use, e.g. \"security@acme.example\"",
                ));
            }
            config.review.fallback_reviewer = Some(value);
        }
        for (id, rule) in raw.rules.unwrap_or_default() {
            let name = id.get_ref().clone();
            if !known_rule_ids.contains(&name.as_str()) {
                let fix = match closest(&name, known_rule_ids) {
                    Some(best) => format!("did you mean `{best}`? Known rules: {}", known_rule_ids.join(", ")),
                    None => format!("known rules: {}", known_rule_ids.join(", ")),
                };
                return Err(InputError::new(
                    self.path,
                    Some(line_of(self.text, id.span().start)),
                    format!("unknown rule id `{name}` in `[rules.{name}]`"),
                    fix,
                ));
            }
            let checked = self.rule(&name, rule)?;
            config.rules.insert(name, checked);
        }
        Ok(config)
    }

    fn rule(&self, id: &str, raw: RawRule) -> Result<RuleConfig, InputError> {
        let severity = raw
            .severity
            .map(|s| {
                Severity::parse(s.get_ref()).ok_or_else(|| {
                    let words: Vec<&str> = Severity::ALL.iter().map(|s| s.as_str()).collect();
                    self.at(
                        &s,
                        &format!("rules.{id}.severity"),
                        format!("`{}` is not a severity", s.get_ref()),
                        format!("use one of {}", words.join(", ")),
                    )
                })
            })
            .transpose()?;
        let mut ignore = Vec::new();
        for entry in raw.ignore {
            let entry_line = line_of(self.text, entry.span().start);
            let key = format!("rules.{id}.ignore");
            let entry = entry.into_inner();
            let Some(subject) = entry.subject.filter(|s| !s.get_ref().trim().is_empty()) else {
                return Err(InputError::new(
                    self.path,
                    Some(entry_line),
                    format!("key `{key}`: an ignore entry has no `subject`"),
                    "add subject = \"<what the finding is about>\", as shown in the finding",
                ));
            };
            let line = line_of(self.text, subject.span().start);
            let Some(reason) = entry.reason.filter(|r| !r.get_ref().trim().is_empty()) else {
                return Err(InputError::new(
                    self.path,
                    Some(line),
                    format!("key `{key}`: the ignore entry for `{}` has no `reason`", subject.get_ref()),
                    "add reason = \"<why this is accepted>\": every accepted finding needs a written reason for the next reviewer",
                ));
            };
            let expires = entry.expires.map(|e| self.date(&e, &format!("{key}.expires"))).transpose()?;
            ignore.push(Ignore {
                subject: subject.into_inner().trim().to_owned(),
                reason: reason.into_inner().trim().to_owned(),
                expires,
                line,
            });
        }
        Ok(RuleConfig { enabled: raw.enabled, severity, ignore })
    }

    fn domains(&self, raw: Vec<Spanned<String>>, key: &str) -> Result<Vec<String>, InputError> {
        raw.into_iter()
            .map(|d| {
                let value = d.get_ref().trim().trim_start_matches('@').to_lowercase();
                let ok = value.contains('.')
                    && !value.starts_with('.')
                    && !value.ends_with('.')
                    && value.chars().all(|c| c.is_alphanumeric() || c == '.' || c == '-');
                if ok {
                    Ok(value)
                } else {
                    Err(self.at(
                        &d,
                        key,
                        format!("`{}` is not a domain name", d.get_ref()),
                        "write bare domains such as \"acme.example\" (no `@`, no URL)",
                    ))
                }
            })
            .collect()
    }

    fn count(&self, raw: &Spanned<i64>, key: &str, fix: &str) -> Result<u32, InputError> {
        u32::try_from(*raw.get_ref())
            .map_err(|_| self.at(raw, key, format!("{} is not a count", raw.get_ref()), fix.to_owned()))
    }

    fn days(&self, raw: &Spanned<i64>, key: &str) -> Result<u32, InputError> {
        u32::try_from(*raw.get_ref()).ok().filter(|d| *d > 0).ok_or_else(|| {
            self.at(
                raw,
                key,
                format!("{} is not a number of days", raw.get_ref()),
                "use a whole number of days greater than 0",
            )
        })
    }

    fn price(&self, raw: &Spanned<toml::Value>, key: &str) -> Result<i64, InputError> {
        let fix = "write US dollars as a string with at most 2 decimals, e.g. \"10.00\"";
        match raw.get_ref() {
            toml::Value::String(s) => parse_cents(s).map_err(|why| self.at(raw, key, format!("`{s}` {why}"), fix)),
            toml::Value::Integer(n) if *n >= 0 => {
                n.checked_mul(100).ok_or_else(|| self.at(raw, key, "the price is too large", fix))
            }
            toml::Value::Integer(n) => Err(self.at(raw, key, format!("{n} is negative"), fix)),
            toml::Value::Float(f) => {
                Err(self.at(raw, key, format!("{f} is a floating-point number, which cannot hold cents exactly"), fix))
            }
            other => Err(self.at(raw, key, format!("expected a price, found a {}", other.type_str()), fix)),
        }
    }

    fn date(&self, raw: &Spanned<toml::Value>, key: &str) -> Result<NaiveDate, InputError> {
        let text = match raw.get_ref() {
            toml::Value::String(s) => s.clone(),
            toml::Value::Datetime(d) if d.time.is_none() && d.offset.is_none() => d.to_string(),
            other => other.to_string(),
        };
        NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").map_err(|_| {
            self.at(
                raw,
                key,
                format!("`{text}` is not a date"),
                "write the date as \"YYYY-MM-DD\", e.g. \"2026-12-31\"",
            )
        })
    }
}

/// Dollars text → cents, refusing anything that is not exactly representable.
fn parse_cents(text: &str) -> Result<i64, &'static str> {
    let s = text.trim().trim_start_matches('$');
    if s.starts_with('-') {
        return Err("is negative");
    }
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    if whole.is_empty() || !whole.chars().all(|c| c.is_ascii_digit()) || !frac.chars().all(|c| c.is_ascii_digit()) {
        return Err("is not a price in dollars");
    }
    if frac.len() > 2 {
        return Err("has more than 2 decimals");
    }
    let whole: i64 = whole.parse().map_err(|_| "is too large")?;
    let frac: i64 =
        if frac.is_empty() { 0 } else { format!("{frac:0<2}").parse().map_err(|_| "is not a price in dollars")? };
    whole.checked_mul(100).and_then(|c| c.checked_add(frac)).ok_or("is too large")
}

fn glob_match(pattern: &str, text: &str) -> bool {
    let Some((first, rest)) = pattern.split_once('*') else {
        return pattern == text;
    };
    let Some(mut remaining) = text.strip_prefix(first) else {
        return false;
    };
    let mut parts: Vec<&str> = rest.split('*').collect();
    let last = parts.pop().unwrap_or_default();
    for part in parts {
        match remaining.find(part) {
            Some(at) => remaining = &remaining[at + part.len()..],
            None => return false,
        }
    }
    remaining.len() >= last.len() && remaining.ends_with(last)
}

/// The known id nearest to a typo, if it is near enough to be a plausible typo.
fn closest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (edit_distance(word, c), *c))
        .filter(|(d, c)| *d <= (c.len() / 3).max(2))
        .min()
        .map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            current.push((previous[j] + cost).min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULES: &[&str] = &["inactive-seat", "external-member", "stale-invite", "deprovisioned-member"];

    fn load(text: &str) -> Result<Config, InputError> {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("hkaudit.toml");
        std::fs::write(&path, text).expect("write");
        load_config(Some(&path), RULES)
    }

    fn assert_error(err: &InputError, line: usize, needles: &[&str]) {
        let shown = err.to_string();
        assert!(shown.contains("hkaudit.toml"), "no file in: {shown}");
        assert!(shown.contains(&format!("hkaudit.toml:{line}:")), "no line {line} in: {shown}");
        for needle in needles {
            assert!(shown.contains(needle), "`{needle}` missing from: {shown}");
        }
    }

    #[test]
    fn no_file_means_defaults() {
        let config = load_config(None, RULES).expect("defaults");
        assert_eq!(config.inactive_days, 90);
        assert_eq!(config.invite_stale_days, 14);
        assert_eq!(
            config.seats,
            Seats {
                model: PricingModel::PerSeat,
                price_per_month_cents: 1_000,
                minimum_per_team: 5,
                free_up_to: 5,
                bill_collaborators: false
            }
        );
        assert_eq!(config.org_domains, None);
        assert!(config.rule_enabled("inactive-seat"));
    }

    #[test]
    fn full_config_is_read_exactly() {
        let config = load(
            r#"
org_domains = ["Acme.example", "@acme.io"]
idp_domains = ["acme.example"]
inactive_days = 60
invite_stale_days = 7
service_accounts = ["deploy-bot@acme.example", "*@bots.acme.example"]

[seats]
price_per_month = "12.5"
minimum_per_team = 3

[enterprise]
price_per_unique_user_per_month = "1234.56"

[rules.inactive-seat]
enabled = false
severity = "High"

[[rules.inactive-seat.ignore]]
subject = "ops@acme.example"
reason = "break-glass account"
expires = "2026-12-31"

[[rules.external-member.ignore]]
subject = "auditor@partner.example"
reason = "contracted auditor"
"#,
        )
        .expect("valid");
        assert_eq!(config.org_domains, Some(vec!["acme.example".to_owned(), "acme.io".to_owned()]));
        assert_eq!(config.inactive_days, 60);
        assert_eq!(config.invite_stale_days, 7);
        assert_eq!(config.seats.price_per_month_cents, 1_250);
        assert_eq!(config.seats.minimum_per_team, 3);
        assert_eq!(config.enterprise.price_per_unique_user_per_month_cents, Some(123_456));
        assert!(config.is_service_account("Deploy-Bot@acme.example"));
        assert!(config.is_service_account("ci@bots.acme.example"));
        assert!(!config.is_service_account("ci@acme.example"));
        let rule = config.rule("inactive-seat").expect("rule");
        assert_eq!(rule.enabled, Some(false));
        assert_eq!(rule.severity, Some(Severity::High));
        assert!(!config.rule_enabled("inactive-seat"));
        let ignore = &rule.ignore[0];
        assert_eq!(
            (ignore.subject.as_str(), ignore.reason.as_str(), ignore.line),
            ("ops@acme.example", "break-glass account", 20)
        );
        let expires = NaiveDate::from_ymd_opt(2026, 12, 31).expect("date");
        assert_eq!(ignore.expires, Some(expires));
        assert!(ignore.applies_on(NaiveDate::from_ymd_opt(2026, 12, 30).expect("date")));
        assert!(!ignore.applies_on(expires));
        assert_eq!(config.rule("external-member").map(|r| r.ignore.len()), Some(1));
    }

    #[test]
    fn pricing_models_and_contract_licences_are_read() {
        let config =
            load("[seats]\nmodel = \"free-up-to\"\nfree_up_to = 3\nbill_collaborators = true\n").expect("valid");
        assert_eq!(
            (config.seats.model, config.seats.free_up_to, config.seats.bill_collaborators),
            (PricingModel::FreeUpTo, 3, true)
        );
        assert_eq!(load("[seats]\nmodel = \"none\"\n").expect("valid").seats.model, PricingModel::NoCharge);
        let config =
            load("[enterprise]\nlicences_purchased = 40\nprice_per_licence_per_year = \"300.00\"\n").expect("valid");
        assert_eq!(config.enterprise.licences, Some(Licences { purchased: 40, price_per_year_cents: 30_000 }));

        let err = load("[seats]\nmodel = \"per-user\"\n").expect_err("unknown model");
        assert_error(&err, 2, &["seats.model", "per-seat, free-up-to or none"]);
        let err = load("[enterprise]\nlicences_purchased = 40\n").expect_err("no price");
        assert_error(&err, 2, &["licences need their price", "price_per_licence_per_year"]);
        let err = load("[enterprise]\nprice_per_unique_user_per_month = \"25.00\"\nlicences_purchased = 4\nprice_per_licence_per_year = \"1\"\n")
            .expect_err("two pricings");
        assert_error(&err, 3, &["two pricings of the same seats", "Keep one"]);
    }

    #[test]
    fn unknown_key_is_rejected_with_its_line() {
        let err = load("inactive_days = 30\ninactive_dayz = 30\n").expect_err("must fail");
        assert_error(&err, 2, &["unknown key `inactive_dayz`", "correct its spelling"]);
        let err = load("[seats]\nprice = \"10.00\"\n").expect_err("must fail");
        assert_error(&err, 2, &["`price`"]);
    }

    #[test]
    fn wrong_type_names_the_key_and_line() {
        let err = load("invite_stale_days = 14\ninactive_days = \"ninety\"\n").expect_err("must fail");
        assert_error(&err, 2, &["`inactive_days`", "expected type"]);
    }

    #[test]
    fn bad_severity_word_lists_the_allowed_ones() {
        let err = load("[rules.stale-invite]\nenabled = true\nseverity = \"urgent\"\n").expect_err("must fail");
        assert_error(&err, 3, &["rules.stale-invite.severity", "`urgent`", "info, low, medium, high, critical"]);
    }

    #[test]
    fn ignore_entry_without_reason_is_rejected() {
        let err = load("[[rules.inactive-seat.ignore]]\nsubject = \"ops@acme.example\"\n").expect_err("must fail");
        assert_error(&err, 2, &["no `reason`", "ops@acme.example", "Add reason ="]);
    }

    #[test]
    fn misspelt_rule_id_suggests_the_closest_known_id() {
        let err = load("inactive_days = 30\n\n[rules.inactve-seat]\nenabled = false\n").expect_err("must fail");
        assert_error(&err, 3, &["unknown rule id `inactve-seat`", "Did you mean `inactive-seat`?"]);
    }

    #[test]
    fn negative_days_and_inexact_prices_are_rejected() {
        let err = load("inactive_days = -5\n").expect_err("must fail");
        assert_error(&err, 1, &["`inactive_days`", "-5", "greater than 0"]);
        let err = load("[seats]\nprice_per_month = \"10.005\"\n").expect_err("must fail");
        assert_error(&err, 2, &["more than 2 decimals", "\"10.00\""]);
        let err = load("[seats]\nprice_per_month = \"-10.00\"\n").expect_err("must fail");
        assert_error(&err, 2, &["negative"]);
        let err = load("[seats]\nprice_per_month = 9.99\n").expect_err("must fail");
        assert_error(&err, 2, &["floating-point"]);
        let err = load(
            "[[rules.inactive-seat.ignore]]\nsubject = \"a@b.example\"\nreason = \"r\"\nexpires = \"31/12/2026\"\n",
        )
        .expect_err("must fail");
        assert_error(&err, 4, &["YYYY-MM-DD"]);
    }

    #[test]
    fn prices_are_kept_as_exact_cents() {
        assert_eq!(parse_cents("10.00"), Ok(1_000));
        assert_eq!(parse_cents("10"), Ok(1_000));
        assert_eq!(parse_cents("0.1"), Ok(10));
        assert_eq!(parse_cents("19.99"), Ok(1_999));
        assert_eq!(parse_cents("1.234"), Err("has more than 2 decimals"));
        assert_eq!(parse_cents("-1"), Err("is negative"));
        assert!(parse_cents("ten").is_err());
    }

    #[test]
    fn money_formats_dollars_with_thousands_separators() {
        assert_eq!(money(123_450), "$1,234.50");
        assert_eq!(money(0), "$0.00");
        assert_eq!(money(5), "$0.05");
        assert_eq!(money(100_000_000), "$1,000,000.00");
        assert_eq!(money(99_999), "$999.99");
        assert_eq!(money(-1_050), "-$10.50");
    }
}
