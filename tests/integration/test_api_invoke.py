#!/usr/bin/python3
"""The invocation API against a stand-in executor (fake_executor.py): the
outcomes, the seed's /execute, 429 and 503 mapping, records for every
accepted call (also when the executor dies mid-call), the invocation and
metrics endpoints, and the journal's promises: a clean shutdown loses no
record, and neither does a SIGKILL of the API after its 2xx answers."""

import atexit
import os
import signal
import sys
sys.dont_write_bytecode = True
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import apistack  # noqa: E402
from apitest import Api, Tap, wait_until  # noqa: E402
from fake_executor import FakeExecutor  # noqa: E402

t = Tap()
EXEC_SOCK = os.path.join(apistack.VAR, "run", "fake-executor.sock")
os.makedirs(os.path.dirname(EXEC_SOCK), exist_ok=True)
fake = FakeExecutor(EXEC_SOCK)
# whatever happens below, lambda-api goes back to the stack's own executor
atexit.register(apistack.up)
api = Api(apistack.up(executor_socket=EXEC_SOCK))
sfx = uuid.uuid4().hex[:8]
PY = "def handler(event, context):\n    return event\n"


def create(prefix, **kw):
    body = {"name": f"{prefix}-{sfx}", "runtime": "python", "code": PY}
    body.update(kw)
    r = api.post("/api/functions", body)
    assert r.status == 201, r
    return r.json


def records(fid):
    return int(apistack.sql(f"SELECT COUNT(*) FROM invocations WHERE function_id = {fid}",
                            "lambda").strip())


def record_status(rid):
    return apistack.sql(f"SELECT status FROM invocations WHERE request_id = '{rid}'",
                        "lambda").strip()


echo = create("echo", timeout_ms=1500)
r = api.get("/api/health", key=False)
t.eq((r.status, r.json and r.json["status"]), (200, "ok"), "health: ok with DB and executor")

# ---- outcomes
r = api.post(f"/api/functions/{echo['name']}/invoke", {"a": 1})
j = r.json or {}
t.eq((r.status, j.get("status"), j.get("result")), (200, "success", {"a": 1}), "invoke: success")
t.ok(all(k in j for k in ("request_id", "logs", "duration_ms", "init_ms", "cold", "isolation")),
     "invoke: request_id, logs, duration_ms, init_ms, cold, isolation", j)
t.eq(r.headers.get("x-request-id"), j.get("request_id"), "invoke: X-Request-Id")
sent = fake.invokes[-1]
t.eq((sent["function"]["id"], sent["function"]["timeout_ms"], sent["isolation"],
      sent["function"]["code_dir"].endswith(echo["code_sha256"])),
     (echo["id"], 1500, "docker", True), "INVOKE carries the function, isolation and code_dir")
r = api.post(f"/api/functions/{echo['id']}/invoke?isolation=gvisor", {})
t.eq((r.status, fake.invokes[-1]["isolation"]), (200, "gvisor"), "?isolation=gvisor")
t.eq(api.post(f"/api/functions/{echo['id']}/invoke?isolation=lxc", {}).status, 400,
     "?isolation=lxc: 400")
r = api.call("POST", f"/api/functions/{echo['id']}/invoke", raw=b"{nope")
t.eq((r.status, r.err()), (400, "event: malformed JSON in the request body"), "bad event: 400")
r = api.call("POST", f"/api/functions/{echo['id']}/invoke", raw=b"")
t.eq((r.status, r.json and r.json.get("result")), (200, {}), "empty body: event {}")
r = api.post(f"/api/functions/nope-{sfx}/invoke", {})
t.eq(r.status, 404, "invoke unknown function: 404")
t.eq(api.get(f"/api/functions/{echo['id']}/invoke").status, 405, "GET invoke: 405")

fail = create("fail")
r = api.post(f"/api/functions/{fail['id']}/invoke", {})
t.eq((r.status, r.json and r.json["status"], r.json and r.json["error"]["errorType"]),
     (200, "error", "Runtime.UserError"), "function error: 200 with status error")
slow = create("slow", timeout=1)
r = api.post(f"/api/functions/{slow['id']}/invoke", {})
t.eq((r.json or {}).get("status"), "timeout", "timeout status passed through")

