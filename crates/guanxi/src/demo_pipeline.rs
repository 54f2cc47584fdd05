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
        }
        .validate()
        .map_err(|e| anyhow::anyhow!("demo deal: {e:?}"))?;
        let mut d = store.create_opportunity(&system, &input).await?;
        made += 1;
        // Walk it forward stage by stage, so its history reads like a real deal's.
        let roll: f64 = rng.gen();
        let reach = rng.gen_range(0..open.len());
        for stage in open.iter().take(reach + 1).skip(1) {
            d = store
                .move_opportunity(&system, d.id, &to(*stage, d.version, None))
                .await?;
        }
        if roll < 0.22 {
            if let Some(w) = won {
                store
                    .move_opportunity(&system, d.id, &to(w.id, d.version, None))
                    .await?;
                n_won += 1;
            }
        } else if roll < 0.38 && !reasons.is_empty() {
            if let Some(l) = lost {
                let reason = reasons[rng.gen_range(0..reasons.len())];
                store
                    .move_opportunity(&system, d.id, &to(l.id, d.version, Some(reason)))
                    .await?;
                n_lost += 1;
            }
        }
    }
    Ok((made, n_won, n_lost))
}

fn to(stage_id: i64, version: i64, lost_reason_id: Option<i64>) -> MoveInput {
    MoveInput {
        stage_id,
        version,
        lost_reason_id,
        lost_note: None,
    }
}
