//! `cargo bench -p guanxi-analytics`: the analytics kernels in-process, on the reference data
//! (CDNOW, groceries) and on 1 M synthetic transactions. Side-by-side figures against pandas,
//! DuckDB, lifetimes and mlxtend come from bench/run_benchmarks.py.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use guanxi_analytics::{assoc, clv, rfm, Transactions};

fn shared(path: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data")
        .join(path)
}

/// 1 M transactions from a small linear congruential generator: 80 k customers, skewed.
fn synthetic(n: usize) -> Transactions {
    let mut s: u64 = 42;
    let mut next = || {
        s = s
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (s >> 33) as f64 / (1u64 << 31) as f64
    };
    let mut tx = Transactions::default();
    for _ in 0..n {
        let u = next();
        tx.customer.push((80_000.0 * u * u) as i64);
        tx.day.push(19_000 + (1_000.0 * next()) as i32);
        tx.amount.push(10.0 + 500.0 * next() * next());
    }
    tx
}

fn benches(c: &mut Criterion) {
    let tx = synthetic(1_000_000);
    c.bench_function("rfm 1M transactions", |b| {
        b.iter(|| rfm::rfm(black_box(&tx), 20_000, None).unwrap())
    });
    // Every model of a score refresh (RFM, value matrix, ABC, activity, BG/NBD + Gamma-Gamma
    // CLV, churn) on the same book.
    c.bench_function("scorecard 1M transactions", |b| {
        b.iter(|| {
            guanxi_analytics::scorecard::scorecard(
                black_box(&tx),
                &guanxi_analytics::churn::Responses::default(),
                20_000,
                guanxi_analytics::scorecard::ScorecardSettings::default(),
            )
        })
    });

    let mut rdr = csv::Reader::from_path(shared("cdnow/cdnow_customers_summary.csv")).unwrap();
    let (mut x, mut tx_, mut t) = (Vec::new(), Vec::new(), Vec::new());
    for r in rdr.records() {
        let r = r.unwrap();
        x.push(r[1].parse::<f64>().unwrap());
        tx_.push(r[2].parse::<f64>().unwrap());
        t.push(r[3].parse::<f64>().unwrap());
    }
    c.bench_function("bg/nbd fit cdnow", |b| {
        b.iter(|| clv::BgNbd::fit(black_box(&x), &tx_, &t).unwrap())
    });

    let text = std::fs::read_to_string(shared("groceries/groceries.csv")).unwrap();
    let baskets: Vec<Vec<String>> = text
        .lines()
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect();
    c.bench_function("fp-growth groceries 0.002", |b| {
        b.iter(|| assoc::frequent_itemsets(black_box(&baskets), 0.002, Some(0)).unwrap())
    });
}

criterion_group! {
    name = analytics;
    config = Criterion::default().sample_size(10);
    targets = benches
}
criterion_main!(analytics);
