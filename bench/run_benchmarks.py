"""Side-by-side benchmarks: Guanxi against the tools an analyst would otherwise use, on the
same data in one run. Every tool runs as its own child process; wall time and peak memory
(max RSS from wait4) are measured the same way for all. Python tools also report the time of
the work alone (after imports), which is the figure the ratios use — the kinder comparison
for them.

    python bench/run_benchmarks.py [--rows 10000000] [--only rfm,clv,assoc]

Needs the release binary (cargo build --release -p guanxi) and bench/requirements.txt.
"""
import argparse
import json
import os
import pathlib
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared/data"
GUANXI = ROOT / "target/release/guanxi"
WORK = pathlib.Path(os.environ.get("GUANXI_BENCH_DIR", "/tmp/guanxi-bench"))
PY = sys.executable


def run(cmd):
    """Runs a command; returns (wall seconds, peak RSS MiB, stdout, stderr). Peak memory comes
    from wait4 on the child itself (subprocess would reap it before we could ask)."""
    start = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        devnull = os.open(os.devnull, os.O_WRONLY)
        out = os.open(str(WORK / "last.out"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        err = os.open(str(WORK / "last.err"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        os.dup2(out, 1)
        os.dup2(err, 2)
        os.close(devnull)
        try:
            os.execvp(cmd[0], cmd)
        finally:
            os._exit(127)
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - start
    stdout = (WORK / "last.out").read_text(errors="replace")
    stderr = (WORK / "last.err").read_text(errors="replace")
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(map(str, cmd))} failed:\n{stderr[-3000:]}")
    return wall, usage.ru_maxrss / 1024, stdout, stderr


def work_seconds(stdout):
    """The `WORK <seconds>` line a Python reference prints after its imports."""
    for line in stdout.splitlines():
        if line.startswith("WORK "):
            return float(line.split()[1])
    return None


PANDAS_RFM = r'''
import sys, time
sys.path.insert(0, "{ref}")
import pandas as pd
from pandas_rfm import rfm
t = time.perf_counter()
tx = pd.read_csv("{src}", parse_dates=["date"])
r = rfm(tx, "{as_of}")
r.to_csv("{dst}")
print("WORK", time.perf_counter() - t)
print("ROWS", len(r))
'''

DUCKDB_RFM = r'''
import time, duckdb
t = time.perf_counter()
con = duckdb.connect()
con.execute("""
COPY (
  WITH c AS (
    SELECT customer_id, date_diff('day', max(date), DATE '{as_of}') AS recency, count(*) AS frequency, sum(amount) AS monetary
    FROM read_csv('{src}', header = true, columns = {{'customer_id': 'BIGINT', 'date': 'DATE', 'amount': 'DOUBLE'}})
    WHERE date <= DATE '{as_of}'
    GROUP BY customer_id
  ), ranked AS (
    SELECT *, count(*) OVER () AS n,
      rank() OVER (ORDER BY recency DESC) AS rr,
      rank() OVER (ORDER BY frequency) AS fr,
      rank() OVER (ORDER BY monetary) AS mr
    FROM c
  ), scored AS (
    SELECT customer_id, recency, frequency, monetary,
      greatest(1, least(5, ceil(5.0 * rr / n)))::INT AS r,
      greatest(1, least(5, ceil(5.0 * fr / n)))::INT AS f,
      greatest(1, least(5, ceil(5.0 * mr / n)))::INT AS m
    FROM ranked
  )
  SELECT *, CASE
    WHEN r = 1 AND f = 1 THEN 'Lost'
    WHEN r <= 2 AND f <= 2 THEN 'Hibernating'
    WHEN r <= 2 AND f <= 4 THEN 'At Risk'
    WHEN r <= 2 THEN 'Can''t Lose Them'
    WHEN r = 3 AND f <= 2 THEN 'About to Sleep'
    WHEN r = 3 AND f = 3 THEN 'Need Attention'
    WHEN r <= 4 AND f >= 4 THEN 'Loyal Customers'
    WHEN r = 4 AND f = 1 THEN 'Promising'
    WHEN r = 5 AND f = 1 THEN 'New Customers'
    WHEN f <= 3 THEN 'Potential Loyalists'
    ELSE 'Champions' END AS segment
  FROM scored ORDER BY customer_id
) TO '{dst}' (HEADER)
""")
print("WORK", time.perf_counter() - t)
'''

LIFETIMES_FIT = r'''
import time, warnings
warnings.filterwarnings("ignore")
import pandas as pd
from lifetimes import BetaGeoFitter
d = pd.read_csv("{src}")
t = time.perf_counter()
bg = BetaGeoFitter(penalizer_coef=0.0)
bg.fit(d["frequency"], d["recency"], d["T"])
print("FIT", time.perf_counter() - t)
e = bg.conditional_expected_number_of_purchases_up_to_time(39, d["frequency"], d["recency"], d["T"])
pa = bg.conditional_probability_alive(d["frequency"], d["recency"], d["T"])
pd.DataFrame({{"e": e, "p": pa}}).to_csv("{dst}")
print("WORK", time.perf_counter() - t)
print("PARAMS", " ".join(f"{{k}}={{v:.6f}}" for k, v in bg.params_.items()))
'''

MLXTEND_FP = r'''
import time, pathlib
import pandas as pd
from mlxtend.frequent_patterns import fpgrowth
from mlxtend.preprocessing import TransactionEncoder
t = time.perf_counter()
baskets = [l.split(",") for l in pathlib.Path("{src}").read_text().splitlines() if l]
te = TransactionEncoder()
frame = pd.DataFrame(te.fit(baskets).transform(baskets), columns=te.columns_)
sets = fpgrowth(frame, min_support={s}, use_colnames=True)
sets.assign(itemsets=sets["itemsets"].map(lambda s: "|".join(sorted(s)))).to_csv("{dst}", index=False)
print("WORK", time.perf_counter() - t)
print("ITEMSETS", len(sets))
'''


def best_of(n, cmd):
    runs = [run(cmd) for _ in range(n)]
    return min(runs, key=lambda r: r[0])


def row(name, wall, mem, work=None):
    return {"tool": name, "wall_s": round(wall, 3), "work_s": round(work if work is not None else wall, 3), "peak_mib": round(mem, 1)}


def bench_rfm(rows, repeat):
    src = WORK / f"tx_{rows}.csv"
    if not src.exists():
        print(f"generating {rows:,} transactions -> {src}", flush=True)
        subprocess.run([PY, str(ROOT / "bench/gen_transactions.py"), "--rows", str(rows), "--seed", "1", "--out", str(src)], check=True)
    as_of = "2025-12-31"
    out = []
    wall, mem, _, err = best_of(repeat, [str(GUANXI), "analyze", "rfm", "--input", str(src), "--as-of", as_of, "--out", str(WORK / "rfm_guanxi.csv")])
    out.append(row("guanxi", wall, mem))
    code = PANDAS_RFM.format(ref=ROOT / "bench/reference", src=src, as_of=as_of, dst=WORK / "rfm_pandas.csv")
    wall, mem, so, _ = best_of(repeat, [PY, "-c", code])
    out.append(row("pandas", wall, mem, work_seconds(so)))
    code = DUCKDB_RFM.format(src=src, as_of=as_of, dst=WORK / "rfm_duckdb.csv")
    wall, mem, so, _ = best_of(repeat, [PY, "-c", code])
    out.append(row("duckdb", wall, mem, work_seconds(so)))
    # Same answer: Guanxi's scores equal the pandas reference row for row.
    g = (WORK / "rfm_guanxi.csv").read_text().splitlines()[1:]
    p = (WORK / "rfm_pandas.csv").read_text().splitlines()[1:]
    same = len(g) == len(p) and all(a.split(",")[4:7] + [a.split(",")[8]] == b.split(",")[4:8] for a, b in zip(g, p))
    return {"name": f"RFM + segments, {rows:,} transactions from CSV", "rows": out, "check": f"{len(g):,} customers; scores and segments identical to pandas: {same}"}


def bench_clv(repeat):
    src = SHARED / "cdnow/cdnow_customers_summary.csv"
    wall, mem, _, err = best_of(repeat, [str(GUANXI), "analyze", "clv", "--summary", str(src), "--horizon", "39", "--out", str(WORK / "clv_guanxi.csv")])
    ours = err.strip().splitlines()[-1]
    out = [row("guanxi", wall, mem)]
    code = LIFETIMES_FIT.format(src=src, dst=WORK / "clv_lifetimes.csv")
    wall, mem, so, _ = best_of(repeat, [PY, "-c", code])
    out.append(row("lifetimes", wall, mem, work_seconds(so)))
    theirs = next(l for l in so.splitlines() if l.startswith("PARAMS"))
    fit = float(next(l for l in so.splitlines() if l.startswith("FIT")).split()[1])
    return {"name": "BG/NBD fit + predictions, CDNOW 2,357 customers", "rows": out, "check": f"guanxi: {ours.split(' (LL')[0]} | lifetimes: {theirs[7:]} | lifetimes' fit alone: {fit:.3f} s (Guanxi's fit alone: see cargo bench)"}


def bench_assoc(repeat, support):
    src = SHARED / "groceries/groceries.csv"
    wall, mem, _, err = best_of(repeat, [str(GUANXI), "analyze", "assoc", "--input", str(src), "--one-basket-per-line", "--itemsets", "--min-support", str(support), "--out", str(WORK / "fp_guanxi.csv")])
    ours = sum(1 for _ in open(WORK / "fp_guanxi.csv")) - 1
    out = [row("guanxi", wall, mem)]
    code = MLXTEND_FP.format(src=src, s=support, dst=WORK / "fp_mlxtend.csv")
    wall, mem, so, _ = best_of(repeat, [PY, "-c", code])
    out.append(row("mlxtend", wall, mem, work_seconds(so)))
    theirs = int(next(l for l in so.splitlines() if l.startswith("ITEMSETS")).split()[1])
    return {"name": f"FP-growth, groceries 9,835 baskets, min_support {support}", "rows": out, "check": f"itemsets: guanxi {ours}, mlxtend {theirs}"}


def table(result):
    base = result["rows"][0]["work_s"]
    lines = [f"### {result['name']}", "", "| tool | time (s) | wall incl. start-up (s) | peak memory (MiB) | tool time ÷ guanxi |", "|---|---:|---:|---:|---:|"]
    for r in result["rows"]:
        lines.append(f"| {r['tool']} | {r['work_s']:.3f} | {r['wall_s']:.3f} | {r['peak_mib']:.0f} | {r['work_s'] / base:.1f}× |")
    lines += ["", result["check"], ""]
    return "\n".join(lines)


if __name__ == "__main__":
    a = argparse.ArgumentParser()
    a.add_argument("--rows", type=int, default=10_000_000)
    a.add_argument("--repeat", type=int, default=3)
    a.add_argument("--only", default="rfm,clv,assoc")
    a.add_argument("--support", type=float, default=0.002)
    args = a.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    if not GUANXI.exists():
        raise SystemExit(f"build the release binary first: cargo build --release -p guanxi ({GUANXI} missing)")
    results = []
    todo = args.only.split(",")
    if "rfm" in todo:
        results.append(bench_rfm(args.rows, args.repeat))
    if "clv" in todo:
        results.append(bench_clv(args.repeat))
    if "assoc" in todo:
        results.append(bench_assoc(args.repeat, args.support))
    print(f"machine: {os.cpu_count()} cores; best of {args.repeat} runs each\n")
    for r in results:
        print(table(r))
    (WORK / "results.json").write_text(json.dumps(results, indent=2))
