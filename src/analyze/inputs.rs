//! What the inputs of `analyze` that do not come from the snapshot share: one error type that
//! always says which file, which line, what is wrong and what to do about it, and the small text
//! helpers the readers of those files need.
use std::fmt;
use std::path::{Path, PathBuf};

/// A problem with a user-supplied input file (IdP export, authorization export, `hkaudit.toml`).
///
/// Displays as `FILE:LINE: problem. fix` (the line is left out when it is unknown), so a person
/// can jump straight to the spot and knows the next step.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct InputError {
    path: Option<PathBuf>,
    line: Option<usize>,
    problem: String,
    fix: String,
}

impl InputError {
    pub fn new(path: &Path, line: Option<usize>, problem: impl Into<String>, fix: impl Into<String>) -> Self {
        Self { path: Some(path.to_path_buf()), line, problem: problem.into(), fix: fix.into() }
    }

    /// An error about building a table from inputs that were already read (no single file).
    pub(crate) fn table(table: &str, detail: impl fmt::Display) -> Self {
        Self {
            path: None,
            line: None,
            problem: format!("could not build the `{table}` table: {detail}"),
            fix: "this is a bug in hkaudit; please report it with the input files' headers".to_owned(),
        }
    }

    /// The file the problem is in; `None` only for table-building errors.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// 1-based line of the problem, when known.
    pub fn line(&self) -> Option<usize> {
        self.line
    }

    pub fn problem(&self) -> &str {
        &self.problem
    }

    pub fn fix(&self) -> &str {
        &self.fix
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.path, self.line) {
            (Some(path), Some(line)) => write!(f, "{}:{line}: ", path.display())?,
            (Some(path), None) => write!(f, "{}: ", path.display())?,
            (None, _) => {}
        }
        write!(f, "{}", self.problem.trim_end_matches('.'))?;
        let fix = self.fix.trim_end_matches('.');
        let mut chars = fix.chars();
        if let Some(first) = chars.next() {
            // The fix is its own sentence.
            write!(f, ". {}{}", first.to_uppercase(), chars.as_str())?;
        }
        f.write_str(".")
    }
}

/// Reads a whole input file as UTF-8 text without a byte-order mark.
///
/// Non-UTF-8 input is refused with the line of the first bad byte rather than decoded lossily:
/// a silently mangled email address would make a user look absent from the IdP.
pub(crate) fn read_utf8(path: &Path) -> Result<String, InputError> {
    let bytes = std::fs::read(path).map_err(|e| {
        InputError::new(
            path,
            None,
            format!("cannot read the file: {e}"),
            "check the path and that the file is readable",
        )
    })?;
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return Err(InputError::new(
            path,
            Some(1),
            "the file is UTF-16 encoded",
            "re-export it as UTF-8 (in Excel: Save As \"CSV UTF-8\")",
        ));
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    match std::str::from_utf8(bytes) {
        Ok(text) => Ok(text.to_owned()),
        Err(e) => {
            let good = &bytes[..e.valid_up_to()];
            let line = 1 + good.iter().filter(|b| **b == b'\n').count();
            Err(InputError::new(
                path,
                Some(line),
                format!("the file is not valid UTF-8 (byte {} of the file)", e.valid_up_to() + 1),
                "re-export it as UTF-8 (in Excel: Save As \"CSV UTF-8\")",
            ))
        }
    }
}

/// 1-based line of a byte offset in `text`.
pub(crate) fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    1 + text.as_bytes()[..end].iter().filter(|b| **b == b'\n').count()
}

pub use crate::snapshot::email_norm;

/// The domain of a normalised email, if it has one.
pub fn email_domain(email_norm: &str) -> Option<&str> {
    email_norm.rsplit_once('@').map(|(_, d)| d).filter(|d| !d.is_empty())
}

/// The display name of a file for `source` columns (`okta:users.csv`).
pub(crate) fn file_name(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| path.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_file_line_problem_fix() {
        let e = InputError::new(Path::new("a/users.csv"), Some(3), "bad thing.", "do this");
        assert_eq!(e.to_string(), "a/users.csv:3: bad thing. Do this.");
        let e = InputError::new(Path::new("x.json"), None, "bad", "fix");
        assert_eq!(e.to_string(), "x.json: bad. Fix.");
        assert_eq!(e.line(), None);
        assert_eq!(e.path(), Some(Path::new("x.json")));
    }
}
