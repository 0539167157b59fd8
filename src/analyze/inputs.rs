//! What the inputs of `analyze` (and the worksheet readers of `plan` and `certify`) that do not
//! come from the snapshot share: one error type that always says which file, which line, what is
//! wrong and what to do about it; reading a file safely (regular files only, decoded from the
//! encodings exports really use, binary data refused); a CSV layer that copes with what tools and
//! spreadsheets write (`#TYPE` and `sep=` preambles, `,` `;` or tab delimiters) and numbers lines
//! in one pass; and the record of each input that `findings.json` keeps.
use std::fmt;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A problem with a user-supplied input file (IdP export, authorization export, `hkaudit.toml`,
/// certification worksheet).
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
    /// The problem and the fix pass the one redaction step here, when the error is made: they
    /// often quote the input, and an input can hold a token where a value belongs.
    pub fn new(path: &Path, line: Option<usize>, problem: impl Into<String>, fix: impl Into<String>) -> Self {
        Self { path: Some(path.to_path_buf()), line, problem: redacted(problem.into()), fix: redacted(fix.into()) }
    }

    /// A problem with a command-line option (`--rules`, `--format`) rather than a file.
    pub fn option(name: &str, problem: impl Into<String>, fix: impl Into<String>) -> Self {
        Self::new(Path::new(name), None, problem, fix)
    }

    /// An error about building a table from inputs that were already read (no single file).
    pub(crate) fn table(table: &str, detail: impl fmt::Display) -> Self {
        Self {
            path: None,
            line: None,
            problem: redacted(format!("could not build the `{table}` table: {detail}")),
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

fn redacted(text: String) -> String {
    match crate::redact::redact(&text) {
        std::borrow::Cow::Borrowed(_) => text,
        std::borrow::Cow::Owned(clean) => clean,
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

// ---------------------------------------------------------------------------------------------
// Reading a file.

/// How an input file's bytes were decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TextEncoding {
    #[serde(rename = "UTF-8")]
    Utf8,
    #[serde(rename = "UTF-8 with BOM")]
    Utf8Bom,
    #[serde(rename = "UTF-16LE with BOM")]
    Utf16LeBom,
    #[serde(rename = "UTF-16BE with BOM")]
    Utf16BeBom,
}

impl TextEncoding {
    pub fn as_str(self) -> &'static str {
        match self {
            TextEncoding::Utf8 => "UTF-8",
            TextEncoding::Utf8Bom => "UTF-8 with BOM",
            TextEncoding::Utf16LeBom => "UTF-16LE with BOM",
            TextEncoding::Utf16BeBom => "UTF-16BE with BOM",
        }
    }
}

/// A whole input file as text, without its byte-order mark.
#[derive(Debug, Clone)]
pub(crate) struct Text {
    pub text: String,
    pub encoding: TextEncoding,
}

/// How much of a file is searched for the NUL bytes that give binary data away.
const BINARY_SNIFF: usize = 64 * 1024;

const REEXPORT_UTF8: &str = "re-export it as UTF-8 (in Excel: Save As \"CSV UTF-8\")";

/// Refuses anything but a regular file (after following symlinks) before it is opened: opening a
/// FIFO blocks until something writes to it, and a device or socket can be read forever.
pub(crate) fn ensure_regular_file(path: &Path) -> Result<(), InputError> {
    let meta = std::fs::metadata(path).map_err(|e| {
        InputError::new(
            path,
            None,
            format!("cannot read the file: {e}"),
            "check the path and that the file is readable",
        )
    })?;
    let kind = meta.file_type();
    if kind.is_file() {
        return Ok(());
    }
    let what = if kind.is_dir() { "a directory".to_owned() } else { describe_special(&kind) };
    Err(InputError::new(
        path,
        None,
        format!("this is {what}, not a regular file"),
        "save the export to a file first and pass that file (hkaudit reads inputs whole, and only from regular files)",
    ))
}

#[cfg(unix)]
fn describe_special(kind: &std::fs::FileType) -> String {
    use std::os::unix::fs::FileTypeExt;
    if kind.is_fifo() {
        "a named pipe (FIFO)"
    } else if kind.is_socket() {
        "a socket"
    } else if kind.is_char_device() {
        "a character device"
    } else if kind.is_block_device() {
        "a block device"
    } else {
        "not a regular file"
    }
    .to_owned()
}

#[cfg(not(unix))]
fn describe_special(_kind: &std::fs::FileType) -> String {
    "a special file".to_owned()
}

/// Reads a whole input file as text: UTF-8 with or without a byte-order mark, or UTF-16 (LE or
/// BE) with one, the encodings PowerShell's `Export-Csv -Encoding Unicode` and Excel's "Unicode
/// Text" write. Anything else is refused with the line of the first bad byte rather than decoded
/// lossily: a silently mangled email address would make a user look absent from the IdP.
pub(crate) fn read_text(path: &Path) -> Result<Text, InputError> {
    ensure_regular_file(path)?;
    let bytes = std::fs::read(path).map_err(|e| {
        InputError::new(
            path,
            None,
            format!("cannot read the file: {e}"),
            "check the path and that the file is readable",
        )
    })?;
    decode_owned(path, bytes)
}

/// [`decode`] of bytes read whole: UTF-8 (the common case) becomes the text in place instead of
/// being copied, so a sign-in log of a gigabyte or two is held once, not twice.
fn decode_owned(path: &Path, mut bytes: Vec<u8>) -> Result<Text, InputError> {
    let encoding = if bytes.starts_with(b"\xEF\xBB\xBF") {
        TextEncoding::Utf8Bom
    } else if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return decode(path, &bytes);
    } else {
        TextEncoding::Utf8
    };
    if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        return decode(path, &bytes);
    }
    if encoding == TextEncoding::Utf8Bom {
        bytes.drain(..3);
    }
    if bytes[..bytes.len().min(BINARY_SNIFF)].contains(&0) {
        return Err(binary(path, &bytes));
    }
    match String::from_utf8(bytes) {
        Ok(text) => Ok(Text { text, encoding }),
        // The same error, with its line, as the borrowed path gives.
        Err(e) => utf8(path, e.as_bytes(), encoding),
    }
}

/// [`read_text`] without saying how the file was encoded.
pub(crate) fn read_utf8(path: &Path) -> Result<String, InputError> {
    read_text(path).map(|t| t.text)
}

pub(crate) fn decode(path: &Path, bytes: &[u8]) -> Result<Text, InputError> {
    // Workbooks are the most common wrong file: say so instead of "not valid UTF-8".
    if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        return Err(InputError::new(
            path,
            Some(1),
            "this is a spreadsheet workbook (or another archive), not a text export",
            "open it and save it as \"CSV UTF-8\", or pass the CSV or JSON file the identity provider gave you",
        ));
    }
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        return utf8(path, rest, TextEncoding::Utf8Bom);
    }
    if let Some(rest) = bytes.strip_prefix(&[0xFF, 0xFE]) {
        return utf16(path, rest, encoding_rs::UTF_16LE, TextEncoding::Utf16LeBom);
    }
    if let Some(rest) = bytes.strip_prefix(&[0xFE, 0xFF]) {
        return utf16(path, rest, encoding_rs::UTF_16BE, TextEncoding::Utf16BeBom);
    }
    utf8(path, bytes, TextEncoding::Utf8)
}

