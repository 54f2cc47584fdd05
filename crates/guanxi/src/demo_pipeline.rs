//! The demo's sales pipeline: deals for the demo's companies (and some individuals), owned by
//! their customers' reps, spread over the default pipeline's stages — most still open with
//! close dates over the coming months, some won, some lost with a reason — so the kanban and
//! the forecast have something to show on the first run.

use chrono::{Duration, Utc};
use guanxi_domain::pipeline::{LineInput, MoveInput, OpportunityInput, StageKind};
use guanxi_domain::role::Actor;
use guanxi_domain::vocabulary::CustomerKind;
use guanxi_store::customers::CustomerFilter;
use guanxi_store::Store;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// What is sold: SKU, name, unit price in fen.
const PRODUCTS: &[(&str, &str, i64)] = &[
    ("GIFT-SET", "企业茶礼套装", 68_800),
    ("TEA-LJ-250", "西湖龙井 250g", 38_800),
    ("TEA-PE-357", "普洱茶饼 357g", 29_800),
    ("CUP-GLASS", "玻璃茶杯", 8_800),
];

/// What a deal is about.
const PURPOSES: &[&str] = &[
    "春节员工福利",
    "中秋客户礼品",
    "年会伴手礼",
    "门店常备茶",
    "会议用茶",
];

/// Loads the deals; returns (deals, won, lost).
pub async fn load(
    store: &Store,
    seed: u64,
    customers: usize,
) -> anyhow::Result<(usize, usize, usize)> {
    let system = Actor::system();
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5049_5045);
    let Some(pipeline) = store.list_pipelines().await?.into_iter().next() else {
        return Ok((0, 0, 0));
    };
    let open: Vec<i64> = pipeline
        .stages
        .iter()
        .filter(|s| !s.retired && s.kind() == StageKind::Open)
        .map(|s| s.id)
        .collect();
    let won = pipeline.stages.iter().find(|s| s.kind() == StageKind::Won);
    let lost = pipeline.stages.iter().find(|s| s.kind() == StageKind::Lost);
    let reasons: Vec<i64> = store
        .lost_reasons()
        .await?
        .into_iter()
        .filter(|r| !r.needs_note)
        .map(|r| r.id)
        .collect();
    let mut book = Vec::new();
    for kind in [CustomerKind::Company, CustomerKind::Individual] {
        let page = store
            .list_customers(
                &system,
                &CustomerFilter {
                    kind: Some(kind),
                    limit: 200,
                    ..Default::default()
                },
            )
            .await?;
        book.extend(page.items.into_iter().filter(|c| c.owner_id.is_some()));
    }
    if book.is_empty() || open.is_empty() {
        return Ok((0, 0, 0));
    }
    let n = (customers / 25).clamp(10, 300);
    let today = Utc::now().date_naive();
    let (mut made, mut n_won, mut n_lost) = (0, 0, 0);
    for i in 0..n {
        let c = &book[i % book.len()];
        let (sku, product, price) = PRODUCTS[rng.gen_range(0..PRODUCTS.len())];
        let purpose = PURPOSES[rng.gen_range(0..PURPOSES.len())];
        let input = OpportunityInput {
            customer_id: c.id,
            name: format!("{purpose} · {product}"),
            pipeline_id: pipeline.id,
            stage_id: None,
            owner_id: c.owner_id,
            amount_minor: 0,
            currency: "CNY".into(),
            probability: None,
            expected_close: Some(today + Duration::days(rng.gen_range(-20..180))),
            next_step: Some("约见采购负责人".into()),
            competitors: if rng.gen_bool(0.4) {
                vec!["本地茶庄".into()]
            } else {
                vec![]
            },
            stated_needs: Some(format!("{purpose}，预算内尽量体面")),
            latent_needs: rng
                .gen_bool(0.5)
                .then(|| "希望定制包装印企业标志".to_string()),
            source: Some(["展会", "老客户介绍", "官网", "电话"][rng.gen_range(0..4)].into()),
            campaign_id: None,
            lines: vec![LineInput {
                sku: sku.into(),
                name: Some(product.into()),
                quantity: rng.gen_range(10..400),
                unit_price_minor: price,
            }],
            version: None,
            custom: Default::default(),
        }
        .validate()
        .map_err(|e| anyhow::anyhow!("demo deal: {e:?}"))?;
        // Its history over the last months: created 20–300 days ago, each move a few days to
        // a few weeks after the last, never later than yesterday.
        let now = Utc::now();
        let mut at = now - Duration::days(rng.gen_range(20..300));
        let mut d = store.create_opportunity_at(&system, &input, at).await?;
        made += 1;
        // Walk it forward stage by stage, so its history reads like a real deal's.
        let roll: f64 = rng.gen();
        let reach = rng.gen_range(0..open.len());
        for stage in open.iter().take(reach + 1).skip(1) {
            let when = step(&mut at, &mut rng, now);
            d = store
                .move_opportunity_at(&system, d.id, &to(*stage, d.version, None), when)
                .await?;
        }
        if roll < 0.22 {
            if let Some(w) = won {
                let when = step(&mut at, &mut rng, now);
                store
                    .move_opportunity_at(&system, d.id, &to(w.id, d.version, None), when)
                    .await?;
                n_won += 1;
            }
        } else if roll < 0.38 && !reasons.is_empty() {
            if let Some(l) = lost {
                let reason = reasons[rng.gen_range(0..reasons.len())];
                let when = step(&mut at, &mut rng, now);
                store
                    .move_opportunity_at(&system, d.id, &to(l.id, d.version, Some(reason)), when)
                    .await?;
                n_lost += 1;
            }
        }
    }
    Ok((made, n_won, n_lost))
}

