//! The one redaction step every message built from a response or an input file passes through
//! before it is logged, printed or stored (gap messages in `manifest.json`, API error text, log
//! lines, the CLI's error line).
//!
//! Why a text filter and not only "never format a secret": the API and outside files are not
//! ours. A server error that echoes the request's `Authorization` header, a proxy page that
//! quotes a token, or an export with a token where an object belongs would otherwise reach a file
//! through a message nobody thought of as secret-bearing. What is removed:
//! - anything shaped like a Heroku token: `HRKU-…`;
//! - credentials after `Bearer` / `Basic`, and any `Authorization` header value;
//! - the value in a token position: after a key ending in `token`, `secret`, `password`,
//!   `api_key` / `apikey` (as in `"access_token": "…"`, `HEROKU_API_KEY=…`, netrc's
//!   `password …`), and a quoted `"code"` (an OAuth grant code), whatever the value looks like
//!   (UUID-shaped tokens included).
//!
//! Ids, emails and team names are left alone: they are what makes a message useful.
use std::borrow::Cow;

/// What a removed secret is replaced with.
pub const REDACTED: &str = "<redacted>";

/// `text` with every secret-shaped value replaced by [`REDACTED`].
pub fn redact(text: &str) -> Cow<'_, str> {
    if !might_hold_secret(text) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let bytes = text.as_bytes();
    let lower = text.to_ascii_lowercase();
    let lower = lower.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if let Some(end) = secret_at(bytes, lower, i, &out) {
            // `secret_at` returns where the secret value starts and ends; copy what precedes it.
            let (value_start, value_end) = end;
            out.push_str(&text[i..value_start]);
            out.push_str(REDACTED);
            i = value_end;
            continue;
        }
        let ch = text[i..].chars().next().unwrap_or(' ');
        out.push(ch);
        i += ch.len_utf8();
    }
    Cow::Owned(out)
}

/// A cheap pre-check so the common message (no secret anywhere) is not copied.
fn might_hold_secret(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    ["hrku-", "bearer", "basic", "authorization", "token", "secret", "password", "api_key", "apikey", "\"code\""]
        .iter()
        .any(|needle| lower.contains(needle))
}

/// Characters a credential is made of (tokens, UUIDs, base64).
fn is_value_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'+' | b'/' | b'=')
}

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

fn starts_with_at(lower: &[u8], at: usize, needle: &str) -> bool {
    lower.get(at..at + needle.len()) == Some(needle.as_bytes())
}

/// The extent of a run of value characters from `at`.
fn value_end(bytes: &[u8], at: usize) -> usize {
    let mut end = at;
    while end < bytes.len() && is_value_char(bytes[end]) {
        end += 1;
    }
    end
}

/// If a secret starts being recognisable at `i`, the byte range of its value.
fn secret_at(bytes: &[u8], lower: &[u8], i: usize, out: &str) -> Option<(usize, usize)> {
    let word_start = i == 0 || !is_word(bytes[i - 1]);
    // A Heroku token, wherever it appears.
    if starts_with_at(lower, i, "hrku-") && word_start {
        let end = value_end(bytes, i);
        if end > i + 5 {
            return Some((i, end));
        }
    }
    // `Bearer X` / `Basic X`.
    for scheme in ["bearer ", "basic "] {
        if word_start && starts_with_at(lower, i, scheme) {
            let mut start = i + scheme.len();
            while start < bytes.len() && bytes[start] == b' ' {
                start += 1;
            }
            let end = value_end(bytes, start);
            if end > start && !out.ends_with(REDACTED) && &bytes[start..end] != REDACTED.as_bytes() {
                return Some((start, end));
            }
        }
    }
    // `Authorization: anything up to the end of the line or the quote that ends the value`.
    if word_start && starts_with_at(lower, i, "authorization") {
        let key_end = i + "authorization".len();
        if let Some(start) = separator_end(bytes, key_end, false) {
            let mut end = start;
            while end < bytes.len() && !matches!(bytes[end], b'\n' | b'\r' | b'"' | b'\'' | b',' | b'}' | b';') {
                end += 1;
            }
            if end > start && !text_is_redacted(&bytes[start..end]) {
                return Some((start, end));
            }
        }
    }
    // A key in a token position: `…token`, `…secret`, `…password`, `…api_key`, quoted `"code"`.
    for key in ["token", "secret", "password", "api_key", "apikey", "api-key"] {
        if starts_with_at(lower, i, key) {
            let key_end = i + key.len();
            if key_end < bytes.len() && is_word(bytes[key_end]) {
                continue;
            }
            let allow_space = key == "password";
            if let Some(start) = separator_end(bytes, key_end, allow_space) {
                let end = value_end(bytes, start);
                if end > start && !text_is_redacted(&bytes[start..end]) {
                    return Some((start, end));
                }
            }
        }
    }
    if starts_with_at(lower, i, "\"code\"") {
        if let Some(start) = separator_end(bytes, i + "\"code\"".len(), false) {
            let end = value_end(bytes, start);
            if end > start {
                return Some((start, end));
            }
        }
    }
    None
}

