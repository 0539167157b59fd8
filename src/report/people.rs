//! People as the certification worksheet sees them: one person across the emails Heroku shows for
//! their user id, their last activity, and their status in the identity-provider exports.
use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};

use crate::snapshot::email_norm as norm;
use crate::snapshot::grants::Grant;
use crate::snapshot::rows::Rows;
use crate::snapshot::{Snapshot, SnapshotError};

/// Last activity per person, from the snapshot's activity table.
pub struct Activity {
    as_of: DateTime<Utc>,
    last_seen: BTreeMap<String, DateTime<Utc>>,
}

impl Activity {
    pub fn read(snapshot: &Snapshot) -> Result<Activity, SnapshotError> {
        let activity = Rows::new("activity", snapshot.read("activity")?);
        let mut last_seen: BTreeMap<String, DateTime<Utc>> = BTreeMap::new();
        for (email, at) in activity.str("user_email_norm")?.into_iter().zip(activity.time("at")?) {
            if let (Some(e), Some(at)) = (email, at) {
                let entry = last_seen.entry(e).or_insert(at);
                if at > *entry {
                    *entry = at;
                }
            }
        }
        Ok(Activity { as_of: snapshot.manifest().as_of, last_seen })
    }

    pub fn last(&self, email: &str) -> Option<DateTime<Utc>> {
        self.last_seen.get(&norm(email)).copied()
    }

    /// Whole days from the last activity to the snapshot's `as_of`; None: none inside the window.
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
