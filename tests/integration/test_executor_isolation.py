#!/usr/bin/python3
"""Isolation gaps of the executor, each under runc and runsc:

- a function loaded into a pre-warmed container gets its code read-only at
  /var/task (a host directory of its own, filled when the call claims the
  container), never in /tmp; code of several files with a subdirectory loads;
  A's code is never visible to B; the directories go with their containers and
  are swept when the executor starts;
- an out-of-memory kill is `oom` every time, any other SIGKILL (docker kill,
  kill of the container's pid 1 from the host) is `killed`;
- Python batch items each get their own cpu_ms (Node's stay null: its items
  run concurrently)."""
import os
import signal
import threading
import time

from executor_client import (Executor, Tap, concurrent, container_gone, docker_api, image_exists,
                             image_for, isolations, pools, require_stack, wait_for)

PROBE = r'''
import errno, os
from lib import helper
def attempt(f):
    try:
        f()
        return "succeeded"
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))
def handler(event, context):
    def create():
        open("/var/task/new.py", "w").write("x")
    def append():
        open("/var/task/main.py", "a").write("# changed\n")
    def sub():
        open("/var/task/lib/helper.py", "w").write("x")
    def mkdir():
        os.mkdir("/var/task/d")
    def remove():
        os.unlink("/var/task/main.py")
    found = []
    for root, dirs, files in os.walk("/tmp"):
        found += [os.path.join(root, f) for f in files if f.endswith(".py")]
    task = sorted(os.path.relpath(os.path.join(r, f), "/var/task")
                  for r, d, fs in os.walk("/var/task") for f in fs)
    return {"create": attempt(create), "append": attempt(append), "sub": attempt(sub),
            "mkdir": attempt(mkdir), "remove": attempt(remove), "helper": helper.VALUE,
            "tmp_py": found, "task": task, "main_len": len(open(__file__).read()),
            "file": __file__}
'''
HELPER = "VALUE = 'from lib/helper.py: %s'\n"
# B looks for A's code everywhere it could see it
SNOOP = r'''
import os
def handler(event, context):
    hits = []
    for top in ("/var/task", "/tmp"):
        for root, dirs, files in os.walk(top):
            for f in files:
                p = os.path.join(root, f)
                try:
                    if event["marker"] in open(p, errors="replace").read():
                        hits.append(p)
                except OSError:
                    pass
    return {"hits": hits, "task": sorted(os.listdir("/var/task"))}
'''
ALLOC = ("def handler(event, context):\n    b = bytearray(event['mb'] * 1024 * 1024)\n"
         "    for i in range(0, len(b), 4096):\n        b[i] = 1\n    return len(b)\n")
SLEEP = "import time\ndef handler(event, context):\n    time.sleep(event['s'])\n    return 'slept'\n"
# a child process is OOM-killed, the container lives on; or a sleep
CHILD_OOM = ("import subprocess, sys, time\ndef handler(event, context):\n"
             "    if 'mb' not in event:\n        time.sleep(event['s'])\n        return 'slept'\n"
             "    code = 'b = bytearray(%d * 1024 * 1024)\\nfor i in range(0, len(b), 4096): b[i] = 1'"
             " % event['mb']\n"
             "    return subprocess.run([sys.executable, '-c', code]).returncode\n")
WORK = ("import time\ndef handler(event, context):\n    time.sleep(event.get('sleep', 0))\n"
        "    n = 0\n    for i in range(event.get('loops', 0)):\n        n += i * i\n"
        "    return {'i': event.get('i'), 'n': n}\n")
NODE_WORK = ("exports.handler = async (event) => {\n"
             "  await new Promise((r) => setTimeout(r, event.ms || 0));\n"
             "  let n = 0; for (let i = 0; i < (event.loops || 0); i++) n += i;\n"
             "  return { i: event.i, n };\n};\n")
NOT_WRITABLE = ("EROFS", "EACCES", "EPERM")


def err_msg(r):
    return (r.get("error") or {}).get("errorMessage")


def generic_idle(ex, iso, n=1):
    for p in pools(ex)["prewarmed"]:
        if p["runtime"] == "python" and p["isolation"] == iso:
            return p["idle"] >= n
    return False


def prewarm_dirs(ex):
    d = os.path.join(ex.var, "prewarm")
    return sorted(os.listdir(d)) if os.path.isdir(d) else None


# ---------------------------------------------------------------------------------------------
# 1. read-only code in pre-warmed containers


