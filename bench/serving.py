"""What the HTTP benchmarks share: a free port, the release server started and awaited, and
a signed-in client that reads the server's own time of each answer (`Server-Timing`).
Standard library only."""
import http.cookiejar
import json
import socket
import subprocess
import time
import urllib.request


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(binary, env, extra=(), cwd=None):
    """Starts `guanxi serve` on a free loopback port; returns the process and base URL once
    the health check answers."""
    port = free_port()
    # The benchmarks measure the server's own throughput from one address: no overload guard.
    env = {**env, "GUANXI_RATE_LIMIT_PER_SECOND": "0", "GUANXI_MAX_IN_FLIGHT": "0"}
    server = subprocess.Popen([binary, "serve", "--bind", f"127.0.0.1:{port}", *extra], cwd=cwd, env=env,
                              stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            urllib.request.urlopen(base + "/api/v1/health")
            break
        except OSError:
            time.sleep(0.1)
    return server, base


class Client:
    """One signed-in browser or API user (cookie session, CSRF token for writes)."""

    def __init__(self, base):
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
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

    def login(self, username, password):
        out = self.api("POST", "/auth/login", {"username": username, "password": password})
        self.csrf = out["csrf_token"]
        return out["user"]

    def page(self, path):
        """GET `path`: status, body, server time (ms, from `Server-Timing`) and wall time (ms)."""
        t0 = time.perf_counter()
        with self.opener.open(self.base + path) as r:
            body = r.read()
            timing = r.headers.get("server-timing", "")
        wall = (time.perf_counter() - t0) * 1000
        server = float(timing.split("dur=")[1]) if "dur=" in timing else float("nan")
        return r.status, body, server, wall


def percentile(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]