fn utf8(path: &Path, bytes: &[u8], encoding: TextEncoding) -> Result<Text, InputError> {
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => {
            let good = &bytes[..e.valid_up_to()];
            let line = 1 + good.iter().filter(|b| **b == b'\n').count();
            // UTF-16 without a byte-order mark is half NUL bytes; so is most binary data.
            if bytes[..bytes.len().min(BINARY_SNIFF)].contains(&0) {
                return Err(binary(path, bytes));
            }
            return Err(InputError::new(
                path,
                Some(line),
                format!("the file is not valid UTF-8 (byte {} of the file)", e.valid_up_to() + 1),
                REEXPORT_UTF8,
            ));
        }
    };
    // Binary data shows itself at once; the rest of a large export need not be scanned again.
    if text.as_bytes()[..text.len().min(BINARY_SNIFF)].contains(&0) {
        return Err(binary(path, text.as_bytes()));
    }
    Ok(Text { text: text.to_owned(), encoding })
}

fn binary(path: &Path, bytes: &[u8]) -> InputError {
    let at = bytes.iter().position(|b| *b == 0).unwrap_or(0);
    let line = 1 + bytes[..at].iter().filter(|b| **b == b'\n').count();
    InputError::new(
        path,
        Some(line),
        format!("this is not a text file: it holds binary data (a NUL byte at byte {})", at + 1),
        "pass the CSV or JSON export itself; a UTF-16 file needs its byte-order mark (PowerShell and Excel write one)",
    )
}

