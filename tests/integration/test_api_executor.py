#!/usr/bin/python3
"""The invocation API through the real executor (Docker runc, and gVisor when
runsc is registered): AWS- and seed-style Python and Node functions,
errors, timeouts with both messages, a new version after an update, the
records, and the executor dying mid-call (503, recorded `internal`, then
back by itself)."""

import base64
import io
import json
import os
import sys
import threading
import time
import uuid
import zipfile

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import apistack  # noqa: E402
import harness as h  # noqa: E402
from apitest import Api, Tap, wait_until  # noqa: E402

t = Tap()
exe = h.EXECUTOR_BIN
if not os.access(exe, os.X_OK):
    print(f"1..0 # SKIP executor not built ({exe})")
    sys.exit(77)
api = Api(apistack.up())
if not wait_until(lambda: api.get("/api/health", key=False).status == 200, timeout=30):
    r = api.get("/api/health", key=False)
    print(f"1..0 # SKIP executor or Docker not available: {r.body[:200]!r}")
    sys.exit(77)
sfx = uuid.uuid4().hex[:8]


def create(name, **body):
    body["name"] = f"{name}-{sfx}"
    r = api.post("/api/functions", body)
    assert r.status == 201, r
    return r.json


def status_of(rid):
    return apistack.sql(f"SELECT status FROM invocations WHERE request_id = '{rid}'",
                        "lambda").strip()


PY = ("import os\n"
      "def handler(event, context):\n"
      "    print('log line')\n"
      "    return {'echo': event, 'rid': context.aws_request_id, 'env': os.environ.get('GREETING')}\n")
py = create("py", runtime="python", code=PY, env={"GREETING": "hi"})
r = api.post(f"/api/functions/{py['id']}/invoke", {"a": 1}, timeout=60)
j = r.json or {}
t.eq((r.status, j.get("status")), (200, "success"), "python: success")
t.eq((j.get("result") or {}).get("echo"), {"a": 1}, "python: the event reaches the handler")
t.eq((j.get("result") or {}).get("rid"), j.get("request_id"),
     "python: context.aws_request_id is the API's request id")
t.eq((j.get("result") or {}).get("env"), "hi", "python: env vars")
t.ok("log line" in (j.get("logs") or ""), "python: print() goes to logs", j.get("logs"))
t.ok(j.get("cold") is True and j.get("isolation") == "docker", "first call cold, docker", j)
r = api.post(f"/api/functions/{py['id']}/invoke", {"a": 2}, timeout=60)
t.ok(r.json and r.json["cold"] is False and r.json["total_ms"] < 1000, "second call warm",
     r.json)

JS = ("exports.handler = async (event, context) => {\n"
      "  console.log('node log');\n"
      "  return {sum: event.x + event.y, fn: context.functionName};\n};\n")
js = create("js", runtime="javascript", code=JS)
r = api.post(f"/api/functions/{js['name']}/invoke", {"x": 2, "y": 3}, timeout=60)
t.eq((r.status, r.json and r.json.get("result")), (200, {"sum": 5, "fn": js["name"]}),
     "javascript: async handler result")

err = create("err", runtime="python",
             code="def handler(e, c):\n    raise ValueError('bad value')\n")
r = api.post(f"/api/functions/{err['id']}/invoke", {}, timeout=60)
e = (r.json or {}).get("error") or {}
t.ok(r.status == 200 and r.json["status"] == "error" and e.get("errorType") == "ValueError"
     and "bad value" in e.get("errorMessage", ""), "function error: status error, its type", r)

loop = create("loop", runtime="python", timeout=1,
              code="def handler(e, c):\n    while True:\n        pass\n")
t0 = time.time()
r = api.post(f"/api/functions/{loop['id']}/invoke", {}, timeout=60)
dt = time.time() - t0
t.ok(r.json and r.json["status"] == "timeout" and
     r.json["error"]["errorMessage"] == "Task timed out after 1.00 seconds",
     "busy loop: status timeout, AWS message", r)
t.ok(1.0 <= dt < 3.0, f"timeout enforced ({dt:.2f} s)")

# the seed's style: a file with main(*args), result printed
seed = api.post("/api/functions", {"name": f"seed-{sfx}", "language": "python", "timeout": 5,
                                   "code": "def main(*args):\n    return '-'.join(args)\n"}).json
r = api.post("/api/functions/execute", {"id": seed["id"], "args": ["a", "b"]}, timeout=60)
t.ok(r.status == 200 and r.json["error"] is None and "a-b" in r.json["output"],
     "seed execute: output of main(*args)", r)
