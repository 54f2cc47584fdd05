#!/usr/bin/env python3
"""Identification at 1 M customers: server time of `GET /api/v1/customers/identify` for every
kind of query, beside the database's own floor on the same file.

Writes a CSV of N customers (surnames weighted as in China, so a common name such as 张伟 is
shared by hundreds; a unique mobile each, an email for half), loads it with `guanxi import
customers` (kept between runs with --reuse), serves it with the release binary and asks each
kind of query `--requests` times as a signed-in admin. Server time is the `Server-Timing`
header (inside the server, no network). Then a few client threads ask a mix of all kinds for
`--seconds` to give requests per second.

The floor is the database alone answering the same question with one index lookup and no
application: on SQLite Python's sqlite3 on the same file (a keyed range read of ten search keys,
or the contact point by its value), on PostgreSQL the same statement's `EXPLAIN ANALYZE`
execution time.

    cargo build --release -p guanxi
    python3 bench/identify_scale.py --backend sqlite   [--customers 1000000 --reuse]
    python3 bench/identify_scale.py --backend postgres [--pg postgres://postgres@127.0.0.1:5432/test]

Standard library only.
"""
import argparse
import csv
import json
import os
import random
import re
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request

from serving import Client, percentile, start_server

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target", "release", "guanxi")
PASSWORD = "bench-identify-password"
# The most common surnames with their approximate share of the population (percent), then a
# long tail.
SURNAMES = [("王", 7.1), ("李", 7.0), ("张", 6.6), ("刘", 5.4), ("陈", 4.5), ("杨", 3.1), ("黄", 2.1),
            ("赵", 2.0), ("吴", 1.9), ("周", 1.9), ("徐", 1.5), ("孙", 1.5), ("马", 1.3), ("朱", 1.3),
            ("胡", 1.2), ("郭", 1.1), ("何", 1.1), ("高", 1.0), ("林", 1.0), ("罗", 0.9)]
TAIL = "郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华玉萍红娥玲芬燕彬鹏辉建国丹宇浩波宁博文婷"
CITIES = ["上海", "北京", "广州", "深圳", "杭州", "成都", "武汉", "南京", "苏州", "西安"]


def mobile(n):
    # 7919 is prime to 10^9, so n -> n * 7919 mod 10^9 is one-to-one: a unique, valid 13x number.
    return f"13{(n * 7919) % 1_000_000_000:09d}"


def write_csv(path, rows, seed=7):
    rnd = random.Random(seed)
    names = [s for s, _ in SURNAMES] + list(TAIL)
    weights = [w for _, w in SURNAMES] + [30.0 / len(TAIL)] * len(TAIL)
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["姓名", "手机", "email", "city"])
        for n in range(rows):
            surname = rnd.choices(names, weights)[0]
            given = "".join(rnd.choice(GIVEN) for _ in range(1 if rnd.random() < 0.35 else 2))
            email = f"user{n}@example.com" if n % 2 == 0 else ""
            w.writerow([surname + given, mobile(n), email, rnd.choice(CITIES)])


def run(cmd, **kw):
    out = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if out.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{out.stdout}{out.stderr}")
    return out.stdout + out.stderr


def identify(client, q):
    status, body, server, _ = client.page(f"/api/v1/customers/identify?limit=10&q={urllib.parse.quote(q)}")
    return json.loads(body), server


def queries(rows, rnd, n):
    """Each kind of query, n of each (drawn from what is on file)."""
    ids = [rnd.randrange(rows) for _ in range(n)]
    return {
        "full mobile": [mobile(i) for i in ids],
        "mobile typed +86 with spaces": [f"+86 {mobile(i)[:3]} {mobile(i)[3:7]} {mobile(i)[7:]}" for i in ids],
        "email": [f"user{i - i % 2}@example.com" for i in ids],
        "4-digit phone prefix": [f"13{rnd.randrange(100):02d}" for _ in range(n)],
        "partial phone '138 1234'": [f"13{rnd.randrange(10)} {rnd.randrange(10000):04d}" for _ in range(n)],
        "common name 张伟": ["张伟"] * n,
        "pinyin zhangwei": ["zhangwei"] * n,
        "spaced pinyin 'zhang wei'": ["zhang wei"] * n,
        "initials zw": ["zw"] * n,
        "one character 伟": ["伟"] * n,
        "surname + digits '王 1391'": [f"王 13{rnd.randrange(10)}{rnd.randrange(10)}" for _ in range(n)],
        "no match": [f"nobody{rnd.randrange(10**6)}" for _ in range(n)],
    }


def floor_sql(kind, q):
    """The one index lookup the database would do for a query of this kind."""
    if kind in ("full mobile", "mobile typed +86 with spaces"):
        digits = re.sub(r"\D", "", q)
        v = "+" + digits if digits.startswith("86") else "+86" + digits
        return "SELECT customer_id FROM contact_points WHERE value_normalized = ? LIMIT 10", [v]
    if kind == "email":
        return "SELECT customer_id FROM contact_points WHERE value_normalized = ? LIMIT 10", [q]
    key = re.sub(r"\s", "", q) if not kind.startswith("surname") else q.split()[0]
    table_kind = "phone" if key.isdigit() else "name"
    return ("SELECT customer_id FROM customer_search_keys WHERE kind = ? AND search_key >= ? "
            "AND search_key < ? LIMIT 10", [table_kind, key, key + "\U0010ffff"])


