//! The crawl plan: which endpoints are read, in what order, and what a failure leaves out.
//!
//! The plan is shaped to make few requests: one `GET /teams/{team}/permissions` per team instead
//! of one collaborator call per team app; releases and builds only for apps touched inside the
//! activity window, newest first, stopping at the window's edge; audit-trail months as archives
//! and only the days not archived yet as daily event calls.
use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use futures::future::join_all;

use crate::heroku::models::*;
use crate::heroku::{ApiError, Client, RangeSpec, ACCEPT_TEAM_INVITATIONS, ACCEPT_V3};
use crate::snapshot::Gap;

/// Everything read, before it becomes tables.
#[derive(Debug, Default)]
pub struct Crawl {
    pub account: Option<Account>,
    pub enterprise_accounts: Vec<EnterpriseAccount>,
    pub enterprise_members: Vec<(EnterpriseAccount, EnterpriseMember)>,
    pub teams: Vec<Team>,
    pub team_members: Vec<(Team, TeamMember)>,
    pub team_invitations: Vec<(Team, TeamInvitation)>,
    pub identity_providers: Vec<(Team, IdentityProvider)>,
    /// Team apps from `/teams/{team}/apps`, and every app `/apps` lists.
    pub apps: BTreeMap<String, App>,
    /// Teams whose member list was read (so role-derived app grants are known).
    pub members_read: BTreeSet<String>,
    pub permission_entities: Vec<(Team, PermissionEntity)>,
    pub personal_collaborators: Vec<(App, Collaborator)>,
    /// App ids whose releases and builds were read.
    pub activity_scanned: BTreeSet<String>,
    pub releases: Vec<(App, Release)>,
    pub builds: Vec<(App, Build)>,
    pub audit_events: BTreeMap<String, (EnterpriseAccount, AuditEvent)>,
    pub authorizations: Vec<Authorization>,
    pub gaps: Vec<Gap>,
    /// The activity window the crawl read.
    pub window: Window,
}

/// The time span activity is read for.
#[derive(Debug, Clone, Copy, Default)]
pub struct Window {
    pub since: DateTime<Utc>,
    pub until: DateTime<Utc>,
}

impl Window {
    pub fn contains(&self, at: DateTime<Utc>) -> bool {
        at >= self.since && at <= self.until
    }
}

/// What a failed read left out, and where.
#[derive(Default, Clone)]
struct Scope {
    enterprise_account_id: Option<String>,
    team: Option<(String, String)>,
    app: Option<(String, String)>,
}

impl Scope {
    fn team(team: &Team) -> Self {
        Scope { team: Some((team.id.clone(), team.name.clone())), ..Default::default() }
    }
    fn app(app: &App) -> Self {
        Scope {
            team: app.team.as_ref().map(|t| (t.id.clone(), t.name.clone().unwrap_or_default())),
            app: Some((app.id.clone(), app.name.clone())),
            ..Default::default()
        }
    }
    fn enterprise(ea: &EnterpriseAccount) -> Self {
        Scope { enterprise_account_id: Some(ea.id.clone()), ..Default::default() }
    }
}

fn gap(err: &ApiError, endpoint: &str, path: &str, tables: &[&str], scope: Scope) -> Gap {
    Gap {
        endpoint: endpoint.to_owned(),
        path: path.to_owned(),
        tables: tables.iter().map(|t| (*t).to_owned()).collect(),
        enterprise_account_id: scope.enterprise_account_id,
        team_id: scope.team.as_ref().map(|t| t.0.clone()),
        team_name: scope.team.map(|t| t.1),
        app_id: scope.app.as_ref().map(|a| a.0.clone()),
        app_name: scope.app.map(|a| a.1),
        status: err.status().map(|s| s.as_u16()),
        error_id: err.heroku_id().map(str::to_owned),
        message: err.gap_message(),
    }
}

/// Path segments are ids or names; both are URL-safe on Heroku, but encode anyway so an odd name
/// cannot change the path.
fn seg(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect::<String>().replace('+', "%20")
}