fn utf16(
    path: &Path,
    bytes: &[u8],
    encoding: &'static encoding_rs::Encoding,
    label: TextEncoding,
) -> Result<Text, InputError> {
    use encoding_rs::DecoderResult;
    let mut decoder = encoding.new_decoder_without_bom_handling();
    // Every UTF-16 code unit (2 bytes) becomes at most 3 bytes of UTF-8.
    let mut out = String::with_capacity(bytes.len() / 2 * 3 + 4);
    let mut input = bytes;
    loop {
        let (result, read) = decoder.decode_to_string_without_replacement(input, &mut out, true);
        input = &input[read..];
        match result {
            DecoderResult::InputEmpty => break,
            DecoderResult::OutputFull => out.reserve(input.len() * 2 + 16),
            DecoderResult::Malformed(_, _) => {
                let line = 1 + out.matches('\n').count();
                return Err(InputError::new(
                    path,
                    Some(line),
                    format!("the file starts with a {} byte-order mark but is not valid UTF-16", label.as_str()),
                    REEXPORT_UTF8,
                ));
            }
        }
    }
    if out.as_bytes()[..out.len().min(BINARY_SNIFF)].contains(&0) {
        return Err(binary(path, out.as_bytes()));
    }
    Ok(Text { text: out, encoding: label })
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

// ---------------------------------------------------------------------------------------------
// CSV.

/// A CSV file's text, with what precedes its header row set aside: Windows PowerShell's
/// `Export-Csv` writes `#TYPE <type name>` first unless told `-NoTypeInformation`, and Excel
/// honours (and some tools write) a `sep=;` line naming the delimiter.
pub(crate) struct CsvText<'t> {
    path: &'t Path,
    /// From the header row on.
    body: &'t str,
    /// The line number of the header row.
    first_line: usize,
    pub delimiter: u8,
    /// The line set aside before the header, as written (`#TYPE …`, `sep=;`).
    pub preamble: Option<String>,
}

impl<'t> CsvText<'t> {
    pub fn new(path: &'t Path, text: &'t str) -> Self {
        let mut body = text;
        let mut first_line = 1;
        let mut preamble = None;
        let mut delimiter = None;
        // Blank lines before the header carry nothing; neither does a preamble line.
        loop {
            let (line, rest) = match body.find('\n') {
                Some(i) => (&body[..i], &body[i + 1..]),
                None => (body, ""),
            };
            let trimmed = line.trim();
            if trimmed.is_empty() && !rest.is_empty() {
                body = rest;
                first_line += 1;
                continue;
            }
            if trimmed.starts_with("#TYPE ") || trimmed == "#TYPE" {
                preamble = Some(trimmed.to_owned());
                body = rest;
                first_line += 1;
                continue;
            }
            if let Some(sep) = trimmed.strip_prefix("sep=").or_else(|| trimmed.strip_prefix("\"sep=")) {
                let sep = sep.trim_end_matches('"');
                if let [b] = sep.as_bytes() {
                    delimiter = Some(*b);
                    preamble = Some(trimmed.to_owned());
                    body = rest;
                    first_line += 1;
                    continue;
                }
            }
            break;
        }
        let header_line = body.lines().next().unwrap_or_default();
        let delimiter = delimiter.unwrap_or_else(|| detect_delimiter(header_line));
        Self { path, body, first_line, delimiter, preamble }
    }

