//! `guanxi analyze` as a user runs it: on files they bring (good and broken) and on the database.

use std::process::Command;

fn run(args: &[&str]) -> (bool, String, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_guanxi"))
        .args(args)
        .env_remove("RUST_BACKTRACE")
        .env_remove("RUST_LIB_BACKTRACE")
        .output()
        .unwrap();
    (
        o.status.success(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn file(name: &str, body: &str) -> String {
    let p = std::env::temp_dir().join(format!("guanxi_analyze_{}_{name}", std::process::id()));
    std::fs::write(&p, body).unwrap();
    p.display().to_string()
}

fn fixture(name: &str) -> String {
    format!(
        "{}/../guanxi-analytics/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

#[test]
fn rfm_from_a_file_matches_the_pandas_fixture() {
    let (ok, out, err) = run(&[
        "analyze",
        "rfm",
        "--input",
        &fixture("rfm_transactions.csv"),
        "--as-of",
        "2025-12-31",
    ]);
    assert!(ok, "{err}");
    let reference = std::fs::read_to_string(fixture("rfm_pandas.csv")).unwrap();
    let ours: Vec<&str> = out.lines().skip(1).collect();
    let theirs: Vec<&str> = reference.lines().skip(1).collect();
    assert_eq!(ours.len(), theirs.len());
    for (o, t) in ours.iter().zip(&theirs) {
        let o: Vec<&str> = o.split(',').collect();
        let t: Vec<&str> = t.split(',').collect();
        // id, recency, frequency, r, f, m, segment
        assert_eq!(
            (o[0], o[1], o[2], o[4], o[5], o[6], o[8]),
            (t[0], t[1], t[2], t[4], t[5], t[6], t[7])
        );
    }
    assert!(err.contains("RFM of 2075 customers"), "{err}");
}

#[test]
fn every_analysis_runs_on_a_user_file() {
    let input = fixture("rfm_transactions.csv");
    for cmd in ["grade", "clv", "churn", "anomalies"] {
        let out =
            std::env::temp_dir().join(format!("guanxi_analyze_{}_{cmd}.csv", std::process::id()));
        let (ok, _, err) = run(&[
            "analyze",
            cmd,
            "--input",
            &input,
            "--out",
            out.to_str().unwrap(),
        ]);
        assert!(ok, "{cmd}: {err}");
        let text = std::fs::read_to_string(&out).unwrap();
        assert!(
            text.lines().count() > 1 || cmd == "anomalies",
            "{cmd} wrote nothing"
        );
        let _ = std::fs::remove_file(out);
    }
    let (ok, out, err) = run(&[
        "analyze",
        "assoc",
        "--one-basket-per-line",
        "--min-support",
        "0.02",
        "--input",
        &format!(
            "{}/../../../shared/data/groceries/groceries.csv",
            env!("CARGO_MANIFEST_DIR")
        ),
    ]);
    assert!(ok, "{err}");
    assert!(out.starts_with("antecedent,consequent,support,confidence,lift"));
    assert!(out.contains("whole milk"), "{out}");
}

#[test]
fn bad_files_get_line_column_and_reason() {
    let cases = [
        (
            "baddate.csv",
            "customer_id,date,amount\n1,2024-01-01,10\n2,2024-13-01,5\n",
            "line 3, column date: no such date",
        ),
        (
            "badamount.csv",
            "customer_id,date,amount\n1,2024-01-01,10\n2,2024-01-02,abc\n",
            "line 3, column amount: not a number",
        ),
        (
            "negative.csv",
            "customer_id,date,amount\n1,2024-01-01,-3\n",
            "line 2, column amount: negative amounts",
        ),
        (
            "short.csv",
            "customer_id,date,amount\n1,2024-01-01,10\n2,2024-01-02\n",
            "line 3",
        ),
        ("empty.csv", "", "is empty"),
        ("header.csv", "customer_id,date,amount\n", "no transactions"),
        (
            "cols.csv",
            "id,when,value\n1,2024-01-01,1\n",
            "no column `customer_id`",
        ),
        (
            "quoted.csv",
            "customer_id,date,amount\n\"A\",\"2024-01-01\",\"x\"\n",
            "line 2, column amount: not a number",
        ),
    ];
    for (name, body, expected) in cases {
        let (ok, out, err) = run(&["analyze", "rfm", "--input", &file(name, body)]);
        assert!(!ok, "{name} should fail");
        assert!(
            err.contains(expected),
            "{name}: expected `{expected}` in {err}"
        );
        assert!(!err.contains("panicked"), "{name}: {err}");
        assert!(out.is_empty(), "{name}: nothing is written on failure");
    }
}

#[test]
fn one_customer_and_all_ties_are_fine() {
    let (ok, out, err) = run(&[
        "analyze",
        "rfm",
        "--input",
        &file(
            "one.csv",
            "customer_id,date,amount\nC-1,2024-01-01,10\nC-1,2024-02-01,12\n",
        ),
    ]);
    assert!(ok, "{err}");
    assert!(out.contains("C-1,0,2,22.00,1,1,1,111,Lost"), "{out}");
    let (ok, out, err) = run(&[
        "analyze",
        "rfm",
        "--input",
        &file(
            "ties.csv",
            "customer_id,date,amount\n1,2024-01-01,10\n2,2024-01-01,10\n3,2024-01-01,10\n",
        ),
    ]);
    assert!(ok, "{err}");
    assert_eq!(out.lines().count(), 4);
    let (ok, _, err) = run(&[
        "analyze",
        "grade",
        "--input",
        &file(
            "ties2.csv",
            "customer_id,date,amount\n1,2024-01-01,10\n2,2024-01-01,10\n",
        ),
    ]);
    assert!(ok, "{err}");
    // Models that need more data say so instead of failing obscurely.
    let (ok, _, err) = run(&[
        "analyze",
        "clv",
        "--input",
        &file("one2.csv", "customer_id,date,amount\n1,2024-01-01,10\n"),
    ]);
    assert!(!ok && err.contains("not enough data"), "{err}");
}

#[test]
fn grade_with_costs_gives_profitability() {
    let input = file("cost.csv", "customer_id,date,amount,cost\n1,2024-01-01,100,20\n2,2024-01-02,50,45\n3,2024-01-03,40,10\n4,2024-01-04,30,10\n5,2024-01-05,20,30\n");
    let (ok, out, err) = run(&["analyze", "grade", "--input", &input, "--cost-col", "cost"]);
    assert!(ok, "{err}");
    let grades: Vec<(String, String)> = out
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[4].to_string(), f[5].to_string())
        })
        .collect();
    let expected = [
        ("A", "good"),
        ("A", "ordinary"),
        ("A", "ordinary"),
        ("A", "ordinary"),
        ("B", "bad"),
    ];
    assert_eq!(
        grades,
        expected.map(|(a, b)| (a.to_string(), b.to_string()))
    );
    let (ok, _, err) = run(&[
        "analyze",
        "grade",
        "--input",
        &file(
            "cost2.csv",
            "customer_id,date,amount,cost\n1,2024-01-01,100,x\n",
        ),
        "--cost-col",
        "cost",
    ]);
    assert!(!ok && err.contains("line 2, column cost"), "{err}");
}
