//! Exports of `heroku authorizations --json`: the only way to see other users' OAuth
//! authorizations, because the Platform API lists the caller's own only.
//!
//! The export holds live secrets (`access_token.token`, `refresh_token.token`, `grant.code`). They
//! are never deserialised: [`crate::heroku::models::Authorization`] does not declare them, so they
//! are skipped while the JSON is read and exist nowhere in hkaudit's memory afterwards.
use std::path::Path;

use chrono::{DateTime, Utc};
use polars::prelude::DataFrame;

use super::inputs::{email_norm, file_name, line_of, read_utf8, InputError};
use crate::heroku::models::Authorization;
use crate::snapshot::TableBuilder;

/// One authorization from an export, in the shape of the snapshot's `authorizations` rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportedAuthorization {
    pub id: String,
    pub user_id: Option<String>,
    pub user_email: String,
    pub description: Option<String>,
    pub scopes: Vec<String>,
    pub client_id: Option<String>,
    pub client_name: Option<String>,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
    /// `updated_at` (else `created_at`) + `access_token.expires_in`; `None` = never expires.
    pub expires_at: Option<DateTime<Utc>>,
    /// `export:<file name>`.
    pub source: String,
}

impl ExportedAuthorization {
    pub fn user_email_norm(&self) -> String {
        email_norm(&self.user_email)
    }
}

const HOW_TO_EXPORT: &str = "ask the user to run `heroku authorizations --json > FILE` and pass that file unchanged";

/// Reads one `heroku authorizations --json` file.
pub fn load_authorization_export(path: &Path) -> Result<Vec<ExportedAuthorization>, InputError> {
    let text = read_utf8(path)?;
    if text.trim().is_empty() {
        return Err(InputError::new(path, Some(1), "the file is empty", HOW_TO_EXPORT));
    }
    let parsed: Vec<Authorization> = serde_json::from_str(&text).map_err(|e| {
        let full = e.to_string();
        let detail = full.strip_suffix(&format!(" at line {} column {}", e.line(), e.column())).unwrap_or(&full);
        let what = if e.is_syntax() || e.is_eof() {
            format!("malformed JSON at column {}: {detail}", e.column())
        } else {
            format!("not the JSON array of authorizations that `heroku authorizations --json` prints (column {}): {detail}", e.column())
        };
        InputError::new(path, Some(e.line().max(1)), what, HOW_TO_EXPORT)
    })?;
    let source = format!("export:{}", file_name(path));
    parsed
        .into_iter()
        .enumerate()
        .map(|(index, a)| {
            let user = a.user.as_ref();
            let Some(user_email) = user.and_then(|u| u.email.clone()).filter(|e| !e.trim().is_empty()) else {
                // Best effort: the entry's id is unique in the file, so its first occurrence is the entry.
                let line = text.find(&format!("\"{}\"", a.id)).map(|at| line_of(&text, at));
                return Err(InputError::new(
                    path,
                    line,
                    format!("authorization {} (entry {} of the array) has no `user.email`, so whose token it is is unknown", a.id, index + 1),
                    "`heroku authorizations --json` output includes `user`; export again with that command rather than editing the file",
                ));
            };
            Ok(ExportedAuthorization {
                expires_at: a.expires_at(),
                user_id: user.and_then(|u| u.id.clone()),
                user_email,
                description: a.description,
                scopes: a.scope,
                client_id: a.client.as_ref().and_then(|c| c.id.clone()),
                client_name: a.client.as_ref().and_then(|c| c.name.clone()),
                created_at: a.created_at,
                updated_at: a.updated_at,
                id: a.id,
                source: source.clone(),
            })
        })
        .collect()
}

/// The rows as the snapshot's `authorizations` table (same columns, `source = export:<file>`).
pub fn authorizations_frame(rows: &[ExportedAuthorization]) -> Result<DataFrame, InputError> {
    TableBuilder::new()
        .str("id", rows.iter().map(|a| Some(&a.id)))
        .str("user_id", rows.iter().map(|a| a.user_id.as_ref()))
        .str("user_email", rows.iter().map(|a| Some(&a.user_email)))
        .str("user_email_norm", rows.iter().map(|a| Some(a.user_email_norm())))
        .str("description", rows.iter().map(|a| a.description.as_ref()))
        .list("scopes", rows.iter().map(|a| a.scopes.clone()))
        .str("client_id", rows.iter().map(|a| a.client_id.as_ref()))
        .str("client_name", rows.iter().map(|a| a.client_name.as_ref()))
        .time("created_at", rows.iter().map(|a| a.created_at))
        .time("updated_at", rows.iter().map(|a| a.updated_at))
        .time("expires_at", rows.iter().map(|a| a.expires_at))
        .str("source", rows.iter().map(|a| Some(&a.source)))
        .build("authorizations")
        .map_err(|e| InputError::table("authorizations", e))
}