    /// The line number of the header row.
    pub fn header_line(&self) -> usize {
        self.first_line
    }

    /// Whether there is anything after the preamble.
    pub fn is_blank(&self) -> bool {
        self.body.trim().is_empty()
    }

    pub fn reader(&self, trim: bool) -> csv::Reader<&'t [u8]> {
        csv::ReaderBuilder::new()
            .delimiter(self.delimiter)
            .flexible(true)
            .trim(if trim { csv::Trim::All } else { csv::Trim::None })
            .from_reader(self.body.as_bytes())
    }

    pub fn headers(&self, reader: &mut csv::Reader<&'t [u8]>) -> Result<csv::StringRecord, InputError> {
        reader.headers().cloned().map_err(|e| self.error(&e))
    }

    /// The data records with the line each starts on, counted incrementally.
    pub fn records<'r>(
        &'r self,
        reader: &'r mut csv::Reader<&'t [u8]>,
    ) -> impl Iterator<Item = Result<(usize, csv::StringRecord), InputError>> + use<'r, 't> {
        let mut lines = LineCounter::new(self.body, self.first_line);
        reader.records().map(move |record| {
            let record = record.map_err(|e| self.error(&e))?;
            let line = record.position().map(|p| lines.at(p.byte())).unwrap_or(0);
            Ok((line, record))
        })
    }

    pub fn error(&self, e: &csv::Error) -> InputError {
        let line = e.position().map(|p| record_line(self.body, p.byte()) + self.first_line - 1);
        InputError::new(
            self.path,
            line,
            format!("cannot read this CSV row: {e}"),
            "check the quoting on that line, or export the file again",
        )
    }
}

/// European Excel saves "CSV" with semicolons and "Unicode Text" with tabs; pick whichever
/// separator the header uses most.
pub(crate) fn detect_delimiter(header: &str) -> u8 {
    let mut counts = [(b',', 0usize), (b';', 0), (b'\t', 0)];
    let mut quoted = false;
    for b in header.bytes() {
        if b == b'"' {
            quoted = !quoted;
        } else if !quoted {
            for (d, n) in counts.iter_mut() {
                if *d == b {
                    *n += 1;
                }
            }
        }
    }
    counts.iter().max_by_key(|(_, n)| *n).filter(|(_, n)| *n > 0).map(|(d, _)| *d).unwrap_or(b',')
}

/// The line a record starts on. csv's own line counter and byte offsets both place a record that
/// follows a CRLF at the `\n` of the previous line, so skip the line breaks first.
pub(crate) fn record_line(text: &str, byte: u64) -> usize {
    let start = usize::try_from(byte).unwrap_or(usize::MAX).min(text.len());
    let skipped = text.as_bytes()[start..].iter().take_while(|b| matches!(b, b'\r' | b'\n')).count();
    line_of(text, start + skipped)
}

/// [`record_line`] for records read in order: counts the newlines since the previous record
/// only, instead of from the start of the file for every row (quadratic: a 200,000-user export
/// took minutes, and a 8,000-row worksheet 50 s).
pub(crate) struct LineCounter<'t> {
    text: &'t str,
    offset: usize,
    line: usize,
    first_line: usize,
}

impl<'t> LineCounter<'t> {
    /// Lines of `text` numbered from `first_line`.
    pub fn new(text: &'t str, first_line: usize) -> Self {
        Self { text, offset: 0, line: first_line, first_line }
    }

    pub fn at(&mut self, byte: u64) -> usize {
        let start = usize::try_from(byte).unwrap_or(usize::MAX).min(self.text.len());
        let skipped = self.text.as_bytes()[start..].iter().take_while(|b| matches!(b, b'\r' | b'\n')).count();
        let target = start + skipped;
        if target < self.offset {
            return record_line(self.text, byte) + self.first_line - 1;
        }
        self.line += bytecount_newlines(&self.text.as_bytes()[self.offset..target]);
        self.offset = target;
        self.line
    }
}

