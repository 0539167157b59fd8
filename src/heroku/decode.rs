//! Reading response bodies so that one odd object never costs more than itself.
//!
//! A list page is decoded element by element: an element whose optional field has an unexpected
//! type keeps everything else (that field reads as null, and the problem is reported); an element
//! that cannot be identified at all (no id, or whatever identifies that resource) is skipped and
//! reported; the rest of the page is kept. A body that is not JSON at all is told apart from one
//! that was cut short (a transport fault, worth retrying) and from well-formed JSON of the wrong
//! shape (an answer: retrying cannot change it).
//!
//! Error text never quotes a value from the body: serde's "invalid type: string \"…\"" would
//! copy a token into a gap message when a token string arrives where the `access_token` object
//! belongs. [`describe`] names the field, what was expected and the JSON type found instead.
use serde::de::DeserializeOwned;
use serde_json::Value;

/// A resource read from a list. `missing_identity` says what is missing when an element decoded
/// but cannot be told apart from others (no id, no email): such an element is skipped.
pub trait Element: DeserializeOwned {
    fn missing_identity(&self) -> Option<&'static str> {
        None
    }
}

/// Something about one element that could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElementProblem {
    /// Position in the whole list (across pages), from 0.
    pub index: usize,
    /// JSON path of what could not be read, from the element: `$[3]`, `$[3].two_factor_authentication`.
    pub path: String,
    /// The element's name, email or id when it has one, for people reading the gap.
    pub label: Option<String>,
    /// What was wrong, never quoting a value.
    pub what: String,
    /// True when the element was left out; false when only the field at `path` reads as null.
    pub skipped: bool,
}

impl ElementProblem {
    /// One line for a gap message: what, which element, and what was done about it.
    pub fn message(&self, resource: &str) -> String {
        let who = match &self.label {
            Some(label) => format!("{resource} {label} ({})", self.path_root()),
            None => format!("{resource} at {}", self.path_root()),
        };
        if self.skipped {
            format!("{who} could not be read and was left out: {}", self.what)
        } else {
            format!("{who}: {}; that field is stored as null", self.what)
        }
    }

    fn path_root(&self) -> String {
        format!("$[{}]", self.index)
    }
}

/// Why a 2xx body could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyError {
    /// The JSON ends early: a cut transfer, worth retrying.
    Cut(String),
    /// Not JSON at all (an HTML error page, a proxy's answer).
    NotJson(String),
    /// Well-formed JSON that is not what the endpoint returns (an envelope, an object where a
    /// list belongs). Retrying gives the same answer.
    WrongShape(String),
}

impl BodyError {
    pub fn detail(&self) -> &str {
        match self {
            BodyError::Cut(d) | BodyError::NotJson(d) | BodyError::WrongShape(d) => d,
        }
    }
}

/// Parse a body as JSON, telling a cut body from one that is not JSON.
pub fn parse(body: &[u8]) -> Result<Value, BodyError> {
    serde_json::from_slice::<Value>(body).map_err(|e| {
        if e.is_eof() {
            BodyError::Cut(format!("the body ends early ({} bytes): {}", body.len(), without_position(&e)))
        } else {
            let start = body.iter().find(|b| !b.is_ascii_whitespace()).copied();
            let looks = match start {
                Some(b'<') => "an HTML or XML page",
                None => "an empty body",
                _ => "text that is not JSON",
            };
            BodyError::NotJson(format!("the body is {looks}, not JSON ({})", syntax_kind(&e)))
        }
    })
}

/// serde_json's message without " at line L column C" (the caller knows where).
fn without_position(e: &serde_json::Error) -> String {
    let full = e.to_string();
    full.strip_suffix(&format!(" at line {} column {}", e.line(), e.column())).unwrap_or(&full).to_owned()
}

/// The category of a syntax error, which never holds a value.
fn syntax_kind(e: &serde_json::Error) -> String {
    format!("syntax error at line {} column {}", e.line(), e.column())
}

/// Decode a whole list page: a JSON array, element by element.
pub fn list_page<T: Element>(body: &[u8], first_index: usize) -> Result<(Vec<T>, Vec<ElementProblem>), BodyError> {
    let value = parse(body)?;
    let Value::Array(elements) = value else {
        return Err(BodyError::WrongShape(format!("expected a JSON array, got {}", shape_of(&value))));
    };
    let mut items = Vec::with_capacity(elements.len());
    let mut problems = Vec::new();
    for (offset, element) in elements.into_iter().enumerate() {
        let index = first_index + offset;
        let label = label_of(&element);
        match element_lenient::<T>(element) {
            Ok((item, nulled)) => {
                if let Some(missing) = item.missing_identity() {
                    problems.push(ElementProblem {
                        index,
                        path: format!("$[{index}]"),
                        label,
                        what: missing.to_owned(),
                        skipped: true,
                    });
                    continue;
                }
                problems.extend(nulled.into_iter().map(|(path, what)| ElementProblem {
                    index,
                    path: format!("$[{index}]{path}"),
                    label: label.clone(),
                    what,
                    skipped: false,
                }));
                items.push(item);
            }
            Err((path, what)) => {
                problems.push(ElementProblem { index, path: format!("$[{index}]{path}"), label, what, skipped: true })
            }
        }
    }
    Ok((items, problems))
}

