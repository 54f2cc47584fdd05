#!/usr/bin/env python3
"""Custom fields at 1 M customers (issue #18): the customer list filtered on a custom field,
and why the values are one EAV table rather than a JSON column.

1. Builds (or with --reuse, reuses) the demo book of `--customers` (see bench/scale.py).
2. Defines three customer fields through the API as the admin — `bench_level` (choice),
   `bench_income` (money), `bench_joined` (date) — and gives every live customer a level
   (platinum 0.05 %, gold 2 %, silver 8 %, bronze 30 %, standard the rest), every fourth an
   income and every fifth a joining date, straight into `custom_values` (the shape the app
   writes).
3. Serves the book with the release binary and times, as the admin and as a sales rep, the
   list API filtered on each (`rule=` with a `cf.` clause) under every sort, the list page
   with `cf.bench_level=…` and a column of it, and a segment preview — server time, p50/p99,
   against the 50 ms budget.
4. SQLite only (`--compare`): the same page query over the two storage shapes, side by side —
   this table (`custom_values`, a membership read like a tag) and a JSON column on
   `customers` with an expression index per filtered field, `(json_extract(…), updated_at, id)`
   — plus what each costs to fill. The JSON column is added to the bench book and dropped
   afterwards.

    cargo build --release -p guanxi
    python3 bench/custom_fields.py --backend sqlite [--reuse] [--compare]
    python3 bench/custom_fields.py --backend postgres [--reuse]

Standard library only (PostgreSQL is written with `psql`).
"""
import argparse
import json
import os
import sqlite3
import subprocess
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from scale import BIN, PASSWORD, ROOT, build, database_url, row, sql, timed, timed_post  # noqa: E402
from serving import Client, percentile, start_server  # noqa: E402

LEVELS = [("platinum", "铂金", "Platinum"), ("gold", "金卡", "Gold"), ("silver", "银卡", "Silver"),
          ("bronze", "铜卡", "Bronze"), ("standard", "普通", "Standard")]
LEVEL_SQL = ("CASE WHEN id % 2000 = 0 THEN 'platinum' WHEN id % 50 = 0 THEN 'gold' "
             "WHEN id % 10 = 0 THEN 'silver' WHEN id % 3 = 0 THEN 'bronze' ELSE 'standard' END")
SORTS = ["updated_at", "name", "created_at", "id"]


def rule(*clauses):
    return json.dumps({"clauses": list(clauses)}, ensure_ascii=False)


def cf(**values):
    return "cf=" + urllib.parse.quote(json.dumps(values, ensure_ascii=False))


def by_rule(*clauses):
    return "rule=" + urllib.parse.quote(rule(*clauses))


# The API's `cf=` (a membership, read like a tag) for values, `rule=` for ranges.
FILTERS = [
    ("cf level = platinum (0.05 %)", cf(bench_level="platinum")),
    ("cf level = gold (2 %)", cf(bench_level="gold")),
    ("cf level = standard (60 %)", cf(bench_level="standard")),
    ("cf level = gold, city = 上海", cf(bench_level="gold") + "&city=" + urllib.parse.quote("上海")),
    ("rule income >= 450,000 (10 % of all)", by_rule({"field": "cf.bench_income", "op": "gte", "value": "450000"})),
    ("rule joined in 2025 or later (6 %)", by_rule({"field": "cf.bench_joined", "op": "gte", "value": "2025-01-01"})),
    ("rule level = gold", by_rule({"field": "cf.bench_level", "op": "eq", "value": "gold"})),
]


def define(admin):
    """The three bench fields (created once; their ids by code)."""
    have = {f["code"]: f["id"] for f in admin.api("GET", "/custom-fields?entity=customer")}
    wanted = [
        {"code": "bench_level", "kind": "choice", "label_zh": "会员等级", "label_en": "Level",
         "choices": [{"code": c, "label_zh": zh, "label_en": en} for c, zh, en in LEVELS]},
        {"code": "bench_income", "kind": "money", "label_zh": "年收入", "label_en": "Income"},
        {"code": "bench_joined", "kind": "date", "label_zh": "入会日期", "label_en": "Joined"},
    ]
    for f in wanted:
        if f["code"] not in have:
            have[f["code"]] = admin.api("POST", "/custom-fields", {"entity": "customer", **f})["id"]
    return have


