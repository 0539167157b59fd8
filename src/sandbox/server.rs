//! The hyper service: request checks in Heroku's order (Accept, token, rate limit, method),
//! routing by path shape, paging, caching headers, and the faults that act below HTTP.
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::body::Body;
use bytes::Bytes;
use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};
use hyper::body::Incoming;
use hyper::header::{HeaderMap, HeaderName, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

use super::faults::{self, Decision, FaultPlan};
use super::fixture::{created_at, stable_uuid, str_at, timestamp, Fixture, Index};
use super::range::{self, RangeSpec, INVALID_RANGE};
use super::ratelimit::RateLimiter;
use super::route::{segments, Route, ARCHIVE_PREFIX};
use super::stats::{Fault, Stats};
use super::{SandboxConfig, SandboxError};

const MEDIA_TYPE: &str = "application/vnd.heroku+json";
const DOCS_URL: &str = "https://devcenter.heroku.com/articles/platform-api-reference#errors";
const RATE_LIMIT_URL: &str = "https://devcenter.heroku.com/articles/platform-api-reference#rate-limits";

/// A running sandbox. Dropping it stops the listener and every open connection.
pub struct SandboxHandle {
    addr: SocketAddr,
    state: Arc<State>,
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for SandboxHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SandboxHandle").field("url", &self.url()).finish_non_exhaustive()
    }
}

impl SandboxHandle {
    /// `http://127.0.0.1:PORT`, without a trailing slash: the base URL a client is given.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A copy of the counters so far.
    pub fn stats(&self) -> Stats {
        self.state.stats.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Stop accepting, drop every open connection (stalled ones included) and wait for it.
    pub async fn shutdown(mut self) {
        // An error only means nothing listens any more, which is the goal.
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for SandboxHandle {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            // Aborting the accept loop drops its JoinSet, which aborts every connection task.
            task.abort();
        }
    }
}

/// Bind `127.0.0.1:port` and serve the fixture until the handle is shut down or dropped.
pub async fn start(config: SandboxConfig) -> Result<SandboxHandle, SandboxError> {
    faults::validate(&config.faults)?;
    let quirks = config
        .faults
        .quirks
        .iter()
        .map(|q| Ok((Route::kind_of_template(&q.template)?, q.clone())))
        .collect::<Result<Vec<_>, SandboxError>>()?;
    let limit = config.rate_limit;
    if limit.capacity == 0 || !limit.refill_per_minute.is_finite() || limit.refill_per_minute < 0.0 {
        return Err(SandboxError::Config(format!(
            "rate limit needs capacity > 0 and a finite refill >= 0, got {limit:?}"
        )));
    }
    let listener = TcpListener::bind(("127.0.0.1", config.port))
        .await
        .map_err(|source| SandboxError::Bind { port: config.port, source })?;
    let addr = listener.local_addr().map_err(|source| SandboxError::Bind { port: config.port, source })?;
    let state = Arc::new(State {
        index: Index::new(&config.fixture),
        archives: build_archives(&config.fixture, config.seed),
        fixture: config.fixture,
        base_url: format!("http://{addr}"),
        seed: config.seed,
        limiter: RateLimiter::new(limit),
        faults: FaultPlan::new(config.faults, config.seed),
        quirks,
        stats: Mutex::new(Stats::default()),
        requests: AtomicU64::new(0),
    });
    let (stop, stopped) = watch::channel(false);
    let task = tokio::spawn(accept_loop(listener, Arc::clone(&state), stopped));
    Ok(SandboxHandle { addr, state, stop, task: Some(task) })
}

async fn accept_loop(listener: TcpListener, state: Arc<State>, mut stopped: watch::Receiver<bool>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            _ = stopped.changed() => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => {
                    let state = Arc::clone(&state);
                    let mut stop = stopped.clone();
                    connections.spawn(async move {
                        let service = service_fn(move |req| serve(Arc::clone(&state), req));
                        let conn = http1::Builder::new().serve_connection(TokioIo::new(stream), service);
                        // Selecting on the stop signal is what frees stalled requests at shutdown.
                        tokio::select! {
                            _ = conn => {}
                            _ = stop.changed() => {}
                        }
                    });
                }
                Err(err) => {
                    // Usually out of file descriptors: back off instead of spinning.
                    tracing::warn!(%err, "sandbox: accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                }
            }
        }
    }
    connections.shutdown().await;
}

