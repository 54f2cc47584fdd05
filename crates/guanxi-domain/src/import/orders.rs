//! Importing orders with their lines (issue #18): a till or shop export has one row per order
//! line; rows that share an order number are one order, and the buyer is named by the
//! customer's Guanxi id or by a mobile, email or WeChat id already on file. Pure: the
//! application layer finds the customers and the order numbers already stored.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};

use crate::import::buyer::buyer_of;
pub use crate::import::buyer::BuyerKey;
use crate::import::columns::{suggest_record_fields, HeaderNames};
use crate::import::rows::RowError;
use crate::money::parse_money;
use crate::order::{check_currency, NewOrder, NewOrderLine};
use crate::vocabulary::OrderChannel;

/// Fields a column of an orders file can fill, in the order the wizard lists them.
pub const ORDER_FIELDS: &[&str] = &[
    "order_ref",
    "customer_id",
    "mobile",
    "email",
    "wechat",
    "ordered_at",
    "channel",
    "store",
    "currency",
    "sku",
    "product_name",
    "category",
    "quantity",
    "unit_price",
    "line_amount",
];

/// Header spellings per field, compared after [`header_key`].
const ORDER_HEADERS: &HeaderNames = &[
    (
        "order_ref",
        &[
            "orderref",
            "order",
            "orderno",
            "ordernumber",
            "orderid",
            "receipt",
            "订单号",
            "订单编号",
            "单号",
            "订单",
            "小票号",
            "流水号",
        ],
    ),
    (
        "customer_id",
        &["customerid", "客户id", "客户编号", "会员id", "guanxiid"],
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
            "会员手机",
            "收货人手机",
        ],
    ),
    ("email", &["email", "mail", "邮箱", "电子邮箱"]),
    ("wechat", &["wechat", "weixin", "微信", "微信号"]),
    (
        "ordered_at",
        &[
            "orderedat",
            "date",
            "orderdate",
            "time",
            "ordertime",
            "下单时间",
            "订单时间",
            "日期",
            "下单日期",
            "订单日期",
            "交易时间",
            "购买时间",
        ],
    ),
    ("channel", &["channel", "渠道", "销售渠道"]),
    (
        "store",
        &["store", "shop", "outlet", "门店", "店铺", "店名"],
    ),
    ("currency", &["currency", "币种", "货币"]),
    (
        "sku",
        &[
            "sku",
            "productcode",
            "itemcode",
            "商品编码",
            "商品编号",
            "货号",
            "条码",
        ],
    ),
    (
        "product_name",
        &[
            "productname",
            "product",
            "item",
            "商品",
            "商品名称",
            "品名",
            "产品",
            "产品名称",
        ],
    ),
    (
        "category",
        &["category", "品类", "类别", "商品类别", "分类"],
    ),
    ("quantity", &["quantity", "qty", "数量", "件数"]),
    (
        "unit_price",
        &["unitprice", "price", "单价", "售价", "价格"],
    ),
    (
        "line_amount",
        &["lineamount", "amount", "金额", "小计", "实付", "实付金额"],
    ),
];

/// One suggestion per column of an orders file: by header, else by content.
pub fn suggest_order_fields(headers: &[String], rows: &[Vec<String>]) -> Vec<Option<&'static str>> {
    suggest_record_fields(ORDER_FIELDS, ORDER_HEADERS, "ordered_at", headers, rows)
}

/// One valid row of an orders file.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderLineRow {
    /// The file line.
    pub line: u64,
    /// The order number (rows sharing it are one order).
    pub order_ref: Option<String>,
    /// The buyer and the file's column that names them.
    pub buyer: (BuyerKey, String),
    /// When the order was placed.
    pub ordered_at: DateTime<Utc>,
    /// Sales channel.
    pub channel: OrderChannel,
    /// Store or outlet.
    pub store: Option<String>,
    /// ISO 4217 currency.
    pub currency: String,
    /// The line itself.
    pub item: NewOrderLine,
}

