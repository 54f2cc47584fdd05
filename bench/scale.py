#!/usr/bin/env python3
"""Every page and call at 1 M customers (issue #13): a fixed query mix against a demo book of
`--customers` (default 1,000,000: 2 M orders, 4.7 M order lines, 1.4 M interactions), each
figure printed beside its budget.

Builds the book with `guanxi demo --customers N --no-serve` (timed; kept between runs with
--reuse), serves it with the release binary (overload guard off: one client address measures
the server itself), and asks, as the demo's users:

* dashboard `GET /` as admin, manager and a sales rep;
* the customer list API with each filter and each sort, as admin and as a rep;
* the customer 360 page of the customer with the most orders;
* segment previews: the marketer's three clauses (city, spend in the last year, RFM segment)
  and rules on the kept purchase facts (big spenders, this month's buyers, recent repeat
  buyers in a tier);
* the list of saved segments (page and API), with sizes the background job counted;
* identification of each kind, and the search-as-you-type fragment;
* `wrk` throughput of identify with an API token (Debian package `wrk`);
* the server's peak RSS (VmHWM) at the end.

Server time is the `Server-Timing` header (inside the server, no network).

    cargo build --release -p guanxi
    python3 bench/scale.py --backend sqlite   [--reuse] [--customers 1000000] [--db /path/book.db]
    python3 bench/scale.py --backend postgres [--reuse] [--pg postgres://postgres@127.0.0.1:5432/guanxi_scale]

Standard library only (PostgreSQL is read with `psql`).
"""
import argparse
import json
import os
import re
import sqlite3
import subprocess
import sys
import time
import urllib.parse
import urllib.request

from serving import Client, percentile, start_server

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target", "release", "guanxi")
PASSWORD = "bench-scale-password"

LIST_FILTERS = [
    ("none", ""), ("city=上海", "city=上海"), ("stage=dormant", "lifecycle_stage=dormant"),
    ("kind=company", "kind=company"), ("source=website", "source_channel=website"),
    ("tag=vip", "tag=vip"), ("tag nobody has", "tag=nobody-has-this"), ("tier=A", "tier=A"),
    ("q=zhang", "q=zhang"), ("city+tag", "city=上海&tag=vip"),
]
SORTS = ["updated_at", "name", "created_at", "id"]

# Segment rules previewed, and saved as "bench: <name>" for the list of segments.
PREVIEW_RULES = [
    ("3 clauses: city, spend 365 d, RFM", [
        {"field": "city", "op": "eq", "value": "上海"},
        {"field": "total_spend", "op": "gte", "value": "500", "days": "365"},
        {"field": "rfm_segment", "op": "eq", "value": "champions"}]),
    ("spend >= 20000 in 365 d", [
        {"field": "total_spend", "op": "gte", "value": "20000", "days": "365"}]),
    ("ordered in 30 d", [{"field": "order_count", "op": "gte", "value": "1", "days": "30"}]),
    ("tier A, >= 2 orders in 90 d", [
        {"field": "tier", "op": "eq", "value": "A"},
        {"field": "order_count", "op": "gte", "value": "2", "days": "90"}]),
    ("last order within 7 d, city", [
        {"field": "last_order", "op": "within", "value": "7"},
        {"field": "city", "op": "eq", "value": "北京"}]),
]
SECTIONS = ["dashboard", "list", "360", "segments", "identify", "wrk"]


