//! The read-only Platform API client.
//!
//! One place decides what is retried (connection errors, timeouts, 408, 429, 5xx, bodies that are
//! not the JSON expected), how long to wait (jittered exponential backoff; after a 429, Heroku's
//! own client waits from 30 s up, or `Retry-After` when sent), when to slow down (when
//! `RateLimit-Remaining` runs low, pace requests at the refill rate instead of hitting 429), and
//! what is counted per endpoint for the snapshot manifest.
use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicI64, Ordering};
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
}

/// What a successful request produced.
struct Page<R> {
    value: R,
    next_range: Option<String>,
}

enum Attempt {
    /// Worth trying again after the usual backoff.
    Retry(ApiError),
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
            .map_err(|e| ApiError::Transport { endpoint: "client".into(), detail: e.to_string() })?;
        Ok(Client {
            http,
            in_flight: Semaphore::new(cfg.concurrency.max(1)),
            remaining: AtomicI64::new(-1),
            next_slot: tokio::sync::Mutex::new(Instant::now()),
            stats: Mutex::new(Stats::new()),
            server_clock: std::sync::OnceLock::new(),
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
        })
    }

    /// GET one resource.
    pub async fn get<T: DeserializeOwned>(&self, endpoint: &str, path: &str) -> Result<T, ApiError> {
        let req = Request {
            endpoint,
            url: self.url(endpoint, path)?,
            accept: ACCEPT_V3,
            range: None,
            authenticated: true,
            cacheable: false,
        };
        Ok(self.send(&req, decode_json::<T>).await?.value)
    }

    /// GET every item of a list, following `Next-Range` to the end.
    pub async fn list<T: DeserializeOwned>(
        &self,
        endpoint: &str,
        path: &str,
        range: RangeSpec,
    ) -> Result<Vec<T>, ApiError> {
        self.list_with(endpoint, path, range, ACCEPT_V3, true, |_: &[T]| true).await
    }

    /// GET a list page by page while `more(page)` says the next page is still wanted (used to
    /// stop reading releases newest-first once they are older than the activity window).
    /// `cacheable = false` keeps pages out of the ETag cache (pages that hold secrets).
    pub async fn list_with<T: DeserializeOwned>(
        &self,
        endpoint: &str,
        path: &str,
        range: RangeSpec,
        accept: &str,
        cacheable: bool,
        mut more: impl FnMut(&[T]) -> bool,
    ) -> Result<Vec<T>, ApiError> {
        let url = self.url(endpoint, path)?;
        let mut items = Vec::new();
        let mut seen = HashSet::new();
        let mut range_header = range.header();
        loop {
            let req = Request {
                endpoint,
                url: url.clone(),
                accept,
                range: Some(range_header.clone()),
                authenticated: true,
                cacheable,
            };
            let page = self.send(&req, decode_json::<Vec<T>>).await?;
            let wanted = more(&page.value);
            items.extend(page.value);
            match page.next_range {
                Some(next) if wanted => {
                    if !seen.insert(next.clone()) || next == range_header {
                        return Err(ApiError::PaginationLoop { endpoint: endpoint.to_owned(), next_range: next });
                    }
                    range_header = next;
                }
                _ => return Ok(items),
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
        })?;
        let req = Request { endpoint, url: parsed, accept: "*/*", range: None, authenticated: false, cacheable: false };
        let expected = expected_sha256.trim();
        let verify = |b: &Bytes| {
            let actual = hex::encode(Sha256::digest(b));
            if actual.eq_ignore_ascii_case(expected) {
                Ok(b.clone())
            } else {
                Err(actual)
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
        let r: RateLimit = self.get("GET /account/rate-limits", "/account/rate-limits").await?;
        self.remaining.store(i64::from(r.remaining), Ordering::Relaxed);
        Ok(r.remaining)
    }

    fn count(&self, endpoint: &str, f: impl FnOnce(&mut EndpointStats)) {
        if let Ok(mut stats) = self.stats.lock() {
            f(stats.entry(endpoint.to_owned()).or_default());
        }
    }

    /// Send with retries; `decode` turns a body into the value (a failure is retried, since a
    /// truncated body is a transport fault, not an answer).
    async fn send<R>(
        &self,
        req: &Request<'_>,
        decode: impl Fn(&Bytes) -> Result<R, String>,
    ) -> Result<Page<R>, ApiError> {
        let mut backoff = ExponentialBuilder::default()
            .with_min_delay(self.cfg.backoff_min)
            .with_max_delay(self.cfg.backoff_max)
            .with_max_times(self.cfg.max_retries)
            .with_jitter()
            .build();
        let mut rate_limit_retries = 0usize;
        loop {
            match self.attempt(req, &decode).await {
                Ok(page) => return Ok(page),
                Err(Attempt::Fatal(err)) => return Err(err),
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

    async fn attempt<R>(
        &self,
        req: &Request<'_>,
        decode: &impl Fn(&Bytes) -> Result<R, String>,
    ) -> Result<Page<R>, Attempt> {
        if req.authenticated {
            self.pace().await;
        }
        let _permit = self.in_flight.acquire().await.map_err(|e| {
            Attempt::Fatal(ApiError::Transport { endpoint: req.endpoint.to_owned(), detail: e.to_string() })
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
            let detail = if e.is_timeout() { format!("timed out: {e}") } else { format!("connection failed: {e}") };
            Attempt::Retry(ApiError::Transport { endpoint: req.endpoint.to_owned(), detail: without_url(&detail) })
        };
        let response = builder.send().await.map_err(transport)?;
        let status = response.status();
        let headers = response.headers().clone();
        if let Some(remaining) = header_str(&headers, "ratelimit-remaining").and_then(|v| v.trim().parse::<i64>().ok())
        {
            self.remaining.store(remaining, Ordering::Relaxed);
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
                let value = decode(&Bytes::from(page.body.into_bytes())).map_err(|detail| {
                    Attempt::Fatal(ApiError::Cache {
                        path: "etag cache".into(),
                        detail: format!("cached page does not decode: {detail}"),
                    })
                })?;
                self.count(req.endpoint, |s| {
                    s.not_modified += 1;
                    s.pages += 1;
                });
                return Ok(Page { value, next_range: page.next_range });
            }
            return Err(Attempt::Retry(http_error(req.endpoint, status, &body, request_id)));
        }
        if status.is_success() {
            let value = decode(&body)
                .map_err(|detail| Attempt::Retry(ApiError::Decode { endpoint: req.endpoint.to_owned(), detail }))?;
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
            return Ok(Page { value, next_range });
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

fn decode_json<T: DeserializeOwned>(body: &Bytes) -> Result<T, String> {
    serde_json::from_slice(body).map_err(|e| e.to_string())
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
    }
    let parsed: Option<HerokuError> = serde_json::from_slice(body).ok();
    let id = parsed.as_ref().and_then(|e| e.id.clone());
    let message = parsed
        .and_then(|e| e.message)
        .map(|m| m.replace('\n', " "))
        .unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_owned());
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
        assert_eq!(err.heroku_id(), None);
        assert!(err.to_string().contains("502"), "{err}");
    }

    #[test]
    fn urls_are_cut_out_of_transport_errors() {
        assert_eq!(
            without_url("error sending request for url (http://x/y?sig=abc): reset"),
            "error sending request: reset"
        );
    }
}
