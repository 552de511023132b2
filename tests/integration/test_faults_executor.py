#!/usr/bin/python3
"""SIGKILL the executor under load: the calls in flight get a clear 503
(`executor unavailable: ...`, not a hang) whose X-Request-Id names an
`internal` record; the supervisor starts the executor again by itself, the
new executor removes the orphaned containers (by this stack's label) and
the service resumes; every 2xx answered has its record."""

import os
import sys
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
import relib  # noqa: E402

SLOW = "import time\ndef handler(event, context):\n    time.sleep(3)\n    return 'done'\n"

t = h.Tap()
fast = relib.create(relib.PY_ECHO, "python", "docker", "fx-fast")
fast_g = relib.create(relib.JS_ECHO, "javascript", "gvisor", "fx-fastg")
slow = relib.create(SLOW, "python", "docker", "fx-slow", timeout_ms=10000)
for f in (fast, fast_g):
    relib.warm(f)
ids = [fast["id"], fast_g["id"], slow["id"]]

old_pid = h.read_pid("executor")
t.ok(old_pid is not None, "the executor runs", f"no live pid in {h.VAR}/run/executor.pid")
bg = relib.Background([fast, fast_g], threads=6)
inflight = []


def slow_call(i):
    t0 = time.monotonic()
    try:
        st, hd, j = relib.invoke(slow, {"n": i}, timeout=30)
    except OSError as e:
        st, hd, j = 0, {}, str(e)
    inflight.append({"t0": t0, "t1": time.monotonic(), "status": st,
                     "rid": hd.get("x-request-id"), "body": j})


time.sleep(1.0)
slow_threads = [threading.Thread(target=slow_call, args=(i,)) for i in range(3)]
for th in slow_threads:
    th.start()
time.sleep(1.5)  # the slow calls are now running in their containers
before = set(relib.instance_containers())
t_kill = time.monotonic()
h.stack("kill", "executor")
for th in slow_threads:
    th.join(40)

t.ok(len(inflight) == 3 and all(c["status"] == 503 for c in inflight),
     "the calls in flight are answered 503", inflight)
t.ok(all(c["t1"] - t_kill < 5 for c in inflight),
     "... within 5 s of the kill (no hang)",
     [round(c["t1"] - t_kill, 2) for c in inflight])
msgs = [(c["body"] or {}).get("error", {}).get("message", "") if isinstance(c["body"], dict)
        else "" for c in inflight]
t.ok(all(m.startswith("executor unavailable") for m in msgs),
     "... with the message `executor unavailable: ...`", msgs)
rids = [c["rid"] for c in inflight]
t.ok(all(rids), "... and an X-Request-Id naming the record", rids)
recs, missing = relib.wait_records(ids, [r for r in rids if r])
t.ok(not missing and all(recs.get(r) == "internal" for r in rids if r),
     "each call in flight is recorded once, with status internal",
     {r: recs.get(r) for r in rids})

new_pid = h.wait_until(lambda: (p := h.read_pid("executor")) and p != old_pid and p, 20, 0.2)
t.ok(new_pid, "the supervisor started a new executor", f"old {old_pid}, now {new_pid}")
t.ok(relib.wait_healthy(30), "health is 200 again without any help")
gone = h.wait_until(lambda: not (before & set(relib.instance_containers())), 60, 0.5)
t.ok(gone, f"the {len(before)} containers of the killed executor are removed",
     sorted(before & set(relib.instance_containers()))[:5])
ok_after = h.wait_until(lambda: relib.invoke(fast)[0] == 200 and relib.invoke(slow)[0] == 200,
                        30, 0.5)
t.ok(ok_after, "calls succeed again (fast and slow)")
time.sleep(2)
calls = bg.stop()
by = relib.summarise(calls)
print(f"# background calls during the fault: {by}", flush=True)
late = [c for c in calls if c["t0"] > t_kill + 15 and c["status"] != 200]
t.ok(not late, "the background load is served again (no failure 15 s after the kill)",
     late[:5])
odd = [c for c in calls if c["status"] not in (200, 503)]
t.ok(not odd, "background answers are 200 or a clear 503", odd[:5])
bad503 = [c for c in calls if c["status"] == 503
          and not (c.get("message") or "").startswith("executor unavailable")]
t.ok(not bad503, "every background 503 says `executor unavailable: ...`", bad503[:5])
ok_ids = bg.ok_ids()
recs, missing = relib.wait_records(ids, ok_ids)
t.ok(not missing, f"every 2xx ({len(ok_ids)}) has its record", sorted(missing)[:5])
internal_bg = [c for c in calls if c["status"] == 503 and c["rid"]]
t.ok(all(recs.get(c["rid"]) == "internal" for c in internal_bg),
     f"each background 503 with a request id ({len(internal_bg)}) is an internal record",
     [(c["rid"], recs.get(c["rid"])) for c in internal_bg][:5])
relib.figure("fault", name="SIGKILL the executor", acknowledged=len(ok_ids),
             records_missing=len(missing), inflight_503=len(inflight),
             survived=bool(ok_after and not missing and gone))
t.done()