#[derive(Debug)]
struct State {
    fixture: Fixture,
    index: Index,
    base_url: String,
    seed: u64,
    limiter: RateLimiter,
    faults: FaultPlan,
    /// The configured quirks with the endpoint each applies to, parsed from its template at start.
    quirks: Vec<(std::mem::Discriminant<Route>, super::Quirk)>,
    stats: Mutex<Stats>,
    /// Keyed by enterprise-account id.
    archives: HashMap<String, Vec<Archive>>,
    requests: AtomicU64,
}

impl State {
    fn stat(&self, f: impl FnOnce(&mut Stats)) {
        f(&mut self.stats.lock().unwrap_or_else(|e| e.into_inner()));
    }
}

/// Returned by the service to make hyper close the connection without answering.
#[derive(Debug, thiserror::Error)]
#[error("connection reset injected by the sandbox")]
struct InjectedReset;

/// A response before it becomes hyper's: plain data, so faults can still cut the body.
#[derive(Debug)]
struct Reply {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: Bytes,
    content_type: Option<&'static str>,
}

impl Reply {
    fn json(status: u16, value: &Value) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            // Serializing a `Value` cannot fail: its keys are strings.
            body: Bytes::from(serde_json::to_vec(value).unwrap_or_default()),
            content_type: Some("application/json; charset=utf-8"),
        }
    }

    fn error(status: u16, id: &str, message: &str) -> Reply {
        Reply::json(status, &json!({"id": id, "message": message, "url": DOCS_URL}))
    }

    fn not_found(what: &str) -> Reply {
        Reply::error(404, "not_found", &format!("Couldn't find that {what}."))
    }

    fn forbidden(message: &str) -> Reply {
        Reply::error(403, "forbidden", message)
    }

    fn rate_limited() -> Reply {
        let mut reply = Reply::json(
            429,
            &json!({
                "id": "rate_limit",
                "message": "Your account reached the API rate limit\nPlease wait a few minutes before making new requests",
                "url": RATE_LIMIT_URL,
            }),
        );
        reply.headers.push(("ratelimit-remaining", "0".into()));
        reply
    }

    fn into_response(self, request_id: &str, now: DateTime<Utc>) -> Response<Body> {
        let mut response = Response::new(Body::from(self.body));
        *response.status_mut() = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let headers = response.headers_mut();
        insert(headers, "request-id", request_id);
        // The server's clock is the fixture's: an extract without `--as-of` ends its activity
        // window at the API's `Date`, so the fixture's documented findings hold on any day.
        // (hyper adds its own wall-clock `Date` only when none is set.)
        insert(headers, "date", &now.format("%a, %d %b %Y %H:%M:%S GMT").to_string());
        if let Some(content_type) = self.content_type {
            insert(headers, "content-type", content_type);
        }
        for (name, value) in &self.headers {
            insert(headers, name, value);
        }
        response
    }
}

fn insert(headers: &mut HeaderMap, name: &'static str, value: &str) {
    match HeaderValue::from_str(value) {
        Ok(value) => {
            headers.insert(HeaderName::from_static(name), value);
        }
        // Only possible with control characters in fixture data; better a missing header than
        // a dropped response.
        Err(_) => tracing::warn!(name, "sandbox: header value not representable, left out"),
    }
}