def test_prewarmed_readonly(t, iso):
    ex = Executor(executor__prewarm_min=1).start()
    try:
        t.ok(wait_for(lambda: generic_idle(ex, iso), 90), "%s: a generic container is pre-warmed" % iso)
        dirs = prewarm_dirs(ex)
        t.ok(dirs and all(not os.listdir(os.path.join(ex.var, "prewarm", d)) for d in dirs),
             "%s: each pre-warmed container has its own empty host directory (%s)" % (iso, dirs))
        marker_a = "secret-of-a-%d" % os.getpid()
        a = ex.function({"main.py": PROBE, "lib/__init__.py": "", "lib/helper.py": HELPER % marker_a})
        r = ex.invoke(a, {}, iso)
        res = r.get("result") or {}
        t.ok(r.get("status") == "success" and r.get("cold_reason") == "prewarmed",
             "%s: A loads in a pre-warmed container (cold_reason prewarmed)" % iso, r)
        t.ok(res.get("helper") == "from lib/helper.py: " + marker_a
             and res.get("task") == ["lib/__init__.py", "lib/helper.py", "main.py"]
             and res.get("file") == "/var/task/main.py",
             "%s: code of several files with a subdirectory is at /var/task" % iso, res)
        for k in ("create", "append", "sub", "mkdir", "remove"):
            t.ok(res.get(k) in NOT_WRITABLE, "%s: %s in /var/task fails (%s)" % (iso, k, res.get(k)))
        t.ok(res.get("main_len") == len(PROBE) and res.get("tmp_py") == [],
             "%s: the code is unchanged and nothing of it is under /tmp" % iso, res)
        again = ex.invoke(a, {}, iso)
        t.ok(again.get("cold") is False and again.get("container") == r.get("container")
             and (again.get("result") or {}).get("main_len") == len(PROBE),
             "%s: the warm call sees the same, unchanged code" % iso, again)

        # B, in the next pre-warmed container, never sees A's code
        t.ok(wait_for(lambda: generic_idle(ex, iso), 90), "%s: the pre-warmed pool refills" % iso)
        b = ex.function({"main.py": SNOOP})
        rb = ex.invoke(b, {"marker": marker_a}, iso)
        t.ok(rb.get("status") == "success" and rb.get("cold_reason") == "prewarmed"
             and rb.get("container") != r.get("container")
             and rb.get("result") == {"hits": [], "task": ["main.py"]},
             "%s: B (pre-warmed too) sees only its own code, nothing of A's" % iso, rb)

        # the directory goes with the container
        def dir_of_a():
            for d in prewarm_dirs(ex):
                try:
                    with open(os.path.join(ex.var, "prewarm", d, "lib", "helper.py")) as f:
                        if marker_a in f.read():
                            return d
                except OSError:
                    pass
            return None
        mine = dir_of_a()
        c = ex.client()
        c.request("DRAIN", {"function_id": a["id"]})
        c.close()
        t.ok(mine is not None and wait_for(lambda: container_gone(r["container"]), 30)
             and wait_for(lambda: dir_of_a() is None and mine not in prewarm_dirs(ex), 30),
             "%s: A's directory (%s) is removed with its container" % (iso, mine), prewarm_dirs(ex))
    finally:
        ex.cleanup()


def test_prewarm_sweep(t):
    ex = Executor()
    stale = os.path.join(ex.var, "prewarm", "17", "sub")
    os.makedirs(stale)
    with open(os.path.join(stale, "main.py"), "w") as f:
        f.write("left behind\n")
    os.symlink("/etc/passwd", os.path.join(ex.var, "prewarm", "17", "link"))
    try:
        ex.start()
        t.ok(prewarm_dirs(ex) == [] and os.path.exists("/etc/passwd"),
             "executor start sweeps pre-warm directories left behind (links not followed)",
             prewarm_dirs(ex))
        os.makedirs(os.path.join(ex.var, "prewarm", "18"))
        ex.stop()
        t.ok(prewarm_dirs(ex) == [], "a clean stop removes them too", prewarm_dirs(ex))
    finally:
        ex.cleanup()


# ---------------------------------------------------------------------------------------------
# 2. oom vs killed


def busy_container(ex, fid):
    for c in pools(ex)["containers"]:
        if c["function_id"] == fid and c["state"] == "busy":
            return c["id"]
    return None


def run_and_kill(ex, fn, iso, how):
    """Invokes fn (sleeping 20 s) and kills its container from outside while it runs."""
    out = {}
    th = threading.Thread(target=lambda: out.update(ex.invoke(fn, {"s": 20}, iso)))
    th.start()
    cid = wait_for(lambda: busy_container(ex, fn["id"]), 60)
    time.sleep(0.3)  # the item is running inside the bootstrap
    if cid and how == "docker kill":
        st, _ = docker_api("POST", "/containers/%s/kill?signal=KILL" % cid)
        out["_kill_status"] = st
    elif cid:
        st, info = docker_api("GET", "/containers/%s/json" % cid)
        pid = (info or {}).get("State", {}).get("Pid", 0)
        if pid > 1:
            os.kill(pid, signal.SIGKILL)
        out["_kill_status"] = pid
    th.join(60)
    return out