/// Decode one object (a `GET` of a single resource): wrong shapes are errors, never retried.
pub fn single<T: DeserializeOwned>(body: &[u8]) -> Result<T, BodyError> {
    let value = parse(body)?;
    if !value.is_object() {
        return Err(BodyError::WrongShape(format!("expected a JSON object, got {}", shape_of(&value))));
    }
    let copy = value.clone();
    serde_path_to_error::deserialize::<_, T>(value)
        .map_err(|e| BodyError::WrongShape(describe(e.path(), e.inner(), &copy)))
}

/// Decode an element; a field that fails is set to null and decoding retried, so only a field
/// the model cannot do without (its identity) makes the element unreadable. Returns the nulled
/// fields (path, what was wrong), or the path and reason the element could not be read.
#[allow(clippy::type_complexity)]
pub fn element_lenient<T: DeserializeOwned>(mut value: Value) -> Result<(T, Vec<(String, String)>), (String, String)> {
    let mut nulled: Vec<(Vec<Segment>, String)> = Vec::new();
    // Each round nulls one more value; an object has few fields, so this is bounded.
    for _ in 0..32 {
        let err = match serde_path_to_error::deserialize::<_, T>(value.clone()) {
            Ok(item) => {
                return Ok((item, nulled.into_iter().map(|(segs, what)| (render(&segs), what)).collect()));
            }
            Err(err) => err,
        };
        let failed = segments(err.path());
        // A "missing field" error is reported at the object that lacks the field, any other at
        // the field itself: either way that value is what to give up on. When null is not
        // acceptable there either (a required field), give up on the enclosing value instead.
        let mut target = segments(err.path());
        while !target.is_empty() && nulled.iter().any(|(p, _)| *p == target) {
            target.pop();
        }
        // A required field forgotten in an earlier round now reads as missing: report why it
        // was forgotten, at its own path.
        let mut failed = failed;
        if let Some(name) = missing_field(err.inner()) {
            let mut forgotten = failed.clone();
            forgotten.push(Segment::Key(name));
            if nulled.iter().any(|(p, _)| *p == forgotten) {
                failed = forgotten;
            }
        }
        let first_reason = nulled.iter().find(|(p, _)| *p == failed).map(|(_, w)| w.clone());
        let what = first_reason.unwrap_or_else(|| describe(err.path(), err.inner(), &value));
        if target.is_empty() || !set_null(&mut value, &target) {
            return Err((render(&failed), what));
        }
        nulled.push((target, what));
    }
    Err((String::new(), "too many fields could not be read".to_owned()))
}

/// The field name of serde's "missing field `x`".
fn missing_field(err: &serde_json::Error) -> Option<String> {
    let text = err.to_string();
    let rest = text.strip_prefix("missing field `")?;
    rest.split('`').next().map(str::to_owned)
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Key(String),
    Index(usize),
}

fn segments(path: &serde_path_to_error::Path) -> Vec<Segment> {
    path.iter()
        .filter_map(|s| match s {
            serde_path_to_error::Segment::Map { key } => Some(Segment::Key(key.clone())),
            serde_path_to_error::Segment::Seq { index } => Some(Segment::Index(*index)),
            _ => None,
        })
        .collect()
}

fn render(segments: &[Segment]) -> String {
    segments
        .iter()
        .map(|s| match s {
            Segment::Key(k) => format!(".{k}"),
            Segment::Index(i) => format!("[{i}]"),
        })
        .collect()
}

fn lookup<'v>(value: &'v Value, segments: &[Segment]) -> Option<&'v Value> {
    segments.iter().try_fold(value, |v, s| match s {
        Segment::Key(k) => v.get(k),
        Segment::Index(i) => v.get(i),
    })
}