async fn serve(state: Arc<State>, req: Request<Incoming>) -> Result<Response<Body>, InjectedReset> {
    let method = req.method().as_str().to_string();
    let path = req.uri().path().to_string();
    let path_and_query = req.uri().path_and_query().map_or(path.clone(), |pq| pq.as_str().to_string());
    let query = req.uri().query().unwrap_or("").to_string();
    let headers = req.headers().clone();
    let range = header(&headers, "range").map(str::to_string);
    let route = Route::parse(&segments(&path));
    let template = format!("{method} {}", route.as_ref().map_or("(unknown)", Route::template));
    state.stat(|s| s.request(&template));

    let faults = &state.faults.faults;
    if !faults.latency.is_zero() {
        state.stat(|s| s.fault(&template, Fault::Latency));
        tokio::time::sleep(faults.latency).await;
    }
    // Clients poll the rate-limit endpoint to decide when to resume: faulting it would only
    // test the fault, not the client.
    let exempt = matches!(route, Some(Route::RateLimits));
    let decision =
        if exempt { Decision::default() } else { state.faults.decide(&method, &path_and_query, range.as_deref()) };
    if decision.reset {
        state.stat(|s| s.fault(&template, Fault::Reset));
        return Err(InjectedReset);
    }
    if decision.stall {
        state.stat(|s| s.fault(&template, Fault::Stall));
        // Never answers; the connection task drops this future at shutdown.
        std::future::pending::<()>().await;
    }
    let mut reply = if decision.burst_429 {
        state.stat(|s| s.fault(&template, Fault::Burst429));
        Reply::rate_limited()
    } else if decision.html {
        state.stat(|s| s.fault(&template, Fault::Html200));
        Reply {
            status: 200,
            headers: Vec::new(),
            body: Bytes::from_static(
                b"<!DOCTYPE html>\n<html><head><title>Application Error</title></head><body><iframe src=\"//www.herokucdn.com/error-pages/application-error.html\"></iframe></body></html>\n",
            ),
            content_type: Some("text/html; charset=utf-8"),
        }
    } else if let Some(status) = decision.error {
        state.stat(|s| s.fault(&template, Fault::Error));
        let (id, message) = if status == 500 {
            ("internal_server_error", "Internal server error.")
        } else {
            ("service_unavailable", "This service is temporarily unavailable.")
        };
        Reply::error(status, id, message)
    } else {
        let ctx = Ctx {
            state: &state,
            method: &method,
            path: &path,
            query: &query,
            headers: &headers,
            template: &template,
            range: range.as_deref(),
        };
        ctx.handle(route.as_ref())
    };
    if faults.wrong_content_type && reply.content_type.is_some_and(|c| c.starts_with("application/json")) {
        state.stat(|s| s.fault(&template, Fault::WrongContentType));
        reply.content_type = Some("text/html; charset=utf-8");
    }
    if decision.truncate && (200..300).contains(&reply.status) && reply.body.len() > 1 {
        state.stat(|s| s.fault(&template, Fault::Truncate));
        reply.body = reply.body.slice(..reply.body.len() / 2);
    }
    if reply.status == 429 {
        if let Some(secs) = faults.retry_after_secs {
            reply.headers.push(("retry-after", secs.to_string()));
        }
    }
    state.stat(|s| s.status(&template, reply.status));
    let n = state.requests.fetch_add(1, Ordering::Relaxed);
    let request_id = stable_uuid(&["request", &state.seed.to_string(), &n.to_string()]);
    if decision.reset_mid_body && (200..300).contains(&reply.status) && reply.body.len() > 1 {
        state.stat(|s| s.fault(&template, Fault::ResetMidBody));
        // Headers and the full length go out, then half the body, then the connection dies.
        let full = reply.body.len();
        let half = reply.body.slice(..full / 2);
        let chunks: Vec<Result<Bytes, std::io::Error>> =
            vec![Ok(half), Err(std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset injected mid-body"))];
        reply.body = Bytes::new();
        let mut response = reply.into_response(&request_id, state.fixture.now);
        *response.body_mut() = Body::from_stream(futures::stream::iter(chunks));
        insert(response.headers_mut(), "content-length", &full.to_string());
        return Ok(response);
    }
    Ok(reply.into_response(&request_id, state.fixture.now))
}

fn header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// One request being answered.
struct Ctx<'a> {
    state: &'a State,
    method: &'a str,
    path: &'a str,
    query: &'a str,
    headers: &'a HeaderMap,
    template: &'a str,
    range: Option<&'a str>,
}

type Answer = Result<Reply, Reply>;

impl Ctx<'_> {
    /// Answer, then add the validators: every 200/206 carries an `ETag` of its own body bytes
    /// (so pages differ), and a matching `If-None-Match` turns it into an empty 304.
    fn handle(&self, route: Option<&Route>) -> Reply {
        let mut reply = self.answer(route);
        if matches!(reply.status, 200 | 206) {
            self.reshape(route, &mut reply);
        }
        if matches!(reply.status, 200 | 206) {
            let etag = format!("\"{}\"", hex::encode(&Sha256::digest(&reply.body)[..16]));
            if if_none_match(self.headers, &etag) {
                reply.status = 304;
                reply.body = Bytes::new();
                reply.content_type = None;
                // Paging headers stay, so a client answering from its cache can still follow
                // `Next-Range` (Heroku documents nothing either way).
            }
            reply.headers.push(("etag", etag));
        }
        reply
    }

    /// The shape faults: quirks of real answers on a template, and a malformed 200 on a path.
    fn reshape(&self, route: Option<&Route>, reply: &mut Reply) {
        let faults = &self.state.faults.faults;
        let kind = route.map(Route::kind);
        let quirks: Vec<&super::Quirk> =
            self.state.quirks.iter().filter(|(k, _)| Some(*k) == kind).map(|(_, q)| q).collect();
        let malformed = faults.malformed_200.as_deref().is_some_and(|p| same_path(p, self.path));
        if quirks.is_empty() && !malformed {
            return;
        }
        let Ok(mut value) = serde_json::from_slice::<Value>(&reply.body) else { return };
        for quirk in quirks {
            self.state.stat(|s| s.fault(self.template, Fault::Quirk));
            let objects: Vec<&mut Value> = match &mut value {
                Value::Array(items) => items.iter_mut().collect(),
                other => vec![other],
            };
            for object in objects.into_iter().filter_map(Value::as_object_mut) {
                match &quirk.value {
                    None => {
                        object.remove(&quirk.field);
                    }
                    Some(v) => {
                        object.insert(quirk.field.clone(), v.clone());
                    }
                }
            }
        }
        if malformed {
            self.state.stat(|s| s.fault(self.template, Fault::Malformed200));
            value = json!({ "data": value });
        }
        reply.body = Bytes::from(serde_json::to_vec(&value).unwrap_or_default());
    }

    /// The recorded answer for this request, if the replay set has one: the exact path and
    /// query first, else the path.
    fn replayed(&self) -> Option<&super::Replay> {
        let routes = &self.state.faults.faults.replay.routes;
        let with_query =
            if self.query.is_empty() { self.path.to_owned() } else { format!("{}?{}", self.path, self.query) };
        routes.iter().find(|r| r.path == with_query).or_else(|| routes.iter().find(|r| same_path(&r.path, self.path)))
    }

    fn serve_recorded(&self, recorded: &super::Replay) -> Reply {
        self.state.stat(|s| s.fault(self.template, Fault::Replay));
        let mut body = recorded.body.clone();
        let hosts = &self.state.faults.faults.replay.rewrite_hosts;
        if !hosts.is_empty() {
            if let Ok(text) = std::str::from_utf8(&body) {
                let mut text = text.to_owned();
                for host in hosts {
                    text = text.replace(host.as_str(), &self.state.base_url);
                }
                body = Bytes::from(text);
            }
        }
        Reply {
            status: recorded.status,
            headers: Vec::new(),
            body,
            content_type: Some(leak_content_type(&recorded.content_type)),
        }
    }

    fn answer(&self, route: Option<&Route>) -> Reply {
        let reading = matches!(self.method, "GET" | "HEAD");
        let presigned = &self.state.faults.faults.replay.presigned;
        if reading && presigned.iter().any(|p| same_path(p, self.path)) {
            if let Some(recorded) = self.replayed() {
                return self.serve_recorded(recorded);
            }
        }
        if let Some(Route::ArchiveDownload { ea, file }) = route {
            // Pre-signed in real life: no Accept, no token, no rate limit.
            return if reading { self.download(ea, file) } else { method_not_allowed() };
        }
        let invitations = matches!(route, Some(Route::TeamInvitations { .. }));
        if !accepts(self.headers, invitations) {
            return Reply::error(
                406,
                "not_acceptable",
                "Please specify a version along with Heroku's API MIME type. For example, `Accept: application/vnd.heroku+json; version=3`.",
            );
        }
        let Some(account) = self.account() else {
            return Reply::error(401, "unauthorized", "Invalid credentials provided.");
        };
        if reading && matches!(route, Some(Route::RateLimits)) {
            let remaining = self.state.limiter.remaining(account);
            let mut reply = Reply::json(200, &json!({ "remaining": remaining }));
            reply.headers.push(("ratelimit-remaining", remaining.to_string()));
            return reply;
        }
        let Ok(remaining) = self.state.limiter.take(account) else {
            return Reply::rate_limited();
        };
        let faults = &self.state.faults.faults;
        let replayed = self.replayed();
        let denied = faults.deny_after.filter(|d| {
            route.is_some_and(Route::under_team_or_app) && self.state.requests.load(Ordering::Relaxed) >= d.after
        });
        let mut reply = if let (true, Some(recorded)) = (reading, replayed) {
            self.serve_recorded(recorded)
        } else if let (true, Some(deny)) = (reading, denied) {
            self.state.stat(|s| s.fault(self.template, Fault::DenyAfter));
            if deny.status == 404 {
                Reply::not_found("resource")
            } else {
                Reply::forbidden("You do not have access to this resource any more.")
            }
        } else if !reading {
            method_not_allowed()
        } else {
            match route {
                Some(route) => self.route(route, account).unwrap_or_else(|e| e),
                None => Reply::error(
                    404,
                    "not_found",
                    "The requested API endpoint was not found. Are you using the right HTTP verb (i.e. `GET` vs. `POST`), and did you specify your intended version with the `Accept` header?",
                ),
            }
        };
        reply.headers.push(("ratelimit-remaining", remaining.to_string()));
        reply
    }

    fn account(&self) -> Option<&str> {
        let value = header(self.headers, "authorization")?;
        let (scheme, token) = value.trim().split_once(' ')?;
        if !scheme.eq_ignore_ascii_case("bearer") {
            return None;
        }
        let token = token.trim();
        self.state.fixture.tokens.iter().find(|t| t.token == token).map(|t| t.account.as_str())
    }

    fn route(&self, route: &Route, account: &str) -> Answer {
        let f = &self.state.fixture;
        let ix = &self.state.index;
        match route {
            Route::Account => {
                f.account(account).map(|a| Reply::json(200, a)).ok_or_else(|| Reply::not_found("account"))
            }
            Route::EnterpriseAccounts => self.list(&f.enterprise_accounts, &["id", "name"]),
            Route::EnterpriseAccount { ea } => Ok(Reply::json(200, self.ea(ea)?)),
            Route::EnterpriseMembers { ea } => {
                let ea = self.ea(ea)?;
                self.list(owned(&f.ea_members, name(ea)), &["id"])
            }
            Route::EnterpriseTeams { ea } => {
                let ea = self.ea(ea)?;
                let ea_id = str_at(ea, &["id"]);
                self.list(f.teams.iter().filter(|t| str_at(t, &["enterprise_account", "id"]) == ea_id), &["id", "name"])
            }
            Route::Archives { ea } => {
                let ea = self.managed_ea(ea)?;
                let archives = self.state.archives.get(str_at(ea, &["id"]).unwrap_or(""));
                let list: Vec<Value> = archives.into_iter().flatten().map(|a| a.meta(&self.state.base_url)).collect();
                Ok(Reply::json(200, &Value::Array(list)))
            }
            Route::Archive { ea, year, month } => {
                let ea = self.managed_ea(ea)?;
                self.state
                    .archives
                    .get(str_at(ea, &["id"]).unwrap_or(""))
                    .into_iter()
                    .flatten()
                    .find(|a| a.year.to_string() == *year && format!("{:02}", a.month) == *month)
                    .map(|a| Reply::json(200, &a.meta(&self.state.base_url)))
                    .ok_or_else(|| Reply::not_found("archive"))
            }
            Route::Events { ea } => self.events(ea),
            Route::Teams => self.list(&f.teams, &["id", "name"]),
            Route::PermissionCatalogue => Ok(Reply::json(200, &team_app_permissions())),
            Route::Team { team } => Ok(Reply::json(200, self.team(team)?)),
            Route::TeamMembers { team } => {
                let team = self.admin_team(team)?;
                self.list(owned(&f.team_members, name(team)), &["email", "id"])
            }
            Route::TeamInvitations { team } => {
                let team = self.admin_team(team)?;
                self.list(owned(&f.team_invitations, name(team)), &["id"])
            }
            Route::TeamIdentityProviders { team } => {
                let team = self.visible_team(team)?;
                self.list(owned(&f.team_identity_providers, name(team)), &["id"])
            }
            Route::TeamFeatures { team } => {
                // The official CLI reads it before listing members of a `type: team` team.
                let team = self.visible_team(team)?;
                self.list(owned(&f.team_features, name(team)), &["id", "name"])
            }
            Route::TeamApps { team } => {
                let team = self.visible_team(team)?;
                let apps = ix.team_apps.get(name(team)).into_iter().flatten().map(|i| &f.apps[*i]);
                self.list(apps, &["id", "name", "updated_at"])
            }
            Route::TeamPermissions { team } => {
                let team = self.visible_team(team)?;
                let entities = self.permission_entities(team);
                self.list(&entities, &["id", "name"])
            }
            Route::TeamAppCollaborators { app } => {
                let app = self.app(app)?;
                if app.get("team").is_none_or(Value::is_null) {
                    return Err(Reply::not_found("team app"));
                }
                self.list(owned(&f.app_collaborators, name(app)), &["id"])
            }
            Route::Apps => self.list(&f.apps, &["id", "name", "updated_at"]),
            Route::App { app } => Ok(Reply::json(200, self.app(app)?)),
            Route::AppCollaborators { app } => {
                let app = self.app(app)?;
                self.list(owned(&f.app_collaborators, name(app)), &["id"])
            }
            Route::AppReleases { app } => {
                let app = self.app(app)?;
                self.list(owned(&f.app_releases, name(app)), &["id", "version"])
            }
            Route::AppBuilds { app } => {
                let app = self.app(app)?;
                self.list(owned(&f.app_builds, name(app)), &["id", "created_at", "started_at"])
            }
            Route::Authorizations => self.list(
                f.oauth_authorizations.iter().filter(|a| str_at(a, &["user", "email"]) == Some(account)),
                &["id"],
            ),
            // Rate limits and downloads are answered before a request gets here.
            Route::RateLimits | Route::ArchiveDownload { .. } => {
                Err(Reply::error(404, "not_found", "The requested API endpoint was not found."))
            }
        }
    }

    /// Page a list as Heroku does; `fields` are the sortable ones, the first being the default.
    fn list<'v>(&self, items: impl IntoIterator<Item = &'v Value>, fields: &[&str]) -> Answer {
        let bad_range = || Reply::error(400, "bad_request", INVALID_RANGE);
        let spec = match self.range {
            None => RangeSpec::default_for("id"),
            Some(text) => {
                range::parse(text).filter(|spec| fields.contains(&spec.field.as_str())).ok_or_else(bad_range)?
            }
        };
        let page = range::paginate(items, &spec).ok_or_else(bad_range)?;
        let cut = self.state.faults.faults.missing_next_range.as_deref().is_some_and(|p| same_path(p, self.path));
        if cut {
            // Half the list as a 206, and nothing to ask for the rest with.
            self.state.stat(|s| s.fault(self.template, Fault::MissingNextRange));
            let half: Vec<Value> = page.items.iter().take(page.items.len() / 2).map(|v| (*v).clone()).collect();
            let mut reply = Reply::json(206, &Value::Array(half));
            reply.headers.push(("accept-ranges", fields.join(", ")));
            return Ok(reply);
        }
        let mut reply = Reply::json(200, &Value::Array(page.items.into_iter().cloned().collect()));
        reply.headers.push(("accept-ranges", fields.join(", ")));
        if let Some(content_range) = page.content_range {
            reply.headers.push(("content-range", content_range));
        }
        let looping = self.state.faults.faults.pagination_loop.as_deref().is_some_and(|p| same_path(p, self.path));
        let next_range = if looping {
            self.state.stat(|s| s.fault(self.template, Fault::PaginationLoop));
            Some(spec.restart())
        } else {
            page.next_range
        };
        if let Some(next_range) = next_range {
            reply.status = 206;
            reply.headers.push(("next-range", next_range));
        }
        Ok(reply)
    }

    fn ea(&self, key: &str) -> Result<&Value, Reply> {
        let f = &self.state.fixture;
        self.state.index.ea(f, key).ok_or_else(|| Reply::not_found("enterprise account"))
    }

    /// Archives and events need the caller's `manage` permission on the enterprise account.
    fn managed_ea(&self, key: &str) -> Result<&Value, Reply> {
        let ea = self.ea(key)?;
        let manage = ea
            .get("permissions")
            .and_then(Value::as_array)
            .is_some_and(|p| p.iter().any(|p| p.as_str() == Some("manage")));
        if manage {
            Ok(ea)
        } else {
            Err(Reply::forbidden(
                "You must have the manage permission on this enterprise account to read its audit trail.",
            ))
        }
    }

    fn team(&self, key: &str) -> Result<&Value, Reply> {
        let f = &self.state.fixture;
        self.state.index.team(f, key).ok_or_else(|| Reply::not_found("team"))
    }

    /// A team whose sub-resources the caller may read, unless the fault forbids it.
    fn visible_team(&self, key: &str) -> Result<&Value, Reply> {
        let team = self.team(key)?;
        let forbidden = self
            .state
            .faults
            .faults
            .forbid_team
            .iter()
            .any(|t| Some(t.as_str()) == str_at(team, &["name"]) || Some(t.as_str()) == str_at(team, &["id"]));
        if forbidden {
            self.state.stat(|s| s.fault(self.template, Fault::ForbidTeam));
            return Err(Reply::forbidden("You do not have access to this team."));
        }
        Ok(team)
    }

    /// Members and invitations are for team admins only, as on Heroku.
    fn admin_team(&self, key: &str) -> Result<&Value, Reply> {
        let team = self.visible_team(key)?;
        if str_at(team, &["role"]) == Some("admin") {
            Ok(team)
        } else {
            Err(Reply::forbidden("You must be a team admin to perform this action."))
        }
    }

    fn app(&self, key: &str) -> Result<&Value, Reply> {
        let f = &self.state.fixture;
        let app = self.state.index.app(f, key).ok_or_else(|| Reply::not_found("app"))?;
        let deleted = self
            .state
            .faults
            .faults
            .delete_app
            .as_deref()
            .is_some_and(|d| Some(d) == str_at(app, &["name"]) || Some(d) == str_at(app, &["id"]));
        if deleted {
            self.state.stat(|s| s.fault(self.template, Fault::DeleteApp));
            return Err(Reply::not_found("app"));
        }
        Ok(app)
    }

    fn permission_entities(&self, team: &Value) -> Vec<Value> {
        let f = &self.state.fixture;
        let apps = self.state.index.team_apps.get(name(team)).into_iter().flatten().map(|i| &f.apps[*i]);
        apps.map(|app| {
            let users: Vec<Value> = owned(&f.app_collaborators, name(app))
                .iter()
                .map(|c| {
                    let permissions: Vec<Value> = c
                        .get("permissions")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .filter_map(|p| p.get("name").cloned())
                        .collect();
                    json!({"id": c["user"]["id"], "email": c["user"]["email"], "permissions": permissions})
                })
                .collect();
            json!({"id": app["id"], "name": app["name"], "team_id": team["id"], "type": "app", "users": users})
        })
        .collect()
    }

    fn events(&self, ea_key: &str) -> Answer {
        let ea = self.managed_ea(ea_key)?;
        let params: HashMap<String, String> = url::form_urlencoded::parse(self.query.as_bytes()).into_owned().collect();
        let day = params
            .get("day")
            .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
            .ok_or_else(|| Reply::error(422, "invalid_params", "Please specify `day` as YYYY-MM-DD."))?;
        let events = owned(&self.state.fixture.ea_events, name(ea));
        let matching = events.iter().filter(|e| {
            created_at(e).is_some_and(|t| t.date_naive() == day)
                && params.get("actor").is_none_or(|a| str_at(e, &["actor", "email"]) == Some(a))
                && params.get("action").is_none_or(|a| str_at(e, &["action"]) == Some(a))
                && params.get("type").is_none_or(|t| str_at(e, &["type"]) == Some(t))
        });
        self.list(matching, &["id", "created_at"])
    }

    fn download(&self, ea: &str, file: &str) -> Reply {
        let found = self.state.archives.get(ea).into_iter().flatten().find(|a| a.file_name() == file);
        match found {
            Some(archive) => Reply {
                status: 200,
                headers: Vec::new(),
                body: archive.gzip.clone(),
                content_type: Some("application/gzip"),
            },
            None => Reply::not_found("archive"),
        }
    }
}

