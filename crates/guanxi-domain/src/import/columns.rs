//! The fields a column of an import can fill, and the guess the wizard offers for each column:
//! first by its header (Chinese or English, as other systems and Excel templates name them),
//! then by what the column holds (a column of 11-digit numbers starting with 1 is a mobile).

/// Fields a column can map to, in the order the wizard lists them.
pub const FIELDS: &[&str] = &[
    "name",
    "kind",
    "gender",
    "birthday",
    "birthday_lunar",
    "id_number",
    "province",
    "city",
    "address",
    "time_zone",
    "employer",
    "job_title",
    "industry",
    "lifecycle_stage",
    "tags",
    "source_channel",
    "mobile",
    "phone",
    "email",
    "wechat",
    "qq",
    "consent_marketing",
];

/// Header spellings per field, compared after [`header_key`] (lower case, no spaces, dashes,
/// underscores, colons or asterisks).
const HEADERS: &[(&str, &[&str])] = &[
    (
        "name",
        &[
            "name",
            "姓名",
            "名字",
            "客户",
            "客户名",
            "客户名称",
            "客户姓名",
            "名称",
            "fullname",
            "customer",
            "customername",
            "联系人",
            "联系人姓名",
        ],
    ),
    (
        "kind",
        &["kind", "type", "类型", "客户类型", "customertype"],
    ),
    ("gender", &["gender", "sex", "性别"]),
    (
        "birthday",
        &[
            "birthday",
            "生日",
            "出生日期",
            "dateofbirth",
            "dob",
            "birthdate",
            "出生年月",
        ],
    ),
    (
        "birthday_lunar",
        &["birthdaylunar", "农历", "农历生日", "lunar"],
    ),
    (
        "id_number",
        &[
            "idnumber",
            "身份证",
            "身份证号",
            "身份证号码",
            "证件号",
            "证件号码",
            "idcard",
            "passport",
            "护照号",
        ],
    ),
    ("province", &["province", "state", "省", "省份"]),
    ("city", &["city", "城市", "市", "所在城市"]),
    (
        "address",
        &[
            "address",
            "地址",
            "联系地址",
            "详细地址",
            "street",
            "收货地址",
        ],
    ),
    ("time_zone", &["timezone", "时区"]),
    (
        "employer",
        &[
            "employer",
            "company",
            "单位",
            "工作单位",
            "公司",
            "公司名称",
            "organization",
        ],
    ),
    (
        "job_title",
        &["jobtitle", "title", "position", "职位", "职务", "头衔"],
    ),
    ("industry", &["industry", "行业", "所属行业"]),
    (
        "lifecycle_stage",
        &["lifecyclestage", "stage", "阶段", "客户阶段", "生命周期"],
    ),
    ("tags", &["tags", "tag", "标签", "客户标签"]),
    (
        "source_channel",
        &[
            "sourcechannel",
            "source",
            "channel",
            "来源",
            "来源渠道",
            "渠道",
        ],
    ),
    (
        "mobile",
        &[
            "mobile",
            "cell",
            "cellphone",
            "mobilephone",
            "手机",
            "手机号",
            "手机号码",
            "移动电话",
        ],
    ),
    (
        "phone",
        &[
            "phone",
            "telephone",
            "tel",
            "landline",
            "电话",
            "座机",
            "固定电话",
            "联系电话",
            "办公电话",
        ],
    ),
    (
        "email",
        &[
            "email",
            "mail",
            "emailaddress",
            "邮箱",
            "电子邮件",
            "电子邮箱",
            "邮件",
        ],
    ),
    (
        "wechat",
        &["wechat", "weixin", "wechatid", "微信", "微信号"],
    ),
    ("qq", &["qq", "qq号", "qq号码"]),
    (
        "consent_marketing",
        &[
            "consentmarketing",
            "consent",
            "marketingconsent",
            "optin",
            "同意营销",
            "营销同意",
            "接受营销",
        ],
    ),
];

/// A header as compared: lower case, without spaces, `_`, `-`, `:`, `：` or `*` (a template's
/// "required" mark), and without a byte-order mark.
pub fn header_key(h: &str) -> String {
    h.trim_start_matches('\u{feff}')
        .chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '_' | '-' | ':' | '：' | '*'))
        .flat_map(char::to_lowercase)
        .collect()
}

/// The field a header names, if any.
pub fn field_of_header(header: &str) -> Option<&'static str> {
    field_named(FIELDS, HEADERS, header)
}

