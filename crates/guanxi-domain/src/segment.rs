//! Segments (客户细分): a saved filter over the customer file, its scores and its purchase
//! history. A marketer writes a [`SegmentRule`] (rows of field · operator · value, matched all or
//! any, groups nested); [`SegmentRule::resolve`] checks every row and turns it into a
//! [`SegmentFilter`] whose relative dates ("in the last 90 days", "birthday within 7 days") are
//! fixed to one moment, so the store compiles it to plain SQL for both backends without date
//! functions, and the same rule gives the same answer in the list, the size preview and an export.
//!
//! Every problem is reported against the clause that has it (`clauses[2].value`), so the editor
//! can put the message beside the row and the API can name it.

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use serde::{Deserialize, Deserializer, Serialize};

use crate::money::parse_money;
use crate::vocabulary::{ContactKind, CustomerKind, Gender, LifecycleStage, SourceChannel};
use crate::ValidationErrors;

/// At most this many clauses in one rule (all groups together): a segment is a marketer's
/// description of people, not a query language, and each clause is one SQL condition.
pub const MAX_CLAUSES: usize = 40;
/// Groups nest at most this deep.
pub const MAX_DEPTH: usize = 3;
/// "Within N days" accepts up to ten years.
pub const MAX_DAYS: u32 = 3660;

/// The rule as the user edits and the database stores it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SegmentRule {
    /// `all` (every clause holds, the default) or `any` (at least one holds).
    #[serde(rename = "match", default = "default_match")]
    pub match_: String,
    /// The clauses.
    #[serde(default)]
    pub clauses: Vec<RuleClause>,
}

fn default_match() -> String {
    "all".into()
}

/// One row of the editor: `city` `eq` `上海`, `bought_product` `bought` `TEA-01` in `90` days.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RuleClause {
    /// Field code, see [`FIELDS`]; `group` for a nested rule.
    pub field: String,
    /// Operator code allowed for the field.
    #[serde(default)]
    pub op: String,
    /// The value as typed (numbers and codes as text; `in` takes a comma-separated list).
    #[serde(default, deserialize_with = "text_or_number")]
    pub value: String,
    /// For purchase-history fields: only orders of the last N days (empty: all time).
    #[serde(default, deserialize_with = "text_or_number")]
    pub days: String,
    /// The nested rule of a `group` clause.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(no_recursion)]
    pub rule: Option<Box<SegmentRule>>,
}

/// API clients send `"days": 90` as often as `"days": "90"`; both mean the same.
fn text_or_number<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    match serde_json::Value::deserialize(d)? {
        serde_json::Value::Null => Ok(String::new()),
        serde_json::Value::String(s) => Ok(s),
        serde_json::Value::Number(n) => Ok(n.to_string()),
        other => Err(serde::de::Error::custom(format!(
            "expected text or a number, got {other}"
        ))),
    }
}

/// What kind of value a field takes, which decides its operators and the editor's input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ValueKind {
    /// Free text.
    Text,
    /// One of a closed list of codes.
    Code,
    /// A user id.
    User,
    /// A whole number of days.
    Days,
    /// A number (money in yuan, probabilities 0–1).
    Number,
    /// A calendar month, `YYYY-MM`, in the business's time zone.
    Month,
    /// No value.
    None,
}

/// One field of the editor's catalogue.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct FieldSpec {
    /// Field code (wire, i18n key `segfield.<code>`).
    pub code: &'static str,
    /// Operators allowed (i18n key `segop.<code>`).
    pub ops: &'static [&'static str],
    /// Value kind.
    pub value: ValueKind,
    /// The codes a `Code` field accepts (i18n labels come from the vocabulary's own keys).
    pub choices: &'static [&'static str],
    /// Whether the optional "in the last N days" applies.
    pub days: bool,
}

const TEXT_OPS: &[&str] = &["eq", "ne", "in", "contains", "empty", "not_empty"];
const CODE_OPS: &[&str] = &["eq", "ne", "in"];
const CMP_OPS: &[&str] = &["gte", "lte"];
const COUNT_OPS: &[&str] = &["gte", "lte", "eq"];

/// RFM segment codes as the score refresh stores them.
/// What a customer did with the campaigns sent to them (the seeds' "learn from past
/// responses"): any response (opened, clicked, replied), one kind, or one on a channel.
pub const CAMPAIGN_RESPONSES: &[&str] = &[
    "any",
    "opened",
    "clicked",
    "replied",
    "any_email",
    "clicked_email",
    "any_sms",
    "replied_sms",
];

pub const RFM_SEGMENTS: &[&str] = &[
    "champions",
    "loyal_customers",
    "potential_loyalists",
    "new_customers",
    "promising",
    "need_attention",
    "about_to_sleep",
    "at_risk",
    "cant_lose_them",
    "hibernating",
    "lost",
];
/// Value-matrix cells.
pub const VALUE_CELLS: &[&str] = &["best", "spenders", "frequent", "uncertain"];
/// ABC value tiers.
pub const TIERS: &[&str] = &["A", "B", "C"];
/// Activity statuses.
pub const ACTIVITIES: &[&str] = &["active", "potential", "dormant", "lost"];

