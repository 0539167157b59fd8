//! Reading workbooks as reviewers send them back: `.xlsx`/`.xlsm` (Excel, LibreOffice, Google
//! Sheets), `.ods` (LibreOffice) and `.xls` (Excel 97–2003), with `calamine`. Every sheet becomes
//! a grid of text, the way the CSV reader sees a file: numbers as they read (`4`, not `4.0`),
//! dates as ISO dates, so the worksheet reader treats both alike.
use std::io::Read;
use std::path::Path;

use calamine::{open_workbook_auto, Data, Reader};

use super::HistoryError;
use crate::analyze::InputError;

/// A table of text cells: a header and rows, each with the line it is on.
pub(crate) struct Grid {
    pub header_line: usize,
    pub headers: Vec<String>,
    pub rows: Vec<(usize, Vec<String>)>,
}

/// File name endings read as workbooks.
pub const EXTENSIONS: [&str; 5] = ["xlsx", "xlsm", "xlsb", "xls", "ods"];

pub(crate) struct SheetGrid {
    pub name: String,
    pub grid: Grid,
}

/// A zip (xlsx, ods) or OLE (xls) file, by its first bytes.
pub fn looks_like_workbook(path: &Path) -> bool {
    let mut head = [0u8; 4];
    let Ok(meta) = std::fs::metadata(path) else { return false };
    if !meta.is_file() {
        return false;
    }
    std::fs::File::open(path).and_then(|mut f| f.read_exact(&mut head)).is_ok()
        && (head == *b"PK\x03\x04" || head == [0xD0, 0xCF, 0x11, 0xE0])
}

/// `2026-12-01T00:00:00` (a date cell as ODS or a date-time cell gives it) is the date
/// `2026-12-01`; any other text is kept as written.
pub fn date_text(s: &str) -> String {
    let t = s.trim();
    for suffix in ["T00:00:00", " 00:00:00", "T00:00:00.000", " 00:00:00.000", "T00:00", " 00:00"] {
        if let Some(d) = t.strip_suffix(suffix) {
            if chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").is_ok() {
                return d.to_owned();
            }
        }
    }
    t.to_owned()
}

/// A cell as the text a reviewer sees in it.
fn text(cell: &Data) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_owned(),
        Data::DateTime(d) => match d.as_datetime() {
            Some(t) if t.time() == chrono::NaiveTime::MIN => t.date().format("%Y-%m-%d").to_string(),
            Some(t) => t.format("%Y-%m-%dT%H:%M:%S").to_string(),
            None => d.as_f64().to_string(),
        },
        Data::DateTimeIso(s) => date_text(s),
        Data::DurationIso(s) => s.clone(),
        Data::Error(e) => format!("#{e:?}"),
    }
}

/// Every sheet of the workbook at `path`, in the workbook's order. The header of a sheet is its
/// first row with any text; rows are numbered as the spreadsheet numbers them.
pub(crate) fn read(path: &Path) -> Result<Vec<SheetGrid>, HistoryError> {
    crate::analyze::inputs::ensure_regular_file(path)?;
    let bad = |detail: String| -> HistoryError {
        InputError::new(
            path,
            None,
            format!("cannot read this workbook: {detail}"),
            "save it again from the spreadsheet as .xlsx (or .ods, or CSV UTF-8)",
        )
        .into()
    };
    let mut book = open_workbook_auto(path).map_err(|e| bad(e.to_string()))?;
    let names: Vec<String> = book.sheet_names().to_vec();
    let mut out = Vec::with_capacity(names.len());
    for name in names {
        let range = book.worksheet_range(&name).map_err(|e| bad(format!("sheet {name}: {e}")))?;
        let first_row = range.start().map(|(r, _)| r as usize).unwrap_or(0);
        let mut rows = range.rows().enumerate().map(|(i, cells)| (first_row + i + 1, cells));
        let mut header = None;
        for (line, cells) in rows.by_ref() {
            let texts: Vec<String> = cells.iter().map(text).collect();
            if texts.iter().any(|t| !t.trim().is_empty()) {
                header = Some((line, texts));
                break;
            }
        }
        let Some((header_line, headers)) = header else {
            out.push(SheetGrid { name, grid: Grid { header_line: 1, headers: Vec::new(), rows: Vec::new() } });
            continue;
        };
        let rows = rows.map(|(line, cells)| (line, cells.iter().map(text).collect())).collect();
        out.push(SheetGrid { name, grid: Grid { header_line, headers, rows } });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_at_midnight_read_as_dates() {
        assert_eq!(date_text("2026-12-01T00:00:00"), "2026-12-01");
        assert_eq!(date_text("2026-12-01 00:00:00"), "2026-12-01");
        assert_eq!(date_text(" 2026-12-01 "), "2026-12-01");
        assert_eq!(date_text("2026-12-01T09:30:00"), "2026-12-01T09:30:00");
        assert_eq!(date_text("1 Dec 2026"), "1 Dec 2026");
    }

    #[test]
    fn cells_read_as_the_text_shown() {
        assert_eq!(text(&Data::Float(4.0)), "4");
        assert_eq!(text(&Data::Float(4.5)), "4.5");
        assert_eq!(text(&Data::Int(-3)), "-3");
        assert_eq!(text(&Data::String("=1+1".into())), "=1+1");
        assert_eq!(text(&Data::Empty), "");
    }
}
