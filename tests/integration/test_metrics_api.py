#!/usr/bin/python3
"""Metrics endpoints (issue 5): /api/metrics/timeseries, /api/metrics/summary,
/api/pools, /api/stats and /metrics (Prometheus), with empty data, known
seeded records (exact percentiles from raw rows, histogram percentiles from
the per-minute rollup), every bad parameter (400 with its message), no key
(401), and the executor down (503 / partial answers)."""

import os
import re
import subprocess
import uuid

import harness as h

t = h.Tap()

MYSQL = ["mariadb", "--no-defaults", f"--socket={os.path.join(h.VAR, 'run', 'mysql.sock')}",
         "-uroot", "--batch", "--skip-column-names", "lambda"]


def sql(text):
    p = subprocess.run(MYSQL, input=text, capture_output=True, text=True, timeout=60)
    h.check(p.returncode == 0, f"mariadb failed: {p.stderr}")
    return p.stdout


def create_function(name):
    status, _, body = h.api("POST", "/api/functions", {
        "name": name, "runtime": "python", "handler": "main.handler",
        "code": "def handler(event, context):\n    return event\n"})
    h.check_eq(status, 201, f"create {name}: {body!r}")
    return body["id"]


def get(path, key=h._DEFAULT):
    return h.api("GET", path, key=key)


def bad(path, message, status=400):
    st, _, body = get(path)
    h.check_eq(st, status, f"status of {path}")
    h.check(isinstance(body, dict) and "error" in body, f"error shape: {body!r}")
    h.check_eq(body["error"]["message"], message, f"message of {path}")


EMPTY = h.unique_name("mempty")
SEEDED = h.unique_name("mseed")
empty_id = create_function(EMPTY)
seeded_id = create_function(SEEDED)

# Ten records 30 s ago: durations 1..10 ms; statuses 7 success, error,
# timeout, oom; 2 cold; 6 docker, 4 gvisor.
STATUSES = ["success"] * 7 + ["error", "timeout", "oom"]
rows = []
for i in range(10):
    rows.append("('{rid}', {fid}, '{name}', 1, '{iso}', UTC_TIMESTAMP(3) - INTERVAL 30 SECOND, "
                "{d}, {d}, {cold}, '{st}')".format(
                    rid=str(uuid.uuid4()), fid=seeded_id, name=SEEDED,
                    iso="docker" if i < 6 else "gvisor", d=i + 1, cold=1 if i in (0, 9) else 0,
                    st=STATUSES[i]))
# Inserted as the record writer does, then rolled up with the procedure the
# writer calls after each batch (schema/052).
sql("INSERT INTO invocations (request_id, function_id, function_name, function_version, "
    "isolation, started_at, duration_ms, total_ms, cold, status) VALUES " + ",\n".join(rows) + ";"
    f"SELECT @lo := MIN(id), @hi := MAX(id) FROM invocations WHERE function_id = {seeded_id};"
    "CALL rollup_invocations(@lo, @hi);")


@t.test("every metrics route refuses a request without a key (401)")
def _():
    for path in ("/api/metrics/timeseries", "/api/metrics/summary", "/api/pools",
                 "/api/stats", "/metrics"):
        st, _, body = get(path, key=None)
        h.check_eq(st, 401, f"status of {path}")
        h.check(isinstance(body, dict) and body.get("error", {}).get("code") == "unauthorized",
                f"{path}: {body!r}")


@t.test("timeseries of a function without calls: 30 empty buckets, null percentiles")
def _():
    st, _, d = get(f"/api/metrics/timeseries?function={EMPTY}")
    h.check_eq(st, 200, "status")
    h.check_eq(d["window"], "5m", "default window")
    h.check_eq(d["step_s"], 10, "default step")
    h.check_eq(d["source"], "raw", "source")
    h.check_eq(len(d["buckets"]), 30, "buckets")
    h.check_eq(d["function"], {"id": empty_id, "name": EMPTY}, "function")
    h.check_eq(d["totals"]["calls"], 0, "calls")
    h.check(d["totals"]["p50_ms"] is None and d["totals"]["error_rate"] is None,
            f"totals {d['totals']!r}")
    h.check_eq(d["to"] - d["from"], 300, "range")
    h.check(all(b["ts"] % 10 == 0 for b in d["buckets"]), "bucket times aligned to the step")