fn bytecount_newlines(bytes: &[u8]) -> usize {
    bytes.iter().filter(|b| **b == b'\n').count()
}

/// Two or more header columns that would be read as the same field: hkaudit refuses to pick one
/// (a second all-`ACTIVE` `Status` column must not silently win).
pub(crate) fn ambiguous_columns(
    path: &Path,
    line: usize,
    headers: &csv::StringRecord,
    field: &str,
    columns: &[usize],
) -> InputError {
    let named: Vec<String> =
        columns.iter().map(|i| format!("`{}` (column {})", headers.get(*i).unwrap_or("?"), i + 1)).collect();
    let listed = match named.as_slice() {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    };
    InputError::new(
        path,
        Some(line),
        format!("the header has more than one {field} column: {listed}"),
        "keep only one of them (hkaudit does not guess which is right), or export the file again",
    )
}

// ---------------------------------------------------------------------------------------------
// What findings.json records about each input.

/// A value that could not be read and was left unknown, instead of stopping the whole file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputWarning {
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub column: Option<String>,
    pub message: String,
}

impl fmt::Display for InputWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(line) = self.line {
            write!(f, "line {line}: ")?;
        }
        if let Some(column) = &self.column {
            write!(f, "column `{column}`: ")?;
        }
        f.write_str(&self.message)
    }
}

/// One input of an analysis, as `findings.json` lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(from = "InputRecordRepr")]
pub struct InputRecord {
    /// `okta:users.csv`, `export:alice.json`: the `source` value rows from this file carry.
    pub name: String,
    /// `idp`, `signins` or `authorizations`.
    pub kind: String,
    /// The path as given.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub file: Option<String>,
    /// What was read from an identity-provider export.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub idp: Option<IdpInputSummary>,
    /// What a sign-in log covers: its period, the Heroku applications kept, the rows left out.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub signins: Option<SigninCoverage>,
}

/// findings.json of hkaudit before inputs were described listed only their names.
#[derive(Deserialize)]
#[serde(untagged)]
enum InputRecordRepr {
    Name(String),
    Full {
        name: String,
        kind: String,
        #[serde(default)]
        file: Option<String>,
        #[serde(default)]
        idp: Option<Box<IdpInputSummary>>,
        #[serde(default)]
        signins: Option<Box<SigninCoverage>>,
    },
}

impl From<InputRecordRepr> for InputRecord {
    fn from(r: InputRecordRepr) -> Self {
        match r {
            InputRecordRepr::Name(name) => {
                let kind = if name.starts_with("export:") { "authorizations" } else { "idp" };
                InputRecord { name, kind: kind.to_owned(), file: None, idp: None, signins: None }
            }
            InputRecordRepr::Full { name, kind, file, idp, signins } => {
                InputRecord { name, kind, file, idp: idp.map(|b| *b), signins: signins.map(|b| *b) }
            }
        }
    }
}

/// What an identity-provider export held, as read: enough for a reviewer to judge whether the
/// deprovisioning check saw the file they meant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdpInputSummary {
    /// The format detected from the header (or named with `--idp-format`), e.g. `okta-password-health`.
    pub format: String,
    /// Its human name, e.g. "Okta Password Health report".
    pub format_name: String,
    /// Whether `--idp-format` named it.
    #[serde(default)]
    pub format_given: bool,
    pub encoding: TextEncoding,
    /// `,`, `;`, `tab`, or `json`.
    pub delimiter: String,
    /// A line set aside before the header (`#TYPE …`, `sep=;`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub preamble: Option<String>,
    /// Data rows read (one per user in the file).
    pub rows: usize,
    /// Distinct users (a primary address listed twice counts once).
    pub users: usize,
    pub active: usize,
    pub suspended: usize,
    pub deprovisioned: usize,
    /// Entra guests (B2B users of another organisation): matched, but their domains are not covered.
    pub guests: usize,
    /// Rows whose login is not an email address: kept, they match no Heroku account.
    pub non_email_logins: usize,
    /// Email domains an absence from this export means something for.
    pub domains: Vec<String>,
    /// `derived` (the primary addresses of the export's own members) or `idp_domains` (the config).
    pub domains_from: String,
    /// How `03/04/2026`-style dates were read: `day-first`, `month-first`, or `undetermined`
    /// (every such date left unknown); absent when the file has none.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub date_order: Option<String>,
    /// Optional values that could not be read and were left unknown.
    pub warnings: usize,
    /// The first warnings, in file order (all of them up to a hundred).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub warning_list: Vec<InputWarning>,
}

