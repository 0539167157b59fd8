//! The read-only Platform API client.
//!
//! One place decides what is retried (connection errors, timeouts, 408, 429, 5xx, bodies cut
//! short; a body that is not JSON at all once; well-formed JSON of the wrong shape never, since
//! asking again gets the same answer), how long to wait (jittered exponential backoff; after a 429, Heroku's
//! own client waits from 30 s up, or `Retry-After` when sent), when to slow down (when
//! `RateLimit-Remaining` runs low, pace requests at the refill rate instead of hitting 429), and
//! what is counted per endpoint for the snapshot manifest.
use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};
use bytes::Bytes;
use chrono::{DateTime, Utc};
use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, AUTHORIZATION, IF_NONE_MATCH, RANGE, USER_AGENT};
use reqwest::StatusCode;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;
use tokio::time::Instant;
use url::Url;

use super::cache::CachedPage;
use super::decode::{self, BodyError, Element, ElementProblem};
use super::{ApiError, EtagCache, RangeSpec, Token, ACCEPT_V3};

/// How the client talks to the API. Defaults suit the real API; tests shorten the waits.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    pub base_url: Url,
    pub token: Token,
    /// Whole-request timeout: a stalled server cannot hang a run.
    pub timeout: Duration,
    pub connect_timeout: Duration,
    /// Retries after the first attempt for connection errors, timeouts, 408, 5xx and bad bodies.
    pub max_retries: usize,
    pub backoff_min: Duration,
    pub backoff_max: Duration,
    /// Retries after a 429, each waiting for the pool to refill.
    pub max_rate_limit_retries: usize,
    /// First wait after a 429 without `Retry-After`; doubles on each further 429.
    pub rate_limit_wait: Duration,
    /// Below this `RateLimit-Remaining`, requests are paced at `refill_per_minute`.
    pub slow_down_below: u32,
    /// The pool's refill rate, as Heroku documents it (~75 per minute).
    pub refill_per_minute: f64,
    /// Requests in flight at once.
    pub concurrency: usize,
    pub cache: Option<EtagCache>,
    /// Tokens of the pool left to the token's owner: when `RateLimit-Remaining` (less the
    /// requests in flight) falls to this, requests wait for the pool to refill. 0: no reserve.
    pub reserve: u32,
    /// Requests that spend the pool allowed in this run; past it every read fails with
    /// [`ApiError::Budget`] (a gap), so the run stops cleanly instead of spending more.
    pub max_requests: Option<u64>,
    /// Where a wait for the pool is shown (the extract's progress bar).
    pub progress: Option<indicatif::ProgressBar>,
}

impl ClientConfig {
    pub fn new(base_url: Url, token: Token) -> Self {
        ClientConfig {
            base_url,
            token,
            timeout: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(10),
            max_retries: 5,
            backoff_min: Duration::from_millis(500),
            backoff_max: Duration::from_secs(30),
            max_rate_limit_retries: 8,
            rate_limit_wait: Duration::from_secs(30),
            slow_down_below: 100,
            refill_per_minute: 75.0,
            concurrency: 8,
            cache: None,
            reserve: 0,
            max_requests: None,
            progress: None,
        }
    }
}

/// What one endpoint cost, for the manifest.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointStats {
    /// HTTP requests sent, retries included.
    pub requests: u64,
    /// Pages of data received (a 304 replayed from the cache counts as a page).
    pub pages: u64,
    pub not_modified: u64,
    pub retries: u64,
    pub rate_limited: u64,
    /// Bytes of response bodies received over the wire.
    pub bytes: u64,
}

