#!/usr/bin/python3
"""The function registry over HTTP (issue 2): every endpoint, the seed's
client shape, pagination and every bad-input row."""

import base64
import io
import os
import re
import sys
sys.dont_write_bytecode = True
import uuid
import zipfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import apistack  # noqa: E402
from apitest import Api, Tap  # noqa: E402

t = Tap()
api = Api(apistack.up())
sfx = uuid.uuid4().hex[:8]
PY = "def handler(event, context):\n    return {'ok': True}\n"


def name(n):
    return f"{n}-{sfx}"


def count_rows(where_name):
    return int(apistack.sql(f"SELECT COUNT(*) FROM functions WHERE name = '{where_name}'",
                            "lambda").strip())


# ---- create, read, list
r = api.post("/api/functions", {"name": name("f1"), "runtime": "python", "code": PY,
                                "timeout_ms": 2000, "memory_mb": 256,
                                "env": {"GREETING": "hi"}})
t.eq(r.status, 201, "create: 201")
f1 = r.json or {}
t.eq(r.headers.get("location"), f"/api/functions/{f1.get('id')}", "create: Location")
t.eq((f1.get("runtime"), f1.get("handler"), f1.get("style"), f1.get("version")),
     ("python", "main.handler", "aws", 1), "create: defaults for handler, style, version")
t.eq((f1.get("timeout_ms"), f1.get("timeout"), f1.get("memory_mb"), f1.get("env")),
     (2000, 2, 256, {"GREETING": "hi"}), "create: fields echoed")
t.eq(f1.get("code_size"), len(PY), "create: code_size")
code_dir = os.path.join(apistack.VAR, "code", f1.get("code_sha256", "x"))
t.ok(os.path.isfile(os.path.join(code_dir, "main.py")), "code written to code_dir/<sha256>/main.py")

r = api.get(f"/api/functions/{f1['id']}")
t.eq((r.status, r.json and r.json["name"]), (200, name("f1")), "get by id")
r = api.get(f"/api/functions/{name('f1')}")
t.eq((r.status, r.json and r.json["id"]), (200, f1["id"]), "get by name")
r = api.get(f"/api/functions/{name('f1')}/code")
t.eq((r.status, r.json and r.json.get("code")), (200, PY), "get code")

# seed client shape
r = api.post("/api/functions", {"name": name("seed"), "language": "javascript",
                                "route": "/seed", "timeout": 5})
t.eq(r.status, 201, "seed shape: create 201")
seed = r.json or {}
t.eq((seed.get("language"), seed.get("route"), seed.get("timeout"), seed.get("handler"),
      seed.get("style")), ("javascript", "/seed", 5, name("seed") + ".js", "seed"),
     "seed shape: language, route, timeout in seconds, seed-style handler")
r = api.get("/api/functions?limit=1000")
listed = {f["name"]: f for f in (r.json or [])}
t.ok(r.status == 200 and isinstance(r.json, list), "list: a JSON array")
s = listed.get(name("seed"), {})
t.ok(all(k in s for k in ("id", "name", "language", "route", "timeout")),
     "list: id, name, language, route, timeout present", s)

# pagination
for i in range(3):
    api.post("/api/functions", {"name": name(f"pg{i}"), "runtime": "python", "code": PY})
seen, cursor, pages = [], None, 0
while pages < 100:
    q = "/api/functions?limit=2" + (f"&cursor={cursor}" if cursor else "")
    r = api.get(q)
    if r.status != 200:
        break
    seen += [f["id"] for f in r.json]
    pages += 1
    cursor = r.headers.get("x-next-cursor")
    if not cursor:
        break
t.ok(len(seen) == len(set(seen)) and len(seen) >= 5 and seen == sorted(seen),
     "pagination: limit=2 pages cover all once, in order", seen)
t.eq(api.get("/api/functions?limit=0").status, 400, "limit=0: 400")
t.eq(api.get("/api/functions?limit=1001").status, 400, "limit=1001: 400")
t.eq(api.get("/api/functions?limit=1000").status, 200, "limit=1000: 200")
t.eq(api.get("/api/functions?cursor=abc").status, 400, "bad cursor: 400")

# ---- update
r = api.put(f"/api/functions/{name('f1')}", {"memory_mb": 512})
t.eq((r.status, r.json and r.json["memory_mb"], r.json and r.json["version"]), (200, 512, 2),
     "update config bumps version")
NEW = "def handler(event, context):\n    return 2\n"
r = api.put(f"/api/functions/{f1['id']}", {"code": NEW, "handler": "app.handler"})
t.eq((r.status, r.json and r.json["version"]), (200, 3), "update code bumps version")
t.ok(r.json and r.json["code_sha256"] != f1["code_sha256"] and os.path.isfile(
    os.path.join(apistack.VAR, "code", r.json["code_sha256"], "app.py")),
    "update code: new directory with app.py")
