#!/usr/bin/env python3
"""Orders through the import wizard (issue #18): a till export of N order lines (1–4 lines per
order, the buyer named by a mobile of a book customer, 5 % of the orders repeating an order
number already on file) uploaded to a running server, previewed (every row checked, every buyer
and number looked up), then run as a job, timed from the upload's first byte to the job's end.
Beside it, on the same file and database: the floor, Python's sqlite3 writing the same orders
and lines with no checks, no buyer lookup, no timeline, no undo record (SQLite only).

    cargo build --release -p guanxi
    python3 bench/import_orders.py --backend sqlite   [--lines 100000 --book 100000 --dup 0.05]
    python3 bench/import_orders.py --backend postgres [--pg postgres://postgres@127.0.0.1:5432/test]

Standard library only; reuses import_scale.py's book filler and serving.py's client.
"""
import argparse
import csv
import os
import random
import sqlite3
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import import_scale  # noqa: E402
import import_wizard  # noqa: E402
HEADER = ["订单号", "会员手机", "下单时间", "商品编码", "商品名称", "数量", "单价"]


def write_csv(path, lines, book, seed):
    """Order lines grouped by order number; returns (orders, lines) written."""
    rnd = random.Random(seed)
    orders = 0
    written = 0
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(HEADER)
        while written < lines:
            orders += 1
            buyer = rnd.randint(1, book)
            day = f"2025-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d} {rnd.randint(9, 21):02d}:{rnd.randint(0, 59):02d}"
            for _ in range(min(rnd.randint(1, 4), lines - written)):
                sku = rnd.randint(1, 200)
                w.writerow([f"T{orders:08d}", f"15{buyer:09d}", day, f"SKU-{sku:03d}", f"商品{sku}",
                            rnd.randint(1, 3), f"{rnd.randint(5, 500)}.{rnd.randint(0, 99):02d}"])
                written += 1
    return orders, written


def seed_on_file(a, url, csv_path, dup, now_ms):
    """Stores every `1/dup`-th order of the file already (one line, by SQL), so that the
    preview finds those numbers on file; returns how many."""
    every = round(1 / dup) if dup > 0 else 0
    refs = []
    with open(csv_path, encoding="utf-8") as f:
        seen = set()
        for row in csv.DictReader(f):
            r = row["订单号"]
            if r in seen:
                continue
            seen.add(r)
            if every and len(seen) % every == 0:
                refs.append((r, int(row["会员手机"][2:])))
    sql = "".join(
        f"INSERT INTO orders (customer_id, ordered_at, total_minor, currency, channel, external_ref, created_at) "
        f"VALUES ({c}, {now_ms}, 100, 'CNY', 'store', '{r}', {now_ms});\n" for r, c in refs)
    if a.backend == "sqlite":
        con = sqlite3.connect(a.sqlite)
        con.executescript("BEGIN;" + sql + "COMMIT;")
        con.close()
    else:
        subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", url.split("?")[0]],
                       input="SET search_path = guanxi_import_bench;\nBEGIN;\n" + sql + "COMMIT;\n",
                       text=True, check=True, capture_output=True)
    return len(refs)