/// A read whose failure is recorded as a gap instead of ending the run. 401 stays fatal: nothing
/// after it can succeed.
async fn read_or_gap<T>(
    gaps: &mut Vec<Gap>,
    fut: impl std::future::Future<Output = Result<T, ApiError>>,
    endpoint: &str,
    path: &str,
    tables: &[&str],
    scope: Scope,
) -> Result<Option<T>, ApiError> {
    match fut.await {
        Ok(v) => Ok(Some(v)),
        Err(err @ ApiError::Unauthorized { .. }) => Err(err),
        Err(err) => {
            tracing::warn!(error = %err, "read failed; recorded as a gap");
            gaps.push(gap(&err, endpoint, path, tables, scope));
            Ok(None)
        }
    }
}

/// Read everything. The activity window is `days` long and ends at `as_of`, or, when `None`, at
/// the API's clock as its first answer tells it (the local clock if it does not say).
pub async fn crawl(
    client: &Client,
    as_of: Option<DateTime<Utc>>,
    days: u32,
    progress: indicatif::ProgressBar,
) -> Result<Crawl, ApiError> {
    // The account is read first and strictly: a rejected token ends the run with one error.
    progress.set_message("account");
    progress.inc(1);
    let account = client.get::<Account>("GET /account", "/account").await?;
    let as_of = as_of.or_else(|| client.server_clock()).unwrap_or_else(Utc::now);
    let crawler = Crawler { client, window: window(as_of, days), progress };
    crawler.run(account).await
}

struct Crawler<'a> {
    client: &'a Client,
    window: Window,
    progress: indicatif::ProgressBar,
}

