#!/usr/bin/env python3
"""The sales pipeline at 200,000 opportunities (issue #17): the kanban and the forecast,
server time beside the 30 ms budget.

Builds a demo book (`guanxi demo --customers N --no-serve`), adds 200,000 opportunities in one
SQL statement (the three demo reps' customers' deals spread over the default pipeline's
seven stages, close dates over the coming six months, amounts ¥1,000–¥200,000), then measures
as the manager (every deal) and as a rep (their own):

* the kanban page (`/pipeline`) and its API (`GET /api/v1/pipelines/{id}/board`);
* the forecast page (`/pipeline/forecast`, six months, with the funnel) and its API
  (`GET /api/v1/forecast`);
* the funnel API (`GET /api/v1/pipelines/{id}/figures`, the last year).

Server time is the `Server-Timing` header.

    cargo build --release -p guanxi
    python3 bench/pipeline.py --backend sqlite   [--reuse] [--db /work/scale/pipeline.db]
    python3 bench/pipeline.py --backend postgres [--reuse] [--pg postgres://postgres@127.0.0.1:5432/guanxi_pipeline]
"""
import argparse
import datetime
import os
import sqlite3
import subprocess
import sys
import time

import scale
from scale import build, database_url, row, sql
from serving import Client, start_server

DEALS = 200_000


