#!/usr/bin/python3
"""Event (async) invocations are retried like AWS's: a run that ends in
error or timeout runs again, up to api.event_max_attempts (3) in all, after
api.event_retry_delay_ms (1 s) and then twice that (2 s); success stops the
retries; each attempt has its own invocation record with its attempt
number (docs/aws.md "Event (async) invocations")."""

import datetime
import json
import time

import aws_common as a
import harness as h

t = h.Tap()
try:
    import boto3  # noqa: F401
except ImportError:
    t.skip_all("boto3 missing (apt-get install python3-boto3; run with /usr/bin/python3)")

DELAY_S = 1.0  # api.event_retry_delay_ms, the default the test stack runs with

ALWAYS = '''\
def lambda_handler(event, context):
    raise RuntimeError("always fails: " + str(event.get("n")))
'''

# Fails unless /tmp/seen exists, and creates it: the first run in a
# container fails, the next ones succeed.  The function's concurrency is 1
# and a handled error keeps the container, so a retry finds the marker; the
# test checks that both attempts ran in the same container.
FIRST_FAILS = '''\
import os


def lambda_handler(event, context):
    marker = "/tmp/seen-" + str(event.get("n"))
    if not os.path.exists(marker):
        open(marker, "w").close()
        raise RuntimeError("first run fails")
    return {"ok": event.get("n")}
'''

SLEEPS = '''\
import time


def lambda_handler(event, context):
    time.sleep(event.get("sleep", 0))
    return "slept"
'''

c = a.boto3_client()
ALWAYS_FN, FIRST_FN, SLOW_FN = (h.unique_name(p) for p in ("rt-always", "rt-first", "rt-slow"))


sql = a.sql


def create(name, code, timeout=30):
    c.create_function(FunctionName=name, Runtime="python3.12", Role=a.ROLE,
                      Handler="lambda_function.lambda_handler", Timeout=timeout,
                      Code={"ZipFile": a.make_zip({"lambda_function.py": code})})


def enqueue(name, payload):
    r = c.invoke(FunctionName=name, InvocationType="Event", Payload=json.dumps(payload))
    h.check_eq(r["StatusCode"], 202, "StatusCode")
    return r["ResponseMetadata"]["HTTPHeaders"]["x-amzn-requestid"]


def queue_row(rid):
    rows = sql("SELECT state, attempts, IFNULL(result_status, '') FROM event_queue "
               f"WHERE request_id = '{rid}'")
    return rows[0] if rows else None


def settled(rid):
    r = queue_row(rid)
    return r if r and r[0] in ("done", "failed") else None


def records(name):
    """(attempt, status, started_at, request_id, container) of the
    function's records, oldest first."""
    rows = sql("SELECT attempt, status, DATE_FORMAT(started_at, '%Y-%m-%d %H:%i:%s.%f'), "
               "request_id, IFNULL(container, '') FROM invocations "
               f"WHERE function_name = '{name}' ORDER BY started_at, id")
    return [(int(r[0]), r[1], datetime.datetime.fromisoformat(r[2]), r[3], r[4]) for r in rows]


def wait_records(name, n, timeout=30):
    return h.wait_until(lambda: (r := records(name)) and len(r) >= n and r,
                        timeout=timeout, interval=0.2) or records(name)


@t.test("setup: an always-failing, a first-run-failing and a sleeping function")
def _():
    create(ALWAYS_FN, ALWAYS)
    create(FIRST_FN, FIRST_FAILS)
    create(SLOW_FN, SLEEPS, timeout=1)
    status, _, body = h.api("PUT", f"/api/functions/{FIRST_FN}", {"concurrency": 1})
    h.check_eq(status, 200, f"concurrency 1: {body}")


@t.test("an always-failing Event runs 3 times (attempts 1, 2, 3), spaced by >= 1 s then >= 2 s")
def _():
    rid = enqueue(ALWAYS_FN, {"n": 1})
    row = h.wait_until(lambda: settled(rid), timeout=60, interval=0.2)
    h.check(row, f"not settled within 60 s: {queue_row(rid)}")
    h.check_eq(row, ["done", "3", "error"], "state, attempts, last status")
    recs = wait_records(ALWAYS_FN, 3)
    time.sleep(DELAY_S * 4 + 1)  # a 4th attempt would be due by now
    recs = records(ALWAYS_FN)
    h.check_eq([(r[0], r[1]) for r in recs], [(1, "error"), (2, "error"), (3, "error")],
               "attempts and statuses")
    h.check_eq(recs[0][3], rid, "attempt 1 has the request id the client got")
    h.check(len({r[3] for r in recs}) == 3, f"request ids not distinct: {[r[3] for r in recs]}")
    gaps = [(recs[i + 1][2] - recs[i][2]).total_seconds() for i in range(2)]
    h.check(gaps[0] >= DELAY_S, f"attempt 2 came {gaps[0]:.3f} s after attempt 1 (< 1 s)")
    h.check(gaps[1] >= 2 * DELAY_S, f"attempt 3 came {gaps[1]:.3f} s after attempt 2 (< 2 s)")
    print(f"# figure: retry gaps = {gaps[0]:.2f} s, {gaps[1]:.2f} s")
    # the REST API shows the attempt too
    status, _, body = h.api("GET", f"/api/invocations/{recs[2][3]}")
    h.check_eq((status, body.get("attempt"), body.get("source")), (200, 3, "event"),
               "/api/invocations of attempt 3")


@t.test("a function failing on its first run only: attempt 1 error, attempt 2 success, no 3rd")
def _():
    rid = enqueue(FIRST_FN, {"n": 7})
    row = h.wait_until(lambda: settled(rid), timeout=60, interval=0.2)
    h.check(row, f"not settled within 60 s: {queue_row(rid)}")
    h.check_eq(row, ["done", "2", "success"], "state, attempts, last status")
    wait_records(FIRST_FN, 2)
    time.sleep(DELAY_S * 2 + 1)  # a 3rd attempt would be due by now
    recs = records(FIRST_FN)
    h.check_eq([(r[0], r[1]) for r in recs], [(1, "error"), (2, "success")],
               "attempts and statuses")
    h.check_eq(recs[0][4], recs[1][4], "both attempts ran in the one container")
    h.check((recs[1][2] - recs[0][2]).total_seconds() >= DELAY_S, "attempt 2 came too early")


@t.test("a timeout is retried like an error; a success is never retried")
def _():
    slow = enqueue(SLOW_FN, {"sleep": 3})
    fast = enqueue(SLOW_FN, {"sleep": 0})
    for rid, want in ((slow, ["done", "3", "timeout"]), (fast, ["done", "1", "success"])):
        row = h.wait_until(lambda rid=rid: settled(rid), timeout=90, interval=0.2)
        h.check_eq(row, want, f"state, attempts, last status of {rid}")
    recs = wait_records(SLOW_FN, 4)
    h.check_eq(sorted((r[0], r[1]) for r in recs),
               [(1, "success"), (1, "timeout"), (2, "timeout"), (3, "timeout")],
               "attempts and statuses")


@t.test("clean up")
def _():
    for name in (ALWAYS_FN, FIRST_FN, SLOW_FN):
        c.delete_function(FunctionName=name)


t.done()