/// What one sign-in log covers, as `findings.json` and the completeness section report it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SigninCoverage {
    pub format: String,
    pub encoding: TextEncoding,
    /// First and last event of any application: the period the log speaks for.
    pub first: Option<DateTime<Utc>>,
    pub last: Option<DateTime<Utc>>,
    /// The Heroku application names kept.
    pub apps: Vec<String>,
    /// Sign-ins to Heroku kept (any outcome).
    pub rows: usize,
    /// Events of other applications, or that were not sign-ins, left out.
    pub other_rows: usize,
    pub warnings: usize,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub warning_list: Vec<InputWarning>,
}

impl SigninCoverage {
    /// Whole days between the first and the last event.
    pub fn span_days(&self) -> i64 {
        match (self.first, self.last) {
            (Some(f), Some(l)) => (l - f).num_days(),
            _ => 0,
        }
    }
}

impl IdpInputSummary {
    pub fn switched_off(&self) -> usize {
        self.suspended + self.deprovisioned
    }
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

    #[test]
    fn a_secret_quoted_from_an_input_is_redacted_when_the_error_is_made() {
        let e = InputError::new(
            Path::new("export.json"),
            Some(2),
            "unexpected value `HRKU-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA`",
            "remove \"access_token\": \"s3cr3t-value\" from the file",
        );
        assert_eq!(e.problem(), "unexpected value `<redacted>`");
        assert!(!e.fix().contains("s3cr3t-value") && e.fix().contains("<redacted>"), "{}", e.fix());
        assert!(!e.to_string().contains("HRKU-"), "{e}");
    }

    #[test]
    fn line_counter_agrees_with_record_line() {
        let text = "a,b\n1,2\r\n\n3,\"x\ny\"\n4,5\n";
        let mut lines = LineCounter::new(text, 1);
        for byte in [0u64, 4, 8, 10, 11, 17, 21] {
            assert_eq!(lines.at(byte), record_line(text, byte), "at byte {byte}");
        }
        assert_eq!(lines.at(4), record_line(text, 4), "going back falls back to a full count");
        let mut shifted = LineCounter::new(text, 3);
        assert_eq!(shifted.at(11), record_line(text, 11) + 2, "numbered from the header's line");
    }

    #[test]
    fn utf16_with_either_byte_order_decodes_like_utf8() {
        let text = "Login,Status\r\nmo.müller@acme.example,ACTIVE\r\n";
        let mut le = vec![0xFF, 0xFE];
        le.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
        let mut be = vec![0xFE, 0xFF];
        be.extend(text.encode_utf16().flat_map(u16::to_be_bytes));
        let path = Path::new("x.csv");
        let got = decode(path, &le).expect("LE decodes");
        assert_eq!((got.text.as_str(), got.encoding), (text, TextEncoding::Utf16LeBom));
        let got = decode(path, &be).expect("BE decodes");
        assert_eq!((got.text.as_str(), got.encoding), (text, TextEncoding::Utf16BeBom));
        // A lone surrogate on the second line.
        let mut bad = vec![0xFF, 0xFE];
        bad.extend("a\nb".encode_utf16().flat_map(u16::to_le_bytes));
        bad.extend([0x00, 0xD8, b'c', 0x00]);
        let err = decode(path, &bad).expect_err("malformed");
        assert_eq!(err.line(), Some(2), "{err}");
        assert!(err.to_string().contains("not valid UTF-16"), "{err}");
    }

