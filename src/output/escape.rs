//! The one escaping function per format: a template cannot forget it, a hostile name cannot get
//! out of its cell.

/// A cell a spreadsheet would evaluate (`=`, `+`, `-`, `@`, tab, CR at the start) gets a leading
/// apostrophe, OWASP's advice for CSV injection: shown as text, never run.
pub fn neutralise_csv_cell(value: &str) -> String {
    match value.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{value}"),
        _ => value.to_owned(),
    }
}

/// Characters that change how the text around them reads without showing themselves:
/// bidirectional embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069). A hostile
/// name could otherwise make a reviewer read another cell backwards; they become U+FFFD, as in
/// the charts.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// The one escaping function for HTML (`index.html`): `<`, `>`, `&`, `"`, `'`, `/` become entities,
/// bidirectional controls and control characters other than tab and newline become U+FFFD.
pub fn escape_html(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            '/' => out.push_str("&#x2f;"),
            '\t' | '\n' => out.push(c),
            c if c.is_control() || is_bidi_control(c) => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// The one escaping function for Markdown (`cost.md`, `risk.md`, `diff.md`, `closure.md`), for
/// a value inside a line or a table cell. Markdown renderers pass inline HTML through, so `<`,
/// `>` and `&` become entities; every character Markdown gives a meaning inside a line (`|` ends
/// a table cell; `\`, `` ` ``, `*`, `_`, `~`, `[`, `]`, `!`, `#` start code, emphasis,
/// strikethrough, links, images, headings) is backslash-escaped; a line break of any kind becomes
/// a space, so a value never starts a new line, ends a table row or opens a block; bidirectional
/// controls and other control characters become U+FFFD, as in HTML.
pub fn escape_markdown(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '|' | '\\' | '`' | '*' | '_' | '~' | '[' | ']' | '!' | '#' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' | '\t' | '\u{0B}' | '\u{0C}' | '\u{85}' | '\u{2028}' | '\u{2029}' => out.push(' '),
            c if c.is_control() || is_bidi_control(c) => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_are_neutralised() {
        for hostile in ["=HYPERLINK(\"http://evil.example\")", "+1", "-2", "@SUM(A1)", "\tx", "\rx"] {
            assert!(neutralise_csv_cell(hostile).starts_with('\''), "{hostile:?}");
        }
        assert_eq!(neutralise_csv_cell("alice@acme.example"), "alice@acme.example");
    }

    #[test]
    fn markdown_escapes_html_and_table_breakers() {
        assert_eq!(escape_markdown("<script>alert(1)</script>|x"), "&lt;script&gt;alert(1)&lt;/script&gt;\\|x");
        assert_eq!(escape_markdown("a\nb\r\nc\u{2028}d"), "a b  c d", "no value starts a line");
        assert_eq!(escape_markdown("![x](y) ~~z~~ # h"), "\\!\\[x\\](y) \\~\\~z\\~\\~ \\# h");
        assert_eq!(escape_markdown("evil\u{202E}txt.exe\u{2066}"), "evil\u{FFFD}txt.exe\u{FFFD}");
    }

    #[test]
    fn html_escapes_markup_and_bidi_controls() {
        assert_eq!(escape_html("<img src=x onerror='a()'>&\""), "&lt;img src=x onerror=&#x27;a()&#x27;&gt;&amp;&quot;");
        for c in
            ['\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{202E}', '\u{2066}', '\u{2067}', '\u{2068}', '\u{2069}']
        {
            assert_eq!(escape_html(&format!("a{c}b")), "a\u{FFFD}b", "U+{:04X}", c as u32);
        }
        assert_eq!(escape_html("\u{0}\u{1b}[31m"), "\u{FFFD}\u{FFFD}[31m");
    }
}