/// A row's problems as (column as in the file, message code).
pub type LineProblems = Vec<(String, &'static str)>;

/// A file line and what its check made of it.
type CheckedLine = (u64, Result<OrderLineRow, LineProblems>);

/// Reads an order time as people and tills write it (`2024-03-05`, `2024/3/5 14:30`,
/// `2024年3月5日 14:30:00`, RFC 3339); a time without a zone is the business's local time
/// (`utc_offset_hours` east of UTC), a date alone its midnight.
pub fn parse_order_time(v: &str, utc_offset_hours: i64) -> Result<DateTime<Utc>, &'static str> {
    let v = v.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(v) {
        return Ok(t.with_timezone(&Utc));
    }
    let v = v.replace(['年', '月'], "-").replace(['日', 'T'], " ");
    let mut parts = v.split_whitespace();
    let date = parts.next().ok_or("invalid_date")?;
    let nums: Vec<&str> = date.split(['-', '/', '.']).collect();
    let [y, m, d] = nums.as_slice() else {
        return Err("invalid_date");
    };
    let n = |s: &str| s.parse::<u32>().map_err(|_| "invalid_date");
    let year = y.parse::<i32>().map_err(|_| "invalid_date")?;
    let date = NaiveDate::from_ymd_opt(year, n(m)?, n(d)?).ok_or("invalid_date")?;
    let time = match parts.next() {
        None => NaiveTime::MIN,
        Some(t) => NaiveTime::parse_from_str(t, "%H:%M:%S")
            .or_else(|_| NaiveTime::parse_from_str(t, "%H:%M"))
            .map_err(|_| "invalid_date")?,
    };
    if parts.next().is_some() {
        return Err("invalid_date");
    }
    let offset = chrono::FixedOffset::east_opt(i32::try_from(utc_offset_hours * 3600).unwrap_or(0))
        .ok_or("invalid_date")?;
    offset
        .from_local_datetime(&NaiveDateTime::new(date, time))
        .single()
        .map(|t| t.with_timezone(&Utc))
        .ok_or("invalid_date")
}

/// A channel by its code or as Chinese tills name it.
fn parse_channel(v: &str) -> Result<OrderChannel, &'static str> {
    match v.trim().to_lowercase().as_str() {
        "门店" | "线下" | "实体店" => Ok(OrderChannel::Store),
        "线上" | "网店" | "电商" | "天猫" | "淘宝" | "京东" => Ok(OrderChannel::Online),
        "电话" => Ok(OrderChannel::Phone),
        "微信" | "小程序" => Ok(OrderChannel::Wechat),
        "合作伙伴" | "分销" | "代理" => Ok(OrderChannel::Partner),
        other => OrderChannel::parse(other),
    }
}

