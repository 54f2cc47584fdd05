//! Analytics against outside references: mlxtend (FP-growth), scikit-learn (logistic
//! regression) and pandas (RFM), each run by a committed script under bench/reference on the
//! same data, with its output committed as a fixture here.

use std::collections::HashMap;

use guanxi_analytics::assoc::frequent_itemsets;
use guanxi_analytics::churn::Logistic;
use guanxi_analytics::rfm::rfm;
use guanxi_analytics::Transactions;

fn fixture(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn shared(path: &str) -> std::path::PathBuf {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data")
        .join(path);
    assert!(p.exists(), "reference data missing: {}", p.display());
    p
}

/// Days since 1970-01-01 of an ISO date (civil-from-days inverse, Howard Hinnant's algorithm).
fn days(date: &str) -> i32 {
    let y: i32 = date[0..4].parse().unwrap();
    let m: i32 = date[5..7].parse().unwrap();
    let d: i32 = date[8..10].parse().unwrap();
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The generated transactions the RFM fixture was computed from.
fn generated_transactions() -> Transactions {
    let mut rdr = csv::Reader::from_path(fixture("rfm_transactions.csv")).unwrap();
    let mut tx = Transactions::default();
    for r in rdr.records() {
        let r = r.unwrap();
        tx.customer.push(r[0].parse().unwrap());
        tx.day.push(days(&r[1]));
        tx.amount.push(r[2].parse().unwrap());
    }
    tx
}

#[test]
fn pair_counting_equals_fp_growth_on_groceries() {
    let text = std::fs::read_to_string(shared("groceries/groceries.csv")).unwrap();
    let baskets: Vec<Vec<String>> = text
        .lines()
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect();
    let mut names: Vec<String> = baskets.iter().flatten().cloned().collect();
    names.sort();
    names.dedup();
    let coded: Vec<Vec<u32>> = baskets
        .iter()
        .map(|b| {
            b.iter()
                .map(|s| names.binary_search(s).unwrap() as u32)
                .collect()
        })
        .collect();
    for support in [0.002, 0.01] {
        let fp = frequent_itemsets(&baskets, support, Some(2)).unwrap();
        let pairs = guanxi_analytics::assoc::frequent_pairs(
            coded.iter().map(Vec::as_slice),
            &names,
            support,
        )
        .unwrap();
        assert!(fp.iter().any(|s| s.items.len() == 2));
        assert_eq!(pairs, fp, "support {support}");
    }
}

#[test]
fn fp_growth_equals_mlxtend_on_groceries() {
    let text = std::fs::read_to_string(shared("groceries/groceries.csv")).unwrap();
    let baskets: Vec<Vec<String>> = text
        .lines()
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect();
    assert_eq!(baskets.len(), 9835);
    let ours = frequent_itemsets(&baskets, 0.005, Some(0)).unwrap();
    let mut rdr = csv::Reader::from_path(fixture("groceries_mlxtend_itemsets.csv")).unwrap();
    let theirs: HashMap<String, (u64, f64)> = rdr
        .records()
        .map(|r| {
            let r = r.unwrap();
            (
                r[0].to_string(),
                (r[1].parse().unwrap(), r[2].parse().unwrap()),
            )
        })
        .collect();
    assert_eq!(theirs.len(), 1001);
    let ours_map: HashMap<String, (u64, f64)> = ours
        .iter()
        .map(|s| (s.items.join("|"), (s.count, s.support)))
        .collect();
    let missing: Vec<&String> = theirs
        .keys()
        .filter(|k| !ours_map.contains_key(*k))
        .collect();
    let extra: Vec<&String> = ours_map
        .keys()
        .filter(|k| !theirs.contains_key(*k))
        .collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing {missing:?}, extra {extra:?}"
    );
    for (k, (count, support)) in &theirs {
        assert_eq!(ours_map[k].0, *count, "{k}");
        assert_eq!(ours_map[k].1, *support, "{k}: support must be identical");
    }
}

#[test]
fn logistic_regression_equals_sklearn_on_telco() {
    let reference: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(fixture("telco_sklearn_logistic.json")).unwrap(),
    )
    .unwrap();
    let names: Vec<String> = reference["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    let mut rdr = csv::Reader::from_path(shared("telco-churn/wa_churn_numeric.csv")).unwrap();
    let headers = rdr.headers().unwrap().clone();
    let idx: Vec<usize> = names
        .iter()
        .map(|n| headers.iter().position(|h| h == n).unwrap())
        .collect();
    let label = headers.iter().position(|h| h == "churn").unwrap();
    let (mut rows, mut y) = (Vec::new(), Vec::new());
    for r in rdr.records() {
        let r = r.unwrap();
        rows.push(
            idx.iter()
                .map(|&i| r[i].parse::<f64>().unwrap())
                .collect::<Vec<_>>(),
        );
        y.push(r[label].parse::<f64>().unwrap());
    }
    assert_eq!(rows.len() as u64, reference["rows"].as_u64().unwrap());
    let m = Logistic::fit(&rows, &y).unwrap();
    let want_b0 = reference["intercept"].as_f64().unwrap();
    assert!(
        (m.intercept - want_b0).abs() < 1e-3,
        "intercept {} vs {want_b0}",
        m.intercept
    );
    for (i, want) in reference["coefficients"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
    {
        let want = want.as_f64().unwrap();
        assert!(
            (m.coefficients[i] - want).abs() < 1e-3,
            "{}: {} vs sklearn {want}",
            names[i],
            m.coefficients[i]
        );
    }
}

#[test]
fn rfm_equals_pandas_reference() {
    let tx = generated_transactions();
    let ours = rfm(&tx, days("2025-12-31"), None).unwrap();
    let mut rdr = csv::Reader::from_path(fixture("rfm_pandas.csv")).unwrap();
    let theirs: Vec<csv::StringRecord> = rdr.records().map(Result::unwrap).collect();
    assert_eq!(ours.len(), theirs.len());
    let mut segments = std::collections::BTreeSet::new();
    for (o, t) in ours.iter().zip(&theirs) {
        assert_eq!(o.customer, t[0].parse::<i64>().unwrap());
        assert_eq!(
            o.recency_days,
            t[1].parse::<i32>().unwrap(),
            "recency of {}",
            o.customer
        );
        assert_eq!(
            o.frequency,
            t[2].parse::<u32>().unwrap(),
            "frequency of {}",
            o.customer
        );
        assert!(
            (o.monetary - t[3].parse::<f64>().unwrap()).abs() < 1e-6,
            "monetary of {}",
            o.customer
        );
        assert_eq!(
            (o.r, o.f, o.m),
            (
                t[4].parse().unwrap(),
                t[5].parse().unwrap(),
                t[6].parse().unwrap()
            ),
            "scores of {}",
            o.customer
        );
        assert_eq!(o.segment.name(), &t[7], "segment of {}", o.customer);
        segments.insert(o.segment.name());
    }
    assert_eq!(
        segments.len(),
        11,
        "the generated data covers every segment: {segments:?}"
    );
}

#[test]
fn churn_warning_has_skill_on_generated_history() {
    let tx = generated_transactions();
    let report = guanxi_analytics::churn::churn_warning(&tx, days("2025-12-31"), 90).unwrap();
    // The generator churns a third of customers; recency and rhythm must carry signal.
    assert!(
        report.auc > 0.75 && report.auc < 1.0,
        "hold-out AUC {}",
        report.auc
    );
    assert!(report.brier < 0.2, "Brier {}", report.brier);
    // Calibrated on the hold-out: each decile's mean prediction within 0.15 of what happened.
    for bin in &report.calibration {
        assert!((bin.predicted - bin.observed).abs() < 0.15, "{bin:?}");
    }
    let top = &report.scores[0];
    assert!(top.probability > 0.9, "{top:?}");
    // A reason says which side of the book's average (at the model's cut-off) the customer is
    // on, and agrees with their own numbers: "long since last purchase" only for customers
    // whose recency is above that mean, "bought recently" only below it.
    let mean_recency = report.scaler.mean[0];
    let mut seen = std::collections::BTreeSet::new();
    for s in &report.scores {
        match s.main_reason.unwrap_or_default() {
            "recency_days_high" => assert!(s.features[0] > mean_recency, "{s:?}"),
            "recency_days_low" => assert!(s.features[0] < mean_recency, "{s:?}"),
            _ => {}
        }
        seen.insert(s.main_reason);
    }
    let codes: Vec<&str> = guanxi_analytics::churn::REASONS.concat();
    assert!(seen.iter().flatten().all(|r| codes.contains(r)), "{seen:?}");
    // A reason explains a risk above an average customer's (all features at the mean); a
    // customer at or below it has none.
    let average = 1.0 / (1.0 + (-report.model.intercept).exp());
    for s in &report.scores {
        assert_eq!(
            s.main_reason.is_some(),
            s.probability > average,
            "{s:?} vs {average}"
        );
    }
    // The riskiest tenth are there for signs of lapsing (the generator's churners stop
    // buying): long since the last purchase, overdue against their rhythm, few or falling
    // orders — never for buying recently or a rising trend.
    let lapsing = [
        "recency_days_high",
        "overdue_ratio_high",
        "orders_365d_low",
        "orders_trend_low",
    ];
    for s in &report.scores[..report.scores.len() / 10] {
        assert!(s.main_reason.is_some_and(|r| lapsing.contains(&r)), "{s:?}");
    }
}