def floor_sqlite(path, csv_path, now_ms):
    """The same orders and lines written by Python's sqlite3 with no checks."""
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=WAL")
    t = time.perf_counter()
    with open(csv_path, encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    cur = con.cursor()
    cur.execute("BEGIN")
    products = {}
    order_id = None
    last_ref = None
    for r in rows:
        if r["订单号"] != last_ref:
            last_ref = r["订单号"]
            cur.execute("INSERT INTO orders (customer_id, ordered_at, total_minor, currency, channel, external_ref, "
                        "created_at) VALUES (?, ?, 0, 'CNY', 'store', ?, ?)",
                        (int(r["会员手机"][2:]), now_ms, "F" + last_ref, now_ms))
            order_id = cur.lastrowid
        sku = r["商品编码"]
        if sku not in products:
            cur.execute("INSERT INTO products (sku, name, created_at) VALUES (?, ?, ?) ON CONFLICT (sku) DO NOTHING",
                        (sku, r["商品名称"], now_ms))
            products[sku] = cur.execute("SELECT id FROM products WHERE sku = ?", (sku,)).fetchone()[0]
        price = round(float(r["单价"]) * 100)
        cur.execute("INSERT INTO order_lines (order_id, line_no, product_id, quantity, unit_price_minor, amount_minor) "
                    "VALUES (?, 1, ?, ?, ?, ?)", (order_id, products[sku], int(r["数量"]), price,
                                                  price * int(r["数量"])))
    con.commit()
    con.close()
    return time.perf_counter() - t


def wizard(a, url, orders, on_file):
    server, c = import_wizard.serve_as_admin(a, url)
    try:
        t0 = time.perf_counter()
        b = import_wizard.multipart(c, "/imports", a.csv, entity="orders")
        t_upload = time.perf_counter()
        p = c.api("GET", f"/imports/{b['id']}/preview")
        t_preview = time.perf_counter()
        if p["skips"] != on_file or p["inserts"] != orders - on_file or p["invalid"] != 0:
            sys.exit(f"preview: {p['inserts']} orders, {p['skips']} on file, {p['invalid']} invalid; "
                     f"expected {orders - on_file}, {on_file}, 0: {p['problems'][:3]}")
        c.api("POST", f"/imports/{b['id']}/start")
        st = import_wizard.wait_done(c, b["id"])
        t_done = time.perf_counter()
        i = st["import"]
        if i["status"] != "done" or i["inserted"] != orders - on_file:
            sys.exit(f"unexpected outcome: {st}")
        return t_upload - t0, t_preview - t_upload, t_done - t_preview, t_done - t0
    finally:
        server.terminate()
        server.wait()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--backend", choices=["sqlite", "postgres"], required=True)
    ap.add_argument("--lines", type=int, default=100_000)
    ap.add_argument("--book", type=int, default=100_000, help="customers already stored")
    ap.add_argument("--dup", type=float, default=0.05, help="share of orders already on file")
    ap.add_argument("--sqlite", default="/tmp/guanxi-orders-bench.db")
    ap.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432/test")
    ap.add_argument("--csv", default="/tmp/guanxi-orders-bench.csv")
    ap.add_argument("--bin", default=import_scale.BIN)
    a = ap.parse_args()
    if not os.path.exists(a.bin):
        sys.exit(f"build the release binary first: cargo build --release -p guanxi ({a.bin} missing)")
    now_ms = int(time.time() * 1000)
    orders, lines = write_csv(a.csv, a.lines, a.book, 12)
    print(f"{lines:,} order lines in {orders:,} orders in {a.csv}; book {a.book:,}; backend {a.backend}")
    print(f"{'step':>40} {'wall s':>8} {'lines/s':>10} {'orders/s':>10}")
    if a.backend == "sqlite":
        import_scale.fresh(a, a.book, now_ms)
        s = floor_sqlite(a.sqlite, a.csv, now_ms)
        print(f"{'floor: python sqlite3, no checks':>40} {s:>8.2f} {lines / s:>10,.0f} {orders / s:>10,.0f}")
    url = import_scale.fresh(a, a.book, now_ms)
    on_file = seed_on_file(a, url, a.csv, a.dup, now_ms)
    upload, preview, run, total = wizard(a, url, orders, on_file)
    written = orders - on_file
    print(f"{'wizard: upload':>40} {upload:>8.2f}")
    print(f"{'wizard: dry run (preview)':>40} {preview:>8.2f} {lines / preview:>10,.0f}")
    print(f"{'wizard: start → done (job)':>40} {run:>8.2f} {lines / run:>10,.0f} {written / run:>10,.0f}")
    print(f"{'wizard: end to end':>40} {total:>8.2f} {lines / total:>10,.0f} {written / total:>10,.0f}")
    print(f"({on_file:,} orders already on file skipped; {written:,} written)")


if __name__ == "__main__":
    main()
