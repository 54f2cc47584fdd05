//! `guanxi demo`: a realistic, seeded demo data set. Customers are a mix of Chinese and English
//! names, individuals and companies (with principals), with contact points, relations, profiles
//! and anniversaries. Orders span three years with seasonality (Chinese New Year, 618, Double 11,
//! December) and a realistic spread of buyers: a few heavy, many regular and occasional, and a
//! share of lapsed buyers who stopped in the first year.

use anyhow::Context;
use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use clap::Args;
use guanxi_domain::customer::{CustomerFields, NewContactPoint};
use guanxi_domain::order::{NewOrder, NewOrderLine};
use guanxi_domain::profile::{Anniversary, CompanyProfile, Family, IndividualProfile, Lifestyle};
use guanxi_domain::provenance::Provenance;
use guanxi_domain::relation::NewRelation;
use guanxi_domain::role::Actor;
use guanxi_domain::vocabulary::*;
use guanxi_store::load::HistoryLoad;
use guanxi_store::Store;
use indicatif::{ProgressBar, ProgressStyle};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

#[derive(Args)]
pub struct DemoArgs {
    /// Number of customers (individuals and companies).
    #[arg(long, default_value_t = 2400)]
    pub customers: usize,
    /// Number of orders (default: 60,000 for books up to 30,000 customers, then two per
    /// customer, as a shop of a million has).
    #[arg(long)]
    pub orders: Option<usize>,
    /// Random seed: the same seed gives the same data.
    #[arg(long, default_value_t = 20_261_122)]
    pub seed: u64,
    /// Only load the data; do not start the server.
    #[arg(long)]
    pub no_serve: bool,
    /// Listen address for the server.
    #[arg(long)]
    pub bind: Option<String>,
}

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭",
    "何", "林", "高", "罗", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹", "欧阳",
    "司马",
];
const GIVEN: &[&str] = &[
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明",
    "超", "秀英", "霞", "平", "刚", "桂英", "建华", "晓东", "海燕", "子涵", "雨萱", "浩然", "梓轩",
    "思远", "嘉怡", "一鸣", "欣怡", "俊杰", "文博", "志强", "美玲", "丹", "萍", "鹏",
];
const FIRST_EN: &[&str] = &[
    "James", "Mary", "John", "Linda", "David", "Susan", "Michael", "Karen", "Daniel", "Emma",
    "Oliver", "Sophie", "Thomas", "Grace", "Lucas", "Chloe", "Henry", "Amelia", "Jack", "Olivia",
];
const LAST_EN: &[&str] = &[
    "Smith", "Johnson", "Brown", "Taylor", "Wilson", "Davies", "Evans", "Walker", "Wright",
    "Thompson", "White", "Hughes", "Green", "Hall", "Wood", "Clarke", "Martin", "Baker", "Scott",
    "Young",
];
const CITIES: &[(&str, &str, u32)] = &[
    ("上海", "上海", 22),
    ("北京", "北京", 20),
    ("广东", "广州", 12),
    ("广东", "深圳", 12),
    ("浙江", "杭州", 9),
    ("江苏", "南京", 6),
    ("江苏", "苏州", 5),
    ("四川", "成都", 6),
    ("湖北", "武汉", 4),
    ("陕西", "西安", 3),
    ("福建", "厦门", 2),
    ("香港", "香港", 2),
];
const COMPANY_WORDS: &[&str] = &[
    "华茂",
    "鼎盛",
    "恒通",
    "瑞丰",
    "金源",
    "宏达",
    "新世纪",
    "东方",
    "九州",
    "百川",
    "锦程",
    "远航",
];
const COMPANY_KINDS: &[(&str, &str)] = &[
    ("贸易有限公司", "wholesale"),
    ("科技有限公司", "technology"),
    ("餐饮管理有限公司", "catering"),
    ("酒店管理有限公司", "hospitality"),
    ("文化传媒有限公司", "media"),
];
const EMPLOYERS: &[&str] = &[
    "中国银行",
    "华为技术",
    "腾讯",
    "阿里巴巴",
    "上海市第一人民医院",
    "复旦大学",
    "自由职业",
    "平安保险",
    "京东",
    "万科",
];
const TITLES: &[&str] = &[
    "经理",
    "工程师",
    "教师",
    "医生",
    "销售总监",
    "设计师",
    "会计",
    "律师",
    "店长",
    "研究员",
];
const HOBBIES: &[&str] = &[
    "茶道",
    "高尔夫",
    "摄影",
    "书法",
    "钓鱼",
    "瑜伽",
    "跑步",
    "烹饪",
    "旅行",
    "围棋",
];
const DRINKS: &[&str] = &[
    "胡萝卜汁",
    "普洱茶",
    "龙井",
    "美式咖啡",
    "温水",
    "红酒",
    "苏打水",
];
const COLOURS: &[&str] = &["红色", "蓝色", "绿色", "白色", "黑色", "金色"];
const STORES: &[&str] = &[
    "静安店",
    "徐汇店",
    "朝阳店",
    "天河店",
    "南山店",
    "西湖店",
    "线上旗舰店",
];
const TAGS: &[&str] = &[
    "vip",
    "wholesale",
    "gift-buyer",
    "tea-lover",
    "corporate",
    "new-year",
    "referral",
];