    #[test]
    fn reading_a_file_whole_decodes_as_decode_does() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cases: [&[u8]; 5] = [
            b"Login,Status\nada@x.example,ACTIVE\n",
            b"\xEF\xBB\xBFLogin,Status\nada@x.example,ACTIVE\n",
            b"Login\nX\xFF\xFEY\n",
            b"Login\nab\x00cd\n",
            b"PK\x03\x04\x14\x00",
        ];
        for (i, bytes) in cases.iter().enumerate() {
            let path = dir.path().join(format!("{i}.csv"));
            std::fs::write(&path, bytes).expect("write");
            let whole = read_text(&path).map(|t| (t.text, t.encoding));
            let borrowed = decode(&path, bytes).map(|t| (t.text, t.encoding));
            assert_eq!(whole, borrowed, "case {i}");
        }
    }

    #[test]
    fn binary_data_and_workbooks_are_named_as_such() {
        let path = Path::new("x.csv");
        let err = decode(path, b"PK\x03\x04\x14\x00\x06\x00").expect_err("zip");
        assert!(err.to_string().contains("spreadsheet workbook"), "{err}");
        let err = decode(path, b"Login,Status\nab\x00cd\n").expect_err("nul");
        assert_eq!(err.line(), Some(2), "{err}");
        assert!(err.to_string().contains("binary data"), "{err}");
        // UTF-16 without its byte-order mark is binary-looking, not "invalid UTF-8".
        let bare: Vec<u8> = "Login\n".encode_utf16().flat_map(u16::to_le_bytes).collect();
        let err = decode(path, &bare).expect_err("bare utf-16");
        assert!(err.to_string().contains("byte-order mark"), "{err}");
    }

    #[test]
    fn type_and_sep_preambles_are_set_aside_and_lines_still_count_from_the_file_start() {
        let path = Path::new("x.csv");
        let text = "#TYPE Selected.Microsoft.Graph.PowerShell.Models.MicrosoftGraphUser\n\"A\";\"B\"\n\"1\";\"2\"\n";
        let csv = CsvText::new(path, text);
        assert_eq!(
            csv.preamble.as_deref(),
            Some("#TYPE Selected.Microsoft.Graph.PowerShell.Models.MicrosoftGraphUser")
        );
        assert_eq!((csv.delimiter, csv.header_line()), (b';', 2));
        let mut reader = csv.reader(true);
        assert_eq!(csv.headers(&mut reader).expect("header").iter().collect::<Vec<_>>(), ["A", "B"]);
        let rows: Vec<usize> = csv.records(&mut reader).map(|r| r.expect("row").0).collect();
        assert_eq!(rows, [3]);
        let csv = CsvText::new(path, "sep=|\nA|B\n1|2\n");
        assert_eq!((csv.delimiter, csv.header_line()), (b'|', 2));
    }

    #[cfg(unix)]
    #[test]
    fn only_regular_files_are_read() {
        let dir = tempfile::tempdir().expect("tempdir");
        let err = read_text(dir.path()).expect_err("a directory");
        assert!(err.to_string().contains("a directory, not a regular file"), "{err}");
        let err = read_text(Path::new("/dev/null")).expect_err("a device");
        assert!(err.to_string().contains("character device"), "{err}");
    }

    #[test]
    fn old_findings_inputs_as_plain_names_still_read() {
        let old: Vec<InputRecord> =
            serde_json::from_str(r#"["okta:users.csv", "export:alice.json"]"#).expect("old shape");
        assert_eq!((old[0].kind.as_str(), old[1].kind.as_str()), ("idp", "authorizations"));
        let round: Vec<InputRecord> = serde_json::from_str(&serde_json::to_string(&old).expect("ser")).expect("de");
        assert_eq!(round, old);
    }
}
