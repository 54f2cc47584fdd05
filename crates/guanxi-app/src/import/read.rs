//! A file as rows of text, whatever it came as: CSV in UTF-8 (with or without the byte-order
//! mark Excel writes), GBK / GB18030 (what Chinese Excel and WPS save as "CSV"), or UTF-16
//! (Excel's "Unicode text"), separated by commas, semicolons or tabs; or a workbook (xlsx,
//! xls, ods) with its sheets. Cells come out as people read them: a phone number Excel keeps
//! as the number 13800138000.0 reads `13800138000`, a date cell `1990-08-15`.

use std::io::Cursor;

use calamine::{open_workbook_auto_from_rs, Data, Reader};
use guanxi_domain::ValidationErrors;

/// Most data rows one import takes.
pub const MAX_ROWS: usize = 200_000;

/// One sheet (a CSV file is one sheet without a name): its header row and data rows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Table {
    /// The header row, trimmed.
    pub headers: Vec<String>,
    /// The data rows, each as long as the header (short rows padded with empty cells).
    pub rows: Vec<Vec<String>>,
}

/// A file's sheets by name, in the file's order; a CSV file has one, named "".
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Workbook {
    /// (name, table).
    pub sheets: Vec<(String, Table)>,
}

impl Workbook {
    /// The named sheet, or the first when none is named (or the name is unknown).
    pub fn sheet(&self, name: Option<&str>) -> Option<(&str, &Table)> {
        name.and_then(|n| self.sheets.iter().find(|(s, _)| s == n))
            .or_else(|| self.sheets.first())
            .map(|(n, t)| (n.as_str(), t))
    }
}

/// Reads a file by its content (not its name): a zip is an xlsx or ods workbook, an OLE file
/// an xls one, anything else text. A problem is a field-level error on `file`.
pub fn read_file(bytes: &[u8]) -> Result<Workbook, ValidationErrors> {
    let bad = |code: &'static str| ValidationErrors::single("file", code);
    if bytes.is_empty() {
        return Err(bad("required"));
    }
    let workbook =
        if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
            read_workbook(bytes).ok_or_else(|| bad("unreadable_file"))?
        } else {
            let text = decode_text(bytes).ok_or_else(|| bad("unknown_encoding"))?;
            Workbook {
                sheets: vec![(String::new(), read_csv(&text)?)],
            }
        };
    if workbook.sheets.iter().all(|(_, t)| t.headers.is_empty()) {
        return Err(bad("empty_file"));
    }
    if workbook.sheets.iter().any(|(_, t)| t.rows.len() > MAX_ROWS) {
        return Err(bad("too_many_rows"));
    }
    Ok(workbook)
}

/// Text in the encoding it was written in: UTF-8 (a BOM dropped), UTF-16 with its BOM, else
/// GB18030 (a superset of GBK and GB2312). `None` when none of them reads it cleanly.
pub fn decode_text(bytes: &[u8]) -> Option<String> {
    if let Some((enc, bom)) = encoding_rs::Encoding::for_bom(bytes) {
        let (text, had_errors) = enc.decode_without_bom_handling(&bytes[bom..]);
        return (!had_errors).then(|| text.into_owned());
    }
    if let Ok(s) = std::str::from_utf8(bytes) {
        return Some(s.to_string());
    }
    encoding_rs::GB18030
        .decode_without_bom_handling_and_without_replacement(bytes)
        .map(|t| t.into_owned())
}

/// The separator the header line uses most: comma, semicolon or tab.
fn separator(text: &str) -> u8 {
    let first = text.lines().next().unwrap_or("");
    [b',', b';', b'\t']
        .into_iter()
        .max_by_key(|s| first.bytes().filter(|b| b == s).count())
        .unwrap_or(b',')
}

/// A CSV text as a table. A row shorter than the header is padded (spreadsheets drop trailing
/// empty cells); a row with more non-empty cells than the header has columns would lose data,
/// so it is refused with its line (`rows[<line>]`), as is a broken quote.
fn read_csv(text: &str) -> Result<Table, ValidationErrors> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(separator(text))
        .from_reader(text.as_bytes());
    let mut records = rdr.records();
    let malformed = |e: csv::Error| {
        let line = e.position().map(|p| p.line()).unwrap_or(0);
        ValidationErrors::single(format!("rows[{line}]"), "malformed_csv")
    };
    let headers: Vec<String> = match records.next() {
        Some(r) => r
            .map_err(malformed)?
            .iter()
            .map(|h| h.trim().to_string())
            .collect(),
        None => return Ok(Table::default()),
    };
    let mut rows = Vec::new();
    for r in records {
        let r = r.map_err(malformed)?;
        if r.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        if r.iter().skip(headers.len()).any(|c| !c.trim().is_empty()) {
            let line = r.position().map(|p| p.line()).unwrap_or(0);
            return Err(ValidationErrors::single(
                format!("rows[{line}]"),
                "too_many_cells",
            ));
        }
        let cells: Vec<String> = r.iter().take(headers.len()).map(str::to_string).collect();
        rows.push(padded(cells, headers.len()));
        if rows.len() > MAX_ROWS {
            break;
        }
    }
    Ok(Table { headers, rows })
}

fn padded(mut row: Vec<String>, width: usize) -> Vec<String> {
    if row.len() < width {
        row.resize(width, String::new());
    }
    row
}

