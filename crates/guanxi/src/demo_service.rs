//! The demo's service desk: a service team with a lead, three queues (the desk, complaints,
//! VIP), agents with presence and capacity, and a year of tickets across kinds, categories and
//! channels — most answered and resolved in time, some late, a few still open — so that the
//! service pages and the manager's figures tell a story on the first run.

use chrono::{Duration, Utc};
use guanxi_domain::role::Actor;
use guanxi_domain::ticket::routing::{AgentStatus, RoutingMode};
use guanxi_domain::ticket::{Priority, RemedyKind, ResolutionCode, TicketKind};
use guanxi_domain::vocabulary::InteractionChannel;
use guanxi_store::ticket::history::HistoricTicket;
use guanxi_store::Store;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// (category id, subject, the customer's words) per kind, as the migration seeds categories.
const COMPLAINTS: &[(i64, &str, &str)] = &[
    (
        2,
        "杯子质量问题 Cup cracked after a week",
        "用了一周杯身就裂了。The cup cracked after a week of normal use.",
    ),
    (
        3,
        "包装破损 Box arrived crushed",
        "快递到的时候外箱压坏了。The box was crushed on arrival.",
    ),
    (
        4,
        "商品有瑕疵 Scratch on the lid",
        "盖子上有明显划痕。There is a deep scratch on the lid.",
    ),
    (
        5,
        "说明书看不懂 Instructions unclear",
        "说明书写得不清楚，不会用。I cannot follow the instructions.",
    ),
    (
        6,
        "配送延误 Delivery five days late",
        "说好三天到，等了八天。Promised in three days, it took eight.",
    ),
    (
        7,
        "客服态度差 Rude service on the hotline",
        "热线客服语气很不耐烦。The hotline agent was rude.",
    ),
    (
        8,
        "价格不一致 Charged more than the shelf price",
        "结账价格比标价高。I was charged more than the label said.",
    ),
];
const ENQUIRIES: &[(i64, &str, &str)] = &[
    (
        10,
        "产品咨询 Is the kettle dishwasher safe?",
        "这款壶可以放洗碗机吗？Can the kettle go in the dishwasher?",
    ),
    (
        11,
        "订单查询 Where is my order?",
        "我的订单到哪里了？Where is my order now?",
    ),
    (
        12,
        "积分查询 How many points do I have?",
        "我的会员积分有多少？How many points do I have?",
    ),
];
const REQUESTS: &[(i64, &str, &str)] = &[
    (
        14,
        "维修申请 Repair the blender",
        "搅拌机不转了，要维修。The blender stopped turning.",
    ),
    (
        15,
        "退换货 Exchange for a larger size",
        "想换大一号。I would like the next size up.",
    ),
    (
        16,
        "开发票 Invoice for my company",
        "请开增值税专用发票。Please issue a VAT invoice to my company.",
    ),
];
const SUGGESTIONS: &[(i64, &str, &str)] = &[(
    17,
    "建议 Please add a night delivery slot",
    "希望增加晚间配送。Please add an evening delivery slot.",
)];
/// The demo's FAQ: (Chinese title, text, English title, text, category).
const ARTICLES: &[(&str, &str, &str, &str, i64)] = &[
    ("如何申请退款", "在“我的订单”中打开订单，点击“申请退款”。审核通过后，款项在三个工作日内原路退回。", "How to get a refund", "Open the order under My orders and choose Request refund. Once approved, the money goes back the way you paid within three working days.", 15),
    ("如何开具发票", "下单后三十天内，可在订单页申请电子发票；增值税专用发票请提供公司税号和开户行。", "How to get an invoice", "Within thirty days of the order, request an e-invoice on the order page; for a VAT special invoice give the company tax number and bank.", 16),
    ("配送需要多久", "江浙沪一般次日达，其他地区三到五天；节假日顺延。", "How long delivery takes", "Next day in Jiangsu, Zhejiang and Shanghai, three to five days elsewhere; holidays add time.", 6),
    ("会员积分怎么用", "每消费一元积一分，一百分抵一元，积分有效期两年。", "Using membership points", "One point per yuan spent; a hundred points pay one yuan; points last two years.", 12),
    ("商品破损怎么办", "签收时发现破损请拍照并拒收；已签收的请在七天内联系客服，我们免费换新。", "What to do about a damaged item", "Photograph the damage and refuse the parcel; if already signed for, contact us within seven days for a free replacement.", 4),
    ("iPhone 屏幕维修", "保修期内的 iPhone 屏幕问题，请携带发票到门店检测，免费更换屏幕。", "iPhone screen repair", "For an iPhone screen fault under warranty, bring the invoice to a store for a free screen replacement.", 14),
];
const REPLY: &str = "您好，已收到，我们马上处理。Hello, we have it and are on it.";

