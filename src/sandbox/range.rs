//! Heroku's `Range` pagination: parsing the request header, sorting a list by the requested
//! field and cutting one page, with the `Content-Range`/`Next-Range` the client follows.
use std::cmp::Ordering;

use serde_json::Value;

pub(crate) const DEFAULT_MAX: usize = 200;
pub(crate) const MAX_MAX: usize = 1000;

/// Heroku's own wording; clients match on the id, people read the message.
pub(crate) const INVALID_RANGE: &str = "Invalid `Range` header. Please use format like `id ..; max=10, order=desc`";

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RangeSpec {
    pub field: String,
    pub start: Option<String>,
    pub start_exclusive: bool,
    pub end: Option<String>,
    pub max: usize,
    pub desc: bool,
}

impl RangeSpec {
    pub(crate) fn default_for(field: &str) -> RangeSpec {
        RangeSpec {
            field: field.to_string(),
            start: None,
            start_exclusive: false,
            end: None,
            max: DEFAULT_MAX,
            desc: false,
        }
    }

    fn params(&self) -> String {
        if self.desc {
            format!("max={}, order=desc", self.max)
        } else {
            format!("max={}", self.max)
        }
    }

    /// The header that restarts this listing from its beginning.
    pub(crate) fn restart(&self) -> String {
        format!("{} ..{}; {}", self.field, self.end.as_deref().unwrap_or(""), self.params())
    }
}

/// Parse `<field> [[]start]..[end][; max=N[, order=asc|desc]]`. `None` means malformed.
pub(crate) fn parse(header: &str) -> Option<RangeSpec> {
    let (head, params) = match header.split_once(';') {
        Some((head, params)) => (head.trim(), params),
        None => (header.trim(), ""),
    };
    let (field, bounds) = match head.split_once(char::is_whitespace) {
        Some((field, bounds)) => (field, bounds.trim()),
        // `id..` with no space is unambiguous enough to accept.
        None => head.split_at(head.find("..")?),
    };
    if field.is_empty() || !field.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return None;
    }
    let (start, end) = bounds.split_once("..")?;
    let (start, start_exclusive) = match start.strip_prefix(']') {
        Some(rest) => (rest, true),
        None => (start, false),
    };
    let mut spec = RangeSpec::default_for(field);
    spec.start = (!start.is_empty()).then(|| start.to_string());
    spec.start_exclusive = start_exclusive && spec.start.is_some();
    spec.end = (!end.is_empty()).then(|| end.to_string());
    // Heroku tolerates a trailing `;` after the parameters too.
    let params = params.trim().trim_end_matches(';');
    for param in params.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (key, value) = param.split_once('=')?;
        match (key.trim(), value.trim()) {
            ("max", n) => {
                let n: usize = n.parse().ok()?;
                if n == 0 {
                    return None;
                }
                spec.max = n.min(MAX_MAX);
            }
            ("order", "asc") => spec.desc = false,
            ("order", "desc") => spec.desc = true,
            _ => return None,
        }
    }
    Some(spec)
}

/// A sort key: versions compare as numbers, everything else as the JSON string it is.
#[derive(Debug, Clone, PartialEq, PartialOrd)]
enum Key {
    Num(f64),
    Str(String),
}

impl Key {
    fn of(item: &Value, field: &str) -> Key {
        // Builds have no `started_at` field: Heroku orders them by when they were created.
        let field = if field == "started_at" { "created_at" } else { field };
        match item.get(field) {
            Some(Value::Number(n)) => Key::Num(n.as_f64().unwrap_or(0.0)),
            Some(Value::String(s)) => Key::Str(s.clone()),
            Some(Value::Null) | None => Key::Str(String::new()),
            Some(other) => Key::Str(other.to_string()),
        }
    }

    fn bound(field: &str, text: &str) -> Option<Key> {
        if field == "version" {
            text.parse().ok().map(Key::Num)
        } else {
            Some(Key::Str(text.to_string()))
        }
    }

    fn cmp(&self, other: &Key) -> Ordering {
        self.partial_cmp(other).unwrap_or(Ordering::Equal)
    }

