#!/usr/bin/python3
"""Load against warm functions at 32, 128 and 512 connections (loopback,
bounded in time and count): a mix of fast, slow, failing and timing-out
functions under runc and runsc together. Each phase asserts zero 5xx and
no unanswered request, that every over-capacity answer is 429 with
Retry-After, that every 2xx has exactly its invocation record (request ids
answered == request ids in the database, no more, no less) with the status
its function must give; p99 of the admitted calls is reported.

The executor runs with a small queue (executor.queue_max = 8) and the slow
function with concurrency 1, so that the larger phases go over capacity.

Environment: LAMBDA_LOAD_SECONDS (per phase, default 12),
LAMBDA_LOAD_CONNS (default "32,128,512"). The 60 s versions: tests/soak/."""

import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
import relib  # noqa: E402

SECONDS = float(os.environ.get("LAMBDA_LOAD_SECONDS") or "12")
CONNS = [int(c) for c in (os.environ.get("LAMBDA_LOAD_CONNS") or "32,128,512").split(",")]
QUEUE_MAX = 8

t = h.Tap()
if relib.load_binary() is None:
    t.skip_all("tests/load/lambda-load is not built (run make)")

old_conf = relib.set_local_conf({"executor.queue_max": str(QUEUE_MAX)})
fns = {}


def setup():
    h.stack("restart", "executor")
    h.check(relib.wait_healthy(60), "the stack is not healthy after the executor restart")
    fns["py_fast"] = relib.create(relib.PY_ECHO, "python", "docker", "ld-pyfast")
    fns["js_fast"] = relib.create(relib.JS_ECHO, "javascript", "gvisor", "ld-jsfast")
    # Queue time counts against the timeout (issue 4). With concurrency 1 and
    # the executor queue capped at 8 (see above), a queued 0.2 s call waits
    # at most ~8 runs: 10 s leaves room for that even in the ASan build under
    # 512 connections (3 s did not: two queued calls timed out there), so
    # "slow calls succeed" stays a strict assertion.
    fns["py_slow"] = relib.create(relib.PY_SLOW, "python", "gvisor", "ld-pyslow", concurrency=1,
                                  timeout_ms=10000)
    fns["js_fail"] = relib.create(relib.JS_FAIL, "javascript", "docker", "ld-jsfail")
    fns["py_time"] = relib.create(relib.PY_SPIN, "python", "docker", "ld-pytime",
                                  timeout_ms=1000)
    for k in ("py_fast", "js_fast", "py_slow", "js_fail"):
        relib.warm(fns[k])
    relib.warm(fns["py_fast"], "gvisor")
    relib.warm(fns["js_fast"], "docker")
    # the warm-up calls' records must be in before a phase counts records
    _, missing = relib.wait_records([f["id"] for f in fns.values()], relib.WARM_IDS)
    h.check(not missing, f"warm-up records missing: {missing}")


# What each request is, and the status its invocation must end with. The
# fast calls dominate; one request in 24 times out (its container is
# destroyed and the next call is cold), so the pools see churn too.
def specs():
    f = fns
    plan = ([("py_fast", None, "success")] * 7 + [("py_fast", "gvisor", "success")] * 3 +
            [("js_fast", None, "success")] * 5 + [("js_fast", "docker", "success")] * 4 +
            [("py_slow", None, "success")] * 2 + [("js_fail", None, "error")] * 2 +
            [("py_time", None, "timeout")])
    return ([relib.invoke_spec(f[k], {"n": i}, iso) for i, (k, iso, _) in enumerate(plan)],
            [(k, want) for k, _, want in plan])


