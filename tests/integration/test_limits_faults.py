#!/usr/bin/python3
"""Limits and faults, each under runc and runsc, each limit as a pair (just
inside succeeds, just over fails with a fixed message): timeout, memory, fork
bomb, 100 MB of output, the 6 MB result cap, broken code, escape attempts."""
import json
import socket
import time

from executor_client import (Executor, Tap, containers_with_label, container_gone,
                             host_pids_in_container, isolations, require_stack, wait_for)

SPIN = "def handler(event, context):\n    while event.get('spin'):\n        pass\n    return 'calm'\n"
SLEEP = "import time\ndef handler(event, context):\n    time.sleep(event['s'])\n    return 'slept'\n"
ALLOC = ("def handler(event, context):\n    b = bytearray(event['mb'] * 1024 * 1024)\n"
         "    for i in range(0, len(b), 4096):\n        b[i] = 1\n    return len(b)\n")
FORK_BOMB = ("import os, time\ndef handler(event, context):\n    if not event.get('bomb'):\n        return 'calm'\n"
             "    while True:\n        try:\n            os.fork()\n        except OSError:\n            time.sleep(0.01)\n")
PRINT = ("import os, sys\ndef handler(event, context):\n    line = 'x' * 1023 + '\\n'\n"
         "    for i in range(100 * 1024):\n        if event['how'] == 'print':\n            sys.stdout.write(line)\n"
         "        else:\n            os.write(2, line.encode())\n    return 'done'\n")
RESULT = "def handler(event, context):\n    return 'x' * event['n']\n"
ESCAPE = r'''
import ctypes, os, socket
def attempt(f):
    try:
        f()
        return 'succeeded'
    except BaseException as e:
        return 'failed: %s' % type(e).__name__
def handler(event, context):
    libc = ctypes.CDLL(None, use_errno=True)
    def mount():
        if libc.mount(b"none", b"/tmp", b"tmpfs", 0, None) != 0:
            raise OSError(ctypes.get_errno(), "mount")
    def tcp():
        # the test listens on the host's loopback: the container must not reach it
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM); s.settimeout(2)
        s.connect(("127.0.0.1", event["port"]))
    def raw():
        socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    def rootfs():
        open('/etc/escaped', 'w').write('x')
    def task():
        open('/var/task/escaped', 'w').write('x')
    def dsock():
        s = socket.socket(socket.AF_UNIX); s.connect('/var/run/docker.sock')
    def setuid():
        os.setuid(0)
    def tmp():
        open('/tmp/ok', 'w').write('x')
    return {"mount": attempt(mount), "tcp": attempt(tcp), "raw": attempt(raw),
            "rootfs": attempt(rootfs), "task": attempt(task), "docker_sock": attempt(dsock),
            "setuid": attempt(setuid), "tmp": attempt(tmp), "uid": os.getuid(),
            "ifaces": sorted(l.split(':')[0].strip() for l in open('/proc/net/dev').readlines()[2:])}
'''


def err_msg(r):
    return (r.get("error") or {}).get("errorMessage")


def test_timeout(t, ex, iso):
    fn = ex.function({"main.py": SPIN}, timeout_ms=1000)
    warm = ex.invoke(fn, {}, iso)  # a warm container: the timing below is the function's alone
    r = ex.invoke(fn, {"spin": True}, iso)
    t.ok(r.get("status") == "timeout" and err_msg(r) == "Task timed out after 1.00 seconds",
         "%s: busy loop under 1 s: status timeout, exact message" % iso, r)
    t.ok(1.0 <= r["_elapsed"] <= 1.5 and 1000 <= r.get("duration_ms", 0) <= 1500,
         "%s: timed out after %.3f s (duration_ms %s)" % (iso, r["_elapsed"], r.get("duration_ms")))
    t.ok(r.get("container") == warm.get("container"), "%s: it ran in the warm container" % iso)
    t.ok(wait_for(lambda: container_gone(r["container"]), 30),
         "%s: the timed-out container is removed" % iso)
    n = ex.invoke(fn, {}, iso)
    t.ok(n.get("status") == "success" and n.get("container") != r.get("container") and n.get("cold"),
         "%s: the next call succeeds on a fresh container" % iso, n)
    s = ex.invoke(ex.function({"main.py": SLEEP}, timeout_ms=1000), {"s": 0.5}, iso)
    t.ok(s.get("status") == "success" and s.get("result") == "slept",
         "%s: sleeping 0.5 s under a 1 s timeout succeeds" % iso, s)


def test_memory(t, ex, iso):
    fn = ex.function({"main.py": ALLOC}, memory_mb=128)
    ok = ex.invoke(fn, {"mb": 32}, iso)
    t.ok(ok.get("status") == "success" and ok.get("result") == 32 * 1024 * 1024,
         "%s: 32 MB under a 128 MB limit succeeds" % iso, ok)
    t.ok(isinstance(ok.get("max_memory_bytes"), (int, float)) and ok["max_memory_bytes"] >= 32 * 1024 * 1024,
         "%s: max_memory_bytes reported (%s)" % (iso, ok.get("max_memory_bytes")))
    for i in range(2):
        r = ex.invoke(fn, {"mb": 256}, iso)
        t.ok(r.get("status") == "oom" and
             err_msg(r) == "Runtime exited with error: out of memory (limit 128 MB)",
             "%s: 2x the limit: oom (try %d)" % (iso, i + 1), r)


