#!/usr/bin/python3
"""MariaDB going away under the API: 503 within 2 s (no hang), and the API
recovers by itself when it is back (issue 2)."""

import os
import sys
sys.dont_write_bytecode = True
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import apistack  # noqa: E402
from apitest import Api, Tap, wait_until  # noqa: E402

t = Tap()
api = Api(apistack.up())
t.eq(api.get("/api/functions?limit=1").status, 200, "database up: 200")

apistack.db_stop()
for path in ("/api/functions?limit=1", "/api/keys"):
    t0 = time.time()
    r = api.get(path)
    dt = time.time() - t0
    t.ok(r.status == 503 and r.code() == "unavailable" and
         r.err().startswith("database unavailable"), f"database down: {path} 503", r)
    t.ok(dt < 2.0, f"database down: answered within 2 s ({dt:.2f} s)")
t0 = time.time()
r = api.post("/api/functions", {"name": "dbdown", "runtime": "python", "code": "x"})
t.ok(r.status == 503 and time.time() - t0 < 2.0, "database down: create 503 within 2 s", r)
r = api.get("/api/health", key=False)
t.eq((r.status, r.json and r.json["database"]["ok"]), (503, False), "health: database down")

# a hung server (SIGSTOP) must not hang requests either
apistack.db_start()
t.eq(api.get("/api/functions?limit=1").status, 200, "database back: the API recovers by itself")
pid = int(open(os.path.join(apistack.VAR, "run", "mysql.pid")).read())
os.kill(pid, 19)  # SIGSTOP
try:
    t0 = time.time()
    r = api.get("/api/functions?limit=1")
    dt = time.time() - t0
    # api.db_rw_timeout_s (2 s) bounds the wait; no retry doubles it
    t.ok(r.status == 503 and dt < 3.0, f"database hung: 503 after {dt:.2f} s", r)
finally:
    os.kill(pid, 18)  # SIGCONT
t.ok(wait_until(lambda: api.get("/api/functions?limit=1").status == 200, timeout=5),
     "database resumed: 200 again")

# restart of MariaDB under the API
apistack.db_stop()
apistack.db_start()
t.eq(api.get("/api/functions?limit=1").status, 200, "after a MariaDB restart: 200 at once")
t.done()