/// Sets the desk up and loads a year of tickets; returns how many.
pub async fn load(store: &Store, seed: u64, customers: usize) -> anyhow::Result<usize> {
    let system = Actor::system();
    let users = store.list_users().await?;
    let id_of = |name: &str| users.iter().find(|u| u.username == name).map(|u| u.id);
    let (Some(service), Some(service2), Some(lead)) =
        (id_of("service"), id_of("service2"), id_of("service.lead"))
    else {
        anyhow::bail!("the demo's service users are missing");
    };
    let team = users
        .iter()
        .find(|u| u.id == lead)
        .and_then(|u| u.team_id)
        .ok_or_else(|| anyhow::anyhow!("the service lead has no team"))?;
    store.set_team_lead(&system, team, Some(lead)).await?;
    // Two more queues beside the migration's desk queue (id 1), worked by the service team.
    let complaints = store
        .create_queue(
            &system,
            "投诉组 / Complaints",
            Some(team),
            &[],
            RoutingMode::LeastLoaded,
        )
        .await?;
    let vip = store
        .create_queue(
            &system,
            "VIP 专线 / VIP line",
            Some(team),
            &["vip".to_string()],
            RoutingMode::RoundRobin,
        )
        .await?;
    for (queue, members) in [
        (1, vec![service, service2, lead]),
        (complaints, vec![service, lead]),
        (vip, vec![lead, service]),
    ] {
        for m in members {
            store.add_queue_member(&system, queue, m).await?;
        }
    }
    let vip_skill = ["vip".to_string(), "zh".to_string(), "en".to_string()];
    store
        .set_agent_state(
            &system,
            service,
            AgentStatus::Offline,
            Some(8),
            Some(&vip_skill[1..]),
        )
        .await?;
    store
        .set_agent_state(
            &system,
            service2,
            AgentStatus::Away,
            Some(6),
            Some(&vip_skill[1..2]),
        )
        .await?;
    store
        .set_agent_state(
            &system,
            lead,
            AgentStatus::Offline,
            Some(5),
            Some(&vip_skill),
        )
        .await?;

    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5e41_1ce5);
    let now = Utc::now();
    let count = (customers / 2).clamp(40, 1500);
    let agents = [service, service, service2, lead];
    let mut tickets = Vec::with_capacity(count);
    for i in 0..count {
        let roll: f64 = rng.gen();
        let (kind, pool) = if roll < 0.30 {
            (TicketKind::Complaint, COMPLAINTS)
        } else if roll < 0.70 {
            (TicketKind::Enquiry, ENQUIRIES)
        } else if roll < 0.92 {
            (TicketKind::ServiceRequest, REQUESTS)
        } else {
            (TicketKind::Suggestion, SUGGESTIONS)
        };
        let (category, subject, body) = pool[rng.gen_range(0..pool.len())];
        let channel = [
            InteractionChannel::Phone,
            InteractionChannel::Phone,
            InteractionChannel::Wechat,
            InteractionChannel::Wechat,
            InteractionChannel::Email,
            InteractionChannel::WebChat,
            InteractionChannel::FaceToFace,
        ][rng.gen_range(0..7)];
        let priority = match rng.gen_range(0..20) {
            0 => Priority::Urgent,
            1..=4 => Priority::High,
            5..=7 => Priority::Low,
            _ => Priority::Normal,
        };
        // Spread over the year, newest tickets last; office hours in Beijing.
        let days_ago = ((count - i) as f64 / count as f64 * 365.0) as i64;
        let opened = (now - Duration::days(days_ago))
            .date_naive()
            .and_hms_opt(1 + rng.gen_range(0..9), rng.gen_range(0..60), 0)
            .map(|d| d.and_utc())
            .unwrap_or(now);
        let opened = opened.min(now - Duration::minutes(30));
        let age = now - opened;
        let agent = agents[rng.gen_range(0..agents.len())];
        // Most first replies within the hour; one in seven late.
        let late = rng.gen_bool(0.14);
        let reply_after = if late {
            Duration::minutes(rng.gen_range(150..900))
        } else {
            Duration::minutes(rng.gen_range(3..50))
        };
        let still_open = days_ago <= 10 && rng.gen_bool(0.5);
        let first_reply = (reply_after < age && !(still_open && rng.gen_bool(0.3)))
            .then(|| (opened + reply_after, REPLY.to_string()));
        let resolve_after = if rng.gen_bool(0.12) {
            Duration::hours(rng.gen_range(40..150))
        } else {
            Duration::hours(rng.gen_range(1..20))
        };
        let resolved = (!still_open && first_reply.is_some() && resolve_after < age).then(|| {
            let code = match kind {
                TicketKind::Complaint => [
                    ResolutionCode::Replaced,
                    ResolutionCode::Refunded,
                    ResolutionCode::Compensated,
                    ResolutionCode::Explained,
                ][rng.gen_range(0..4)],
                TicketKind::ServiceRequest => ResolutionCode::Fixed,
                _ => ResolutionCode::Answered,
            };
            (opened + resolve_after, code)
        });
        let closed_at = resolved
            .map(|(at, _)| at + Duration::days(3))
            .filter(|at| *at < now);
        let pauses = if rng.gen_bool(0.2) && first_reply.is_some() {
            let start = opened + reply_after + Duration::minutes(5);
            let end = resolved.map(|(at, _)| at.min(start + Duration::hours(6)));
            if start < now {
                vec![(start, end.filter(|e| *e > start))]
            } else {
                Vec::new()
            }
        } else {
            Vec::new()
        };
        let queue = match kind {
            TicketKind::Complaint => complaints,
            _ if rng.gen_bool(0.1) => vip,
            _ => 1,
        };
        tickets.push(HistoricTicket {
            customer_id: Some(rng.gen_range(1..=customers.max(1) as i64)),
            kind,
            category_id: Some(category),
            priority,
            channel,
            subject: subject.to_string(),
            body: body.to_string(),
            queue_id: queue,
            assignee_id: first_reply.as_ref().map(|_| agent),
            severe: kind == TicketKind::Complaint && rng.gen_bool(0.05),
            opened_at: opened,
            first_reply,
            pauses,
            remedy: (kind == TicketKind::Complaint).then(|| {
                [
                    RemedyKind::Replacement,
                    RemedyKind::Refund,
                    RemedyKind::Compensation,
                    RemedyKind::Apology,
                ][rng.gen_range(0..4)]
            }),
            resolved,
            closed_at,
        });
    }
    let ids = store.load_historic_tickets(&system, &tickets, now).await?;
    for (title_zh, body_zh, title_en, body_en, category) in ARTICLES {
        let a = guanxi_domain::knowledge::ArticleInput {
            title_zh: Some((*title_zh).into()),
            body_zh: Some((*body_zh).into()),
            title_en: Some((*title_en).into()),
            body_en: Some((*body_en).into()),
            category_id: Some(*category),
            tags: Vec::new(),
            status: Some(guanxi_domain::knowledge::ArticleStatus::Published),
            version: None,
        }
        .validate()
        .map_err(|e| anyhow::anyhow!("demo article: {e}"))?;
        store.create_article(&system, &a).await?;
    }
    Ok(ids.len())
}
