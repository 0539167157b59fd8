//! From what was read to the snapshot's tables (documented column by column in
//! `docs/snapshot.md`). Rows are sorted on stable keys so the same organisation always gives the
//! same bytes.
use std::collections::{BTreeMap, BTreeSet};

use polars::prelude::DataFrame;

use super::crawl::Crawl;
use crate::heroku::models::*;
use crate::snapshot::{SnapshotError, TableBuilder};

// Emails are compared normalised everywhere; the original is kept beside each `_norm` column.
use crate::snapshot::email_norm as norm;

fn norm_opt(email: Option<&str>) -> Option<String> {
    email.map(norm)
}

/// The four team-app permissions, in Heroku's order (each implies the ones before it in use).
pub const APP_PERMISSIONS: [&str; 4] = ["view", "deploy", "operate", "manage"];

pub fn build(crawl: &Crawl) -> Result<Vec<(&'static str, DataFrame)>, SnapshotError> {
    Ok(vec![
        ("account", account(crawl)?),
        ("enterprise_accounts", enterprise_accounts(crawl)?),
        ("enterprise_members", enterprise_members(crawl)?),
        ("teams", teams(crawl)?),
        ("team_members", team_members(crawl)?),
        ("team_invitations", team_invitations(crawl)?),
        ("identity_providers", identity_providers(crawl)?),
        ("apps", apps(crawl)?),
        ("app_permissions", app_permissions(crawl)?),
        ("activity", activity(crawl)?),
        ("audit_events", audit_events(crawl)?),
        ("authorizations", authorizations(crawl)?),
    ])
}

fn account(crawl: &Crawl) -> Result<DataFrame, SnapshotError> {
    let rows: Vec<&Account> = crawl.account.iter().collect();
    TableBuilder::new()
        .str("id", rows.iter().map(|a| a.id.as_ref()))
        .str("email", rows.iter().map(|a| Some(&a.email)))
        .str("email_norm", rows.iter().map(|a| Some(norm(&a.email))))
        .str("name", rows.iter().map(|a| a.name.as_ref()))
        .bool("federated", rows.iter().map(|a| a.federated))
        .bool("two_factor_authentication", rows.iter().map(|a| a.two_factor_authentication))
        .time("last_login", rows.iter().map(|a| a.last_login))
        .time("created_at", rows.iter().map(|a| a.created_at))
        .build("account")
}

fn enterprise_accounts(crawl: &Crawl) -> Result<DataFrame, SnapshotError> {
    let mut rows: Vec<&EnterpriseAccount> = crawl.enterprise_accounts.iter().collect();
    rows.sort_by(|a, b| (&a.name, &a.id).cmp(&(&b.name, &b.id)));
    TableBuilder::new()
        .str("id", rows.iter().map(|a| Some(&a.id)))
        .str("name", rows.iter().map(|a| a.name.as_ref()))
        .list("caller_permissions", rows.iter().map(|a| a.permissions.clone()))
        .bool("trial", rows.iter().map(|a| a.trial))
        .str("identity_provider_id", rows.iter().map(|a| a.identity_provider.as_ref().and_then(|i| i.id.as_ref())))
        .time("created_at", rows.iter().map(|a| a.created_at))
        .time("updated_at", rows.iter().map(|a| a.updated_at))
        .build("enterprise_accounts")
}