fn same_path(a: &str, b: &str) -> bool {
    a.trim_end_matches('/') == b.trim_end_matches('/')
}

/// Replies carry `&'static str` content types; recorded ones are few and known, the rest read
/// as JSON (what Heroku sends).
fn leak_content_type(recorded: &str) -> &'static str {
    match recorded {
        "text/html" | "text/html; charset=utf-8" => "text/html; charset=utf-8",
        "application/gzip" => "application/gzip",
        "text/plain" | "text/plain; charset=utf-8" => "text/plain; charset=utf-8",
        _ => "application/json; charset=utf-8",
    }
}

fn method_not_allowed() -> Reply {
    let mut reply =
        Reply::error(405, "method_not_allowed", "The sandbox is read-only: an audit must never write to Heroku.");
    reply.headers.push(("allow", "GET, HEAD".into()));
    reply
}

fn name(value: &Value) -> &str {
    str_at(value, &["name"]).unwrap_or("")
}

fn owned<'f>(map: &'f std::collections::BTreeMap<String, Vec<Value>>, owner: &str) -> &'f [Value] {
    map.get(owner).map_or(&[], Vec::as_slice)
}

/// `application/vnd.heroku+json; version=3`, or the invitations variant where it applies.
fn accepts(headers: &HeaderMap, invitations: bool) -> bool {
    headers.get_all("accept").iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(',')).any(|media| {
        let mut parts = media.split(';').map(str::trim);
        let media_type = parts.next().unwrap_or("");
        media_type.eq_ignore_ascii_case(MEDIA_TYPE)
            && parts.any(|p| match p.split_once('=') {
                Some((k, v)) if k.trim().eq_ignore_ascii_case("version") => {
                    let v = v.trim();
                    v == "3" || (invitations && v == "3.team-invitations")
                }
                _ => false,
            })
    })
}

