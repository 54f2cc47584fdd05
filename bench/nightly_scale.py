#!/usr/bin/env python3
"""The nightly membership and rules evaluation at scale: the data of refresh_scale.py
(N customers, M orders over three years, 1-3 lines each), scored once (`guanxi scores
refresh`, so churn risk and activity exist), then a membership programme (four tiers over a
365-day spend window, category rates, 1 point per yuan) and six rules (cumulative spend >= 10,000
-> tag and points; churn risk >= 70 % -> task for the owner; turned dormant -> tag; two complaints
in 90 days -> task; an order of >= 400 -> tag; an unusual order -> task) are set up in SQL, and
three nights are timed:

* night 1: the first evaluation - every buyer of the last year joins and is placed in a tier,
  every rule fires for everyone it applies to (hundreds of thousands of tasks, tags, points);
* night 2: a day's orders (5,500) arrive, then the nightly run: their points, expiry, every
  member's tier, every rule;
* night 3: the same again.

    python3 bench/nightly_scale.py --backend sqlite   [--customers 1000000 --orders 10000000]
    python3 bench/nightly_scale.py --backend postgres [--pg postgres://postgres@127.0.0.1:5432/test]
    # --keep reuses a database this script filled before (its programme and rules are reset);
    # --fill-only fills it and stops (to time later, on an otherwise idle machine)

Each night is two processes, `guanxi loyalty run` then `guanxi rules run`, as the server's
jobs run them. Uses the release binary (`cargo build --release -p guanxi` first). There is no
outside reference for this one: the figure is held against the issue's budget (the nightly
rule and tier evaluation over 1 M customers / 10 M orders in under 60 s). Standard library only.
"""
import argparse
import json
import os
import re
import sqlite3
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from refresh_scale import BIN, fill_postgres, fill_sqlite, run  # noqa: E402

DAY_ORDERS = 5_500

PROGRAM = {
    "name": "bench programme", "basis": "spend", "window_days": 365, "points_per_yuan": 1,
    "expiry_months": 24, "starts_on": "2020-01-01", "active": True,
    "tiers": [
        {"code": "basic", "name": "普通", "qualify": 0, "keep": 0, "accrual_percent": 100},
        {"code": "silver", "name": "银卡", "qualify": 100_000, "keep": 80_000, "accrual_percent": 120},
        {"code": "gold", "name": "金卡", "qualify": 300_000, "keep": 250_000, "accrual_percent": 150},
        {"code": "diamond", "name": "钻石", "qualify": 1_000_000, "keep": 800_000, "accrual_percent": 200},
    ],
    "category_rates": [{"category": "cat1", "percent": 200}],
    "promotions": [],
}

RULES = [
    ("big spenders", {"kind": "spend_reached", "amount_minor": 1_000_000},
     [{"kind": "add_tag", "tag": "万元客户"}, {"kind": "award_points", "points": 500, "expiry_months": 12}]),
    ("churn risk", {"kind": "churn_risk", "percent": 70},
     [{"kind": "task", "title": "回访挽留", "due_days": 2}]),
    ("dormant", {"kind": "turned_dormant"}, [{"kind": "add_tag", "tag": "沉睡"}]),
    ("complaints", {"kind": "complaints_reached", "count": 2, "days": 90},
     [{"kind": "task", "title": "投诉回访", "due_days": 1}]),
    ("large order", {"kind": "order_placed", "min_amount_minor": 40_000}, [{"kind": "add_tag", "tag": "大单"}]),
    ("unusual order", {"kind": "order_anomaly"}, [{"kind": "task", "title": "核实交易", "due_days": 0}]),
]


def setup_sql(now_ms, true):
    """Programme and rules, reset; event rules start reading a day's orders back."""
    rows = []
    for name, trigger, actions in RULES:
        d = {"name": name, "trigger": trigger, "segment_id": None, "actions": actions, "active": True}
        rows.append(f"('{name}', '{json.dumps(d, ensure_ascii=False)}', '{trigger['kind']}', {true}, "
                    f"(SELECT COALESCE(MAX(id), 0) FROM orders), 1, {now_ms}, {now_ms})")
    program = json.dumps(PROGRAM, ensure_ascii=False)
    return [
        "DELETE FROM rule_firings", "DELETE FROM rule_members", "DELETE FROM rules",
        "DELETE FROM loyalty_allocations", "DELETE FROM loyalty_entries",
        "DELETE FROM loyalty_tier_changes", "DELETE FROM customer_events WHERE kind = 'tier'",
        "DELETE FROM loyalty_accounts", "DELETE FROM loyalty_programs",
        "DELETE FROM customer_events WHERE kind = 'task' AND ref_id IN (SELECT id FROM tasks WHERE note LIKE '%·%')",
        "DELETE FROM tasks WHERE note LIKE '%·%'",
        f"INSERT INTO loyalty_programs (name, config, active, accrued_through, version, created_at, updated_at) "
        f"VALUES ('bench programme', '{program}', {true}, (SELECT COALESCE(MAX(id), 0) FROM orders), 1, {now_ms}, {now_ms})",
        "INSERT INTO rules (name, definition, trigger_kind, active, cursor, version, created_at, updated_at) VALUES "
        + ", ".join(rows),
    ]


