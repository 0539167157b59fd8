//! The severity colours, defined once: the report's severity badges (CSS generated from this
//! table), the findings-by-rule chart and the open-findings trend all draw from it, so a colour
//! means the same severity wherever a reader meets it.
//!
//! Dark to light with falling alarm, so the order reads without hue too; each is dark enough
//! for the badges' white text and for a 2 px line on white.
use crate::analyze::Severity;

/// `(severity, red, green, blue)`, most severe first.
pub const SEVERITY: [(Severity, u8, u8, u8); 5] = [
    (Severity::Critical, 0x7f, 0x00, 0x00),
    (Severity::High, 0xc0, 0x39, 0x2b),
    (Severity::Medium, 0xb9, 0x77, 0x0e),
    (Severity::Low, 0x2e, 0x86, 0xc1),
    (Severity::Info, 0x7f, 0x8c, 0x8d),
];

pub fn severity_rgb(s: Severity) -> (u8, u8, u8) {
    SEVERITY.iter().find(|(x, ..)| *x == s).map_or((0x7f, 0x8c, 0x8d), |(_, r, g, b)| (*r, *g, *b))
}

/// `#c0392b`.
pub fn severity_hex(s: Severity) -> String {
    let (r, g, b) = severity_rgb(s);
    format!("#{r:02x}{g:02x}{b:02x}")
}

/// The badge rules the HTML report's stylesheet includes: `.sev-high { background: #c0392b; }`.
pub fn severity_css() -> String {
    SEVERITY
        .iter()
        .map(|(s, ..)| format!(".sev-{} {{ background: {}; }}", s.as_str(), severity_hex(*s)))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_severity_has_one_colour_and_no_two_share_it() {
        for s in Severity::ALL {
            assert_eq!(SEVERITY.iter().filter(|(x, ..)| *x == s).count(), 1, "{s}");
        }
        let hexes: std::collections::BTreeSet<String> = Severity::ALL.iter().map(|s| severity_hex(*s)).collect();
        assert_eq!(hexes.len(), Severity::ALL.len());
    }

    #[test]
    fn the_css_names_each_severity_with_its_colour() {
        let css = severity_css();
        assert!(css.contains(".sev-high { background: #c0392b; }"), "{css}");
        assert!(css.contains(".sev-critical { background: #7f0000; }"), "{css}");
    }

    /// White badge text must stay legible: WCAG relative luminance of each colour against white
    /// gives a contrast of at least 3:1 (large or bold text).
    #[test]
    fn white_text_is_legible_on_every_badge() {
        let lin = |c: u8| {
            let c = f64::from(c) / 255.0;
            if c <= 0.04045 {
                c / 12.92
            } else {
                ((c + 0.055) / 1.055).powf(2.4)
            }
        };
        for (s, r, g, b) in SEVERITY {
            let l = 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
            let contrast = 1.05 / (l + 0.05);
            assert!(contrast >= 3.0, "{s}: contrast {contrast:.2}");
        }
    }
}