fn enterprise_members(crawl: &Crawl) -> Result<DataFrame, SnapshotError> {
    let mut rows: Vec<&(EnterpriseAccount, EnterpriseMember)> = crawl.enterprise_members.iter().collect();
    let email = |m: &EnterpriseMember| m.user.email.clone().unwrap_or_default();
    rows.sort_by_key(|(ea, m)| (ea.name.clone(), norm(&email(m)), m.user.id.clone(), m.id.clone()));
    TableBuilder::new()
        .str("enterprise_account_id", rows.iter().map(|(ea, _)| Some(&ea.id)))
        .str("enterprise_account_name", rows.iter().map(|(ea, _)| ea.name.as_ref()))
        .str("member_id", rows.iter().map(|(_, m)| m.id.as_ref()))
        .str("user_id", rows.iter().map(|(_, m)| m.user.id.as_ref()))
        .str("email", rows.iter().map(|(_, m)| m.user.email.as_ref()))
        .str("email_norm", rows.iter().map(|(_, m)| norm_opt(m.user.email.as_deref())))
        .list("permissions", rows.iter().map(|(_, m)| m.permissions.0.clone()))
        .bool("two_factor_authentication", rows.iter().map(|(_, m)| m.two_factor_authentication))
        // Unknown when the API did not say (no `identity_provider` key, or one without an id).
        .bool("federated", rows.iter().map(|(_, m)| m.federated()))
        .str("identity_provider_id", rows.iter().map(|(_, m)| m.identity_provider.value().and_then(|i| i.id.as_ref())))
        .build("enterprise_members")
}

fn teams(crawl: &Crawl) -> Result<DataFrame, SnapshotError> {
    let mut rows: Vec<&Team> = crawl.teams.iter().collect();
    rows.sort_by(|a, b| (&a.name, &a.id).cmp(&(&b.name, &b.id)));
    TableBuilder::new()
        .str("id", rows.iter().map(|t| Some(&t.id)))
        .str("name", rows.iter().map(|t| t.name.as_ref()))
        .str("type", rows.iter().map(|t| t.kind.as_ref()))
        .str("enterprise_account_id", rows.iter().map(|t| t.enterprise_account_id()))
        .str(
            "enterprise_account_name",
            rows.iter().map(|t| t.enterprise_account.as_ref().and_then(|e| e.name.as_ref())),
        )
        .str("identity_provider_id", rows.iter().map(|t| t.identity_provider.as_ref().and_then(|i| i.id.as_ref())))
        .str("caller_role", rows.iter().map(|t| t.role.as_ref()))
        .f64("membership_limit", rows.iter().map(|t| t.membership_limit))
        .bool("default", rows.iter().map(|t| t.default))
        .time("created_at", rows.iter().map(|t| t.created_at))
        .time("updated_at", rows.iter().map(|t| t.updated_at))
        .build("teams")
}

fn team_members(crawl: &Crawl) -> Result<DataFrame, SnapshotError> {
    let mut rows: Vec<&(Team, TeamMember)> = crawl.team_members.iter().collect();
    rows.sort_by_key(|(t, m)| {
        (t.name.clone(), norm_opt(m.email().map(String::as_str)), m.user_id().cloned(), m.id.clone())
    });
    TableBuilder::new()
        .str("team_id", rows.iter().map(|(t, _)| Some(&t.id)))
        .str("team_name", rows.iter().map(|(t, _)| t.name.as_ref()))
        .str("enterprise_account_id", rows.iter().map(|(t, _)| t.enterprise_account_id()))
        .str("member_id", rows.iter().map(|(_, m)| m.id.as_ref()))
        .str("user_id", rows.iter().map(|(_, m)| m.user_id()))
        .str("email", rows.iter().map(|(_, m)| m.email()))
        .str("email_norm", rows.iter().map(|(_, m)| norm_opt(m.email().map(String::as_str))))
        .str("name", rows.iter().map(|(_, m)| m.user.as_ref().and_then(|u| u.name.as_ref())))
        .str("role", rows.iter().map(|(_, m)| m.role.as_ref()))
        .bool("federated", rows.iter().map(|(_, m)| m.federated))
        .bool("two_factor_authentication", rows.iter().map(|(_, m)| m.two_factor_authentication))
        .str("identity_provider_id", rows.iter().map(|(_, m)| m.identity_provider.as_ref().and_then(|i| i.id.as_ref())))
        .time("created_at", rows.iter().map(|(_, m)| m.created_at))
        .time("updated_at", rows.iter().map(|(_, m)| m.updated_at))
        .build("team_members")
}

