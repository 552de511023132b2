#!/usr/bin/python3
"""executor.max_starting (issue 4): a burst of cold calls with batching off starts at most
max_starting containers at once; the rest wait in the queue and start as slots free up, and
every call succeeds. A private executor (runc), python; GET POOLS is sampled meanwhile."""
import threading
import time

from executor_client import Executor, Tap, require_stack

SLOW = "import time\ndef handler(event, context):\n    time.sleep(0.5)\n    return event\n"
BURST = 10
LIMIT = 2


def sample_starting(ex, stop, seen):
    c = ex.client()
    try:
        while not stop.is_set():
            p = c.request("POOLS", {})[1]
            states = [x["state"] for x in p["containers"]]
            seen.append((p["starting"], sum(s in ("creating", "loading") for s in states)))
            time.sleep(0.01)
    finally:
        c.close()


def burst(ex, fn):
    out = [None] * BURST

    def go(i):
        out[i] = ex.invoke(fn, {"i": i}, "docker")
    ths = [threading.Thread(target=go, args=(i,)) for i in range(BURST)]
    for th in ths:
        th.start()
    for th in ths:
        th.join(300)
    return out


def main():
    t = Tap()
    require_stack(("python",))
    ex = Executor(executor__max_starting=LIMIT, executor__batch_max=1,
                  executor__prewarm_min=0, executor__queue_max=64).start()
    try:
        p = ex.client().request("POOLS", {})[1]
        t.eq(p["limits"]["max_starting"], LIMIT, "POOLS shows limits.max_starting")
        fn = ex.function({"main.py": SLOW}, timeout_ms=120000)
        stop, seen = threading.Event(), []
        sampler = threading.Thread(target=sample_starting, args=(ex, stop, seen))
        sampler.start()
        t0 = time.time()
        res = burst(ex, fn)
        took = time.time() - t0
        stop.set()
        sampler.join()
        ok = [r for r in res if r and r.get("status") == "success"]
        t.eq(len(ok), BURST, "all %d calls of the burst succeed (the rest waited, none refused)"
             % BURST)
        t.ok(len(seen) > 20, "POOLS sampled while the burst ran", len(seen))
        most = max(max(a, b) for a, b in seen) if seen else -1
        t.ok(0 < most <= LIMIT, "never more than %d containers starting at once (saw %d)"
             % (LIMIT, most))
        ctrs = {r.get("container") for r in ok}
        cold = [r for r in ok if r.get("cold")]
        t.ok(len(ctrs) > LIMIT,
             "waiting scale-ups started when slots came free: %d containers served the burst"
             % len(ctrs), sorted(ctrs))
        t.ok(all(r.get("cold_reason") in ("no_pool", "scale_up") for r in cold),
             "cold reasons are no_pool / scale_up", [r.get("cold_reason") for r in cold])
        t.figure("burst of %d with max_starting %d" % (BURST, LIMIT), "%.1f" % took, "s")
        p = ex.client().request("POOLS", {})[1]
        t.eq(p["starting"], 0, "nothing left starting afterwards")
    finally:
        ex.cleanup()
    t.done()


if __name__ == "__main__":
    main()
