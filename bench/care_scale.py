#!/usr/bin/env python3
"""Customer care at scale: fills a database with N customers (birthdays, a third lunar; a
quarter with a spouse, a wedding anniversary and a child), 50 owners and two care plans, then
times `guanxi care run --full` — the nightly pass that derives every customer's care dates
and fires the plans — and an incremental run with nothing changed.

    python3 bench/care_scale.py --backend sqlite   [--customers 1000000]
    python3 bench/care_scale.py --backend postgres [--pg postgres://postgres@127.0.0.1:5432/test]

Uses the release binary (`cargo build --release -p guanxi` first). The data are generated in
SQL, so generation is not what is measured. There is no outside reference for this one: the
figure is held against the issue's budget (the nightly evaluation over 1 M customers in under
60 s). Standard library only.
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
YEAR_MS = 365 * 86_400_000

# Column expressions shared by both backends (i is the customer number).
BIRTHDAY = "'19' || (50 + i % 50) || '-' || substr('0' || (1 + i % 12), -2) || '-' || substr('0' || (1 + (i / 12) % 28), -2)"
LUNAR = "(i / 7) % 3 = 0"
PROFILE = ("CASE WHEN i % 4 = 0 THEN '{\"family\": {\"spouse_name\": \"配偶\", "
           "\"spouse_birthday\": {\"month\": ' || (1 + (i * 5) % 12) || ', \"day\": ' || (1 + i % 28) || '}, "
           "\"wedding_anniversary\": {\"year\": 2005, \"month\": ' || (1 + (i * 3) % 12) || ', \"day\": ' || (1 + (i * 11) % 28) || '}, "
           "\"children\": [{\"name\": \"孩子\", \"birthday\": {\"year\": 2012, \"month\": ' || (1 + (i * 7) % 12) || ', \"day\": ' || (1 + (i * 13) % 28) || ', \"lunar\": true}}]}}' END")


def run(cmd):
    t = time.time()
    out = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return time.time() - t, out.stdout + out.stderr


def plans_sql(now_ms, true):
    return f"""INSERT INTO care_plans (name, occasion, days_before, task_title, active, version, created_at, updated_at)
        VALUES ('birthday, 3 days ahead', 'birthday', 3, 'Birthday card', {true}, 1, {now_ms}, {now_ms}),
               ('wedding anniversary', 'wedding', 0, 'Anniversary greeting', {true}, 1, {now_ms}, {now_ms})"""


def fill_sqlite(path, customers, now_ms):
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=OFF")
    con.execute(f"""WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 50)
        INSERT INTO users (id, username, display_name, password_hash, role, created_at, updated_at)
        SELECT i, 'rep' || i, 'Rep ' || i, 'x', 'sales', {now_ms}, {now_ms} FROM s""")
    con.execute(f"""WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {customers})
        INSERT INTO customers (id, kind, name, name_pinyin, name_initials, name_sort, birthday, birthday_lunar, profile,
            lifecycle_stage, owner_id, tags, source_channel, source_direct, source_collected_at, version,
            created_at, updated_at)
        SELECT i, 'individual', 'Bench ' || i, 'bench' || i, 'b', 'bench' || i, {BIRTHDAY}, {LUNAR}, {PROFILE},
            'active', 1 + i % 50, '[]', 'import', 1, 0, 1,
            {now_ms} - (i * 7919) % (3 * {YEAR_MS}), {now_ms} - 60000 FROM s""")
    con.execute(plans_sql(now_ms, 1))
    con.commit()
    con.close()


def fill_postgres(url, customers, now_ms):
    sql = f"""
    SET synchronous_commit = off;
    INSERT INTO users (id, username, display_name, password_hash, role, created_at, updated_at)
    SELECT i, 'rep' || i, 'Rep ' || i, 'x', 'sales', {now_ms}, {now_ms} FROM generate_series(1, 50) i;
    INSERT INTO customers (id, kind, name, name_pinyin, name_initials, name_sort, birthday, birthday_lunar, profile,
        lifecycle_stage, owner_id, tags, source_channel, source_direct, source_collected_at, version,
        created_at, updated_at)
    SELECT i, 'individual', 'Bench ' || i, 'bench' || i, 'b', 'bench' || i,
        {BIRTHDAY.replace("substr(", "right(").replace(", -2)", ", 2)")}, {LUNAR}, {PROFILE}, 'active', 1 + i % 50, '[]', 'import', TRUE, 0, 1,
        {now_ms} - (i::bigint * 7919) % (3 * {YEAR_MS}::bigint), {now_ms} - 60000 FROM generate_series(1, {customers}) i;
    SELECT setval(pg_get_serial_sequence('customers', 'id'), {customers});
    SELECT setval(pg_get_serial_sequence('users', 'id'), 50);
    {plans_sql(now_ms, 'TRUE')};
    ANALYZE;
    """
    subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", url], input=sql, text=True, check=True,
                   capture_output=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--backend", choices=["sqlite", "postgres"], required=True)
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--sqlite", default="/tmp/guanxi-care-bench.db")
    ap.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432/test")
    ap.add_argument("--keep", action="store_true", help="reuse an already filled database")
    ap.add_argument("--bin", default=BIN, help="the guanxi binary (default: the release build)")
    a = ap.parse_args()
    if not os.path.exists(a.bin):
        sys.exit(f"build the release binary first: cargo build --release -p guanxi ({a.bin} missing)")
    now_ms = int(time.time() * 1000)
    if a.backend == "sqlite":
        url = f"sqlite://{a.sqlite}"
        if not a.keep:
            for suffix in ("", "-wal", "-shm"):
                if os.path.exists(a.sqlite + suffix):
                    os.remove(a.sqlite + suffix)
    else:
        schema = "guanxi_care_bench"
        if not a.keep:
            subprocess.run(["psql", "-q", a.pg, "-c", f"DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"],
                           check=True, capture_output=True)
        sep = "&" if "?" in a.pg else "?"
        url = f"{a.pg}{sep}options=-c%20search_path%3D{schema}"
    if not a.keep:
        run([a.bin, "migrate", "--database-url", url])
        t = time.time()
        (fill_sqlite if a.backend == "sqlite" else fill_postgres)(a.sqlite if a.backend == "sqlite" else url, a.customers, now_ms)
        print(f"generated {a.customers:,} customers in {time.time() - t:.0f} s ({a.backend}; not measured)")
    print(f"{'run':<14} {'wall s':>7} {'dates s':>8} {'plans s':>8} {'customers':>10} {'dates':>10} {'tasks':>7}")
    for label, args in (("full pass", ["--full"]), ("full again", ["--full"]), ("incremental", [])):
        wall, out = run([a.bin, "care", "run", "--database-url", url, *args])
        m = re.search(r"(\d+) customers read, (\d+) dates written in \d+ steps, (\d+) ms", out)
        f = re.search(r"(\d+) new tasks, (\d+) ms", out)
        if not m or not f:
            sys.exit(f"unexpected output: {out}")
        n, d, ms = (int(x) for x in m.groups())
        tasks, fms = (int(x) for x in f.groups())
        print(f"{label:<14} {wall:>7.1f} {ms / 1000:>8.1f} {fms / 1000:>8.1f} {n:>10,} {d:>10,} {tasks:>7,}")


if __name__ == "__main__":
    main()