fn team_invitations(crawl: &Crawl) -> Result<DataFrame, SnapshotError> {
    let mut rows: Vec<&(Team, TeamInvitation)> = crawl.team_invitations.iter().collect();
    rows.sort_by_key(|(t, i)| (t.name.clone(), i.id.clone(), norm_opt(i.user.email.as_deref())));
    TableBuilder::new()
        .str("id", rows.iter().map(|(_, i)| i.id.as_ref()))
        .str("team_id", rows.iter().map(|(t, _)| Some(&t.id)))
        .str("team_name", rows.iter().map(|(t, _)| t.name.as_ref()))
        .str("enterprise_account_id", rows.iter().map(|(t, _)| t.enterprise_account_id()))
        .str("user_id", rows.iter().map(|(_, i)| i.user.id.as_ref()))
        .str("email", rows.iter().map(|(_, i)| i.user.email.as_ref()))
        .str("email_norm", rows.iter().map(|(_, i)| norm_opt(i.user.email.as_deref())))
        .str("role", rows.iter().map(|(_, i)| i.role.as_ref()))
        .str("invited_by_email", rows.iter().map(|(_, i)| i.invited_by.as_ref().and_then(|u| u.email.as_ref())))
        .time("created_at", rows.iter().map(|(_, i)| i.created_at))
        .time("updated_at", rows.iter().map(|(_, i)| i.updated_at))
        .build("team_invitations")
}

fn identity_providers(crawl: &Crawl) -> Result<DataFrame, SnapshotError> {
    let mut rows: Vec<&(Team, IdentityProvider)> = crawl.identity_providers.iter().collect();
    rows.sort_by_key(|(t, i)| (t.name.clone(), i.id.clone()));
    TableBuilder::new()
        .str("id", rows.iter().map(|(_, i)| Some(&i.id)))
        .str("team_id", rows.iter().map(|(t, _)| Some(&t.id)))
        .str("team_name", rows.iter().map(|(t, _)| t.name.as_ref()))
        .str("entity_id", rows.iter().map(|(_, i)| i.entity_id.as_ref()))
        .str("sso_target_url", rows.iter().map(|(_, i)| i.sso_target_url.as_ref()))
        .time("created_at", rows.iter().map(|(_, i)| i.created_at))
        .time("updated_at", rows.iter().map(|(_, i)| i.updated_at))
        .build("identity_providers")
}

/// An app's team name; `/apps` may give only the team's id, so the teams read supply the name.
fn app_team_name(crawl: &Crawl, app: &App) -> Option<String> {
    let t = app.team.as_ref()?;
    t.name.clone().or_else(|| crawl.teams.iter().find(|x| Some(&x.id) == t.id.as_ref()).and_then(|x| x.name.clone()))
}

fn apps(crawl: &Crawl) -> Result<DataFrame, SnapshotError> {
    let mut rows: Vec<&App> = crawl.apps.values().collect();
    rows.sort_by(|a, b| (&a.name, &a.id).cmp(&(&b.name, &b.id)));
    let team_name = |a: &App| app_team_name(crawl, a);
    TableBuilder::new()
        .str("id", rows.iter().map(|a| Some(&a.id)))
        .str("name", rows.iter().map(|a| a.name.as_ref()))
        .str("team_id", rows.iter().map(|a| a.team_id()))
        .str("team_name", rows.iter().map(|a| team_name(a)))
        .bool("personal", rows.iter().map(|a| Some(a.personal())))
        .str("owner_id", rows.iter().map(|a| a.owner.as_ref().and_then(|o| o.id.as_ref())))
        .str("owner_email", rows.iter().map(|a| a.owner.as_ref().and_then(|o| o.email.as_ref())))
        .str("owner_email_norm", rows.iter().map(|a| norm_opt(a.owner.as_ref().and_then(|o| o.email.as_deref()))))
        .bool("locked", rows.iter().map(|a| a.locked))
        .time("created_at", rows.iter().map(|a| a.created_at))
        .time("updated_at", rows.iter().map(|a| a.updated_at))
        .time("released_at", rows.iter().map(|a| a.released_at))
        .bool("activity_scanned", rows.iter().map(|a| Some(crawl.activity_scanned.contains(&a.id))))
        .build("apps")
}

