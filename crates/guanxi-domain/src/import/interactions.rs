//! Importing interactions (issue #18): a call log, a visit report or the history kept in the
//! previous system, one row per contact, the customer named as an order's buyer is (id,
//! mobile, email or WeChat id). Pure: the application layer finds the customers and the
//! interactions already on file.

use chrono::{DateTime, Utc};

use crate::import::buyer::{buyer_of, BuyerKey};
use crate::import::columns::{suggest_record_fields, HeaderNames};
use crate::import::orders::{parse_order_time, LineProblems};
use crate::interaction::{NewInteraction, ValidInteraction};
use crate::vocabulary::{InteractionChannel, InteractionDirection, InteractionPurpose};

/// Fields a column of an interactions file can fill, in the order the wizard lists them.
pub const INTERACTION_FIELDS: &[&str] = &[
    "customer_id",
    "mobile",
    "email",
    "wechat",
    "occurred_at",
    "interaction_channel",
    "direction",
    "purpose",
    "subject",
    "body",
];

/// Header spellings per field, compared after [`header_key`].
const INTERACTION_HEADERS: &HeaderNames = &[
    (
        "customer_id",
        &["customerid", "客户id", "客户编号", "会员id"],
    ),
    (
        "mobile",
        &[
            "mobile",
            "phone",
            "手机",
            "手机号",
            "手机号码",
            "电话",
            "联系电话",
            "来电号码",
        ],
    ),
    ("email", &["email", "mail", "邮箱", "电子邮箱"]),
    ("wechat", &["wechat", "weixin", "微信", "微信号"]),
    (
        "occurred_at",
        &[
            "occurredat",
            "date",
            "time",
            "when",
            "时间",
            "日期",
            "联系时间",
            "拜访时间",
            "通话时间",
            "沟通时间",
            "跟进时间",
        ],
    ),
    (
        "interaction_channel",
        &[
            "channel",
            "type",
            "method",
            "方式",
            "渠道",
            "沟通方式",
            "联系方式",
            "类型",
        ],
    ),
    ("direction", &["direction", "方向", "呼入呼出"]),
    ("purpose", &["purpose", "reason", "目的", "事由", "原因"]),
    (
        "subject",
        &[
            "subject", "title", "summary", "主题", "标题", "摘要", "事项",
        ],
    ),
    (
        "body",
        &[
            "body",
            "notes",
            "note",
            "content",
            "details",
            "内容",
            "详情",
            "备注",
            "记录",
            "沟通内容",
            "跟进记录",
        ],
    ),
];

/// One suggestion per column of an interactions file: by header, else by content.
pub fn suggest_interaction_fields(
    headers: &[String],
    rows: &[Vec<String>],
) -> Vec<Option<&'static str>> {
    suggest_record_fields(
        INTERACTION_FIELDS,
        INTERACTION_HEADERS,
        "occurred_at",
        headers,
        rows,
    )
}

/// A channel by its code or as people write it (拜访, 电话, 短信 …).
fn parse_channel(v: &str) -> Result<InteractionChannel, &'static str> {
    match v.trim().to_lowercase().as_str() {
        "拜访" | "上门" | "面谈" | "当面" | "到店" | "visit" => {
            Ok(InteractionChannel::FaceToFace)
        }
        "电话" | "通话" | "来电" | "去电" | "call" => Ok(InteractionChannel::Phone),
        "短信" => Ok(InteractionChannel::Sms),
        "邮件" | "电子邮件" | "mail" => Ok(InteractionChannel::Email),
        "微信" => Ok(InteractionChannel::Wechat),
        "在线" | "在线客服" | "聊天" | "网聊" | "chat" => Ok(InteractionChannel::WebChat),
        "信函" | "信件" => Ok(InteractionChannel::Letter),
        "备注" | "记录" => Ok(InteractionChannel::Note),
        other => InteractionChannel::parse(other),
    }
}

fn parse_direction(v: &str) -> Result<InteractionDirection, &'static str> {
    match v.trim().to_lowercase().as_str() {
        "呼入" | "来电" | "客户来访" | "in" => Ok(InteractionDirection::Inbound),
        "呼出" | "去电" | "回访" | "out" => Ok(InteractionDirection::Outbound),
        "内部" => Ok(InteractionDirection::Internal),
        other => InteractionDirection::parse(other),
    }
}

fn parse_purpose(v: &str) -> Result<InteractionPurpose, &'static str> {
    match v.trim().to_lowercase().as_str() {
        "咨询" | "询问" => Ok(InteractionPurpose::Enquiry),
        "关怀" | "问候" => Ok(InteractionPurpose::Care),
        "投诉" => Ok(InteractionPurpose::Complaint),
        "异议" => Ok(InteractionPurpose::Objection),
        "销售" | "推销" => Ok(InteractionPurpose::Sales),
        "跟进" | "回访" => Ok(InteractionPurpose::FollowUp),
        other => InteractionPurpose::parse(other),
    }
}

/// One valid row of an interactions file.
#[derive(Debug, Clone, PartialEq)]
pub struct InteractionRow {
    /// The file line.
    pub line: u64,
    /// The customer and the file's column that names them.
    pub customer: (BuyerKey, String),
    /// The interaction, validated as one typed in.
    pub interaction: ValidInteraction,
}