def day_orders_sql(backend, customers, now_ms, day):
    """A day's orders, placed through the tables' own triggers (purchase facts kept up)."""
    if backend == "sqlite":
        return [f"""WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {DAY_ORDERS})
            INSERT INTO orders (customer_id, ordered_at, total_minor, currency, channel, created_at)
            SELECT 1 + abs(random()) % {customers}, {now_ms} - abs(random()) % 86400000,
                1000 + abs(random()) % 50000 + CASE WHEN i % 500 = 0 THEN 3000000 ELSE 0 END,
                'CNY', 'store', {now_ms} FROM s"""]
    return [f"""INSERT INTO orders (customer_id, ordered_at, total_minor, currency, channel, created_at)
        SELECT 1 + floor(random() * {customers})::bigint, {now_ms} - floor(random() * 86400000)::bigint,
            1000 + floor(random() * 50000)::bigint + CASE WHEN i % 500 = 0 THEN 3000000 ELSE 0 END,
            'CNY', 'store', {now_ms} FROM generate_series(1, {DAY_ORDERS}) i"""]


def execute(backend, target, statements):
    if backend == "sqlite":
        con = sqlite3.connect(target)
        for s in statements:
            con.execute(s)
        con.commit()
        con.close()
    else:
        sql = ";\n".join(statements) + ";"
        subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", target], input=sql, text=True, check=True,
                       capture_output=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--backend", choices=["sqlite", "postgres"], required=True)
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--orders", type=int, default=10_000_000)
    ap.add_argument("--sqlite", default="/tmp/guanxi-nightly-bench.db")
    ap.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432/test")
    ap.add_argument("--keep", action="store_true", help="reuse a database this script filled")
    ap.add_argument("--fill-only", action="store_true", help="fill and score the database, time nothing")
    ap.add_argument("--after-first", action="store_true",
                    help="keep the programme and rules of an earlier run; time nights 2 and 3 only")
    ap.add_argument("--bin", default=BIN, help="the guanxi binary (default: the release build)")
    a = ap.parse_args()
    if not os.path.exists(a.bin):
        sys.exit(f"build the release binary first: cargo build --release -p guanxi ({a.bin} missing)")
    now_ms = int(time.time() * 1000)
    if a.backend == "sqlite":
        url = f"sqlite://{a.sqlite}"
        target = a.sqlite
        if not a.keep:
            for suffix in ("", "-wal", "-shm"):
                if os.path.exists(a.sqlite + suffix):
                    os.remove(a.sqlite + suffix)
    else:
        schema = "guanxi_nightly_bench"
        if not a.keep:
            subprocess.run(["psql", "-q", a.pg, "-c", f"DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"],
                           check=True, capture_output=True)
        sep = "&" if "?" in a.pg else "?"
        url = f"{a.pg}{sep}options=-c%20search_path%3D{schema}"
        target = url
    if not a.keep:
        run([a.bin, "migrate", "--database-url", url])
        t = time.time()
        (fill_sqlite if a.backend == "sqlite" else fill_postgres)(target, a.customers, a.orders, now_ms)
        wall, _ = run([a.bin, "scores", "refresh", "--database-url", url])
        print(f"generated {a.customers:,} customers and {a.orders:,} orders, scored them, in "
              f"{time.time() - t:.0f} s ({a.backend}; not measured)")
    else:
        run([a.bin, "migrate", "--database-url", url])
    if a.fill_only:
        return
    # The flags are INTEGER columns on both backends.
    if not a.after_first:
        execute(a.backend, target, setup_sql(now_ms, "1"))
    print(f"{'night':<8} {'wall s':>7} {'points s':>9} {'tiers s':>8} {'rules s':>8} "
          f"{'members':>9} {'joined':>8} {'up':>7} {'down':>6} {'fired':>8}")
    for night in ((2, 3) if a.after_first else (1, 2, 3)):
        if night > 1:
            execute(a.backend, target, day_orders_sql(a.backend, a.customers, now_ms, night))
        t = time.time()
        sys.stdout.flush()
        lw, lout = run([a.bin, "loyalty", "run", "--database-url", url])
        rw, rout = run([a.bin, "rules", "run", "--database-url", url])
        wall = time.time() - t
        p = re.search(r"points: (\d+) orders read, (\d+) earned (\d+) points, (\d+) ms", lout)
        tr = re.search(r"tiers: (\d+) members, (\d+) joined, (\d+) up, (\d+) down; (\d+) lots expired; (\d+) ms", lout)
        ru = re.search(r"rules: (\d+) active, (\d+) compared, (\d+) new firings, (\d+) acted on, (\d+) failed, (\d+) ms", rout)
        if not (p and tr and ru):
            sys.exit(f"unexpected output:\n{lout}\n{rout}")
        print(f"{night:<8} {wall:>7.1f} {int(p.group(4)) / 1000:>9.1f} {int(tr.group(6)) / 1000:>8.1f} "
              f"{int(ru.group(6)) / 1000:>8.1f} {int(tr.group(1)):>9,} {int(tr.group(2)):>8,} "
              f"{int(tr.group(3)):>7,} {int(tr.group(4)):>6,} {int(ru.group(3)):>8,}")


if __name__ == "__main__":
    main()