/// One row per user × app holding a direct grant: explicit team-app permissions, personal-app
/// collaborators and personal-app owners. Access a team role implies (admins: all four
/// permissions on every team app; members and viewers: `view`) is not repeated per app: it is
/// `team_members` × `apps`, and repeating it made this table members × apps long (1.85 million
/// rows for 10,000 members and 5,000 apps).
#[derive(Default)]
struct Grant {
    user_id: Option<String>,
    email: Option<String>,
    permissions: BTreeSet<&'static str>,
    extra: BTreeSet<String>,
    sources: BTreeSet<String>,
}

/// Who a grant is for: the normalised email, else the user id (a collaborator whose `user.email`
/// is null is still somebody, and rules can match people by id).
fn grant_key(user_id: Option<&String>, email: Option<&str>) -> Option<String> {
    email.map(norm).or_else(|| user_id.map(|id| format!("id:{id}")))
}

fn app_permissions(crawl: &Crawl) -> Result<DataFrame, SnapshotError> {
    let mut grants: BTreeMap<(String, String), Grant> = BTreeMap::new();
    let mut add = |app_id: &str, user_id: Option<&String>, email: Option<&str>, perms: &[String], source: String| {
        // The decoder skips (with a gap) anyone with neither, so this always has a key.
        let Some(key) = grant_key(user_id, email) else { return };
        let g = grants.entry((app_id.to_owned(), key)).or_default();
        if g.email.is_none() {
            g.email = email.map(str::to_owned);
        }
        if g.user_id.is_none() {
            g.user_id = user_id.cloned();
        }
        for p in perms {
            match APP_PERMISSIONS.iter().find(|k| **k == p.as_str()) {
                Some(k) => {
                    g.permissions.insert(k);
                }
                None => {
                    g.extra.insert(p.clone());
                }
            }
        }
        g.sources.insert(source);
    };
    let all: Vec<String> = APP_PERMISSIONS.iter().map(|p| (*p).to_owned()).collect();
    for (_, entity) in &crawl.permission_entities {
        for user in &entity.users {
            add(&entity.id, user.id.as_ref(), user.email.as_deref(), &user.permissions.0, "explicit".into());
        }
    }
    // Personal apps have no permission model: a collaborator can do what the owner can except
    // delete or transfer the app, recorded as view, deploy and operate when the API lists none.
    let personal_default: Vec<String> = ["view", "deploy", "operate"].iter().map(|p| (*p).to_owned()).collect();
    for (app, collab) in &crawl.personal_collaborators {
        let perms = if collab.permissions.0.is_empty() { &personal_default } else { &collab.permissions.0 };
        add(&app.id, collab.user.id.as_ref(), collab.user.email.as_deref(), perms, "personal-collaborator".into());
    }
    for app in crawl.apps.values().filter(|a| a.personal()) {
        if let Some(owner) = app.owner.as_ref() {
            add(&app.id, owner.id.as_ref(), owner.email.as_deref(), &all, "owner".into());
        }
    }

    let mut rows: Vec<(&App, &String, &Grant)> =
        grants.iter().filter_map(|((app_id, key), g)| crawl.apps.get(app_id).map(|a| (a, key, g))).collect();
    rows.sort_by_key(|(a, key, _)| (a.name.clone(), a.id.clone(), (*key).clone()));
    let team_name = |a: &App| app_team_name(crawl, a);
    TableBuilder::new()
        .str("app_id", rows.iter().map(|(a, _, _)| Some(&a.id)))
        .str("app_name", rows.iter().map(|(a, _, _)| a.name.as_ref()))
        .str("team_id", rows.iter().map(|(a, _, _)| a.team_id()))
        .str("team_name", rows.iter().map(|(a, _, _)| team_name(a)))
        .str("user_id", rows.iter().map(|(_, _, g)| g.user_id.as_ref()))
        .str("email", rows.iter().map(|(_, _, g)| g.email.as_ref()))
        .str("email_norm", rows.iter().map(|(_, _, g)| norm_opt(g.email.as_deref())))
        .list(
            "permissions",
            rows.iter().map(|(_, _, g)| {
                APP_PERMISSIONS
                    .iter()
                    .filter(|p| g.permissions.contains(*p))
                    .map(|p| (*p).to_owned())
                    .chain(g.extra.iter().cloned())
                    .collect()
            }),
        )
        .list("sources", rows.iter().map(|(_, _, g)| g.sources.iter().cloned().collect()))
        .build("app_permissions")
}

