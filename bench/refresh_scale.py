#!/usr/bin/env python3
"""Score refresh at scale: fills a database with N customers and M orders (1–3 lines each,
200 products), then times `guanxi scores refresh` (extract, compute, write) on it.

    python3 bench/refresh_scale.py --backend sqlite   [--customers 1000000 --orders 10000000]
    python3 bench/refresh_scale.py --backend postgres [--pg postgres://postgres@127.0.0.1:5432/test]

Uses the release binary (`cargo build --release -p guanxi` first). The data are generated in
SQL (SQLite: recursive CTE via Python's sqlite3; PostgreSQL: generate_series via psql), so
generation is not what is measured. A third of the orders go to a tenth of the customers
(heavy buyers), order days spread over three years, baskets share products so FP-growth finds
pairs. Standard library only.
"""
import argparse
import os
import re
import sqlite3
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target", "release", "guanxi")
YEARS3_MS = 3 * 365 * 86_400_000


def run(cmd, **kw):
    t = time.time()
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)
    return time.time() - t, out.stdout + out.stderr


def fill_sqlite(path, customers, orders, now_ms):
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=OFF")
    con.execute(
        f"""WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {customers})
        INSERT INTO customers (id, kind, name, name_pinyin, name_initials, lifecycle_stage, tags,
            source_channel, source_direct, source_collected_at, version, created_at, updated_at)
        SELECT i, 'individual', 'Bench ' || i, 'bench' || i, 'b', 'active', '[]', 'import', 1, 0, 1,
            {now_ms - YEARS3_MS}, {now_ms - YEARS3_MS} FROM s""")
    con.execute(
        f"""WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 200)
        INSERT INTO products (id, sku, name, category, created_at)
        SELECT i, 'SKU-' || i, 'Product ' || i, 'cat' || (i % 12), {now_ms} FROM s""")
    heavy = customers // 10
    con.execute(
        f"""WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {orders})
        INSERT INTO orders (id, customer_id, ordered_at, total_minor, currency, channel, store, created_at)
        SELECT i,
            1 + CASE WHEN abs(random()) % 3 = 0 THEN abs(random()) % {heavy} ELSE abs(random()) % {customers} END,
            {now_ms} - abs(random()) % {YEARS3_MS}, 1000 + abs(random()) % 50000, 'CNY',
            CASE i % 4 WHEN 0 THEN 'store' WHEN 1 THEN 'online' WHEN 2 THEN 'wechat' ELSE 'phone' END,
            CASE WHEN i % 4 = 0 THEN 'Store ' || (i % 20) END, {now_ms} FROM s""")
    con.execute(
        """INSERT INTO order_lines (order_id, line_no, product_id, quantity, unit_price_minor, amount_minor)
        SELECT o.id, n.k, 1 + (((o.id * 31) % 190) + n.k * 3 + abs(random()) % 3) % 200, 1, 1000, 1000
        FROM orders o JOIN (SELECT 1 AS k UNION ALL SELECT 2 UNION ALL SELECT 3) n ON n.k <= 1 + o.id % 3""")
    con.commit()
    con.execute("ANALYZE")
    con.close()