/// Products: (sku, name, category, price in fen).
const PRODUCTS: &[(&str, &str, &str, i64)] = &[
    ("TEA-LJ-250", "西湖龙井 250g", "tea", 38_800),
    ("TEA-PE-357", "普洱饼茶 357g", "tea", 26_800),
    ("TEA-TG-200", "铁观音 200g", "tea", 16_800),
    ("TEA-HC-100", "白毫银针 100g", "tea", 45_800),
    ("TEA-JS-50", "金骏眉 50g", "tea", 22_800),
    ("TEA-MJ-100", "茉莉花茶 100g", "tea", 6_800),
    ("SET-TEA-01", "汝窑茶具套装", "teaware", 128_000),
    ("SET-TEA-02", "紫砂壶", "teaware", 86_000),
    ("CUP-GL-06", "玻璃品茗杯 6只", "teaware", 9_900),
    ("GIFT-MC-01", "月饼礼盒", "gift", 29_800),
    ("GIFT-NY-01", "新春礼盒", "gift", 39_800),
    ("GIFT-ZZ-01", "端午粽子礼盒", "gift", 19_800),
    ("SNK-NUT-500", "每日坚果 500g", "snack", 8_900),
    ("SNK-DAT-500", "新疆红枣 500g", "snack", 5_900),
    ("SNK-HON-500", "槐花蜂蜜 500g", "snack", 7_800),
    ("CARD-100", "礼品卡 100元", "gift_card", 10_000),
    ("CARD-500", "礼品卡 500元", "gift_card", 50_000),
    ("TEA-OL-300", "冻顶乌龙 300g", "tea", 19_800),
];

/// Buyer segments: (share of customers, relative order weight, active only in first year).
const SEGMENTS: &[(f64, f64, bool)] = &[
    (0.05, 40.0, false),
    (0.30, 10.0, false),
    (0.40, 3.0, false),
    (0.25, 2.0, true),
];

fn pick<'a, T>(rng: &mut ChaCha8Rng, xs: &'a [T]) -> &'a T {
    &xs[rng.gen_range(0..xs.len())]
}

fn weighted_city(rng: &mut ChaCha8Rng) -> (&'static str, &'static str) {
    let total: u32 = CITIES.iter().map(|c| c.2).sum();
    let mut x = rng.gen_range(0..total);
    for (p, c, w) in CITIES {
        if x < *w {
            return (p, c);
        }
        x -= w;
    }
    (CITIES[0].0, CITIES[0].1)
}

fn mobile(rng: &mut ChaCha8Rng) -> String {
    let prefix = *pick(
        rng,
        &[
            "138", "139", "137", "150", "151", "158", "186", "188", "135", "136",
        ],
    );
    let n: u32 = rng.gen_range(0..100_000_000);
    // Stored in the varied formats real data arrives in.
    match rng.gen_range(0..4) {
        0 => format!("{prefix}{n:08}"),
        1 => format!("+86 {prefix}-{:04}-{:04}", n / 10_000, n % 10_000),
        2 => format!("{prefix} {:04} {:04}", n / 10_000, n % 10_000),
        _ => format!("0086{prefix}{n:08}"),
    }
}

/// Seasonality weight of a day: Chinese New Year run-up, 618, Double 11, December gifting.
fn season_weight(d: NaiveDate) -> f64 {
    let (m, day) = (d.month(), d.day());
    let mut w = 1.0;
    if m == 1 || (m == 2 && day < 10) {
        w *= 1.8;
    }
    if m == 6 && (10..=18).contains(&day) {
        w *= 2.2;
    }
    if m == 11 && (1..=11).contains(&day) {
        w *= 3.0;
    }
    if m == 12 {
        w *= 1.5;
    }
    if m == 9 {
        w *= 1.3; // mid-autumn mooncakes
    }
    if m == 7 || m == 8 {
        w *= 0.8;
    }
    w
}

fn random_day(rng: &mut ChaCha8Rng, from: NaiveDate, to: NaiveDate) -> NaiveDate {
    let span = (to - from).num_days().max(1);
    loop {
        let d = from + Duration::days(rng.gen_range(0..span));
        if rng.gen::<f64>() * 3.0 < season_weight(d) {
            return d;
        }
    }
}

fn at_time(rng: &mut ChaCha8Rng, d: NaiveDate) -> DateTime<Utc> {
    // Shop hours in China (UTC+8): 09:00–21:00 local.
    let local_minutes = rng.gen_range(9 * 60..21 * 60) as i64;
    Utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0).unwrap_or_default())
        + Duration::minutes(local_minutes - 8 * 60)
}

struct Generated {
    customers: usize,
    companies: usize,
    orders: usize,
    lines: usize,
}

