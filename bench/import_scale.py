#!/usr/bin/env python3
"""Customer import at scale: writes a CSV of N customers (Chinese and Latin names, a unique
mobile each, an email for half, city, gender, birthday, tags), then times
`guanxi import customers` into an empty database and into one that already holds B customers
(each with a mobile, an email and their identification keys, so duplicate detection and the
key indexes are as large as a real book's).

    python3 bench/import_scale.py --backend sqlite   [--rows 100000 --book 1000000]
    python3 bench/import_scale.py --backend postgres [--pg postgres://postgres@127.0.0.1:5432/test]

Beside Guanxi it runs the floor on the same file and database: Python's sqlite3 (or psql COPY)
loading the CSV's rows into the same tables with no validation, pinyin, duplicate check or
audit, which is as fast as the database itself takes these rows. Uses the release binary
(`cargo build --release --workspace` first). Standard library only.
"""
import argparse
import csv
import os
import random
import re
import sqlite3
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target", "release", "guanxi")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红娥玲芬燕彬鹏辉建国丹宇浩"
LATIN = ["Anna Schmidt", "John Smith", "Maria Garcia", "Li Wei", "Kim Min", "Sara Rossi"]
CITIES = ["上海", "北京", "广州", "深圳", "杭州", "成都", "武汉", "南京", "苏州", "西安"]
TAGS = ["vip", "wholesale", "new", "wechat", "referral"]


def write_csv(path, rows, offset, seed):
    rnd = random.Random(seed)
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["姓名", "手机", "email", "city", "gender", "birthday", "tags"])
        for i in range(rows):
            n = offset + i
            if rnd.random() < 0.05:
                name = rnd.choice(LATIN)
            else:
                name = rnd.choice(SURNAMES) + "".join(rnd.choice(GIVEN) for _ in range(rnd.choice((1, 2))))
            mobile = f"13{n:09d}"
            email = f"user{n}@example.com" if n % 2 == 0 else ""
            birthday = f"{rnd.randint(1950, 2005)}-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}"
            tags = ";".join(rnd.sample(TAGS, rnd.randint(0, 2)))
            w.writerow([name, mobile, email, rnd.choice(CITIES), rnd.choice(("male", "female")), birthday, tags])


def fill_sqlite(path, book, now_ms):
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=OFF")
    con.execute(
        f"""WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {book})
        INSERT INTO customers (id, kind, name, name_pinyin, name_initials, name_sort, lifecycle_stage, tags,
            source_channel, source_direct, source_collected_at, version, created_at, updated_at)
        SELECT i, 'individual', 'Book ' || i, 'book' || i, 'b', 'book ' || i, 'active', '[]', 'import', 1, 0, 1,
            {now_ms}, {now_ms} FROM s""")
    for kind, value in (("mobile", "'+8615' || printf('%09d', customer_id)"),
                        ("email", "'book' || customer_id || '@example.org'")):
        con.execute(
            f"""INSERT INTO contact_points (customer_id, kind, value_raw, value_normalized, is_primary,
                source_channel, source_direct, source_collected_at, created_at, updated_at)
            SELECT id, '{kind}', v, v, 1, 'import', 1, {now_ms}, {now_ms}, {now_ms}
            FROM (SELECT id, {value.replace('customer_id', 'id')} AS v FROM customers)""")
    # The book's own identification keys (name, phone, email), so the key index is as large as
    # a real 1 M-customer book's.
    con.execute(
        """INSERT INTO customer_search_keys (search_key, customer_id, kind)
        SELECT 'book ' || id, id, 'name' FROM customers
        UNION ALL SELECT '15' || printf('%09d', id), id, 'phone' FROM customers
        UNION ALL SELECT 'book' || id || '@example.org', id, 'email' FROM customers""")
    con.commit()
    con.execute("ANALYZE")
    con.close()


def fill_postgres(url, book, now_ms):
    sql = f"""
    SET synchronous_commit = off;
    INSERT INTO customers (id, kind, name, name_pinyin, name_initials, name_sort, lifecycle_stage, tags,
        source_channel, source_direct, source_collected_at, version, created_at, updated_at)
    SELECT i, 'individual', 'Book ' || i, 'book' || i, 'b', 'book ' || i, 'active', '[]', 'import', TRUE, 0, 1,
        {now_ms}, {now_ms} FROM generate_series(1, {book}) i;
    INSERT INTO contact_points (customer_id, kind, value_raw, value_normalized, is_primary,
        source_channel, source_direct, source_collected_at, created_at, updated_at)
    SELECT id, k.kind, v.v, v.v, TRUE, 'import', TRUE, {now_ms}, {now_ms}, {now_ms}
    FROM customers, LATERAL (VALUES ('mobile'), ('email')) k(kind),
         LATERAL (SELECT CASE k.kind WHEN 'mobile' THEN '+8615' || lpad(id::text, 9, '0')
                                     ELSE 'book' || id || '@example.org' END AS v) v;
    INSERT INTO customer_search_keys (search_key, customer_id, kind)
    SELECT 'book ' || id, id, 'name' FROM customers
    UNION ALL SELECT '15' || lpad(id::text, 9, '0'), id, 'phone' FROM customers
    UNION ALL SELECT 'book' || id || '@example.org', id, 'email' FROM customers;
    SELECT setval(pg_get_serial_sequence('customers', 'id'), {max(book, 1)});
    ANALYZE;
    """
    subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", url], input=sql, text=True, check=True,
                   capture_output=True)