def test_fork_bomb(t, ex, iso):
    bomb = ex.function({"main.py": FORK_BOMB}, timeout_ms=3000)
    other = ex.function({"main.py": SLEEP}, timeout_ms=5000)
    ex.invoke(bomb, {}, iso)
    label = "lambda.instance=" + ex.instance
    full = [c["Id"] for c in containers_with_label(label)
            if c["Labels"].get("lambda.function") == str(bomb["id"])]
    r = ex.invoke(bomb, {"bomb": True}, iso)
    t.ok(r.get("status") in ("error", "timeout", "oom", "killed"),
         "%s: fork bomb ends the call (%s)" % (iso, r.get("status")), r)
    o = ex.invoke(other, {"s": 0}, iso)
    t.ok(o.get("status") == "success", "%s: other functions unaffected" % iso, o)
    c = ex.client()
    c.request("DRAIN", {"function_id": bomb["id"]})
    c.close()
    gone = wait_for(lambda: all(container_gone(f) for f in full), 30)
    left = wait_for(lambda: not any(host_pids_in_container(f) for f in full), 30)
    t.ok(full and gone and left, "%s: no host processes left" % iso,
         [host_pids_in_container(f) for f in full])


def test_output(t, ex, iso):
    fn = ex.function({"main.py": PRINT}, timeout_ms=60000)
    for how in ("print", "fd2"):
        r = ex.invoke(fn, {"how": how}, iso)
        logs = r.get("logs", "")
        last = logs.rstrip("\n").split("\n")[-1]
        t.ok(r.get("status") == "success" and r.get("logs_truncated") is True
             and len(logs.encode()) <= 1024 * 1024 and last.startswith("[logs truncated: "),
             "%s: 100 MB through %s: logs capped at 1 MiB with the marker last" % (iso, how),
             {k: v for k, v in r.items() if k != "logs"} | {"logs_len": len(logs), "last": last[:100]})
    rss = ex.rss_kb()
    # an ASan build keeps freed memory in its quarantine (256 MiB by default)
    bound = 400 * 1024 if ex.sanitized() else 64 * 1024
    t.ok(0 < rss < bound, "%s: executor RSS stays bounded (%d KiB, bound %d KiB)" % (iso, rss, bound))


def test_result_cap(t, ex, iso):
    fn = ex.function({"main.py": RESULT})
    cap = 6 * 1024 * 1024
    r = ex.invoke(fn, {"n": cap - 2}, iso)  # the JSON string with its quotes: exactly the cap
    t.ok(r.get("status") == "success" and len(r.get("result", "")) == cap - 2,
         "%s: a result of exactly 6 MiB passes" % iso, {k: r.get(k) for k in ("status", "error")})
    r = ex.invoke(fn, {"n": cap - 1}, iso)
    t.ok(r.get("status") == "error" and err_msg(r) == "response exceeded the allowed length",
         "%s: one byte over: error 'response exceeded the allowed length'" % iso,
         {k: r.get(k) for k in ("status", "error")})


def test_broken_code(t, ex, iso):
    cases = (({"main.py": "def handler(e, c)\n    return 1\n"}, "main.handler", "Runtime.UserCodeSyntaxError"),
             ({"main.py": "def other(e, c):\n    return 1\n"}, "main.handler", "Runtime.HandlerNotFound"),
             ({"main.py": "import nonexistent_module_xyz\n"}, "main.handler", "Runtime.ImportModuleError"),
             ({"main.py": "x = 1\n"}, "nomodule.handler", "Runtime.ImportModuleError"))
    for files, handler, etype in cases:
        t0 = time.time()
        r = ex.invoke(ex.function(files, handler=handler), {}, iso)
        t.ok(r.get("status") == "error" and (r.get("error") or {}).get("errorType") == etype
             and err_msg(r) and time.time() - t0 < 10,
             "%s: %s -> %s" % (iso, handler, etype), r)


def test_escapes(t, ex, iso):
    lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(1)
    lsock.settimeout(0.5)
    r = ex.invoke(ex.function({"main.py": ESCAPE}), {"port": lsock.getsockname()[1]}, iso)
    reached = False
    try:
        lsock.accept()
        reached = True
    except OSError:
        pass
    lsock.close()
    t.ok(not reached, "%s: the host's loopback listener was not reached" % iso)
    res = r.get("result") or {}
    t.ok(r.get("status") == "success", "%s: escape probe ran" % iso, r)
    for k in ("mount", "tcp", "raw", "rootfs", "task", "docker_sock", "setuid"):
        t.ok(str(res.get(k, "")).startswith("failed"), "%s: %s attempt fails (%s)" % (iso, k, res.get(k)))
    t.ok(res.get("ifaces") == ["lo"], "%s: no network interface but lo (%s)" % (iso, res.get("ifaces")))
    t.ok(res.get("tmp") == "succeeded" and res.get("uid") == 1000,
         "%s: /tmp is writable and the user is 1000" % iso, res)


def main():
    require_stack()
    t = Tap()
    ex = Executor()
    ex.start()
    try:
        for iso in isolations():
            test_timeout(t, ex, iso)
            test_memory(t, ex, iso)
            test_fork_bomb(t, ex, iso)
            test_output(t, ex, iso)
            test_result_cap(t, ex, iso)
            test_broken_code(t, ex, iso)
            test_escapes(t, ex, iso)
    finally:
        ex.cleanup()
    t.done()


if __name__ == "__main__":
    main()
