#!/usr/bin/python3
"""Disk full for the stack's logs and journal: small tmpfs file systems
mounted on $VAR/log and $VAR/journal, then filled. Calls get either a 200
(with its record) or a clear JSON error (never a 2xx without a record, never
a hang); the service keeps running (health 200, no process dies); once
space is back, calls succeed and every 2xx has its record.

Needs root and mount(2) (skips, exit 77, otherwise)."""

import os
import subprocess
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
import relib  # noqa: E402

DIRS = [os.path.join(h.VAR, "log"), os.path.join(h.VAR, "journal")]
t = h.Tap()


def mounted(d):
    with open("/proc/mounts") as f:
        return any(line.split()[1] == d for line in f)


def fill(d):
    """Fills the file system of D; returns the filler's path."""
    p = os.path.join(d, "filler")
    fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        for size in (65536, 4096, 1):
            while True:
                try:
                    if os.write(fd, b"\0" * size) < size:
                        break
                except OSError:
                    break
    finally:
        os.close(fd)
    return p


if os.geteuid() != 0:
    t.skip_all("needs root to mount a tmpfs")
probe = os.path.join(h.VAR, "tmp", "mount-probe")
os.makedirs(probe, exist_ok=True)
if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", probe],
                  capture_output=True).returncode != 0:
    t.skip_all("mount(2) is not allowed here")
subprocess.run(["umount", probe])

fast = relib.create(relib.PY_ECHO, "python", "docker", "fd-fast")
fns_ids = [fast["id"]]
calls = []
try:
    @t.test("the stack restarts with 2 MiB tmpfs on log/ and journal/")
    def _():
        h.stack("stop", "all")
        for d in DIRS:
            os.makedirs(d, exist_ok=True)
            h.check(subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m,mode=0700", "tmpfs", d],
                                   capture_output=True).returncode == 0, f"mount on {d}")
        h.stack("start", "all")
        h.check(relib.wait_healthy(30), "not healthy")
        relib.warm(fast)

    fillers = [fill(d) for d in DIRS]
    pids = {n: h.read_pid(n) for n in ("executor", "lighttpd", "mysql")}
    workers = set(h.api_workers())
    for i in range(40):
        t0 = time.monotonic()
        try:
            st, hd, j = relib.invoke(fast, {"n": i}, timeout=20)
        except OSError as e:
            st, hd, j = 0, {}, str(e)
        calls.append({"status": st, "rid": hd.get("x-request-id"), "body": j,
                      "dt": time.monotonic() - t0})
    by = relib.summarise(calls)
    print(f"# calls with the disks full: {by}", flush=True)
    unclear = [c for c in calls if c["status"] != 200 and not (
        isinstance(c["body"], dict) and isinstance(c["body"].get("error"), dict)
        and c["body"]["error"].get("message"))]
    t.ok(not unclear, "disk full: every call gets a 200 or a JSON error with a message",
         unclear[:3])
    errs = sorted({(c["status"], c["body"]["error"]["message"]) for c in calls
                   if c["status"] != 200 and c not in unclear})
    print(f"# errors: {errs}", flush=True)
    t.ok(all(c["dt"] < 10 for c in calls), "... quickly (no hang)",
         max(c["dt"] for c in calls))
    t.ok(relib.healthy(), "health is 200 with the disks full")
    same = {n: h.read_pid(n) for n in pids} == pids and workers <= set(h.api_workers())
    t.ok(same, "no process of the stack died", (pids, workers, h.api_workers()))
    for f in fillers:
        os.unlink(f)
    ok_after = h.wait_until(lambda: relib.invoke(fast)[0] == 200, 20, 0.5)
    t.ok(ok_after, "space back: calls succeed again")
    after = []
    for i in range(20):
        st, hd, _ = relib.invoke(fast, {"n": i})
        after.append({"status": st, "rid": hd.get("x-request-id")})
    t.ok(all(c["status"] == 200 for c in after), "... all of them",
         relib.summarise(after))
    ok_ids = [c["rid"] for c in calls + after if c["status"] == 200]
    recs, missing = relib.wait_records(fns_ids, ok_ids, timeout=20)
    t.ok(not missing, f"every 2xx ({len(ok_ids)}) has its record", sorted(missing)[:5])
    relib.figure("fault", name="disk full for logs and journal", acknowledged=len(ok_ids),
                 records_missing=len(missing), refused=len(calls) - by.get(200, 0),
                 survived=bool(ok_after and not missing and same))
finally:
    h.stack("stop", "all")
    for d in DIRS:
        while mounted(d):
            subprocess.run(["umount", d], capture_output=True)
    h.stack("start", "all")
    relib.wait_healthy(30)
t.done()