/// What the run spent of the rate-limit pool and how long it waited to leave the reserve, for
/// the manifest.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RateLimitBudget {
    /// `--reserve`: the share of the pool left to the token's owner.
    pub reserve: u32,
    /// `--max-requests`, when set.
    pub max_requests: Option<u64>,
    /// Requests sent that spend the pool (authenticated ones; `/account/rate-limits` and
    /// archive downloads are free), retries and 304s included.
    pub spent: u64,
    /// Lowest `RateLimit-Remaining` seen, when the API sent any.
    pub lowest_remaining: Option<u32>,
    /// Times the run paused at the reserve, and for how long in all.
    pub waits: u64,
    pub waited_seconds: f64,
    /// `--max-requests` was reached: reads after it are gaps.
    pub stopped_at_max_requests: bool,
}

/// Request counts per endpoint template (`GET /teams/{team}/members`).
pub type Stats = BTreeMap<String, EndpointStats>;

pub struct Client {
    http: reqwest::Client,
    cfg: ClientConfig,
    in_flight: Semaphore,
    /// Last `RateLimit-Remaining` seen; -1 until one is seen.
    remaining: AtomicI64,
    /// When the next paced request may start (only used while the pool runs low).
    next_slot: tokio::sync::Mutex<Instant>,
    stats: Mutex<Stats>,
    /// The API's clock: the `Date` of its first answer (see [`Client::server_clock`]).
    server_clock: std::sync::OnceLock<DateTime<Utc>>,
    /// Held while deciding whether a request may spend the pool, so concurrent requests wait
    /// at the reserve one after another instead of all passing it at once.
    gate: tokio::sync::Mutex<()>,
    spent: AtomicU64,
    /// Pool-spending requests sent whose answer (and its `RateLimit-Remaining`) is not in yet.
    unanswered: AtomicI64,
    lowest_remaining: AtomicI64,
    waits: AtomicU64,
    waited_micros: AtomicU64,
    stopped: AtomicBool,
}

/// Counts a pool-spending request as answered when the attempt ends, whichever way it ends.
struct Unanswered<'a>(&'a AtomicI64);

impl Drop for Unanswered<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// What a successful request produced.
struct Page<R> {
    value: R,
    next_range: Option<String>,
    /// Answered 206 Partial Content: more of the list exists.
    partial: bool,
}

/// A whole list as read: every element that could be read, what could not be read about the
/// others, and the error that stopped the paging early, if one did (the pages before it are
/// kept: not read is never not there, but read is never thrown away either).
#[derive(Debug)]
pub struct Listed<T> {
    pub items: Vec<T>,
    pub problems: Vec<ElementProblem>,
    pub error: Option<ApiError>,
}

impl<T> Listed<T> {
    /// Every page was read (elements may still have problems).
    pub fn complete(&self) -> bool {
        self.error.is_none()
    }

    /// The items when every page was read, else the error: for callers that need all or none.
    pub fn all(self) -> Result<Vec<T>, ApiError> {
        match self.error {
            None => Ok(self.items),
            Some(err) => Err(err),
        }
    }
}

enum Attempt {
    /// Worth trying again after the usual backoff.
    Retry(ApiError),
    /// Worth one more try, not more (a body that is not JSON: perhaps a proxy's page).
    RetryOnce(ApiError),
    /// A 429: wait for the pool to refill.
    RateLimited(ApiError, Option<Duration>),
    Fatal(ApiError),
}

/// One request's description.
struct Request<'a> {
    endpoint: &'a str,
    url: Url,
    accept: &'a str,
    range: Option<String>,
    authenticated: bool,
    cacheable: bool,
    /// Costs nothing on Heroku (`/account/rate-limits`): neither counted nor held at the reserve.
    free: bool,
}