fn if_none_match(headers: &HeaderMap, etag: &str) -> bool {
    header(headers, "if-none-match")
        .is_some_and(|v| v.split(',').map(str::trim).any(|tag| tag == "*" || tag.trim_start_matches("W/") == etag))
}

fn team_app_permissions() -> Value {
    json!([
        {"name": "view", "description": "Can view the app, its activity, logs and config vars."},
        {"name": "deploy", "description": "Can manage config, deploy, run commands and restart the app."},
        {"name": "operate", "description": "Can scale and restart dynos and manage maintenance mode."},
        {"name": "manage", "description": "Can manage add-ons, collaborators, domains and app settings."},
    ])
}

/// One month of an enterprise account's audit trail, gzipped once at start.
#[derive(Debug)]
struct Archive {
    ea_id: String,
    year: i32,
    month: u32,
    created_at: DateTime<Utc>,
    gzip: Bytes,
    checksum: String,
}

impl Archive {
    fn file_name(&self) -> String {
        format!("{}-{:02}.json.gz", self.year, self.month)
    }

    fn meta(&self, base_url: &str) -> Value {
        json!({
            "created_at": timestamp(self.created_at),
            "year": self.year,
            "month": format!("{:02}", self.month),
            "url": format!("{base_url}/{ARCHIVE_PREFIX}/archives/{}/{}", self.ea_id, self.file_name()),
            "checksum": self.checksum,
            "size": self.gzip.len(),
        })
    }
}