def fill_postgres(url, customers, orders, now_ms):
    heavy = customers // 10
    sql = f"""
    SET synchronous_commit = off;
    INSERT INTO customers (id, kind, name, name_pinyin, name_initials, lifecycle_stage, tags,
        source_channel, source_direct, source_collected_at, version, created_at, updated_at)
    SELECT i, 'individual', 'Bench ' || i, 'bench' || i, 'b', 'active', '[]', 'import', TRUE, 0, 1,
        {now_ms - YEARS3_MS}, {now_ms - YEARS3_MS} FROM generate_series(1, {customers}) i;
    INSERT INTO products (id, sku, name, category, created_at)
    SELECT i, 'SKU-' || i, 'Product ' || i, 'cat' || (i % 12), {now_ms} FROM generate_series(1, 200) i;
    INSERT INTO orders (id, customer_id, ordered_at, total_minor, currency, channel, store, created_at)
    SELECT i,
        1 + CASE WHEN random() < 1.0/3 THEN floor(random() * {heavy}) ELSE floor(random() * {customers}) END,
        {now_ms} - floor(random() * {YEARS3_MS})::bigint, 1000 + floor(random() * 50000)::bigint, 'CNY',
        CASE i % 4 WHEN 0 THEN 'store' WHEN 1 THEN 'online' WHEN 2 THEN 'wechat' ELSE 'phone' END,
        CASE WHEN i % 4 = 0 THEN 'Store ' || (i % 20) END, {now_ms} FROM generate_series(1, {orders}) i;
    INSERT INTO order_lines (order_id, line_no, product_id, quantity, unit_price_minor, amount_minor)
    SELECT o.id, n.k, 1 + (((o.id * 31) % 190) + n.k * 3 + floor(random() * 3)::bigint) % 200, 1, 1000, 1000
    FROM orders o JOIN (VALUES (1), (2), (3)) n(k) ON n.k <= 1 + o.id % 3;
    SELECT setval(pg_get_serial_sequence('customers', 'id'), {customers});
    SELECT setval(pg_get_serial_sequence('orders', 'id'), {orders});
    SELECT setval(pg_get_serial_sequence('order_lines', 'id'), (SELECT max(id) FROM order_lines));
    SELECT setval(pg_get_serial_sequence('products', 'id'), 200);
    ANALYZE;
    """
    subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", url], input=sql, text=True, check=True,
                   capture_output=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--backend", choices=["sqlite", "postgres"], required=True)
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--orders", type=int, default=10_000_000)
    ap.add_argument("--sqlite", default="/tmp/guanxi-bench.db")
    ap.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432/test")
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--keep", action="store_true", help="reuse an already filled database")
    ap.add_argument("--bin", default=BIN, help="the guanxi binary (default: the release build)")
    a = ap.parse_args()
    bin_ = a.bin
    if not os.path.exists(bin_):
        sys.exit(f"build the release binary first: cargo build --release -p guanxi ({bin_} missing)")
    now_ms = int(time.time() * 1000)
    if a.backend == "sqlite":
        url = f"sqlite://{a.sqlite}"
        if not a.keep:
            for suffix in ("", "-wal", "-shm"):
                if os.path.exists(a.sqlite + suffix):
                    os.remove(a.sqlite + suffix)
    else:
        schema = "guanxi_bench"
        if not a.keep:
            subprocess.run(["psql", "-q", a.pg, "-c", f"DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"],
                           check=True, capture_output=True)
        sep = "&" if "?" in a.pg else "?"
        url = f"{a.pg}{sep}options=-c%20search_path%3D{schema}"
    if not a.keep:
        run([bin_, "migrate", "--database-url", url])
        t = time.time()
        if a.backend == "sqlite":
            fill_sqlite(a.sqlite, a.customers, a.orders, now_ms)
        else:
            fill_postgres(url, a.customers, a.orders, now_ms)
        print(f"generated {a.customers:,} customers and {a.orders:,} orders in {time.time() - t:.0f} s "
              f"({a.backend}; not part of the measurement)")
    print(f"{'run':>4} {'wall s':>8} {'extract s':>10} {'compute s':>10} {'write s':>8} {'pairs s':>8}  customers  orders")
    for i in range(a.runs):
        wall, out = run([bin_, "scores", "refresh", "--database-url", url])
        m = re.search(r"scored (\d+) customers from (\d+) orders .*extract (\d+) ms, compute (\d+) ms, "
                      r"write (\d+) ms, product pairs (\d+) ms", out)
        if not m:
            sys.exit(f"unexpected output: {out}")
        n, o, ex, co, wr, pa = (int(x) for x in m.groups())
        print(f"{i + 1:>4} {wall:>8.1f} {ex / 1000:>10.1f} {co / 1000:>10.1f} {wr / 1000:>8.1f} {pa / 1000:>8.1f}  {n:>9,} {o:>9,}")
        for line in out.splitlines():
            if line.startswith(("skipped", "compute steps")):
                print("     ", line)


if __name__ == "__main__":
    main()