/// The next moment of a deal's history: a day to three weeks on, never later than yesterday.
fn step(
    at: &mut chrono::DateTime<Utc>,
    rng: &mut ChaCha8Rng,
    now: chrono::DateTime<Utc>,
) -> chrono::DateTime<Utc> {
    *at = (*at + Duration::hours(rng.gen_range(24..24 * 21))).min(now - Duration::days(1));
    *at
}

fn to(stage_id: i64, version: i64, lost_reason_id: Option<i64>) -> MoveInput {
    MoveInput {
        stage_id,
        version,
        lost_reason_id,
        lost_note: None,
    }
}

/// Enquiries as a shop receives them: name, company, mobile, what they asked, source.
const ENQUIRIES: &[(&str, &str, &str, &str)] = &[
    (
        "陈思远",
        "思远科技",
        "想给 200 名员工订中秋茶礼，请报价",
        "官网",
    ),
    ("刘晓燕", "", "门店想长期进普洱，有批发价吗", "展会"),
    ("王建国", "建国建材", "年会伴手礼 80 份", "老客户介绍"),
    ("赵敏", "敏行咨询", "会议用茶每月 10 斤", "官网"),
    ("孙浩", "", "想了解企业定制包装", "电话"),
    ("周婷", "婷美商贸", "春节福利 300 份，预算 5 万", "展会"),
    ("吴磊", "磊石投资", "送客户的高端礼盒", "官网"),
    ("郑佳", "", "问一下龙井的产地", "官网"),
];