/// The editor's catalogue: every field a clause may name, in the order the picker shows them.
pub const FIELDS: &[FieldSpec] = &[
    text_field("city"),
    text_field("province"),
    text_field("industry"),
    text_field("employer"),
    text_field("job_title"),
    code_field("kind", CustomerKind::CODES),
    code_field("gender", Gender::CODES),
    code_field("lifecycle_stage", LifecycleStage::CODES),
    code_field("source_channel", SourceChannel::CODES),
    FieldSpec {
        code: "owner",
        ops: &["eq", "ne", "empty", "not_empty"],
        value: ValueKind::User,
        choices: &[],
        days: false,
    },
    FieldSpec {
        code: "tag",
        ops: &["has", "not_has"],
        value: ValueKind::Text,
        choices: &[],
        days: false,
    },
    FieldSpec {
        code: "consent",
        ops: &["granted", "not_granted"],
        value: ValueKind::Code,
        choices: &["any", "phone", "mobile", "email", "wechat", "qq", "address"],
        days: false,
    },
    code_field("rfm_segment", RFM_SEGMENTS),
    code_field("value_cell", VALUE_CELLS),
    code_field("tier", TIERS),
    code_field("activity", ACTIVITIES),
    number_field("clv"),
    number_field("churn_probability"),
    FieldSpec {
        code: "bought_product",
        ops: &["bought", "not_bought"],
        value: ValueKind::Text,
        choices: &[],
        days: true,
    },
    FieldSpec {
        code: "bought_category",
        ops: &["bought", "not_bought"],
        value: ValueKind::Text,
        choices: &[],
        days: true,
    },
    FieldSpec {
        code: "order_count",
        ops: COUNT_OPS,
        value: ValueKind::Number,
        choices: &[],
        days: true,
    },
    FieldSpec {
        code: "total_spend",
        ops: CMP_OPS,
        value: ValueKind::Number,
        choices: &[],
        days: true,
    },
    FieldSpec {
        code: "campaign_response",
        ops: &["responded", "not_responded"],
        value: ValueKind::Code,
        choices: CAMPAIGN_RESPONSES,
        days: true,
    },
    days_field("last_order", &["within", "not_within"]),
    month_field("order_month", &["during", "not_during"]),
    days_field("birthday", &["within"]),
    days_field("created", &["within", "not_within"]),
    month_field("created_month", &["eq", "ne"]),
];

const fn month_field(code: &'static str, ops: &'static [&'static str]) -> FieldSpec {
    FieldSpec {
        code,
        ops,
        value: ValueKind::Month,
        choices: &[],
        days: false,
    }
}

const fn text_field(code: &'static str) -> FieldSpec {
    FieldSpec {
        code,
        ops: TEXT_OPS,
        value: ValueKind::Text,
        choices: &[],
        days: false,
    }
}

const fn code_field(code: &'static str, choices: &'static [&'static str]) -> FieldSpec {
    FieldSpec {
        code,
        ops: CODE_OPS,
        value: ValueKind::Code,
        choices,
        days: false,
    }
}

const fn number_field(code: &'static str) -> FieldSpec {
    FieldSpec {
        code,
        ops: CMP_OPS,
        value: ValueKind::Number,
        choices: &[],
        days: false,
    }
}

const fn days_field(code: &'static str, ops: &'static [&'static str]) -> FieldSpec {
    FieldSpec {
        code,
        ops,
        value: ValueKind::Days,
        choices: &[],
        days: false,
    }
}

/// Looks a field up in the catalogue.
pub fn field_spec(code: &str) -> Option<&'static FieldSpec> {
    FIELDS.iter().find(|f| f.code == code)
}

/// A comparison with a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    /// ≥
    Gte,
    /// ≤
    Lte,
    /// =
    Eq,
}

impl Cmp {
    /// The SQL operator.
    pub fn sql(self) -> &'static str {
        match self {
            Cmp::Gte => ">=",
            Cmp::Lte => "<=",
            Cmp::Eq => "=",
        }
    }
}

/// Which products a purchase clause means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProductRef {
    /// One product by SKU.
    Sku(String),
    /// Every product of a category.
    Category(String),
}

/// One resolved test on a customer. Column names are `'static` strings from this module's own
/// table, never user input, so the store may splice them; every value is bound.
#[derive(Debug, Clone, PartialEq)]
pub enum Test {
    /// The customer column equals one of the values.
    In {
        /// `customers` column.
        column: &'static str,
        /// Accepted values.
        values: Vec<String>,
    },
    /// The customer column contains the text (case as typed).
    Contains {
        /// `customers` column.
        column: &'static str,
        /// Text to find.
        needle: String,
    },
    /// The customer column is missing or blank.
    Empty {
        /// `customers` column.
        column: &'static str,
    },
    /// Owned by this user.
    Owner(i64),
    /// Has this tag.
    Tag(String),
    /// Has a live contact point with marketing consent (of this kind, or any kind).
    Consent(Option<ContactKind>),
    /// The score column (last refresh) is one of the values.
    ScoreIn {
        /// `customer_scores` column.
        column: &'static str,
        /// Accepted codes.
        values: Vec<String>,
    },
    /// The numeric score column compares with the value.
    ScoreCmp {
        /// `customer_scores` column.
        column: &'static str,
        /// Comparison.
        cmp: Cmp,
        /// Bound (minor units for money).
        value: f64,
    },
    /// Bought the product(s) in an order at or after `since_ms` (all time when `None`).
    Bought {
        /// Which products.
        product: ProductRef,
        /// Cut-off, ms since the epoch.
        since_ms: Option<i64>,
    },
    /// Number of orders (since the cut-off) compares with the value.
    OrderCount {
        /// Comparison.
        cmp: Cmp,
        /// Count.
        value: i64,
        /// Cut-off.
        since_ms: Option<i64>,
        /// The kept purchase window the cut-off is, when it is one.
        window: Option<PurchaseWindow>,
    },
    /// Total spend in minor units (since the cut-off) compares with the value.
    Spend {
        /// Comparison.
        cmp: Cmp,
        /// Minor units.
        value_minor: i64,
        /// Cut-off.
        since_ms: Option<i64>,
        /// The kept purchase window the cut-off is, when it is one.
        window: Option<PurchaseWindow>,
    },
    /// Responded to a campaign message (one of `kinds` of `outbox_events`) at or after the
    /// cut-off, on the channel when one is given.
    Responded {
        /// Event kinds that count.
        kinds: Vec<&'static str>,
        /// The channel's code, when only one counts.
        channel: Option<&'static str>,
        /// Cut-off, ms since the epoch.
        since_ms: Option<i64>,
    },
    /// Ordered at or after the cut-off.
    OrderedSince(i64),
    /// Birthday falls on one of these days: `solar` keys (`MM-DD`) for solar birthdays, `lunar`
    /// keys (lunar `MM-DD`) for birthdays kept in the lunar calendar.
    BirthdayOn {
        /// Solar month-days of the window.
        solar: Vec<String>,
        /// Lunar month-days of the window.
        lunar: Vec<String>,
    },
    /// Created at or after the cut-off.
    CreatedSince(i64),
    /// Ordered at least once in `[from, to)` (ms).
    OrderedBetween {
        /// Start, inclusive.
        from: i64,
        /// End, exclusive.
        to: i64,
    },
    /// Created in `[from, to)` (ms).
    CreatedBetween {
        /// Start, inclusive.
        from: i64,
        /// End, exclusive.
        to: i64,
    },
    /// A nested filter.
    Group(SegmentFilter),
    /// A custom field's value (`cf.<code>` clauses).
    Custom {
        /// The customer field's code.
        code: String,
        /// What its value must be.
        test: CustomTest,
    },
}