/// Loads the demo set unless customers already exist; prints what it did.
pub async fn run(store: &Store, args: &DemoArgs) -> anyhow::Result<()> {
    let existing = store
        .list_customers(
            &Actor::system(),
            &guanxi_store::customers::CustomerFilter {
                limit: 1,
                ..Default::default()
            },
        )
        .await?;
    if !existing.items.is_empty() {
        println!("The database already has customers; demo data is not loaded again.");
        return Ok(());
    }
    // The customers' indexes are built once at the end instead of updated row by row (they
    // come back at the next start if the load dies half-way).
    store.set_aside_customer_indexes().await?;
    let g = generate(store, args).await?;
    println!(
        "Demo data loaded: {} customers ({} companies), {} orders with {} lines.",
        g.customers, g.companies, g.orders, g.lines
    );
    // Score the demo book so the 360 page, tiers and dashboards have numbers from the start.
    let r = store
        .refresh_scores(guanxi_store::scores::ScoreSettings::default())
        .await?;
    println!(
        "Scored {} customers (RFM, value matrix, ABC, activity, CLV, churn); refresh again with `guanxi scores refresh`.",
        r.customers
    );
    let saved = demo_segments(store).await?;
    println!("Saved {saved} segments for the marketer (the list of segments shows their sizes).");
    let (members, fired) = demo_membership(store).await?;
    println!("Membership: a programme with four tiers ({members} members placed), two coupon offers, three rules ({fired} firings so far).");
    // The customers' indexes come back before the service desk and the pipeline are loaded:
    // those read customers as the pages do (a list walks its filter's index: the kind's, for
    // the companies a deal goes to), and every later write is small. After the scoring,
    // which rewrites every scored customer's stage, so the indexes are built from the final
    // rows.
    store.restore_set_aside_indexes().await?;
    let tickets = crate::demo_service::load(store, args.seed, g.customers).await?;
    println!("Service desk: {tickets} tickets over the last year in three queues (complaints escalate to 孙组长 service.lead).");
    let (deals, won, lost) = crate::demo_pipeline::load(store, args.seed, g.customers).await?;
    println!("Sales pipeline: {deals} opportunities for the reps' customers ({won} won, {lost} lost), on /pipeline.");
    let (leads, converted) = crate::demo_pipeline::load_leads(store, args.seed).await?;
    let key_accounts = crate::demo_pipeline::load_key_accounts(store).await?;
    println!("Leads: {leads} enquiries ({converted} converted), a capture form on /leads/forms; {key_accounts} key accounts on /key-accounts.");
    // On PostgreSQL the vacuum marks the final pages all-visible, so index-only scans stay
    // index-only.
    store.compact_rollups().await?;
    store.refresh_statistics(&[]).await?;
    Ok(())
}

/// A membership programme started half a year ago (so the demo's recent orders have earned
/// points and everyone who bought this year has a tier), a coupon offer for birthdays and a
/// shared welcome code, and three rules: big spenders are tagged and rewarded, a birthday
/// three days ahead brings a coupon, and churn risk gives the owner a task (left off, to be
/// tried with the dry run). Returns (members placed, rule firings).
async fn demo_membership(store: &Store) -> anyhow::Result<(usize, usize)> {
    use guanxi_domain::loyalty::{CouponValue, OfferInput, ProgramInput};
    use guanxi_domain::rule::RuleInput;
    let system = Actor::system();
    let now = chrono::Utc::now();
    let today = (now + chrono::Duration::hours(8)).date_naive();
    let program: ProgramInput = serde_json::from_value(serde_json::json!({
        "name": "关系会员 Guanxi members", "basis": "spend", "window_days": 365,
        "points_per_yuan": 1, "expiry_months": 24,
        "starts_on": (today - chrono::Duration::days(180)).to_string(), "active": true,
        "tiers": [
            {"code": "basic", "name": "普通会员", "qualify": 0, "keep": 0, "accrual_percent": 100},
            {"code": "silver", "name": "银卡", "qualify": 500_000, "keep": 400_000, "accrual_percent": 120},
            {"code": "gold", "name": "金卡", "qualify": 2_000_000, "keep": 1_600_000, "accrual_percent": 150},
            {"code": "diamond", "name": "钻石卡", "qualify": 5_000_000, "keep": 4_000_000, "accrual_percent": 200}],
        "category_rates": [], "promotions": []}))?;
    store
        .create_loyalty_program(&system, &program.validate().map_err(anyhow::Error::msg)?, 8)
        .await?;
    let birthday = OfferInput {
        name: "生日券 ¥50 Birthday coupon".into(),
        value: CouponValue::Amount { minor: 5000 },
        min_spend_minor: 30_000,
        valid_from: today,
        valid_to: today + chrono::Duration::days(365),
        valid_days: Some(30),
        per_customer_limit: 1,
        shared_code: None,
        active: true,
    };
    let offer = store
        .save_coupon_offer(
            &system,
            None,
            &birthday.validate().map_err(anyhow::Error::msg)?,
        )
        .await?;
    let welcome = OfferInput {
        name: "新客九折 Welcome 10 %".into(),
        value: CouponValue::Percent { percent: 10 },
        min_spend_minor: 0,
        valid_from: today,
        valid_to: today + chrono::Duration::days(90),
        valid_days: None,
        per_customer_limit: 1,
        shared_code: Some("WELCOME10".into()),
        active: true,
    };
    store
        .save_coupon_offer(
            &system,
            None,
            &welcome.validate().map_err(anyhow::Error::msg)?,
        )
        .await?;
    let rules = [
        serde_json::json!({"name": "累计消费满十万 Big spender", "active": true,
            "trigger": {"kind": "spend_reached", "amount_minor": 10_000_000},
            "actions": [{"kind": "add_tag", "tag": "大客户"},
                        {"kind": "award_points", "points": 500, "expiry_months": 12}]}),
        serde_json::json!({"name": "生日前三天送券 Birthday coupon", "active": true,
            "trigger": {"kind": "occasion", "occasion": "birthday", "days_before": 3},
            "actions": [{"kind": "issue_coupon", "offer_id": offer.id}]}),
        serde_json::json!({"name": "流失预警回访 Churn risk call", "active": false,
            "trigger": {"kind": "churn_risk", "percent": 70},
            "actions": [{"kind": "task", "title": "回访挽留 Call to keep", "due_days": 3}]}),
    ];
    for r in rules {
        let r: RuleInput = serde_json::from_value(r)?;
        store
            .create_rule(&system, &r.validate().map_err(anyhow::Error::msg)?)
            .await?;
    }
    let run = guanxi_app::loyalty::program::run(store, now, 8, true, None).await?;
    let members = run.tiers.map_or(0, |t| t.members);
    let as_of = guanxi_domain::segment::AsOf {
        now,
        today,
        utc_offset_hours: 8,
    };
    let fired = store.run_rules(as_of, true).await?.fired;
    Ok((members, fired))
}

