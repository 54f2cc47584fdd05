//! Importing sales opportunities (issue #18): the deals kept in a spreadsheet or another CRM,
//! one row per deal, the customer named as an order's buyer is. Pure: the pipeline, stage and
//! owner are read as the file names them and found by the application layer among those on
//! file.

use chrono::{DateTime, NaiveDate, Utc};

use crate::import::buyer::{buyer_of, BuyerKey};
use crate::import::columns::{suggest_record_fields, HeaderNames};
use crate::import::orders::{parse_order_time, LineProblems};
use crate::money::parse_money;
use crate::pipeline::opportunity::OpportunityInput;

/// Fields a column of an opportunities file can fill, in the order the wizard lists them.
pub const OPPORTUNITY_FIELDS: &[&str] = &[
    "customer_id",
    "mobile",
    "email",
    "wechat",
    "deal_name",
    "pipeline",
    "stage",
    "owner",
    "amount",
    "currency",
    "probability",
    "expected_close",
    "next_step",
    "source",
    "competitors",
    "stated_needs",
    "created_at",
];

/// Header spellings per field.
const OPPORTUNITY_HEADERS: &HeaderNames = &[
    ("customer_id", &["customerid", "客户id", "客户编号"]),
    (
        "mobile",
        &["mobile", "phone", "手机", "手机号", "电话", "联系电话"],
    ),
    ("email", &["email", "mail", "邮箱"]),
    ("wechat", &["wechat", "微信", "微信号"]),
    (
        "deal_name",
        &[
            "dealname",
            "deal",
            "opportunity",
            "opportunityname",
            "name",
            "商机",
            "商机名称",
            "项目",
            "项目名称",
        ],
    ),
    ("pipeline", &["pipeline", "管道", "销售管道", "销售流程"]),
    (
        "stage",
        &["stage", "dealstage", "阶段", "销售阶段", "商机阶段"],
    ),
    (
        "owner",
        &[
            "owner",
            "rep",
            "salesrep",
            "负责人",
            "销售",
            "销售员",
            "跟进人",
        ],
    ),
    (
        "amount",
        &["amount", "value", "金额", "预计金额", "商机金额"],
    ),
    ("currency", &["currency", "币种"]),
    (
        "probability",
        &["probability", "winrate", "赢率", "成交概率", "可能性"],
    ),
    (
        "expected_close",
        &[
            "expectedclose",
            "closedate",
            "预计成交日期",
            "预计成交",
            "预计签约日期",
        ],
    ),
    ("next_step", &["nextstep", "下一步", "下一步计划"]),
    ("source", &["source", "来源", "商机来源"]),
    ("competitors", &["competitors", "competitor", "竞争对手"]),
    (
        "stated_needs",
        &["needs", "statedneeds", "需求", "客户需求"],
    ),
    (
        "created_at",
        &["createdat", "created", "创建时间", "创建日期"],
    ),
];

/// One suggestion per column of an opportunities file: by header, else by content.
pub fn suggest_opportunity_fields(
    headers: &[String],
    rows: &[Vec<String>],
) -> Vec<Option<&'static str>> {
    suggest_record_fields(
        OPPORTUNITY_FIELDS,
        OPPORTUNITY_HEADERS,
        "expected_close",
        headers,
        rows,
    )
}

/// A name the file gives for something on file (a pipeline, a stage, an owner), with its
/// column.
pub type Named = Option<(String, String)>;

/// One row of an opportunities file, read: the deal (its customer, pipeline, stage and owner
/// still to be found), and when it was opened.
#[derive(Debug, Clone, PartialEq)]
pub struct OpportunityRow {
    /// The file line.
    pub line: u64,
    /// The customer and the column that names them.
    pub customer: (BuyerKey, String),
    /// The deal as read (`customer_id`, `pipeline_id`, `stage_id` and `owner_id` are set
    /// once found).
    pub input: OpportunityInput,
    /// The pipeline's name, when the file gives one.
    pub pipeline: Named,
    /// The stage's name.
    pub stage: Named,
    /// The owner's login or display name.
    pub owner: Named,
    /// When the deal was opened (its history starts then); none: at the import.
    pub created_at: Option<DateTime<Utc>>,
}

/// A date as people write it (`2025-06-30`, `2025/6/30`, `2025年6月30日`).
fn parse_date(v: &str) -> Result<NaiveDate, &'static str> {
    parse_order_time(v, 0).map(|t| t.date_naive())
}

/// A probability as a whole percentage (`60`, `60%`).
fn parse_probability(v: &str) -> Result<i64, &'static str> {
    let p: i64 = v
        .trim()
        .trim_end_matches(['%', '％'])
        .trim()
        .parse()
        .map_err(|_| "not_a_number")?;
    if (0..=100).contains(&p) {
        Ok(p)
    } else {
        Err("out_of_range")
    }
}