def floor_sqlite(path, qs):
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    out = {}
    for kind, items in qs.items():
        ms = []
        for q in items:
            sql, args = floor_sql(kind, q)
            t = time.perf_counter()
            con.execute(sql, args).fetchall()
            ms.append((time.perf_counter() - t) * 1000)
        out[kind] = ms
    return out


def floor_postgres(url, qs):
    out = {}
    for kind, items in qs.items():
        stmts = []
        for q in items[:50]:
            sql, args = floor_sql(kind, q)
            for a in args:
                sql = sql.replace("?", "'" + a.replace("'", "''") + "'", 1)
            stmts.append(f"EXPLAIN (ANALYZE, FORMAT TEXT) {sql};")
        text = run(["psql", "-X", "-q", url], input="\n".join(stmts))
        out[kind] = [float(x) for x in re.findall(r"Execution Time: ([\d.]+) ms", text)]
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--backend", choices=["sqlite", "postgres"], required=True)
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--requests", type=int, default=200, help="per kind of query")
    ap.add_argument("--seconds", type=float, default=5.0, help="of the concurrent mix")
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--reuse", action="store_true", help="keep a database loaded by an earlier run")
    ap.add_argument("--sqlite", default="/tmp/guanxi-identify-bench.db")
    ap.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432/test")
    ap.add_argument("--csv", default="/tmp/guanxi-identify-bench.csv")
    ap.add_argument("--bin", default=BIN)
    a = ap.parse_args()
    if not os.path.exists(a.bin):
        sys.exit(f"build the release binary first: cargo build --release -p guanxi ({a.bin} missing)")
    if a.backend == "sqlite":
        url = f"sqlite://{a.sqlite}"
        loaded = os.path.exists(a.sqlite)
    else:
        schema = "guanxi_identify_bench"
        url = f"{a.pg}{'&' if '?' in a.pg else '?'}options=-c%20search_path%3D{schema}"
        loaded = "1" in run(["psql", "-X", "-tAq", a.pg, "-c",
                             f"SELECT count(*) FROM information_schema.schemata WHERE schema_name = '{schema}'"])
    if not (a.reuse and loaded):
        if not os.path.exists(a.csv) or sum(1 for _ in open(a.csv, encoding="utf-8")) != a.customers + 1:
            write_csv(a.csv, a.customers)
        if a.backend == "sqlite":
            for suffix in ("", "-wal", "-shm"):
                if os.path.exists(a.sqlite + suffix):
                    os.remove(a.sqlite + suffix)
        else:
            run(["psql", "-X", "-q", a.pg, "-c", f"DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"])
        run([a.bin, "migrate", "--database-url", url])
        t = time.time()
        run([a.bin, "import", "customers", a.csv, "--map", "姓名=name", "--map", "手机=mobile",
             "--on-duplicate", "create", "--database-url", url])
        print(f"loaded {a.customers:,} customers with guanxi import in {time.time() - t:.0f} s")
        run([a.bin, "user", "add", "bench", "--role", "admin", "--password-stdin", "--database-url", url],
            input=PASSWORD + "\n")
    if a.backend == "postgres":
        run(["psql", "-X", "-q", url, "-c", "ANALYZE"])

    server, base = start_server(a.bin, dict(os.environ, RUST_LOG="warn"), ["--database-url", url])
    try:
        c = Client(base)
        c.login("bench", PASSWORD)
        rnd = random.Random(11)
        qs = queries(a.customers, rnd, a.requests)
        for items in qs.values():  # warm-up
            for q in items[:10]:
                identify(c, q)
        app, hits = {}, {}
        for kind, items in qs.items():
            ms, n = [], []
            for q in items:
                h, s = identify(c, q)
                ms.append(s)
                n.append(len(h))
            app[kind], hits[kind] = ms, sorted(n)[len(n) // 2]
        floor = floor_sqlite(a.sqlite, qs) if a.backend == "sqlite" else floor_postgres(url, qs)

        done, stop = [0], time.time() + a.seconds
        mix = [q for items in qs.values() for q in items]

        def worker(seed):
            cl = Client(base)
            cl.login("bench", PASSWORD)
            r = random.Random(seed)
            while time.time() < stop:
                identify(cl, r.choice(mix))
                done[0] += 1

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(a.threads)]
        t0 = time.time()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        rps = done[0] / (time.time() - t0)

        print(f"\nidentify at {a.customers:,} customers, {a.backend}, {a.requests} requests per kind, limit 10")
        print("| query | hits (median) | server p50 (ms) | p99 | floor p50 (ms) | floor p99 |")
        print("|---|---:|---:|---:|---:|---:|")
        worst = 0.0
        for kind in qs:
            p99 = percentile(app[kind], 0.99)
            worst = max(worst, p99)
            f = floor[kind]
            print(f"| {kind} | {hits[kind]} | {percentile(app[kind], 0.5):.2f} | {p99:.2f} | "
                  f"{percentile(f, 0.5):.3f} | {percentile(f, 0.99):.3f} |")
        print(f"\n{a.threads} client threads, mixed queries for {a.seconds:.0f} s: {rps:,.0f} requests/s "
              f"(client and server share this machine's cores)")
        print(f"target (issue #11): p99 < 5 ms for every kind — {'met' if worst < 5 else 'NOT met'} "
              f"(worst p99 {worst:.2f} ms)")
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