fn month_start(year: i32, month: u32) -> Option<DateTime<Utc>> {
    Utc.with_ymd_and_hms(year, month, 1, 0, 0, 0).single()
}

fn next_month(year: i32, month: u32) -> (i32, u32) {
    if month == 12 {
        (year + 1, 1)
    } else {
        (year, month + 1)
    }
}

/// Monthly archives from the earliest event's month to `now`'s month; the current month stops at
/// midnight UTC of today, as Heroku documents.
fn build_archives(fixture: &Fixture, seed: u64) -> HashMap<String, Vec<Archive>> {
    let now = fixture.now;
    let today = now.date_naive().and_hms_opt(0, 0, 0).map_or(now, |t| t.and_utc());
    let mut out = HashMap::new();
    for ea in &fixture.enterprise_accounts {
        let ea_id = str_at(ea, &["id"]).unwrap_or("").to_string();
        let events = owned(&fixture.ea_events, name(ea));
        let dated: Vec<(DateTime<Utc>, &Value)> = events.iter().filter_map(|e| Some((created_at(e)?, e))).collect();
        let Some(earliest) = dated.iter().map(|(t, _)| *t).min() else {
            continue;
        };
        let mut archives = Vec::new();
        let (mut year, mut month) = (earliest.year(), earliest.month());
        while (year, month) <= (now.year(), now.month()) {
            let (ny, nm) = next_month(year, month);
            let (Some(start), Some(end)) = (month_start(year, month), month_start(ny, nm)) else {
                break;
            };
            let cutoff = end.min(today);
            let mut entries: Vec<&Value> =
                dated.iter().filter(|(t, _)| *t >= start && *t < cutoff).map(|(_, e)| *e).collect();
            // Heroku's archives are not in time order; a seeded shuffle keeps runs reproducible.
            let mut rng = ChaCha8Rng::seed_from_u64(seed ^ (u64::from(month) << 32) ^ year.unsigned_abs() as u64);
            entries.shuffle(&mut rng);
            let gzip = gzip_json(&json!({ "entries": entries }));
            archives.push(Archive {
                ea_id: ea_id.clone(),
                year,
                month,
                created_at: cutoff.max(start),
                checksum: hex::encode(Sha256::digest(&gzip)),
                gzip: Bytes::from(gzip),
            });
            (year, month) = (ny, nm);
        }
        out.insert(ea_id, archives);
    }
    out
}

fn gzip_json(value: &Value) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    // Writing into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut encoder, value);
    encoder.finish().unwrap_or_default()
}