def fill_statements(ids, backend):
    """The statements that give every live customer its bench values."""
    money = "(id * 7919) % 500000"
    date = ("'20' || substr('2021222324252627', 1 + 2 * (id % 7), 2) || '-0' || (1 + id % 9) || '-1' || (id % 9)"
            if backend == "sqlite" else
            "'20' || substr('2021222324252627', 1 + 2 * (id % 7)::int, 2) || '-0' || (1 + id % 9) || '-1' || (id % 9)")
    live = "FROM customers WHERE deleted_at IS NULL"
    ids_in = ", ".join(str(i) for i in ids.values())
    return [
        f"DELETE FROM custom_values WHERE field_id IN ({ids_in})",
        f"INSERT INTO custom_values (field_id, value_text, record_id, value_number) "
        f"SELECT {ids['bench_level']}, {LEVEL_SQL}, id, NULL {live}",
        f"INSERT INTO custom_values (field_id, value_text, record_id, value_number) "
        f"SELECT {ids['bench_income']}, CAST({money} AS TEXT) || '.00', id, {money} {live} AND id % 4 = 0",
        f"INSERT INTO custom_values (field_id, value_text, record_id, value_number) "
        f"SELECT {ids['bench_joined']}, {date}, id, NULL {live} AND id % 5 = 0",
    ]


def fill(args, ids):
    t0 = time.perf_counter()
    stmts = fill_statements(ids, args.backend)
    if args.backend == "sqlite":
        con = sqlite3.connect(args.db, timeout=60)
        with con:
            for s in stmts:
                con.execute(s)
        con.execute("ANALYZE custom_values")
        con.close()
    else:
        # VACUUM as autovacuum does after a bulk insert (PostgreSQL 13+): the index-only reads
        # of the values need the visibility map (this machine runs with autovacuum off).
        script = ";\n".join(["BEGIN", *stmts, "COMMIT", "VACUUM ANALYZE custom_values"]) + ";"
        out = subprocess.run(["psql", args.pg, "-v", "ON_ERROR_STOP=1", "-q"], input=script,
                             capture_output=True, text=True)
        if out.returncode != 0:
            sys.exit(out.stderr)
    n = sql(args, f"SELECT COUNT(*) FROM custom_values WHERE field_id IN ({', '.join(str(i) for i in ids.values())})")[0][0]
    return time.perf_counter() - t0, int(n)


