#!/usr/bin/python3
"""Benchmark: the metrics endpoints at 1 million recorded invocations.

Seeds ROWS invocations (default 1,000,000) spread evenly over the last 24 h
across 5 functions and both isolations, rolls them up with the procedure the
record writer calls after each batch (CALL rollup_invocations, schema/052),
then times, through lighttpd:

  GET /api/metrics/timeseries?window=24h            (all functions)
  GET /api/metrics/timeseries?window=24h&function=F (one function)
  GET /api/metrics/timeseries?window=1h
  GET /api/metrics/timeseries?window=5m             (exact, raw rows)
  GET /api/metrics/summary
  GET /metrics

and prints p50 / p95 / max per endpoint. Target (issue 5): the 24 h
timeseries under 50 ms. Exits 1 when it is missed.

Usage: LAMBDA_VAR=var LAMBDA_PORT=8080 bench/metrics_timeseries.py [--rows N] [--keep]
The stack must run (scripts/stack.sh start all). The seeded functions
(bench-metrics-*) and their records are removed at the end unless --keep.
"""

import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from proccpu import cpu_seconds  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VAR = os.path.abspath(os.environ.get("LAMBDA_VAR") or os.path.join(REPO, "var"))
PORT = int(os.environ.get("LAMBDA_PORT") or "8080")
NFUNC = 5


def mysql(sql, timeout=3600):
    cmd = ["mariadb", "--no-defaults", f"--socket={VAR}/run/mysql.sock", "-uroot", "--batch",
           "--skip-column-names", "lambda"]
    p = subprocess.run(cmd, input=sql, capture_output=True, text=True, timeout=timeout)
    if p.returncode != 0:
        sys.exit(f"mariadb: {p.stderr.strip()}")
    return p.stdout


def stack_pids():
    """mariadbd and the lambda-api workers of this stack."""
    pids = []
    try:
        with open(os.path.join(VAR, "run", "mysql.pid")) as f:
            pids.append(int(f.read().strip()))
    except (OSError, ValueError):
        pass
    conf = f"LAMBDA_CONF={os.path.join(VAR, 'lambda.conf')}".encode()
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/environ", "rb") as f:
                if conf in f.read().split(b"\0"):
                    pids.append(int(d))
        except OSError:
            pass
    return pids


def key():
    with open(os.path.join(VAR, "admin.key")) as f:
        return f.read().strip()


def call(conn, path, k):
    t0 = time.perf_counter()
    conn.request("GET", path, headers={"Authorization": f"Bearer {k}"})
    r = conn.getresponse()
    body = r.read()
    dt = (time.perf_counter() - t0) * 1000
    if r.status != 200:
        sys.exit(f"GET {path}: {r.status} {body[:200]!r}")
    return dt, body


def create_functions(k):
    conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
    ids = []
    for i in range(NFUNC):
        name = f"bench-metrics-{i}"
        conn.request("GET", f"/api/functions/{name}", headers={"Authorization": f"Bearer {k}"})
        r = conn.getresponse()
        body = r.read()
        if r.status == 404:
            conn.request("POST", "/api/functions", body=json.dumps({
                "name": name, "runtime": "python", "handler": "main.handler",
                "code": "def handler(e, c):\n    return e\n"}),
                headers={"Authorization": f"Bearer {k}", "Content-Type": "application/json"})
            r = conn.getresponse()
            body = r.read()
        if r.status not in (200, 201):
            sys.exit(f"function {name}: {r.status} {body[:200]!r}")
        ids.append(json.loads(body)["id"])
    return ids


