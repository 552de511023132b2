#!/usr/bin/python3
"""Through the HTTP API, under runc and runsc: a function uploaded as a zip
with a subdirectory loads in a pre-warmed container (cold_reason prewarmed,
also in its invocation record), finds its modules at /var/task, cannot
write there, and none of its code is under /tmp."""

import base64
import io
import os
import sys
import zipfile

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
import relib  # noqa: E402
from executor_client import Client  # noqa: E402

MOD = r'''
import errno, os
from pkg.sub.helper import VALUE
def attempt(f):
    try:
        f()
        return "succeeded"
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))
def fn(event, context):
    def write(p):
        return lambda: open(p, "a").write("x")
    tmp = [os.path.join(r, f) for r, d, fs in os.walk("/tmp") for f in fs if f.endswith(".py")]
    return {"value": VALUE, "file": __file__, "tmp_py": tmp,
            "new": attempt(write("/var/task/new.py")),
            "own": attempt(write("/var/task/pkg/mod.py")),
            "sub": attempt(write("/var/task/pkg/sub/helper.py"))}
'''


def code_zip():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("pkg/__init__.py", "")
        z.writestr("pkg/mod.py", MOD)
        z.writestr("pkg/sub/__init__.py", "")
        z.writestr("pkg/sub/helper.py", "VALUE = 'from pkg/sub/helper.py'\n")
    return base64.b64encode(buf.getvalue()).decode()


def generic_idle(iso):
    c = Client(os.path.join(h.VAR, "run", "executor.sock"))
    try:
        _, body = c.request("POOLS", {})
    finally:
        c.close()
    return any(p["runtime"] == "python" and p["isolation"] == iso and p["idle"] >= 1
               for p in body.get("prewarmed", []))


t = h.Tap()
h.ensure_stack()
for iso in ("docker", "gvisor"):
    if not t.ok(h.wait_until(lambda: generic_idle(iso), timeout=90),
                f"{iso}: the stack has a pre-warmed python container"):
        continue
    st, _, fn = h.api("POST", "/api/functions",
                      {"name": h.unique_name("prewarm-zip"), "runtime": "python",
                       "isolation": iso, "code_zip": code_zip(), "handler": "pkg/mod.fn",
                       "memory_mb": 128})
    if not t.ok(st == 201, f"{iso}: zip function created", (st, fn)):
        continue
    st, _, j = relib.invoke(fn, {}, iso)
    r = (j or {}).get("result") or {}
    t.ok(st == 200 and j.get("status") == "success" and j.get("cold_reason") == "prewarmed",
         f"{iso}: a zip function loads in a pre-warmed container", (st, j))
    t.eq((r.get("value"), r.get("file")), ("from pkg/sub/helper.py", "/var/task/pkg/mod.py"),
         f"{iso}: its module in a subdirectory is found at /var/task")
    for k in ("new", "own", "sub"):
        t.ok(r.get(k) in ("EROFS", "EACCES"), f"{iso}: writing {k} under /var/task fails ({r.get(k)})")
    t.eq(r.get("tmp_py"), [], f"{iso}: none of its code is under /tmp")
    rows = h.wait_until(lambda: relib.sql("SELECT cold_reason FROM invocations WHERE request_id = "
                                          f"'{j.get('request_id')}'"), timeout=15)
    t.eq(rows, [["prewarmed"]], f"{iso}: the record says cold_reason prewarmed")
t.done()
