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
    // Identical customers get identical scores.
    let scores: std::collections::HashSet<&str> = out
        .lines()
        .skip(1)
        .map(|l| l.split_once(',').unwrap().1)
        .collect();
    assert_eq!(scores.len(), 1, "{out}");
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

/// One 22-item basket has four million subsets: without a length limit the run is refused
/// with what to change, and at the default length (4) it is mined.
#[test]
fn association_mining_refuses_work_past_its_budget() {
    let path = std::env::temp_dir().join(format!("gx_big_basket_{}.csv", std::process::id()));
    let basket: Vec<String> = (0..22).map(|i| format!("item{i}")).collect();
    std::fs::write(&path, basket.join(",") + "\n").unwrap();
    let file = path.to_string_lossy().to_string();
    let args = |len: &'static str| {
        vec![
            "analyze",
            "assoc",
            "--one-basket-per-line",
            "--itemsets",
            "--min-support",
            "1",
            "--max-len",
            len,
            "--input",
        ]
    };
    let mut a = args("0");
    a.push(&file);
    let (ok, _, err) = run(&a);
    assert!(!ok, "refused");
    assert!(err.contains("raise the minimum support"), "{err}");
    let mut a = args("4");
    a.push(&file);
    let (ok, out, err) = run(&a);
    assert!(ok, "{err}");
    assert_eq!(out.lines().count(), 1 + 22 + 231 + 1540 + 7315);
    let _ = std::fs::remove_file(path);
}

/// `--as-of` means as of that day for every analysis, and out-of-range model parameters or
/// an all-zero book are refused with the reason.
#[test]
fn as_of_and_parameters_are_respected() {
    let later = file(
        "later.csv",
        "customer_id,date,amount\n1,2024-01-05,100\n2,2024-01-10,10\n2,2024-03-01,1000\n",
    );
    let (ok, out, err) = run(&[
        "analyze",
        "grade",
        "--input",
        &later,
        "--as-of",
        "2024-01-31",
    ]);
    assert!(ok, "{err}");
    let rows: Vec<Vec<&str>> = out
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    assert_eq!((rows[0][0], rows[0][1]), ("1", "100.00"), "{out}");
    assert_eq!(
        (rows[1][0], rows[1][1]),
        ("2", "10.00"),
        "the March order is after --as-of"
    );

    let mut regular = String::from("customer_id,date,amount\n");
    for d in 1..=9 {
        regular.push_str(&format!("1,2024-01-0{d},{}\n", 50 + d));
    }
    regular.push_str("1,2024-02-01,5000\n");
    let regular = file("regular.csv", &regular);
    let (ok, out, err) = run(&["analyze", "anomalies", "--input", &regular]);
    assert!(ok, "{err}");
    assert_eq!(out.lines().count(), 2, "the 5000 is flagged: {out}");
    let (ok, out, err) = run(&[
        "analyze",
        "anomalies",
        "--input",
        &regular,
        "--as-of",
        "2024-01-31",
    ]);
    assert!(ok, "{err}");
    assert_eq!(out.lines().count(), 1, "the 5000 is after --as-of: {out}");

    let cdnow = format!(
        "{}/../../../shared/data/cdnow/cdnow_customers_summary.csv",
        env!("CARGO_MANIFEST_DIR")
    );
    for (flag, value, why) in [
        (
            "--discount",
            "-0.01",
            "discount rate must be zero or positive",
        ),
        ("--margin", "-0.2", "margin must be between 0 and 1"),
        ("--margin", "1.5", "margin must be between 0 and 1"),
        ("--horizon", "600", "at most 10 years"),
    ] {
        let arg = format!("{flag}={value}");
        let (ok, _, err) = run(&["analyze", "clv", "--summary", &cdnow, &arg]);
        assert!(!ok && err.contains(why), "{flag} {value}: {err}");
    }

    let zero = file(
        "zero.csv",
        "customer_id,date,amount\n1,2024-01-01,0\n2,2024-01-02,0\n",
    );
    let (ok, _, err) = run(&["analyze", "grade", "--input", &zero]);
    assert!(!ok && err.contains("every amount is zero"), "{err}");
}