t.eq(api.get(f"/api/functions/{f1['id']}/code").json.get("code"), NEW, "updated code stored")
r = api.put(f"/api/functions/{f1['id']}", {})
t.eq((r.status, r.err()), (400, "nothing to update: give at least one field"),
     "empty update: 400")
r = api.put(f"/api/functions/{f1['id']}", {"timeout_ms": 99})
t.eq(r.status, 400, "update out of bounds: 400")
r = api.get(f"/api/functions/{f1['id']}")
t.eq((r.json["version"], r.json["timeout_ms"]), (3, 2000), "failed update changed nothing")
r = api.put(f"/api/functions/{f1['id']}", {"name": name("seed")})
t.eq((r.status, r.code()), (409, "conflict"), "rename onto an existing name: 409")
r = api.put(f"/api/functions/{seed['id']}", {"runtime": "python"})
t.eq((r.status, r.err()), (400, "handler: a python function's file must end in .py"),
     "runtime change that breaks a seed handler: 400")

# ---- bad input rows
BAD = [
    ("malformed JSON", b'{"name": ', 400, "malformed JSON in the request body"),
    ("non-object JSON", b'[1,2]', 400, "the request body must be a JSON object"),
    ("missing name", {"runtime": "python", "code": PY}, 400, "name: required"),
    ("missing runtime", {"name": name("x"), "code": PY}, 400,
     "runtime: required ('python' or 'javascript')"),
    ("missing code", {"name": name("x"), "runtime": "python"}, 400,
     "code: required (source text in 'code' or a base64 zip in 'code_zip')"),
    ("name ../x", {"name": "../x", "runtime": "python", "code": PY}, 400, None),
    ("name a/b", {"name": "a/b", "runtime": "python", "code": PY}, 400, None),
    ("name 65 chars", {"name": "a" * 65, "runtime": "python", "code": PY}, 400, None),
    ("name with NUL", {"name": "ab\u0000cd", "runtime": "python", "code": PY}, 400, None),
    ("name non-ASCII", {"name": "caf\u00e9", "runtime": "python", "code": PY}, 400, None),
    ("name empty", {"name": "", "runtime": "python", "code": PY}, 400, None),
    ("name not a string", {"name": 5, "runtime": "python", "code": PY}, 400,
     "name: must be a string"),
    ("unknown runtime", {"name": name("x"), "runtime": "cobol", "code": PY}, 400,
     "runtime: unknown runtime; expected 'python' (python 3.11) or 'javascript' (node 18)"),
    ("unknown language", {"name": name("x"), "language": "ruby"}, 400,
     "language: unknown runtime; expected 'python' (python 3.11) or 'javascript' (node 18)"),
    ("timeout_ms 99", {"name": name("x"), "runtime": "python", "code": PY, "timeout_ms": 99},
     400, "timeout_ms: must be an integer between 100 and 900000 ms"),
    ("timeout_ms 900001", {"name": name("x"), "runtime": "python", "code": PY,
                           "timeout_ms": 900001},
     400, "timeout_ms: must be an integer between 100 and 900000 ms"),
    ("timeout 0 s", {"name": name("x"), "language": "python", "timeout": 0}, 400,
     "timeout: must be an integer between 1 and 900 seconds"),
    ("timeout 901 s", {"name": name("x"), "language": "python", "timeout": 901}, 400,
     "timeout: must be an integer between 1 and 900 seconds"),
    ("timeout 1.5 s", {"name": name("x"), "language": "python", "timeout": 1.5}, 400,
     "timeout: must be an integer between 1 and 900 seconds"),
    ("memory 63", {"name": name("x"), "runtime": "python", "code": PY, "memory_mb": 63}, 400,
     "memory_mb: must be an integer between 64 and 4096 MB"),
    ("memory 4097", {"name": name("x"), "runtime": "python", "code": PY, "memory_mb": 4097},
     400, "memory_mb: must be an integer between 64 and 4096 MB"),
    ("memory string", {"name": name("x"), "runtime": "python", "code": PY, "memory_mb": "1"},
     400, "memory_mb: must be an integer between 64 and 4096 MB"),
    ("isolation bad", {"name": name("x"), "runtime": "python", "code": PY,
                       "isolation": "kvm"}, 400, "isolation: must be 'docker' or 'gvisor'"),
    ("handler bad", {"name": name("x"), "runtime": "python", "code": PY,
                     "handler": "../evil.handler"}, 400, None),
    ("handler ext mismatch", {"name": name("x"), "runtime": "python", "code": PY,
                              "handler": "x.js"}, 400,
     "handler: a python function's file must end in .py"),
    ("env not object", {"name": name("x"), "runtime": "python", "code": PY, "env": [1]}, 400,
     "env: must be an object of string values"),
    ("env bad name", {"name": name("x"), "runtime": "python", "code": PY,
                      "env": {"1X": "a"}}, 400,
     "env: names must match [A-Za-z_][A-Za-z0-9_]{0,127}"),
    ("env value not string", {"name": name("x"), "runtime": "python", "code": PY,
                              "env": {"X": 1}}, 400, "env: value of X must be a string"),
    ("route bad", {"name": name("x"), "language": "python", "route": "noslash"}, 400,
     "route: must start with '/' and have 1 to 255 characters"),
    ("code not string", {"name": name("x"), "runtime": "python", "code": 7}, 400,
     "code: must be a string"),
    ("code_zip not base64", {"name": name("x"), "runtime": "python", "code_zip": "@@@@"}, 400,
     None),
]
NAME_MSG = "name: must match [A-Za-z0-9_-]{1,64} (1 to 64 letters, digits, '_' or '-')"
for desc, body, status, msg in BAD:
    if isinstance(body, bytes):
        r = api.call("POST", "/api/functions", raw=body)
    else:
        r = api.post("/api/functions", body)
    want = msg if msg is not None else (NAME_MSG if desc.startswith("name ") else r.err())
    t.ok(r.status == status and r.code() == "invalid" and r.err() == want and r.err(),
         f"bad input '{desc}': {status} naming the field", r)