struct ActivityRow {
    id: String,
    kind: &'static str,
    action: String,
    user_id: Option<String>,
    user_email: Option<String>,
    app_id: Option<String>,
    app_name: Option<String>,
    team_id: Option<String>,
    enterprise_account_id: Option<String>,
    at: chrono::DateTime<chrono::Utc>,
}

fn activity(crawl: &Crawl) -> Result<DataFrame, SnapshotError> {
    let mut rows: Vec<ActivityRow> = Vec::new();
    for (app, r) in &crawl.releases {
        rows.push(ActivityRow {
            id: r.id.clone(),
            kind: "release",
            action: format!("release.{}", r.status.as_deref().unwrap_or("unknown")),
            user_id: r.user.as_ref().and_then(|u| u.id.clone()),
            user_email: r.user.as_ref().and_then(|u| u.email.clone()),
            app_id: Some(app.id.clone()),
            app_name: app.name.clone(),
            team_id: app.team_id().cloned(),
            enterprise_account_id: None,
            at: r.created_at,
        });
    }
    for (app, b) in &crawl.builds {
        rows.push(ActivityRow {
            id: b.id.clone(),
            kind: "build",
            action: format!("build.{}", b.status.as_deref().unwrap_or("unknown")),
            user_id: b.user.as_ref().and_then(|u| u.id.clone()),
            user_email: b.user.as_ref().and_then(|u| u.email.clone()),
            app_id: Some(app.id.clone()),
            app_name: app.name.clone(),
            team_id: app.team_id().cloned(),
            enterprise_account_id: None,
            at: b.created_at,
        });
    }
    for (ea, e) in crawl.audit_events.values() {
        rows.push(ActivityRow {
            id: e.id.clone(),
            kind: "audit",
            action: e.name(),
            user_id: e.actor.as_ref().and_then(|u| u.id.clone()),
            user_email: e.actor.as_ref().and_then(|u| u.email.clone()),
            app_id: e.app.as_ref().and_then(|a| a.id.clone()),
            app_name: e.app.as_ref().and_then(|a| a.name.clone()),
            team_id: e.team.as_ref().and_then(|t| t.id.clone()),
            enterprise_account_id: Some(ea.id.clone()),
            at: e.created_at,
        });
    }
    rows.sort_by(|a, b| (a.at, a.kind, &a.id).cmp(&(b.at, b.kind, &b.id)));
    TableBuilder::new()
        .str("id", rows.iter().map(|r| Some(&r.id)))
        .str("kind", rows.iter().map(|r| Some(r.kind)))
        .str("action", rows.iter().map(|r| Some(&r.action)))
        .str("user_id", rows.iter().map(|r| r.user_id.as_ref()))
        .str("user_email", rows.iter().map(|r| r.user_email.as_ref()))
        .str("user_email_norm", rows.iter().map(|r| norm_opt(r.user_email.as_deref())))
        .str("app_id", rows.iter().map(|r| r.app_id.as_ref()))
        .str("app_name", rows.iter().map(|r| r.app_name.as_ref()))
        .str("team_id", rows.iter().map(|r| r.team_id.as_ref()))
        .str("enterprise_account_id", rows.iter().map(|r| r.enterprise_account_id.as_ref()))
        .time("at", rows.iter().map(|r| Some(r.at)))
        .build("activity")
}

