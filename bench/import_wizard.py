#!/usr/bin/env python3
"""The import wizard end to end (issue #18): 100,000 customer rows of which 5 % repeat the mobile
of a customer already on file, uploaded to a running server, mapped, previewed (the dry run with
its duplicate search), then run as a job with duplicates set to "update" and the rest created,
timed from the upload's first byte to the job's end. Beside it, on the same file and database:
the floor (Python's sqlite3 or psql COPY loading the rows with no checks) and `guanxi import
customers` (the same checks and writer, no upload, no undo record).

    cargo build --release -p guanxi
    python3 bench/import_wizard.py --backend sqlite   [--rows 100000 --book 100000 --dup 0.05]
    python3 bench/import_wizard.py --backend postgres [--pg postgres://postgres@127.0.0.1:5432/test]

Standard library only; reuses import_scale.py's book filler and serving.py's client.
"""
import argparse
import csv
import json
import os
import random
import subprocess
import sys
import time
import urllib.request
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import import_scale  # noqa: E402
from serving import Client, start_server  # noqa: E402

PASSWORD = "bench-import-password-1"


def write_csv(path, rows, book, dup, seed):
    """Rows like import_scale's; every row whose index falls on the duplicate share takes the
    mobile of a book customer instead (the book's mobiles are +8615 and the id)."""
    rnd = random.Random(seed)
    every = round(1 / dup) if dup > 0 else 0
    dups = 0
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["姓名", "手机", "email", "city", "gender", "birthday", "tags"])
        for i in range(rows):
            name = rnd.choice(import_scale.SURNAMES) + "".join(rnd.choice(import_scale.GIVEN) for _ in range(2))
            if every and i % every == 0 and book:
                mobile = f"15{(i // every) % book + 1:09d}"
                dups += 1
            else:
                mobile = f"13{i:09d}"
            email = f"user{i}@example.com" if i % 2 == 0 else ""
            birthday = f"{rnd.randint(1950, 2005)}-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}"
            tags = ";".join(rnd.sample(import_scale.TAGS, rnd.randint(0, 2)))
            w.writerow([name, mobile, email, rnd.choice(import_scale.CITIES), rnd.choice(("male", "female")),
                        birthday, tags])
    return dups


def multipart(client, path, file_path, entity=None):
    """POSTs the file (and what it holds, when given) as the upload form does."""
    boundary = uuid.uuid4().hex
    with open(file_path, "rb") as f:
        data = f.read()
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"entity\"\r\n\r\n{entity}\r\n"
            if entity else "")
    body = (head + f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"bench.csv\"\r\n"
            f"Content-Type: text/csv\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    req = urllib.request.Request(client.base + "/api/v1" + path, data=body, method="POST")
    req.add_header("content-type", f"multipart/form-data; boundary={boundary}")
    req.add_header("x-csrf-token", client.csrf)
    with client.opener.open(req) as r:
        return json.loads(r.read())


def serve_as_admin(a, url):
    """A release server on `url` and a client signed in as a new admin."""
    env = {**os.environ, "GUANXI_DATABASE_URL": url, "RUST_LOG": "warn"}
    p = subprocess.run([a.bin, "user", "add", "bench.admin", "--role", "admin", "--password-stdin"],
                       input=PASSWORD + "\n", text=True, capture_output=True, env=env)
    if p.returncode != 0:
        sys.exit(p.stderr)
    server, base = start_server(a.bin, env)
    c = Client(base)
    c.login("bench.admin", PASSWORD)
    return server, c


def wait_done(c, import_id):
    """Polls the import until it has ended; its status."""
    while True:
        st = c.api("GET", f"/imports/{import_id}")
        if st["import"]["status"] not in ("queued", "running"):
            return st
        time.sleep(0.05)


def wizard(a, url, rows, dups):
    server, c = serve_as_admin(a, url)
    try:
        t0 = time.perf_counter()
        b = multipart(c, "/imports", a.csv)
        t_upload = time.perf_counter()
        b = c.api("PUT", f"/imports/{b['id']}/settings", {"version": b["version"], "on_duplicate": "update"})
        p = c.api("GET", f"/imports/{b['id']}/preview")
        t_preview = time.perf_counter()
        if p["duplicate_count"] != dups or p["updates"] != dups:
            sys.exit(f"preview found {p['duplicate_count']} duplicates ({p['updates']} updates), expected {dups}")
        c.api("POST", f"/imports/{b['id']}/start")
        st = wait_done(c, b["id"])
        t_done = time.perf_counter()
        i = st["import"]
        if i["status"] != "done" or i["inserted"] != rows - dups or i["updated"] != dups:
            sys.exit(f"unexpected outcome: {st}")
        return t_upload - t0, t_preview - t_upload, t_done - t_preview, t_done - t0
    finally:
        server.terminate()
        server.wait()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--backend", choices=["sqlite", "postgres"], required=True)
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--book", type=int, default=100_000, help="customers already stored")
    ap.add_argument("--dup", type=float, default=0.05, help="share of rows repeating a stored mobile")
    ap.add_argument("--sqlite", default="/tmp/guanxi-wizard-bench.db")
    ap.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432/test")
    ap.add_argument("--csv", default="/tmp/guanxi-wizard-bench.csv")
    ap.add_argument("--bin", default=import_scale.BIN)
    a = ap.parse_args()
    if not os.path.exists(a.bin):
        sys.exit(f"build the release binary first: cargo build --release -p guanxi ({a.bin} missing)")
    now_ms = int(time.time() * 1000)
    dups = write_csv(a.csv, a.rows, a.book, a.dup, 11)
    print(f"{a.rows:,} rows ({dups:,} repeat a stored mobile) in {a.csv}; book {a.book:,}; backend {a.backend}")
    print(f"{'tool':>40} {'wall s':>8} {'rows/s':>10}")
    url = import_scale.fresh(a, a.book, now_ms)
    if a.backend == "sqlite":
        s = import_scale.floor_sqlite(a.sqlite, a.csv, now_ms)
        print(f"{'floor: python sqlite3, no checks':>40} {s:>8.2f} {a.rows / s:>10,.0f}")
    url = import_scale.fresh(a, a.book, now_ms)
    wall, out = import_scale.run([a.bin, "import", "customers", a.csv, "--map", "姓名=name", "--map", "手机=mobile",
                                  "--on-duplicate", "update", "--database-url", url])
    print(f"{'guanxi import --on-duplicate update':>40} {wall:>8.2f} {a.rows / wall:>10,.0f}")
    for line in out.splitlines():
        if line.startswith("timing"):
            print(f"{'':>40}   {line}")
    url = import_scale.fresh(a, a.book, now_ms)
    upload, preview, run, total = wizard(a, url, a.rows, dups)
    print(f"{'wizard: upload':>40} {upload:>8.2f}")
    print(f"{'wizard: settings + dry run (preview)':>40} {preview:>8.2f}")
    print(f"{'wizard: start → done (job)':>40} {run:>8.2f} {a.rows / run:>10,.0f}")
    print(f"{'wizard: end to end':>40} {total:>8.2f} {a.rows / total:>10,.0f}")


if __name__ == "__main__":
    main()