impl Crawler<'_> {
    fn step(&self, what: &str) {
        self.progress.set_message(what.to_owned());
        self.progress.inc(1);
    }

    async fn run(&self, account: Account) -> Result<Crawl, ApiError> {
        let mut crawl = Crawl { account: Some(account), window: self.window, ..Crawl::default() };
        let client = self.client;
        // Free on Heroku: tells the client how much of the pool is left before the crawl starts.
        if let Err(err) = client.fetch_rate_limit().await {
            tracing::info!(error = %err, "could not read /account/rate-limits; continuing");
        }

        self.step("enterprise accounts");
        let eas: Vec<EnterpriseAccount> = read_or_gap(
            &mut crawl.gaps,
            client.list("GET /enterprise-accounts", "/enterprise-accounts", RangeSpec::by_id()),
            "GET /enterprise-accounts",
            "/enterprise-accounts",
            &["enterprise_accounts", "enterprise_members", "audit_events", "activity"],
            Scope::default(),
        )
        .await?
        .unwrap_or_default();
        self.progress.inc_length(eas.len() as u64 * 3);
        let ea_results = join_all(eas.iter().map(|ea| self.enterprise(ea))).await;
        let mut ea_teams: Vec<Team> = Vec::new();
        for result in ea_results {
            let part = result?;
            crawl.enterprise_members.extend(part.members);
            crawl.gaps.extend(part.gaps);
            ea_teams.extend(part.teams);
            for (ea, event) in part.events {
                crawl.audit_events.entry(event.id.clone()).or_insert((ea, event));
            }
        }
        crawl.enterprise_accounts = eas;

        self.step("teams");
        let teams: Vec<Team> = read_or_gap(
            &mut crawl.gaps,
            client.list("GET /teams", "/teams", RangeSpec::by_id()),
            "GET /teams",
            "/teams",
            &["teams", "team_members", "team_invitations", "identity_providers", "apps", "app_permissions"],
            Scope::default(),
        )
        .await?
        .unwrap_or_default();
        // `/teams` lists the caller's teams; an enterprise may hold teams the caller is not in.
        let mut by_id: BTreeMap<String, Team> = BTreeMap::new();
        for team in teams.into_iter().chain(ea_teams) {
            by_id.entry(team.id.clone()).or_insert(team);
        }
        crawl.teams = by_id.into_values().collect();
        self.progress.inc_length(crawl.teams.len() as u64);

        let team_results = join_all(crawl.teams.iter().map(|t| self.team(t))).await;
        for result in team_results {
            let part = result?;
            crawl.gaps.extend(part.gaps);
            crawl.team_members.extend(part.members.iter().map(|m| (part.team.clone(), m.clone())));
            if part.members_read {
                crawl.members_read.insert(part.team.id.clone());
            }
            crawl.team_invitations.extend(part.invitations.into_iter().map(|i| (part.team.clone(), i)));
            crawl.identity_providers.extend(part.identity_providers.into_iter().map(|i| (part.team.clone(), i)));
            for app in part.apps {
                crawl.apps.insert(app.id.clone(), app);
            }
            crawl.permission_entities.extend(part.permissions.into_iter().map(|p| (part.team.clone(), p)));
        }

        self.step("apps");
        let all_apps: Vec<App> = read_or_gap(
            &mut crawl.gaps,
            client.list("GET /apps", "/apps", RangeSpec::by_id()),
            "GET /apps",
            "/apps",
            &["apps", "app_permissions", "activity"],
            Scope::default(),
        )
        .await?
        .unwrap_or_default();
        for app in all_apps {
            crawl.apps.entry(app.id.clone()).or_insert(app);
        }

        // Personal apps are outside Teams' permission lists: their collaborators are read per app.
        let personal: Vec<App> = crawl.apps.values().filter(|a| a.team.is_none()).cloned().collect();
        self.progress.inc_length(personal.len() as u64);
        let collab_results = join_all(personal.iter().map(|app| async move {
            let path = format!("/apps/{}/collaborators", seg(&app.id));
            let endpoint = "GET /apps/{app}/collaborators";
            let result = client.list::<Collaborator>(endpoint, &path, RangeSpec::by_id()).await;
            self.step(&app.name);
            (app, path, endpoint, result)
        }))
        .await;
        for (app, path, endpoint, result) in collab_results {
            if let Some(collabs) =
                read_or_gap(&mut crawl.gaps, async { result }, endpoint, &path, &["app_permissions"], Scope::app(app))
                    .await?
            {
                crawl.personal_collaborators.extend(collabs.into_iter().map(|c| (app.clone(), c)));
            }
        }

        // Releases and builds only for apps touched inside the window: an app whose last release
        // and last update are older than the window cannot hold activity inside it.
        let active: Vec<App> = crawl
            .apps
            .values()
            .filter(|a| {
                let touched = [a.released_at, a.updated_at].into_iter().flatten().max();
                touched.is_none_or(|t| t >= self.window.since)
            })
            .cloned()
            .collect();
        self.progress.inc_length(active.len() as u64);
        let activity_results = join_all(active.iter().map(|app| self.app_activity(app))).await;
        for (app, result) in active.iter().zip(activity_results) {
            let part = result?;
            if part.complete {
                crawl.activity_scanned.insert(app.id.clone());
            }
            crawl.releases.extend(part.releases.into_iter().map(|r| (app.clone(), r)));
            crawl.builds.extend(part.builds.into_iter().map(|b| (app.clone(), b)));
            crawl.gaps.extend(part.gaps);
        }

        self.step("authorizations");
        // Pages holding authorizations are never cached: the raw body carries token values.
        let auths = client.list_with::<Authorization>(
            "GET /oauth/authorizations",
            "/oauth/authorizations",
            RangeSpec::by_id(),
            ACCEPT_V3,
            false,
            |_| true,
        );
        crawl.authorizations = read_or_gap(
            &mut crawl.gaps,
            auths,
            "GET /oauth/authorizations",
            "/oauth/authorizations",
            &["authorizations"],
            Scope::default(),
        )
        .await?
        .unwrap_or_default();
        Ok(crawl)
    }

    async fn enterprise(&self, ea: &EnterpriseAccount) -> Result<EnterprisePart, ApiError> {
        let client = self.client;
        let mut part = EnterprisePart::default();
        let id = seg(&ea.id);

        let path = format!("/enterprise-accounts/{id}/members");
        let endpoint = "GET /enterprise-accounts/{ea}/members";
        if let Some(members) = read_or_gap(
            &mut part.gaps,
            client.list::<EnterpriseMember>(endpoint, &path, RangeSpec::by_id()),
            endpoint,
            &path,
            &["enterprise_members"],
            Scope::enterprise(ea),
        )
        .await?
        {
            part.members = members.into_iter().map(|m| (ea.clone(), m)).collect();
        }
        self.step(&ea.name);

        let path = format!("/enterprise-accounts/{id}/teams");
        let endpoint = "GET /enterprise-accounts/{ea}/teams";
        if let Some(teams) = read_or_gap(
            &mut part.gaps,
            client.list::<Team>(endpoint, &path, RangeSpec::by_id()),
            endpoint,
            &path,
            &["teams"],
            Scope::enterprise(ea),
        )
        .await?
        {
            part.teams = teams;
        }
        self.step(&ea.name);

        self.audit_trail(ea, &mut part).await?;
        self.step(&ea.name);
        Ok(part)
    }

    /// Monthly archives that overlap the window, checksum-verified, then one daily events call
    /// per day after the newest archive's coverage.
    async fn audit_trail(&self, ea: &EnterpriseAccount, part: &mut EnterprisePart) -> Result<(), ApiError> {
        let client = self.client;
        let id = seg(&ea.id);
        let tables = ["audit_events", "activity"];
        let path = format!("/enterprise-accounts/{id}/archives");
        let endpoint = "GET /enterprise-accounts/{ea}/archives";
        let Some(archives) = read_or_gap(
            &mut part.gaps,
            client.list::<Archive>(endpoint, &path, RangeSpec::by_id()),
            endpoint,
            &path,
            &tables,
            Scope::enterprise(ea),
        )
        .await?
        else {
            return Ok(());
        };
        let mut covered_until: Option<DateTime<Utc>> = None;
        let in_window: Vec<(&Archive, (i32, u32))> = archives
            .iter()
            .filter_map(|a| a.period().map(|p| (a, p)))
            .filter(|(_, (y, m))| month_overlaps(*y, *m, self.window))
            .collect();
        let downloads = join_all(in_window.iter().map(|(archive, _)| self.archive(archive))).await;
        for ((archive, (year, month)), result) in in_window.iter().zip(downloads) {
            match result {
                Ok(events) => {
                    let end = archive.created_at.unwrap_or_else(|| month_end(*year, *month));
                    covered_until = Some(covered_until.map_or(end, |c| c.max(end)));
                    part.events.extend(
                        events.into_iter().filter(|e| self.window.contains(e.created_at)).map(|e| (ea.clone(), e)),
                    );
                }
                Err(err @ ApiError::Unauthorized { .. }) => return Err(err),
                Err(err) => {
                    let path = format!("/enterprise-accounts/{id}/archives/{year}/{month:02}");
                    part.gaps.push(gap(&err, "GET archive download", &path, &tables, Scope::enterprise(ea)));
                }
            }
        }
        // Days not covered by any archive are read one by one; with no archive at all that is
        // every day of the window, which is what it costs to be complete.
        let first_day = covered_until.unwrap_or(self.window.since).date_naive();
        let last_day = self.window.until.date_naive();
        let days: Vec<NaiveDate> = first_day.iter_days().take_while(|d| *d <= last_day).collect();
        let endpoint = "GET /enterprise-accounts/{ea}/events";
        let results = join_all(days.iter().map(|day| {
            let path = format!("/enterprise-accounts/{id}/events?day={}", day.format("%Y-%m-%d"));
            async move {
                let result = client.list::<AuditEvent>(endpoint, &path, RangeSpec::by_id()).await;
                (path, result)
            }
        }))
        .await;
        for (path, result) in results {
            if let Some(events) =
                read_or_gap(&mut part.gaps, async { result }, endpoint, &path, &tables, Scope::enterprise(ea)).await?
            {
                part.events
                    .extend(events.into_iter().filter(|e| self.window.contains(e.created_at)).map(|e| (ea.clone(), e)));
            }
        }
        Ok(())
    }

    async fn archive(&self, archive: &Archive) -> Result<Vec<AuditEvent>, ApiError> {
        let endpoint = "GET archive download";
        // Checksum-verified by the client, which retries a cut or corrupted transfer.
        let bytes = self.client.download(endpoint, &archive.url, &archive.checksum).await?;
        let mut json = Vec::new();
        flate2::read::GzDecoder::new(&bytes[..])
            .read_to_end(&mut json)
            .map_err(|e| ApiError::Decode { endpoint: endpoint.into(), detail: format!("archive is not gzip: {e}") })?;
        let file: ArchiveFile = serde_json::from_slice(&json)
            .map_err(|e| ApiError::Decode { endpoint: endpoint.into(), detail: e.to_string() })?;
        Ok(file.into_entries())
    }

    async fn team(&self, team: &Team) -> Result<TeamPart, ApiError> {
        let client = self.client;
        let mut part = TeamPart {
            team: team.clone(),
            members: Vec::new(),
            members_read: false,
            invitations: Vec::new(),
            identity_providers: Vec::new(),
            apps: Vec::new(),
            permissions: Vec::new(),
            gaps: Vec::new(),
        };
        let id = seg(&team.id);
        let name = seg(&team.name);
        let scope = || Scope::team(team);

        let members_path = format!("/teams/{id}/members");
        let invitations_path = format!("/teams/{name}/invitations");
        let idps_path = format!("/teams/{name}/identity-providers");
        let apps_path = format!("/teams/{id}/apps");
        let permissions_path = format!("/teams/{id}/permissions");
        let (members, invitations, idps, apps, permissions) = tokio::join!(
            client.list::<TeamMember>("GET /teams/{team}/members", &members_path, RangeSpec::by("email")),
            client.list_with::<TeamInvitation>(
                "GET /teams/{team}/invitations",
                &invitations_path,
                RangeSpec::by_id(),
                ACCEPT_TEAM_INVITATIONS,
                true,
                |_| true
            ),
            client.list::<IdentityProvider>("GET /teams/{team}/identity-providers", &idps_path, RangeSpec::by_id()),
            client.list::<App>("GET /teams/{team}/apps", &apps_path, RangeSpec::by_id()),
            client.list::<PermissionEntity>("GET /teams/{team}/permissions", &permissions_path, RangeSpec::by_id()),
        );
        let gaps = &mut part.gaps;
        if let Some(v) = read_or_gap(
            gaps,
            async { members },
            "GET /teams/{team}/members",
            &members_path,
            &["team_members", "app_permissions"],
            scope(),
        )
        .await?
        {
            part.members = v;
            part.members_read = true;
        }
        if let Some(v) = read_or_gap(
            gaps,
            async { invitations },
            "GET /teams/{team}/invitations",
            &invitations_path,
            &["team_invitations"],
            scope(),
        )
        .await?
        {
            part.invitations = v;
        }
        if let Some(v) = read_or_gap(
            gaps,
            async { idps },
            "GET /teams/{team}/identity-providers",
            &idps_path,
            &["identity_providers"],
            scope(),
        )
        .await?
        {
            part.identity_providers = v;
        }
        if let Some(v) = read_or_gap(
            gaps,
            async { apps },
            "GET /teams/{team}/apps",
            &apps_path,
            &["apps", "app_permissions", "activity"],
            scope(),
        )
        .await?
        {
            part.apps = v;
        }
        if let Some(v) = read_or_gap(
            gaps,
            async { permissions },
            "GET /teams/{team}/permissions",
            &permissions_path,
            &["app_permissions"],
            scope(),
        )
        .await?
        {
            part.permissions = v;
        }
        self.step(&team.name);
        Ok(part)
    }

    async fn app_activity(&self, app: &App) -> Result<ActivityPart, ApiError> {
        let client = self.client;
        let since = self.window.since;
        let id = seg(&app.id);
        let mut part = ActivityPart { complete: true, ..Default::default() };
        let releases_path = format!("/apps/{id}/releases");
        let builds_path = format!("/apps/{id}/builds");
        // Newest first; a page whose oldest item is before the window is the last one needed.
        let releases = client.list_with::<Release>(
            "GET /apps/{app}/releases",
            &releases_path,
            RangeSpec::by("version").desc(),
            ACCEPT_V3,
            true,
            |page| page.last().is_none_or(|r| r.created_at >= since),
        );
        let builds = client.list_with::<Build>(
            "GET /apps/{app}/builds",
            &builds_path,
            RangeSpec::by("started_at").desc(),
            ACCEPT_V3,
            true,
            |page| page.last().is_none_or(|b| b.created_at >= since),
        );
        let (releases, builds) = tokio::join!(releases, builds);
        match read_or_gap(
            &mut part.gaps,
            async { releases },
            "GET /apps/{app}/releases",
            &releases_path,
            &["activity"],
            Scope::app(app),
        )
        .await?
        {
            Some(v) => part.releases = v.into_iter().filter(|r| self.window.contains(r.created_at)).collect(),
            None => part.complete = false,
        }
        match read_or_gap(
            &mut part.gaps,
            async { builds },
            "GET /apps/{app}/builds",
            &builds_path,
            &["activity"],
            Scope::app(app),
        )
        .await?
        {
            Some(v) => part.builds = v.into_iter().filter(|b| self.window.contains(b.created_at)).collect(),
            None => part.complete = false,
        }
        self.step(&app.name);
        Ok(part)
    }
}

