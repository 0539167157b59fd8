//! A reviewer's workbook: the grants they review, one sheet per team (Enterprise Account
//! membership and personal apps on sheets of their own), as `.xlsx` and as `.csv`.
//!
//! Every value from Heroku is written as a typed cell (`write_string`, `write_number`): a name
//! like `=HYPERLINK(...)` is text in the workbook, never a formula. The only formulas in the file
//! are the ones written here (the highlighting of a missing justification), built from column
//! letters, never from data.
use rust_xlsxwriter::{
    ConditionalFormatFormula, DataValidation, DataValidationErrorStyle, Format, FormatBorder, Workbook, XlsxError,
};

use super::campaign::{Campaign, Item};
use crate::history::HistoryError;

/// Columns the workbook adds after the grant's own, in this order: the recommendation beside
/// the decision it recommends.
pub const DECISION_COLUMNS: [&str; 7] = [
    "recommended_decision",
    "recommendation_reason",
    "decision",
    "justification",
    "justification_required",
    "reviewer",
    "decision_date",
];

/// `justification_required` for a row with a finding: any decision needs a reason.
pub const REQUIRED_ALWAYS: &str = "for Approve and Deny";
/// `justification_required` for a row without one.
pub const REQUIRED_FOR_DENY: &str = "for Deny";

/// Columns written as numbers when their text is a whole number.
const NUMERIC: [&str; 1] = ["days_inactive"];

/// The name of the sheet that explains the workbook; it has no `decision` column, so it is never
/// read back as decisions.
pub const ABOUT_SHEET: &str = "About this review";

/// One row of a workbook, as text: the grant's columns, then [`DECISION_COLUMNS`].
pub fn row_cells(columns: &[String], item: &Item, cells: &[String], reviewer: &str) -> Vec<String> {
    debug_assert_eq!(columns.len(), cells.len());
    let mut out = cells.to_vec();
    out.extend([
        item.recommended.clone(),
        item.reason.clone(),
        String::new(),
        String::new(),
        if item.flagged { REQUIRED_ALWAYS } else { REQUIRED_FOR_DENY }.to_owned(),
        reviewer.to_owned(),
        String::new(),
    ]);
    out
}

pub fn header(columns: &[String]) -> Vec<String> {
    columns.iter().cloned().chain(DECISION_COLUMNS.iter().map(|c| (*c).to_owned())).collect()
}

/// Excel's rules for a sheet name: at most 31 characters, none of `[]:*?/\`, not starting or
/// ending with an apostrophe, unique regardless of case, and not `History`.
pub fn sheet_name(wanted: &str, taken: &[String]) -> String {
    let mut base: String = wanted
        .chars()
        .map(|c| if matches!(c, '[' | ']' | ':' | '*' | '?' | '/' | '\\') || c.is_control() { '_' } else { c })
        .collect();
    base = base.trim_matches('\'').trim().to_owned();
    if base.is_empty() || base.eq_ignore_ascii_case("history") || base.eq_ignore_ascii_case(ABOUT_SHEET) {
        base = format!("{base} sheet").trim().to_owned();
    }
    let fit =
        |s: &str, room: usize| -> String { s.chars().take(room).collect::<String>().trim_end_matches('\'').to_owned() };
    let mut name = fit(&base, 31);
    let mut n = 2;
    while taken.iter().any(|t| t.eq_ignore_ascii_case(&name)) {
        let suffix = format!(" ({n})");
        name = format!("{}{suffix}", fit(&base, 31 - suffix.chars().count()));
        n += 1;
    }
    name
}

fn col_letter(mut col: u16) -> String {
    let mut s = Vec::new();
    loop {
        s.push(b'A' + (col % 26) as u8);
        if col < 26 {
            break;
        }
        col = col / 26 - 1;
    }
    s.reverse();
    String::from_utf8(s).unwrap_or_default()
}

fn xlsx_error(path: &str) -> impl Fn(XlsxError) -> HistoryError + '_ {
    move |source| HistoryError::Workbook { path: path.to_owned(), source }
}

