//! What acting on a finding means, as steps on Heroku objects: remove a team member, an app
//! collaborator or an Enterprise Account member, revoke an invitation or an OAuth authorization,
//! or a step done by hand. `hkaudit plan` writes these steps as a script, and the report's
//! "People to act on" lists the same steps per person, so both come from here.
//!
//! Everything that comes from Heroku is untrusted text: [`Action::command`] quotes arguments with
//! `shlex` and refuses a positional value that begins with `-`; [`one_line`] makes text safe for
//! a comment.
use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::{Finding, FindingSet, Fix};
use crate::snapshot::email_norm as norm;
use crate::snapshot::grants::{
    Grant, GrantKey, APP_PERMISSION, ENTERPRISE_MEMBERSHIP, PERSONAL_APP_COLLABORATOR, TEAM_INVITATION, TEAM_MEMBERSHIP,
};
use crate::snapshot::rows::Rows;
use crate::snapshot::{Snapshot, SnapshotError};

/// A pending team invitation, from the snapshot's `team_invitations` table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Invitation {
    pub id: String,
    pub team: String,
    pub email: String,
}

/// The snapshot's pending team invitations, with the ids a revocation needs.
pub fn read_invitations(snapshot: &Snapshot) -> Result<Vec<Invitation>, SnapshotError> {
    let rows = Rows::new("team_invitations", snapshot.read("team_invitations")?);
    let (ids, teams, emails) = (rows.string("id")?, rows.string("team_name")?, rows.string("email")?);
    Ok(ids.into_iter().zip(teams).zip(emails).map(|((id, team), email)| Invitation { id, team, email }).collect())
}

/// What a plan is made from; `history::load_inputs` reads it from a snapshot folder.
#[derive(Debug, Clone)]
pub struct PlanInputs {
    pub snapshot_id: String,
    pub as_of: String,
    pub complete: bool,
    pub grants: Vec<Grant>,
    pub invitations: Vec<Invitation>,
    /// `findings.json`, when the snapshot was analyzed.
    pub findings: Option<FindingSet>,
}

/// One change to make, in terms of Heroku objects.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Action {
    RevokeInvitation {
        team: String,
        email: String,
        id: String,
    },
    RemoveAppCollaborator {
        app: String,
        email: String,
        personal: bool,
    },
    RemoveTeamMember {
        team: String,
        email: String,
    },
    RemoveEnterpriseMember {
        enterprise_account: String,
        email: String,
    },
    /// Only its owner can revoke an authorization: the script runs it only when logged in as them.
    RevokeAuthorization {
        id: String,
        owner: String,
    },
    /// No safe automatic fix: the text says what to do by hand.
    Manual {
        text: String,
    },
}

/// Path segments are percent-encoded, keeping `@` so emails stay readable (RFC 3986 allows it).
const SEGMENT: &percent_encoding::AsciiSet =
    &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~').remove(b'@');

fn seg(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, SEGMENT).to_string()
}

