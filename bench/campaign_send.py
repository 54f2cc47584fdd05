#!/usr/bin/env python3
"""Campaign sending at scale (issue #16): N customers imported with an e-mail address (or a
mobile) and marketing consent, one segment of them all, one campaign launched through the API
of the release server, timed from launch to finished:

* e-mail to the real local SMTP server (aiosmtpd, tests/smtp/server.py): messages a second,
  side by side with the reference - Python's smtplib pushing the same number of messages of
  the same size over the same number of connections to the same server, with no database at
  all (the ceiling the SMTP server allows);
* SMS through the file provider (each message one JSON line): the outbox's own throughput at
  1 M recipients - claim, render, deliver, record one transaction per message.

    python3 bench/campaign_send.py --backend sqlite   --channel email --recipients 20000
    python3 bench/campaign_send.py --backend sqlite   --channel sms   --recipients 1000000
    python3 bench/campaign_send.py --backend postgres --channel email --recipients 20000

Uses the release binary (`cargo build --release -p guanxi` first) and target/pyenv (./test.sh
makes it) for aiosmtpd. Standard library otherwise.
"""
import argparse
import http.cookiejar
import json
import os
import smtplib
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.request
from email.message import EmailMessage

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target", "release", "guanxi")
PY = os.path.join(ROOT, "target", "pyenv", "bin", "python")
WORK = os.path.join(ROOT, "target", "bench-campaign")
PASSWORD = "bench-password-123"
CONCURRENCY = 8


def lines(path):
    try:
        with open(path, "rb") as f:
            return sum(1 for _ in f)
    except FileNotFoundError:
        return 0


class Api:
    def __init__(self, base):
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        r = self.call("POST", "/auth/login", {"username": "bench", "password": PASSWORD})
        self.csrf = r["csrf_token"]

    def call(self, method, path, body=None):
        req = urllib.request.Request(self.base + "/api/v1" + path, method=method,
                                     data=None if body is None else json.dumps(body).encode())
        req.add_header("content-type", "application/json")
        if getattr(self, "csrf", None):
            req.add_header("x-csrf-token", self.csrf)
        with self.opener.open(req, timeout=120) as r:
            text = r.read()
            return json.loads(text) if text else None


def wait_health(base, secs=120):
    end = time.time() + secs
    while time.time() < end:
        try:
            urllib.request.urlopen(base + "/api/v1/health", timeout=2)
            return
        except Exception:
            time.sleep(0.3)
    sys.exit("server did not come up")