/// A marketer's first segments: the seeds' high-value customers in one city, the year's big
/// spenders, this month's buyers and the customers at risk of leaving.
async fn demo_segments(store: &Store) -> anyhow::Result<usize> {
    let specs = [
        (
            "上海高价值 Shanghai champions",
            "上海、近一年消费≥500元的冠军客户 / Champions in Shanghai who spent 500 this year",
            serde_json::json!([
                {"field": "city", "op": "eq", "value": "上海"},
                {"field": "total_spend", "op": "gte", "value": "500", "days": "365"},
                {"field": "rfm_segment", "op": "eq", "value": "champions"}]),
        ),
        (
            "年度大客户 Big spenders this year",
            "近一年消费≥20000元 / Spent 20,000 or more in the last 365 days",
            serde_json::json!([
                {"field": "total_spend", "op": "gte", "value": "20000", "days": "365"}]),
        ),
        (
            "近30天下单 Bought this month",
            "近30天至少下单一次 / At least one order in the last 30 days",
            serde_json::json!([
                {"field": "order_count", "op": "gte", "value": "1", "days": "30"}]),
        ),
        (
            "流失风险 At risk",
            "RFM 有流失风险且有营销许可 / At risk, with marketing consent",
            serde_json::json!([
                {"field": "rfm_segment", "op": "in", "value": "at_risk, cant_lose_them"},
                {"field": "consent", "op": "granted", "value": "any"}]),
        ),
    ];
    let now = chrono::Utc::now();
    let as_of = guanxi_domain::segment::AsOf {
        now,
        today: (now + chrono::Duration::hours(8)).date_naive(),
        utc_offset_hours: 8,
    };
    for (name, description, clauses) in &specs {
        let input: guanxi_domain::segment::SegmentInput =
            serde_json::from_value(serde_json::json!({
            "name": name, "description": description,
            "rule": {"match": "all", "clauses": clauses}}))?;
        store
            .create_segment(&Actor::system(), &input, as_of)
            .await?;
    }
    Ok(specs.len())
}

async fn demo_users(store: &Store) -> anyhow::Result<Vec<Actor>> {
    let password =
        std::env::var("GUANXI_DEMO_PASSWORD").unwrap_or_else(|_| crate::users::generate_password());
    let east = crate::users::team_id(store, "华东销售 East").await?;
    let south = crate::users::team_id(store, "华南销售 South").await?;
    let desk = crate::users::team_id(store, "客服中心 Service").await?;
    let specs: &[(&str, &str, guanxi_domain::role::Role, Option<i64>)] = &[
        (
            "admin",
            "管理员 Admin",
            guanxi_domain::role::Role::Admin,
            None,
        ),
        (
            "manager",
            "王经理 Manager",
            guanxi_domain::role::Role::Manager,
            None,
        ),
        (
            "sales.east",
            "李销售 East Rep",
            guanxi_domain::role::Role::Sales,
            Some(east),
        ),
        (
            "sales.east2",
            "赵销售 East Rep 2",
            guanxi_domain::role::Role::Sales,
            Some(east),
        ),
        (
            "sales.south",
            "陈销售 South Rep",
            guanxi_domain::role::Role::Sales,
            Some(south),
        ),
        (
            "service",
            "周客服 Service",
            guanxi_domain::role::Role::Service,
            Some(desk),
        ),
        (
            "service2",
            "郑客服 Service 2",
            guanxi_domain::role::Role::Service,
            Some(desk),
        ),
        (
            "service.lead",
            "孙组长 Service Lead",
            guanxi_domain::role::Role::Service,
            Some(desk),
        ),
        (
            "marketing",
            "吴营销 Marketing",
            guanxi_domain::role::Role::Marketing,
            None,
        ),
        (
            "viewer",
            "访客 Viewer",
            guanxi_domain::role::Role::Viewer,
            None,
        ),
    ];
    let mut actors = Vec::new();
    for (username, display, role, team) in specs {
        let u = guanxi_app::users::create_user(
            store,
            &Actor::system(),
            guanxi_domain::user::NewUser {
                username: (*username).into(),
                display_name: (*display).into(),
                password: password.clone(),
                role: *role,
                team_id: *team,
                see_all_customers: false,
                locale: Some("zh-CN".into()),
            },
        )
        .await
        .map_err(|e| anyhow::anyhow!("creating demo user {username}: {e}"))?;
        actors.push(guanxi_domain::role::Actor::for_user(&u));
    }
    println!("Demo users (password for all: {password}): admin, manager, sales.east, sales.east2, sales.south, service, service2, service.lead, marketing, viewer");
    Ok(actors)
}

impl DemoArgs {
    /// The number of orders to place.
    fn order_count(&self) -> usize {
        self.orders
            .unwrap_or_else(|| (self.customers * 25).min(60_000.max(self.customers * 2)))
    }
}

