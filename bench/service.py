#!/usr/bin/env python3
"""The service desk at scale (issue #14): "take next" and the queue pages with 1,000,000
tickets and 200 agents, server time beside the 20 ms budget.

Builds a demo book (`guanxi demo --customers N --no-serve`), adds 200 agents in 10 queues
through the API, then a million tickets in one SQL statement per backend (a year and a half of
work: 97 % closed, 1 % resolved, 1.5 % open with agents, 5,000 waiting unassigned), and
measures as the agents and the manager:

* "take next" (`POST /api/v1/tickets/take-next`), 400 takes by 20 agents in turn;
* a queue's waiting work, page (`/tickets?view=waiting&queue=`) and API;
* an agent's desk (`/tickets`, their open tickets) and the ticket page;
* the manager's "all open" and "SLA breached" views, and the figures of the last 30 and 365
  days (past days from the daily rollup, which the script waits for), and an agent's own
  figures (the rollup's cells of their queues, and their own tickets elsewhere counted live).

Server time is the `Server-Timing` header.

    cargo build --release -p guanxi
    python3 bench/service.py --backend sqlite   [--reuse] [--db /work/scale/service.db]
    python3 bench/service.py --backend postgres [--reuse] [--pg postgres://postgres@127.0.0.1:5432/guanxi_service]
"""
import argparse
import os
import sqlite3
import subprocess
import sys
import time
import urllib.request

from scale import build, database_url, row, sql
from serving import Client, start_server

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target", "release", "guanxi")
PASSWORD = "bench-scale-password"
TICKETS = 1_000_000
AGENTS = 200
QUEUES = 10
WAITING = 5_000


def tickets_sql(backend, customers, first_queue, first_agent, now_ms):
    """One INSERT … SELECT over a series of a million numbers (a recursive CTE on SQLite,
    generate_series on PostgreSQL), the same columns and distribution on both."""
    series = ("WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < {n}) "
              if backend == "sqlite" else "")
    source = "s" if backend == "sqlite" else "generate_series(CAST(0 AS BIGINT), {n}) AS s(i)"
    day = 86_400_000
    # i < WAITING: waiting unassigned; next 15,000: open with an agent; next 10,000: resolved;
    # the rest closed. Newest tickets are the open ones.
    status = (f"CASE WHEN i < {WAITING} THEN 'new' WHEN i < {WAITING + 15000} THEN 'open' "
              f"WHEN i < {WAITING + 25000} THEN 'resolved' ELSE 'closed' END")
    assignee = f"CASE WHEN i < {WAITING} THEN NULL ELSE {first_agent} + (i % {AGENTS}) END"
    created = f"{now_ms} - (i * {540 * day // TICKETS}) - 60000"
    return (series.format(n=TICKETS - 1) +
            "INSERT INTO tickets (customer_id, kind, category_id, priority, priority_rank, channel, "
            "subject, status, queue_id, assignee_id, complaint_step, first_response_at, "
            "first_response_due, resolution_due, resolved_at, closed_at, waiting_since, "
            "first_assigned_at, sla_policy_id, created_at, updated_at) "
            f"SELECT 1 + (i % {customers}), "
            "CASE WHEN i % 4 = 0 THEN 'complaint' ELSE 'enquiry' END, "
            "CASE WHEN i % 4 = 0 THEN 2 + (i % 7) ELSE 10 END, "
            "CASE (i * 7) % 4 WHEN 0 THEN 'low' WHEN 1 THEN 'normal' WHEN 2 THEN 'high' ELSE 'urgent' END, "
            "1 + (i * 7) % 4, 'phone', 'bench ticket', "
            f"{status}, {first_queue} + (i % {QUEUES}), {assignee}, "
            "CASE WHEN i % 4 = 0 THEN 'received' ELSE NULL END, "
            f"CASE WHEN i < {WAITING} THEN NULL ELSE {created} + 1200000 END, "
            f"{created} + 3600000, {created} + 86400000, "
            f"CASE WHEN i < {WAITING + 15000} THEN NULL ELSE {created} + 7200000 END, "
            f"CASE WHEN i < {WAITING + 25000} THEN NULL ELSE {created} + 266400000 END, "
            f"CASE WHEN i < {WAITING} THEN {created} ELSE NULL END, "
            f"CASE WHEN i < {WAITING} THEN NULL ELSE {created} + 60000 END, "
            f"4, {created}, {created} "
            f"FROM {source.format(n=TICKETS - 1)}")