/// A test on a custom field's stored value (see `custom_field::value` for how values are
/// kept): by equality of the canonical text (or of the number, so `100.00` finds `100`), by a
/// part of the text, by presence, or by a range of numbers or dates.
#[derive(Debug, Clone, PartialEq)]
pub enum CustomTest {
    /// One of these values (or, for numbers, equal to one of `numbers`).
    Equals {
        /// Canonical texts.
        texts: Vec<String>,
        /// The same values read as numbers, where they are.
        numbers: Vec<f64>,
    },
    /// The text contains this.
    Contains(String),
    /// Has any value.
    Present,
    /// Compares with a number (numbers, money in yuan, user ids).
    NumberCmp(Cmp, f64),
    /// Compares with a date, `YYYY-MM-DD` (dates compare as their text).
    DateCmp(Cmp, String),
}

/// Operators a `cf.` clause may use; which ones fit the field's kind is checked against the
/// catalogue ([`SegmentRule::check_custom`]).
const CUSTOM_OPS: &[&str] = &[
    "eq",
    "ne",
    "in",
    "contains",
    "empty",
    "not_empty",
    "gte",
    "lte",
    "has",
    "not_has",
];

/// The prefix of a custom field's clause code: `cf.annual_income`.
pub const CUSTOM_PREFIX: &str = "cf.";

/// A window of days for which the store keeps each customer's order count and spend
/// (`customer_purchases`), so that "spent ≥ 500 in the last 365 days" reads one index instead
/// of every customer's orders. Any other number of days is summed from the orders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PurchaseWindow {
    /// The last 30 days.
    Days30,
    /// The last 90 days.
    Days90,
    /// The last 180 days.
    Days180,
    /// The last 365 days.
    Days365,
}

impl PurchaseWindow {
    /// Every kept window, shortest first.
    pub const ALL: [PurchaseWindow; 4] = [
        PurchaseWindow::Days30,
        PurchaseWindow::Days90,
        PurchaseWindow::Days180,
        PurchaseWindow::Days365,
    ];

    /// The kept window of exactly this many days, if there is one.
    pub fn of_days(days: u32) -> Option<Self> {
        Self::ALL.into_iter().find(|w| w.days() == days)
    }

    /// Its length in days.
    pub fn days(self) -> u32 {
        match self {
            PurchaseWindow::Days30 => 30,
            PurchaseWindow::Days90 => 90,
            PurchaseWindow::Days180 => 180,
            PurchaseWindow::Days365 => 365,
        }
    }

    /// Its length in milliseconds.
    pub fn millis(self) -> i64 {
        i64::from(self.days()) * 86_400_000
    }

    /// The `customer_purchases` column of its order count.
    pub fn orders_column(self) -> &'static str {
        match self {
            PurchaseWindow::Days30 => "orders_30d",
            PurchaseWindow::Days90 => "orders_90d",
            PurchaseWindow::Days180 => "orders_180d",
            PurchaseWindow::Days365 => "orders_365d",
        }
    }

    /// The `customer_purchases` column of its spend in minor units.
    pub fn spend_column(self) -> &'static str {
        match self {
            PurchaseWindow::Days30 => "spend_30d_minor",
            PurchaseWindow::Days90 => "spend_90d_minor",
            PurchaseWindow::Days180 => "spend_180d_minor",
            PurchaseWindow::Days365 => "spend_365d_minor",
        }
    }
}

/// A test, possibly negated.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    /// True for "not".
    pub negate: bool,
    /// The test.
    pub test: Test,
}

/// A resolved rule: what the store compiles.
#[derive(Debug, Clone, PartialEq)]
pub struct SegmentFilter {
    /// True: all conditions; false: any.
    pub match_all: bool,
    /// The conditions; an empty filter matches every customer.
    pub conditions: Vec<Condition>,
}

/// The moment a rule is resolved at: "now" for cut-offs and the local date for birthdays.
#[derive(Debug, Clone, Copy)]
pub struct AsOf {
    /// Now.
    pub now: DateTime<Utc>,
    /// Today in the business's time zone.
    pub today: NaiveDate,
    /// The business's time zone, hours east of UTC: where its months begin and end.
    pub utc_offset_hours: i64,
}

impl SegmentRule {
    /// A rule that holds where every one of `rules` holds, each kept whole as a group (a saved
    /// segment narrowed by a chart's click-through).
    pub fn all_of(rules: Vec<SegmentRule>) -> SegmentRule {
        SegmentRule {
            match_: "all".into(),
            clauses: rules
                .into_iter()
                .map(|r| RuleClause {
                    field: "group".into(),
                    op: "match".into(),
                    rule: Some(Box::new(r)),
                    ..Default::default()
                })
                .collect(),
        }
    }