async fn generate(store: &Store, args: &DemoArgs) -> anyhow::Result<Generated> {
    let order_count = args.order_count();
    let mut rng = ChaCha8Rng::seed_from_u64(args.seed);
    let users = demo_users(store).await?;
    let owners: Vec<&Actor> = users
        .iter()
        .filter(|a| {
            matches!(
                a.role,
                guanxi_domain::role::Role::Sales | guanxi_domain::role::Role::Manager
            )
        })
        .collect();
    let now = Utc::now();
    let today = now.date_naive();
    let start = today - Duration::days(3 * 365);
    let bar = ProgressBar::new((args.customers + order_count) as u64);
    bar.set_style(
        ProgressStyle::with_template("{msg:>10} [{bar:40}] {pos}/{len} ({eta})")
            .context("progress template")?
            .progress_chars("=> "),
    );
    bar.set_message("customers");

    let n_companies = args.customers / 12;
    let sys = Actor::system();
    let mut generated = Generated {
        customers: 0,
        companies: 0,
        orders: 0,
        lines: 0,
    };
    let (mut interactions, mut tasks) = (0u64, 0u64);
    let mut heavy: Vec<i64> = Vec::new();
    let mut seq = 0u64;
    let mut orders = 0usize;
    let lapsed_end = start + Duration::days(365);
    let mut chunk_start = 0;
    // A chunk of customers at a time, each written with its whole history in two bulk
    // transactions: the time grows with the book, not with its square, and no write holds
    // the database for long.
    while chunk_start < args.customers {
        let chunk_end = (chunk_start + DEMO_CHUNK).min(args.customers);
        let mut batch = Vec::with_capacity(chunk_end - chunk_start);
        let mut kinds = Vec::with_capacity(chunk_end - chunk_start);
        for i in chunk_start..chunk_end {
            let owner = *pick(&mut rng, &owners);
            let (province, city) = weighted_city(&mut rng);
            let is_company = i < n_companies;
            let channel = *pick(
                &mut rng,
                &[
                    SourceChannel::PointOfSale,
                    SourceChannel::Website,
                    SourceChannel::Exhibition,
                    SourceChannel::Referral,
                    SourceChannel::CallCentre,
                    SourceChannel::Campaign,
                    SourceChannel::Survey,
                    SourceChannel::Partner,
                ],
            );
            let collected_day = random_day(&mut rng, start, today);
            // The record was made when its first facts were collected (moved back to the first
            // order or contact once the history is loaded).
            let collected_at = at_time(&mut rng, collected_day).min(now);
            let source = Provenance {
                channel,
                direct: channel != SourceChannel::Partner,
                collected_by: Some(owner.id),
                collected_at: Some(collected_at),
            };
            let mut tags: Vec<String> = Vec::new();
            if rng.gen_bool(0.3) {
                tags.push((*pick(&mut rng, TAGS)).to_string());
            }
            let f = if is_company {
                let (suffix, industry) = *pick(&mut rng, COMPANY_KINDS);
                let name = format!("{}{}{}", city, pick(&mut rng, COMPANY_WORDS), suffix);
                CustomerFields {
                    kind: CustomerKind::Company,
                    name,
                    gender: None,
                    birthday: None,
                    id_number: None,
                    province: Some(province.into()),
                    city: Some(city.into()),
                    address: Some(format!(
                        "{city}市{}路{}号",
                        pick(&mut rng, &["南京", "中山", "人民", "解放", "建设"]),
                        rng.gen_range(1..999)
                    )),
                    time_zone: None,
                    employer: None,
                    job_title: None,
                    industry: Some(industry.into()),
                    lifecycle_stage: Some(*pick(
                        &mut rng,
                        &[
                            LifecycleStage::Active,
                            LifecycleStage::Active,
                            LifecycleStage::New,
                            LifecycleStage::Dormant,
                        ],
                    )),
                    owner_id: Some(owner.id),
                    tags: {
                        tags.push("corporate".into());
                        tags
                    },
                    source: Some(source),
                    profile: None,
                    company: Some(CompanyProfile {
                        founded: NaiveDate::from_ymd_opt(
                            rng.gen_range(1995..2022),
                            rng.gen_range(1..13),
                            rng.gen_range(1..28),
                        ),
                        legal_form: Some("有限责任公司".into()),
                        size: Some(*pick(&mut rng, CompanySize::ALL)),
                        employees: Some(rng.gen_range(5..2000)),
                        assets_minor: Some(rng.gen_range(1_000_000..500_000_000) * 100),
                        currency: Some("CNY".into()),
                        service_area: Some(format!("{province}及周边")),
                        traits: vec![
                            (*pick(&mut rng, &["民营", "国有", "外资", "家族企业"])).into()
                        ],
                        business_status: Some(if rng.gen_bool(0.95) {
                            BusinessStatus::Operating
                        } else {
                            BusinessStatus::Suspended
                        }),
                        credit_status: Some(*pick(
                            &mut rng,
                            &[
                                CreditStatus::Good,
                                CreditStatus::Good,
                                CreditStatus::Good,
                                CreditStatus::Watch,
                                CreditStatus::Poor,
                            ],
                        )),
                        credit_incidents: vec![],
                        payment_terms_days: Some(*pick(&mut rng, &[0, 30, 30, 60, 90])),
                        website: None,
                        sources: Default::default(),
                    }),
                    contact_points: vec![NewContactPoint {
                        kind: ContactKind::Phone,
                        value: format!("021 {}", rng.gen_range(5000_0000..6999_9999)),
                        label: Some("总机".into()),
                        is_primary: true,
                        consent_marketing: false,
                        source: None,
                    }],
                    allow_duplicate: false,
                    custom: Default::default(),
                }
            } else {
                let chinese = rng.gen_bool(0.85);
                let (name, email_local) = if chinese {
                    let s = *pick(&mut rng, SURNAMES);
                    let g = *pick(&mut rng, GIVEN);
                    (format!("{s}{g}"), format!("user{}", 10_000 + i))
                } else {
                    let f = *pick(&mut rng, FIRST_EN);
                    let l = *pick(&mut rng, LAST_EN);
                    (
                        format!("{f} {l}"),
                        format!("{}.{}{}", f.to_lowercase(), l.to_lowercase(), i),
                    )
                };
                let year = rng.gen_range(1955..2004);
                let lunar = chinese && rng.gen_bool(0.3);
                let married = rng.gen_bool(0.55);
                let mut contact_points = vec![NewContactPoint {
                    kind: ContactKind::Mobile,
                    value: mobile(&mut rng),
                    label: None,
                    is_primary: true,
                    consent_marketing: rng.gen_bool(0.6),
                    source: None,
                }];
                if rng.gen_bool(0.7) {
                    contact_points.push(NewContactPoint {
                        kind: ContactKind::Email,
                        value: format!(
                            "{email_local}@{}",
                            pick(
                                &mut rng,
                                &["qq.com", "163.com", "gmail.com", "outlook.com", "126.com"]
                            )
                        ),
                        label: None,
                        is_primary: true,
                        consent_marketing: rng.gen_bool(0.5),
                        source: None,
                    });
                }
                // A postal address (for direct mail) for a third, from a generator of its own
                // so the rest of the book stays what the seed always gave.
                let mut post = ChaCha8Rng::seed_from_u64(args.seed ^ (i as u64).rotate_left(17));
                if chinese && post.gen_bool(0.35) {
                    contact_points.push(NewContactPoint {
                        kind: ContactKind::Address,
                        value: format!(
                            "{}{city}市{}路{}号{}室",
                            if province == city {
                                String::new()
                            } else {
                                format!("{province}省")
                            },
                            pick(&mut post, &["南京", "中山", "人民", "解放", "建设", "淮海"]),
                            post.gen_range(1..999),
                            post.gen_range(101..2599)
                        ),
                        label: None,
                        is_primary: true,
                        consent_marketing: post.gen_bool(0.7),
                        source: None,
                    });
                }
                if chinese && rng.gen_bool(0.6) {
                    contact_points.push(NewContactPoint {
                        kind: ContactKind::Wechat,
                        value: format!("wx_{}{}", email_local, rng.gen_range(10..99)),
                        label: None,
                        is_primary: true,
                        consent_marketing: rng.gen_bool(0.6),
                        source: None,
                    });
                }
                CustomerFields {
                    kind: CustomerKind::Individual,
                    name,
                    gender: Some(*pick(
                        &mut rng,
                        &[
                            Gender::Male,
                            Gender::Female,
                            Gender::Female,
                            Gender::Male,
                            Gender::Unspecified,
                        ],
                    )),
                    birthday: Some(upcoming_birthday(i, today, year).unwrap_or(Anniversary {
                        year: Some(year),
                        month: rng.gen_range(1..13),
                        day: rng.gen_range(1..29),
                        lunar,
                    })),
                    id_number: if rng.gen_bool(0.4) {
                        Some(prc_id(&mut rng, year))
                    } else {
                        None
                    },
                    province: Some(province.into()),
                    city: Some(city.into()),
                    address: None,
                    // Customers with Latin-script names live abroad, in a zone of their own.
                    time_zone: (!chinese).then(|| {
                        [
                            "America/New_York",
                            "Europe/London",
                            "America/Los_Angeles",
                            "Australia/Sydney",
                            "Asia/Singapore",
                        ][i % 5]
                            .to_string()
                    }),
                    employer: Some((*pick(&mut rng, EMPLOYERS)).into()),
                    job_title: Some((*pick(&mut rng, TITLES)).into()),
                    industry: None,
                    lifecycle_stage: Some(LifecycleStage::Active),
                    owner_id: Some(owner.id),
                    tags,
                    source: Some(source),
                    profile: Some(IndividualProfile {
                        family: married.then(|| Family {
                            marital_status: Some("已婚".into()),
                            spouse_name: None,
                            spouse_birthday: None,
                            wedding_anniversary: Some(Anniversary {
                                year: Some(rng.gen_range(year + 20..(year + 35).min(2025))),
                                month: rng.gen_range(1..13),
                                day: rng.gen_range(1..29),
                                lunar: false,
                            }),
                            children: vec![],
                        }),
                        lifestyle: rng.gen_bool(0.5).then(|| Lifestyle {
                            drinks: vec![(*pick(&mut rng, DRINKS)).into()],
                            hobbies: vec![(*pick(&mut rng, HOBBIES)).into()],
                            favourite_colour: Some((*pick(&mut rng, COLOURS)).into()),
                            ..Default::default()
                        }),
                        ..Default::default()
                    }),
                    company: None,
                    contact_points,
                    allow_duplicate: false,
                    custom: Default::default(),
                }
            };
            let valid = f
                .validate(owner.id, now)
                .map_err(|e| anyhow::anyhow!("demo customer {i} invalid: {:?}", e.0))?;
            batch.push((valid, guanxi_store_ms(collected_at)));
            kinds.push((is_company, owner.id));
        }
        let ids = store
            .insert_customers_bulk(&sys, batch, std::sync::Arc::new(|_| {}))
            .await?;
        bar.inc(ids.len() as u64);
        let mut individual_ids = Vec::new();
        let mut company_ids = Vec::new();
        for (id, (is_company, owner)) in ids.iter().zip(kinds) {
            if is_company {
                company_ids.push((*id, owner));
            } else {
                individual_ids.push((*id, owner));
            }
        }
        generated.customers += ids.len();
        generated.companies += company_ids.len();
        let mut load = HistoryLoad::default();
        relations(&mut rng, &individual_ids, &company_ids, &mut load);

        // Orders: segment weights decide how many each customer places; each chunk places
        // its share of the requested count.
        bar.set_message("orders");
        let chunk_orders = order_count * chunk_end / args.customers - orders;
        let chunk_first_order = orders;
        let mut buyers: Vec<(i64, f64, bool)> = Vec::new();
        for (id, _) in individual_ids.iter().chain(company_ids.iter()) {
            let x: f64 = rng.gen();
            let mut acc = 0.0;
            for (share, weight, lapsed) in SEGMENTS {
                acc += share;
                if x < acc {
                    // Log-normal spread within a segment so nobody is exactly average.
                    let jitter = (rng.gen::<f64>() - 0.5).exp();
                    buyers.push((*id, weight * jitter, *lapsed));
                    break;
                }
            }
        }
        heavy.extend(buyers.iter().filter(|b| b.1 > 20.0).map(|b| b.0));
        let total_weight: f64 = buyers.iter().map(|b| b.1).sum();
        for (cid, weight, lapsed) in &buyers {
            let n = ((chunk_orders as f64) * weight / total_weight)
                .round()
                .max(1.0) as usize;
            let first = random_day(
                &mut rng,
                start,
                if *lapsed {
                    lapsed_end
                } else {
                    today - Duration::days(30)
                },
            );
            let last = if *lapsed { lapsed_end } else { today };
            let basket_bias = rng.gen_range(0..PRODUCTS.len());
            for _ in 0..n {
                if orders >= chunk_first_order + chunk_orders {
                    break;
                }
                let d = random_day(&mut rng, first, last.max(first + Duration::days(1)));
                let k = rng.gen_range(1..=4);
                let mut ls = Vec::with_capacity(k);
                for j in 0..k {
                    let p = if j == 0 && rng.gen_bool(0.5) {
                        &PRODUCTS[basket_bias]
                    } else {
                        pick(&mut rng, PRODUCTS)
                    };
                    if ls.iter().any(|l: &NewOrderLine| l.sku == p.0) {
                        continue;
                    }
                    ls.push(NewOrderLine {
                        sku: p.0.into(),
                        product_name: Some(p.1.into()),
                        category: Some(p.2.into()),
                        quantity: rng.gen_range(1..=3),
                        unit_price_minor: p.3,
                    });
                }
                seq += 1;
                let o = NewOrder {
                    customer_id: *cid,
                    ordered_at: at_time(&mut rng, d),
                    currency: "CNY".into(),
                    channel: *pick(
                        &mut rng,
                        &[
                            OrderChannel::Store,
                            OrderChannel::Store,
                            OrderChannel::Online,
                            OrderChannel::Wechat,
                            OrderChannel::Phone,
                        ],
                    ),
                    store: Some((*pick(&mut rng, STORES)).into()),
                    external_ref: Some(format!("DEMO-{seq:07}")),
                    lines: ls,
                };
                let total = o
                    .validate(now)
                    .map_err(|e| anyhow::anyhow!("demo order invalid: {:?}", e.0))?;
                load.orders.push((o, total));
                orders += 1;
            }
        }

        // Interactions on every channel and some open follow-ups, so timelines look lived in.
        for (cid, weight, _) in &buyers {
            let n = rng.gen_range(0..=(weight.sqrt().ceil() as usize).clamp(1, 8));
            for _ in 0..n {
                let (channel, subject, body) = *pick(&mut rng, CONTACTS);
                let day = random_day(&mut rng, start, today);
                let i = guanxi_domain::interaction::NewInteraction {
                    channel,
                    direction: None,
                    subject: subject.into(),
                    body: Some(body.into()),
                    occurred_at: Some(at_time(&mut rng, day).min(now)),
                    purpose: None,
                }
                .validate(now)
                .map_err(|e| anyhow::anyhow!("demo interaction invalid: {:?}", e.0))?;
                let by = *pick(&mut rng, &owners);
                load.interactions.push((by.id, *cid, i));
            }
        }
        for (cid, _, _) in buyers.iter().step_by(12) {
            let title = *pick(&mut rng, FOLLOW_UPS);
            let assignee = *pick(&mut rng, &owners);
            let t = guanxi_domain::interaction::NewTask {
                title: title.into(),
                due_at: now + Duration::days(rng.gen_range(-10..21)),
                assignee_id: Some(assignee.id),
                note: None,
            }
            .validate(None)
            .map_err(|e| anyhow::anyhow!("demo task invalid: {:?}", e.0))?;
            load.tasks.push((*cid, t));
        }
        let written = store.load_history(&sys, load).await?;
        bar.inc(written.orders);
        generated.orders += written.orders as usize;
        generated.lines += written.lines as usize;
        interactions += written.interactions;
        tasks += written.tasks;
        bar.set_message("customers");
        chunk_start = chunk_end;
    }

    // Top up to the requested count with the heaviest buyers (rounding leaves a few short).
    let mut load = HistoryLoad::default();
    while orders < order_count && !heavy.is_empty() {
        let cid = *pick(&mut rng, &heavy);
        let p = pick(&mut rng, PRODUCTS);
        seq += 1;
        let day = random_day(&mut rng, start, today);
        let o = NewOrder {
            customer_id: cid,
            ordered_at: at_time(&mut rng, day),
            currency: "CNY".into(),
            channel: OrderChannel::Store,
            store: Some((*pick(&mut rng, STORES)).into()),
            external_ref: Some(format!("DEMO-{seq:07}")),
            lines: vec![NewOrderLine {
                sku: p.0.into(),
                product_name: Some(p.1.into()),
                category: Some(p.2.into()),
                quantity: 1,
                unit_price_minor: p.3,
            }],
        };
        let total = o
            .validate(now)
            .map_err(|e| anyhow::anyhow!("demo order invalid: {:?}", e.0))?;
        load.orders.push((o, total));
        orders += 1;
    }
    let written = store.load_history(&sys, load).await?;
    generated.orders += written.orders as usize;
    generated.lines += written.lines as usize;
    bar.finish_and_clear();
    println!("Timelines: {interactions} interactions, {tasks} open follow-up tasks.");
    // Customers since their first order or contact, not since the load.
    store.backdate_created_to_history().await?;
    Ok(generated)
}