@t.test("timeseries 5m over seeded records: exact counts and percentiles")
def _():
    st, _, d = get(f"/api/metrics/timeseries?window=5m&function={seeded_id}")
    h.check_eq(st, 200, "status")
    tot = d["totals"]
    h.check_eq(tot["calls"], 10, "calls")
    h.check_eq(tot["errors"], 3, "errors")
    h.check_eq(tot["by_status"], {"success": 7, "error": 1, "timeout": 1, "oom": 1,
                                  "killed": 0, "internal": 0}, "by_status")
    h.check_eq(tot["cold"], 2, "cold")
    h.check_eq(tot["p50_ms"], 5.5, "p50")
    h.check_eq(tot["p95_ms"], 9.55, "p95")
    h.check_eq(tot["p99_ms"], 9.91, "p99")
    h.check_eq(tot["error_rate"], 0.3, "error rate")
    h.check_eq(tot["cold_rate"], 0.2, "cold rate")
    h.check_eq(tot["by_isolation"]["docker"]["calls"], 6, "docker calls")
    h.check_eq(tot["by_isolation"]["gvisor"]["calls"], 4, "gvisor calls")
    h.check_eq(tot["by_isolation"]["gvisor"]["p50_ms"], 8.5, "gvisor p50")
    busy = [b for b in d["buckets"] if b["calls"]]
    h.check_eq(len(busy), 1, "all ten in one bucket")
    h.check_eq(sum(b["calls"] for b in d["buckets"]), 10, "sum over buckets")


@t.test("timeseries 1h and 24h answer from the rollup with histogram percentiles")
def _():
    for win, step, n in (("1h", 60, 60), ("24h", 600, 144)):
        st, _, d = get(f"/api/metrics/timeseries?window={win}&function={SEEDED}")
        h.check_eq(st, 200, f"{win} status")
        h.check_eq((d["source"], d["step_s"], len(d["buckets"])), ("rollup", step, n), win)
        tot = d["totals"]
        h.check_eq(tot["calls"], 10, f"{win} calls")
        h.check_eq(tot["errors"], 3, f"{win} errors")
        # 5.5 ms lies in the histogram bucket (5, 7.5]; p99 within the max 10
        h.check(5 <= tot["p50_ms"] <= 7.5, f"{win} p50 {tot['p50_ms']}")
        h.check(7.5 <= tot["p99_ms"] <= 10, f"{win} p99 {tot['p99_ms']}")
        h.check_eq(tot["max_ms"], 10, f"{win} max")
        h.check_eq(tot["avg_ms"], 5.5, f"{win} avg")


@t.test("timeseries without a function counts every function")
def _():
    st, _, d = get("/api/metrics/timeseries?window=1h")
    h.check_eq(st, 200, "status")
    h.check(d["function"] is None, "function is null")
    h.check(d["totals"]["calls"] >= 10, f"calls {d['totals']['calls']}")


@t.test("timeseries steps: limits just inside succeed")
def _():
    for q, n in (("window=5m&step=1", 300), ("window=5m&step=5m", 1), ("window=24h&step=60", 1440),
                 ("window=1h&step=2m", 30), ("window=24h&step=1h", 24)):
        st, _, d = get(f"/api/metrics/timeseries?{q}")
        h.check_eq(st, 200, f"{q} status")
        h.check_eq(len(d["buckets"]), n, f"{q} buckets")


@t.test("timeseries bad parameters: 400 naming the parameter")
def _():
    base = "/api/metrics/timeseries?"
    bad(base + "window=2h", "window: must be one of 5m, 1h, 24h")
    bad(base + "window=5m&step=301", "step: at most the window (300 s)")
    bad(base + "window=5m&step=0", "step: at least 1 s for window 5m")
    bad(base + "step=ten", "step: expected a number of seconds such as 10, 30s, 5m or 1h")
    bad(base + "step=-10", "step: expected a number of seconds such as 10, 30s, 5m or 1h")
    bad(base + "window=24h&step=59", "step: at least 60 s for window 24h")
    bad(base + "window=1h&step=90", "step: must be a multiple of 60 s for window 1h")
    bad(base + "function=../x", "function: must be an id or a name matching [A-Za-z0-9_-]{1,64}")
    bad(base + "function=" + "a" * 65, "function: must be an id or a name matching [A-Za-z0-9_-]{1,64}")
    st, _, body = get(base + "function=" + h.unique_name("nope"))
    h.check_eq(st, 404, "unknown function")
    h.check_eq(body["error"]["code"], "not_found", "code")