def sql(args, query):
    """Rows of a query on the book (Python's sqlite3, or psql for PostgreSQL)."""
    if args.backend == "sqlite":
        con = sqlite3.connect(f"file:{args.db}?mode=ro", uri=True)
        try:
            return con.execute(query).fetchall()
        finally:
            con.close()
    out = subprocess.run(["psql", args.pg, "-At", "-F", "\t", "-c", query], capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(out.stderr)
    return [tuple(line.split("\t")) for line in out.stdout.splitlines() if line]


def database_url(args):
    return f"sqlite://{args.db}" if args.backend == "sqlite" else args.pg


def build(args):
    """Creates the demo book unless --reuse finds one; returns the seconds it took (or None)."""
    if args.backend == "sqlite":
        exists = os.path.exists(args.db)
        if exists and not args.reuse:
            for suffix in ("", "-wal", "-shm"):
                if os.path.exists(args.db + suffix):
                    os.remove(args.db + suffix)
            exists = False
    else:
        admin = args.pg.rsplit("/", 1)[0] + "/postgres"
        name = args.pg.rsplit("/", 1)[1]
        exists = bool(sql(argparse.Namespace(backend="postgres", pg=admin),
                          f"SELECT 1 FROM pg_database WHERE datname = '{name}'"))
        if exists and args.reuse:
            exists = bool(sql(args, "SELECT 1 FROM information_schema.tables WHERE table_name = 'customers'"))
        else:
            if exists:
                subprocess.run(["psql", admin, "-c", f"DROP DATABASE {name}"], check=True, capture_output=True)
            subprocess.run(["psql", admin, "-c", f"CREATE DATABASE {name}"], check=True, capture_output=True)
            exists = False
    if exists:
        return None
    env = {**os.environ, "GUANXI_DATABASE_URL": database_url(args), "GUANXI_DEMO_PASSWORD": PASSWORD,
           "RUST_LOG": "error"}
    t0 = time.perf_counter()
    out = subprocess.run([BIN, "demo", "--customers", str(args.customers), "--no-serve"], env=env,
                         capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"guanxi demo failed:\n{out.stdout}{out.stderr}")
    print(out.stdout.strip())
    return time.perf_counter() - t0


def timed(client, path, n):
    times = []
    for _ in range(n):
        _, _, server, _ = client.page(path)
        times.append(server)
    return times


def timed_post(client, path, body, n):
    """Server time of a JSON POST (the preview), from `Server-Timing`."""
    times = []
    for _ in range(n):
        req = urllib.request.Request(client.base + path, data=json.dumps(body).encode(), method="POST")
        req.add_header("content-type", "application/json")
        req.add_header("x-csrf-token", client.csrf)
        with client.opener.open(req) as r:
            r.read()
            timing = r.headers.get("server-timing", "")
        times.append(float(timing.split("dur=")[1]))
    return times


def row(name, times, budget):
    p50, p99 = percentile(times, 0.5), percentile(times, 0.99)
    ok = "ok" if p99 < budget else "OVER"
    print(f"| {name} | {len(times)} | {p50:.2f} | {p99:.2f} | < {budget:g} | {ok} |", flush=True)
    return p99 < budget


def wrk(base, token, queries, seconds):
    """Requests per second of identify with a bearer token (wrk, 4 connections, 2 threads)."""
    script = os.path.join(ROOT, "target", "scale_identify.lua")
    paths = [f"/api/v1/customers/identify?limit=10&q={urllib.parse.quote(q)}" for q in queries]
    with open(script, "w") as f:
        f.write("local paths = {" + ",".join(json.dumps(p) for p in paths) + "}\n"
                "local i = 0\n"
                f"wrk.headers['Authorization'] = 'Bearer {token}'\n"
                "request = function()\n  i = i % #paths + 1\n  return wrk.format('GET', paths[i])\nend\n")
    out = subprocess.run(["wrk", "-t2", "-c4", f"-d{seconds}s", "-s", script, base], capture_output=True, text=True)
    m = re.search(r"Requests/sec:\s+([0-9.]+)", out.stdout)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out.stdout)
    return float(m.group(1)) if m else float("nan"), int(non2xx.group(1)) if non2xx else 0


