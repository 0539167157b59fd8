//! The crawl plan: which endpoints are read, in what order, and what a failure leaves out.
//!
//! The plan is shaped to make few requests: one `GET /teams/{team}/permissions` per team instead
//! of one collaborator call per team app; releases and builds only for apps touched inside the
//! activity window, newest first, stopping at the window's edge; audit-trail months as archives
//! and only the days not archived yet as daily event calls.
use std::collections::{BTreeMap, BTreeSet};
use std::io::Read as _;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use futures::future::join_all;
use tracing::Instrument;

use crate::heroku::decode::{Element, ElementProblem};
use crate::heroku::models::*;
use crate::heroku::{ApiError, Client, Listed, RangeSpec, ACCEPT_TEAM_INVITATIONS, ACCEPT_V3};
use crate::redact::redact;
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

/// What a failed read left out, and where: ids for joining, names for people.
#[derive(Default, Clone)]
struct Scope {
    enterprise_account: Option<(String, Option<String>)>,
    team: Option<(String, Option<String>)>,
    app: Option<(String, Option<String>)>,
}

impl Scope {
    /// A span naming the scope, so every log line of the client's (retries, waits) says whose
    /// read it was.
    fn span(&self) -> tracing::Span {
        // At warn level, so the name shows beside warnings even when nothing else is logged.
        tracing::warn_span!("read", of = %self)
    }

    fn is_empty(&self) -> bool {
        self.enterprise_account.is_none() && self.team.is_none() && self.app.is_none()
    }

    fn team(team: &Team) -> Self {
        Scope { team: Some((team.id.clone(), team.name.clone())), ..Default::default() }
    }
    fn app(app: &App, crawl_teams: &BTreeMap<String, String>) -> Self {
        let team = app.team_id().map(|id| {
            let name = app.team.as_ref().and_then(|t| t.name.clone()).or_else(|| crawl_teams.get(id).cloned());
            (id.clone(), name)
        });
        Scope { team, app: Some((app.id.clone(), app.name.clone())), ..Default::default() }
    }
    fn enterprise(ea: &EnterpriseAccount) -> Self {
        Scope { enterprise_account: Some((ea.id.clone(), ea.name.clone())), ..Default::default() }
    }
}

/// `team acme-payments (id 4f1e…)`: the name first, the id as the second detail.
impl std::fmt::Display for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut parts = Vec::new();
        for (kind, part) in [("enterprise account", &self.enterprise_account), ("team", &self.team), ("app", &self.app)]
        {
            if let Some((id, name)) = part {
                parts.push(match name {
                    Some(name) => format!("{kind} {name} (id {id})"),
                    None => format!("{kind} with id {id}"),
                });
            }
        }
        if parts.is_empty() {
            f.write_str("organisation")
        } else {
            f.write_str(&parts.join(", "))
        }
    }
}

/// One read: where it goes, what it fills, for whom.
struct Read<'a> {
    endpoint: &'a str,
    path: &'a str,
    tables: &'a [&'a str],
    scope: Scope,
    /// What one element is, for messages about it (`team member`, `app`).
    resource: &'a str,
}