impl Client {
    pub fn new(cfg: ClientConfig) -> Result<Self, ApiError> {
        let mut headers = HeaderMap::new();
        headers.insert(USER_AGENT, HeaderValue::from_static(concat!("hkaudit/", env!("CARGO_PKG_VERSION"))));
        let http = reqwest::Client::builder()
            .default_headers(headers)
            .timeout(cfg.timeout)
            .connect_timeout(cfg.connect_timeout)
            // Archive downloads are pre-signed storage URLs; the token is never sent there, and
            // a redirect must not carry it anywhere either.
            .redirect(reqwest::redirect::Policy::limited(3))
            .build()
            .map_err(|e| ApiError::Transport { endpoint: "client".into(), detail: e.to_string(), timed_out: false })?;
        Ok(Client {
            http,
            in_flight: Semaphore::new(cfg.concurrency.max(1)),
            remaining: AtomicI64::new(-1),
            next_slot: tokio::sync::Mutex::new(Instant::now()),
            stats: Mutex::new(Stats::new()),
            server_clock: std::sync::OnceLock::new(),
            gate: tokio::sync::Mutex::new(()),
            spent: AtomicU64::new(0),
            unanswered: AtomicI64::new(0),
            lowest_remaining: AtomicI64::new(i64::MAX),
            waits: AtomicU64::new(0),
            waited_micros: AtomicU64::new(0),
            stopped: AtomicBool::new(false),
            cfg,
        })
    }

    pub fn base_url(&self) -> &Url {
        &self.cfg.base_url
    }