    /// Checks every clause and resolves the rule at `as_of`. All problems are reported, each
    /// with the path of its clause (`clauses[1].value`, `clauses[0].rule.clauses[2].op`).
    pub fn resolve(&self, as_of: AsOf) -> Result<SegmentFilter, ValidationErrors> {
        let mut e = ValidationErrors::new();
        let mut count = 0;
        let f = resolve_rule(self, as_of, 1, &mut count, &mut e);
        if count > MAX_CLAUSES {
            e.push("clauses", "too_many_clauses");
        }
        match f {
            Some(f) if e.is_empty() => Ok(f),
            _ => Err(e),
        }
    }

    /// True when the rule has no clauses (it matches every customer in scope).
    pub fn is_empty(&self) -> bool {
        self.clauses.is_empty()
    }
}

fn resolve_rule(
    rule: &SegmentRule,
    as_of: AsOf,
    depth: usize,
    count: &mut usize,
    e: &mut ValidationErrors,
) -> Option<SegmentFilter> {
    let match_all = match rule.match_.as_str() {
        "all" | "" => true,
        "any" => false,
        _ => {
            e.push("match", "unknown_value");
            true
        }
    };
    let mut conditions = Vec::with_capacity(rule.clauses.len());
    for (i, c) in rule.clauses.iter().enumerate() {
        *count += 1;
        let path = format!("clauses[{i}]");
        let mut ce = ValidationErrors::new();
        let cond = if c.field == "group" {
            resolve_group(c, as_of, depth, count, &mut ce)
        } else {
            resolve_clause(c, as_of, &mut ce)
        };
        e.take(&path, if ce.is_empty() { Ok(()) } else { Err(ce) });
        if let Some(cond) = cond {
            conditions.push(cond);
        }
    }
    Some(SegmentFilter {
        match_all,
        conditions,
    })
}

fn resolve_group(
    c: &RuleClause,
    as_of: AsOf,
    depth: usize,
    count: &mut usize,
    e: &mut ValidationErrors,
) -> Option<Condition> {
    let negate = match c.op.as_str() {
        "" | "match" => false,
        "not" => true,
        _ => {
            e.push("op", "unknown_op");
            return None;
        }
    };
    let Some(rule) = &c.rule else {
        e.push("rule", "required");
        return None;
    };
    if depth >= MAX_DEPTH {
        e.push("rule", "too_deep");
        return None;
    }
    let mut ge = ValidationErrors::new();
    let f = resolve_rule(rule, as_of, depth + 1, count, &mut ge);
    e.take("rule", if ge.is_empty() { Ok(()) } else { Err(ge) });
    f.map(|f| Condition {
        negate,
        test: Test::Group(f),
    })
}

fn resolve_clause(c: &RuleClause, as_of: AsOf, e: &mut ValidationErrors) -> Option<Condition> {
    if let Some(code) = c.field.strip_prefix(CUSTOM_PREFIX) {
        return resolve_custom(code, c, e);
    }
    let Some(spec) = field_spec(&c.field) else {
        e.push("field", "unknown_field");
        return None;
    };
    if !spec.ops.contains(&c.op.as_str()) {
        e.push("op", "unknown_op");
        return None;
    }
    let op = c.op.as_str();
    let value = c.value.trim();
    let (since_ms, window) = if spec.days {
        match c.days.trim() {
            "" => (None, None),
            d => {
                let days = e.field("days", parse_days(d))?;
                (Some(cutoff(as_of, days)), PurchaseWindow::of_days(days))
            }
        }
    } else {
        if !c.days.trim().is_empty() {
            e.push("days", "not_allowed");
        }
        (None, None)
    };
    let negate = matches!(
        op,
        "ne" | "not_empty"
            | "not_has"
            | "not_granted"
            | "not_bought"
            | "not_within"
            | "not_during"
            | "not_responded"
    );
    let needs_value = !matches!(op, "empty" | "not_empty");
    if needs_value && value.is_empty() {
        e.push("value", "required");
        return None;
    }
    let test = match (spec.code, spec.value) {
        (col, ValueKind::Text) if TEXT_COLUMNS.contains(&col) => {
            let column = static_column(col)?;
            match op {
                "eq" | "ne" => Test::In {
                    column,
                    values: vec![value.to_string()],
                },
                "in" => Test::In {
                    column,
                    values: e.field("value", split_list(value))?,
                },
                "contains" => Test::Contains {
                    column,
                    needle: value.to_string(),
                },
                _ => Test::Empty { column },
            }
        }
        ("tag", _) => Test::Tag(value.to_string()),
        ("owner", _) => match op {
            "empty" | "not_empty" => Test::Empty { column: "owner_id" },
            _ => Test::Owner(e.field("value", value.parse::<i64>().map_err(|_| "not_a_number"))?),
        },
        ("campaign_response", _) => {
            if !CAMPAIGN_RESPONSES.contains(&value) {
                e.push("value", "unknown_value");
                return None;
            }
            let (kind, channel) = match value.rsplit_once('_') {
                Some((k, "email")) => (k, Some("email")),
                Some((k, "sms")) => (k, Some("sms")),
                _ => (value, None),
            };
            Test::Responded {
                // A click means the message was opened (images may be blocked).
                kinds: match kind {
                    "opened" => vec!["opened", "clicked"],
                    "clicked" => vec!["clicked"],
                    "replied" => vec!["replied"],
                    _ => vec!["opened", "clicked", "replied"],
                },
                channel,
                since_ms,
            }
        }
        ("consent", _) => Test::Consent(match value {
            "any" => None,
            v => Some(e.field("value", ContactKind::parse(v))?),
        }),
        (code, ValueKind::Code) => {
            let values = if op == "in" {
                e.field("value", split_list(value))?
            } else {
                vec![value.to_string()]
            };
            if values.iter().any(|v| !spec.choices.contains(&v.as_str())) {
                e.push("value", "unknown_value");
                return None;
            }
            match code {
                "rfm_segment" | "value_cell" | "activity" => Test::ScoreIn {
                    column: static_column(code)?,
                    values,
                },
                "tier" => Test::ScoreIn {
                    column: "abc_class",
                    values,
                },
                _ => Test::In {
                    column: static_column(code)?,
                    values,
                },
            }
        }
        ("clv", _) => Test::ScoreCmp {
            column: "clv_minor",
            cmp: cmp(op),
            value: e.field("value", parse_money(value))? as f64,
        },
        ("churn_probability", _) => {
            let p = e.field("value", parse_number(value))?;
            if !(0.0..=1.0).contains(&p) {
                e.push("value", "out_of_range");
                return None;
            }
            Test::ScoreCmp {
                column: "churn_probability",
                cmp: cmp(op),
                value: p,
            }
        }
        ("bought_product" | "bought_category", _) => Test::Bought {
            product: if spec.code == "bought_product" {
                ProductRef::Sku(value.to_string())
            } else {
                ProductRef::Category(value.to_string())
            },
            since_ms,
        },
        ("order_count", _) => {
            let n = e.field(
                "value",
                value
                    .parse::<i64>()
                    .map_err(|_| "not_a_number")
                    .and_then(|n| if n < 0 { Err("out_of_range") } else { Ok(n) }),
            )?;
            Test::OrderCount {
                cmp: cmp(op),
                value: n,
                since_ms,
                window,
            }
        }
        ("total_spend", _) => Test::Spend {
            cmp: cmp(op),
            value_minor: e.field("value", parse_money(value))?,
            since_ms,
            window,
        },
        ("last_order", _) => {
            Test::OrderedSince(cutoff(as_of, e.field("value", parse_days(value))?))
        }
        ("created", _) => Test::CreatedSince(cutoff(as_of, e.field("value", parse_days(value))?)),
        ("order_month", _) => {
            let (from, to) = e.field("value", month_span(value, as_of.utc_offset_hours))?;
            Test::OrderedBetween { from, to }
        }
        ("created_month", _) => {
            let (from, to) = e.field("value", month_span(value, as_of.utc_offset_hours))?;
            Test::CreatedBetween { from, to }
        }
        ("birthday", _) => {
            let days = e.field("value", parse_days(value))?;
            if days > 366 {
                e.push("value", "out_of_range");
                return None;
            }
            Test::BirthdayOn {
                solar: birthday_keys(as_of.today, days),
                lunar: lunar_birthday_keys(as_of.today, days),
            }
        }
        _ => {
            e.push("field", "unknown_field");
            return None;
        }
    };
    Some(Condition { negate, test })
}

