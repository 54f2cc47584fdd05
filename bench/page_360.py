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
import http.cookiejar
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PASSWORD = "bench-password-360"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Client:
    def __init__(self, base):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        self.csrf = None

    def api(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + "/api/v1" + path, data=data, method=method)
        req.add_header("content-type", "application/json")
        if self.csrf:
            req.add_header("x-csrf-token", self.csrf)
        with self.opener.open(req) as r:
            text = r.read()
            return json.loads(text) if text else None

    def login(self, username):
        out = self.api("POST", "/auth/login", {"username": username, "password": PASSWORD})
        self.csrf = out["csrf_token"]
        return out["user"]

    def page(self, path):
        t0 = time.perf_counter()
        with self.opener.open(self.base + path) as r:
            body = r.read()
            timing = r.headers.get("server-timing", "")
        wall = (time.perf_counter() - t0) * 1000
        server = float(timing.split("dur=")[1]) if "dur=" in timing else float("nan")
        return r.status, body, server, wall


def summary(xs):
    xs = sorted(xs)
    pick = lambda q: xs[min(len(xs) - 1, int(q * len(xs)))]
    return statistics.median(xs), pick(0.95), pick(0.99), xs[-1]


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
    port = free_port()
    server = subprocess.Popen([args.bin, "serve", "--bind", f"127.0.0.1:{port}"], cwd=work, env=env,
                              stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/api/v1/health")
                break
            except OSError:
                time.sleep(0.1)
        admin = Client(base)
        admin.login("admin")
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
            c.login(who)
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
            c.login(who)
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