def compare(args, level_id, n):
    """SQLite: one list page over the EAV table and over a JSON column with an expression index."""
    con = sqlite3.connect(args.db, timeout=60)
    cols = [r[1] for r in con.execute("PRAGMA table_info(customers)")]
    if "bench_custom" in cols:
        con.execute("DROP INDEX IF EXISTS customers_bench_level")
        con.execute("ALTER TABLE customers DROP COLUMN bench_custom")
    t0 = time.perf_counter()
    con.execute("ALTER TABLE customers ADD COLUMN bench_custom TEXT")
    with con:
        con.execute(f"UPDATE customers SET bench_custom = json_object('bench_level', {LEVEL_SQL}) "
                    "WHERE deleted_at IS NULL")
    json_fill = time.perf_counter() - t0
    t0 = time.perf_counter()
    con.execute("CREATE INDEX customers_bench_level ON customers("
                "json_extract(bench_custom, '$.bench_level'), updated_at, id) WHERE deleted_at IS NULL")
    json_index = time.perf_counter() - t0
    shapes = {
        "EAV (custom_values, as the app reads it)":
            "SELECT c.id FROM customers c WHERE c.deleted_at IS NULL AND c.id IN "
            "(SELECT v.record_id FROM custom_values v WHERE v.field_id = ? AND v.value_text = ?) "
            "ORDER BY +c.updated_at DESC, c.id DESC LIMIT 51",
        "EAV, walking the sort (dense plan)":
            "SELECT c.id FROM customers c INDEXED BY customers_walk_updated WHERE c.deleted_at IS NULL AND EXISTS "
            "(SELECT 1 FROM custom_values v WHERE v.record_id = c.id AND v.field_id = ? AND v.value_text = ?) "
            "ORDER BY c.updated_at DESC, c.id DESC LIMIT 51",
        "JSON column + expression index":
            "SELECT c.id FROM customers c WHERE c.deleted_at IS NULL AND ? > 0 AND "
            "json_extract(c.bench_custom, '$.bench_level') = ? ORDER BY c.updated_at DESC, c.id DESC LIMIT 51",
    }
    print(f"\nSQLite page query, {args.customers:,} customers, sort by updated_at, ms per page "
          f"({n} runs each)\n")
    print("| storage | level | p50 | p99 |")
    print("|---|---|---:|---:|")
    for level in ["platinum", "gold", "standard"]:
        for name, q in shapes.items():
            times = []
            for _ in range(n):
                t = time.perf_counter()
                con.execute(q, (level_id, level)).fetchall()
                times.append((time.perf_counter() - t) * 1000)
            print(f"| {name} | {level} | {percentile(times, 0.5):.1f} | {percentile(times, 0.99):.1f} |")
    print(f"\nfill 1 field for every customer: JSON column {json_fill:.1f} s (+ its index {json_index:.1f} s, "
          "one index per filtered field, built by DDL when the admin marks a field filterable)")
    con.execute("DROP INDEX customers_bench_level")
    con.execute("ALTER TABLE customers DROP COLUMN bench_custom")
    con.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--db", default=os.path.join(ROOT, "target", "scale.db"))
    ap.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432/guanxi_scale")
    ap.add_argument("--reuse", action="store_true", help="use the book from an earlier run")
    ap.add_argument("--requests", type=int, default=50, help="requests per figure")
    ap.add_argument("--password", default=PASSWORD)
    ap.add_argument("--compare", action="store_true", help="SQLite: EAV against a JSON column")
    args = ap.parse_args()
    if not os.path.exists(BIN):
        sys.exit("build first: cargo build --release -p guanxi")
    took = build(args)
    if took is not None:
        print(f"guanxi demo --customers {args.customers}: {took:.0f} s")
    env = {**os.environ, "GUANXI_DATABASE_URL": database_url(args), "RUST_LOG": "warn",
           "GUANXI_SCORES_REFRESH_HOURS": "0", "GUANXI_SEGMENT_SIZES_MINUTES": "0"}
    server, base = start_server(BIN, env)
    try:
        admin, rep = Client(base), Client(base)
        admin.login("admin", args.password)
        rep.login("sales.east", args.password)
        ids = define(admin)
        secs, rows = fill(args, ids)
        print(f"\n{args.backend}: {rows:,} custom values written in {secs:.1f} s (one INSERT … SELECT per field)")
        print(f"\n{args.backend}, {args.customers:,} customers; server time in ms\n")
        print("| query | requests | p50 | p99 | budget | |")
        print("|---|---:|---:|---:|---|---|")
        good = True
        n = args.requests
        every = []
        for who, c in [("admin", admin), ("rep", rep)]:
            for name, query in FILTERS:
                for sort in SORTS:
                    path = f"/api/v1/customers?limit=50&sort={sort}&{query}"
                    times = timed(c, path, max(5, n // 5))
                    every.append((percentile(times, 0.99), name, f"{who}, {name}, sort={sort}", times))
        for kind in ["cf level", "cf level = gold, city", "rule"]:
            group = [e for e in every if e[1].startswith(kind)]
            if kind == "cf level":
                group = [e for e in group if "city" not in e[1]]
            group.sort(key=lambda e: e[0], reverse=True)
            all_times = [t for e in group for t in e[3]]
            good &= row(f"list API, {kind}: all {len(group)} value x sort x reader", all_times, 50)
            for e in group[:2]:
                row(f"  slowest: {e[2]}", e[3], 50)
        for level in ["gold", "platinum", "standard"]:
            path = f"/customers?cf.bench_level={level}&col=cf.bench_level&col=city"
            timed(admin, path, 2)
            good &= row(f"list page cf.bench_level={level} with the column", timed(admin, path, n), 50)
        body = {"rule": json.loads(rule({"field": "cf.bench_level", "op": "eq", "value": "gold"}))}
        good &= row("segment preview, level = gold", timed_post(admin, "/api/v1/segments/preview", body, n), 50)
        print("\nall within budget" if good else "\nsome figures are over budget")
    finally:
        server.terminate()
        server.wait()
    if args.compare and args.backend == "sqlite":
        compare(args, ids["bench_level"], max(20, args.requests))


if __name__ == "__main__":
    main()