seedloop = api.post("/api/functions", {"name": f"seedloop-{sfx}", "language": "python",
                                       "timeout": 1,
                                       "code": "def main(*args):\n    while True: pass\n"}).json
r = api.post("/api/functions/execute", {"id": seedloop["id"], "args": []}, timeout=60)
t.eq(r.json and r.json.get("error"), "Execution timed out after 1 seconds",
     "seed execute: the seed's timeout message")
seedjs = api.post("/api/functions", {"name": f"seedjs-{sfx}", "language": "javascript",
                                     "code": "console.log(process.argv.slice(2).join('+'))\n"
                                     }).json
r = api.post("/api/functions/execute", {"id": seedjs["id"], "args": ["1", "2"]}, timeout=60)
t.ok(r.status == 200 and "1+2" in (r.json or {}).get("output", ""), "seed javascript: argv", r)

# zip code: unpacked, then run from its directory
zbuf = io.BytesIO()
with zipfile.ZipFile(zbuf, "w") as z:
    z.writestr("pkg/mod.py", "from pkg.helper import VALUE\ndef fn(e, c):\n    return VALUE\n")
    z.writestr("pkg/helper.py", "VALUE = 42\n")
    z.writestr("pkg/__init__.py", "")
zfn = create("zip", runtime="python", handler="pkg/mod.fn",
             code_zip=base64.b64encode(zbuf.getvalue()).decode())
r = api.post(f"/api/functions/{zfn['id']}/invoke", {}, timeout=60)
t.eq((r.status, r.json and r.json.get("result")), (200, 42), "zip function with two modules")

# an update is served by the new version
api.put(f"/api/functions/{py['id']}", {"code": PY.replace("'echo'", "'echo2'")})
r = api.post(f"/api/functions/{py['id']}/invoke", {"a": 3}, timeout=60)
t.ok(r.json and "echo2" in (r.json.get("result") or {}) and r.json["version"] == 2,
     "after an update: the new code, version 2", r.json)

# records
rids = [x["request_id"] for x in (api.get(f"/api/invocations?function={py['id']}").json or [])]
t.ok(wait_until(lambda: len(api.get(f"/api/invocations?function={py['id']}").json) == 3),
     "three records for three python calls", rids)

# gVisor when registered
info = h.subprocess.run(["curl", "-s", "--unix-socket", "/var/run/docker.sock",
                         "http://localhost/v1.41/info"], capture_output=True, text=True).stdout
if "runsc-lambda" in info:
    r = api.post(f"/api/functions/{js['id']}/invoke?isolation=gvisor", {"x": 1, "y": 1},
                 timeout=120)
    t.ok(r.json and r.json["status"] == "success" and r.json["isolation"] == "gvisor"
         and r.json["result"]["sum"] == 2, "gvisor: runs under runsc", r)
else:
    t.ok(True, "gvisor: runsc-lambda not registered in dockerd # SKIP")

# the executor dies mid-call
sleeper = create("sleep", runtime="python", timeout=10,
                 code="import time\ndef handler(e, c):\n    time.sleep(3)\n    return 1\n")
api.post(f"/api/functions/{sleeper['id']}/invoke", {}, timeout=60)  # warm it
box = {}


def call():
    box["r"] = api.post(f"/api/functions/{sleeper['id']}/invoke", {}, timeout=60)


th = threading.Thread(target=call)
th.start()
time.sleep(1.0)
h.stack("kill", "executor")
th.join(30)
r = box.get("r")
t.ok(r is not None and r.status == 503 and r.err().startswith("executor unavailable: "),
     "executor killed mid-call: 503 executor unavailable", r)
rows = apistack.sql(f"SELECT status FROM invocations WHERE function_id = {sleeper['id']} "
                    "ORDER BY id", "lambda").split()
t.ok(wait_until(lambda: apistack.sql(
    f"SELECT COUNT(*) FROM invocations WHERE function_id = {sleeper['id']} AND status = "
    "'internal'", "lambda").strip() == "1", timeout=5), "that call is recorded as internal", rows)
# the supervisor restarts the executor, which first removes its orphaned
# containers (that took up to a minute here): the API reconnects by itself
t.ok(wait_until(lambda: api.post(f"/api/functions/{py['id']}/invoke", {}, timeout=60).status
                == 200, timeout=120, step=0.5),
     "the executor is back (supervisor): calls succeed again")
t.done()