fn read_workbook(bytes: &[u8]) -> Option<Workbook> {
    let mut book = open_workbook_auto_from_rs(Cursor::new(bytes.to_vec())).ok()?;
    let mut sheets = Vec::new();
    for name in book.sheet_names() {
        let range = book.worksheet_range(&name).ok()?;
        let mut rows = range
            .rows()
            .map(|r| r.iter().map(cell_text).collect::<Vec<String>>())
            .filter(|r| r.iter().any(|c| !c.trim().is_empty()));
        let headers: Vec<String> = rows
            .next()
            .map(|h| h.into_iter().map(|c| c.trim().to_string()).collect())
            .unwrap_or_default();
        let width = headers.len();
        let rows = rows.take(MAX_ROWS + 1).map(|r| padded(r, width)).collect();
        sheets.push((name, Table { headers, rows }));
    }
    Some(Workbook { sheets })
}

/// A cell as text, the way the sheet shows it.
fn cell_text(c: &Data) -> String {
    match c {
        Data::Empty | Data::Error(_) => String::new(),
        Data::String(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Bool(b) => if *b { "true" } else { "false" }.to_string(),
        Data::DateTime(d) => match d.as_datetime() {
            Some(t) if t.time() == chrono::NaiveTime::MIN => t.date().to_string(),
            Some(t) => t.format("%Y-%m-%d %H:%M:%S").to_string(),
            None => d.as_f64().to_string(),
        },
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gbk_csv_is_read_as_chinese() {
        let (bytes, _, _) = encoding_rs::GBK.encode("姓名,手机\n张伟,13800138000\n");
        let wb = read_file(&bytes).unwrap();
        let (_, t) = wb.sheet(None).unwrap();
        assert_eq!(t.headers, vec!["姓名", "手机"]);
        assert_eq!(t.rows, vec![vec!["张伟".to_string(), "13800138000".into()]]);
    }

    #[test]
    fn utf8_bom_and_semicolons() {
        let wb = read_file("\u{feff}name;email\nAnna;a@b.de\n\n".as_bytes()).unwrap();
        let (_, t) = wb.sheet(None).unwrap();
        assert_eq!(t.headers, vec!["name", "email"]);
        assert_eq!(t.rows.len(), 1);
    }

    #[test]
    fn utf16_with_tabs() {
        let mut bytes = vec![0xFF, 0xFE];
        for u in "姓名\t城市\r\n李娜\t上海\r\n".encode_utf16() {
            bytes.extend(u.to_le_bytes());
        }
        let wb = read_file(&bytes).unwrap();
        assert_eq!(wb.sheet(None).unwrap().1.rows[0][1], "上海");
    }

    #[test]
    fn xlsx_numbers_and_dates_read_as_shown() {
        use rust_xlsxwriter::{ExcelDateTime, Format, Workbook as Xlsx};
        let mut book = Xlsx::new();
        let s = book.add_worksheet().set_name("客户").unwrap();
        s.write(0, 0, "姓名").unwrap();
        s.write(0, 1, "手机").unwrap();
        s.write(0, 2, "生日").unwrap();
        s.write(1, 0, "王芳").unwrap();
        s.write(1, 1, 13_912_345_678.0).unwrap();
        let date = ExcelDateTime::from_ymd(1990, 8, 15).unwrap();
        s.write_datetime_with_format(1, 2, &date, &Format::new().set_num_format("yyyy-mm-dd"))
            .unwrap();
        let bytes = book.save_to_buffer().unwrap();
        let wb = read_file(&bytes).unwrap();
        let (name, t) = wb.sheet(None).unwrap();
        assert_eq!(name, "客户");
        assert_eq!(t.rows[0], vec!["王芳", "13912345678", "1990-08-15"]);
    }

    /// The browser test's fixtures: a GBK CSV as Chinese Excel saves it, and a workbook whose
    /// customers are on its second sheet with numbers and dates as Excel keeps them.
    #[test]
    fn the_fixtures_read_as_written() {
        let csv = read_file(include_bytes!(
            "../../../../tests/fixtures/customers-gbk.csv"
        ))
        .unwrap();
        let (_, t) = csv.sheet(None).unwrap();
        assert_eq!(t.headers[0], "姓名");
        assert_eq!(t.rows[2][0], "e2e 赵敏");
        let xlsx = read_file(include_bytes!("../../../../tests/fixtures/customers.xlsx")).unwrap();
        assert_eq!(xlsx.sheets.len(), 2);
        let (_, t) = xlsx.sheet(Some("客户名单")).unwrap();
        assert_eq!(
            t.rows[0],
            vec![
                "e2e Amy Lin",
                "13512340011",
                "amy@e2e.test",
                "上海",
                "1990-05-06"
            ]
        );
    }

    #[test]
    fn a_row_longer_than_the_header_is_refused_with_its_line() {
        let e = read_file("name,city\nAnn,上海\nBob\nCid,北京,extra\n".as_bytes()).unwrap_err();
        assert_eq!(
            (e.0[0].field.as_str(), e.0[0].message_key),
            ("rows[4]", "too_many_cells")
        );
        let ok = read_file(b"name,city\nAnn\n").unwrap();
        assert_eq!(ok.sheet(None).unwrap().1.rows[0], vec!["Ann", ""]);
    }

    #[test]
    fn bad_files_are_field_errors() {
        assert!(read_file(b"").is_err());
        assert!(read_file(b"PK\x03\x04 not really a zip").is_err());
        assert!(read_file(&[0xFF, 0xFF, 0x81, 0x30, 0xFF]).is_err());
    }
}
