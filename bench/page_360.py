#!/usr/bin/env python3
"""Server time of the customer 360 page for a customer with 500 timeline items, and of the
dashboard for three readers, on demo data.

Loads `guanxi demo` (2,400 customers, 60,000 orders) into a fresh SQLite file, serves it with the
release binary, gives one customer 500 timeline entries in all (its orders plus interactions and
tasks added over the API), then requests its 360 page repeatedly as a signed-in manager and as an
admin (whose view of an ID number is also written to the audit log). Server time is read from the
`Server-Timing` header the app sets on every response (time inside the server, no network);
wall time is what the client saw on loopback. The dashboard (`GET /`) is measured for a
manager and an admin (whole book) and a sales rep (own and team's customers only).

    cargo build --release -p guanxi
    python3 bench/page_360.py [--requests 300] [--backend sqlite|postgres]

Standard library only.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

from serving import Client, percentile, start_server

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PASSWORD = "bench-password-360"


def summary(xs):
    return statistics.median(xs), percentile(xs, 0.95), percentile(xs, 0.99), max(xs)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=300)
    ap.add_argument("--bin", default=os.path.join(ROOT, "target/release/guanxi"))
    ap.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    ap.add_argument("--pg-url", default="postgres://postgres@127.0.0.1:5432/guanxi_bench")
    args = ap.parse_args()
    if not os.path.exists(args.bin):
        sys.exit(f"build the release binary first: cargo build --release -p guanxi ({args.bin} missing)")

    work = tempfile.mkdtemp(prefix="guanxi-360-")
    if args.backend == "sqlite":
        url = f"sqlite://{work}/bench.db"
    else:
        db = args.pg_url.rsplit("/", 1)[1]
        admin_url = args.pg_url.rsplit("/", 1)[0] + "/postgres"
        subprocess.run(["psql", admin_url, "-qc", f"DROP DATABASE IF EXISTS {db}"], check=True)
        subprocess.run(["psql", admin_url, "-qc", f"CREATE DATABASE {db}"], check=True)
        url = args.pg_url
    env = dict(os.environ, GUANXI_DATABASE_URL=url, GUANXI_DEMO_PASSWORD=PASSWORD, RUST_LOG="warn")
    t0 = time.time()
    subprocess.run([args.bin, "demo", "--no-serve"], cwd=work, env=env, check=True, stdout=subprocess.DEVNULL)
    print(f"demo data loaded in {time.time() - t0:.1f} s ({args.backend})")
    server, base = start_server(args.bin, env, cwd=work)
    try:
        admin = Client(base)
        admin.login("admin", PASSWORD)
        # The heaviest buyer: the most orders, so the page also carries real purchase history.
        best, best_n = None, -1
        page = admin.api("GET", "/customers?limit=200&sort=id&order=asc")
        for c in page["items"]:
            n = len(admin.api("GET", f"/customers/{c['id']}/timeline?limit=1000"))
            if n > best_n:
                best, best_n = c, n
        cid = best["id"]
        existing = best_n
        need = 500 - existing
        for i in range(max(need, 0)):
            if i % 5 == 4:
                admin.api("POST", f"/customers/{cid}/tasks", {"title": f"跟进 #{i}", "due_at": "2026-01-01T01:00:00Z"})
            else:
                admin.api("POST", f"/customers/{cid}/interactions",
                          {"channel": ["phone", "wechat", "email", "face_to_face"][i % 4],
                           "subject": f"回访 #{i}", "body": "客户询问新品与配送时间。" * 3,
                           "occurred_at": f"2025-{1 + i % 12:02d}-{1 + i % 28:02d}T08:00:00Z"})
        total = len(admin.api("GET", f"/customers/{cid}/timeline?limit=1000"))
        print(f"customer {cid} ({best['name']}): {total} timeline entries ({existing} before, orders included)")
        assert total >= 500, total

        rows = []
        for who in ["manager", "admin"]:
            c = Client(base)
            c.login(who, PASSWORD)
            for _ in range(20):  # warm-up
                c.page(f"/customers/{cid}")
            server_ms, wall_ms = [], []
            for _ in range(args.requests):
                status, body, s, w = c.page(f"/customers/{cid}")
                assert status == 200 and b"customer-name" in body
                server_ms.append(s)
                wall_ms.append(w)
            rows.append((who, len(body), summary(server_ms), summary(wall_ms)))
            older = []
            for _ in range(args.requests // 3):
                _, _, s, _ = c.page(f"/customers/{cid}/timeline?before=1767225600000")
                older.append(s)
            rows.append((f"{who}: older-entries fragment", 0, summary(older), None))
        dash = []
        for who in ["manager", "admin", "sales.east"]:
            c = Client(base)
            c.login(who, PASSWORD)
            for _ in range(20):  # warm-up
                c.page("/")
            server_ms, wall_ms = [], []
            for _ in range(args.requests):
                status, body, s, w = c.page("/")
                assert status == 200 and b"stat-customers" in body
                server_ms.append(s)
                wall_ms.append(w)
            dash.append((who, len(body), summary(server_ms), summary(wall_ms)))
        print()
        print(f"360 page, {args.requests} requests each, {args.backend}, customer with {total} timeline entries")
        print("| reader | page size (KiB) | server p50 (ms) | p95 | p99 | max | client wall p50 (ms) |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for who, size, s, w in rows:
            kib = f"{size / 1024:.0f}" if size else "—"
            wall = f"{w[0]:.2f}" if w else "—"
            print(f"| {who} | {kib} | {s[0]:.2f} | {s[1]:.2f} | {s[2]:.2f} | {s[3]:.2f} | {wall} |")
        worst_p95 = max(r[2][1] for r in rows)
        print(f"\ntarget (issue #4): server time < 50 ms — {'met' if worst_p95 < 50 else 'NOT met'} (worst p95 {worst_p95:.2f} ms)")
        print()
        print(f"dashboard (GET /), {args.requests} requests each, {args.backend}")
        print("| reader | page size (KiB) | server p50 (ms) | p95 | p99 | max | client wall p50 (ms) |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for who, size, s, w in dash:
            print(f"| {who} | {size / 1024:.0f} | {s[0]:.2f} | {s[1]:.2f} | {s[2]:.2f} | {s[3]:.2f} | {w[0]:.2f} |")
        worst = max(r[2][1] for r in dash)
        print(f"\ntarget (issue #11): dashboard server time < 20 ms — {'met' if worst < 20 else 'NOT met'} (worst p95 {worst:.2f} ms)")
    finally:
        server.terminate()
        server.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