def floor_sqlite(path, csv_path, now_ms):
    """The database's own speed: the same rows into the same tables, prepared inserts in one
    transaction, nothing computed."""
    con = sqlite3.connect(path)
    t = time.time()
    with open(csv_path, encoding="utf-8") as f:
        rows = list(csv.reader(f))[1:]
    cur = con.cursor()
    cur.execute("BEGIN IMMEDIATE")
    for name, mobile, email, city, gender, birthday, tags in rows:
        cur.execute(
            """INSERT INTO customers (kind, name, name_pinyin, name_initials, name_sort, gender, birthday, city,
               lifecycle_stage, tags, source_channel, source_direct, source_collected_at, created_at, updated_at)
               VALUES ('individual', ?, '', '', '', ?, ?, ?, 'prospect', '[]', 'import', 0, ?, ?, ?)""",
            (name, gender, birthday, city, now_ms, now_ms, now_ms))
        cid = cur.lastrowid
        for kind, v in (("mobile", mobile), ("email", email)):
            if v:
                cur.execute(
                    """INSERT INTO contact_points (customer_id, kind, value_raw, value_normalized, is_primary,
                       source_channel, source_direct, source_collected_at, created_at, updated_at)
                       VALUES (?, ?, ?, ?, 1, 'import', 0, ?, ?, ?)""", (cid, kind, v, v, now_ms, now_ms, now_ms))
        cur.execute("INSERT INTO customer_search_keys (search_key, customer_id, kind) VALUES (?, ?, 'name')",
                    (name, cid))
    con.rollback()
    con.close()
    return time.time() - t


def run(cmd):
    t = time.time()
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{out.stdout}{out.stderr}")
    return time.time() - t, out.stdout + out.stderr


def fresh(a, book, now_ms):
    if a.backend == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(a.sqlite + suffix):
                os.remove(a.sqlite + suffix)
        url = f"sqlite://{a.sqlite}"
    else:
        schema = "guanxi_import_bench"
        subprocess.run(["psql", "-q", a.pg, "-c", f"DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"],
                       check=True, capture_output=True)
        sep = "&" if "?" in a.pg else "?"
        url = f"{a.pg}{sep}options=-c%20search_path%3D{schema}"
    run([a.bin, "migrate", "--database-url", url])
    if book:
        t = time.time()
        if a.backend == "sqlite":
            fill_sqlite(a.sqlite, book, now_ms)
        else:
            fill_postgres(url, book, now_ms)
        print(f"  (filled a book of {book:,} customers in {time.time() - t:.0f} s; not measured)")
    return url


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--backend", choices=["sqlite", "postgres"], required=True)
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--book", type=int, default=1_000_000, help="customers already stored in the second run")
    ap.add_argument("--sqlite", default="/tmp/guanxi-import-bench.db")
    ap.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432/test")
    ap.add_argument("--csv", default="/tmp/guanxi-import-bench.csv")
    ap.add_argument("--bin", default=BIN)
    a = ap.parse_args()
    if not os.path.exists(a.bin):
        sys.exit(f"build the release binary first: cargo build --release --workspace ({a.bin} missing)")
    now_ms = int(time.time() * 1000)
    write_csv(a.csv, a.rows, 0, 7)
    print(f"{a.rows:,} rows in {a.csv}; backend {a.backend}")
    print(f"{'into':>22} {'tool':>28} {'wall s':>8} {'rows/s':>10}")
    for book in (0, a.book):
        url = fresh(a, book, now_ms)
        where = f"{book:,} customers" if book else "an empty database"
        if a.backend == "sqlite":
            s = floor_sqlite(a.sqlite, a.csv, now_ms)
            print(f"{where:>22} {'floor: python sqlite3':>28} {s:>8.2f} {a.rows / s:>10,.0f}")
        wall, out = run([a.bin, "import", "customers", a.csv, "--map", "姓名=name", "--map", "手机=mobile",
                         "--database-url", url])
        m = re.search(r"imported (\d+) customers", out)
        if not m or int(m.group(1)) != a.rows:
            sys.exit(f"unexpected output: {out}")
        print(f"{where:>22} {'guanxi import (dup checks)':>28} {wall:>8.2f} {a.rows / wall:>10,.0f}")
        for line in out.splitlines():
            if line.startswith("timing"):
                print(f"{'':>22}   {line}")


if __name__ == "__main__":
    main()
