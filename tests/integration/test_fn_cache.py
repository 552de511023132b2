#!/usr/bin/python3
"""The per-process function cache (fcgi-app/fncache.c, docs/design.md "Function cache").

Every lambda-api process (lighttpd max-procs 2, each on its own $VAR/run/api.sock-N) is warmed
with a function, by name and by id, then the function is changed through lighttpd; at once,
~50 requests spread over every process (FastCGI to each socket directly) must see the change:
1. an update (PUT): every answer has the new version and timeout;
2. a rename: the old name is 404 everywhere, the new one 200;
3. a delete: every answer is 404 with the JSON error;
4. a row changed by SQL behind the API's back is seen within api.fn_cache_ms (1 s);
5. the cache does serve: warm GETs cost (nearly) no SQL statements (MariaDB's Com_stmt_execute).
"""

import json
import os
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import apistack  # noqa: E402
from fcgi_client import every_process, fcgi_get, sockets  # noqa: E402
import harness as h  # noqa: E402

t = h.Tap()
admin = apistack.up()
SOCKS = sockets()
CODE = "def handler(event, context):\n    return event\n"


def create(name):
    st, _, body = h.api("POST", "/api/functions", {"name": name, "runtime": "python",
                                                   "handler": "main.handler", "code": CODE,
                                                   "timeout_ms": 3000}, key=admin)
    h.check(st == 201, f"create {name}: {st} {body!r}")
    return body


def warm(refs):
    """GETs each ref through every process, several threads each: all 200."""
    res = [r[0] for r in every_process(SOCKS, ["/api/functions/" + r for r in refs], admin,
                                       16 * len(SOCKS) * len(refs))]
    h.check(all(s == 200 for s in res), f"warm-up: {res}")


def everywhere(refs, n=50):
    """n GETs spread over every process and every ref: [(status, parsed body)]."""
    res = every_process(SOCKS, ["/api/functions/" + r for r in refs], admin, n)
    return [(st, json.loads(body)) for st, body in res]


def stmt_executes():
    out = apistack.sql("SHOW GLOBAL STATUS LIKE 'Com_stmt_execute'")
    return int(out.split()[1])


t.ok(len(SOCKS) >= 2, "lighttpd runs at least 2 FastCGI processes on their own sockets",
     " ".join(SOCKS))
t.ok(os.path.exists(os.path.join(h.VAR, "run", "functions.gen")),
     "the generation file exists under $VAR/run")


@t.test("an update is seen at once by every process (by name and by id, 50 requests)")
def _():
    f = create(h.unique_name("fc"))
    refs = [f["name"], str(f["id"])]
    warm(refs)
    st, _, body = h.api("PUT", "/api/functions/" + f["name"], {"timeout_ms": 4567}, key=admin)
    h.check(st == 200 and body["version"] == f["version"] + 1, f"update: {st} {body!r}")
    bad = [(st, b.get("version"), b.get("timeout_ms")) for st, b in everywhere(refs)
           if st != 200 or b["version"] != body["version"] or b["timeout_ms"] != 4567]
    h.check(not bad, f"{len(bad)} of 50 stale: {bad[:3]}")


@t.test("a rename is seen at once: the old name 404 everywhere, the new one 200")
def _():
    f = create(h.unique_name("fc"))
    new = h.unique_name("fc")
    warm([f["name"]])
    st, _, body = h.api("PUT", "/api/functions/" + f["name"], {"name": new}, key=admin)
    h.check(st == 200 and body["name"] == new, f"rename: {st} {body!r}")
    old = everywhere([f["name"]])
    bad = [r for r in old if r[0] != 404]
    h.check(not bad, f"{len(bad)} of 50 still found by the old name: {bad[:2]}")
    h.check(all(r[0] == 200 and r[1]["id"] == f["id"] for r in everywhere([new], 8)),
            "the new name is found")


@t.test("a delete is seen at once: 50 requests, all 404 with the JSON error")
def _():
    f = create(h.unique_name("fc"))
    refs = [f["name"], str(f["id"])]
    warm(refs)
    st, _, _ = h.api("DELETE", "/api/functions/" + f["name"], key=admin)
    h.check(st == 204, f"delete: {st}")
    res = everywhere(refs)
    bad = [r for r in res if r[0] != 404 or r[1]["error"]["code"] != "not_found"]
    h.check(not bad, f"{len(bad)} of 50 not 404: {bad[:2]}")
    # and a new function by the same name is not served from a stale entry
    g = create(f["name"])
    got = everywhere([f["name"]], 8)
    h.check(all(r[0] == 200 and r[1]["id"] == g["id"] for r in got), f"re-created: {got[:2]}")


@t.test("a row changed by SQL behind the API's back is seen within api.fn_cache_ms (1 s)")
def _():
    f = create(h.unique_name("fc"))
    warm([f["name"]])
    apistack.sql(f"UPDATE functions SET timeout_ms = 7777 WHERE id = {int(f['id'])}", "lambda")
    time.sleep(1.2)
    res = [fcgi_get(s, "/api/functions/" + f["name"], admin) for s in SOCKS for _ in range(4)]
    bad = [st for st, b in res if st != 200 or json.loads(b)["timeout_ms"] != 7777]
    h.check(not bad, f"{len(bad)} of {len(res)} stale 1.2 s after the UPDATE")


@t.test("warm GETs are served from the cache: far fewer SQL statements than requests")
def _():
    f = create(h.unique_name("fc"))
    warm([f["name"]])
    n = 400
    before = stmt_executes()
    t0 = time.monotonic()
    res = [r[0] for r in every_process(SOCKS, ["/api/functions/" + f["name"]], admin, n)]
    took = time.monotonic() - t0
    used = stmt_executes() - before
    h.check(res == [200] * n, f"answers: {set(res)}")
    # Without the cache every GET executes one statement (the key cache spares the other).
    # What remains grows with time, not requests: per process a refill after each 1 s expiry
    # and the event dispatchers' polls (2 threads x 2/s), so a slow machine gets 12/s more.
    allowed = n // 4 + int(12 * took)
    h.check(used < allowed, f"{used} statements for {n} GETs in {took:.1f} s (< {allowed})")


t.done()
