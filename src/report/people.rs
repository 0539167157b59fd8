//! People as the certification worksheet sees them: one person across the emails Heroku shows for
//! their user id, their last activity, and their status in the identity-provider exports.
use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};

use crate::snapshot::email_norm as norm;
use crate::snapshot::grants::Grant;
use crate::snapshot::rows::Rows;
use crate::snapshot::{Snapshot, SnapshotError};

/// Last signal per person: the snapshot's activity (release, build, audit-trail action) and the
/// successful Heroku sign-ins analyze kept from `--signins` logs, each with its source in the
/// words of `inactive-seat`'s `last_signal` evidence, so the worksheet and the finding agree.
pub struct Activity {
    as_of: DateTime<Utc>,
    last_seen: BTreeMap<String, (DateTime<Utc>, String)>,
    last_sign_in: BTreeMap<String, (DateTime<Utc>, String)>,
}

/// Keep the later of two signals; at the same instant the first in name order, as the rule does.
fn keep_latest(map: &mut BTreeMap<String, (DateTime<Utc>, String)>, email: String, at: DateTime<Utc>, what: String) {
    match map.get_mut(&email) {
        Some(old) if (at, std::cmp::Reverse(&what)) <= (old.0, std::cmp::Reverse(&old.1)) => {}
        Some(old) => *old = (at, what),
        None => {
            map.insert(email, (at, what));
        }
    }
}

/// `release of acme-web`, `build`, `audit-trail action of acme-api`: as `inactive-seat` names them.
fn activity_source(kind: Option<&str>, app: Option<&str>) -> String {
    let what = match kind {
        Some("release") => "release",
        Some("build") => "build",
        _ => "audit-trail action",
    };
    match app {
        Some(app) => format!("{what} of {app}"),
        None => what.to_owned(),
    }
}

impl Activity {
    pub fn read(snapshot: &Snapshot) -> Result<Activity, SnapshotError> {
        let activity = Rows::new("activity", snapshot.read("activity")?);
        let mut last_seen = BTreeMap::new();
        let rows = activity
            .str("user_email_norm")?
            .into_iter()
            .zip(activity.time("at")?)
            .zip(activity.str("kind")?)
            .zip(activity.str("app_name")?);
        for (((email, at), kind), app) in rows {
            if let (Some(e), Some(at)) = (email, at) {
                keep_latest(&mut last_seen, e, at, activity_source(kind.as_deref(), app.as_deref()));
            }
        }
        Ok(Activity { as_of: snapshot.manifest().as_of, last_seen, last_sign_in: BTreeMap::new() })
    }

    /// Add successful sign-ins: (lower-cased email, when, the identity provider: `okta`, …).
    pub fn with_sign_ins<I: IntoIterator<Item = (String, DateTime<Utc>, String)>>(mut self, sign_ins: I) -> Self {
        for (email, at, idp) in sign_ins {
            keep_latest(&mut self.last_sign_in, norm(&email), at, format!("sso sign-in via {idp}"));
        }
        self
    }

    /// The latest signal of any kind and its source.
    pub fn last_signal(&self, email: &str) -> Option<(DateTime<Utc>, &str)> {
        let e = norm(email);
        let api = self.last_seen.get(&e);
        let sso = self.last_sign_in.get(&e);
        let latest = match (api, sso) {
            (Some(a), Some(s)) if s.0 > a.0 => s,
            (Some(a), _) => a,
            (None, s) => s?,
        };
        Some((latest.0, latest.1.as_str()))
    }

    /// The latest successful sign-in to Heroku and the identity provider that logged it.
    pub fn last_sign_in(&self, email: &str) -> Option<(DateTime<Utc>, &str)> {
        self.last_sign_in.get(&norm(email)).map(|(at, what)| (*at, what.as_str()))
    }

    pub fn last(&self, email: &str) -> Option<DateTime<Utc>> {
        self.last_signal(email).map(|(at, _)| at)
    }

    /// Whole days from the last signal to the snapshot's `as_of`; None: none inside the window.
    pub fn days_since(&self, email: &str) -> Option<i64> {
        self.last(email).map(|t| (self.as_of - t).num_days())
    }
}

/// Every email of one Heroku user id, from the grants that carry the id. A finding about a person
/// holds for every email of their user id (as the rules gather them).
pub struct SamePerson {
    ids_of_email: BTreeMap<String, BTreeSet<String>>,
    emails_of_id: BTreeMap<String, BTreeSet<String>>,
}

impl SamePerson {
    pub fn of(grants: &[Grant]) -> SamePerson {
        let mut ids_of_email: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        let mut emails_of_id: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for g in grants {
            if let Some(id) = g.user_id.as_deref() {
                ids_of_email.entry(g.key.email.clone()).or_default().insert(id.to_owned());
                emails_of_id.entry(id.to_owned()).or_default().insert(g.key.email.clone());
            }
        }
        SamePerson { ids_of_email, emails_of_id }
    }