def smtplib_reference(port, n, sample):
    """n copies of a message Guanxi sent (`sample`: its raw bytes, the same size and MIME
    structure) over CONCURRENCY connections, no database: messages/s."""
    per = n // CONCURRENCY

    def worker(k):
        s = smtplib.SMTP("127.0.0.1", port)
        for i in range(per):
            s.sendmail("news@guanxi.test", [f"ref{k}-{i}@reference.test"], sample)
        s.quit()

    t0 = time.time()
    ts = [threading.Thread(target=worker, args=(k,)) for k in range(CONCURRENCY)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return per * CONCURRENCY / (time.time() - t0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    ap.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432")
    ap.add_argument("--channel", choices=["email", "sms"], default="email")
    ap.add_argument("--recipients", type=int, default=20000)
    ap.add_argument("--port", type=int, default=2725)
    ap.add_argument("--concurrency", type=int, default=CONCURRENCY, help="Guanxi's SMTP connections")
    a = ap.parse_args()
    if not os.path.exists(BIN):
        sys.exit(f"{BIN} missing: cargo build --release -p guanxi")
    os.makedirs(WORK, exist_ok=True)
    tag = f"{a.backend}-{a.channel}-{a.recipients}"
    if a.backend == "sqlite":
        db_path = os.path.join(WORK, f"{tag}.db")
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(db_path + suffix):
                os.remove(db_path + suffix)
        url = f"sqlite://{db_path}"
    else:
        name = "guanxi_bench_campaign"
        subprocess.run(["psql", a.pg + "/postgres", "-qc", f"DROP DATABASE IF EXISTS {name}"], check=True)
        subprocess.run(["psql", a.pg + "/postgres", "-qc", f"CREATE DATABASE {name}"], check=True)
        url = f"{a.pg}/{name}"
    env = dict(os.environ, GUANXI_DATABASE_URL=url)
    subprocess.run([BIN, "user", "add", "bench", "--role", "admin", "--password-stdin"],
                   input=PASSWORD.encode(), env=env, check=True, capture_output=True)
    csv_path = os.path.join(WORK, f"{tag}.csv")
    with open(csv_path, "w", encoding="utf-8") as f:
        f.write("name,city,%s,consent_marketing\n" % ("email" if a.channel == "email" else "mobile"))
        for i in range(a.recipients):
            addr = f"c{i}@bench.test" if a.channel == "email" else f"139{i:08d}"
            f.write(f"客户{i},上海,{addr},true\n")
    t0 = time.time()
    subprocess.run([BIN, "import", "customers", csv_path], env=env, check=True, capture_output=True)
    print(f"imported {a.recipients:,} customers in {time.time() - t0:.1f} s")

    sink = os.path.join(WORK, f"{tag}.jsonl")
    if os.path.exists(sink):
        os.remove(sink)
    procs = []
    if a.channel == "email":
        smtp = subprocess.Popen([PY, os.path.join(ROOT, "tests", "smtp", "server.py"), str(a.port), sink, "--lean"],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        procs.append(smtp)
        assert smtp.stdout.readline().strip() == b"ready"
        env["GUANXI_SMTP_URL"] = f"smtp://127.0.0.1:{a.port}"
    else:
        env["GUANXI_SMS_FILE"] = sink
    port = a.port + 1
    base = f"http://127.0.0.1:{port}"
    env.update(GUANXI_BIND=f"127.0.0.1:{port}", GUANXI_CAMPAIGN_SECONDS="1", GUANXI_SCORES_REFRESH_HOURS="0",
               GUANXI_SEGMENT_SIZES_MINUTES="0", GUANXI_CARE_MINUTES="0", GUANXI_RULES_MINUTES="0",
               GUANXI_LOYALTY_MINUTES="0", GUANXI_SEND_CONCURRENCY=str(a.concurrency), RUST_LOG="warn")
    server = subprocess.Popen([BIN, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    procs.append(server)
    try:
        wait_health(base)
        api = Api(base)
        seg = api.call("POST", "/segments", {"name": "上海", "description": "",
                                              "rule": {"clauses": [{"field": "city", "op": "eq", "value": "上海"}]}})
        ch = a.channel
        pol = {"cap_count": 100, "cap_days": 7, "quiet_start": 0, "quiet_end": 0, "complaint_pause_days": 30,
               "soft_bounce_limit": 3, "max_errors": 100, "per_second": 10000}
        api.call("PUT", f"/contact-policies/{ch}", pol)
        variant = {"subject_zh": "{{salutation}}，中秋快乐", "body_zh": "{{name}}，中秋礼盒已上架：https://shop.example.com/mid-autumn"}
        if ch == "sms":
            variant.update(sms_template="SMS_154950909", sms_params=[{"key": "name", "value": "{{salutation}}"}])
        k = api.call("POST", "/campaigns", {"name": "bench", "channel": ch, "segments": [seg["id"]], "variants": [variant],
                                            "attribution_days": 7})
        t_launch = time.time()
        api.call("POST", f"/campaigns/{k['id']}/state", {"version": k["version"], "to": "sending"})
        first = None
        last_report = t_launch
        while True:
            n = lines(sink)
            if n and first is None:
                first = time.time()
            if n >= a.recipients:
                break
            if time.time() - last_report > 30:
                print(f"  {n:,} sent after {time.time() - t_launch:.0f} s", flush=True)
                last_report = time.time()
            if time.time() - t_launch > 6 * 3600:
                sys.exit("gave up after 6 h")
            time.sleep(0.5)
        t_done = time.time()
        total = t_done - t_launch
        sending = t_done - (first or t_launch)
        print(f"Guanxi {ch} via {a.backend}, {a.concurrency} connections: {a.recipients:,} messages, launch to last {total:.1f} s "
              f"(audience read into the outbox included), {a.recipients / sending:,.0f} messages/s while sending")
        if ch == "email":
            with open(sink + ".sample.eml", "rb") as f:
                sample = f.read()
            ref = smtplib_reference(a.port, min(a.recipients, 20000), sample)
            print(f"reference: Python smtplib, {CONCURRENCY} connections, no database: {ref:,.0f} messages/s to the same server")
    finally:
        for p in procs:
            p.terminate()


if __name__ == "__main__":
    main()