/// Header spellings per field, as each kind of file lists them.
pub type HeaderNames = [(&'static str, &'static [&'static str])];

/// The field among `fields` a header names: the field's own name, else one of its spellings
/// in `names`, compared after [`header_key`].
pub fn field_named(
    fields: &[&'static str],
    names: &HeaderNames,
    header: &str,
) -> Option<&'static str> {
    let key = header_key(header);
    if let Some(f) = fields.iter().find(|f| f.replace('_', "") == key) {
        return Some(f);
    }
    names
        .iter()
        .find(|(_, spellings)| spellings.iter().any(|n| header_key(n) == key))
        .map(|(f, _)| *f)
}

/// Suggestions for a file of customers' records (orders, interactions): by header among
/// `fields` and their `names`, else by content — a column of mobiles or emails names the
/// customer, a column of dates is `date_field`.
pub fn suggest_record_fields(
    fields: &[&'static str],
    names: &HeaderNames,
    date_field: &'static str,
    headers: &[String],
    rows: &[Vec<String>],
) -> Vec<Option<&'static str>> {
    suggest_with(
        headers,
        rows,
        |h| field_named(fields, names, h),
        |v| match field_of_values(v)? {
            "birthday" => Some(date_field),
            f @ ("mobile" | "email") => Some(f),
            _ => None,
        },
    )
}

/// The field a column's values suggest, when every non-empty sample (at least three) looks
/// the same way; `None` when the column is mixed or too sparse to say.
pub fn field_of_values<'a>(values: impl IntoIterator<Item = &'a str>) -> Option<&'static str> {
    let samples: Vec<&str> = values
        .into_iter()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .take(50)
        .collect();
    if samples.len() < 3 {
        return None;
    }
    let all = |f: fn(&str) -> bool| samples.iter().all(|v| f(v));
    if all(is_mobile) {
        Some("mobile")
    } else if all(is_email) {
        Some("email")
    } else if all(is_id_number) {
        Some("id_number")
    } else if all(is_landline) {
        Some("phone")
    } else if all(is_date) {
        Some("birthday")
    } else if all(is_gender) {
        Some("gender")
    } else {
        None
    }
}

/// One suggestion per column: by header, else by content; a field already taken by an
/// earlier column is not suggested twice. `rows` are the first data rows.
pub fn suggest_fields(headers: &[String], rows: &[Vec<String>]) -> Vec<Option<&'static str>> {
    suggest_with(headers, rows, field_of_header, |v| field_of_values(v))
}

/// [`suggest_fields`] with another entity's guesses by header and by content (orders).
pub fn suggest_with<'r>(
    headers: &[String],
    rows: &'r [Vec<String>],
    by_header: impl Fn(&str) -> Option<&'static str>,
    by_values: impl Fn(&mut dyn Iterator<Item = &'r str>) -> Option<&'static str>,
) -> Vec<Option<&'static str>> {
    let mut taken: Vec<&'static str> = Vec::new();
    let mut out: Vec<Option<&'static str>> = headers
        .iter()
        .map(|h| {
            let f = by_header(h).filter(|f| !taken.contains(f));
            if let Some(f) = f {
                taken.push(f);
            }
            f
        })
        .collect();
    for (i, slot) in out.iter_mut().enumerate() {
        if slot.is_some() {
            continue;
        }
        let mut column = rows
            .iter()
            .map(|r| r.get(i).map(String::as_str).unwrap_or(""));
        if let Some(f) = by_values(&mut column).filter(|f| !taken.contains(f)) {
            taken.push(f);
            *slot = Some(f);
        }
    }
    out
}

fn digits(v: &str) -> String {
    v.chars().filter(char::is_ascii_digit).collect()
}

fn is_mobile(v: &str) -> bool {
    let clean = v.trim_start_matches('+');
    if !clean
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '-' | '(' | ')'))
    {
        return false;
    }
    let d = digits(clean);
    let d = d.strip_prefix("86").filter(|r| r.len() == 11).unwrap_or(&d);
    d.len() == 11 && d.starts_with('1')
}

fn is_landline(v: &str) -> bool {
    let ok_chars = v
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '-' | '(' | ')' | '+'));
    let d = digits(v);
    ok_chars && d.starts_with('0') && (10..=12).contains(&d.len())
}

fn is_email(v: &str) -> bool {
    match v.split_once('@') {
        Some((user, host)) => !user.is_empty() && host.contains('.') && !v.contains(' '),
        None => false,
    }
}

fn is_id_number(v: &str) -> bool {
    let b = v.as_bytes();
    b.len() == 18
        && b[..17].iter().all(u8::is_ascii_digit)
        && (b[17].is_ascii_digit() || b[17] == b'X' || b[17] == b'x')
}

fn is_date(v: &str) -> bool {
    let parts: Vec<&str> = v.split(['-', '/', '.']).collect();
    parts.len() == 3
        && parts[0].len() == 4
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
}

fn is_gender(v: &str) -> bool {
    crate::import::rows::gender_of(v).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn headers_in_either_language() {
        assert_eq!(field_of_header("手机号码"), Some("mobile"));
        assert_eq!(field_of_header(" E-mail "), Some("email"));
        assert_eq!(field_of_header("*姓名"), Some("name"));
        assert_eq!(field_of_header("\u{feff}name"), Some("name"));
        assert_eq!(field_of_header("job_title"), Some("job_title"));
        assert_eq!(field_of_header("备注"), None);
    }

    #[test]
    fn content_names_the_column_when_the_header_does_not() {
        let headers = s(&["客户", "列1", "列2", "列3"]);
        let rows = vec![
            s(&["张三", "138 0013 8000", "a@b.cn", "男"]),
            s(&["李四", "+86 139-0013-9000", "c@d.com", "女"]),
            s(&["王五", "13700137000", "", "male"]),
            s(&["赵六", "15000150000", "e@f.org", "F"]),
        ];
        assert_eq!(
            suggest_fields(&headers, &rows),
            vec![Some("name"), Some("mobile"), Some("email"), Some("gender")]
        );
    }

    #[test]
    fn a_mixed_or_sparse_column_is_left_to_the_user() {
        assert_eq!(
            field_of_values(["13800138000", "hello", "13900139000"]),
            None
        );
        assert_eq!(field_of_values(["13800138000", ""]), None);
        assert_eq!(
            field_of_values(["010-12345678", "021 87654321", "0755-1234567"]),
            Some("phone")
        );
    }

    #[test]
    fn a_field_is_suggested_once() {
        let headers = s(&["手机", "mobile"]);
        assert_eq!(suggest_fields(&headers, &[]), vec![Some("mobile"), None]);
    }
}