/// Customers written, with their history, per bulk transaction.
const DEMO_CHUNK: usize = 50_000;

/// Principals: two or three people per company, and a few spouses and referrals, among one
/// chunk's customers.
fn relations(
    rng: &mut ChaCha8Rng,
    individual_ids: &[(i64, i64)],
    company_ids: &[(i64, i64)],
    load: &mut HistoryLoad,
) {
    let mut shuffled = individual_ids.to_vec();
    shuffled.shuffle(rng);
    let mut people = shuffled.iter();
    for (company, _) in company_ids {
        for role in [
            PrincipalRole::LegalRepresentative,
            PrincipalRole::Manager,
            PrincipalRole::Contact,
        ]
        .iter()
        .take(rng.gen_range(2..4))
        {
            if let Some((person, _)) = people.next() {
                load.relations.push((
                    *person,
                    CustomerKind::Individual,
                    CustomerKind::Company,
                    NewRelation {
                        to_customer_id: *company,
                        kind: RelationKind::PrincipalOf,
                        role: Some(*role),
                        note: None,
                        source: None,
                    },
                ));
            }
        }
    }
    for pair in shuffled
        .chunks(2)
        .skip(company_ids.len() * 2)
        .take(individual_ids.len() / 20)
    {
        if let [a, b] = pair {
            let kind = if rng.gen_bool(0.5) {
                RelationKind::Spouse
            } else {
                RelationKind::ReferredBy
            };
            load.relations.push((
                a.0,
                CustomerKind::Individual,
                CustomerKind::Individual,
                NewRelation {
                    to_customer_id: b.0,
                    kind,
                    role: None,
                    note: None,
                    source: None,
                },
            ));
        }
    }
}

