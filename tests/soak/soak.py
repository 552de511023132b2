#!/usr/bin/python3
"""The soak (tests/soak/soak.sh runs it): SOAK_SECONDS (600) of load at
SOAK_CONNS (64) connections (at most SOAK_RATE requests/s, when set) on warm functions (python under runc, node under
runsc, a failing one), in 30 s rounds of tests/load/lambda-load. RSS of
lighttpd, of the lambda-api workers (summed) and of the executor is taken
after a warm-up round (start) and after the last round (end); each may grow
by at most SOAK_MAX_GROWTH percent (10). Also: zero 5xx, every 2xx recorded.
Prints TAP; writes tests/results/soak.json for tests/reliability-report.py."""

import json
import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "integration"))
import harness as h  # noqa: E402
import relib  # noqa: E402

SECONDS = float(os.environ.get("SOAK_SECONDS") or "600")
CONNS = int(os.environ.get("SOAK_CONNS") or "64")
GROWTH = float(os.environ.get("SOAK_MAX_GROWTH") or "10")
RATE = float(os.environ.get("SOAK_RATE") or "0")  # requests/s; 0 = as fast as it goes
ROUND = min(30.0, SECONDS)

t = h.Tap()
if relib.load_binary() is None:
    t.skip_all("tests/load/lambda-load is not built (run make)")
fns = [relib.create(relib.PY_ECHO, "python", "docker", "soak-py"),
       relib.create(relib.JS_ECHO, "javascript", "gvisor", "soak-js"),
       relib.create(relib.JS_FAIL, "javascript", "docker", "soak-fail")]
for f in fns:
    relib.warm(f)
specs = [relib.invoke_spec(fns[0])] * 4 + [relib.invoke_spec(fns[1])] * 3 + \
        [relib.invoke_spec(fns[2])]


def rss():
    """{name: KiB} for lighttpd, the workers (sum) and the executor."""
    return {"lighttpd": relib.rss_kb(h.read_pid("lighttpd")) or 0,
            "lambda-api workers": sum(relib.rss_kb(p) or 0 for p in h.api_workers()),
            "executor": relib.rss_kb(h.read_pid("executor")) or 0}


totals = {"requests": 0, "s5xx": 0, "none": 0, "missing": 0, "ok": 0}


def one_round(seconds):
    run = relib.run_load(specs, CONNS, seconds, 10_000_000, timeout=30, rate=RATE)
    ok = run.ok_ids()
    _, missing = relib.wait_records([f["id"] for f in fns], ok, timeout=30)
    totals["requests"] += run.summary["answered"]
    totals["s5xx"] += run.summary["s5xx"]
    totals["none"] += run.summary["none"]
    totals["missing"] += len(missing)
    totals["ok"] += len(ok)
    for r in run.bad(lambda r: r["status"] == 0 or r["status"] >= 500)[:5]:
        print(f"#   not answered / 5xx: {r}", flush=True)
    return run.summary


one_round(ROUND)  # warm-up: pools, caches and allocator arenas reach their size
start = rss()
workers_start = sorted(h.api_workers())
print(f"# RSS at start (KiB): {start}", flush=True)
done = 0.0
while done < SECONDS:
    s = one_round(min(ROUND, SECONDS - done))
    done += s["seconds"]
    print(f"# {done:.0f} s: {s['answered']} answers, p99 {s['p99_ms']:.1f} ms, RSS {rss()}",
          flush=True)
end = rss()
print(f"# RSS at end (KiB): {end}", flush=True)
t.ok(sorted(h.api_workers()) == workers_start, "the same workers ran from start to end",
     (workers_start, h.api_workers()))
rows = []
for name in start:
    g = 100.0 * (end[name] - start[name]) / start[name] if start[name] else 0.0
    rows.append({"name": name, "start_kb": start[name], "end_kb": end[name], "growth_pct": g})
    t.ok(start[name] > 0 and g <= GROWTH,
         f"{name}: RSS {start[name]} -> {end[name]} KiB ({g:+.1f}%, at most +{GROWTH:g}%)")
t.ok(totals["s5xx"] == 0 and totals["none"] == 0,
     f"{totals['requests']} requests: no 5xx, none unanswered", totals)
t.ok(totals["missing"] == 0, f"every 2xx ({totals['ok']}) has its record", totals)
os.makedirs(relib.RESULTS, exist_ok=True)
with open(os.path.join(relib.RESULTS, "soak.json"), "w") as f:
    json.dump({"seconds": done, "conns": CONNS, "rate": RATE, "requests": totals["requests"],
               "s5xx": totals["s5xx"], "records_missing": totals["missing"], "rss": rows}, f)
t.done()