fn audit_events(crawl: &Crawl) -> Result<DataFrame, SnapshotError> {
    let mut rows: Vec<&(EnterpriseAccount, AuditEvent)> = crawl.audit_events.values().collect();
    rows.sort_by(|(_, a), (_, b)| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
    let actor_email = |e: &AuditEvent| e.actor.as_ref().and_then(|a| a.email.clone());
    let owner_email = |e: &AuditEvent| e.owner.as_ref().and_then(|a| a.email.clone());
    TableBuilder::new()
        .str("id", rows.iter().map(|(_, e)| Some(&e.id)))
        .str("enterprise_account_id", rows.iter().map(|(ea, _)| Some(&ea.id)))
        .str("enterprise_account_name", rows.iter().map(|(ea, _)| ea.name.as_ref()))
        .time("created_at", rows.iter().map(|(_, e)| Some(e.created_at)))
        .str("type", rows.iter().map(|(_, e)| e.kind.as_ref()))
        .str("action", rows.iter().map(|(_, e)| e.action.as_ref()))
        .str("name", rows.iter().map(|(_, e)| Some(e.name())))
        .str("actor_id", rows.iter().map(|(_, e)| e.actor.as_ref().and_then(|a| a.id.as_ref())))
        .str("actor_email", rows.iter().map(|(_, e)| actor_email(e)))
        .str("actor_email_norm", rows.iter().map(|(_, e)| norm_opt(actor_email(e).as_deref())))
        .str("app_id", rows.iter().map(|(_, e)| e.app.as_ref().and_then(|a| a.id.as_ref())))
        .str("app_name", rows.iter().map(|(_, e)| e.app.as_ref().and_then(|a| a.name.as_ref())))
        .str("team_id", rows.iter().map(|(_, e)| e.team.as_ref().and_then(|t| t.id.as_ref())))
        .str("team_name", rows.iter().map(|(_, e)| e.team.as_ref().and_then(|t| t.name.as_ref())))
        .str("owner_email", rows.iter().map(|(_, e)| owner_email(e)))
        .str("owner_email_norm", rows.iter().map(|(_, e)| norm_opt(owner_email(e).as_deref())))
        .str("target_email", rows.iter().map(|(_, e)| target_email(e)))
        .str("target_email_norm", rows.iter().map(|(_, e)| norm_opt(target_email(e).as_deref())))
        .str("request_ip", rows.iter().map(|(_, e)| e.request.as_ref().and_then(|r| r.ip_address.as_ref())))
        .str("data", rows.iter().map(|(_, e)| e.data.as_ref().map(|d| d.to_string())))
        .build("audit_events")
}

/// The person a membership event is about: `data.user.email` (membership events name the
/// affected user there; the actor is who made the change).
fn target_email(e: &AuditEvent) -> Option<String> {
    e.data.as_ref()?.get("user")?.get("email")?.as_str().map(str::to_owned)
}

fn authorizations(crawl: &Crawl) -> Result<DataFrame, SnapshotError> {
    let mut rows: Vec<&Authorization> = crawl.authorizations.iter().collect();
    rows.sort_by(|a, b| a.id.cmp(&b.id));
    authorization_table(&rows, |_| "api".to_owned())
}

/// The `authorizations` table for rows from any source (the API, or a user's export).
pub fn authorization_table(
    rows: &[&Authorization],
    source: impl Fn(&Authorization) -> String,
) -> Result<DataFrame, SnapshotError> {
    let user_email = |a: &Authorization| a.user.as_ref().and_then(|u| u.email.clone());
    TableBuilder::new()
        .str("id", rows.iter().map(|a| Some(&a.id)))
        .str("user_id", rows.iter().map(|a| a.user.as_ref().and_then(|u| u.id.as_ref())))
        .str("user_email", rows.iter().map(|a| user_email(a)))
        .str("user_email_norm", rows.iter().map(|a| norm_opt(user_email(a).as_deref())))
        .str("description", rows.iter().map(|a| a.description.as_ref()))
        .list("scopes", rows.iter().map(|a| a.scope.clone()))
        .str("client_id", rows.iter().map(|a| a.client.as_ref().and_then(|c| c.id.as_ref())))
        .str("client_name", rows.iter().map(|a| a.client.as_ref().and_then(|c| c.name.as_ref())))
        .time("created_at", rows.iter().map(|a| a.created_at))
        .time("updated_at", rows.iter().map(|a| a.updated_at))
        .time("expires_at", rows.iter().map(|a| a.expires_at()))
        .str("source", rows.iter().map(|a| Some(source(a))))
        .build("authorizations")
}