/// Demo interactions: channel, summary, details.
const CONTACTS: &[(InteractionChannel, &str, &str)] = &[
    (
        InteractionChannel::Phone,
        "电话回访",
        "询问上次购买的茶叶是否满意，客户表示很喜欢。",
    ),
    (
        InteractionChannel::Wechat,
        "微信咨询新品",
        "客户问秋季新茶什么时候到店。",
    ),
    (
        InteractionChannel::FaceToFace,
        "到店品茶",
        "带朋友来店里试了三款乌龙。",
    ),
    (
        InteractionChannel::Sms,
        "生日祝福短信",
        "发送生日祝福和优惠券。",
    ),
    (
        InteractionChannel::Email,
        "Quarterly catalogue",
        "Sent the new catalogue; asked for a tasting visit.",
    ),
    (
        InteractionChannel::WebChat,
        "网站咨询配送",
        "询问上海同城配送时间。",
    ),
    (
        InteractionChannel::Letter,
        "会员升级通知",
        "寄出会员升级信函。",
    ),
    (
        InteractionChannel::Note,
        "偏好备注",
        "喜欢安静的包间，只喝温水。",
    ),
    (
        InteractionChannel::Phone,
        "Follow-up call",
        "Happy with the last order; wants a gift box for New Year.",
    ),
];