@t.test("summary: the seed's fields plus percentiles, error rate and last call")
def _():
    st, _, arr = get(f"/api/metrics/summary?function_id={seeded_id}")
    h.check_eq(st, 200, "status")
    h.check(isinstance(arr, list) and len(arr) == 1, f"one row: {arr!r}")
    r = arr[0]
    h.check_eq(r["function_id"], seeded_id, "function_id")
    h.check_eq(r["total_calls"], 10, "total_calls")
    h.check_eq(r["error_count"], 3, "error_count")
    h.check(abs(r["avg_time"] - 0.0055) < 1e-9, f"avg_time (seconds) {r['avg_time']}")
    h.check(5 <= r["p50_ms"] <= 7.5 and r["p95_ms"] <= 10 and r["p99_ms"] <= 10, f"{r!r}")
    h.check_eq(r["error_rate"], 0.3, "error_rate")
    h.check_eq(r["function_name"], SEEDED, "function_name")
    h.check(re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z$", r["last_call_at"] or ""),
            f"last_call_at {r['last_call_at']!r}")
    st, _, arr = get(f"/api/metrics/summary?function_id={empty_id}")
    h.check_eq((st, arr), (200, []), "no calls: no row")
    st, _, arr = get(f"/api/metrics/summary?window=1h&function_id={seeded_id}")
    h.check_eq((st, arr[0]["total_calls"]), (200, 10), "window=1h")
    st, _, arr = get("/api/metrics/summary")
    h.check(st == 200 and any(x["function_id"] == seeded_id for x in arr), "all functions")
    bad("/api/metrics/summary?window=1y", "window: must be one of 5m, 1h, 24h")
    bad("/api/metrics/summary?function_id=x", "function_id: must be an integer between 1 and 4611686018427387904")


@t.test("/metrics: Prometheus text with counters, a consistent histogram and pool gauges")
def _():
    st, hd, body = h.api("GET", "/metrics", raw=True)
    h.check_eq(st, 200, "status")
    h.check(hd.get("content-type", "").startswith("text/plain; version=0.0.4"), f"type {hd}")
    text = body.decode()
    lab = f'function="{SEEDED}",isolation="docker"'
    h.check(f"lambda_invocations_total{{{lab},status=\"success\"}} 6" in text, "success counter")
    h.check(f'lambda_invocations_total{{function="{SEEDED}",isolation="gvisor",status="oom"}} 1' in text,
            "oom counter")
    h.check(f"lambda_cold_starts_total{{{lab}}} 1" in text, "cold starts")
    h.check(f'lambda_invocation_duration_seconds_bucket{{{lab},le="+Inf"}} 6' in text, "+Inf bucket")
    h.check(f'lambda_invocation_duration_seconds_bucket{{{lab},le="0.005"}} 5' in text,
            "le=0.005 bucket (1..5 ms)")
    h.check(f"lambda_invocation_duration_seconds_count{{{lab}}} 6" in text, "count")
    h.check(f"lambda_invocation_duration_seconds_sum{{{lab}}} 0.021" in text, "sum (seconds)")
    h.check("lambda_executor_up 1" in text and "# TYPE lambda_pool_containers gauge" in text,
            "pool gauges")
    # every sample line belongs to a declared family, and each family once
    types = re.findall(r"^# TYPE (\S+) ", text, re.M)
    h.check_eq(len(types), len(set(types)), "families declared once")
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name = re.match(r"[a-zA-Z_:][a-zA-Z0-9_:]*", line).group(0)
            h.check(any(name == f or name.startswith(f + "_") for f in types), f"undeclared: {line}")


@t.test("/api/pools and /api/stats: executor and host figures")
def _():
    st, _, p = get("/api/pools")
    h.check_eq(st, 200, "pools status")
    h.check(isinstance(p.get("containers"), list) and "prewarmed" in p, f"pools {p!r}")
    st, _, s = get("/api/stats")
    h.check_eq(st, 200, "stats status")
    host = s["host"]
    h.check(host["mem_total_bytes"] > host["mem_available_bytes"] > 0, f"memory {host!r}")
    h.check(host["cpus"] >= 1, "cpus")
    h.check(host["cpu_percent"] is None or 0 <= host["cpu_percent"] <= 100, f"cpu {host!r}")
    h.check(s["executor"]["ok"] is True and isinstance(s["containers"], (int, float)), f"{s!r}")


@t.test("executor down: pools 503, stats still 200 with executor.ok false, /metrics executor_up 0")
def _():
    try:
        h.stack("stop", "executor")
        st, _, body = get("/api/pools")
        h.check_eq(st, 503, "pools status")
        h.check(body["error"]["message"].startswith("executor unavailable"), f"{body!r}")
        st, _, s = get("/api/stats")
        h.check_eq(st, 200, "stats status")
        h.check(s["executor"]["ok"] is False and s["containers"] is None, f"{s!r}")
        h.check(s["host"]["mem_total_bytes"] > 0, "host figures still there")
        st, _, body = h.api("GET", "/metrics", raw=True)
        h.check(st == 200 and b"lambda_executor_up 0" in body, "executor_up 0")
    finally:
        h.stack("start", "executor")
    h.check(h.wait_until(lambda: get("/api/pools")[0] == 200, timeout=20), "pools back")



@t.test("clean-up: the test's functions are deleted")
def _():
    for name in (EMPTY, SEEDED):
        h.check_eq(h.api("DELETE", f"/api/functions/{name}")[0], 204, f"delete {name}")


t.done()