/// A sheet's rows: the group's title and each row's cells.
pub struct Sheet<'a> {
    pub title: &'a str,
    pub rows: Vec<Vec<String>>,
}

/// The `.xlsx` bytes of one reviewer's workbook.
pub fn xlsx(
    campaign: &Campaign,
    reviewer: &str,
    header: &[String],
    sheets: &[Sheet<'_>],
    path_for_errors: &str,
) -> Result<Vec<u8>, HistoryError> {
    let err = xlsx_error(path_for_errors);
    let mut book = Workbook::new();
    let head = Format::new().set_bold().set_background_color("#D9E1F2").set_border_bottom(FormatBorder::Thin);
    let deny = Format::new().set_bold().set_font_color("#9C0006");
    let missing = Format::new().set_background_color("#FFC7CE").set_font_color("#9C0006");
    let col = |name: &str| header.iter().position(|h| h == name).map(|i| i as u16);
    let (Some(decision), Some(justification), Some(recommended), Some(required)) =
        (col("decision"), col("justification"), col("recommended_decision"), col("justification_required"))
    else {
        // The header comes from hkaudit's own worksheet columns, so this is a bug, not an input.
        return Err(HistoryError::Workbook {
            path: path_for_errors.to_owned(),
            source: XlsxError::ParameterError("the header lacks the decision columns (a bug in hkaudit)".into()),
        });
    };
    let numeric: Vec<bool> = header.iter().map(|h| NUMERIC.contains(&h.as_str())).collect();
    let mut taken: Vec<String> = Vec::new();
    for sheet in sheets {
        let name = sheet_name(sheet.title, &taken);
        taken.push(name.clone());
        let ws = book.add_worksheet();
        ws.set_name(&name).map_err(&err)?;
        for (c, h) in header.iter().enumerate() {
            let c = c as u16;
            ws.write_string_with_format(0, c, h, &head).map_err(&err)?;
            let width = match h.as_str() {
                "user_email" | "recommendation_reason" | "justification" => 36.0,
                "permissions" | "team" | "app" | "enterprise_account" | "flags" | "decision" => 20.0,
                _ => 14.0,
            };
            ws.set_column_width(c, width).map_err(&err)?;
        }
        for (r, cells) in sheet.rows.iter().enumerate() {
            let r = r as u32 + 1;
            for (c, value) in cells.iter().enumerate() {
                let cn = c as u16;
                if value.is_empty() {
                    continue;
                }
                // Only a canonical whole number becomes a number cell: `007` or `>180` stays text.
                let number = numeric[c]
                    .then(|| value.parse::<i64>().ok())
                    .flatten()
                    .filter(|n| n.to_string() == *value && n.unsigned_abs() < 1 << 50);
                match number {
                    Some(n) => {
                        ws.write_number(r, cn, n as f64).map_err(&err)?;
                    }
                    _ if cn == recommended && value == "Deny" => {
                        ws.write_string_with_format(r, cn, value, &deny).map_err(&err)?;
                    }
                    _ => {
                        ws.write_string(r, cn, value).map_err(&err)?;
                    }
                }
            }
        }
        let last_row = sheet.rows.len().max(1) as u32;
        let last_col = header.len().saturating_sub(1) as u16;
        ws.set_freeze_panes(1, 0).map_err(&err)?;
        ws.autofilter(0, 0, last_row, last_col).map_err(&err)?;
        let words: Vec<&str> = crate::history::Decision::CHOICES.to_vec();
        let validation = DataValidation::new()
            .allow_list_strings(&words)
            .map_err(&err)?
            .set_input_title("Decision")
            .map_err(&err)?
            .set_input_message(
                "Approve keeps the access, Deny removes it, Don't know sends it back to the campaign owner.",
            )
            .map_err(&err)?
            .set_error_style(DataValidationErrorStyle::Stop)
            .set_error_title("Not a decision")
            .map_err(&err)?
            .set_error_message("Choose Approve, Deny or Don't know from the list.")
            .map_err(&err)?;
        ws.add_data_validation(1, decision, last_row, decision, &validation).map_err(&err)?;
        let justify = DataValidation::new()
            .allow_any_value()
            .set_input_title("Justification")
            .map_err(&err)?
            .set_input_message(
                "Required for Deny, and for Approve of a row with a finding (see justification_required).",
            )
            .map_err(&err)?;
        ws.add_data_validation(1, justification, last_row, justification, &justify).map_err(&err)?;
        // Red until a justification is written where one is required.
        let (d, j, q) = (col_letter(decision), col_letter(justification), col_letter(required));
        let rule =
            format!("=AND(LEN(TRIM(${j}2))=0,OR(${d}2=\"Deny\",AND(${d}2=\"Approve\",${q}2=\"{REQUIRED_ALWAYS}\")))");
        let highlight = ConditionalFormatFormula::new().set_rule(rule.as_str()).set_format(&missing);
        ws.add_conditional_format(1, justification, last_row, justification, &highlight).map_err(&err)?;
    }
    about_sheet(&mut book, campaign, reviewer, &err)?;
    book.save_to_buffer().map_err(&err)
}

fn about_sheet(
    book: &mut Workbook,
    campaign: &Campaign,
    reviewer: &str,
    err: &dyn Fn(XlsxError) -> HistoryError,
) -> Result<(), HistoryError> {
    let ws = book.add_worksheet();
    ws.set_name(ABOUT_SHEET).map_err(err)?;
    ws.set_column_width(0, 22.0).map_err(err)?;
    ws.set_column_width(1, 100.0).map_err(err)?;
    let bold = Format::new().set_bold();
    let lines: Vec<(&str, String)> = vec![
        ("campaign", campaign.id.clone()),
        ("reviewer", reviewer.to_owned()),
        ("snapshot", format!("{} (as of {})", campaign.snapshot.id, campaign.snapshot.as_of.format("%Y-%m-%dT%H:%M:%SZ"))),
        ("period", campaign.period.clone()),
        ("due", campaign.due.to_string()),
        ("what to do", "For every row of every other sheet, choose a decision: Approve keeps the access, Deny removes it, Don't know returns it to the campaign owner.".into()),
        ("justification", "Write why for every Deny, and for every Approve of a row whose justification_required says \"for Approve and Deny\" (the row has a finding: see flags and recommendation_reason). A missing one shows red.".into()),
        ("recommendation", "recommended_decision is hkaudit's suggestion from the audit's findings, in the words of the decision column; the decision is yours.".into()),
        ("do not change", "the grant columns (snapshot_id, enterprise_account, team, app, grant_type, user_email): they say which access a decision is about.".into()),
        ("when done", "Save the workbook (xlsx, ods or csv all work) and send it back to the campaign owner.".into()),
    ];
    for (r, (k, v)) in lines.iter().enumerate() {
        ws.write_string_with_format(r as u32, 0, *k, &bold).map_err(err)?;
        ws.write_string(r as u32, 1, v).map_err(err)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sheet_names_follow_excels_rules() {
        let mut taken = Vec::new();
        for wanted in ["acme-web", "ACME-WEB", "a/b:c*d?e[f]g\\h", "'quoted'", "History", "x".repeat(40).as_str()] {
            let n = sheet_name(wanted, &taken);
            assert!(n.chars().count() <= 31, "{n}");
            assert!(!n.contains(['[', ']', ':', '*', '?', '/', '\\']), "{n}");
            assert!(!n.starts_with('\'') && !n.ends_with('\''), "{n}");
            assert!(!taken.iter().any(|t: &String| t.eq_ignore_ascii_case(&n)), "{n} twice");
            taken.push(n);
        }
        assert_eq!(taken[0], "acme-web");
        assert_eq!(taken[1], "ACME-WEB (2)");
        assert_eq!(taken[2], "a_b_c_d_e_f_g_h");
        assert_eq!(taken[3], "quoted");
        assert_eq!(taken[4], "History sheet");
        assert_eq!(taken[5], "x".repeat(31));
    }

    #[test]
    fn column_letters() {
        assert_eq!([0, 25, 26, 27, 51, 52, 701, 702].map(col_letter), ["A", "Z", "AA", "AB", "AZ", "BA", "ZZ", "AAA"]);
    }
}