    /// Requests made so far, per endpoint template.
    pub fn stats(&self) -> Stats {
        self.stats.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// What the run spent of the pool and waited for it, so far.
    pub fn budget(&self) -> RateLimitBudget {
        let lowest = self.lowest_remaining.load(Ordering::Relaxed);
        #[allow(clippy::cast_precision_loss)]
        let waited_seconds = self.waited_micros.load(Ordering::Relaxed) as f64 / 1e6;
        RateLimitBudget {
            reserve: self.cfg.reserve,
            max_requests: self.cfg.max_requests,
            spent: self.spent.load(Ordering::Relaxed),
            lowest_remaining: (lowest != i64::MAX).then(|| u32::try_from(lowest.max(0)).unwrap_or(u32::MAX)),
            waits: self.waits.load(Ordering::Relaxed),
            waited_seconds,
            stopped_at_max_requests: self.stopped.load(Ordering::Relaxed),
        }
    }

    /// The last `RateLimit-Remaining` the API reported, if any.
    pub fn rate_limit_remaining(&self) -> Option<u32> {
        u32::try_from(self.remaining.load(Ordering::Relaxed)).ok()
    }

    /// The time the API said it was (`Date` of its first authenticated answer). The activity
    /// window ends there unless `--as-of` says otherwise: the server's clock, not the auditor's
    /// laptop, is the one the activity timestamps were written by.
    pub fn server_clock(&self) -> Option<DateTime<Utc>> {
        self.server_clock.get().copied()
    }

    fn url(&self, endpoint: &str, path: &str) -> Result<Url, ApiError> {
        self.cfg.base_url.join(path.trim_start_matches('/')).map_err(|e| ApiError::Transport {
            endpoint: endpoint.to_owned(),
            detail: format!("cannot build a URL from {path}: {e}"),
            timed_out: false,
        })
    }

    /// GET one resource. A body of the wrong shape is an error at once, never retried.
    pub async fn get<T: DeserializeOwned>(&self, endpoint: &str, path: &str) -> Result<T, ApiError> {
        let req = Request {
            endpoint,
            url: self.url(endpoint, path)?,
            accept: ACCEPT_V3,
            range: None,
            authenticated: true,
            cacheable: false,
            free: false,
        };
        Ok(self.send(&req, |b: &Bytes| decode::single::<T>(b)).await?.value)
    }

    /// GET every item of a list, following `Next-Range` to the end.
    pub async fn list<T: Element>(&self, endpoint: &str, path: &str, range: RangeSpec) -> Listed<T> {
        self.list_with(endpoint, path, range, ACCEPT_V3, true, |_: &[T]| true).await
    }

    /// GET a list page by page while `more(page)` says the next page is still wanted (used to
    /// stop reading releases newest-first once they are older than the activity window).
    /// `cacheable = false` keeps pages out of the ETag cache (pages that hold secrets).
    ///
    /// Each page is decoded element by element ([`decode::list_page`]): an element that cannot
    /// be read is a problem of its own, never a failed page. A page that is not a JSON list, a
    /// 206 without `Next-Range` and a repeated `Next-Range` stop the paging with an error, and
    /// what was read before is kept.
    pub async fn list_with<T: Element>(
        &self,
        endpoint: &str,
        path: &str,
        range: RangeSpec,
        accept: &str,
        cacheable: bool,
        mut more: impl FnMut(&[T]) -> bool,
    ) -> Listed<T> {
        let mut listed = Listed { items: Vec::new(), problems: Vec::new(), error: None };
        let url = match self.url(endpoint, path) {
            Ok(url) => url,
            Err(err) => {
                listed.error = Some(err);
                return listed;
            }
        };
        let mut seen = HashSet::new();
        let mut range_header = range.header();
        let mut elements = 0usize;
        loop {
            let req = Request {
                endpoint,
                url: url.clone(),
                accept,
                range: Some(range_header.clone()),
                authenticated: true,
                cacheable,
                free: false,
            };
            let first = elements;
            let page = match self.send(&req, move |b: &Bytes| decode::list_page::<T>(b, first)).await {
                Ok(page) => page,
                Err(err) => {
                    listed.error = Some(err);
                    return listed;
                }
            };
            let (items, problems) = page.value;
            elements += items.len() + problems.iter().filter(|p| p.skipped).count();
            let wanted = more(&items);
            listed.items.extend(items);
            listed.problems.extend(problems);
            match page.next_range {
                Some(next) if wanted => {
                    if !seen.insert(next.clone()) || next == range_header {
                        listed.error =
                            Some(ApiError::PaginationLoop { endpoint: endpoint.to_owned(), next_range: next });
                        return listed;
                    }
                    range_header = next;
                }
                None if page.partial && wanted => {
                    listed.error = Some(ApiError::MissingNextRange { endpoint: endpoint.to_owned() });
                    return listed;
                }
                _ => return listed,
            }
        }
    }

    /// Download an absolute URL (an audit-trail archive) without the token: archive URLs are
    /// pre-signed storage links, and the token must never leave for another host.
    ///
    /// The body must have the SHA-256 `expected_sha256` (hex). A body that does not is a cut or
    /// corrupted transfer, so it is retried like any other bad body; only when every retry
    /// disagrees is it a checksum mismatch.
    pub async fn download(&self, endpoint: &str, url: &str, expected_sha256: &str) -> Result<Bytes, ApiError> {
        let parsed = Url::parse(url).map_err(|e| ApiError::Transport {
            endpoint: endpoint.to_owned(),
            detail: format!("bad download URL: {e}"),
            timed_out: false,
        })?;
        let req = Request {
            endpoint,
            url: parsed,
            accept: "*/*",
            range: None,
            authenticated: false,
            cacheable: false,
            free: true,
        };
        let expected = expected_sha256.trim();
        // A body with another digest is treated as cut (retried); its detail is the digest.
        let verify = |b: &Bytes| {
            let actual = hex::encode(Sha256::digest(b));
            if actual.eq_ignore_ascii_case(expected) {
                Ok(b.clone())
            } else {
                Err(BodyError::Cut(actual))
            }
        };
        match self.send(&req, verify).await {
            Ok(page) => Ok(page.value),
            // `verify` is the only way a download fails to decode; its detail is the digest.
            Err(ApiError::Decode { detail, .. }) => Err(ApiError::Checksum {
                url: "audit-trail archive".into(),
                expected: expected.to_owned(),
                actual: detail,
            }),
            Err(err) => Err(err),
        }
    }

    /// `GET /account/rate-limits`: free on Heroku, so it is a cheap way to learn the pool.
    pub async fn fetch_rate_limit(&self) -> Result<u32, ApiError> {
        #[derive(Deserialize)]
        struct RateLimit {
            remaining: u32,
        }
        let endpoint = "GET /account/rate-limits";
        let req = Request {
            endpoint,
            url: self.url(endpoint, "/account/rate-limits")?,
            accept: ACCEPT_V3,
            range: None,
            authenticated: true,
            cacheable: false,
            free: true,
        };
        let r: RateLimit = self.send(&req, |b: &Bytes| decode::single::<RateLimit>(b)).await?.value;
        self.remaining.store(i64::from(r.remaining), Ordering::Relaxed);
        Ok(r.remaining)
    }

    fn count(&self, endpoint: &str, f: impl FnOnce(&mut EndpointStats)) {
        if let Ok(mut stats) = self.stats.lock() {
            f(stats.entry(endpoint.to_owned()).or_default());
        }
    }

    /// Send with retries; `decode` turns a body into the value. A body cut short is a transport
    /// fault and retried like one; a body that is not JSON at all is retried once (a proxy's
    /// error page can be a moment's); well-formed JSON of the wrong shape is the answer, and
    /// asking again would only spend the rate-limit budget on the same answer.
    async fn send<R>(
        &self,
        req: &Request<'_>,
        decode: impl Fn(&Bytes) -> Result<R, BodyError>,
    ) -> Result<Page<R>, ApiError> {
        let mut backoff = ExponentialBuilder::default()
            .with_min_delay(self.cfg.backoff_min)
            .with_max_delay(self.cfg.backoff_max)
            .with_max_times(self.cfg.max_retries)
            .with_jitter()
            .build();
        let mut rate_limit_retries = 0usize;
        let mut retried_once = false;
        loop {
            match self.attempt(req, &decode).await {
                Ok(page) => return Ok(page),
                Err(Attempt::Fatal(err)) => return Err(err),
                Err(Attempt::RetryOnce(err)) => {
                    if retried_once {
                        return Err(err);
                    }
                    retried_once = true;
                    let delay = self.cfg.backoff_min;
                    tracing::debug!(endpoint = req.endpoint, error = %err, ?delay, "retrying once");
                    self.count(req.endpoint, |s| s.retries += 1);
                    tokio::time::sleep(delay).await;
                }
                Err(Attempt::Retry(err)) => match backoff.next() {
                    Some(delay) => {
                        tracing::debug!(endpoint = req.endpoint, error = %err, ?delay, "retrying");
                        self.count(req.endpoint, |s| s.retries += 1);
                        tokio::time::sleep(delay).await;
                    }
                    None => return Err(err),
                },
                Err(Attempt::RateLimited(err, retry_after)) => {
                    if rate_limit_retries >= self.cfg.max_rate_limit_retries {
                        return Err(err);
                    }
                    let doubling = 1u32 << rate_limit_retries.min(6);
                    let delay =
                        retry_after.unwrap_or(self.cfg.rate_limit_wait * doubling).min(Duration::from_secs(600));
                    rate_limit_retries += 1;
                    tracing::info!(
                        endpoint = req.endpoint,
                        ?delay,
                        "rate limited (429); waiting for the pool to refill"
                    );
                    self.count(req.endpoint, |s| s.retries += 1);
                    tokio::time::sleep(delay).await;
                }
            }
        }
    }

    /// Wait for a turn when the pool is low, so the run slows down instead of hitting 429.
    async fn pace(&self) {
        let remaining = self.remaining.load(Ordering::Relaxed);
        if remaining < 0 || remaining >= i64::from(self.cfg.slow_down_below) || self.cfg.refill_per_minute <= 0.0 {
            return;
        }
        let interval = Duration::from_secs_f64(60.0 / self.cfg.refill_per_minute);
        let start = {
            let mut slot = self.next_slot.lock().await;
            let start = (*slot).max(Instant::now());
            *slot = start + interval;
            start
        };
        tracing::debug!(remaining, ?interval, "rate-limit pool low: pacing requests");
        tokio::time::sleep_until(start).await;
    }

    /// Let one pool-spending request go: refused past `--max-requests`; held while the pool
    /// (as last reported, less what is in flight) is at the reserve, polling the free
    /// `/account/rate-limits` after the time the refill should take, since the owner may be
    /// spending the same pool meanwhile.
    async fn spend(&self, endpoint: &str) -> Result<Unanswered<'_>, ApiError> {
        if let Some(max) = self.cfg.max_requests {
            if self.spent.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| (n < max).then_some(n + 1)).is_err() {
                self.stopped.store(true, Ordering::Relaxed);
                return Err(ApiError::Budget { endpoint: endpoint.to_owned(), max });
            }
        } else {
            self.spent.fetch_add(1, Ordering::Relaxed);
        }
        if self.cfg.reserve > 0 {
            let _turn = self.gate.lock().await;
            let reserve = i64::from(self.cfg.reserve);
            let mut waited = false;
            loop {
                let seen = self.remaining.load(Ordering::Relaxed);
                let left = seen - self.unanswered.load(Ordering::Relaxed);
                if seen < 0 || left > reserve {
                    break;
                }
                if !waited {
                    waited = true;
                    self.waits.fetch_add(1, Ordering::Relaxed);
                }
                #[allow(clippy::cast_precision_loss)]
                let need = (reserve + 1 - left) as f64;
                let refill = if self.cfg.refill_per_minute > 0.0 { self.cfg.refill_per_minute } else { 75.0 };
                let wait = Duration::from_secs_f64((need * 60.0 / refill).clamp(0.01, 60.0));
                let message = format!(
                    "waiting {:.0} s for the rate-limit pool to refill ({} left, reserve {})",
                    wait.as_secs_f64().ceil(),
                    seen.max(0),
                    self.cfg.reserve
                );
                if let Some(progress) = &self.cfg.progress {
                    progress.set_message(message.clone());
                }
                tracing::info!("{message}");
                let started = Instant::now();
                tokio::time::sleep(wait).await;
                let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
                self.waited_micros.fetch_add(micros, Ordering::Relaxed);
                if let Err(err) = Box::pin(self.fetch_rate_limit()).await {
                    tracing::debug!(error = %err, "could not poll /account/rate-limits while waiting");
                }
            }
        }
        self.unanswered.fetch_add(1, Ordering::Relaxed);
        Ok(Unanswered(&self.unanswered))
    }

    async fn attempt<R>(
        &self,
        req: &Request<'_>,
        decode: &impl Fn(&Bytes) -> Result<R, BodyError>,
    ) -> Result<Page<R>, Attempt> {
        let _unanswered = if req.authenticated && !req.free {
            self.pace().await;
            Some(self.spend(req.endpoint).await.map_err(Attempt::Fatal)?)
        } else {
            None
        };
        let _permit = self.in_flight.acquire().await.map_err(|e| {
            Attempt::Fatal(ApiError::Transport {
                endpoint: req.endpoint.to_owned(),
                detail: e.to_string(),
                timed_out: false,
            })
        })?;
        let cache = self.cfg.cache.as_ref().filter(|_| req.cacheable);
        let cached = cache.and_then(|c| c.get(req.url.as_str(), req.range.as_deref(), req.accept));

        let mut builder = self.http.get(req.url.clone()).header(ACCEPT, req.accept);
        if req.authenticated {
            let mut auth = HeaderValue::from_str(&format!("Bearer {}", self.cfg.token.expose())).map_err(|_| {
                Attempt::Fatal(ApiError::NoToken {
                    detail: "the token holds characters that cannot be sent in an HTTP header".into(),
                })
            })?;
            auth.set_sensitive(true);
            builder = builder.header(AUTHORIZATION, auth);
        }
        if let Some(range) = &req.range {
            builder = builder.header(RANGE, range);
        }
        if let Some(page) = &cached {
            builder = builder.header(IF_NONE_MATCH, &page.etag);
        }

        self.count(req.endpoint, |s| s.requests += 1);
        let transport = |e: reqwest::Error| {
            let timed_out = e.is_timeout();
            let detail = if timed_out { format!("timed out: {e}") } else { format!("connection failed: {e}") };
            let detail = crate::redact::redact(&without_url(&detail)).into_owned();
            Attempt::Retry(ApiError::Transport { endpoint: req.endpoint.to_owned(), detail, timed_out })
        };
        let response = builder.send().await.map_err(transport)?;
        let status = response.status();
        let headers = response.headers().clone();
        if let Some(remaining) = header_str(&headers, "ratelimit-remaining").and_then(|v| v.trim().parse::<i64>().ok())
        {
            self.remaining.store(remaining, Ordering::Relaxed);
            self.lowest_remaining.fetch_min(remaining, Ordering::Relaxed);
        }
        let request_id = header_str(&headers, "request-id").map(str::to_owned);
        if req.authenticated && self.server_clock.get().is_none() {
            if let Some(date) = header_str(&headers, "date").and_then(|d| DateTime::parse_from_rfc2822(d.trim()).ok()) {
                let _ = self.server_clock.set(date.with_timezone(&Utc));
            }
        }
        let body = response.bytes().await.map_err(transport)?;
        self.count(req.endpoint, |s| s.bytes += body.len() as u64);
        tracing::debug!(
            endpoint = req.endpoint,
            status = status.as_u16(),
            request_id = request_id.as_deref().unwrap_or("-"),
            "response"
        );

        if status == StatusCode::NOT_MODIFIED {
            if let Some(page) = cached {
                let value = decode(&Bytes::from(page.body.into_bytes())).map_err(|err| {
                    Attempt::Fatal(ApiError::Cache {
                        path: "etag cache".into(),
                        action: "the cached page does not decode: remove the cache folder and extract again",
                        source: std::io::Error::new(std::io::ErrorKind::InvalidData, err.detail()),
                    })
                })?;
                self.count(req.endpoint, |s| {
                    s.not_modified += 1;
                    s.pages += 1;
                });
                return Ok(Page { value, next_range: page.next_range, partial: page.status == 206 });
            }
            return Err(Attempt::Retry(http_error(req.endpoint, status, &body, request_id)));
        }
        if status.is_success() {
            let value = decode(&body).map_err(|err| {
                let content_type = header_str(&headers, "content-type").unwrap_or("none");
                let error = |detail: String| ApiError::Decode {
                    endpoint: req.endpoint.to_owned(),
                    status: status.as_u16(),
                    detail: crate::redact::redact(&detail).into_owned(),
                };
                match err {
                    BodyError::Cut(detail) => Attempt::Retry(error(detail)),
                    BodyError::NotJson(detail) => {
                        Attempt::RetryOnce(error(format!("{detail} (Content-Type: {content_type})")))
                    }
                    BodyError::WrongShape(detail) => Attempt::Fatal(error(detail)),
                }
            })?;
            let next_range = if status == StatusCode::PARTIAL_CONTENT {
                header_str(&headers, "next-range").map(str::to_owned)
            } else {
                None
            };
            if let (Some(cache), Some(etag)) = (cache, header_str(&headers, "etag")) {
                if let Ok(text) = std::str::from_utf8(&body) {
                    let page = CachedPage {
                        etag: etag.to_owned(),
                        status: status.as_u16(),
                        next_range: next_range.clone(),
                        body: text.to_owned(),
                    };
                    if let Err(err) = cache.put(req.url.as_str(), req.range.as_deref(), req.accept, &page) {
                        tracing::warn!(error = %err, "could not write the ETag cache; continuing without it");
                    }
                }
            }
            self.count(req.endpoint, |s| s.pages += 1);
            return Ok(Page { value, next_range, partial: status == StatusCode::PARTIAL_CONTENT });
        }
        let err = http_error(req.endpoint, status, &body, request_id);
        match status {
            StatusCode::UNAUTHORIZED => {
                Err(Attempt::Fatal(ApiError::Unauthorized { endpoint: req.endpoint.to_owned() }))
            }
            StatusCode::TOO_MANY_REQUESTS => {
                self.count(req.endpoint, |s| s.rate_limited += 1);
                self.remaining.store(0, Ordering::Relaxed);
                let retry_after = header_str(&headers, "retry-after")
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .map(Duration::from_secs);
                Err(Attempt::RateLimited(err, retry_after))
            }
            StatusCode::REQUEST_TIMEOUT => Err(Attempt::Retry(err)),
            s if s.is_server_error() => Err(Attempt::Retry(err)),
            _ => Err(Attempt::Fatal(err)),
        }
    }
}