enum Arg<'a> {
    Word(&'static str),
    /// A positional value: must not look like an option.
    Value(&'a str),
    /// `--name=VALUE`: the `=` form, so the value can never be taken for another option.
    Flag(&'static str, &'a str),
}

impl Action {
    /// Runs in this order: invitations and app grants before the memberships that imply them,
    /// Enterprise Account last among grants, then authorizations, then what is left by hand.
    pub fn order(&self) -> u8 {
        match self {
            Action::RevokeInvitation { .. } => 0,
            Action::RemoveAppCollaborator { .. } => 1,
            Action::RemoveTeamMember { .. } => 2,
            Action::RemoveEnterpriseMember { .. } => 3,
            Action::RevokeAuthorization { .. } => 4,
            Action::Manual { .. } => 5,
        }
    }

    pub fn api(&self) -> Option<ApiCall> {
        let path = match self {
            Action::RevokeInvitation { team, id, .. } => format!("/teams/{}/invitations/{}", seg(team), seg(id)),
            Action::RemoveAppCollaborator { app, email, personal: false } => {
                format!("/teams/apps/{}/collaborators/{}", seg(app), seg(email))
            }
            Action::RemoveAppCollaborator { app, email, personal: true } => {
                format!("/apps/{}/collaborators/{}", seg(app), seg(email))
            }
            Action::RemoveTeamMember { team, email } => format!("/teams/{}/members/{}", seg(team), seg(email)),
            Action::RemoveEnterpriseMember { enterprise_account, email } => {
                format!("/enterprise-accounts/{}/members/{}", seg(enterprise_account), seg(email))
            }
            Action::RevokeAuthorization { id, .. } => format!("/oauth/authorizations/{}", seg(id)),
            Action::Manual { .. } => return None,
        };
        let run_as = match self {
            Action::RevokeAuthorization { owner, .. } => Some(owner.clone()),
            _ => None,
        };
        Some(ApiCall { method: "DELETE".into(), path, body: None, run_as })
    }

    fn args(&self) -> Vec<Arg<'_>> {
        match self {
            // `members:remove` revokes the pending invitation when the email is an invitee's.
            Action::RevokeInvitation { team, email, .. } | Action::RemoveTeamMember { team, email } => {
                vec![Arg::Word("members:remove"), Arg::Value(email), Arg::Flag("team", team)]
            }
            Action::RemoveAppCollaborator { app, email, .. } => {
                vec![Arg::Word("access:remove"), Arg::Value(email), Arg::Flag("app", app)]
            }
            Action::RemoveEnterpriseMember { enterprise_account, email } => vec![
                Arg::Word("enterprises:members-remove"),
                Arg::Value(email),
                Arg::Flag("enterprise-account", enterprise_account),
            ],
            Action::RevokeAuthorization { id, .. } => vec![Arg::Word("authorizations:revoke"), Arg::Value(id)],
            Action::Manual { .. } => vec![],
        }
    }

    /// The arguments after `heroku`, unquoted; None for a step done by hand.
    pub fn argv(&self) -> Option<Vec<String>> {
        let args = self.args();
        (!args.is_empty()).then(|| {
            args.into_iter()
                .map(|a| match a {
                    Arg::Word(w) => w.to_owned(),
                    Arg::Value(v) => v.to_owned(),
                    Arg::Flag(name, v) => format!("--{name}={v}"),
                })
                .collect()
        })
    }

    /// The `heroku ...` command line, or why it cannot be written safely.
    pub fn command(&self) -> Result<Option<String>, String> {
        let args = self.args();
        if args.is_empty() {
            return Ok(None);
        }
        let quote = |v: &str| {
            shlex::try_quote(v).map(|q| q.into_owned()).map_err(|_| format!("`{}` contains a NUL byte", one_line(v)))
        };
        let mut words = vec!["heroku".to_owned()];
        for a in args {
            words.push(match a {
                Arg::Word(w) => w.to_owned(),
                Arg::Value("") => return Err("a value is empty".into()),
                Arg::Value(v) if v.starts_with('-') => {
                    return Err(format!("`{}` begins with `-`, which the CLI would read as an option", one_line(v)))
                }
                Arg::Value(v) => quote(v)?,
                Arg::Flag(name, v) => format!("--{name}={}", quote(v)?),
            });
        }
        Ok(Some(words.join(" ")))
    }

    /// What the action does, in words, for the comment above it and `reason` in plan.json.
    pub fn describe(&self) -> String {
        match self {
            Action::RevokeInvitation { team, email, id } => format!("revoke the pending invitation {id} of {email} to team {team} (for an invitee, `members:remove` revokes the invitation)"),
            Action::RemoveAppCollaborator { app, email, personal } => format!("remove {email} from {} app {app}", if *personal { "personal" } else { "team" }),
            Action::RemoveTeamMember { team, email } => format!("remove {email} from team {team}"),
            Action::RemoveEnterpriseMember { enterprise_account, email } => format!("remove {email} from Enterprise Account {enterprise_account}"),
            Action::RevokeAuthorization { id, owner } => format!("revoke OAuth authorization {id} of {owner}; only its owner can: run as that user (heroku login as them), or ask Heroku support"),
            Action::Manual { text } => format!("by hand: {text}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ApiCall {
    pub method: String,
    pub path: String,
    pub body: Option<serde_json::Value>,
    /// Whose token the call needs, when an admin's will not do.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run_as: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct FindingRef {
    pub rule_id: String,
    pub subject: String,
    pub fingerprint: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct RowRef {
    pub file: String,
    pub line: usize,
    pub reviewer: String,
    pub decision_date: String,
    pub justification: String,
}

#[derive(Debug, Clone)]
pub struct Step {
    pub action: Action,
    pub grant: Option<GrantKey>,
    pub findings: Vec<FindingRef>,
    pub rows: Vec<RowRef>,
}

/// Steps keyed by what they do, so a grant two findings point at is removed once.
#[derive(Default)]
pub struct Steps(BTreeMap<(u8, String), Step>);

impl Steps {
    /// The steps in the order they run: by [`Action::order`], then by what they act on.
    pub fn into_steps(self) -> Vec<Step> {
        self.0.into_values().collect()
    }

    pub fn add(&mut self, action: Action, grant: Option<GrantKey>, finding: Option<FindingRef>, row: Option<RowRef>) {
        // A manual step is keyed by its text: findings with the same remediation share one step.
        let key = match (&action, action.api()) {
            (_, Some(api)) => api.path,
            (Action::Manual { text }, None) => text.clone(),
            _ => String::new(),
        };
        let step = self.0.entry((action.order(), key)).or_insert_with(|| Step {
            action,
            grant,
            findings: Vec::new(),
            rows: Vec::new(),
        });
        step.findings.extend(finding);
        step.rows.extend(row);
        step.findings.sort();
        step.findings.dedup();
        step.rows.sort();
    }
}

/// The action that removes one grant.
pub fn grant_action(key: &GrantKey, inputs: &PlanInputs) -> Action {
    let email = key.email.clone();
    match key.grant_type.as_str() {
        TEAM_INVITATION => {
            match inputs.invitations.iter().find(|i| i.team == key.team && norm(&i.email) == key.email) {
                Some(inv) => Action::RevokeInvitation { team: inv.team.clone(), email, id: inv.id.clone() },
                None => Action::Manual {
                    text: format!("the invitation of {email} to team {} is not in the snapshot any more", key.team),
                },
            }
        }
        TEAM_MEMBERSHIP => Action::RemoveTeamMember { team: key.team.clone(), email },
        ENTERPRISE_MEMBERSHIP => {
            Action::RemoveEnterpriseMember { enterprise_account: key.enterprise_account.clone(), email }
        }
        APP_PERMISSION => Action::RemoveAppCollaborator { app: key.app.clone(), email, personal: false },
        PERSONAL_APP_COLLABORATOR => Action::RemoveAppCollaborator { app: key.app.clone(), email, personal: true },
        other => Action::Manual { text: format!("grant type `{other}` has no removal hkaudit knows") },
    }
}

/// The steps that act on one finding, added to `steps` (a grant two findings point at is removed
/// once).
pub fn plan_finding(inputs: &PlanInputs, f: &Finding, steps: &mut Steps) {
    let r = FindingRef {
        rule_id: f.rule_id.clone(),
        subject: f.subject.display(),
        fingerprint: f.fingerprint.clone(),
        message: f.message.clone(),
    };
    let s = &f.subject;
    let email = s.email.as_deref().map(norm);
    let manual = |text: String| Action::Manual { text };
    let missing = || manual(format!("the finding lacks the team, app, email or id a command needs; {}", f.remediation));
    let action = match (f.fix, &s.team, &s.app, &email) {
        (Fix::RemoveTeamMember, Some(team), _, Some(email)) => Action::RemoveTeamMember { team: team.clone(), email: email.clone() },
        (Fix::RemoveAppCollaborator, team, Some(app), Some(email)) => {
            // A personal app's collaborator and a team app's are removed through different
            // endpoints: the snapshot's grant says which this is, else the finding's team.
            let grant = inputs.grants.iter().find(|g| &g.key.app == app && &g.key.email == email && [APP_PERMISSION, PERSONAL_APP_COLLABORATOR].contains(&g.key.grant_type.as_str()));
            let personal = grant.map_or(team.is_none(), |g| g.key.grant_type == PERSONAL_APP_COLLABORATOR);
            Action::RemoveAppCollaborator { app: app.clone(), email: email.clone(), personal }
        }
        (Fix::RevokeInvitation, Some(team), _, Some(email)) => match inputs.invitations.iter().find(|i| &i.team == team && &norm(&i.email) == email) {
            Some(inv) => Action::RevokeInvitation { team: team.clone(), email: email.clone(), id: inv.id.clone() },
            None => manual(format!("the invitation of {email} to team {team} is not in the snapshot any more: check `heroku members --team {team} --pending`")),
        },
        (Fix::RevokeAuthorization, _, _, Some(owner)) => match &s.item {
            Some(id) => Action::RevokeAuthorization { id: id.clone(), owner: owner.clone() },
            None => missing(),
        },
        (Fix::RemoveAllAccess, _, _, Some(email)) => {
            let mut any = false;
            // The rule gathers a person's access under every email of their user id: so does the plan.
            let ids: BTreeSet<&str> =
                inputs.grants.iter().filter(|g| &g.key.email == email).filter_map(|g| g.user_id.as_deref()).collect();
            let emails: BTreeSet<&str> = inputs
                .grants
                .iter()
                .filter(|g| &g.key.email == email || g.user_id.as_deref().is_some_and(|u| ids.contains(u)))
                .map(|g| g.key.email.as_str())
                .chain([email.as_str()])
                .collect();
            // Invitations are revoked just below, with their ids.
            for g in inputs.grants.iter().filter(|g| emails.contains(g.key.email.as_str()) && g.key.grant_type != TEAM_INVITATION) {
                steps.add(grant_action(&g.key, inputs), Some(g.key.clone()), Some(r.clone()), None);
                any = true;
            }
            for inv in inputs.invitations.iter().filter(|i| emails.contains(norm(&i.email).as_str())) {
                steps.add(Action::RevokeInvitation { team: inv.team.clone(), email: norm(&inv.email), id: inv.id.clone() }, None, Some(r.clone()), None);
                any = true;
            }
            if !any {
                steps.add(manual(format!("no grant or invitation of {email} is in the snapshot; {}", f.remediation)), None, Some(r.clone()), None);
            }
            // Authorizations are per user and not in the snapshot: say so once per person.
            manual(format!("{email}'s OAuth authorizations are not in the snapshot: have them run `heroku authorizations` and revoke each, or ask Heroku support to disable the account"))
        }
        (Fix::Manual, ..) => manual(f.remediation.clone()),
        _ => missing(),
    };
    let grant = match &action {
        Action::RemoveTeamMember { team, email } => inputs
            .grants
            .iter()
            .find(|g| g.key.grant_type == TEAM_MEMBERSHIP && &g.key.team == team && &g.key.email == email)
            .map(|g| g.key.clone()),
        Action::RemoveAppCollaborator { app, email, .. } => inputs
            .grants
            .iter()
            .find(|g| g.key.grant_type != TEAM_MEMBERSHIP && &g.key.app == app && &g.key.email == email)
            .map(|g| g.key.clone()),
        _ => None,
    };
    steps.add(action, grant, Some(r), None);
}

/// One line, with control and invisible characters (newlines, bidi overrides, zero-width) written
/// as escapes, so text from Heroku can go in a comment without ending it or hiding anything.
pub fn one_line(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        let invisible = matches!(c, '\u{200B}'..='\u{200F}' | '\u{2028}'..='\u{202E}' | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}');
        if c.is_ascii_control() {
            out.extend(c.escape_default());
        } else if c.is_control() || invisible {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}
