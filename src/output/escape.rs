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

/// Text split at its Markdown code spans (`` `heroku members:remove EMAIL` ``): `(text, true)` for
/// a code span's content, `(text, false)` for what is around it. An unclosed backtick is text.
fn code_spans(value: &str) -> Vec<(&str, bool)> {
    let mut out = Vec::new();
    let mut rest = value;
    while let Some(open) = rest.find('`') {
        let run = rest[open..].chars().take_while(|c| *c == '`').count();
        let fence = &rest[open..open + run];
        let after = &rest[open + run..];
        let Some(close) = after.find(fence) else { break };
        if open > 0 {
            out.push((&rest[..open], false));
        }
        out.push((&after[..close], true));
        rest = &after[close + run..];
    }
    if !rest.is_empty() {
        out.push((rest, false));
    }
    out
}

/// Remediation text for HTML: escaped, with its Markdown code spans as `<code>`.
pub fn html_code_spans(value: &str) -> String {
    code_spans(value)
        .into_iter()
        .map(|(t, code)| if code { format!("<code>{}</code>", escape_html(t)) } else { escape_html(t) })
        .collect()
}

/// Remediation text for Markdown: its code spans stay code spans, everything else escaped as
/// [`escape_markdown`] does.
pub fn markdown_code_spans(value: &str) -> String {
    code_spans(value).into_iter().map(|(t, code)| if code { markdown_code(t) } else { escape_markdown(t) }).collect()
}

/// One Markdown code span holding `value` (fenced with more backticks than it holds, on one
/// line). Inside a code span nothing can be escaped, and a lenient renderer may still read
/// markup, a link or a table cell there: such a value is shown escaped instead.
pub fn markdown_code(value: &str) -> String {
    if value.contains(['<', '>', '&', '[', ']', '(', ')', '!', '|', '*', '\\']) {
        return escape_markdown(value);
    }
    let inner: String = value
        .chars()
        .map(|c| match c {
            '\n' | '\r' | '\t' | '\u{2028}' | '\u{2029}' => ' ',
            c if c.is_control() || is_bidi_control(c) => '\u{FFFD}',
            c => c,
        })
        .collect();
    let longest = inner.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    let pad = if inner.starts_with('`') || inner.ends_with('`') { " " } else { "" };
    format!("{fence}{pad}{inner}{pad}{fence}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remediation_code_spans_render_as_code_in_html_and_stay_code_in_markdown() {
        let text = "Remove them (`heroku members:remove EMAIL --team TEAM`) <b>now</b>, or `x";
        assert_eq!(
            html_code_spans(text),
            "Remove them (<code>heroku members:remove EMAIL --team TEAM</code>) &lt;b&gt;now&lt;&#x2f;b&gt;, or `x"
        );
        assert_eq!(
            markdown_code_spans(text),
            "Remove them (`heroku members:remove EMAIL --team TEAM`) &lt;b&gt;now&lt;/b&gt;, or \\`x"
        );
        // A code span cannot be broken out of: a backtick inside gets a longer fence.
        assert_eq!(markdown_code_spans("``a ` b\nc``"), "``a ` b c``");
        assert_eq!(html_code_spans("`<script>`"), "<code>&lt;script&gt;</code>");
        assert_eq!(markdown_code_spans("`<img src=x>`"), "&lt;img src=x&gt;");
    }

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