# ---- the seed's execute
seed = api.post("/api/functions", {"name": f"echo-seed-{sfx}", "language": "python",
                                   "timeout": 2}).json
r = api.post("/api/functions/execute", {"id": seed["id"], "args": ["a", "b"],
                                        "use_gvisor": True})
t.eq((r.status, r.json and r.json.get("output"), r.json and r.json.get("error")),
     (200, "a b", None), "execute: {output, error}")
t.eq((fake.invokes[-1]["isolation"], fake.invokes[-1]["args"]), ("gvisor", ["a", "b"]),
     "execute: use_gvisor and args forwarded")
slow_seed = api.post("/api/functions", {"name": f"slow-seed-{sfx}", "language": "python",
                                        "timeout": 3}).json
r = api.post("/api/functions/execute", {"id": slow_seed["id"], "args": []})
t.eq(r.json and r.json.get("error"), "Execution timed out after 3 seconds",
     "execute: the seed's timeout message")
for body, msg in [({}, "id: required"), ({"id": seed["id"], "args": "x"}, "args: must be an array"),
                  ({"id": seed["id"], "use_gvisor": "yes"}, "use_gvisor: must be true or false"),
                  ({"id": "../x"}, "id: must be a function id (positive integer) or name")]:
    r = api.post("/api/functions/execute", body)
    t.eq((r.status, r.err()), (400, msg), f"execute bad input: {msg}")
t.eq(api.post("/api/functions/execute", {"id": 99999999}).status, 404, "execute unknown: 404")

# ---- executor refusals: nothing ran, nothing recorded
busy = create("busy")
r = api.post(f"/api/functions/{busy['id']}/invoke", {})
t.eq((r.status, r.code(), r.headers.get("retry-after")), (429, "too_many_requests", "2"),
     "queue full: 429 with Retry-After")
dock = create("docker")
r = api.post(f"/api/functions/{dock['id']}/invoke", {})
t.eq((r.status, r.err()), (503, "executor unavailable: docker engine not reachable"),
     "docker down: 503 with the executor's message")

# ---- executor died mid-call: 503, recorded as internal
die = create("die")
r = api.post(f"/api/functions/{die['id']}/invoke", {})
t.ok(r.status == 503 and r.err().startswith("executor unavailable: "),
     "executor died mid-call: 503 executor unavailable", r)
t.ok(wait_until(lambda: records(die["id"]) == 1), "died mid-call: one record")
rid = r.headers.get("x-request-id", "")
t.ok(wait_until(lambda: record_status(rid) == "internal"),
     "died mid-call: X-Request-Id names the record", rid)
t.eq(apistack.sql(f"SELECT status FROM invocations WHERE function_id = {die['id']}",
                  "lambda").strip(), "internal", "died mid-call: status internal")
t.eq((records(busy["id"]), records(dock["id"])), (0, 0), "refused calls: no record")

# ---- records of the accepted calls
t.ok(wait_until(lambda: records(echo["id"]) == 3), "one record per accepted invocation",
     records(echo["id"]))
r = api.get(f"/api/invocations?function={echo['name']}&limit=2")
t.ok(r.status == 200 and len(r.json) == 2 and r.headers.get("x-next-cursor"),
     "invocations: filter by function name, limit, cursor", r)
cur = r.headers.get("x-next-cursor")
r2 = api.get(f"/api/invocations?function={echo['id']}&limit=2&cursor={cur}")
t.eq(len(r2.json or []), 1, "invocations: next page")
ids = [x["request_id"] for x in r.json + (r2.json or [])]
t.eq(len(set(ids)), 3, "pages do not overlap")
r = api.get(f"/api/invocations?status=error&function={fail['id']}")
t.eq([x["status"] for x in r.json or []], ["error"], "invocations: filter by status")
t.eq(api.get("/api/invocations?status=weird").status, 400, "bad status filter: 400")
t.eq(api.get("/api/invocations?function=../x").status, 400, "bad function filter: 400")
rid = ids[0]
r = api.get(f"/api/invocations/{rid}")
t.ok(r.status == 200 and r.json["request_id"] == rid and r.json["logs"] == "hi\n"
     and r.json["function_version"] == 1 and r.json["isolation"] in ("docker", "gvisor"),
     "invocation by request_id, with logs", r)