/// Resolves a `cf.<code>` clause by its operator alone; [`SegmentRule::check_custom`] checks
/// it against the field's definition where the catalogue is at hand.
fn resolve_custom(code: &str, c: &RuleClause, e: &mut ValidationErrors) -> Option<Condition> {
    if crate::custom_field::check_code(code).is_err() {
        e.push("field", "unknown_field");
        return None;
    }
    let op = c.op.as_str();
    if !CUSTOM_OPS.contains(&op) {
        e.push("op", "unknown_op");
        return None;
    }
    if !c.days.trim().is_empty() {
        e.push("days", "not_allowed");
    }
    let value = c.value.trim();
    if !matches!(op, "empty" | "not_empty") && value.is_empty() {
        e.push("value", "required");
        return None;
    }
    let negate = matches!(op, "ne" | "not_has" | "empty");
    let test = match op {
        "eq" | "ne" | "in" | "has" | "not_has" => {
            let texts = if op == "in" {
                e.field("value", split_list(value))?
            } else {
                vec![value.to_string()]
            };
            let numbers = texts
                .iter()
                .filter_map(|t| crate::custom_field::value::parse_number(t).ok())
                .collect();
            // A date typed `2026/5/1` finds the stored `2026-05-01`.
            let mut texts = texts;
            let dates: Vec<String> = texts
                .iter()
                .filter_map(|t| crate::custom_field::value::parse_date(t).ok())
                .map(|d| d.to_string())
                .filter(|d| !texts.contains(d))
                .collect();
            texts.extend(dates);
            CustomTest::Equals { texts, numbers }
        }
        "contains" => CustomTest::Contains(value.to_string()),
        "empty" | "not_empty" => CustomTest::Present,
        _ => {
            let cmp = cmp(op);
            if let Ok(n) = crate::custom_field::value::parse_number(value) {
                CustomTest::NumberCmp(cmp, n)
            } else if let Ok(d) = crate::custom_field::value::parse_date(value) {
                CustomTest::DateCmp(cmp, d.to_string())
            } else if let Ok(m) = parse_money(value) {
                CustomTest::NumberCmp(cmp, m as f64 / 100.0)
            } else {
                e.push("value", "not_a_number");
                return None;
            }
        }
    };
    Some(Condition {
        negate,
        test: Test::Custom {
            code: code.to_string(),
            test,
        },
    })
}

impl SegmentRule {
    /// Checks every `cf.` clause against the customer fields `actor` may filter by: the field
    /// exists, is live and readable (a sensitive field filters only for those who may read it),
    /// the operator fits its kind, and the value is one it can hold.
    pub fn check_custom(
        &self,
        catalogue: &crate::custom_field::Catalogue,
        actor: &crate::role::Actor,
    ) -> Result<(), ValidationErrors> {
        let mut e = ValidationErrors::new();
        for (i, c) in self.clauses.iter().enumerate() {
            let path = format!("clauses[{i}]");
            if let Some(rule) = c.rule.as_deref() {
                e.take(&path, rule.check_custom(catalogue, actor));
                continue;
            }
            let Some(code) = c.field.strip_prefix(CUSTOM_PREFIX) else {
                continue;
            };
            let Some(def) = catalogue.by_code(code).filter(|d| d.readable_by(actor)) else {
                e.push(format!("{path}.field"), "unknown_field");
                continue;
            };
            if !def.kind.ops().contains(&c.op.as_str()) {
                e.push(format!("{path}.op"), "unknown_op");
                continue;
            }
            if matches!(c.op.as_str(), "empty" | "not_empty" | "contains") {
                continue;
            }
            let values = if c.op == "in" {
                split_list(c.value.trim()).unwrap_or_default()
            } else {
                vec![c.value.trim().to_string()]
            };
            for v in values {
                let parsed = if def.kind.has_choices() {
                    def.choices
                        .iter()
                        .any(|x| x.code == v)
                        .then_some(())
                        .ok_or("unknown_value")
                } else {
                    crate::custom_field::CustomValue::parse_text(def, &v).map(|_| ())
                };
                if let Err(code) = parsed {
                    e.push(format!("{path}.value"), code);
                    break;
                }
            }
        }
        e.finish(|| ())
    }
}