/// Turns one row into an order line, collecting every problem with the file's column.
/// `get(field)` gives the (header, cell) mapped to a field; rows without a channel column are
/// `default_channel`, without a currency CNY.
pub fn order_line_row(
    line: u64,
    get: &dyn Fn(&str) -> Option<(String, String)>,
    utc_offset_hours: i64,
    default_channel: OrderChannel,
    now: DateTime<Utc>,
) -> Result<OrderLineRow, LineProblems> {
    let mut errs: LineProblems = Vec::new();
    let take = |field: &str| get(field).filter(|(_, v)| !v.trim().is_empty());
    let text = |errs: &mut LineProblems, field: &str, max: usize| -> Option<String> {
        let (col, v) = take(field)?;
        let v = v.trim().to_string();
        if v.chars().count() > max {
            errs.push((col, "too_long"));
        } else if v.chars().any(char::is_control) {
            errs.push((col, "invalid_characters"));
        }
        Some(v)
    };
    let order_ref = text(&mut errs, "order_ref", 100);
    let store = text(&mut errs, "store", 100);
    let product_name = text(&mut errs, "product_name", 200);
    let category = text(&mut errs, "category", 100);
    let sku = text(&mut errs, "sku", 64);

    let buyer = buyer_of(get, &mut errs);

    let ordered_at = match take("ordered_at") {
        None => {
            errs.push((header_or(get, "ordered_at"), "required"));
            None
        }
        Some((col, v)) => match parse_order_time(&v, utc_offset_hours) {
            Ok(t) if t > now + chrono::Duration::minutes(5) => {
                errs.push((col, "in_future"));
                None
            }
            Ok(t) => Some(t),
            Err(c) => {
                errs.push((col, c));
                None
            }
        },
    };
    let channel = match take("channel") {
        None => Some(default_channel),
        Some((col, v)) => parse_channel(&v).map_err(|c| errs.push((col, c))).ok(),
    };
    let currency = match take("currency") {
        None => Some("CNY".to_string()),
        Some((col, v)) => {
            let c = v.trim().to_uppercase();
            let c = if matches!(c.as_str(), "人民币" | "RMB" | "元") {
                "CNY".to_string()
            } else {
                c
            };
            check_currency(&c)
                .map_err(|e| errs.push((col, e)))
                .ok()
                .map(|_| c)
        }
    };
    if sku.is_none() {
        errs.push((header_or(get, "sku"), "required"));
    }
    let quantity = match take("quantity") {
        None => Some(1),
        Some((col, v)) => match v.trim().parse::<i64>() {
            Ok(q) if (1..=1_000_000).contains(&q) => Some(q),
            Ok(_) => {
                errs.push((col, "out_of_range"));
                None
            }
            Err(_) => {
                errs.push((col, "not_a_number"));
                None
            }
        },
    };
    let mut money = |field: &str| -> Option<i64> {
        let (col, v) = take(field)?;
        parse_money(&v).map_err(|c| errs.push((col, c))).ok()
    };
    let unit = money("unit_price");
    let amount = money("line_amount");
    let unit_price_minor = match (unit, amount, quantity) {
        (Some(u), Some(a), Some(q)) if u.checked_mul(q) != Some(a) => {
            errs.push((header_or(get, "line_amount"), "amount_mismatch"));
            None
        }
        (Some(u), _, _) => Some(u),
        (None, Some(a), Some(q)) if a % q == 0 => Some(a / q),
        (None, Some(_), Some(_)) => {
            errs.push((header_or(get, "line_amount"), "amount_not_divisible"));
            None
        }
        (None, None, _) if !errs.iter().any(|(_, c)| *c == "not_a_number") => {
            errs.push(("unit_price".into(), "price_not_mapped"));
            None
        }
        _ => None,
    };
    match (
        buyer,
        ordered_at,
        channel,
        currency,
        sku,
        quantity,
        unit_price_minor,
    ) {
        (
            Some(buyer),
            Some(ordered_at),
            Some(channel),
            Some(currency),
            Some(sku),
            Some(quantity),
            Some(unit_price_minor),
        ) if errs.is_empty() => Ok(OrderLineRow {
            line,
            order_ref,
            buyer,
            ordered_at,
            channel,
            store,
            currency,
            item: NewOrderLine {
                sku,
                product_name,
                category,
                quantity,
                unit_price_minor,
            },
        }),
        _ => Err(errs),
    }
}

/// The file's header of a mapped field, else the field's own name.
fn header_or(get: &dyn Fn(&str) -> Option<(String, String)>, field: &str) -> String {
    get(field)
        .map(|(h, _)| h)
        .unwrap_or_else(|| field.to_string())
}

/// An order made of one or more rows of the file, its buyer still to be found.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedOrder {
    /// The file lines it was read from, first first.
    pub lines: Vec<u64>,
    /// The buyer and the column that names them.
    pub buyer: (BuyerKey, String),
    /// The order (its `customer_id` is 0 until the buyer is found).
    pub order: NewOrder,
}