impl Read<'_> {
    /// GET this read's list: the endpoint and path are the ones its gaps name, given once.
    async fn get<T: Element>(&self, client: &Client, range: RangeSpec) -> Listed<T> {
        client.list(self.endpoint, self.path, range).await
    }

    /// As [`Read::get`], with the client's `list_with` options.
    async fn get_with<T: Element>(
        &self,
        client: &Client,
        range: RangeSpec,
        accept: &str,
        cacheable: bool,
        more: impl FnMut(&[T]) -> bool,
    ) -> Listed<T> {
        client.list_with(self.endpoint, self.path, range, accept, cacheable, more).await
    }

    fn gap(&self, err: &ApiError) -> Gap {
        let mut gap = self.base_gap();
        gap.status = err.status().map(|s| s.as_u16());
        gap.error_id = err.heroku_id().map(str::to_owned);
        gap.message = self.scoped(&err.gap_message());
        gap
    }

    /// The message with the scope named first, so it reads on its own wherever it is shown.
    fn scoped(&self, message: &str) -> String {
        let text = if self.scope.is_empty() { message.to_owned() } else { format!("{}: {message}", self.scope) };
        redact(&text).into_owned()
    }

    fn problem_gap(&self, problem: &ElementProblem) -> Gap {
        let mut gap = self.base_gap();
        gap.json_path = Some(problem.path.clone());
        gap.status = Some(200);
        gap.error_id = Some("unexpected_body".to_owned());
        gap.message = self.scoped(&problem.message(self.resource));
        gap
    }

    fn base_gap(&self) -> Gap {
        let (ea_id, ea_name) = split(&self.scope.enterprise_account);
        let (team_id, team_name) = split(&self.scope.team);
        let (app_id, app_name) = split(&self.scope.app);
        Gap {
            endpoint: self.endpoint.to_owned(),
            path: self.path.to_owned(),
            tables: self.tables.iter().map(|t| (*t).to_owned()).collect(),
            enterprise_account_id: ea_id,
            enterprise_account_name: ea_name,
            team_id,
            team_name,
            app_id,
            app_name,
            ..Gap::default()
        }
    }

    /// A warning that names the scope first: through the span the read runs in (which names
    /// the client's own log lines too), or one of its own when it runs in none.
    fn warn(&self, text: &str) {
        let _entered =
            (!self.scope.is_empty() && tracing::Span::current().is_none()).then(|| self.scope.span().entered());
        tracing::warn!("{}; recorded as a gap", redact(text));
    }

    /// Record a failed read as a gap and say so in the log, naming the scope. 401 stays fatal:
    /// nothing after it can succeed.
    fn failed(&self, gaps: &mut Vec<Gap>, err: ApiError) -> Result<(), ApiError> {
        if matches!(err, ApiError::Unauthorized { .. }) {
            return Err(err);
        }
        self.warn(&err.to_string());
        gaps.push(self.gap(&err));
        Ok(())
    }

    /// The rows of a list read, its element problems and any error recorded as gaps. The flag is
    /// true when every page was read.
    fn list<T>(&self, gaps: &mut Vec<Gap>, listed: Listed<T>) -> Result<(Vec<T>, bool), ApiError> {
        for problem in &listed.problems {
            self.warn(&format!("{}: {}", self.endpoint, problem.message(self.resource)));
            gaps.push(self.problem_gap(problem));
        }
        let complete = listed.error.is_none();
        if let Some(err) = listed.error {
            self.failed(gaps, err)?;
        }
        Ok((listed.items, complete))
    }
}

fn split(part: &Option<(String, Option<String>)>) -> (Option<String>, Option<String>) {
    match part {
        Some((id, name)) => (Some(id.clone()), name.clone()),
        None => (None, None),
    }
}

/// Path segments are ids or names; both are URL-safe on Heroku, but encode anyway so an odd name
/// cannot change the path.
fn seg(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect::<String>().replace('+', "%20")
}

/// What a team that was not listed leaves out: everything read per team.
const PER_TEAM_TABLES: [&str; 7] =
    ["teams", "team_members", "team_invitations", "identity_providers", "apps", "app_permissions", "activity"];

