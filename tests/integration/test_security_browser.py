#!/usr/bin/python3
"""Browser safety: no permissive CORS (Access-Control-Allow-Origin only for
the configured origins, never `*`, never for another origin, also on
preflight and on errors); the dashboard's security headers (CSP without
inline scripts, frame-ancestors 'none', base-uri 'none', form-action 'self',
X-Content-Type-Options nosniff) on
every static file, and no inline script or event-handler attribute in its
HTML; function names carrying markup are refused by the API."""

import glob
import os
import re
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
import relib  # noqa: E402

GOOD = "http://dash.example:8443"
EVIL = "http://evil.example"
t = h.Tap()


def acao(method, path, origin, key=h._DEFAULT, extra=None):
    hd = {"Origin": origin}
    hd.update(extra or {})
    st, rh, _ = h.api(method, path, key=key, headers=hd)
    return st, rh.get("access-control-allow-origin")


# ---- CORS with the default configuration (no origin allowed)
for m, p, k in [("GET", "/api/functions", h._DEFAULT), ("GET", "/api/health", None),
                ("GET", "/api/functions", None), ("OPTIONS", "/api/functions", None),
                ("GET", "/index.html", None)]:
    st, a = acao(m, p, EVIL, k, {"Access-Control-Request-Method": "POST"})
    t.ok(a is None, f"default config: {m} {p} from {EVIL}: no Access-Control-Allow-Origin "
         f"(status {st})", a)

# ---- CORS with one configured origin
old = relib.set_local_conf({"api.cors_origins": GOOD})
try:
    h.stack("restart", "lighttpd")
    relib.wait_healthy(30)
    st, a = acao("GET", "/api/functions", GOOD)
    t.ok(st == 200 and a == GOOD, f"configured origin {GOOD}: allowed, echoed exactly", (st, a))
    st, a = acao("OPTIONS", "/api/functions", GOOD, None, {"Access-Control-Request-Method": "POST"})
    t.ok(a == GOOD and st in (200, 204), "... also on its preflight", (st, a))
    for origin in (EVIL, GOOD + ".evil.example", "http://dash.example", "null",
                   GOOD.replace("http:", "https:")):
        for m, k in (("GET", h._DEFAULT), ("OPTIONS", None), ("GET", None)):
            st, a = acao(m, "/api/functions", origin, k, {"Access-Control-Request-Method": "PUT"})
            t.ok(a is None, f"configured: {m} from {origin!r} (status {st}): no "
                 "Access-Control-Allow-Origin", a)
finally:
    relib.restore_local_conf(old)
    h.stack("restart", "lighttpd")
    relib.wait_healthy(30)

# ---- dashboard headers on every static file
files = sorted(os.path.relpath(f, os.path.join(h.REPO, "htdocs"))
               for f in glob.glob(os.path.join(h.REPO, "htdocs", "**", "*"), recursive=True)
               if os.path.isfile(f) and "/vendor/" not in f)
t.ok("index.html" in files, f"{len(files)} dashboard files", files)
bad = []
for f in ["", *files]:
    st, rh, _ = h.api("GET", "/" + f, key=None, raw=True)
    csp = rh.get("content-security-policy", "")
    directives = {d.strip().split(" ")[0]: d.strip() for d in csp.split(";") if d.strip()}
    script = directives.get("script-src", directives.get("default-src", ""))
    probs = []
    if st != 200:
        probs.append(f"status {st}")
    if "'unsafe-inline'" in script or "'unsafe-eval'" in script or "*" in script or not script:
        probs.append(f"script-src {script!r}")
    if directives.get("frame-ancestors") != "frame-ancestors 'none'":
        probs.append(f"frame-ancestors {directives.get('frame-ancestors')!r}")
    # not covered by default-src: a <base> or a form could send data elsewhere
    if directives.get("base-uri") != "base-uri 'none'":
        probs.append(f"base-uri {directives.get('base-uri')!r}")
    if directives.get("form-action") != "form-action 'self'":
        probs.append(f"form-action {directives.get('form-action')!r}")
    if rh.get("x-content-type-options") != "nosniff":
        probs.append("no X-Content-Type-Options: nosniff")
    if probs:
        bad.append(f"/{f}: {', '.join(probs)}")
t.ok(not bad, "every dashboard file: CSP without inline/eval scripts, frame-ancestors 'none', "
     "base-uri 'none', form-action 'self', nosniff", "\n".join(bad))

inline = []
for f in files:
    if not f.endswith(".html"):
        continue
    with open(os.path.join(h.REPO, "htdocs", f)) as fh:
        html = fh.read()
    for m in re.finditer(r"<script\b([^>]*)>(.*?)</script>", html, re.S | re.I):
        if "src=" not in m.group(1) or m.group(2).strip():
            inline.append(f"{f}: inline <script>{m.group(2)[:60]!r}")
    for m in re.finditer(r"<[^>]+\son[a-z]+\s*=", html, re.I):
        inline.append(f"{f}: event-handler attribute {m.group(0)[:80]!r}")
    if re.search(r"javascript:", html, re.I):
        inline.append(f"{f}: javascript: URL")
t.ok(not inline, "the dashboard's HTML has no inline script, no on*= attribute", inline)

# ---- markup in names is refused
for name in ["<img src=x onerror=alert(1)>", "<script>alert(1)</script>", "a\"onmouseover=1",
             "x'><svg/onload=alert(1)>", "&lt;b&gt;"]:
    st, _, b = h.api("POST", "/api/functions",
                     {"name": name, "runtime": "python", "code": relib.PY_ECHO})
    msg = (b.get("error") or {}).get("message", "") if isinstance(b, dict) else ""
    t.ok(st == 400 and msg.startswith("name"), f"function name {name!r}: 400 naming the field",
         (st, b))
fn = relib.create(relib.PY_ECHO, "python", "docker", "sec-rename")
st, _, b = h.api("PUT", f"/api/functions/{fn['name']}", {"name": "<img src=x onerror=alert(1)>"})
t.ok(st == 400, "renaming a function to markup: 400", (st, b))
st, _, b = h.api("POST", "/api/keys", {"name": "<img src=x onerror=alert(1)>"})
if st == 201:
    h.api("DELETE", f"/api/keys/{b['id']}")
t.ok(st in (201, 400), "a key name with markup: stored as text or refused, never an error 5xx",
     (st, b))
relib.figure("security", name="browser: CORS origins, headers, markup names",
             tried=t.n, failed=t.failed)
t.done()
