//! Heroku's `Range` pagination, the client's side of it.
//!
//! A list request sends `Range: <field> ..; max=<n>[, order=desc]`; a truncated answer is a 206
//! with `Next-Range`, which the client sends back verbatim as the next `Range`. The client never
//! builds a continuation itself: the server's `Next-Range` is the only cursor it trusts.

/// The first `Range` of a list request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RangeSpec {
    pub field: &'static str,
    pub max: u32,
    pub descending: bool,
}

impl RangeSpec {
    /// The largest page Heroku serves.
    pub const MAX_PAGE: u32 = 1000;

    /// Ascending by `id`, the order Heroku guarantees on every list, in the largest pages.
    pub fn by_id() -> Self {
        RangeSpec { field: "id", max: Self::MAX_PAGE, descending: false }
    }

    pub fn by(field: &'static str) -> Self {
        RangeSpec { field, max: Self::MAX_PAGE, descending: false }
    }

    pub fn desc(mut self) -> Self {
        self.descending = true;
        self
    }

    pub fn with_max(mut self, max: u32) -> Self {
        self.max = max.clamp(1, Self::MAX_PAGE);
        self
    }

    pub fn header(&self) -> String {
        let mut value = format!("{} ..; max={}", self.field, self.max);
        if self.descending {
            value.push_str(", order=desc");
        }
        value
    }
}

/// `Content-Range: <field> <first>..<last>; max=<n>` as sent with a page, for logs and checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentRange {
    pub field: String,
    pub first: String,
    pub last: String,
}

impl ContentRange {
    pub fn parse(value: &str) -> Option<Self> {
        let head = value.split(';').next()?.trim();
        let (field, span) = head.split_once(' ')?;
        let (first, last) = span.trim().split_once("..")?;
        Some(ContentRange { field: field.to_owned(), first: first.to_owned(), last: last.to_owned() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_in_herokus_format() {
        assert_eq!(RangeSpec::by_id().header(), "id ..; max=1000");
        assert_eq!(RangeSpec::by("version").desc().with_max(5000).header(), "version ..; max=1000, order=desc");
        assert_eq!(RangeSpec::by_id().with_max(0).max, 1);
    }

    #[test]
    fn content_range_parses() {
        let cr = ContentRange::parse("id 01234..99999; max=200").expect("parses");
        assert_eq!((cr.field.as_str(), cr.first.as_str(), cr.last.as_str()), ("id", "01234", "99999"));
        assert_eq!(ContentRange::parse("garbage"), None);
    }
}