/// Read everything. The activity window is `days` long and ends at `as_of`, or, when `None`, at
/// the API's clock as its first answer tells it (the local clock if it does not say).
pub async fn crawl(
    client: &Client,
    as_of: Option<DateTime<Utc>>,
    days: u32,
    progress: indicatif::ProgressBar,
) -> Result<Crawl, ApiError> {
    // The account is read first and strictly: a rejected token ends the run with one error.
    listing(&progress, "account");
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

/// A phase whose size is not known yet: the list read that tells it. A spinner, no count.
fn listing(progress: &indicatif::ProgressBar, phase: &str) {
    // The count goes before it is reset: each setter may redraw, and "3/0" would show.
    if let Ok(style) = indicatif::ProgressStyle::with_template(LISTING) {
        progress.set_style(style);
    }
    progress.set_length(0);
    progress.set_position(0);
    progress.set_message("listing");
    progress.set_prefix(phase.to_owned());
}

/// The progress template of a phase whose total is not known yet.
pub const LISTING: &str = "{spinner} {prefix:<19} {msg}";

/// A phase of `total` steps, each a [`Crawler::step`]: the count starts at 0 and ends at `total`,
/// never past it, because the total is set once, when the list that decides it has been read.
pub(crate) fn phase(progress: &indicatif::ProgressBar, name: &str, total: u64) {
    // The new count is set before the bar shows it.
    progress.set_length(total);
    progress.set_position(0);
    progress.set_message("");
    progress.set_prefix(name.to_owned());
    if let Ok(style) = indicatif::ProgressStyle::with_template("{spinner} {prefix:<19} [{bar:30}] {pos}/{len} {msg}") {
        progress.set_style(style.progress_chars("=> "));
    }
}

impl Crawler<'_> {
    fn step(&self, what: &str) {
        // Every phase's total is set before its first step: a step past it is a miscount here.
        debug_assert!(
            self.progress.length().is_some_and(|len| self.progress.position() < len),
            "progress step `{what}` past the phase's total {:?}",
            self.progress.length()
        );
        self.progress.set_message(what.to_owned());
        self.progress.inc(1);
    }

    async fn run(&self, account: Account) -> Result<Crawl, ApiError> {
        let mut crawl = Crawl { account: Some(account), window: self.window, ..Crawl::default() };
        let client = self.client;
        // Free on Heroku: tells the client how much of the pool is left before the crawl starts.
        if let Err(err) = client.fetch_rate_limit().await {
            tracing::info!("could not read /account/rate-limits ({}); continuing", redact(&err.to_string()));
        }

        listing(&self.progress, "enterprise accounts");
        let read = Read {
            endpoint: "GET /enterprise-accounts",
            path: "/enterprise-accounts",
            // Teams reachable only through an enterprise account's team list go unread too.
            tables: &[
                "enterprise_accounts",
                "enterprise_members",
                "audit_events",
                "activity",
                "teams",
                "team_members",
                "team_invitations",
                "identity_providers",
                "apps",
                "app_permissions",
            ],
            scope: Scope::default(),
            resource: "enterprise account",
        };
        let (eas, _) = read.list(&mut crawl.gaps, read.get(client, RangeSpec::by_id()).await)?;
        // Members, teams and audit trail: three steps per account.
        phase(&self.progress, "enterprise accounts", eas.len() as u64 * 3);
        let ea_results =
            join_all(eas.iter().map(|ea| self.enterprise(ea).instrument(Scope::enterprise(ea).span()))).await;
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

        listing(&self.progress, "teams");
        let read = Read {
            endpoint: "GET /teams",
            path: "/teams",
            tables: &PER_TEAM_TABLES,
            scope: Scope::default(),
            resource: "team",
        };
        let (teams, _) = read.list(&mut crawl.gaps, read.get(client, RangeSpec::by_id()).await)?;
        // `/teams` lists the caller's teams; an enterprise may hold teams the caller is not in.
        let mut by_id: BTreeMap<String, Team> = BTreeMap::new();
        for team in teams.into_iter().chain(ea_teams) {
            match by_id.get(&team.id) {
                None => {
                    by_id.insert(team.id.clone(), team);
                }
                // The same team listed twice (by `/teams` and by its enterprise account) is one
                // team; two teams under one id cannot both be read, and that is said.
                Some(first) if first.name != team.name => {
                    let gap = Gap {
                        team_id: Some(team.id.clone()),
                        team_name: team.name.clone(),
                        status: Some(200),
                        error_id: Some("duplicate_id".into()),
                        message: redact(&format!(
                            "team {} has the id of team {} ({}); only the first is read",
                            team.label(),
                            first.label(),
                            team.id
                        ))
                        .into_owned(),
                        ..read.base_gap()
                    };
                    tracing::warn!("{}; recorded as a gap", gap.message);
                    crawl.gaps.push(gap);
                }
                Some(_) => {}
            }
        }
        crawl.teams = by_id.into_values().collect();
        phase(&self.progress, "teams", crawl.teams.len() as u64);
        let team_names: BTreeMap<String, String> =
            crawl.teams.iter().filter_map(|t| t.name.clone().map(|n| (t.id.clone(), n))).collect();

        let team_results = join_all(crawl.teams.iter().map(|t| self.team(t).instrument(Scope::team(t).span()))).await;
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

        listing(&self.progress, "apps");
        let read = Read {
            endpoint: "GET /apps",
            path: "/apps",
            tables: &["apps", "app_permissions", "activity"],
            scope: Scope::default(),
            resource: "app",
        };
        let (all_apps, _) = read.list(&mut crawl.gaps, read.get::<App>(client, RangeSpec::by_id()).await)?;
        for app in all_apps {
            crawl.apps.entry(app.id.clone()).or_insert(app);
        }

        // Personal apps are outside Teams' permission lists: their collaborators are read per app.
        let personal: Vec<App> = crawl.apps.values().filter(|a| a.personal()).cloned().collect();
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
        // One step per personal app's collaborators and one per active app's activity.
        phase(&self.progress, "apps", (personal.len() + active.len()) as u64);
        let paths: Vec<String> = personal.iter().map(|app| format!("/apps/{}/collaborators", seg(&app.id))).collect();
        let reads: Vec<Read<'_>> = personal
            .iter()
            .zip(&paths)
            .map(|(app, path)| Read {
                endpoint: "GET /apps/{app}/collaborators",
                path,
                tables: &["app_permissions"],
                scope: Scope::app(app, &team_names),
                resource: "collaborator",
            })
            .collect();
        let collab_results = join_all(personal.iter().zip(&reads).map(|(app, read)| {
            async move {
                let result = read.get::<Collaborator>(client, RangeSpec::by_id()).await;
                self.step(app.label());
                result
            }
            .instrument(read.scope.span())
        }))
        .await;
        for ((app, read), result) in personal.iter().zip(&reads).zip(collab_results) {
            let (collabs, _) = read.list(&mut crawl.gaps, result)?;
            crawl.personal_collaborators.extend(collabs.into_iter().map(|c| (app.clone(), c)));
        }

        let activity_results = join_all(
            active
                .iter()
                .map(|app| self.app_activity(app, &team_names).instrument(Scope::app(app, &team_names).span())),
        )
        .await;
        for (app, result) in active.iter().zip(activity_results) {
            let part = result?;
            if part.complete {
                crawl.activity_scanned.insert(app.id.clone());
            }
            crawl.releases.extend(part.releases.into_iter().map(|r| (app.clone(), r)));
            crawl.builds.extend(part.builds.into_iter().map(|b| (app.clone(), b)));
            crawl.gaps.extend(part.gaps);
        }

        listing(&self.progress, "authorizations");
        // Pages holding authorizations are never cached: the raw body carries token values.
        let read = Read {
            endpoint: "GET /oauth/authorizations",
            path: "/oauth/authorizations",
            tables: &["authorizations"],
            scope: Scope::default(),
            resource: "authorization",
        };
        let auths = read.get_with::<Authorization>(client, RangeSpec::by_id(), ACCEPT_V3, false, |_| true).await;
        crawl.authorizations = read.list(&mut crawl.gaps, auths)?.0;
        Ok(crawl)
    }

    async fn enterprise(&self, ea: &EnterpriseAccount) -> Result<EnterprisePart, ApiError> {
        let client = self.client;
        let mut part = EnterprisePart::default();
        let id = seg(&ea.id);

        let path = format!("/enterprise-accounts/{id}/members");
        let read = Read {
            endpoint: "GET /enterprise-accounts/{ea}/members",
            path: &path,
            tables: &["enterprise_members"],
            scope: Scope::enterprise(ea),
            resource: "enterprise member",
        };
        let (members, _) = read.list(&mut part.gaps, read.get(client, RangeSpec::by_id()).await)?;
        part.members = members.into_iter().map(|m| (ea.clone(), m)).collect();
        self.step(ea.label());

        let path = format!("/enterprise-accounts/{id}/teams");
        let read = Read {
            endpoint: "GET /enterprise-accounts/{ea}/teams",
            path: &path,
            tables: &PER_TEAM_TABLES,
            scope: Scope::enterprise(ea),
            resource: "team",
        };
        part.teams = read.list(&mut part.gaps, read.get(client, RangeSpec::by_id()).await)?.0;
        self.step(ea.label());

        self.audit_trail(ea, &mut part).await?;
        self.step(ea.label());
        Ok(part)
    }

    /// Monthly archives that overlap the window, checksum-verified, then one daily events call
    /// per day the archives do not cover: the days after the newest archive's coverage, and the
    /// days of any archive that could not be read (so a failed archive costs requests, not
    /// events). When the archive list itself cannot be read (other than for lack of permission,
    /// which the daily reads would meet too), every day of the window is read one by one.
    async fn audit_trail(&self, ea: &EnterpriseAccount, part: &mut EnterprisePart) -> Result<(), ApiError> {
        let client = self.client;
        let id = seg(&ea.id);
        let tables = ["audit_events", "activity"];
        let path = format!("/enterprise-accounts/{id}/archives");
        let read = Read {
            endpoint: "GET /enterprise-accounts/{ea}/archives",
            path: &path,
            tables: &tables,
            scope: Scope::enterprise(ea),
            resource: "archive",
        };
        let listed = read.get::<Archive>(client, RangeSpec::by_id()).await;
        let denied = listed
            .error
            .as_ref()
            .and_then(ApiError::status)
            .is_some_and(|s| s == reqwest::StatusCode::FORBIDDEN || s == reqwest::StatusCode::NOT_FOUND);
        let (archives, listed_all) = read.list(&mut part.gaps, listed)?;
        if denied {
            return Ok(());
        }
        let in_window: Vec<(&Archive, (i32, u32))> = archives
            .iter()
            .filter_map(|a| a.period().map(|p| (a, p)))
            .filter(|(_, (y, m))| month_overlaps(*y, *m, self.window))
            .collect();
        let downloads = join_all(in_window.iter().map(|(archive, period)| self.archive(ea, archive, *period))).await;
        let mut covered_until: Option<DateTime<Utc>> = None;
        let mut unread_months: Vec<(i32, u32)> = Vec::new();
        for ((archive, (year, month)), result) in in_window.iter().zip(downloads) {
            let end = archive.created_at.unwrap_or_else(|| month_end(*year, *month));
            covered_until = Some(covered_until.map_or(end, |c| c.max(end)));
            match result {
                Ok(events) => part.events.extend(events.into_iter().map(|e| (ea.clone(), e))),
                Err(err @ ApiError::Unauthorized { .. }) => return Err(err),
                Err(err) => {
                    tracing::warn!(
                        "audit-trail archive {year}-{month:02} could not be read ({}); reading its days one by one instead",
                        redact(&err.to_string())
                    );
                    unread_months.push((*year, *month));
                }
            }
        }
        // Days not covered by any archive are read one by one; with no archive at all (or no
        // readable list of them) that is every day of the window, which is what it costs to be
        // complete.
        let first_day = if listed_all { covered_until.unwrap_or(self.window.since) } else { self.window.since };
        let last_day = self.window.until.date_naive();
        let mut days: BTreeSet<NaiveDate> = first_day.date_naive().iter_days().take_while(|d| *d <= last_day).collect();
        for (year, month) in unread_months {
            let start = month_start(year, month).max(self.window.since).date_naive();
            let end = month_end(year, month).min(self.window.until + Duration::days(1)).date_naive();
            days.extend(start.iter_days().take_while(|d| *d < end && *d <= last_day));
        }
        let paths: Vec<String> =
            days.iter().map(|day| format!("/enterprise-accounts/{id}/events?day={}", day.format("%Y-%m-%d"))).collect();
        let reads: Vec<Read<'_>> = paths
            .iter()
            .map(|path| Read {
                endpoint: "GET /enterprise-accounts/{ea}/events",
                path,
                tables: &tables,
                scope: Scope::enterprise(ea),
                resource: "audit event",
            })
            .collect();
        let results = join_all(reads.iter().map(|read| read.get::<AuditEvent>(client, RangeSpec::by_id()))).await;
        for (read, result) in reads.iter().zip(results) {
            let (events, _) = read.list(&mut part.gaps, result)?;
            part.events.extend(events.into_iter().map(|e| (ea.clone(), e)));
        }
        part.events.retain(|(_, e)| self.window.contains(e.created_at));
        Ok(())
    }

    /// One month's events. An archive listed without its download `url` or `checksum` (the list
    /// endpoint of the official CLI's recordings) is completed from
    /// `GET /enterprise-accounts/{ea}/archives/{year}/{month}`, where the CLI reads them too.
    /// Events that cannot be read are left out of the month (with a gap each); the rest is kept.
    async fn archive(
        &self,
        ea: &EnterpriseAccount,
        archive: &Archive,
        (year, month): (i32, u32),
    ) -> Result<Vec<AuditEvent>, ApiError> {
        let endpoint = "GET archive download";
        let (url, checksum) = match (&archive.url, &archive.checksum) {
            (Some(url), Some(checksum)) => (url.clone(), checksum.clone()),
            _ => {
                let detail_endpoint = "GET /enterprise-accounts/{ea}/archives/{year}/{month}";
                let path = format!("/enterprise-accounts/{}/archives/{year}/{month:02}", seg(&ea.id));
                let detail: Archive = self.client.get(detail_endpoint, &path).await?;
                match (detail.url, detail.checksum.or_else(|| archive.checksum.clone())) {
                    (Some(url), Some(checksum)) => (url, checksum),
                    _ => {
                        return Err(ApiError::Decode {
                            endpoint: detail_endpoint.into(),
                            status: 200,
                            detail: "the archive has no `url` or `checksum` to download it with".into(),
                        })
                    }
                }
            }
        };
        // Checksum-verified by the client, which retries a cut or corrupted transfer.
        let bytes = self.client.download(endpoint, &url, &checksum).await?;
        let mut json = Vec::new();
        flate2::read::GzDecoder::new(&bytes[..]).read_to_end(&mut json).map_err(|e| ApiError::Decode {
            endpoint: endpoint.into(),
            status: 200,
            detail: format!("archive is not gzip: {e}"),
        })?;
        let parsed = crate::heroku::decode::parse(&json).map_err(|e| ApiError::Decode {
            endpoint: endpoint.into(),
            status: 200,
            detail: e.detail().to_owned(),
        })?;
        let file: ArchiveFile = serde_json::from_value(parsed).map_err(|_| ApiError::Decode {
            endpoint: endpoint.into(),
            status: 200,
            detail: "expected `{\"entries\": [...]}` or a JSON array".into(),
        })?;
        let mut events = Vec::new();
        for (index, entry) in file.into_entries().into_iter().enumerate() {
            if let Ok((event, _)) = crate::heroku::decode::element_lenient::<AuditEvent>(entry) {
                events.push(event);
            } else {
                tracing::warn!(
                    "{}: archive {year}-{month:02}: event $[{index}] could not be read",
                    Scope::enterprise(ea)
                );
            }
        }
        Ok(events)
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
        // Invitations and identity providers take the team's name; its id when it has none.
        let name = seg(team.name.as_deref().unwrap_or(&team.id));
        let scope = || Scope::team(team);

        let members_path = format!("/teams/{id}/members");
        let invitations_path = format!("/teams/{name}/invitations");
        let idps_path = format!("/teams/{name}/identity-providers");
        let apps_path = format!("/teams/{id}/apps");
        let permissions_path = format!("/teams/{id}/permissions");
        let read = |endpoint, path, tables, resource| Read { endpoint, path, tables, scope: scope(), resource };
        let members_read =
            read("GET /teams/{team}/members", &members_path, &["team_members", "app_permissions"][..], "team member");
        let invitations_read =
            read("GET /teams/{team}/invitations", &invitations_path, &["team_invitations"][..], "invitation");
        let idps_read =
            read("GET /teams/{team}/identity-providers", &idps_path, &["identity_providers"][..], "identity provider");
        let apps_read = read("GET /teams/{team}/apps", &apps_path, &["apps", "app_permissions", "activity"][..], "app");
        let permissions_read =
            read("GET /teams/{team}/permissions", &permissions_path, &["app_permissions"][..], "permission entity");
        let (members, invitations, idps, apps, permissions) = tokio::join!(
            members_read.get::<TeamMember>(client, RangeSpec::by("email")),
            invitations_read.get_with::<TeamInvitation>(
                client,
                RangeSpec::by_id(),
                ACCEPT_TEAM_INVITATIONS,
                true,
                |_| true
            ),
            idps_read.get::<IdentityProvider>(client, RangeSpec::by_id()),
            apps_read.get::<App>(client, RangeSpec::by_id()),
            permissions_read.get::<PermissionEntity>(client, RangeSpec::by_id()),
        );
        let gaps = &mut part.gaps;
        let (v, complete) = members_read.list(gaps, members)?;
        part.members = v;
        part.members_read = complete;
        part.invitations = invitations_read.list(gaps, invitations)?.0;
        part.identity_providers = idps_read.list(gaps, idps)?.0;
        part.apps = apps_read.list(gaps, apps)?.0;
        part.permissions = permissions_read.list(gaps, permissions)?.0;
        self.step(team.label());
        Ok(part)
    }

    async fn app_activity(&self, app: &App, team_names: &BTreeMap<String, String>) -> Result<ActivityPart, ApiError> {
        let client = self.client;
        let since = self.window.since;
        let id = seg(&app.id);
        let mut part = ActivityPart { complete: true, ..Default::default() };
        let releases_path = format!("/apps/{id}/releases");
        let builds_path = format!("/apps/{id}/builds");
        // Newest first; a page whose oldest item is before the window is the last one needed.
        let read = |endpoint, path, resource| Read {
            endpoint,
            path,
            tables: &["activity"],
            scope: Scope::app(app, team_names),
            resource,
        };
        let releases_read = read("GET /apps/{app}/releases", &releases_path, "release");
        let builds_read = read("GET /apps/{app}/builds", &builds_path, "build");
        let releases =
            releases_read.get_with::<Release>(client, RangeSpec::by("version").desc(), ACCEPT_V3, true, |page| {
                page.last().is_none_or(|r| r.created_at >= since)
            });
        let builds =
            builds_read.get_with::<Build>(client, RangeSpec::by("started_at").desc(), ACCEPT_V3, true, |page| {
                page.last().is_none_or(|b| b.created_at >= since)
            });
        let (releases, builds) = tokio::join!(releases, builds);
        let (v, complete) = releases_read.list(&mut part.gaps, releases)?;
        part.releases = v.into_iter().filter(|r| self.window.contains(r.created_at)).collect();
        part.complete &= complete;
        let (v, complete) = builds_read.list(&mut part.gaps, builds)?;
        part.builds = v.into_iter().filter(|b| self.window.contains(b.created_at)).collect();
        part.complete &= complete;
        self.step(app.label());
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