t.eq(api.get("/api/invocations/" + str(uuid.uuid4())).status, 404, "unknown request_id: 404")
t.eq(api.get("/api/invocations/nope").status, 400, "malformed request_id: 400")

r = api.get(f"/api/metrics?function_id={fail['id']}")
row = (r.json or [{}])[0]
t.ok(r.status == 200 and set(row) >= {"function_id", "timestamp", "execution_time",
                                      "was_error", "error_message"}
     and row["was_error"] is True and row["error_message"] == "boom",
     "metrics: the seed's raw rows", r)
r = api.get(f"/api/metrics/summary?function_id={echo['id']}")
t.ok(r.status == 200 and r.json[0]["function_id"] == echo["id"] and r.json[0]["total_calls"] == 3
     and r.json[0]["error_count"] == 0 and "avg_time" in r.json[0], "metrics summary", r)

# ---- drains on update and delete
n = len(fake.drains)
api.put(f"/api/functions/{echo['id']}", {"memory_mb": 256})
api.delete(f"/api/functions/{fail['id']}")
t.eq(fake.drains[n:], [echo["id"], fail["id"]], "DRAIN sent on update and delete")

# ---- clean shutdown loses nothing
logs = create("logs")
N = 200
for i in range(N):
    api.post(f"/api/functions/{logs['id']}/invoke", {"i": i})
apistack.web_stop()
t.eq(records(logs["id"]), N, f"clean shutdown right after {N} calls: all {N} recorded")
t.eq([f for f in os.listdir(os.path.join(apistack.VAR, "journal"))], [],
     "clean shutdown: journals flushed and removed")

# ---- SIGKILL after 2xx: the next worker replays
apistack.up(executor_socket=EXEC_SOCK)
k = create("echo-kill")
# hold the records in the journals: the writers cannot insert while the
# table is away (the calls themselves do not need it)
apistack.sql("RENAME TABLE invocations TO invocations_hold", "lambda")
oks = []
for i in range(30):
    r = api.post(f"/api/functions/{k['id']}/invoke", {"i": i})
    if r.status == 200:
        oks.append(r.json["request_id"])
t.eq(len(oks), 30, "30 calls answered 200 while records cannot be inserted")
jdir = os.path.join(apistack.VAR, "journal")
t.ok(sum(os.path.getsize(os.path.join(jdir, f)) for f in os.listdir(jdir)) > 0,
     "their records wait in the journals")
for pid in apistack.api_pids():
    os.kill(pid, signal.SIGKILL)
time.sleep(0.3)
apistack.sql("RENAME TABLE invocations_hold TO invocations", "lambda")
LOGS = [os.path.join(apistack.VAR, "log", n) for n in ("lighttpd.log", "api.log")]
marks = {p: os.path.getsize(p) for p in LOGS if os.path.exists(p)}
# lighttpd starts new workers on demand; they replay the dead ones' journals
wait_until(lambda: api.get("/api/health", key=False).status == 200, timeout=10)
t.ok(wait_until(lambda: records(k["id"]) == 30, timeout=10),
     "after SIGKILL every 2xx invocation has its record", records(k["id"]))
got = set(apistack.sql(f"SELECT request_id FROM invocations WHERE function_id = {k['id']}",
                       "lambda").split())
t.eq(got, set(oks), "exactly the answered request ids, once each")
def new_log_text():
    text = ""
    for p in LOGS:
        if os.path.exists(p):
            with open(p, errors="replace") as f:
                f.seek(marks.get(p, 0))
                text += f.read()
    return text


t.ok("replayed " in new_log_text(), "a new worker replayed the dead workers' journals")
t.ok(wait_until(lambda: not any(int(f.split("-")[1]) not in apistack.api_pids()
                                for f in os.listdir(jdir) if f.startswith("api-"))),
     "replayed journals removed", os.listdir(jdir))

# ---- executor gone: 503, not a hang
fake.stop()
t0 = time.time()
r = api.post(f"/api/functions/{echo['id']}/invoke", {})
t.ok(r.status == 503 and r.err().startswith("executor unavailable: ") and time.time() - t0 < 2,
     "no executor: 503 executor unavailable, fast", r)
r = api.get("/api/health", key=False)
t.eq((r.status, r.json and r.json["executor"]["ok"]), (503, False), "health: executor down")
t.done()
