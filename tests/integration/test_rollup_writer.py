#!/usr/bin/python3
"""The metrics rollup the record writer computes itself (fcgi-app/db_metrics.c, rollup_in_c)
for a batch whose rows all went in: calls through the API with known outcomes and latencies,
then every column of invocation_rollup (three resolutions: counts by status, cold, sum, min,
max, last_at, the 32 histogram buckets) against the same figures computed here from the raw
invocations rows, and no CALL rollup_invocations on the way (the procedure remains for
replays with duplicates, tests/integration/test_reporting.py). Also two other promises of the
writer: a record without logs gets no invocation_logs row (and still reads as empty logs), and
a rollup statement of a recurring shape stays prepared across batches (db_exec_values)."""

import datetime
import os
import subprocess
import threading
import time

import harness as h

t = h.Tap()

MYSQL = ["mariadb", "--no-defaults", f"--socket={os.path.join(h.VAR, 'run', 'mysql.sock')}",
         "-uroot", "--batch", "--skip-column-names", "lambda"]
# schema/052's CASE: bucket i counts bound[i-1] < d <= bound[i]; the last is +Inf
BOUNDS = [0.25, 0.5, 1, 1.5, 2, 3, 5, 7.5, 10, 15, 20, 30, 50, 75, 100, 150, 200, 300, 500, 750,
          1000, 1500, 2000, 3000, 5000, 7500, 10000, 15000, 30000, 60000, 300000]
STATUSES = ["success", "error", "timeout", "oom", "killed", "internal"]
HANDLER = ("import time\ndef handler(event, context):\n    time.sleep(event.get('s', 0))\n"
           "    if event.get('fail'):\n        raise ValueError('asked to fail')\n"
           "    return event\n")
EVENTS = [{"s": 0}, {"s": 0}, {"s": 0.003}, {"s": 0.012}, {"s": 0, "fail": True},
          {"s": 0.06}, {"s": 0}, {"s": 0.25}, {"s": 0.004, "fail": True}, {"s": 0}]


def sql(text):
    p = subprocess.run(MYSQL, input=text, capture_output=True, text=True, timeout=120)
    h.check(p.returncode == 0, f"mariadb failed: {p.stderr}\n{text[:500]}")
    return [line.split("\t") for line in p.stdout.splitlines()]


def calls_procedure():
    return int(sql("SHOW GLOBAL STATUS LIKE 'Com_call_procedure'")[0][1])


def epoch(at):
    d = datetime.datetime.strptime(at, "%Y-%m-%d %H:%M:%S.%f")
    return int(d.replace(tzinfo=datetime.timezone.utc).timestamp())


def bucket_of(ms):
    for i, b in enumerate(BOUNDS):
        if ms <= b:
            return i
    return len(BOUNDS)


NAME = h.unique_name("rollup")
st, _, body = h.api("POST", "/api/functions", {"name": NAME, "runtime": "python",
                                                "handler": "main.handler", "code": HANDLER})
FID = body["id"] if st == 201 else None
PROC0 = None


@t.test("calls with known outcomes are recorded")
def _():
    global PROC0
    h.check(FID is not None, f"create function: {st} {body!r}")
    PROC0 = calls_procedure()
    for ev in EVENTS:
        code, _, out = h.api("POST", f"/api/functions/{NAME}/invoke", ev)
        h.check(code == 200, f"invoke {ev}: {code} {out!r}")
    deadline = time.time() + 20
    n = 0
    while time.time() < deadline:
        n = int(sql(f"SELECT COUNT(*) FROM invocations WHERE function_id = {FID}")[0][0])
        rolled = sql(f"SELECT COALESCE(SUM(calls), 0) FROM invocation_rollup "
                     f"WHERE res = 86400 AND function_id = {FID}")[0][0]
        if n == len(EVENTS) and int(rolled) == n:
            break
        time.sleep(0.2)
    h.check_eq(n, len(EVENTS), "records")


@t.test("a record without logs has no invocation_logs row; its logs still read as empty")
def _():
    rows = sql("SELECT i.request_id, i.status, l.request_id IS NOT NULL, LENGTH(l.logs) "
               "FROM invocations i LEFT JOIN invocation_logs l ON l.request_id = i.request_id "
               f"WHERE i.function_id = {FID}")
    h.check_eq(len(rows), len(EVENTS), "records")
    quiet = [r for r in rows if r[1] == "success"]
    loud = [r for r in rows if r[1] == "error"]  # the bootstrap logs the exception
    h.check(quiet and loud, f"both kinds: {rows}")
    h.check(all(r[2] == "0" for r in quiet), f"no logs row for calls that printed nothing: {quiet}")
    h.check(all(r[2] == "1" and int(r[3]) > 0 for r in loud), f"a logs row for the others: {loud}")
    code, _, inv = h.api("GET", f"/api/invocations/{quiet[0][0]}")
    h.check(code == 200 and inv["logs"] == "" and inv["logs_truncated"] is False,
            f"GET without a logs row: {code} {inv!r}")
    code, _, inv = h.api("GET", f"/api/invocations/{loud[0][0]}")
    h.check(code == 200 and "asked to fail" in inv["logs"], f"GET with logs: {code} {inv!r}")