/// A capture form on the shop's site and the leads it and the reps brought in: new ones in
/// the pool, qualified ones with their reps, one converted into a new customer with a deal,
/// one dropped. Returns (leads, converted).
pub async fn load_leads(store: &Store, seed: u64) -> anyhow::Result<(usize, usize)> {
    use guanxi_domain::lead::{DisqualifyInput, DisqualifyReason, LeadInput, LeadOrigin};
    let system = Actor::system();
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x4c45_4144);
    let reps: Vec<Actor> = store
        .list_users()
        .await?
        .iter()
        .filter(|u| u.role == guanxi_domain::role::Role::Sales && u.active)
        .map(Actor::for_user)
        .collect();
    let form = store
        .create_lead_form(&system, "官网咨询", Some("官网"), None, None)
        .await?;
    let (mut made, mut converted) = (0, 0);
    for (i, (name, company, message, source)) in ENQUIRIES.iter().enumerate() {
        let input = LeadInput {
            name: Some((*name).into()),
            company: (!company.is_empty()).then(|| (*company).into()),
            mobile: Some(format!("139{:08}", rng.gen_range(10_000_000..99_999_999))),
            message: Some((*message).into()),
            source: Some((*source).into()),
            consent_marketing: rng.gen_bool(0.6),
            ..LeadInput::default()
        }
        .validate()
        .map_err(|e| anyhow::anyhow!("demo lead: {e:?}"))?;
        let via_form = *source == "官网";
        let lead = store
            .create_lead(
                &system,
                &input,
                if via_form {
                    LeadOrigin::Form
                } else {
                    LeadOrigin::Manual
                },
                via_form.then_some(form.id),
            )
            .await?;
        made += 1;
        let Some(rep_actor) = reps.get(i % reps.len().max(1)) else {
            continue;
        };
        let rep = rep_actor.id;
        match i % 4 {
            // Qualified by a rep.
            1 => {
                store.qualify_lead(rep_actor, lead.id, lead.version).await?;
            }
            // Dropped.
            3 if i == 7 => {
                let d = DisqualifyInput {
                    reason: DisqualifyReason::NotInterested,
                    note: Some("只是咨询产地".into()),
                    version: lead.version,
                };
                store.disqualify_lead(rep_actor, lead.id, &d).await?;
            }
            _ => {}
        }
        if i == 2 {
            // Converted: a new customer with a deal.
            let q = store.qualify_lead(rep_actor, lead.id, lead.version).await?;
            let fields = q
                .input()
                .customer_fields(q.origin(), Some(rep), rep, Utc::now())
                .validate(rep, Utc::now())
                .map_err(|e| anyhow::anyhow!("demo lead customer: {e:?}"))?;
            let customer = store.create_customer(rep_actor, fields).await?;
            let linked = store
                .link_lead_customer(rep_actor, q.id, q.version, customer.id)
                .await?;
            let deal = OpportunityInput {
                customer_id: customer.id,
                name: "年会伴手礼 80 份".into(),
                pipeline_id: 1,
                stage_id: None,
                owner_id: Some(rep),
                amount_minor: 80 * 29_800,
                currency: "CNY".into(),
                probability: None,
                expected_close: Some(Utc::now().date_naive() + Duration::days(20)),
                next_step: Some("寄样品".into()),
                competitors: vec![],
                stated_needs: q.message.clone(),
                latent_needs: None,
                source: q.source.clone(),
                campaign_id: None,
                lines: vec![],
                version: None,
                custom: Default::default(),
            }
            .validate()
            .map_err(|e| anyhow::anyhow!("demo lead deal: {e:?}"))?;
            let o = store.create_opportunity(rep_actor, &deal).await?;
            store
                .finish_lead_conversion(rep_actor, q.id, linked.version, Some(o.id))
                .await?;
            converted += 1;
        }
    }
    Ok((made, converted))
}

/// Eight of the book's companies as key accounts, managed by their owners, every other one
/// with a plan. Returns how many.
pub async fn load_key_accounts(store: &Store) -> anyhow::Result<usize> {
    use guanxi_domain::key_account::{
        Attitude, KeyAccountInput, PlanAction, PlanContact, PlanInput,
    };
    let system = Actor::system();
    let page = store
        .list_customers(
            &system,
            &CustomerFilter {
                kind: Some(CustomerKind::Company),
                limit: 8,
                ..Default::default()
            },
        )
        .await?;
    let mut made = 0;
    for (i, c) in page
        .items
        .iter()
        .filter(|c| c.owner_id.is_some())
        .enumerate()
    {
        let input = KeyAccountInput {
            manager_id: None,
            deputy_id: None,
            cadence_days: if i % 2 == 0 { 30 } else { 60 },
            wallet_minor: Some(5_000_000 + 1_000_000 * i as i64),
            version: None,
        };
        let k = store.set_key_account(&system, c.id, &input).await?;
        made += 1;
        if i % 2 == 0 {
            let plan = PlanInput {
                goals: Some("年采购额提升 30%，进入其春节礼品采购名单".into()),
                risks: Some("采购负责人更换；竞争对手低价".into()),
                contacts: vec![
                    PlanContact {
                        name: "采购经理".into(),
                        role: Some("决策人".into()),
                        attitude: Attitude::Supporter,
                        customer_id: None,
                    },
                    PlanContact {
                        name: "财务总监".into(),
                        role: Some("审批".into()),
                        attitude: Attitude::Neutral,
                        customer_id: None,
                    },
                ],
                actions: vec![PlanAction {
                    what: "季度业务回顾".into(),
                    due: Some(Utc::now().date_naive() + Duration::days(30)),
                    done: false,
                }],
                version: k.version,
            }
            .validate()
            .map_err(|e| anyhow::anyhow!("demo plan: {e:?}"))?;
            store.save_key_account_plan(&system, c.id, &plan).await?;
        }
    }
    Ok(made)
}