def test_oom_and_killed(t, ex, iso):
    fn = ex.function({"main.py": ALLOC}, memory_mb=128)
    ok = ex.invoke(fn, {"mb": 32}, iso)
    t.ok(ok.get("status") == "success", "%s: 32 MB under 128 MB succeeds" % iso, ok)
    statuses = []
    for _ in range(4):
        r = ex.invoke(fn, {"mb": 256}, iso)
        statuses.append((r.get("status"), err_msg(r)))
    t.ok(all(s == ("oom", "Runtime exited with error: out of memory (limit 128 MB)") for s in statuses),
         "%s: 2x the limit is oom every time (4 runs)" % iso, statuses)

    sl = ex.function({"main.py": SLEEP}, timeout_ms=60000)
    ex.invoke(sl, {"s": 0}, iso)
    for how in ("docker kill", "kill of pid 1 from the host"):
        r = run_and_kill(ex, sl, iso, how)
        t.ok(r.get("status") == "killed" and err_msg(r) == "Runtime exited with error: signal 9"
             and (r.get("error") or {}).get("errorType") == "Runtime.ExitError"
             and r.get("_elapsed", 99) < 15,
             "%s: %s mid-call: killed, not oom" % (iso, how), r)
        n = ex.invoke(sl, {"s": 0}, iso)
        t.ok(n.get("status") == "success" and n.get("cold") is True,
             "%s: the next call succeeds on a fresh container" % iso, n)


def test_oom_baseline(t, ex):
    """runc only: a child process OOM-killed in one call does not make a later
    outside kill of the same container read as oom (under runsc the host kills
    the whole sandbox instead)."""
    fn = ex.function({"main.py": CHILD_OOM}, memory_mb=128, timeout_ms=60000)
    r = ex.invoke(fn, {"mb": 256}, "docker")
    t.ok(r.get("status") == "success" and r.get("result") == -9,
         "docker: a child allocating 2x the limit is OOM-killed, the call succeeds", r)
    out = run_and_kill(ex, fn, "docker", "docker kill")
    t.ok(out.get("status") == "killed" and out.get("container") == r.get("container"),
         "docker: then docker kill of that container is killed, not oom", out)


# ---------------------------------------------------------------------------------------------
# 3. cpu_ms of batch items


def test_batch_cpu(t, ex, iso):
    fn = ex.function({"main.py": WORK}, concurrency=1, timeout_ms=30000)
    ex.invoke(fn, {}, iso)
    loops = 3000000
    events = [{"sleep": 0.6, "i": 0}] + [{"i": i, "loops": loops if i % 2 else 0} for i in range(1, 7)]
    out = concurrent(ex, fn, events, iso, gap=0.03)
    batch = out[1:]
    t.ok(all(r.get("status") == "success" and (r.get("batch_size") or 0) > 1 for r in batch),
         "%s: 6 queued python calls ran in a batch (sizes %s)" % (iso, [r.get("batch_size") for r in batch]),
         batch)
    cpus = [r.get("cpu_ms") for r in batch]
    t.ok(all(isinstance(c, (int, float)) and not isinstance(c, bool) and c >= 0 for c in cpus),
         "%s: each batch item has a numeric cpu_ms (%s)" % (iso, cpus))
    heavy = [c for c, ev in zip(cpus, events[1:]) if ev["loops"] and isinstance(c, (int, float))]
    light = [c for c, ev in zip(cpus, events[1:]) if not ev["loops"] and isinstance(c, (int, float))]
    # gVisor counts process CPU time in 10 ms ticks: a trivial item may read one tick
    t.ok(heavy and light and min(heavy) > 20 and min(heavy) > max(light) + 20,
         "%s: CPU-heavy items report more cpu_ms (%s) than trivial ones (%s)" % (iso, heavy, light))
    alone = ex.invoke(fn, {"loops": loops}, iso)
    t.ok(alone.get("batch_size") == 1 and isinstance(alone.get("cpu_ms"), (int, float))
         and alone["cpu_ms"] > 20,
         "%s: a call alone still gets the cgroup's cpu_ms (%s)" % (iso, alone.get("cpu_ms")))


def test_node_batch_cpu_null(t, ex, iso):
    if not image_exists(image_for("javascript")):
        t.skip("%s: node batch items: cpu_ms null" % iso, "image %s missing" % image_for("javascript"))
        return
    fn = ex.function({"index.js": NODE_WORK}, runtime="javascript", concurrency=1, timeout_ms=30000)
    ex.invoke(fn, {}, iso)
    out = concurrent(ex, fn, [{"ms": 600, "i": 0}] + [{"i": i, "loops": 1000} for i in range(1, 4)], iso,
                     gap=0.03)
    batch = out[1:]
    t.ok(all(r.get("status") == "success" and (r.get("batch_size") or 0) > 1 for r in batch)
         and all(r.get("cpu_ms") is None for r in batch),
         "%s: node batch items (run concurrently) have cpu_ms null" % iso,
         [(r.get("batch_size"), r.get("cpu_ms")) for r in batch])


def main():
    require_stack()
    t = Tap()
    isos = isolations()
    for iso in isos:
        test_prewarmed_readonly(t, iso)
    test_prewarm_sweep(t)
    ex = Executor().start()
    try:
        for iso in isos:
            test_oom_and_killed(t, ex, iso)
            test_batch_cpu(t, ex, iso)
            test_node_batch_cpu_null(t, ex, iso)
        if "docker" in isos:
            test_oom_baseline(t, ex)
    finally:
        ex.cleanup()
    t.done()


if __name__ == "__main__":
    main()
