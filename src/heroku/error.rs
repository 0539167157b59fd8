//! Errors of the API client. Each carries what the API said (its error id and message, the
//! `Request-Id` to quote to Heroku support) and never the token: every message built from a
//! response passes through [`crate::redact::redact`] where it is made.
use reqwest::StatusCode;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("no Heroku API token: {detail}")]
    NoToken { detail: String },

    #[error("the API rejected the token (401 unauthorized) at {endpoint}: check that HEROKU_API_KEY (or the token file / ~/.netrc) holds a current token")]
    Unauthorized { endpoint: String },

    /// The API answered with an error status and (usually) Heroku's `{id, message}` body.
    #[error("{endpoint}: HTTP {status}{}: {message}{}", id.as_deref().map(|i| format!(" {i}")).unwrap_or_default(), request_id.as_deref().map(|r| format!(" (Request-Id {r})")).unwrap_or_default())]
    Http { endpoint: String, status: StatusCode, id: Option<String>, message: String, request_id: Option<String> },

    #[error("{endpoint}: {detail}")]
    Transport { endpoint: String, detail: String, timed_out: bool },

    /// A success status whose body is not what the endpoint returns. `detail` names what was
    /// unexpected and never quotes a value from the body.
    #[error("{endpoint}: HTTP {status} but the body was not the JSON expected: {detail}")]
    Decode { endpoint: String, status: u16, detail: String },

    #[error("{endpoint}: pagination loop: the API sent the same Next-Range twice ({next_range}); stopped instead of looping")]
    PaginationLoop { endpoint: String, next_range: String },

    /// A 206 is a page of a longer list; without `Next-Range` the rest cannot be asked for.
    #[error("{endpoint}: HTTP 206 Partial Content without a Next-Range header: the rest of the list cannot be read")]
    MissingNextRange { endpoint: String },

    #[error("{endpoint}: invalid Range or Content-Range header: {detail}")]
    BadRange { endpoint: String, detail: String },

    #[error("{url}: checksum mismatch: expected {expected}, got {actual}")]
    Checksum { url: String, expected: String, actual: String },

    /// `--max-requests` was reached: the read was not sent, so the pool is not spent past it.
    #[error(
        "{endpoint}: not read: the run reached --max-requests {max}; raise it or run again later to read the rest"
    )]
    Budget { endpoint: String, max: u64 },

    #[error("cache {path}: {action}")]
    Cache {
        path: String,
        /// What was being done (`cannot create the cache folder`).
        action: &'static str,
        #[source]
        source: std::io::Error,
    },
}

impl ApiError {
    /// The HTTP status, when the API answered at all.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            ApiError::Http { status, .. } => Some(*status),
            ApiError::Unauthorized { .. } => Some(StatusCode::UNAUTHORIZED),
            ApiError::Decode { status, .. } => StatusCode::from_u16(*status).ok(),
            ApiError::MissingNextRange { .. } => Some(StatusCode::PARTIAL_CONTENT),
            ApiError::Checksum { .. } => Some(StatusCode::OK),
            _ => None,
        }
    }

    /// Heroku's error id (`not_found`, `forbidden`, ...) when the body carried one, else
    /// hkaudit's own for what went wrong, so every gap says why it is there.
    pub fn heroku_id(&self) -> Option<&str> {
        match self {
            ApiError::Http { id: Some(id), .. } => Some(id),
            ApiError::Http { status, .. } if status.is_server_error() => Some("server_error"),
            ApiError::Http { .. } => None,
            ApiError::Unauthorized { .. } => Some("unauthorized"),
            ApiError::PaginationLoop { .. } => Some("pagination_loop"),
            ApiError::MissingNextRange { .. } => Some("missing_next_range"),
            ApiError::Checksum { .. } => Some("checksum_mismatch"),
            ApiError::Decode { .. } => Some("unexpected_body"),
            ApiError::Transport { timed_out: true, .. } => Some("timeout"),
            ApiError::Transport { .. } => Some("connection_failed"),
            ApiError::BadRange { .. } => Some("bad_range"),
            ApiError::Cache { .. } => Some("cache_error"),
            ApiError::Budget { .. } => Some("max_requests"),
            ApiError::NoToken { .. } => Some("no_token"),
        }
    }

    /// A short message for a manifest gap: what went wrong, without the endpoint repeated.
    pub fn gap_message(&self) -> String {
        let text = match self {
            ApiError::Http { message, .. } => message.clone(),
            ApiError::Transport { detail, .. } => detail.clone(),
            ApiError::Decode { status, detail, .. } => {
                format!("HTTP {status} but the body was not the JSON expected: {detail}")
            }
            // A gap's message is read alone, so it carries the causes the binary edge would print.
            other => crate::errors::chain(other),
        };
        crate::redact::redact(&text).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cache_error_keeps_the_io_error_and_its_gap_message_names_the_cause() {
        let err = ApiError::Cache {
            path: "/tmp/cache/page.json".into(),
            action: "cannot write the page",
            source: std::io::Error::new(std::io::ErrorKind::PermissionDenied, "permission denied"),
        };
        let source = std::error::Error::source(&err).map(|s| s.to_string());
        assert_eq!(source.as_deref(), Some("permission denied"));
        assert_eq!(err.gap_message(), "cache /tmp/cache/page.json: cannot write the page: permission denied");
    }
}