#[derive(Default)]
struct EnterprisePart {
    members: Vec<(EnterpriseAccount, EnterpriseMember)>,
    teams: Vec<Team>,
    events: Vec<(EnterpriseAccount, AuditEvent)>,
    gaps: Vec<Gap>,
}

struct TeamPart {
    team: Team,
    members: Vec<TeamMember>,
    members_read: bool,
    invitations: Vec<TeamInvitation>,
    identity_providers: Vec<IdentityProvider>,
    apps: Vec<App>,
    permissions: Vec<PermissionEntity>,
    gaps: Vec<Gap>,
}

#[derive(Default)]
struct ActivityPart {
    complete: bool,
    releases: Vec<Release>,
    builds: Vec<Build>,
    gaps: Vec<Gap>,
}

fn month_start(year: i32, month: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(year, month, 1, 0, 0, 0).single().unwrap_or(DateTime::<Utc>::MIN_UTC)
}

fn month_end(year: i32, month: u32) -> DateTime<Utc> {
    let (y, m) = if month == 12 { (year + 1, 1) } else { (year, month + 1) };
    month_start(y, m)
}

fn month_overlaps(year: i32, month: u32, window: Window) -> bool {
    month_start(year, month) <= window.until && month_end(year, month) > window.since
}

/// The window of `days` days ending at `as_of`.
pub fn window(as_of: DateTime<Utc>, days: u32) -> Window {
    Window { since: as_of - Duration::days(i64::from(days)), until: as_of }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_overlap_the_window_at_its_edges() {
        let w = window(Utc.with_ymd_and_hms(2026, 11, 20, 12, 0, 0).single().expect("valid"), 180);
        assert!(month_overlaps(2026, 5, w), "May holds the window's first days");
        assert!(!month_overlaps(2026, 4, w));
        assert!(month_overlaps(2026, 11, w));
        assert!(!month_overlaps(2026, 12, w));
        assert_eq!(month_end(2026, 12), Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).single().expect("valid"));
    }
}