t.eq(count_rows(name("x")), 0, "no row left behind by any failed create")

# limit pairs that succeed
for desc, extra in [("timeout_ms 100", {"timeout_ms": 100}),
                    ("timeout_ms 900000", {"timeout_ms": 900000}),
                    ("timeout 1 s", {"timeout": 1}), ("timeout 900 s", {"timeout": 900}),
                    ("memory 64", {"memory_mb": 64}), ("memory 4096", {"memory_mb": 4096}),
                    ("name 64 chars", {"name": ("b" * 55) + sfx[:1] + "-" + sfx[:7]})]:
    body = {"name": name("ok-" + desc.replace(" ", "")), "runtime": "python", "code": PY}
    body.update(extra)
    r = api.post("/api/functions", body)
    t.eq(r.status, 201, f"limit just inside succeeds: {desc}")

# env size pair (api.max_env_bytes = 4096 by default)
env_ok = {"A": "v" * (4096 - len('{"A":""}'))}
r = api.post("/api/functions", {"name": name("env-ok"), "runtime": "python", "code": PY,
                                "env": env_ok})
t.eq(r.status, 201, "env of exactly 4096 bytes: 201")
env_big = {"A": "v" * (4097 - len('{"A":""}'))}
r = api.post("/api/functions", {"name": name("env-big"), "runtime": "python", "code": PY,
                                "env": env_big})
t.eq((r.status, r.err()), (400, "env: exceeds 4096 bytes as JSON"), "env of 4097 bytes: 400")

# ---- duplicates, SQL-looking strings, unknown, methods
r = api.post("/api/functions", {"name": name("f1"), "runtime": "python", "code": PY})
t.eq((r.status, r.code()), (409, "conflict"), "duplicate name: 409")
inj = "x' OR '1'='1"
r = api.post("/api/functions", {"name": name("inj"), "language": "python",
                                "route": "/x'OR'1'='1"})
t.eq(r.status, 201, "route with quotes accepted")
r = api.get(f"/api/functions/{name('inj')}")
t.eq(r.json and r.json["route"], "/x'OR'1'='1", "quotes stored literally")
r = api.post("/api/functions", {"name": name("inj2"), "runtime": "python", "code": inj})
t.eq(api.get(f"/api/functions/{name('inj2')}/code").json.get("code"), inj,
     "x' OR '1'='1 stored literally as code")
r = api.post("/api/functions", {"name": inj, "runtime": "python", "code": PY})
t.eq(r.status, 400, "x' OR '1'='1 as a name: 400")
r = api.get("/api/functions/x'%20OR%20'1'='1")
t.eq(r.status, 400, "x' OR '1'='1 in the path: 400")
t.eq(api.get("/api/functions/nope-" + sfx).status, 404, "unknown function: 404")
t.eq(api.get("/api/functions/999999999").status, 404, "unknown id: 404")
t.eq(api.delete("/api/functions/nope-" + sfx).status, 404, "delete unknown: 404")
t.eq(api.put("/api/functions/nope-" + sfx, {"memory_mb": 128}).status, 404, "update unknown: 404")
t.eq(api.get("/api/nothing-here").status, 404, "unknown path: 404")
r = api.call("PATCH", f"/api/functions/{name('f1')}")
t.eq((r.status, r.headers.get("allow")), (405, "GET, PUT, DELETE"), "PATCH: 405 with Allow")
r = api.call("DELETE", "/api/functions")
t.eq((r.status, r.headers.get("allow")), (405, "POST, GET"), "DELETE on the collection: 405")
t.eq(api.get("/api/functions/%00x").status, 400, "NUL in the path: 400")

