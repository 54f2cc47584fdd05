//! `cargo run --release -p guanxi-analytics --example scorecard_scale [customers] [orders]`:
//! the compute phase of a score refresh on a synthetic book shaped like bench/refresh_scale.py's
//! (a third of the orders to a tenth of the customers, three years of days), with the time of
//! each model. The database-to-database figure is bench/refresh_scale.py's.

use guanxi_analytics::scorecard::{scorecard, ScorecardSettings};
use guanxi_analytics::Transactions;

fn main() {
    let mut args = std::env::args().skip(1);
    let customers: u64 = args
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let orders: usize = args
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or(10_000_000);
    let mut s: u64 = 42;
    let mut next = || {
        s = s
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        s >> 11
    };
    let as_of = 20_000;
    let mut tx = Transactions::default();
    for _ in 0..orders {
        let pool = if next() % 3 == 0 {
            customers / 10
        } else {
            customers
        };
        tx.customer.push(1 + (next() % pool) as i64);
        tx.day.push(as_of - (next() % (3 * 365)) as i32);
        tx.amount.push((1_000 + next() % 50_000) as f64 / 100.0);
    }
    let t = std::time::Instant::now();
    let card = scorecard(
        &tx,
        &guanxi_analytics::churn::Responses::default(),
        as_of,
        ScorecardSettings::default(),
    );
    println!(
        "{} customers, {} orders: {:.2} s",
        card.scores.len(),
        tx.len(),
        t.elapsed().as_secs_f64()
    );
    for (step, d) in &card.steps {
        println!("  {step:<14} {:>8.2} s", d.as_secs_f64());
    }
    for why in &card.skipped {
        println!("  skipped: {why}");
    }
}
