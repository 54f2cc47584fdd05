//! BG/NBD and Gamma-Gamma against the published CDNOW results (Fader, Hardie & Lee 2005;
//! Fader & Hardie 2013), using the data in ../shared/data/cdnow.

use guanxi_analytics::clv::{BgNbd, GammaGamma};

fn shared(path: &str) -> std::path::PathBuf {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data")
        .join(path);
    assert!(
        p.exists(),
        "reference data missing: {} (shared/ must sit beside the project)",
        p.display()
    );
    p
}

fn columns(path: &str, names: &[&str]) -> Vec<Vec<f64>> {
    let mut rdr = csv::Reader::from_path(shared(path)).unwrap();
    let headers = rdr.headers().unwrap().clone();
    let idx: Vec<usize> = names
        .iter()
        .map(|n| headers.iter().position(|h| h == *n).unwrap())
        .collect();
    let mut out = vec![Vec::new(); names.len()];
    for rec in rdr.records() {
        let rec = rec.unwrap();
        for (k, &i) in idx.iter().enumerate() {
            out[k].push(rec[i].parse().unwrap());
        }
    }
    out
}

/// Rounds to `n` significant figures.
fn sig(v: f64, n: i32) -> f64 {
    let scale = 10f64.powi(n - 1 - v.abs().log10().floor() as i32);
    (v * scale).round() / scale
}

#[test]
fn bg_nbd_matches_the_paper() {
    let c = columns(
        "cdnow/cdnow_customers_summary.csv",
        &["frequency", "recency", "T"],
    );
    assert_eq!(c[0].len(), 2357);
    let m = BgNbd::fit(&c[0], &c[1], &c[2]).unwrap();
    // Published: r = 0.243, alpha = 4.414, a = 0.793, b = 2.426, LL = -9582.4 (3 significant figures).
    for (got, want, name) in [
        (m.r, 0.243, "r"),
        (m.alpha, 4.414, "alpha"),
        (m.a, 0.793, "a"),
        (m.b, 2.426, "b"),
        (m.log_likelihood, -9582.4, "LL"),
    ] {
        assert_eq!(
            sig(got, 3),
            sig(want, 3),
            "{name}: {got} vs published {want}"
        );
    }
    assert!(
        (m.log_likelihood - -9582.4).abs() < 0.1,
        "LL {}",
        m.log_likelihood
    );
    // The paper's worked example: x = 2, t_x = 30.43, T = 38.86 → 1.226 purchases in 39 weeks.
    let e = m.expected_purchases(39.0, 2.0, 30.43, 38.86);
    assert!((e - 1.226).abs() < 0.001, "expected purchases {e}");
    let pa = m.p_alive(2.0, 30.43, 38.86);
    assert!(pa > 0.0 && pa < 1.0);
    assert_eq!(m.p_alive(0.0, 0.0, 38.86), 1.0);
}

#[test]
fn gamma_gamma_matches_the_note() {
    let c = columns(
        "cdnow/cdnow_customers_summary_with_transactions.csv",
        &["x", "zbar"],
    );
    let m = GammaGamma::fit(&c[0], &c[1]).unwrap();
    // Published: p = 6.25, q = 3.74, gamma = 15.44, LL = -4055.9 (946 repeat buyers).
    for (got, want, name) in [
        (m.p, 6.25, "p"),
        (m.q, 3.74, "q"),
        (m.gamma, 15.44, "gamma"),
        (m.log_likelihood, -4055.9, "LL"),
    ] {
        assert_eq!(
            sig(got, 3),
            sig(want, 3),
            "{name}: {got} vs published {want}"
        );
    }
}

/// A book where nobody has dropped out (every customer bought in each of the last weeks up to
/// today): the likelihood's maximum is the no-drop-out limit. The fit must stop there with a
/// vanishing drop-out probability and P(alive) = 1, not wander the flat ridge.
#[test]
fn bg_nbd_without_dropouts_reaches_the_limit() {
    let (mut x, mut t_x, mut t) = (Vec::new(), Vec::new(), Vec::new());
    for c in 0..3000 {
        let age = 20.0 + (c % 80) as f64; // weeks since first purchase
        let rate = 0.2 + (c % 7) as f64 * 0.1; // purchases per week
        let n = (age * rate).floor();
        x.push(n);
        t_x.push(if n > 0.0 {
            age - 0.5 * (c % 2) as f64
        } else {
            0.0
        });
        t.push(age);
    }
    let fit = guanxi_analytics::clv::BgNbd::fit(&x, &t_x, &t).unwrap();
    assert!(
        fit.a / (fit.a + fit.b) < 1e-6,
        "drop-out probability {fit:?}"
    );
    assert!(fit.p_alive(10.0, 50.0, 50.0) > 0.999);
    let uniform = fit.expected_purchases(52.0, 10.0, 50.0, 50.0);
    assert!(uniform.is_finite() && uniform > 5.0, "{uniform}");
}