    fn text(&self) -> String {
        match self {
            Key::Num(n) if n.fract() == 0.0 => format!("{n:.0}"),
            Key::Num(n) => n.to_string(),
            Key::Str(s) => s.clone(),
        }
    }
}

/// One page of a list, with the headers that describe it.
#[derive(Debug)]
pub(crate) struct Page<'a> {
    pub items: Vec<&'a Value>,
    pub content_range: Option<String>,
    pub next_range: Option<String>,
}

/// Sort `items` by `spec.field` and cut the page `spec` asks for. `None` when a bound cannot be
/// compared with the field (e.g. a non-numeric version).
pub(crate) fn paginate<'a>(items: impl IntoIterator<Item = &'a Value>, spec: &RangeSpec) -> Option<Page<'a>> {
    let start = match &spec.start {
        Some(s) => Some(Key::bound(&spec.field, s)?),
        None => None,
    };
    let end = match &spec.end {
        Some(e) => Some(Key::bound(&spec.field, e)?),
        None => None,
    };
    let mut keyed: Vec<(Key, &Value)> = items.into_iter().map(|v| (Key::of(v, &spec.field), v)).collect();
    // Stable sort keeps ties in fixture order, so equal keys page the same way every time.
    keyed.sort_by(|a, b| a.0.cmp(&b.0));
    if spec.desc {
        keyed.reverse();
    }
    // In descending order "after the start" means "smaller than the start".
    let forward = |a: &Key, b: &Key| if spec.desc { b.cmp(a) } else { a.cmp(b) };
    let selected: Vec<(Key, &Value)> = keyed
        .into_iter()
        .filter(|(k, _)| match &start {
            Some(s) if spec.start_exclusive => forward(k, s) == Ordering::Greater,
            Some(s) => forward(k, s) != Ordering::Less,
            None => true,
        })
        .filter(|(k, _)| match &end {
            Some(e) => forward(k, e) != Ordering::Greater,
            None => true,
        })
        .collect();
    let truncated = selected.len() > spec.max;
    let page: Vec<(Key, &Value)> = selected.into_iter().take(spec.max).collect();
    let (first, last) = match (page.first(), page.last()) {
        (Some(first), Some(last)) => (first.0.text(), last.0.text()),
        _ => return Some(Page { items: Vec::new(), content_range: None, next_range: None }),
    };
    let content_range = Some(format!("{} {first}..{last}; {}", spec.field, spec.params()));
    let next_range =
        truncated.then(|| format!("{} ]{last}..{}; {}", spec.field, spec.end.as_deref().unwrap_or(""), spec.params()));
    Some(Page { items: page.into_iter().map(|(_, v)| v).collect(), content_range, next_range })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_heroku_forms() {
        let spec = parse("id ..; max=10, order=desc").expect("valid");
        assert_eq!((spec.field.as_str(), spec.max, spec.desc), ("id", 10, true));
        let spec = parse("name ]abc..; max=5;").expect("trailing semicolon tolerated");
        assert_eq!((spec.start.as_deref(), spec.start_exclusive, spec.max), (Some("abc"), true, 5));
        assert_eq!(parse("id ..; max=5000").expect("clamped").max, MAX_MAX);
        assert_eq!(parse("id ..").expect("bare").max, DEFAULT_MAX);
        assert_eq!(parse("id ..;").expect("trailing semicolon, no params").max, DEFAULT_MAX);
        for bad in ["", "id", "id ..; max=x", "id ..; max=0", "id ..; order=up", "id ..; foo=1", "i-d .."] {
            assert!(parse(bad).is_none(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn versions_compare_numerically() {
        let items: Vec<Value> = [1, 2, 10, 9].iter().map(|v| json!({"id": format!("r{v}"), "version": v})).collect();
        let page = paginate(&items, &parse("version ]2..; max=2").expect("valid")).expect("page");
        let versions: Vec<_> = page.items.iter().map(|v| v["version"].as_i64()).collect();
        assert_eq!(versions, vec![Some(9), Some(10)]);
        assert_eq!(page.next_range, None);
    }
}