/// Groups checked rows into orders: rows with the same order number are one order, whose
/// buyer, time, channel, store and currency every row must repeat; a row without a number is
/// an order of its own. An order with any invalid row is written by none of its rows: the
/// other rows get `order_has_problems`. `refs` holds each line's order number as in the file
/// (also for invalid rows), `checked` each line's outcome.
pub fn group_orders(
    checked: Vec<(u64, Option<String>, Result<OrderLineRow, LineProblems>)>,
) -> (Vec<ImportedOrder>, Vec<RowError>) {
    let mut problems: Vec<RowError> = Vec::new();
    let mut by_ref: HashMap<String, usize> = HashMap::new();
    let mut groups: Vec<(Option<String>, Vec<CheckedLine>)> = Vec::new();
    for (line, order_ref, row) in checked {
        match order_ref.filter(|r| !r.trim().is_empty()) {
            Some(r) => {
                let r = r.trim().to_string();
                match by_ref.get(&r) {
                    Some(&i) => groups[i].1.push((line, row)),
                    None => {
                        by_ref.insert(r.clone(), groups.len());
                        groups.push((Some(r), vec![(line, row)]));
                    }
                }
            }
            None => groups.push((None, vec![(line, row)])),
        }
    }
    let mut orders = Vec::new();
    for (order_ref, rows) in groups {
        let mut bad: Vec<u64> = Vec::new();
        let mut valid: Vec<OrderLineRow> = Vec::new();
        for (line, row) in rows {
            match row {
                Ok(r) => valid.push(r),
                Err(es) => {
                    bad.push(line);
                    problems.extend(es.into_iter().map(|(column, code)| RowError {
                        line,
                        column,
                        code: code.to_string(),
                    }));
                }
            }
        }
        if let Some(first) = valid.first().cloned() {
            for r in valid.iter().skip(1) {
                let differs = [
                    ("customer", r.buyer.0 != first.buyer.0),
                    ("ordered_at", r.ordered_at != first.ordered_at),
                    ("channel", r.channel != first.channel),
                    ("store", r.store != first.store),
                    ("currency", r.currency != first.currency),
                ];
                if let Some((field, _)) = differs.iter().find(|(_, d)| *d) {
                    bad.push(r.line);
                    problems.push(RowError {
                        line: r.line,
                        column: field.to_string(),
                        code: "order_rows_disagree".into(),
                    });
                }
            }
        }
        if valid.len() > crate::order::MAX_LINES {
            bad.push(first_line(&valid));
            problems.push(RowError {
                line: first_line(&valid),
                column: "order_ref".into(),
                code: "too_many".into(),
            });
        }
        if !bad.is_empty() {
            for r in valid.iter().filter(|r| !bad.contains(&r.line)) {
                problems.push(RowError {
                    line: r.line,
                    column: "order_ref".into(),
                    code: "order_has_problems".into(),
                });
            }
            continue;
        }
        let Some(first) = valid.first() else {
            continue;
        };
        orders.push(ImportedOrder {
            lines: valid.iter().map(|r| r.line).collect(),
            buyer: first.buyer.clone(),
            order: NewOrder {
                customer_id: 0,
                ordered_at: first.ordered_at,
                currency: first.currency.clone(),
                channel: first.channel,
                store: first.store.clone(),
                external_ref: order_ref,
                lines: valid.iter().map(|r| r.item.clone()).collect(),
            },
        });
    }
    problems.sort_by_key(|p| p.line);
    (orders, problems)
}