# ---- body size: the app's own cap (api.max_body_bytes, 68 MiB by default)
# answers before lighttpd's (server.max-request-size, 70000 KiB by default)
APP_CAP = 68 * 1024 * 1024
with open(os.path.join(apistack.VAR, "run", "lighttpd.conf")) as f:
    LIGHTTPD_CAP = int(re.search(r"server.max-request-size\s*=\s*(\d+)", f.read()).group(1)) * 1024
r = api.call("POST", "/api/functions", raw=b" " * (APP_CAP + 1))
t.eq((r.status, r.err()), (413, f"request body of {APP_CAP + 1} bytes exceeds the limit of "
                                f"{APP_CAP} bytes"), "body over the app's limit: 413")
r = api.call("POST", "/api/functions", raw=b" " * APP_CAP)
t.eq((r.status, r.err()), (400, "malformed JSON in the request body"),
     "body of exactly the app's limit is read (400: not JSON)")
try:
    r = api.call("POST", "/api/functions", raw=b" " * (LIGHTTPD_CAP + 1))
    t.eq(r.status, 413, "body over lighttpd's max-request-size: 413")
except OSError as e:  # lighttpd may close while we still send
    t.ok(False, "body over lighttpd's max-request-size: 413", e)
code_big = "#" * (4 * 1024 * 1024 + 1)
r = api.post("/api/functions", {"name": name("codebig"), "runtime": "python", "code": code_big})
t.eq((r.status, r.err()), (413, "code: exceeds 4194304 bytes"), "code over 4 MiB: 413")
r = api.post("/api/functions", {"name": name("codemax"), "runtime": "python",
                                "code": "#" * (4 * 1024 * 1024)})
t.eq(r.status, 201, "code of exactly 4 MiB: 201")
t.eq(count_rows(name("codebig")), 0, "no partial rows after 413")

# ---- zip code (unpacked by zip.c through code_store's hook)
buf = io.BytesIO()
with zipfile.ZipFile(buf, "w") as z:
    z.writestr("app/main.py", PY)
    z.writestr("app/util.py", "X = 1\n")
zipped = base64.b64encode(buf.getvalue()).decode()
r = api.post("/api/functions", {"name": name("zip"), "runtime": "python", "code_zip": zipped,
                                "handler": "app/main.handler"})
t.eq((r.status, r.json and r.json.get("code_format")), (201, "zip"), "zip code: 201")
zdir = os.path.join(apistack.VAR, "code", (r.json or {}).get("code_sha256", "x"))
t.ok(os.path.isfile(os.path.join(zdir, "app", "main.py")) and
     os.path.isfile(os.path.join(zdir, "app", "util.py")), "zip code unpacked into code_dir")
r = api.get(f"/api/functions/{name('zip')}/code")
t.eq(r.json and r.json.get("code_zip"), zipped, "zip code returned as base64")
buf = io.BytesIO()
with zipfile.ZipFile(buf, "w") as z:
    z.writestr("../evil.py", "x")
r = api.post("/api/functions", {"name": name("zipbad"), "runtime": "python",
                                "code_zip": base64.b64encode(buf.getvalue()).decode()})
t.ok(r.status == 400 and r.code() == "invalid", "zip with a traversal entry: 400", r)
r = api.post("/api/functions", {"name": name("zipnot"), "runtime": "python",
                                "code_zip": base64.b64encode(b"not a zip").decode()})
t.ok(r.status == 400, "not a zip: 400", r)
t.eq(count_rows(name("zipbad")) + count_rows(name("zipnot")), 0, "no rows for refused zips")

# ---- delete
r = api.delete(f"/api/functions/{name('f1')}")
t.eq(r.status, 204, "delete: 204")
t.eq(api.get(f"/api/functions/{name('f1')}").status, 404, "deleted: 404")

# ---- restart of the whole stack, data intact
apistack.web_stop()
apistack.db_stop()
api2 = Api(apistack.up())
r = api2.get(f"/api/functions/{name('seed')}")
t.eq((r.status, r.json and r.json["route"]), (200, "/seed"), "after a full restart: data intact")
t.done()
