#!/usr/bin/python3
"""The per-process API-key cache (fcgi-app/keycache.c, docs/design.md "API-key cache").

lighttpd spawns the FastCGI processes (max-procs 2) on their own sockets, $VAR/run/api.sock-N.
To know that *every* process has the key cached and then refuses it, this test talks FastCGI
to each socket directly (a minimal client below), as well as HTTP through lighttpd:
1. a second key is used through every process (cached there), then revoked through lighttpd;
   at once, ~50 requests with it, spread over every process, must all be 401 "API key revoked";
2. a key revoked by SQL behind the API's back stops working within api.key_cache_ms (5 s);
3. last_used_at is not written per request.
"""

import os
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import apistack  # noqa: E402
from fcgi_client import every_process, fcgi_get, sockets, spread  # noqa: E402
import harness as h  # noqa: E402

t = h.Tap()
admin = apistack.up()
SOCKS = sockets()


def new_key(name):
    st, _, body = h.api("POST", "/api/keys", {"name": name}, key=admin)
    h.check(st == 201, f"create key: {st} {body!r}")
    return body["id"], body["key"]


# ---------------------------------------------------------------- tests

t.ok(len(SOCKS) >= 2, "lighttpd runs at least 2 FastCGI processes on their own sockets",
     " ".join(SOCKS))
t.ok(os.path.exists(os.path.join(h.VAR, "run", "api-keys.gen")),
     "the generation file exists under $VAR/run")


@t.test("a revoked key is refused at once by every process (FastCGI to each, ~50 requests)")
def _():
    kid, key = new_key(h.unique_name("kc"))
    path = "/api/functions?limit=1"
    # cache the key in every process, several threads each
    warm = [r[0] for r in every_process(SOCKS, [path], key, 16 * len(SOCKS))]
    h.check(all(s == 200 for s in warm), f"before revocation: {warm}")
    st, _, body = h.api("DELETE", f"/api/keys/{kid}", key=admin)
    h.check(st == 204, f"revoke: {st} {body!r}")
    after = every_process(SOCKS, [path], key, 50)
    bad = [(r[0], r[1][:80]) for r in after if r[0] != 401 or b"API key revoked" not in r[1]]
    h.check(not bad, f"{len(bad)} of 50 not refused: {bad[:3]}")
    # the cache emptied, but the admin key still works in every process
    ok = [fcgi_get(s, path, admin)[0] for s in SOCKS]
    h.check(ok == [200] * len(SOCKS), f"admin key after the revocation: {ok}")


@t.test("through lighttpd too: revoke, then 50 concurrent requests, all 401")
def _():
    kid, key = new_key(h.unique_name("kc"))
    warm = spread(lambda i: h.api("GET", "/api/functions?limit=1", key=key)[0], 48)
    h.check(all(s == 200 for s in warm), f"before revocation: {warm}")
    st, _, _ = h.api("DELETE", f"/api/keys/{kid}", key=admin)
    h.check(st == 204, f"revoke: {st}")
    after = spread(lambda i: h.api("GET", "/api/functions?limit=1", key=key), 50)
    bad = [(r[0], str(r[2])[:80]) for r in after if r[0] != 401]
    h.check(not bad, f"{len(bad)} of 50 not refused: {bad[:3]}")
    h.check(after[0][2]["error"] == {"code": "unauthorized", "message": "API key revoked"},
            f"body {after[0][2]!r}")


@t.test("a key revoked by SQL behind the API's back is refused within api.key_cache_ms (5 s)")
def _():
    kid, key = new_key(h.unique_name("kc"))
    warm = [fcgi_get(s, "/api/functions?limit=1", key)[0] for s in SOCKS for _ in range(4)]
    h.check(all(s == 200 for s in warm), f"before: {warm}")
    apistack.sql(f"UPDATE api_keys SET revoked = 1 WHERE id = {int(kid)}", "lambda")
    t0 = time.monotonic()
    time.sleep(5.2)
    res = [fcgi_get(s, "/api/functions?limit=1", key)[0] for s in SOCKS for _ in range(4)]
    h.check(res == [401] * len(res), f"{time.monotonic() - t0:.1f} s after the UPDATE: {res}")


@t.test("last_used_at is written once per key and process, not per request")
def _():
    kid, key = new_key(h.unique_name("kc"))
    path = "/api/functions?limit=1"
    sql = f"SELECT last_used_at FROM api_keys WHERE id = {int(kid)}"
    h.check(apistack.sql(sql, "lambda").strip() == "NULL", "never used: NULL")
    h.check(fcgi_get(SOCKS[0], path, key)[0] == 200, "first use")
    first = apistack.sql(sql, "lambda").strip()
    h.check(first != "NULL", "written on first use")
    time.sleep(0.05)  # CURRENT_TIMESTAMP(3): a later write would show
    # 40 more on the same process, from 8 threads (so other threads than the first one)
    res = spread(lambda i: fcgi_get(SOCKS[0], path, key)[0], 40)
    h.check(res == [200] * 40, f"{res}")
    again = apistack.sql(sql, "lambda").strip()
    h.check(again == first, f"last_used_at moved from {first} to {again}: written again")


t.done()