fn first_line(rows: &[OrderLineRow]) -> u64 {
    rows.first().map_or(0, |r| r.line)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::test_rows::{now, row};

    #[test]
    fn times_are_read_in_the_business_zone() {
        let t = parse_order_time("2024/3/5 14:30", 8).unwrap();
        assert_eq!(t, Utc.with_ymd_and_hms(2024, 3, 5, 6, 30, 0).unwrap());
        assert_eq!(
            parse_order_time("2024年3月5日", 8).unwrap(),
            Utc.with_ymd_and_hms(2024, 3, 4, 16, 0, 0).unwrap()
        );
        assert_eq!(
            parse_order_time("2024-03-05T14:30:00Z", 8).unwrap(),
            Utc.with_ymd_and_hms(2024, 3, 5, 14, 30, 0).unwrap()
        );
        assert_eq!(
            parse_order_time("2024-03-05 14:30:15", 0).unwrap(),
            Utc.with_ymd_and_hms(2024, 3, 5, 14, 30, 15).unwrap()
        );
        assert_eq!(parse_order_time("2024-02-30", 8), Err("invalid_date"));
        assert_eq!(parse_order_time("yesterday", 8), Err("invalid_date"));
    }

    #[test]
    fn a_row_becomes_a_line_with_its_buyer() {
        let cells = [
            ("order_ref", "NO-1"),
            ("mobile", "138 0013 8000"),
            ("ordered_at", "2024-03-05 10:00"),
            ("channel", "线上"),
            ("sku", "TEA-1"),
            ("product_name", "龙井"),
            ("quantity", "2"),
            ("line_amount", "¥257.00"),
        ];
        let r = order_line_row(2, &row(&cells), 8, OrderChannel::Store, now()).unwrap();
        assert_eq!(
            r.buyer.0,
            BuyerKey::Contact("mobile", "+8613800138000".into())
        );
        assert_eq!(r.channel, OrderChannel::Online);
        assert_eq!(r.currency, "CNY");
        assert_eq!(r.item.unit_price_minor, 12_850);
        assert_eq!(r.item.quantity, 2);
    }

    #[test]
    fn every_problem_is_named_by_its_column() {
        let cells = [
            ("customer_id", "abc"),
            ("ordered_at", "2099-01-01"),
            ("sku", "X"),
            ("quantity", "0"),
            ("unit_price", "1.999"),
        ];
        let errs = order_line_row(2, &row(&cells), 8, OrderChannel::Store, now()).unwrap_err();
        assert!(errs.contains(&("col_customer_id".into(), "invalid_reference")));
        assert!(errs.contains(&("col_ordered_at".into(), "in_future")));
        assert!(errs.contains(&("col_quantity".into(), "out_of_range")));
        assert!(errs.contains(&("col_unit_price".into(), "not_a_number")));
        let cells = [
            ("mobile", "13800138000"),
            ("ordered_at", "2024-01-01"),
            ("sku", "X"),
            ("quantity", "3"),
            ("unit_price", "10"),
            ("line_amount", "31"),
        ];
        let errs = order_line_row(2, &row(&cells), 8, OrderChannel::Store, now()).unwrap_err();
        assert_eq!(errs, vec![("col_line_amount".into(), "amount_mismatch")]);
        let cells = [
            ("ordered_at", "2024-01-01"),
            ("sku", "X"),
            ("unit_price", "1"),
        ];
        let errs = order_line_row(2, &row(&cells), 8, OrderChannel::Store, now()).unwrap_err();
        assert_eq!(errs, vec![("customer".into(), "buyer_not_mapped")]);
    }

    fn line(
        l: u64,
        r: &str,
        mobile: &str,
        sku: &str,
    ) -> (u64, Option<String>, Result<OrderLineRow, LineProblems>) {
        let cells = [
            ("order_ref", r),
            ("mobile", mobile),
            ("ordered_at", "2024-03-05"),
            ("sku", sku),
            ("unit_price", "5"),
        ];
        let checked = order_line_row(l, &row(&cells), 8, OrderChannel::Store, now());
        (l, Some(r.to_string()).filter(|r| !r.is_empty()), checked)
    }

    #[test]
    fn rows_sharing_a_number_are_one_order_and_fail_together() {
        let rows = vec![
            line(2, "A", "13800138000", "S1"),
            line(3, "B", "13900139000", "S1"),
            line(4, "A", "13800138000", "S2"),
            line(5, "", "13800138000", "S3"),
            line(6, "C", "13800138000", "S1"),
            line(7, "C", "13800138000", ""),
            line(8, "D", "13800138000", "S1"),
            line(9, "D", "13900139000", "S1"),
        ];
        let (orders, problems) = group_orders(rows);
        let lines: Vec<Vec<u64>> = orders.iter().map(|o| o.lines.clone()).collect();
        assert_eq!(lines, vec![vec![2, 4], vec![3], vec![5]]);
        assert_eq!(orders[0].order.lines.len(), 2);
        assert_eq!(orders[0].order.external_ref.as_deref(), Some("A"));
        assert_eq!(orders[2].order.external_ref, None);
        let codes: Vec<(u64, &str)> = problems.iter().map(|p| (p.line, p.code.as_str())).collect();
        assert_eq!(
            codes,
            vec![
                (6, "order_has_problems"),
                (7, "required"),
                (8, "order_has_problems"),
                (9, "order_rows_disagree"),
            ]
        );
    }

    #[test]
    fn columns_are_suggested_by_header_and_content() {
        let headers: Vec<String> = [
            "订单号",
            "会员手机",
            "下单时间",
            "商品编码",
            "数量",
            "单价",
            "列7",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let rows: Vec<Vec<String>> = (0..3)
            .map(|_| {
                vec!["", "", "", "", "", "", "a@b.cn"]
                    .into_iter()
                    .map(String::from)
                    .collect()
            })
            .collect();
        assert_eq!(
            suggest_order_fields(&headers, &rows),
            vec![
                Some("order_ref"),
                Some("mobile"),
                Some("ordered_at"),
                Some("sku"),
                Some("quantity"),
                Some("unit_price"),
                Some("email"),
            ]
        );
    }
}