def load(args):
    """Agents, queues and a million tickets; returns (agent ids, queue ids) and seconds."""
    server, base = start_server(BIN, {**os.environ, "GUANXI_DATABASE_URL": database_url(args),
                                      "RUST_LOG": "error", "GUANXI_SLA_SWEEP_SECONDS": "0",
                                      "GUANXI_SEGMENT_SIZES_MINUTES": "0", "GUANXI_SCORES_REFRESH_HOURS": "0"})
    try:
        admin = Client(base)
        admin.login("admin", PASSWORD)
        t0 = time.perf_counter()
        queues = [admin.api("POST", "/service/queues", {"name": f"bench queue {q}", "routing": "manual"})["id"]
                  for q in range(QUEUES)]
        agents = []
        for a in range(AGENTS):
            u = admin.api("POST", "/users", {"username": f"bench.agent{a}", "display_name": f"坐席 {a}",
                                             "password": PASSWORD, "role": "service"})
            agents.append(u["id"])
            for q in (queues[a % QUEUES], queues[(a + 1) % QUEUES]):
                admin.api("POST", f"/service/queues/{q}/members", {"user_id": u["id"]})
            admin.api("PUT", f"/service/agents/{u['id']}", {"status": "available", "capacity": 1000})
        setup = time.perf_counter() - t0
    finally:
        server.terminate()
        server.wait()
    customers = int(sql(args, "SELECT COUNT(*) FROM customers")[0][0])
    statement = tickets_sql(args.backend, customers, min(queues), min(agents), int(time.time() * 1000))
    t0 = time.perf_counter()
    if args.backend == "sqlite":
        import sqlite3
        con = sqlite3.connect(args.db)
        con.execute(statement)
        con.commit()
        con.execute("ANALYZE")
        con.close()
    else:
        subprocess.run(["psql", args.pg, "-v", "ON_ERROR_STOP=1", "-c", statement], check=True, capture_output=True)
        subprocess.run(["psql", args.pg, "-c", "VACUUM ANALYZE tickets"], check=True, capture_output=True)
    return setup, time.perf_counter() - t0


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--backend", choices=["sqlite", "postgres"], required=True)
    p.add_argument("--customers", type=int, default=20_000)
    p.add_argument("--db", default="/work/scale/service.db")
    p.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432/guanxi_service")
    p.add_argument("--reuse", action="store_true")
    p.add_argument("-n", type=int, default=200)
    args = p.parse_args()
    if not os.path.exists(BIN):
        sys.exit(f"{BIN} missing: cargo build --release -p guanxi")
    built = build(args)
    if built is not None:
        print(f"demo book: {built:.0f} s")
        setup, bulk = load(args)
        print(f"200 agents in 10 queues through the API: {setup:.0f} s; 1,000,000 tickets in SQL: {bulk:.0f} s")
    n_tickets = sql(args, "SELECT COUNT(*), SUM(CASE WHEN assignee_id IS NULL AND status = 'new' THEN 1 ELSE 0 END) FROM tickets")[0]
    print(f"tickets: {n_tickets[0]}, waiting unassigned: {n_tickets[1]}")
    agents = [int(r[0]) for r in sql(args, "SELECT id FROM users WHERE username LIKE 'bench.agent%' ORDER BY id")]
    queue = int(sql(args, "SELECT MIN(id) FROM service_queues WHERE name LIKE 'bench queue%'")[0][0])
    env = {**os.environ, "GUANXI_DATABASE_URL": database_url(args), "RUST_LOG": "error",
           "GUANXI_SLA_SWEEP_SECONDS": "0", "GUANXI_SEGMENT_SIZES_MINUTES": "0", "GUANXI_SCORES_REFRESH_HOURS": "0"}
    # Days counted by an earlier build are dropped, so this run counts them anew.
    if args.backend == "sqlite":
        con = sqlite3.connect(args.db)
        con.execute("DELETE FROM ticket_days")
        con.commit()
        con.close()
    else:
        subprocess.run(["psql", args.pg, "-c", "DELETE FROM ticket_days"], check=True,
                       capture_output=True)
    server, base = start_server(BIN, env)
    good = True
    try:
        # The manager's figures read past days from the daily rollup, which the server starts
        # counting at start (400 days, 40 per job step): measure once it has caught up.
        started = time.time()
        while time.time() - started < 600:
            pending = int(sql(args, "SELECT COUNT(*) FROM jobs WHERE kind = 'tickets.rollup' "
                                    "AND state IN ('queued', 'running')")[0][0])
            days = int(sql(args, "SELECT COUNT(*) FROM ticket_days")[0][0])
            if pending == 0 and days >= 400:
                break
            time.sleep(0.5)
        print(f"daily rollup caught up in {time.time() - started:.1f} s "
              f"({sql(args, 'SELECT COUNT(*) FROM ticket_days')[0][0]} days)")
        clients = []
        for a in range(20):
            c = Client(base)
            c.login(f"bench.agent{a}", PASSWORD)
            clients.append(c)
        manager = Client(base)
        manager.login("manager", PASSWORD)
        print(f"\n{args.backend}: {n_tickets[0]} tickets, {len(agents)} agents, server time ms\n")
        print("| call | n | p50 | p99 | budget | |")
        print("|---|---|---|---|---|---|")
        takes = []
        taken = []
        for k in range(2 * args.n):
            c = clients[k % len(clients)]
            req = urllib.request.Request(c.base + "/api/v1/tickets/take-next", data=b"", method="POST")
            req.add_header("x-csrf-token", c.csrf)
            with c.opener.open(req) as r:
                body = r.read()
                timing = r.headers.get("server-timing", "")
                if r.status == 200:
                    taken.append(body)
            takes.append(float(timing.split("dur=")[1]))
        good &= row("take next (POST /api/v1/tickets/take-next)", takes, 20)
        c = clients[0]
        for name, path in [
            ("queue page /tickets?view=waiting", f"/tickets?view=waiting&queue={queue}"),
            ("queue API ?view=waiting", f"/api/v1/tickets?view=waiting&queue={queue}"),
            ("agent's desk /tickets (mine)", "/tickets"),
            ("agent's tickets API", "/api/v1/tickets"),
            ("queues API (waiting counts)", "/api/v1/service/queues"),
        ]:
            times = [c.page(path)[2] for _ in range(args.n)]
            good &= row(name, times, 20)
        some = int(sql(args, f"SELECT MAX(id) FROM tickets WHERE status = 'open' AND assignee_id = {agents[0]}")[0][0])
        good &= row("ticket page /tickets/{id}", [c.page(f"/tickets/{some}")[2] for _ in range(args.n)], 20)
        for name, path, budget in [
            ("manager: all open", "/tickets?view=all", 50),
            ("manager: SLA breached", "/tickets?view=all&state=breached", 50),
            ("manager: figures, 30 days", "/tickets/metrics", 50),
            ("manager: figures, 365 days", "/tickets/metrics?days=365", 50),
            ("manager: figures API, 30 days", "/api/v1/service/metrics", 50),
        ]:
            good &= row(name, [manager.page(path)[2] for _ in range(args.n // 4)], budget)
        # An agent's own figures add up the rollup's cells of their two queues, plus their own
        # tickets outside them counted live.
        good &= row("agent: figures, 30 days (cells)",
                    [c.page("/tickets/metrics")[2] for _ in range(args.n // 4)], 50)
    finally:
        server.terminate()
        server.wait()
    sys.exit(0 if good else 1)


if __name__ == "__main__":
    main()
