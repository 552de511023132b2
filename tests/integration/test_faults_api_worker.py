#!/usr/bin/python3
"""SIGKILL one lambda-api worker (FastCGI process) under load, twice:
lighttpd starts a new one, the service keeps answering, and every 2xx
answered has its invocation record (the killed worker's journal is
replayed by the others; no journal of a dead worker is left behind)."""

import glob
import os
import signal
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
import relib  # noqa: E402

t = h.Tap()
fast = relib.create(relib.PY_ECHO, "python", "docker", "fw-fast")
fast_g = relib.create(relib.JS_ECHO, "javascript", "gvisor", "fw-fastg")
for f in (fast, fast_g):
    relib.warm(f)
ids = [fast["id"], fast_g["id"]]

workers = h.api_workers()
t.ok(len(workers) >= 1, f"the stack has FastCGI workers ({workers})")
bg = relib.Background([fast, fast_g], threads=8)
killed = []
for round_ in range(2):
    time.sleep(1.5)
    victims = h.api_workers()
    if not victims:
        break
    victim = victims[0]
    os.kill(victim, signal.SIGKILL)
    killed.append((victim, time.monotonic()))
    back = h.wait_until(lambda: len(h.api_workers()) >= len(workers)
                        and victim not in h.api_workers(), 20, 0.2)
    t.ok(back, f"kill {round_ + 1}: lighttpd replaced worker {victim}",
         f"workers now {h.api_workers()}, before {workers}")
time.sleep(3)
calls = bg.stop()
by = relib.summarise(calls)
print(f"# background calls: {by}", flush=True)
t_last = killed[-1][1] if killed else 0
late = [c for c in calls if c["t0"] > t_last + 8 and c["status"] != 200]
t.ok(not late, "after the kills, every call succeeds again", late[:5])
ok_ids = bg.ok_ids()
t.ok(len(ok_ids) > 50, f"the load was served ({len(ok_ids)} x 200)")
recs, missing = relib.wait_records(ids, ok_ids, timeout=20)
t.ok(not missing, f"every 2xx ({len(ok_ids)}) has its record", sorted(missing)[:5])
t.ok(all(recs.get(r) == "success" for r in ok_ids), "... each with status success")
dead_journals = [j for v, _ in killed for j in glob.glob(f"{h.VAR}/journal/api-{v}-*.jnl")]
left = h.wait_until(lambda: not any(os.path.exists(j) for j in dead_journals), 10, 0.2)
t.ok(left or not dead_journals, "the killed workers' journals were replayed and removed",
     [j for j in dead_journals if os.path.exists(j)])
t.ok(relib.wait_healthy(10), "health is 200")
relib.figure("fault", name="SIGKILL a FastCGI worker (x2)", acknowledged=len(ok_ids),
             records_missing=len(missing), survived=bool(not missing and not late))
t.done()