fn header_str<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    // HeaderMap lookups are case-insensitive, as Heroku's header names vary in case.
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// reqwest puts the URL in its error text; the URL never holds a token, but a pre-signed archive
/// URL holds a signature, so errors keep only the message.
fn without_url(detail: &str) -> String {
    match detail.find(" for url (") {
        Some(start) => {
            let rest = &detail[start..];
            let end = rest.find(')').map(|i| start + i + 1).unwrap_or(detail.len());
            format!("{}{}", &detail[..start], &detail[end..])
        }
        None => detail.to_owned(),
    }
}

fn http_error(endpoint: &str, status: StatusCode, body: &[u8], request_id: Option<String>) -> ApiError {
    #[derive(Deserialize)]
    struct HerokuError {
        id: Option<String>,
        message: Option<String>,
        /// Older 401 bodies say `error` instead of `message` (a recorded `/account` answer).
        error: Option<String>,
    }
    let parsed: Option<HerokuError> = serde_json::from_slice(body).ok();
    let id = parsed.as_ref().and_then(|e| e.id.clone());
    let message = parsed
        .and_then(|e| e.message.or(e.error))
        .map(|m| m.replace('\n', " "))
        .unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_owned());
    // The API's text is not ours: a server that echoes the request's Authorization header would
    // otherwise put the token in a gap message.
    let message = crate::redact::redact(&message).into_owned();
    let id = id.map(|i| crate::redact::redact(&i).into_owned());
    ApiError::Http { endpoint: endpoint.to_owned(), status, id, message, request_id }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heroku_error_bodies_are_decoded() {
        let body = br#"{"id":"forbidden","message":"You do not have access to the team acme-core.","url":"https://devcenter.heroku.com"}"#;
        let err = http_error("GET /teams/{team}/members", StatusCode::FORBIDDEN, body, Some("abc".into()));
        assert_eq!(err.heroku_id(), Some("forbidden"));
        assert_eq!(err.status(), Some(StatusCode::FORBIDDEN));
        assert!(err.to_string().contains("Request-Id abc"), "{err}");
    }

    #[test]
    fn error_bodies_that_are_not_json_keep_the_status() {
        let err = http_error("GET /apps", StatusCode::BAD_GATEWAY, b"<html>", None);
        assert_eq!(err.status(), Some(StatusCode::BAD_GATEWAY));
        // No id in the body: the gap still says why it is there.
        assert_eq!(err.heroku_id(), Some("server_error"));
        assert!(err.to_string().contains("502"), "{err}");
    }

    #[test]
    fn an_error_body_echoing_the_authorization_header_is_redacted() {
        let body = br#"{"id":"bad_request","message":"Rejected header Authorization: Bearer HRKU-PLANTED-SECRET-1"}"#;
        let err = http_error("GET /apps", StatusCode::BAD_REQUEST, body, None);
        assert!(!err.to_string().contains("PLANTED"), "{err}");
        assert!(!err.gap_message().contains("PLANTED"), "{}", err.gap_message());
    }

    #[test]
    fn urls_are_cut_out_of_transport_errors() {
        assert_eq!(
            without_url("error sending request for url (http://x/y?sig=abc): reset"),
            "error sending request: reset"
        );
    }
}
