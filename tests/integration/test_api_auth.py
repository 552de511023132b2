#!/usr/bin/python3
"""API keys and Bearer authentication (issue 2, BRIEF "API keys")."""

import hashlib
import hmac
import base64
import os
import re
import sys
sys.dont_write_bytecode = True

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import apistack  # noqa: E402
from apitest import Api, Tap  # noqa: E402

t = Tap()
admin = apistack.up()
api = Api(admin)
KEY_RE = re.compile(r"^LK[0-9A-F]{18}\.[A-Za-z0-9_-]{40}$")

t.ok(KEY_RE.match(admin) is not None, "--create-key prints <LK + 18 hex>.<40 base64url>", admin)
with open(os.path.join(apistack.VAR, "master.key"), "rb") as f:
    master = f.read()
t.eq(len(master), 32, "master.key holds 32 bytes")
t.eq(oct(os.stat(os.path.join(apistack.VAR, "master.key")).st_mode & 0o777), "0o600",
     "master.key is 0600")
akid, secret = admin.split(".")
derived = base64.urlsafe_b64encode(hmac.new(master, akid.encode(), hashlib.sha256).digest())
t.eq(secret, derived.decode()[:40], "secret = base64url(HMAC-SHA256(master, akid))[:40]")
row = apistack.sql(f"SELECT key_hash FROM api_keys WHERE access_key_id = '{akid}'",
                   "lambda").strip()
t.eq(row, hashlib.sha256(admin.encode()).hexdigest(), "the database keeps SHA-256 of the key")
dump = apistack.sql("SELECT * FROM api_keys", "lambda")
t.ok(secret not in dump and admin not in dump, "the key itself is not in the database")

# ---- refusals
r = api.get("/api/functions", key=False)
t.eq((r.status, r.code(), r.err()), (401, "unauthorized", "missing Authorization: Bearer <key>"),
     "no key: 401")
t.ok("bearer" in r.headers.get("www-authenticate", "").lower(), "401 carries WWW-Authenticate")
r = api.get("/api/functions", key=False, headers={"Authorization": "Basic eDp5"})
t.eq(r.status, 401, "Basic auth: 401")
wrong = admin[:-1] + ("A" if admin[-1] != "A" else "B")
t.eq(api.get("/api/functions", key=wrong).status, 401, "wrong secret: 401")
t.eq(api.get("/api/functions", key="LK" + "0" * 18 + "." + "a" * 40).status, 401,
     "unknown access key id: 401")
t.eq(api.get("/api/functions", key="garbage").status, 401, "malformed key: 401")
r = api.get("/api/functions?key=" + admin, key=False)
t.ok(r.status == 401 and "query string" in r.err(), "key in the query string refused", r)
r = api.get("/api/functions?api_key=" + admin)
t.ok(r.status == 401 and "query string" in r.err(), "refused even with a good header too", r)
r = api.get("/api/functions?x=" + admin.replace(".", "%2E"))
t.ok(r.status == 401 and "query string" in r.err(), "refused under any name, encoded too", r)
t.eq(api.get("/api/health", key=False).status in (200, 503), True, "health needs no key")

# ---- keys API
r = api.post("/api/keys", {"name": "ci"})
t.eq(r.status, 201, "create key: 201")
new = (r.json or {}).get("key", "")
t.ok(KEY_RE.match(new) is not None, "the new key is returned once", r)
kid = (r.json or {}).get("id")
t.eq(Api(new).get("/api/functions").status, 200, "the new key works")
r = api.get("/api/keys")
listed = {k["id"]: k for k in r.json or []}
t.ok(kid in listed and "key" not in listed[kid] and "key_hash" not in listed[kid],
     "list keys: no key, no hash", listed.get(kid))
t.ok(listed.get(kid, {}).get("last_used_at") is not None, "last_used_at set by use")
for body, msg in [({}, "name: required"), ({"name": ""},
                  "name: must be a string of 1 to 64 printable ASCII characters"),
                  ({"name": "x" * 65},
                   "name: must be a string of 1 to 64 printable ASCII characters")]:
    r = api.post("/api/keys", body)
    t.eq((r.status, r.err()), (400, msg), f"bad key name: {msg}")
t.eq(api.post("/api/keys", {"name": "y" * 64}).status, 201, "key name of 64 characters: 201")
r = api.delete(f"/api/keys/{kid}")
t.eq(r.status, 204, "revoke: 204")
r = Api(new).get("/api/functions")
t.eq((r.status, r.err()), (401, "API key revoked"), "revoked key: 401")
t.eq(api.delete("/api/keys/99999999").status, 404, "revoke unknown key: 404")
t.eq(api.delete("/api/keys/abc").status, 400, "revoke bad id: 400")
r = api.get("/api/keys")
t.ok(any(k["id"] == kid and k["revoked"] and k["revoked_at"] for k in r.json or []),
     "list shows revoked with revoked_at")

t.done()