const TEXT_COLUMNS: &[&str] = &["city", "province", "industry", "employer", "job_title"];

/// Maps a catalogue code onto the `'static` column name the store may splice.
fn static_column(code: &str) -> Option<&'static str> {
    [
        "city",
        "province",
        "industry",
        "employer",
        "job_title",
        "kind",
        "gender",
        "lifecycle_stage",
        "source_channel",
        "rfm_segment",
        "value_cell",
        "activity",
    ]
    .into_iter()
    .find(|c| *c == code)
}

fn cmp(op: &str) -> Cmp {
    match op {
        "gte" => Cmp::Gte,
        "lte" => Cmp::Lte,
        _ => Cmp::Eq,
    }
}

/// Splits `上海, 北京，杭州` (ASCII or full-width commas) into trimmed, non-empty values.
fn split_list(v: &str) -> Result<Vec<String>, &'static str> {
    let out: Vec<String> = v
        .split([',', '，', '、'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    match out.len() {
        0 => Err("required"),
        n if n > 100 => Err("too_many_values"),
        _ => Ok(out),
    }
}

/// The instants (ms) a `YYYY-MM` month begins and ends, local midnight to local midnight.
fn month_span(v: &str, utc_offset_hours: i64) -> Result<(i64, i64), &'static str> {
    let first = NaiveDate::parse_from_str(&format!("{}-01", v.trim()), "%Y-%m-%d")
        .map_err(|_| "not_a_month")?;
    let next = first
        .checked_add_months(chrono::Months::new(1))
        .ok_or("out_of_range")?;
    Ok((
        local_midnight_ms(first, utc_offset_hours),
        local_midnight_ms(next, utc_offset_hours),
    ))
}

/// The instant (ms since the epoch) a day begins in a time zone `utc_offset_hours` east of
/// UTC: where a shop's days and months begin, for segment rules and dashboard charts alike.
pub fn local_midnight_ms(day: NaiveDate, utc_offset_hours: i64) -> i64 {
    day.and_time(chrono::NaiveTime::MIN)
        .and_utc()
        .timestamp_millis()
        - utc_offset_hours * 3_600_000
}

fn parse_days(v: &str) -> Result<u32, &'static str> {
    let d: u32 = v.trim().parse().map_err(|_| "not_a_number")?;
    if d == 0 || d > MAX_DAYS {
        return Err("out_of_range");
    }
    Ok(d)
}

fn parse_number(v: &str) -> Result<f64, &'static str> {
    v.trim()
        .parse::<f64>()
        .ok()
        .filter(|x| x.is_finite())
        .ok_or("not_a_number")
}

fn cutoff(as_of: AsOf, days: u32) -> i64 {
    (as_of.now - Duration::days(i64::from(days))).timestamp_millis()
}

/// The `MM-DD` keys of today and the next `days` days. A 29 February birthday is celebrated on
/// 28 February in common years, so `02-29` joins the window whenever a common year's 28 February
/// does.
pub fn birthday_keys(today: NaiveDate, days: u32) -> Vec<String> {
    let mut out = Vec::new();
    for i in 0..=i64::from(days) {
        let d = today + Duration::days(i);
        out.push(format!("{:02}-{:02}", d.month(), d.day()));
        let leap = NaiveDate::from_ymd_opt(d.year(), 2, 29).is_some();
        if !leap && d.month() == 2 && d.day() == 28 {
            out.push("02-29".into());
        }
    }
    out.sort();
    out.dedup();
    out
}

/// The lunar `MM-DD` keys of today and the next `days` days. A birthday on the 30th of a month
/// is celebrated on the 29th in years when that month is short, so `MM-30` joins the window with
/// a short month's 29th. Days of a leap month (闰月) give no keys: a birthday in the fifth month
/// is celebrated in the regular fifth month, not its repeat. Outside the table (after lunar
/// 2099) the window has no lunar keys.
pub fn lunar_birthday_keys(today: NaiveDate, days: u32) -> Vec<String> {
    let mut out = Vec::new();
    for i in 0..=i64::from(days) {
        let Some(l) = crate::lunar::to_lunar(today + Duration::days(i)) else {
            continue;
        };
        if l.leap {
            continue;
        }
        out.push(format!("{:02}-{:02}", l.month, l.day));
        if l.day == 29 && crate::lunar::month_days(l.year, l.month) == Some(29) {
            out.push(format!("{:02}-30", l.month));
        }
    }
    out.sort();
    out.dedup();
    out
}

/// What a user submits to save a segment.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SegmentInput {
    /// Name shown in pickers (unique).
    pub name: String,
    /// What the segment is for.
    #[serde(default)]
    pub description: String,
    /// The rule.
    pub rule: SegmentRule,
}

/// A checked [`SegmentInput`]: trimmed name and description, a rule that resolves.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidSegment {
    /// Trimmed name, 1–80 characters.
    pub name: String,
    /// Trimmed description, up to 500 characters.
    pub description: String,
    /// The rule as submitted (stored; resolved again at each use, so "last 90 days" moves).
    pub rule: SegmentRule,
}

