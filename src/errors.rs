//! How an error is told. Library errors keep what caused them as their `source` (an I/O, JSON,
//! CSV or polars error) instead of a copy of its text, and their own message does not repeat it;
//! the binary edge prints the whole chain once (`hkaudit: error: ...`). Where a library folds an
//! error into a message of its own (a snapshot skipped from a history, a note in a listing),
//! [`chain`] gives the same text.
use std::error::Error;

/// The message of `err` and of every source under it, joined by `: `.
pub fn chain(err: &dyn Error) -> String {
    let mut text = err.to_string();
    let mut next = err.source();
    while let Some(e) = next {
        text.push_str(": ");
        text.push_str(&e.to_string());
        next = e.source();
    }
    text
}

#[cfg(test)]
mod tests {
    #[derive(Debug, thiserror::Error)]
    #[error("{path}: cannot read")]
    struct Outer {
        path: String,
        #[source]
        source: std::io::Error,
    }

    #[test]
    fn the_chain_names_every_cause_once() {
        let e = Outer { path: "x.csv".into(), source: std::io::Error::other("permission denied") };
        assert_eq!(super::chain(&e), "x.csv: cannot read: permission denied");
    }
}