/// Reads one row into a deal, every problem named by the file's column. What needs the book
/// (the customer, pipeline, stage, owner) is left to be found; the deal itself is checked
/// once they are (`OpportunityInput::validate`).
pub fn opportunity_row(
    line: u64,
    get: &dyn Fn(&str) -> Option<(String, String)>,
    utc_offset_hours: i64,
    now: DateTime<Utc>,
) -> Result<OpportunityRow, LineProblems> {
    let mut errs: LineProblems = Vec::new();
    let take = |field: &str| get(field).filter(|(_, v)| !v.trim().is_empty());
    let text = |field: &str| take(field).map(|(_, v)| v.trim().to_string());
    let customer = buyer_of(get, &mut errs);
    let name = text("deal_name").unwrap_or_default();
    if name.is_empty() {
        errs.push((
            get("deal_name").map_or_else(|| "deal_name".into(), |(h, _)| h),
            "required",
        ));
    }
    let amount_minor = match take("amount") {
        None => 0,
        Some((col, v)) => parse_money(&v).unwrap_or_else(|c| {
            errs.push((col, c));
            0
        }),
    };
    let probability = take("probability")
        .and_then(|(col, v)| parse_probability(&v).map_err(|c| errs.push((col, c))).ok());
    let expected_close = take("expected_close")
        .and_then(|(col, v)| parse_date(&v).map_err(|c| errs.push((col, c))).ok());
    let created_at =
        take("created_at").and_then(|(col, v)| match parse_order_time(&v, utc_offset_hours) {
            Ok(t) if t > now + chrono::Duration::minutes(5) => {
                errs.push((col, "in_future"));
                None
            }
            Ok(t) => Some(t),
            Err(c) => {
                errs.push((col, c));
                None
            }
        });
    let competitors = text("competitors")
        .map(|v| {
            v.split(['、', ',', '，', ';', '；', '/'])
                .map(|c| c.trim().to_string())
                .filter(|c| !c.is_empty())
                .collect()
        })
        .unwrap_or_default();
    let input = OpportunityInput {
        customer_id: 0,
        name,
        pipeline_id: 0,
        stage_id: None,
        owner_id: None,
        amount_minor,
        currency: text("currency").unwrap_or_else(|| "CNY".into()),
        probability,
        expected_close,
        next_step: text("next_step"),
        competitors,
        stated_needs: text("stated_needs"),
        latent_needs: None,
        source: text("source"),
        campaign_id: None,
        lines: Vec::new(),
        version: None,
        custom: Default::default(),
    };
    match customer {
        Some(customer) if errs.is_empty() => Ok(OpportunityRow {
            line,
            customer,
            input,
            pipeline: take("pipeline"),
            stage: take("stage"),
            owner: take("owner"),
            created_at,
        }),
        _ => Err(errs),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::test_rows::{now, row};
    use chrono::TimeZone;

    #[test]
    fn a_deal_row_is_read_with_its_names_left_to_find() {
        let cells = [
            ("mobile", "13800138000"),
            ("deal_name", " 年度茶叶采购 "),
            ("stage", "报价"),
            ("owner", "王销售"),
            ("amount", "120,000"),
            ("probability", "60%"),
            ("expected_close", "2027年3月31日"),
            ("competitors", "竹叶青、八马"),
            ("created_at", "2026-10-01"),
        ];
        let r = opportunity_row(2, &row(&cells), 8, now()).unwrap();
        assert_eq!(r.input.name, "年度茶叶采购");
        assert_eq!(r.input.amount_minor, 12_000_000);
        assert_eq!(r.input.probability, Some(60));
        assert_eq!(r.input.expected_close, NaiveDate::from_ymd_opt(2027, 3, 31));
        assert_eq!(r.input.competitors, vec!["竹叶青", "八马"]);
        assert_eq!(r.stage, Some(("col_stage".into(), "报价".into())));
        assert_eq!(
            r.created_at,
            Some(Utc.with_ymd_and_hms(2026, 9, 30, 16, 0, 0).unwrap())
        );
    }

    #[test]
    fn problems_are_named_by_column() {
        let cells = [
            ("customer_id", "5"),
            ("amount", "lots"),
            ("probability", "150"),
        ];
        let errs = opportunity_row(2, &row(&cells), 8, now()).unwrap_err();
        assert_eq!(
            errs,
            vec![
                ("deal_name".into(), "required"),
                ("col_amount".into(), "not_a_number"),
                ("col_probability".into(), "out_of_range"),
            ]
        );
    }
}