def deals_sql(backend, customers, reps, stages, now_ms):
    """One INSERT … SELECT over a series (a recursive CTE on SQLite, generate_series on
    PostgreSQL): deal i belongs to customer 1 + i mod N and rep i mod 3, sits in stage i mod 7."""
    series = ("WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < {n}) "
              if backend == "sqlite" else "")
    source = "s" if backend == "sqlite" else "generate_series(CAST(0 AS BIGINT), {n}) AS s(i)"
    stage = "CASE i % 7 " + " ".join(f"WHEN {k} THEN {sid}" for k, (sid, _, _) in enumerate(stages)) + " END"
    status = "CASE i % 7 " + " ".join(f"WHEN {k} THEN '{kind}'" for k, (_, kind, _) in enumerate(stages)) + " END"
    owner = "CASE i % 3 " + " ".join(f"WHEN {k} THEN {r}" for k, r in enumerate(reps)) + " END"
    day = 86_400_000
    today = datetime.date.today()
    # Close dates as text, spread over 180 days from today.
    if backend == "sqlite":
        close = f"date('{today.isoformat()}', '+' || (i % 180) || ' days')"
    else:
        close = f"to_char(DATE '{today.isoformat()}' + CAST(i % 180 AS INT), 'YYYY-MM-DD')"
    touched = f"{now_ms} - (i % 60) * {day}"
    # The furthest stage reached: the stage itself, or for a lost deal the third stage.
    furthest = "CASE i % 7 " + " ".join(
        f"WHEN {k} THEN {3 if kind == 'lost' else k + 1}" for k, (_, kind, _) in enumerate(stages)) + " END"
    closed = f"CASE WHEN i % 7 >= 5 THEN {touched} ELSE NULL END"
    return (series.format(n=DEALS - 1) +
            "INSERT INTO opportunities (customer_id, owner_id, pipeline_id, stage_id, status, name, "
            "amount_minor, currency, probability, expected_close, competitors, source, "
            "lost_reason_id, stage_entered_at, last_activity_at, closed_at, version, created_at, "
            "updated_at, furthest_position) "
            f"SELECT 1 + (i % {customers}), {owner}, {stages[0][2]}, {stage}, {status}, 'bench deal', "
            "100000 + (i * 7919) % 19900000, 'CNY', CASE WHEN i % 10 = 0 THEN 55 ELSE NULL END, "
            f"{close}, '[]', CASE i % 4 WHEN 0 THEN '展会' WHEN 1 THEN '官网' WHEN 2 THEN '老客户介绍' ELSE NULL END, "
            "CASE WHEN i % 7 = 6 THEN (SELECT MIN(id) FROM lost_reasons) ELSE NULL END, "
            f"{touched}, {touched}, {closed}, 1, {now_ms} - (i % 300) * {day}, {touched}, {furthest} "
            f"FROM {source.format(n=DEALS - 1)}")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--backend", choices=["sqlite", "postgres"], required=True)
    p.add_argument("--customers", type=int, default=20_000)
    p.add_argument("--db", default="/work/scale/pipeline.db")
    p.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432/guanxi_pipeline")
    p.add_argument("--reuse", action="store_true")
    p.add_argument("-n", type=int, default=100)
    args = p.parse_args()
    if not os.path.exists(scale.BIN):
        sys.exit(f"{scale.BIN} missing: cargo build --release -p guanxi")
    built = build(args)
    if built is not None:
        print(f"demo book: {built:.0f} s")
        customers = int(sql(args, "SELECT COUNT(*) FROM customers")[0][0])
        reps = [int(r[0]) for r in sql(args, "SELECT id FROM users WHERE username IN "
                                             "('sales.east', 'sales.east2', 'sales.south') ORDER BY id")]
        pipeline = int(sql(args, "SELECT MIN(id) FROM pipelines")[0][0])
        stages = [(int(r[0]), r[1], pipeline) for r in
                  sql(args, f"SELECT id, kind FROM pipeline_stages WHERE pipeline_id = {pipeline} ORDER BY position")]
        statement = deals_sql(args.backend, customers, reps, stages, int(time.time() * 1000))
        t0 = time.perf_counter()
        if args.backend == "sqlite":
            con = sqlite3.connect(args.db)
            con.execute(statement)
            con.commit()
            con.execute("ANALYZE")
            con.close()
        else:
            subprocess.run(["psql", args.pg, "-v", "ON_ERROR_STOP=1", "-c", statement], check=True,
                           capture_output=True)
            subprocess.run(["psql", args.pg, "-c", "VACUUM ANALYZE opportunities"], check=True,
                           capture_output=True)
        print(f"{DEALS:,} opportunities in SQL: {time.perf_counter() - t0:.0f} s")
    n = int(sql(args, "SELECT COUNT(*) FROM opportunities")[0][0])
    pipeline = int(sql(args, "SELECT MIN(id) FROM pipelines")[0][0])
    env = {**os.environ, "GUANXI_DATABASE_URL": database_url(args), "RUST_LOG": "error",
           "GUANXI_SLA_SWEEP_SECONDS": "0", "GUANXI_SEGMENT_SIZES_MINUTES": "0",
           "GUANXI_SCORES_REFRESH_HOURS": "0"}
    server, base = start_server(scale.BIN, env)
    good = True
    try:
        time.sleep(20)  # the start-up jobs (care list, rules, rollups) settle first
        today = datetime.date.today().replace(day=1)
        later = (today + datetime.timedelta(days=200)).replace(day=1)
        print(f"\n{args.backend}: {n:,} opportunities, server time ms\n")
        print("| call | n | p50 | p99 | budget | |")
        print("|---|---|---|---|---|---|")
        for who in ("manager", "sales.east"):
            c = Client(base)
            c.login(who, scale.PASSWORD)
            for name, path in [
                ("kanban page /pipeline", "/pipeline"),
                ("kanban API", f"/api/v1/pipelines/{pipeline}/board"),
                ("forecast API, 6 months", f"/api/v1/forecast?from={today}&to={later}"),
                ("forecast page (with the funnel)", "/pipeline/forecast"),
                ("funnel API, a year", f"/api/v1/pipelines/{pipeline}/figures"),
            ]:
                good &= row(f"{who}: {name}", [c.page(path)[2] for _ in range(args.n)], 30)
    finally:
        server.terminate()
        server.wait()
    sys.exit(0 if good else 1)


if __name__ == "__main__":
    main()
