//! Errors of the API client. Each carries what the API said (its error id and message, the
//! `Request-Id` to quote to Heroku support) and never the token.
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
    Transport { endpoint: String, detail: String },

    #[error("{endpoint}: the response was not the JSON expected: {detail}")]
    Decode { endpoint: String, detail: String },

    #[error("{endpoint}: pagination loop: the API sent the same Next-Range twice ({next_range}); stopped instead of looping")]
    PaginationLoop { endpoint: String, next_range: String },

    #[error("{endpoint}: invalid Range or Content-Range header: {detail}")]
    BadRange { endpoint: String, detail: String },

    #[error("{url}: checksum mismatch: expected {expected}, got {actual}")]
    Checksum { url: String, expected: String, actual: String },

    #[error("cache {path}: {detail}")]
    Cache { path: String, detail: String },
}

impl ApiError {
    /// The HTTP status, when the API answered at all.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            ApiError::Http { status, .. } => Some(*status),
            ApiError::Unauthorized { .. } => Some(StatusCode::UNAUTHORIZED),
            _ => None,
        }
    }

    /// Heroku's error id (`not_found`, `forbidden`, ...), when the body carried one.
    pub fn heroku_id(&self) -> Option<&str> {
        match self {
            ApiError::Http { id, .. } => id.as_deref(),
            ApiError::Unauthorized { .. } => Some("unauthorized"),
            ApiError::PaginationLoop { .. } => Some("pagination_loop"),
            ApiError::Checksum { .. } => Some("checksum_mismatch"),
            _ => None,
        }
    }

    /// A short message for a manifest gap: what went wrong, without the endpoint repeated.
    pub fn gap_message(&self) -> String {
        match self {
            ApiError::Http { message, .. } => message.clone(),
            ApiError::Transport { detail, .. } | ApiError::Decode { detail, .. } => detail.clone(),
            other => other.to_string(),
        }
    }
}