def seed(ids, rows):
    # One INSERT ... SELECT from MariaDB's sequence engine per function:
    # latencies log-normal-ish (0.5 ms .. ~2 s), 3% errors, 1% timeouts,
    # 2% cold, a third under gVisor; started_at evenly over 24 h.
    per = rows // len(ids)
    t0 = time.perf_counter()
    for fid in ids:
        mysql(f"""
SET time_zone = '+00:00';
SELECT @lo := COALESCE(MAX(id), 0) + 1 FROM invocations;
INSERT IGNORE INTO invocations (request_id, function_id, function_name, function_version, source,
  isolation, started_at, duration_ms, total_ms, cold, status)
SELECT CONCAT('bench-', {fid}, '-', seq), {fid}, CONCAT('bench-metrics-', {ids.index(fid)}), 1, 'api',
  IF(seq % 3 = 0, 'gvisor', 'docker'),
  UTC_TIMESTAMP(3) - INTERVAL (seq * 86400000000 DIV {per}) MICROSECOND,
  EXP(LN(0.5) + (seq * 7919 % 1000) / 1000 * 8) * 0.9,
  EXP(LN(0.5) + (seq * 7919 % 1000) / 1000 * 8),
  seq % 50 = 0,
  CASE WHEN seq % 100 < 3 THEN 'error' WHEN seq % 100 = 3 THEN 'timeout' ELSE 'success' END
FROM seq_1_to_{per};
SELECT @hi := MAX(id) FROM invocations;
""")
    t1 = time.perf_counter()
    # the rollup, as the record writer does it after each batch (the bench
    # stack must have no other writer meanwhile)
    mysql(f"SELECT @lo := MIN(id), @hi := MAX(id) FROM invocations WHERE function_id IN "
          f"({','.join(str(i) for i in ids)}) AND request_id LIKE 'bench-%';"
          "CALL rollup_invocations(@lo, @hi);")
    return t1 - t0, time.perf_counter() - t1


def cleanup(ids):
    idl = ",".join(str(i) for i in ids)
    mysql(f"DELETE FROM invocations WHERE function_id IN ({idl}) AND request_id LIKE 'bench-%';"
          f"DELETE FROM invocation_rollup WHERE function_id IN ({idl});")
    k = key()
    conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
    for i in range(NFUNC):
        conn.request("DELETE", f"/api/functions/bench-metrics-{i}", headers={"Authorization": f"Bearer {k}"})
        conn.getresponse().read()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--keep", action="store_true")
    a = ap.parse_args()
    k = key()
    ids = create_functions(k)
    existing = int(mysql("SELECT COUNT(*) FROM invocations").strip())
    print(f"# stack {VAR} port {PORT}; {existing} invocations recorded before seeding")
    secs, rsecs = seed(ids, a.rows)
    total = int(mysql("SELECT COUNT(*) FROM invocations").strip())
    rollup = mysql("SELECT res, COUNT(*) FROM invocation_rollup GROUP BY res").split()
    print(f"# seeded {total - existing} rows in {secs:.1f} s ({(total - existing) / secs:,.0f} rows/s), "
          f"rolled up in {rsecs:.1f} s ({(total - existing) / rsecs:,.0f} rows/s); {total} invocations; "
          f"rollup rows per resolution: {dict(zip(rollup[::2], rollup[1::2]))}")
    conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=60)
    paths = [
        ("timeseries 24h, all", "/api/metrics/timeseries?window=24h"),
        ("timeseries 24h, one function", "/api/metrics/timeseries?window=24h&function=bench-metrics-0"),
        ("timeseries 24h, step 60 s", "/api/metrics/timeseries?window=24h&step=60"),
        ("timeseries 1h", "/api/metrics/timeseries?window=1h"),
        ("timeseries 5m (raw)", "/api/metrics/timeseries?window=5m"),
        ("summary (all time)", "/api/metrics/summary"),
        ("/metrics", "/metrics"),
    ]
    failed = False
    pids = stack_pids()
    print(f"# load average {os.getloadavg()[0]:.1f}; server CPU = mariadbd + lambda-api user+sys per request")
    print(f"{'endpoint':32} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'CPU ms':>8}  bytes")
    for name, path in paths:
        call(conn, path, k)  # warm the statement cache and the buffer pool
        ts = []
        c0 = cpu_seconds(pids) * 1000
        for _ in range(a.runs):
            dt, body = call(conn, path, k)
            ts.append(dt)
        cpu = (cpu_seconds(pids) * 1000 - c0) / a.runs
        ts.sort()
        p50 = statistics.median(ts)
        p95 = ts[int(0.95 * (len(ts) - 1))]
        print(f"{name:32} {p50:8.1f} {p95:8.1f} {ts[-1]:8.1f} {cpu:8.1f}  {len(body)}")
        if path.endswith("window=24h") and p50 >= 50:
            failed = True
    d = json.loads(call(conn, "/api/metrics/timeseries?window=24h", k)[1])
    print(f"# 24h totals: {d['totals']['calls']} calls, p50 {d['totals']['p50_ms']} ms, "
          f"p95 {d['totals']['p95_ms']} ms, p99 {d['totals']['p99_ms']} ms")
    if not a.keep:
        cleanup(ids)
    print("target (24 h timeseries p50 < 50 ms):", "missed" if failed else "met")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