impl SegmentInput {
    /// Checks the name, the description and every clause of the rule (errors under `rule.`).
    pub fn validate(&self, as_of: AsOf) -> Result<ValidSegment, ValidationErrors> {
        let mut e = ValidationErrors::new();
        let name = self.name.trim();
        if name.is_empty() {
            e.push("name", "required");
        } else if name.chars().count() > 80 {
            e.push("name", "too_long");
        }
        let description = self.description.trim();
        if description.chars().count() > 500 {
            e.push("description", "too_long");
        }
        e.take("rule", self.rule.resolve(as_of));
        if e.is_empty() {
            Ok(ValidSegment {
                name: name.to_string(),
                description: description.to_string(),
                rule: self.rule.clone(),
            })
        } else {
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn as_of() -> AsOf {
        AsOf {
            now: DateTime::parse_from_rfc3339("2026-11-23T04:00:00Z")
                .map(|d| d.with_timezone(&Utc))
                .expect("date"),
            today: NaiveDate::from_ymd_opt(2026, 11, 23).expect("date"),
            utc_offset_hours: 8,
        }
    }

    fn clause(field: &str, op: &str, value: &str) -> RuleClause {
        RuleClause {
            field: field.into(),
            op: op.into(),
            value: value.into(),
            ..Default::default()
        }
    }

    fn rule(clauses: Vec<RuleClause>) -> SegmentRule {
        SegmentRule {
            match_: "all".into(),
            clauses,
        }
    }

    #[test]
    fn resolves_the_marketers_examples() {
        let mut bought = clause("bought_product", "bought", "TEA-01");
        bought.days = "90".into();
        let f = rule(vec![
            clause("city", "eq", "上海"),
            clause("rfm_segment", "eq", "at_risk"),
            bought,
            clause("birthday", "within", "7"),
        ])
        .resolve(as_of())
        .expect("valid");
        assert!(f.match_all);
        assert_eq!(
            f.conditions[0].test,
            Test::In {
                column: "city",
                values: vec!["上海".into()]
            }
        );
        assert_eq!(
            f.conditions[1].test,
            Test::ScoreIn {
                column: "rfm_segment",
                values: vec!["at_risk".into()]
            }
        );
        let ninety_days_ago = as_of().now.timestamp_millis() - 90 * 86_400_000;
        assert_eq!(
            f.conditions[2].test,
            Test::Bought {
                product: ProductRef::Sku("TEA-01".into()),
                since_ms: Some(ninety_days_ago)
            }
        );
        match &f.conditions[3].test {
            Test::BirthdayOn { solar, lunar } => {
                assert_eq!(solar.first().map(String::as_str), Some("11-23"));
                assert_eq!(solar.last().map(String::as_str), Some("11-30"));
                assert_eq!(solar.len(), 8);
                assert_eq!(lunar.len(), 8, "{lunar:?}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_kept_window_is_named_only_for_its_exact_days() {
        let spend = |days: &str| {
            let mut c = clause("total_spend", "gte", "500");
            c.days = days.into();
            match rule(vec![c])
                .resolve(as_of())
                .map(|f| f.conditions[0].test.clone())
            {
                Ok(Test::Spend {
                    value_minor,
                    since_ms,
                    window,
                    ..
                }) => (value_minor, since_ms, window),
                other => panic!("{other:?}"),
            }
        };
        let year_ago = as_of().now.timestamp_millis() - 365 * 86_400_000;
        assert_eq!(
            spend("365"),
            (50_000, Some(year_ago), Some(PurchaseWindow::Days365))
        );
        assert_eq!(spend("30").2, Some(PurchaseWindow::Days30));
        assert_eq!(spend("100").2, None);
        assert_eq!(spend("").1, None);
        assert_eq!(
            PurchaseWindow::ALL.map(|w| (w.days(), w.spend_column())),
            [
                (30, "spend_30d_minor"),
                (90, "spend_90d_minor"),
                (180, "spend_180d_minor"),
                (365, "spend_365d_minor")
            ]
        );
    }

    #[test]
    fn every_bad_clause_is_named() {
        let mut days_on_city = clause("city", "eq", "上海");
        days_on_city.days = "3".into();
        let errs = SegmentRule {
            match_: "some".into(),
            clauses: vec![
                clause("shoe_size", "eq", "42"),
                clause("city", "gt", "x"),
                clause("rfm_segment", "eq", "vip"),
                clause("total_spend", "gte", "abc"),
                clause("churn_probability", "gte", "1.5"),
                clause("birthday", "within", ""),
                days_on_city,
                clause("lifecycle_stage", "in", "active, gone"),
            ],
        }
        .resolve(as_of())
        .expect_err("invalid");
        let got: Vec<(String, String)> = errs
            .0
            .iter()
            .map(|e| (e.field.clone(), e.code.clone()))
            .collect();
        let want = [
            ("match", "unknown_value"),
            ("clauses[0].field", "unknown_field"),
            ("clauses[1].op", "unknown_op"),
            ("clauses[2].value", "unknown_value"),
            ("clauses[3].value", "not_a_number"),
            ("clauses[4].value", "out_of_range"),
            ("clauses[5].value", "required"),
            ("clauses[6].days", "not_allowed"),
            ("clauses[7].value", "unknown_value"),
        ];
        assert_eq!(
            got,
            want.iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect::<Vec<_>>()
        );
    }

    #[test]
    fn groups_nest_and_report_nested_paths() {
        let inner = rule(vec![clause("city", "eq", "上海"), clause("tag", "has", "")]);
        let g = RuleClause {
            field: "group".into(),
            op: "not".into(),
            rule: Some(Box::new(inner)),
            ..Default::default()
        };
        let errs = rule(vec![g.clone()])
            .resolve(as_of())
            .expect_err("tag empty");
        assert_eq!(errs.0[0].field, "clauses[0].rule.clauses[1].value");
        let mut ok = g;
        if let Some(r) = ok.rule.as_mut() {
            r.clauses[1].value = "VIP".into();
            r.match_ = "any".into();
        }
        let f = rule(vec![ok]).resolve(as_of()).expect("valid");
        assert!(f.conditions[0].negate);
        match &f.conditions[0].test {
            Test::Group(inner) => {
                assert!(!inner.match_all);
                assert_eq!(inner.conditions.len(), 2);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn limits_hold() {
        let many = rule(vec![clause("city", "eq", "x"); MAX_CLAUSES + 1]);
        let e = many.resolve(as_of()).expect_err("too many");
        assert_eq!(e.0[0].code, "too_many_clauses");
        let mut deep = rule(vec![clause("city", "eq", "x")]);
        for _ in 0..MAX_DEPTH {
            deep = rule(vec![RuleClause {
                field: "group".into(),
                rule: Some(Box::new(deep)),
                ..Default::default()
            }]);
        }
        let e = deep.resolve(as_of()).expect_err("too deep");
        assert!(e.0.iter().any(|x| x.code == "too_deep"), "{e:?}");
    }

    #[test]
    fn input_names_its_problems() {
        let e = SegmentInput {
            name: "  ".into(),
            description: "x".repeat(501),
            rule: rule(vec![clause("city", "eq", "")]),
        }
        .validate(as_of())
        .expect_err("invalid");
        let fields: Vec<&str> = e.0.iter().map(|x| x.field.as_str()).collect();
        assert_eq!(fields, ["name", "description", "rule.clauses[0].value"]);
    }

    #[test]
    fn leap_day_birthdays_are_not_forgotten() {
        let feb27 = NaiveDate::from_ymd_opt(2027, 2, 27).expect("date");
        let keys = birthday_keys(feb27, 2);
        assert_eq!(keys, ["02-27", "02-28", "02-29", "03-01"]);
        let leap = NaiveDate::from_ymd_opt(2028, 2, 27).expect("date");
        assert_eq!(birthday_keys(leap, 2), ["02-27", "02-28", "02-29"]);
        // Across the new year.
        let dec30 = NaiveDate::from_ymd_opt(2026, 12, 30).expect("date");
        assert_eq!(
            birthday_keys(dec30, 3),
            ["01-01", "01-02", "12-30", "12-31"]
        );
    }

    #[test]
    fn months_run_from_local_midnight_to_local_midnight() {
        let f = rule(vec![
            clause("order_month", "not_during", "2026-02"),
            clause("created_month", "eq", " 2025-12 "),
        ])
        .resolve(as_of())
        .expect("valid");
        let ms = |s: &str| {
            DateTime::parse_from_rfc3339(s)
                .expect("date")
                .timestamp_millis()
        };
        // Shop time is UTC+8: February 2026 begins at 16:00 UTC on 31 January.
        assert!(f.conditions[0].negate);
        assert_eq!(
            f.conditions[0].test,
            Test::OrderedBetween {
                from: ms("2026-01-31T16:00:00Z"),
                to: ms("2026-02-28T16:00:00Z"),
            }
        );
        // December runs into the next year.
        assert_eq!(
            f.conditions[1].test,
            Test::CreatedBetween {
                from: ms("2025-11-30T16:00:00Z"),
                to: ms("2025-12-31T16:00:00Z"),
            }
        );
        for bad in ["2026-13", "March", "2026-3-1", ""] {
            let e = rule(vec![clause("order_month", "during", bad)])
                .resolve(as_of())
                .expect_err(bad);
            assert_eq!(e.0[0].field, "clauses[0].value", "{bad}");
        }
        let e = rule(vec![clause("created_month", "during", "2026-01")])
            .resolve(as_of())
            .expect_err("op");
        assert_eq!(e.0[0].code, "unknown_op");
    }

    #[test]
    fn all_of_keeps_each_rule_whole() {
        let any = SegmentRule {
            match_: "any".into(),
            clauses: vec![clause("city", "eq", "上海"), clause("city", "eq", "杭州")],
        };
        let both = SegmentRule::all_of(vec![any.clone(), rule(vec![clause("tier", "eq", "A")])]);
        let f = both.resolve(as_of()).expect("valid");
        assert!(f.match_all);
        assert_eq!(f.conditions.len(), 2);
        match &f.conditions[0].test {
            Test::Group(g) => assert!(!g.match_all && g.conditions.len() == 2),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn lunar_birthdays_follow_the_lunar_calendar() {
        // 2026-09-25 is the 15th of the eighth lunar month (中秋).
        let mid_autumn = NaiveDate::from_ymd_opt(2026, 9, 25).expect("date");
        assert_eq!(lunar_birthday_keys(mid_autumn, 0), ["08-15"]);
        // The twelfth month of lunar 2026 has 29 days (its 29th is 2027-02-05, 除夕): a
        // birthday on the 30th is celebrated that day.
        let eve = NaiveDate::from_ymd_opt(2027, 2, 5).expect("date");
        assert_eq!(lunar_birthday_keys(eve, 0), ["12-29", "12-30"]);
        // 2025's leap sixth month (2025-07-25 to 2025-08-22) gives no keys.
        let leap = NaiveDate::from_ymd_opt(2025, 7, 25).expect("date");
        assert!(lunar_birthday_keys(leap, 10).is_empty());
    }

    #[test]
    fn api_clients_may_send_numbers() {
        let r: SegmentRule = serde_json::from_str(
            r#"{"clauses":[{"field":"order_count","op":"gte","value":3,"days":90}]}"#,
        )
        .expect("json");
        assert_eq!(r.match_, "all");
        assert_eq!(r.clauses[0].value, "3");
        assert_eq!(r.clauses[0].days, "90");
        assert!(r.resolve(as_of()).is_ok());
    }

    #[test]
    fn catalogue_codes_come_from_the_vocabularies() {
        let stage = field_spec("lifecycle_stage").expect("field");
        assert_eq!(stage.choices.len(), LifecycleStage::ALL.len());
        for f in FIELDS {
            assert!(!f.ops.is_empty(), "{}", f.code);
        }
    }
}
