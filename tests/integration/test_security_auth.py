#!/usr/bin/python3
"""Auth on every route: the routes are read from the sources
(fcgi-app/*.c route tables), so a new route is covered without editing this
file. For each Bearer route: no key, a wrong key differing only in its last
byte, a revoked key, a valid key in the query string (under several names,
with and without a valid header), a Basic header: 401 with the JSON error
and nothing else (no data leaks). The database holds keys only as hashes:
no key and no secret appears anywhere in a dump of it."""

import glob
import hashlib
import os
import re
import subprocess
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
import relib  # noqa: E402

t = h.Tap()
ROUTE = re.compile(r'\{\s*"(GET|POST|PUT|DELETE|PATCH)",\s*"(/[^"]*)",\s*([A-Za-z_]+)')
routes = []
for f in sorted(glob.glob(os.path.join(h.REPO, "fcgi-app", "*.c"))):
    with open(f) as fh:
        routes += [(m, p, a) for m, p, a in ROUTE.findall(fh.read())]
bearer = [(m, p) for m, p, a in routes if a == "auth_bearer"]
public = [(m, p) for m, p, a in routes if a == "NULL"]
t.ok(len(bearer) >= 15, f"{len(bearer)} Bearer routes found in the sources", routes)
t.ok(public == [("GET", "/api/health")], "the only public /api route is GET /api/health", public)

secret_fn = relib.create(relib.PY_ECHO, "python", "docker", "sec-auth",
                         env={"SEC_MARKER": "marker-" + h.unique_name("m")})
st, _, inv = relib.invoke(secret_fn, {"n": 1})
rid = inv.get("request_id") if isinstance(inv, dict) else None
t.ok(st == 200 and rid, "a function and an invocation exist (data that must not leak)")

st, _, k = h.api("POST", "/api/keys", {"name": "sec-revoked"})
revoked = k.get("key") if isinstance(k, dict) else None
t.ok(st == 201 and revoked, "a second key is created")
st, _, _ = h.api("GET", "/api/functions", key=revoked)
t.ok(st == 200, "... and works before it is revoked")
st, _, _ = h.api("DELETE", f"/api/keys/{k['id']}")
t.ok(st == 204, "... then it is revoked (204)")
last = h.KEY[-1]
wrong = h.KEY[:-1] + ("A" if last != "A" else "B")


def concrete(path):
    return (path.replace("/api/functions/{}", f"/api/functions/{secret_fn['name']}")
            .replace("/api/invocations/{}", f"/api/invocations/{rid}")
            .replace("/api/keys/{}", "/api/keys/1").replace("{*}", "x").replace("{}", "x"))


LEAKS = [secret_fn["name"], rid or "-", "SEC_MARKER", "marker-", h.KEY.split(".")[0]]


def attempt(label, method, path, key=None, headers=None):
    body = {"name": "x", "runtime": "python", "code": "x"} if method in ("POST", "PUT") else None
    st, hd, b = h.api(method, path, body, key=key, headers=headers, raw=True)
    text = b.decode("utf-8", "replace")
    problems = []
    if st != 401:
        problems.append(f"status {st}")
    if '"code":"unauthorized"' not in text.replace(" ", ""):
        problems.append("no unauthorized JSON error")
    problems += [f"leaks {x!r}" for x in LEAKS if x in text]
    return problems and f"{label} {method} {path}: {', '.join(problems)}: {text[:200]}"


def sweep(label, key=None, headers=None, query=""):
    bad = []
    for m, p in bearer:
        path = concrete(p)
        r = attempt(label, m, path + query, key, headers)
        if r:
            bad.append(r)
    return bad


for label, kw in [
    ("no key", {}),
    ("wrong last byte", {"key": wrong}),
    ("revoked key", {"key": revoked}),
    ("Basic auth", {"headers": {"Authorization": "Basic " + h.KEY}}),
    ("key in ?key=", {"query": f"?key={h.KEY}"}),
    ("key in ?api_key=", {"query": f"?api_key={h.KEY}"}),
    ("key in ?access_token=", {"query": f"?access_token={h.KEY}"}),
    ("key in ?x= with a valid header too", {"key": h.KEY, "query": f"?x={h.KEY}"}),
]:
    bad = sweep(label, **kw)
    t.ok(not bad, f"{label}: 401 + JSON error, no data, on all {len(bearer)} Bearer routes",
         "\n".join(bad[:8]))

st, _, b = h.api("GET", "/api/functions", key=revoked)
t.ok(st == 401 and "revoked" in str(b), "a revoked key is told `API key revoked`", b)
st, _, b = h.api("GET", "/api/health", key=None, raw=True)
t.ok(st == 200 and secret_fn["name"].encode() not in b and b"marker-" not in b,
     "the public health route shows no data", b[:200])
st, _, b = h.api("GET", "/", key=None, raw=True)
t.ok(st == 200 and secret_fn["name"].encode() not in b, "the dashboard page carries no data")

# ---- keys only as hashes
dump = subprocess.run(["mariadb-dump", "--no-defaults", f"--socket={h.VAR}/run/mysql.sock",
                       "-uroot", "--skip-extended-insert", "--hex-blob", "lambda"],
                      capture_output=True, text=True, timeout=120)
t.ok(dump.returncode == 0, "mariadb-dump of the database", dump.stderr[-300:])
keys = {"admin": h.KEY, "revoked": revoked}
for name, key in keys.items():
    akid, secret = key.split(".", 1)
    t.ok(key not in dump.stdout and secret not in dump.stdout,
         f"{name} key: neither the key nor its secret appears in the database dump")
cols = [r[0] for r in relib.sql("SELECT COLUMN_NAME FROM information_schema.COLUMNS "
                                "WHERE TABLE_SCHEMA='lambda' AND TABLE_NAME='api_keys'")]
row = relib.sql("SELECT * FROM api_keys WHERE access_key_id = '%s'" % h.KEY.split(".")[0])
t.ok(len(row) == 1, "the admin key has its row (by access key id)", row)
sha = hashlib.sha256(h.KEY.encode()).hexdigest()
holders = [c for c in cols if relib.sql(
    f"SELECT COUNT(*) FROM api_keys WHERE LOWER(HEX(`{c}`)) = '{sha}' OR LOWER(`{c}`) = '{sha}'")[0][0] != "0"]
t.ok(holders, "a column holds SHA-256 of the key", dict(zip(cols, row[0])) if row else cols)
relib.figure("security", name="auth: no key, wrong last byte, revoked, query-string, Basic",
             tried=len(bearer) * 8, failed=t.failed)
t.done()
