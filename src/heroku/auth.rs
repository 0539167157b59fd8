//! Where the API token comes from, in the order the Heroku CLI looks: `HEROKU_API_KEY`, an
//! explicit token file, then `~/.netrc` (`machine api.heroku.com ... password <token>`).
//!
//! A token is opaque: its shape is never validated (old ones are UUIDs, new ones start `HRKU-`),
//! and its value is never formatted by `Debug` or `Display`.
use std::fmt;
use std::path::{Path, PathBuf};

use super::ApiError;

/// An API token. Its value can only be read by the client that sends it.
#[derive(Clone)]
pub struct Token(String);

impl Token {
    pub fn new(value: impl Into<String>) -> Self {
        Token(value.into())
    }

    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

/// Where a token was found: safe to print, it names the place, never the value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenSource {
    Env,
    File(PathBuf),
    Netrc(PathBuf),
}

impl fmt::Display for TokenSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TokenSource::Env => f.write_str("HEROKU_API_KEY"),
            TokenSource::File(p) => write!(f, "token file {}", p.display()),
            TokenSource::Netrc(p) => write!(f, "{} (machine api.heroku.com)", p.display()),
        }
    }
}

/// Find a token: `env_value` (from `HEROKU_API_KEY`), else `token_file`, else `netrc` for `host`.
pub fn discover_token(
    env_value: Option<String>,
    token_file: Option<&Path>,
    netrc: Option<&Path>,
    host: &str,
) -> Result<(Token, TokenSource), ApiError> {
    if let Some(value) = env_value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()) {
        return Ok((Token(value), TokenSource::Env));
    }
    if let Some(path) = token_file {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ApiError::NoToken { detail: format!("cannot read token file {}: {e}", path.display()) })?;
        let value = text.trim();
        if value.is_empty() {
            return Err(ApiError::NoToken { detail: format!("token file {} is empty", path.display()) });
        }
        return Ok((Token(value.to_owned()), TokenSource::File(path.to_owned())));
    }
    if let Some(path) = netrc {
        if let Ok(text) = std::fs::read_to_string(path) {
            if let Some(value) = netrc_password(&text, host) {
                return Ok((Token(value), TokenSource::Netrc(path.to_owned())));
            }
        }
    }
    Err(ApiError::NoToken {
        detail: format!(
            "set HEROKU_API_KEY, pass --token-file, or log in with the Heroku CLI so ~/.netrc has `machine {host}`"
        ),
    })
}

/// The `password` of `machine <host>` in a netrc file. Tokens are whitespace-separated, so a
/// one-line entry and the multi-line form the Heroku CLI writes both parse.
fn netrc_password(text: &str, host: &str) -> Option<String> {
    let mut words = text.split_whitespace();
    let mut in_machine = false;
    while let Some(word) = words.next() {
        match word {
            "machine" => in_machine = words.next() == Some(host),
            "default" => in_machine = false,
            "password" => {
                let value = words.next()?;
                if in_machine {
                    return Some(value.to_owned());
                }
            }
            "login" | "account" => {
                words.next();
            }
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn netrc_finds_the_password_of_the_right_machine() {
        let text = "machine git.heroku.com\n  login a@b.c\n  password wrong\nmachine api.heroku.com\n  login a@b.c\n  password right\n";
        assert_eq!(netrc_password(text, "api.heroku.com").as_deref(), Some("right"));
        assert_eq!(
            netrc_password("machine api.heroku.com login x password one", "api.heroku.com").as_deref(),
            Some("one")
        );
        assert_eq!(netrc_password("machine other login x password one", "api.heroku.com"), None);
    }

    #[test]
    fn env_wins_over_file_and_netrc() {
        let (token, source) =
            discover_token(Some(" t0k ".into()), Some(Path::new("/nonexistent")), None, "api.heroku.com")
                .expect("env token");
        assert_eq!(token.expose(), "t0k");
        assert_eq!(source, TokenSource::Env);
    }

    #[test]
    fn debug_never_shows_the_value() {
        let token = Token::new("HRKU-very-secret");
        assert!(!format!("{token:?}").contains("very-secret"));
    }

    #[test]
    fn missing_token_says_what_to_do() {
        let err = discover_token(None, None, Some(Path::new("/nonexistent/.netrc")), "api.heroku.com")
            .expect_err("must be refused");
        assert!(err.to_string().contains("HEROKU_API_KEY"), "{err}");
    }
}