def phase(conns):
    spec_list, want = specs()
    ids = [fns[k]["id"] for k in fns]
    before = relib.records_of(ids)
    run = relib.run_load(spec_list, conns, SECONDS, 200000, timeout=30)
    s = run.summary
    by = run.by_status()
    p99 = s["p99_ms"]
    fast = sorted(r["latency_ms"] for r in run.rows
                  if r["status"] == 200 and want[r["spec"]][0] in ("py_fast", "js_fast"))
    fast_p99 = fast[min(len(fast) - 1, int(0.99 * (len(fast) - 1) + 0.5))] if fast else 0.0
    print(f"# {conns} connections: {s['answered']} answered in {s['seconds']:.1f} s "
          f"({s['rate']:.0f}/s); statuses {by}; admitted p50 {s['p50_ms']:.1f} ms, "
          f"p90 {s['p90_ms']:.1f} ms, p99 {p99:.1f} ms, max {s['max_ms']:.1f} ms; p99 of the "
          f"fast functions alone {fast_p99:.1f} ms", flush=True)

    bad5 = run.bad(lambda r: r["status"] >= 500 or r["status"] == 0)
    t.ok(not bad5, f"{conns} conns: no 5xx and no unanswered request ({s['answered']} answers)",
         "\n".join(f"{r['status']} {run.specs[r['spec']][1]}: {r['body']}" for r in bad5[:10]))
    other = run.bad(lambda r: not (200 <= r["status"] < 300) and r["status"] != 429
                    and r["status"] < 500 and r["status"] != 0)
    t.ok(not other, f"{conns} conns: every answer is 2xx or 429",
         "\n".join(f"{r['status']}: {r['body']}" for r in other[:10]))
    no_ra = run.bad(lambda r: r["status"] == 429 and not (r["retry_after"] or "").isdigit())
    t.ok(not no_ra, f"{conns} conns: every 429 ({by.get(429, 0)}) has a Retry-After",
         "\n".join(str(r) for r in no_ra[:5]))
    ok_rows = [r for r in run.rows if r["status"] == 200]
    no_rid = [r for r in ok_rows if not r["rid"]]
    t.ok(not no_rid, f"{conns} conns: every 200 carries X-Request-Id", no_rid[:3])
    answered_ids = {r["rid"] for r in ok_rows if r["rid"]}
    recs, missing = relib.wait_records(ids, answered_ids)
    new = {k: v for k, v in recs.items() if k not in before}
    extra = set(new) - answered_ids
    t.ok(not missing and not extra,
         f"{conns} conns: records == 2xx answers ({len(answered_ids)} ids; "
         f"{len(missing)} missing, {len(extra)} unanswered extra)",
         f"missing {sorted(missing)[:5]}; extra {sorted(extra)[:5]}")
    wrong = [(want[r['spec']][0], want[r['spec']][1], new.get(r["rid"]))
             for r in ok_rows if r["rid"] in new and new[r["rid"]] != want[r["spec"]][1]]
    t.ok(not wrong, f"{conns} conns: each record has its function's status "
         "(fast/slow success, failing error, timing-out timeout)",
         "\n".join(map(str, wrong[:10])))
    served = {want[r["spec"]][0] for r in ok_rows}
    t.ok(served == set(fns), f"{conns} conns: every function served some calls",
         f"served {sorted(served)}")
    relib.figure("load", conns=conns, seconds=round(s["seconds"], 1), answered=s["answered"],
                 ok=len(ok_rows), s429=by.get(429, 0), s5xx=len(bad5), p50_ms=s["p50_ms"],
                 p99_ms=p99, fast_p99_ms=fast_p99, rate=round(s["rate"], 1), records_missing=len(missing))
    return by


try:
    @t.test("set-up: queue_max 8, five functions (runc and runsc) warm")
    def _():
        setup()

    if len(fns) == 5:
        totals = {}
        for c in CONNS:
            by = phase(c)
            totals[c] = by
        top = max(CONNS)
        t.ok(totals[top].get(429, 0) > 0,
             f"{top} conns: over capacity, some calls were refused with 429",
             f"statuses {totals[top]}")
finally:
    relib.restore_local_conf(old_conf)
    h.stack("restart", "executor")
    relib.wait_healthy(60)
t.done()
