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

/// The export's array, or the line and a description of what is wrong with it.
///
/// The description never quotes a value from the file: serde's own "invalid type: string
/// \"…\"" would print a token that sits where the `access_token` object belongs. It names the
/// entry, the field and the JSON types instead ([`crate::heroku::decode::describe`]), and the
/// result still passes the redaction step.
fn parse_export(text: &str) -> Result<Vec<Authorization>, (usize, String)> {
    let mut de = serde_json::Deserializer::from_str(text);
    let err = match serde_path_to_error::deserialize::<_, Vec<Authorization>>(&mut de) {
        Ok(parsed) => match de.end() {
            Ok(()) => return Ok(parsed),
            Err(e) => {
                return Err((e.line().max(1), format!("malformed JSON at column {}: text after the array", e.column())))
            }
        },
        Err(err) => err,
    };
    let inner = err.inner();
    let line = inner.line().max(1);
    let what = if inner.is_syntax() || inner.is_eof() {
        let full = inner.to_string();
        let detail =
            full.strip_suffix(&format!(" at line {} column {}", inner.line(), inner.column())).unwrap_or(&full);
        format!("malformed JSON at column {}: {detail}", inner.column())
    } else {
        let value: serde_json::Value = serde_json::from_str(text).unwrap_or(serde_json::Value::Null);
        let described = crate::heroku::decode::describe(err.path(), inner, &value);
        format!(
            "not the JSON array of authorizations that `heroku authorizations --json` prints (column {}): {described}",
            inner.column()
        )
    };
    Err((line, crate::redact::redact(&what).into_owned()))
}

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
    let parsed: Vec<Authorization> =
        parse_export(&text).map_err(|(line, what)| InputError::new(path, Some(line), what, HOW_TO_EXPORT))?;
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
                    format!(
                        "authorization {} (entry {} of the array) has no `user.email`, so whose token it is is unknown",
                        a.id,
                        index + 1
                    ),
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    const SECRETS: [&str; 3] = ["HRKU-PLANTED-ACCESS-1", "PLANTED-REFRESH-2", "PLANTED-GRANT-3"];

    fn export_json(user: &str) -> String {
        format!(
            r#"[
  {{
    "access_token": {{"expires_in": 28800, "id": "tok-1", "token": "{}"}},
    "client": {{"id": "cli-1", "name": "Terraform", "redirect_uri": "https://example.invalid/cb"}},
    "created_at": "2025-01-01T00:00:00Z",
    "description": "terraform",
    "grant": {{"code": "{}", "expires_in": 300, "id": "gr-1"}},
    "id": "auth-1",
    "refresh_token": {{"expires_in": null, "id": "ref-1", "token": "{}"}},
    "scope": ["global"],
    "session": null,
    "updated_at": "2025-02-01T00:00:00Z"{user}
  }},
  {{
    "access_token": {{"expires_in": null, "id": "tok-2", "token": "x"}},
    "client": null,
    "created_at": "2024-06-01T12:00:00Z",
    "description": "Long-lived user authorization",
    "id": "auth-2",
    "scope": ["read", "write"],
    "updated_at": "2024-06-01T12:00:00Z"{user}
  }}
]"#,
            SECRETS[0], SECRETS[1], SECRETS[2]
        )
    }

    const USER: &str = r#",
    "user": {"email": "Dev.One@Acme.example", "full_name": "Dev One", "id": "user-1"}"#;

    fn write(name: &str, text: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join(name);
        std::fs::write(&path, text).expect("write");
        (dir, path)
    }

    #[test]
    fn export_rows_have_owner_scopes_client_and_expiry() {
        let (_dir, path) = write("dev-one.json", &export_json(USER));
        let rows = load_authorization_export(&path).expect("parses");
        assert_eq!(rows.len(), 2);
        let first = &rows[0];
        assert_eq!(first.user_email_norm(), "dev.one@acme.example");
        assert_eq!(first.user_id.as_deref(), Some("user-1"));
        assert_eq!(first.client_name.as_deref(), Some("Terraform"));
        assert_eq!(first.source, "export:dev-one.json");
        assert_eq!(first.expires_at, None, "a refresh token renews the access token: the authorization does not lapse");
        assert_eq!(rows[1].expires_at, None, "no expires_in means the token never expires");
        assert_eq!(rows[1].scopes, ["read", "write"]);
    }

    #[test]
    fn secrets_in_an_export_do_not_survive_reading() {
        let (_dir, path) = write("dev-one.json", &export_json(USER));
        let rows = load_authorization_export(&path).expect("parses");
        let frame = authorizations_frame(&rows).expect("frame");
        let shown = format!("{rows:?}\n{frame:?}");
        for column in frame.columns() {
            let values = format!("{:?}", column.as_materialized_series());
            for secret in SECRETS {
                assert!(!values.contains(secret), "{secret} in column {}", column.name());
            }
        }
        for secret in SECRETS {
            assert!(!shown.contains(secret), "{secret} survived: {shown}");
        }
    }

    #[test]
    fn frame_has_the_snapshot_authorizations_columns() {
        let (_dir, path) = write("dev-one.json", &export_json(USER));
        let frame = authorizations_frame(&load_authorization_export(&path).expect("parses")).expect("frame");
        let names: Vec<&str> = frame.get_column_names().iter().map(|n| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "id",
                "user_id",
                "user_email",
                "user_email_norm",
                "description",
                "scopes",
                "client_id",
                "client_name",
                "created_at",
                "updated_at",
                "expires_at",
                "source"
            ]
        );
        assert_eq!(frame.height(), 2);
        let empty = authorizations_frame(&[]).expect("empty frame keeps its schema");
        assert_eq!(empty.width(), 12);
    }

    #[test]
    fn export_without_user_is_refused_naming_the_command_and_file() {
        let (_dir, path) = write("anon.json", &export_json(""));
        let err = load_authorization_export(&path).expect_err("must fail");
        let shown = err.to_string();
        assert!(shown.contains("anon.json"), "{shown}");
        assert!(shown.contains("heroku authorizations --json"), "{shown}");
        assert!(shown.contains("auth-1"), "{shown}");
        // The line of the entry's id.
        assert_eq!(err.line(), Some(8), "{shown}");
    }

    #[test]
    fn malformed_json_gives_file_line_and_column() {
        let (_dir, path) = write("broken.json", "[\n  {\"id\": \"a\",\n   \"scope\": [\"global\",]\n  }\n]\n");
        let err = load_authorization_export(&path).expect_err("must fail");
        let shown = err.to_string();
        assert_eq!(err.line(), Some(3), "{shown}");
        assert!(shown.contains("broken.json:3:"), "{shown}");
        assert!(shown.contains("column"), "{shown}");
        assert!(shown.contains("heroku authorizations --json"), "{shown}");
    }

    #[test]
    fn a_token_where_the_access_token_object_belongs_is_never_quoted() {
        let planted = "HRKU-PLANTED-EXPORT-SECRET-7";
        for (shape, text) in [
            (
                "string access_token",
                format!(r#"[{{"id":"a1","access_token":"{planted}","user":{{"email":"a@b.c"}}}}]"#),
            ),
            (
                "string refresh_token",
                format!(r#"[{{"id":"a1","refresh_token":"{planted}","user":{{"email":"a@b.c"}}}}]"#),
            ),
            ("token as id", format!(r#"[{{"id":{{"token":"{planted}"}},"user":{{"email":"a@b.c"}}}}]"#)),
            ("uuid token as scope", r#"[{"id":"a1","scope":"01234567-89ab-cdef-0123-456789abcdef"}]"#.to_owned()),
        ] {
            let (_dir, path) = write("shape.json", &text);
            let err = load_authorization_export(&path).expect_err(shape);
            let shown = format!("{err} {err:?}");
            assert!(!shown.contains(planted), "{shape}: {shown}");
            assert!(!shown.contains("01234567-89ab-cdef-0123-456789abcdef"), "{shape}: {shown}");
            assert!(shown.contains("heroku authorizations --json"), "{shape}: {shown}");
        }
        let (_dir, path) =
            write("one.json", &format!(r#"[{{"id":"a1","access_token":"{planted}","user":{{"email":"a@b.c"}}}}]"#));
        let shown = load_authorization_export(&path).expect_err("refused").to_string();
        assert!(shown.contains("`[0].access_token` is a string"), "names the entry and field: {shown}");
    }

    #[test]
    fn an_object_instead_of_the_array_is_explained() {
        let (_dir, path) = write("one.json", "{\"id\": \"a\"}");
        let err = load_authorization_export(&path).expect_err("must fail");
        assert!(err.to_string().contains("not the JSON array of authorizations"), "{err}");
    }
}