def segments(admin, rep, n):
    """The list of segments once the background job has counted them (the rules below saved as
    "bench: <name>" if missing; the server counts every minute here), then a preview of each
    rule, timed right after a count so that the next one (a minute later) does not run beside."""
    good = True
    saved = {s["name"] for s in admin.api("GET", "/segments")}
    for name, clauses in PREVIEW_RULES:
        if f"bench: {name}" not in saved:
            admin.api("POST", "/segments", {"name": f"bench: {name}", "description": "bench/scale.py",
                                            "rule": {"match": "all", "clauses": clauses}})
    deadline = time.time() + 600
    for who, c in [("admin", admin), ("sales rep", rep)]:
        while time.time() < deadline:
            if all(s["size_counted_at"] for s in c.api("GET", "/segments")):
                break
            time.sleep(1)
        else:
            print(f"| list of segments, {who} | sizes not counted within 10 minutes | | | | OVER |")
            good = False
            continue
        count = len(c.api("GET", "/segments"))
        timed(c, "/segments", 2)
        good &= row(f"list of {count} segments (page), {who}", timed(c, "/segments", n), 50)
        good &= row(f"list of {count} segments (API), {who}", timed(c, "/api/v1/segments", n), 50)
    for name, clauses in PREVIEW_RULES:
        body = {"rule": {"match": "all", "clauses": clauses}}
        timed_post(admin, "/api/v1/segments/preview", body, 1)
        good &= row(f"segment preview, {name}", timed_post(admin, "/api/v1/segments/preview", body, max(5, n // 5)), 200)
    return good


def finish(server, good):
    with open(f"/proc/{server.pid}/status") as f:
        hwm = next(int(line.split()[1]) for line in f if line.startswith("VmHWM"))
    print(f"server peak RSS: {hwm / 1024:.0f} MB (budget < 300 MB) {'ok' if hwm < 300 * 1024 else 'OVER'}")
    print("\nall within budget" if good else "\nsome figures are over budget")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--db", default=os.path.join(ROOT, "target", "scale.db"))
    ap.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432/guanxi_scale")
    ap.add_argument("--reuse", action="store_true", help="use the book from an earlier run")
    ap.add_argument("--requests", type=int, default=50, help="requests per figure")
    ap.add_argument("--seconds", type=int, default=10, help="wrk run length")
    ap.add_argument("--password", default=PASSWORD, help="the demo users' password (a book this script built uses its own)")
    ap.add_argument("--only", default=",".join(SECTIONS), help=f"comma-separated sections of {SECTIONS}")
    args = ap.parse_args()
    if not os.path.exists(BIN):
        sys.exit("build first: cargo build --release -p guanxi")
    took = build(args)
    if took is not None:
        print(f"guanxi demo --customers {args.customers}: {took:.0f} s (budget < 600 s)")

    only = set(args.only.split(","))
    env = {**os.environ, "GUANXI_DATABASE_URL": database_url(args), "RUST_LOG": "warn",
           "GUANXI_SCORES_REFRESH_HOURS": "0", "GUANXI_SEGMENT_SIZES_MINUTES": "1"}
    server, base = start_server(BIN, env)
    try:
        n = args.requests
        admin, manager, rep = Client(base), Client(base), Client(base)
        admin.login("admin", args.password)
        manager.login("manager", args.password)
        rep.login("sales.east", args.password)
        print(f"\n{args.backend}, {args.customers:,} customers; server time in ms\n")
        print("| query | requests | p50 | p99 | budget | |")
        print("|---|---:|---:|---:|---|---|")
        good = True
        for who, c in [("admin", admin), ("manager", manager), ("sales rep", rep)]:
            if "dashboard" not in only:
                break
            timed(c, "/", 2)
            good &= row(f"dashboard, {who}", timed(c, "/", n), 50)
        worst = []
        for who, c in [("admin", admin), ("rep", rep)] if "list" in only else []:
            for name, query in LIST_FILTERS:
                for sort in SORTS:
                    path = f"/api/v1/customers?limit=50&sort={sort}" + (f"&{query}" if query else "")
                    times = timed(c, urllib.parse.quote(path, safe="/?=&"), max(5, n // 5))
                    worst.append((percentile(times, 0.99), f"{who} {name} sort={sort}", times))
        worst.sort(reverse=True)
        if worst:
            all_lists = [t for _, _, ts in worst for t in ts]
            good &= row(f"customer list, all {len(worst)} filter x sort x reader", all_lists, 50)
            for p99, name, times in worst[:5]:
                row(f"  slowest: {name}", times, 50)

        if "360" in only:
            heavy = sql(args, "SELECT customer_id FROM orders GROUP BY customer_id ORDER BY COUNT(*) DESC LIMIT 1")[0][0]
            timed(admin, f"/customers/{heavy}", 2)
            good &= row(f"customer 360, heaviest customer (#{heavy})", timed(admin, f"/customers/{heavy}", n), 20)

        if "segments" in only:
            good &= segments(admin, rep, n)

        if "identify" not in only:
            return finish(server, good)
        mobile = sql(args, "SELECT value_normalized FROM contact_points WHERE kind = 'mobile' LIMIT 1 OFFSET 777")[0][0]
        email = sql(args, "SELECT value_normalized FROM contact_points WHERE kind = 'email' LIMIT 1 OFFSET 555")[0][0]
        digits = mobile[-11:]
        queries = [("full mobile", digits), ("4-digit prefix", digits[:4]), ("email", email),
                   ("common name 张伟", "张伟"), ("pinyin zhangwei", "zhangwei"), ("initials zw", "zw"),
                   ("spaced pinyin", "zhang wei"), ("name + digits", f"王 {digits[:4]}")]
        for name, q in queries:
            path = f"/api/v1/customers/identify?limit=10&q={urllib.parse.quote(q)}"
            timed(admin, path, 2)
            good &= row(f"identify, {name}", timed(admin, path, n), 5)
        good &= row("search fragment 'zhang'", timed(admin, "/search?q=zhang", n), 50)
        if "wrk" not in only:
            return finish(server, good)

        token = admin.api("POST", "/tokens", {"name": "bench"})["token"]
        try:
            rps, bad = wrk(base, token, [q for _, q in queries], args.seconds)
            ok = rps >= 5000 and bad == 0
            print(f"\nidentify throughput with a token (wrk -t2 -c4, mixed kinds): {rps:,.0f} req/s, "
                  f"{bad} non-2xx (budget >= 5,000 req/s on SQLite) {'ok' if ok else 'UNDER'}")
        except FileNotFoundError:
            print("\nwrk is not installed (apt-get install wrk): throughput not measured")
        finish(server, good)
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