@t.test("every rollup column equals the raw records' figures, at every resolution")
def _():
    raw = sql("SELECT DATE_FORMAT(started_at, '%Y-%m-%d %H:%i:%s.%f'), total_ms, status, cold, "
              f"isolation, function_name FROM invocations WHERE function_id = {FID}")
    h.check_eq(len(raw), len(EVENTS), "raw rows")
    h.check({r[2] for r in raw} == {"success", "error"}, f"statuses {[r[2] for r in raw]}")
    for res in (60, 600, 86400):
        want = {}
        for at, ms, status, cold, iso, name in raw:
            at = at[:23]  # %f is microseconds; the column keeps ms
            ms = float(ms)
            key = (epoch(at) // res * res, iso)
            g = want.setdefault(key, {"name": name, "calls": 0, "st": [0] * 6, "cold": 0,
                                      "sum": 0.0, "min": ms, "max": ms, "last": at,
                                      "hist": [0] * 32})
            g["calls"] += 1
            g["st"][STATUSES.index(status)] += 1
            g["cold"] += int(cold) != 0
            g["sum"] += ms
            g["min"] = min(g["min"], ms)
            g["max"] = max(g["max"], ms)
            g["last"] = max(g["last"], at)
            g["hist"][bucket_of(ms)] += 1
        rows = sql("SELECT bucket, isolation, function_name, calls, n_success, n_error, n_timeout, "
                   "n_oom, n_killed, n_internal, cold, sum_ms, min_ms, max_ms, "
                   "DATE_FORMAT(last_at, '%Y-%m-%d %H:%i:%s.%f'), "
                   + ", ".join("h%02d" % i for i in range(32))
                   + f" FROM invocation_rollup WHERE res = {res} AND function_id = {FID}")
        got = {}
        for r in rows:
            got[(int(r[0]), r[1])] = {
                "name": r[2], "calls": int(r[3]), "st": [int(x) for x in r[4:10]],
                "cold": int(r[10]), "sum": float(r[11]), "min": float(r[12]),
                "max": float(r[13]), "last": r[14][:23], "hist": [int(x) for x in r[15:47]]}
        h.check_eq(sorted(got), sorted(want), f"res {res}: buckets")
        for key, w in want.items():
            g = got.get(key)
            if g is None:
                continue
            for k in ("sum", "min", "max"):
                h.check(abs(g[k] - w[k]) < 1e-6, f"res {res} {key} {k}: {g[k]} != {w[k]}")
                g[k] = w[k]
            h.check_eq(g, w, f"res {res} {key}")


@t.test("the writer rolled them up itself: no CALL rollup_invocations")
def _():
    h.check_eq(calls_procedure() - PROC0, 0, "CALLs of the procedure while the calls were written")


@t.test("the rollup's statement stays prepared across batches of its shape")
def _():
    def prepared():
        return int(sql("SHOW GLOBAL STATUS LIKE 'Com_stmt_prepare'")[0][1])

    # One call per writer batch (it flushes every 50 ms): each batch inserts one invocation
    # row (a shape that is not kept: prepared every time) and its rollup rows (kept: prepared
    # once). Every statement prepared and closed again would make 2 per batch.
    n = 10
    before = int(sql(f"SELECT COUNT(*) FROM invocations WHERE function_id = {FID}")[0][0])
    p0 = prepared()
    for _ in range(n):
        code, _, out = h.api("POST", f"/api/functions/{NAME}/invoke", {"s": 0})
        h.check(code == 200, f"invoke: {code} {out!r}")
        time.sleep(0.25)
    deadline = time.time() + 10
    while time.time() < deadline:
        if int(sql(f"SELECT COUNT(*) FROM invocations WHERE function_id = {FID}")[0][0]) \
                == before + n:
            break
        time.sleep(0.1)
    d = prepared() - p0
    h.check(d <= n + n // 2, f"{d} statements prepared for {n} batches (want <= {n + n // 2}; "
                              f"prepared afresh every time, they make {2 * n})")


MANY = [h.unique_name("rollup-many") for _ in range(32)]


@t.test("32 functions called at once: batches of more rollup rows than a statement binds")
def _():
    ids = []
    for name in MANY:
        code, _, out = h.api("POST", "/api/functions", {"name": name, "runtime": "python",
                                                         "handler": "main.handler", "code": HANDLER})
        h.check(code == 201, f"create {name}: {code} {out!r}")
        ids.append(out["id"])
    proc0 = calls_procedure()
    for rnd in range(2):  # the first round starts the containers, the second lands together
        errors = []

        def call(name):
            code, _, out = h.api("POST", f"/api/functions/{name}/invoke", {"s": 0})
            if code != 200:
                errors.append((name, code, out))
        ths = [threading.Thread(target=call, args=(n,)) for n in MANY]
        for th in ths:
            th.start()
        for th in ths:
            th.join(120)
        h.check(not errors, f"round {rnd}: {errors[:3]}")
    idl = ",".join(str(i) for i in ids)
    deadline = time.time() + 20
    while time.time() < deadline:
        raw = sql(f"SELECT COUNT(*) FROM invocations WHERE function_id IN ({idl})")[0][0]
        if int(raw) == 2 * len(MANY):
            break
        time.sleep(0.2)
    time.sleep(0.5)  # the rollup follows its batch's insert
    want = sql(f"SELECT function_id, COUNT(*) FROM invocations WHERE function_id IN ({idl}) "
               "GROUP BY function_id ORDER BY function_id")
    h.check_eq(len(want), len(MANY), "every function has its records")
    for res in (60, 600, 86400):
        got = sql(f"SELECT function_id, SUM(calls) FROM invocation_rollup WHERE res = {res} "
                  f"AND function_id IN ({idl}) GROUP BY function_id ORDER BY function_id")
        h.check_eq(got, want, f"res {res}: calls per function")
    h.check_eq(calls_procedure() - proc0, 0, "no CALL of the procedure")
    for name in MANY:
        h.api("DELETE", f"/api/functions/{name}")


@t.test("clean-up: the test's function is deleted")
def _():
    h.check_eq(h.api("DELETE", f"/api/functions/{NAME}")[0], 204, "delete")


t.done()