/// Demo follow-up tasks.
const FOLLOW_UPS: &[&str] = &[
    "回电确认报价",
    "寄送样品",
    "Send the gift-box price list",
    "预约到店品鉴",
    "生日前一周送贺卡",
];

fn guanxi_store_ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

/// A synthetic but checksum-valid PRC resident ID for the given birth year.
fn prc_id(rng: &mut ChaCha8Rng, year: i32) -> String {
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: &[u8; 11] = b"10X98765432";
    let region = *pick(rng, &["110105", "310104", "440106", "330106", "510107"]);
    let body = format!(
        "{region}{year:04}{:02}{:02}{:03}",
        rng.gen_range(1..13),
        rng.gen_range(1..29),
        rng.gen_range(0..1000)
    );
    let sum: u32 = body
        .bytes()
        .zip(W)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    format!("{body}{}", CHECK[(sum % 11) as usize] as char)
}

/// One demo individual in twenty has a birthday in the next ten days — every other one on the
/// lunar calendar — so a fresh demo's care list has something on it for every rep whatever the
/// day it is started (the rest fall anywhere in the year).
fn upcoming_birthday(i: usize, today: NaiveDate, year: i32) -> Option<Anniversary> {
    if !i.is_multiple_of(20) {
        return None;
    }
    let on = today + Duration::days((i / 20 % 10) as i64);
    if (i / 20).is_multiple_of(2) {
        let l = guanxi_domain::lunar::to_lunar(on).filter(|l| !l.leap)?;
        Some(Anniversary {
            year: Some(year),
            month: l.month,
            day: l.day,
            lunar: true,
        })
    } else {
        Some(Anniversary {
            year: Some(year),
            month: on.month(),
            day: on.day(),
            lunar: false,
        })
    }
}