    /// `email` and every other email of the user ids shown with it.
    pub fn emails(&self, email: &str) -> BTreeSet<String> {
        let mut out: BTreeSet<String> = BTreeSet::from([email.to_owned()]);
        for id in self.ids_of_email.get(email).into_iter().flatten() {
            out.extend(self.emails_of_id.get(id).into_iter().flatten().cloned());
        }
        out
    }
}

/// IdP status per person, from the rows analyze kept.
pub struct IdpView {
    pub status: BTreeMap<String, String>,
    pub domains: BTreeSet<String>,
    /// Export (`okta:users.csv`) → the lower-cased emails it lists, and the domains it covers.
    pub listed: BTreeMap<String, BTreeSet<String>>,
    pub covers: BTreeMap<String, BTreeSet<String>>,
}

/// How severe an IdP status is: across several exports (or a person's several emails), the most
/// severe is the one a reviewer must see.
pub(super) fn idp_rank(status: &str) -> u8 {
    match status {
        "deprovisioned" => 4,
        "suspended" => 3,
        // Absent from an export that covers them outranks active in another: the reviewer must
        // see that one identity provider does not know them.
        "absent" => 2,
        "active" => 1,
        _ => 0,
    }
}

impl IdpView {
    /// A person's status under any of their emails: the most severe one listed, or `absent`
    /// when an export that covers one of their domains lists none of their emails (and nothing
    /// listed is worse); `domain not covered` when no export covers them.
    pub fn status_of_person(&self, emails: &BTreeSet<String>) -> String {
        let emails: BTreeSet<String> = emails.iter().map(|e| norm(e)).collect();
        let domains: BTreeSet<&str> = emails.iter().filter_map(|e| e.rsplit_once('@').map(|(_, d)| d)).collect();
        let listed = emails.iter().filter_map(|e| self.status.get(e)).max_by_key(|s| idp_rank(s)).cloned();
        let absent_somewhere = self.covers.iter().any(|(source, covered)| {
            domains.iter().any(|d| covered.contains(*d))
                && !self.listed.get(source).is_some_and(|l| emails.iter().any(|e| l.contains(e)))
        });
        let absent = absent_somewhere.then(|| "absent".to_owned());
        match [listed, absent].into_iter().flatten().max_by_key(|s| idp_rank(s)) {
            Some(s) => s,
            None if domains.iter().any(|d| self.domains.contains(*d)) => "absent".into(),
            None => "domain not covered".into(),
        }
    }

    pub fn status(&self, email: &str) -> String {
        let e = norm(email);
        if let Some(s) = self.status.get(&e) {
            return s.clone();
        }
        let domain = e.rsplit_once('@').map(|(_, d)| d.to_owned()).unwrap_or_default();
        if self.domains.contains(&domain) {
            "absent".into()
        } else {
            "domain not covered".into()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().expect("a test time")
    }

    fn activity() -> Activity {
        let mut last_seen = BTreeMap::new();
        keep_latest(
            &mut last_seen,
            "vic@acme.example".into(),
            at("2026-10-01T10:00:00Z"),
            "release of acme-web".into(),
        );
        keep_latest(&mut last_seen, "ada@acme.example".into(), at("2026-11-20T10:00:00Z"), "build of acme-api".into());
        Activity { as_of: at("2026-11-30T00:00:00Z"), last_seen, last_sign_in: BTreeMap::new() }.with_sign_ins([
            ("Vic@Acme.example".to_owned(), at("2026-11-18T09:12:00Z"), "okta".to_owned()),
            ("vic@acme.example".to_owned(), at("2026-11-01T09:00:00Z"), "entra".to_owned()),
            ("ada@acme.example".to_owned(), at("2026-11-02T09:00:00Z"), "google".to_owned()),
        ])
    }

    #[test]
    fn a_later_sign_in_is_the_last_signal_and_names_its_identity_provider() {
        let a = activity();
        assert_eq!(a.last_signal("vic@acme.example"), Some((at("2026-11-18T09:12:00Z"), "sso sign-in via okta")));
        assert_eq!(a.last_sign_in("VIC@acme.example"), Some((at("2026-11-18T09:12:00Z"), "sso sign-in via okta")));
        assert_eq!(a.days_since("vic@acme.example"), Some(11));
    }

    #[test]
    fn a_later_deploy_stays_the_last_signal_while_the_sign_in_is_still_shown() {
        let a = activity();
        assert_eq!(a.last_signal("ada@acme.example"), Some((at("2026-11-20T10:00:00Z"), "build of acme-api")));
        assert_eq!(a.last_sign_in("ada@acme.example"), Some((at("2026-11-02T09:00:00Z"), "sso sign-in via google")));
    }

    #[test]
    fn a_person_with_neither_has_no_signal() {
        let a = activity();
        assert_eq!(a.last_signal("nobody@acme.example"), None);
        assert_eq!(a.last_sign_in("nobody@acme.example"), None);
        assert_eq!(a.days_since("nobody@acme.example"), None);
    }
}
