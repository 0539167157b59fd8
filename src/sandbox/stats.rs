//! Request counters per endpoint template, so a benchmark can compare what a client asked for
//! with what a naive plan would have cost, and a test can see which faults actually fired.
use std::collections::BTreeMap;

use serde::Serialize;

/// Counts for the whole run. Serializes as one JSON object (`hkaudit sandbox --stats`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    pub total: EndpointStats,
    /// Keyed by method and template, e.g. `"GET /teams/{team}/members"`.
    pub endpoints: BTreeMap<String, EndpointStats>,
}

impl Stats {
    /// The counts of one template (zero when it was never requested).
    pub fn endpoint(&self, template: &str) -> EndpointStats {
        self.endpoints.get(template).cloned().unwrap_or_default()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct EndpointStats {
    pub requests: u64,
    pub status: StatusCounts,
    pub faults: FaultCounts,
}

/// Responses by status class; a reset or stalled request has none.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct StatusCounts {
    #[serde(rename = "200")]
    pub ok: u64,
    #[serde(rename = "206")]
    pub partial: u64,
    #[serde(rename = "304")]
    pub not_modified: u64,
    /// 4xx other than 429.
    #[serde(rename = "4xx")]
    pub client_error: u64,
    #[serde(rename = "429")]
    pub rate_limited: u64,
    #[serde(rename = "5xx")]
    pub server_error: u64,
    /// Anything else (none today; kept so totals always add up).
    pub other: u64,
}

/// Faults injected, by kind.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FaultCounts {
    pub latency: u64,
    pub error: u64,
    pub burst_429: u64,
    pub reset: u64,
    pub truncate: u64,
    pub stall: u64,
    pub delete_app: u64,
    pub pagination_loop: u64,
    pub forbid_team: u64,
    pub html_200: u64,
    pub reset_mid_body: u64,
    pub wrong_content_type: u64,
    pub malformed_200: u64,
    pub missing_next_range: u64,
    pub deny_after: u64,
    pub quirk: u64,
    pub replay: u64,
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum Fault {
    Latency,
    Error,
    Burst429,
    Reset,
    Truncate,
    Stall,
    DeleteApp,
    PaginationLoop,
    ForbidTeam,
    Html200,
    ResetMidBody,
    WrongContentType,
    Malformed200,
    MissingNextRange,
    DenyAfter,
    Quirk,
    Replay,
}

impl FaultCounts {
    fn bump(&mut self, fault: Fault) {
        let slot = match fault {
            Fault::Latency => &mut self.latency,
            Fault::Error => &mut self.error,
            Fault::Burst429 => &mut self.burst_429,
            Fault::Reset => &mut self.reset,
            Fault::Truncate => &mut self.truncate,
            Fault::Stall => &mut self.stall,
            Fault::DeleteApp => &mut self.delete_app,
            Fault::PaginationLoop => &mut self.pagination_loop,
            Fault::ForbidTeam => &mut self.forbid_team,
            Fault::Html200 => &mut self.html_200,
            Fault::ResetMidBody => &mut self.reset_mid_body,
            Fault::WrongContentType => &mut self.wrong_content_type,
            Fault::Malformed200 => &mut self.malformed_200,
            Fault::MissingNextRange => &mut self.missing_next_range,
            Fault::DenyAfter => &mut self.deny_after,
            Fault::Quirk => &mut self.quirk,
            Fault::Replay => &mut self.replay,
        };
        *slot += 1;
    }
}

impl StatusCounts {
    fn bump(&mut self, status: u16) {
        let slot = match status {
            200 => &mut self.ok,
            206 => &mut self.partial,
            304 => &mut self.not_modified,
            429 => &mut self.rate_limited,
            400..=499 => &mut self.client_error,
            500..=599 => &mut self.server_error,
            _ => &mut self.other,
        };
        *slot += 1;
    }
}

impl Stats {
    pub(crate) fn request(&mut self, template: &str) {
        self.total.requests += 1;
        self.endpoints.entry(template.to_string()).or_default().requests += 1;
    }

    pub(crate) fn status(&mut self, template: &str, status: u16) {
        self.total.status.bump(status);
        self.endpoints.entry(template.to_string()).or_default().status.bump(status);
    }

    pub(crate) fn fault(&mut self, template: &str, fault: Fault) {
        self.total.faults.bump(fault);
        self.endpoints.entry(template.to_string()).or_default().faults.bump(fault);
    }
}