fn text_is_redacted(value: &[u8]) -> bool {
    value.starts_with(REDACTED.as_bytes()) || value.starts_with(b"<redacted")
}

/// After a key: an optional closing quote, spaces, `:` or `=` (or, for netrc's `password`, just
/// spaces), spaces and an optional opening quote. Where the value starts, if this is a key.
fn separator_end(bytes: &[u8], mut at: usize, allow_space: bool) -> Option<usize> {
    if at < bytes.len() && matches!(bytes[at], b'"' | b'\'') {
        at += 1;
    }
    let spaces_from = at;
    while at < bytes.len() && bytes[at] == b' ' {
        at += 1;
    }
    if at < bytes.len() && matches!(bytes[at], b':' | b'=') {
        at += 1;
    } else if !(allow_space && at > spaces_from) {
        return None;
    }
    while at < bytes.len() && bytes[at] == b' ' {
        at += 1;
    }
    if at < bytes.len() && matches!(bytes[at], b'"' | b'\'') {
        at += 1;
    }
    Some(at)
}

/// A `tracing` writer that sends every log line through [`redact`] on its way to stderr, so a
/// field nobody thought of as secret-bearing cannot carry a token into a log.
#[derive(Clone, Copy, Default)]
pub struct RedactingStderr;

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for RedactingStderr {
    type Writer = RedactingWriter<std::io::Stderr>;

    fn make_writer(&'a self) -> Self::Writer {
        RedactingWriter(std::io::stderr())
    }
}

/// Redacts each write. `tracing`'s formatter writes one whole event per call, so a secret is
/// never split across two writes.
pub struct RedactingWriter<W>(pub W);

impl<W: std::io::Write> std::io::Write for RedactingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        self.0.write_all(redact(&text).as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heroku_tokens_are_removed_wherever_they_are() {
        assert_eq!(redact("token HRKU-abc_DEF-123 was rejected"), "token <redacted> was rejected");
        assert_eq!(redact("x=HRKU-1"), "x=<redacted>");
    }

    #[test]
    fn authorization_values_are_removed() {
        assert_eq!(redact("Authorization: Bearer 01234567-89ab-cdef-0123-456789abcdef"), "Authorization: <redacted>");
        assert_eq!(
            redact(r#"{"message":"bad header authorization=Basic dXNlcjpwYXNz, retry"}"#),
            r#"{"message":"bad header authorization=<redacted>, retry"}"#
        );
        assert_eq!(redact("sent bearer abc.def"), "sent bearer <redacted>");
    }

    #[test]
    fn values_in_token_positions_are_removed_even_when_they_look_like_ids() {
        let uuid = "01234567-89ab-cdef-0123-456789abcdef";
        assert_eq!(redact(&format!(r#""access_token": "{uuid}""#)), r#""access_token": "<redacted>""#);
        assert_eq!(redact(&format!("HEROKU_API_KEY={uuid}")), "HEROKU_API_KEY=<redacted>");
        assert_eq!(
            redact(&format!("machine api.heroku.com password {uuid}")),
            "machine api.heroku.com password <redacted>"
        );
        assert_eq!(redact(r#"{"code":"abc-123","expires_in":60}"#), r#"{"code":"<redacted>","expires_in":60}"#);
        assert_eq!(redact("client_secret='s3cr3t'"), "client_secret='<redacted>'");
    }

    #[test]
    fn ordinary_messages_are_unchanged() {
        for text in [
            "team acme-payments (01234567-89ab-cdef-0123-456789abcdef): 403 forbidden",
            "You do not have access to the team acme-core.",
            "tokens are never logged",
            "the access_token object is missing",
            "member ada@acme.test has no two_factor_authentication",
        ] {
            assert_eq!(redact(text), text);
        }
    }

    #[test]
    fn redacting_twice_changes_nothing_more() {
        let once = redact("Authorization: Bearer HRKU-x token=y").into_owned();
        assert_eq!(redact(&once), once);
        assert!(!once.contains("HRKU-x") && !once.contains("=y"), "{once}");
    }

    #[test]
    fn the_log_writer_redacts() {
        use std::io::Write;
        let mut w = RedactingWriter(Vec::new());
        w.write_all(b"debug: sent Authorization: Bearer HRKU-zz\n").expect("write");
        assert_eq!(String::from_utf8(w.0).expect("utf8"), "debug: sent Authorization: <redacted>\n");
    }
}