/// Forget the value at `segments`: a key is removed (so an optional field reads as absent,
/// unknown, rather than as an explicit null), a list item becomes null. False when there is
/// nothing there to forget.
fn set_null(value: &mut Value, segments: &[Segment]) -> bool {
    let Some((last, parents)) = segments.split_last() else { return false };
    let mut at = value;
    for s in parents {
        let next = match s {
            Segment::Key(k) => at.get_mut(k),
            Segment::Index(i) => at.get_mut(*i),
        };
        match next {
            Some(v) => at = v,
            None => return false,
        }
    }
    match last {
        Segment::Key(k) => at.as_object_mut().and_then(|o| o.remove(k)).is_some(),
        Segment::Index(i) => match at.get_mut(*i) {
            Some(v) if !v.is_null() => {
                *v = Value::Null;
                true
            }
            _ => false,
        },
    }
}

/// The JSON type of a value, for messages: never the value itself.
pub fn shape_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(map) if map.len() == 1 && map.contains_key("data") => "an object wrapping `data`",
        Value::Object(_) => "an object",
    }
}

/// A serde error as a message that names the field and the types, never the value.
pub fn describe(path: &serde_path_to_error::Path, err: &serde_json::Error, value: &Value) -> String {
    let segs = segments(path);
    let field =
        if segs.is_empty() { "the object".to_owned() } else { format!("`{}`", render(&segs).trim_start_matches('.')) };
    let text = err.to_string();
    if let Some(rest) = text.strip_prefix("missing field ") {
        let name = rest.split_whitespace().next().unwrap_or(rest);
        return if segs.is_empty() {
            format!("required field {name} is missing")
        } else {
            format!("{field} lacks required field {name}")
        };
    }
    let found = lookup(value, &segs).map(shape_of).unwrap_or("nothing");
    // serde's messages read "invalid type: <what was found>, expected <what>": only the part
    // after "expected" comes from the model, so it is the only part quoted.
    match text.split_once(", expected ") {
        Some((_, expected)) => {
            let expected = expected.split(" at line ").next().unwrap_or(expected);
            format!("{field} is {found} where {expected} was expected")
        }
        None => format!("{field} ({found}) could not be read"),
    }
}

/// A name, email or id to show for an element in messages.
fn label_of(value: &Value) -> Option<String> {
    let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_owned);
    text(value.get("name"))
        .or_else(|| text(value.get("email")))
        .or_else(|| text(value.get("user").and_then(|u| u.get("email"))))
        .or_else(|| text(value.get("id")))
        .map(|l| crate::redact::redact(&l).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize, PartialEq)]
    struct Token {
        #[serde(default)]
        id: Option<String>,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    struct Thing {
        id: String,
        #[serde(default)]
        flag: Option<bool>,
        #[serde(default)]
        access_token: Option<Token>,
    }

    impl Element for Thing {}

    #[test]
    fn a_wrong_optional_field_reads_as_null_and_the_rest_is_kept() {
        let body = br#"[{"id":"a","flag":"yes"},{"id":"b","flag":true}]"#;
        let (items, problems) = list_page::<Thing>(body, 0).expect("a list");
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].flag, None);
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].path, "$[0].flag");
        assert!(!problems[0].skipped);
        assert!(problems[0].what.contains("a string where a boolean was expected"), "{:?}", problems[0]);
    }

    #[test]
    fn an_element_without_identity_is_skipped_and_named() {
        let body = br#"[{"name":"heroku"},{"id":"b"}]"#;
        let (items, problems) = list_page::<Thing>(body, 10).expect("a list");
        assert_eq!(items, vec![Thing { id: "b".into(), flag: None, access_token: None }]);
        assert_eq!(problems.len(), 1);
        assert_eq!((problems[0].index, problems[0].skipped), (10, true));
        assert_eq!(problems[0].label.as_deref(), Some("heroku"));
        assert!(problems[0].what.contains("`id`"), "{:?}", problems[0]);
    }

    #[test]
    fn a_token_where_an_object_belongs_is_never_quoted() {
        let body = br#"[{"id":"a","access_token":"HRKU-PLANTED-SECRET"}]"#;
        let (items, problems) = list_page::<Thing>(body, 0).expect("a list");
        assert_eq!(items.len(), 1);
        let shown = format!("{problems:?}");
        assert!(!shown.contains("PLANTED"), "{shown}");
        assert!(shown.contains("access_token"), "{shown}");
    }

    #[test]
    fn bodies_are_told_apart() {
        assert!(matches!(parse(br#"[{"id":"a"},{"id""#), Err(BodyError::Cut(_))));
        assert!(matches!(parse(b"<html><body>502</body></html>"), Err(BodyError::NotJson(_))));
        assert!(matches!(list_page::<Thing>(br#"{"data":[]}"#, 0), Err(BodyError::WrongShape(_))));
        let err = list_page::<Thing>(br#"{"data":[]}"#, 0).expect_err("an envelope");
        assert!(err.detail().contains("wrapping `data`"), "{err:?}");
    }
}