/// Turns one row into an interaction, every problem named by the file's column. The channel
/// of a row without one is `default_channel`; times without a zone are the business's local
/// time.
pub fn interaction_row(
    line: u64,
    get: &dyn Fn(&str) -> Option<(String, String)>,
    utc_offset_hours: i64,
    default_channel: InteractionChannel,
    now: DateTime<Utc>,
) -> Result<InteractionRow, LineProblems> {
    let mut errs: LineProblems = Vec::new();
    let take = |field: &str| get(field).filter(|(_, v)| !v.trim().is_empty());
    let column = |field: &str| get(field).map_or_else(|| field.to_string(), |(h, _)| h);
    let customer = buyer_of(get, &mut errs);
    let channel = match take("interaction_channel") {
        None => Some(default_channel),
        Some((col, v)) => parse_channel(&v).map_err(|c| errs.push((col, c))).ok(),
    };
    let direction = match take("direction") {
        None => None,
        Some((col, v)) => match parse_direction(&v) {
            Ok(d) => Some(d),
            Err(c) => {
                errs.push((col, c));
                None
            }
        },
    };
    let purpose = match take("purpose") {
        None => None,
        Some((col, v)) => match parse_purpose(&v) {
            Ok(p) => Some(p),
            Err(c) => {
                errs.push((col, c));
                None
            }
        },
    };
    let occurred_at = match take("occurred_at") {
        None => {
            errs.push((column("occurred_at"), "required"));
            None
        }
        Some((col, v)) => parse_order_time(&v, utc_offset_hours)
            .map_err(|c| errs.push((col, c)))
            .ok(),
    };
    let subject = take("subject").map(|(_, v)| v).unwrap_or_default();
    let body = take("body").map(|(_, v)| v);
    let (Some(customer), Some(channel), Some(occurred_at)) = (customer, channel, occurred_at)
    else {
        return Err(errs);
    };
    let new = NewInteraction {
        channel,
        direction,
        subject,
        body,
        occurred_at: Some(occurred_at),
        purpose,
    };
    match new.validate(now) {
        Ok(interaction) if errs.is_empty() => Ok(InteractionRow {
            line,
            customer,
            interaction,
        }),
        Ok(_) => Err(errs),
        Err(e) => {
            errs.extend(e.0.into_iter().map(|x| {
                let field = match x.field.as_str() {
                    "channel" => "interaction_channel",
                    other => other,
                };
                (column(field), x.message_key)
            }));
            Err(errs)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::test_rows::{now, row};
    use chrono::TimeZone;

    #[test]
    fn a_call_log_row_becomes_an_interaction() {
        let cells = [
            ("mobile", "13800138000"),
            ("occurred_at", "2024-03-05 09:30"),
            ("interaction_channel", "电话"),
            ("direction", "呼入"),
            ("purpose", "投诉"),
            ("subject", " 茶叶受潮 "),
            ("body", "已安排换货"),
        ];
        let r = interaction_row(2, &row(&cells), 8, InteractionChannel::Note, now()).unwrap();
        assert_eq!(
            r.customer.0,
            BuyerKey::Contact("mobile", "+8613800138000".into())
        );
        let i = r.interaction;
        assert_eq!(
            (i.channel, i.direction, i.purpose),
            (
                InteractionChannel::Phone,
                InteractionDirection::Inbound,
                Some(InteractionPurpose::Complaint)
            )
        );
        assert_eq!(i.subject, "茶叶受潮");
        assert_eq!(
            i.occurred_at,
            Utc.with_ymd_and_hms(2024, 3, 5, 1, 30, 0).unwrap()
        );
    }

    #[test]
    fn problems_are_named_by_the_files_columns() {
        let cells = [
            ("customer_id", "7"),
            ("occurred_at", "2024-03-05"),
            ("interaction_channel", "飞鸽传书"),
        ];
        let errs =
            interaction_row(2, &row(&cells), 8, InteractionChannel::Note, now()).unwrap_err();
        assert_eq!(
            errs,
            vec![("col_interaction_channel".into(), "unknown_value")]
        );
        let cells = [("customer_id", "7"), ("occurred_at", "2024-03-05")];
        let errs =
            interaction_row(2, &row(&cells), 8, InteractionChannel::Note, now()).unwrap_err();
        assert_eq!(errs, vec![("subject".into(), "required")]);
        let cells = [
            ("customer_id", "7"),
            ("occurred_at", "2024-03-05"),
            ("interaction_channel", "备注"),
            ("direction", "呼入"),
            ("subject", "x"),
        ];
        let errs =
            interaction_row(2, &row(&cells), 8, InteractionChannel::Phone, now()).unwrap_err();
        assert_eq!(errs, vec![("col_direction".into(), "unknown_value")]);
    }

    #[test]
    fn columns_are_suggested_by_header() {
        let headers: Vec<String> = ["客户编号", "沟通时间", "沟通方式", "主题", "沟通内容"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(
            suggest_interaction_fields(&headers, &[]),
            vec![
                Some("customer_id"),
                Some("occurred_at"),
                Some("interaction_channel"),
                Some("subject"),
                Some("body")
            ]
        );
    }
}
