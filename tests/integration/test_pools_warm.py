#!/usr/bin/python3
"""Warm pools and batching: pre-warmed hits, tenancy (A's container never
serves B), keep-alive expiry, the container cap with LRU eviction, the
bounded queue (too_many_requests), DRAIN, new versions, batches with one
failing item, a timeout inside a batch."""
import threading
import time

from executor_client import (Executor, Tap, concurrent, container_gone, image_exists, image_for,
                             isolations, pools, require_stack, wait_for)

ECHO = ("import time\ndef handler(event, context):\n    time.sleep(event.get('sleep', 0))\n"
        "    while event.get('spin'):\n        pass\n"
        "    if event.get('fail'):\n        raise ValueError('item %s failed' % event.get('i'))\n"
        "    return event\n")
TENANT = ("import os\ndef handler(event, context):\n    seen = os.path.exists('/tmp/secret')\n"
          "    open('/tmp/secret', 'w').write('mine')\n    return {'seen': seen, 'env': os.environ.get('SECRET')}\n")


def of_function(ex, fid):
    return [c for c in pools(ex)["containers"] if c["function_id"] == fid]


def test_prewarmed(t, iso):
    ex = Executor(executor__prewarm_min=1).start()
    try:
        def idle():
            for p in pools(ex)["prewarmed"]:
                if p["runtime"] == "python" and p["isolation"] == iso:
                    return p["idle"] >= 1
            return False
        t.ok(wait_for(idle, 60), "%s: a generic python container is pre-warmed" % iso, pools(ex))
        fn = ex.function({"main.py": ECHO}, memory_mb=128)
        hit = ex.invoke(fn, {"i": 1}, iso)
        t.ok(hit.get("status") == "success" and hit.get("cold") is True
             and hit.get("cold_reason") == "prewarmed",
             "%s: first call is cold=true, reason prewarmed" % iso, hit)
        other = ex.function({"main.py": ECHO}, memory_mb=256)  # no generic container of that size
        miss = ex.invoke(other, {"i": 2}, iso)
        t.ok(miss.get("cold_reason") == "no_pool", "%s: a function without a matching pool: no_pool" % iso, miss)
        t.ok(hit["_elapsed"] * 3 < miss["_elapsed"],
             "%s: pre-warmed %.1f ms vs no pool %.1f ms" % (iso, hit["_elapsed"] * 1000, miss["_elapsed"] * 1000))
        t.ok(wait_for(idle, 60), "%s: the pre-warmed pool refills in the background" % iso)
    finally:
        ex.cleanup()


def test_tenancy(t, ex, iso):
    a = ex.function({"main.py": TENANT}, env={"SECRET": "a-only"})
    b = ex.function({"main.py": TENANT})
    ra1 = ex.invoke(a, {}, iso)
    ra2 = ex.invoke(a, {}, iso)
    rb = ex.invoke(b, {}, iso)
    t.ok(ra1.get("result") == {"seen": False, "env": "a-only"} and ra2.get("result", {}).get("seen") is True,
         "%s: A's warm container keeps A's /tmp" % iso, (ra1, ra2))
    t.ok(rb.get("container") not in (ra1.get("container"), None)
         and rb.get("result") == {"seen": False, "env": None},
         "%s: B never runs in A's container, never sees A's /tmp or env" % iso, rb)
    fa = of_function(ex, a["id"])
    t.ok(len(fa) == 1 and fa[0]["id"] == ra1["container"] and fa[0]["calls"] == 2,
         "%s: POOLS shows A's container with its calls" % iso, fa)


def test_versions_and_drain(t, ex, iso):
    v1 = ex.function({"main.py": ECHO}, version=1)
    r1 = ex.invoke(v1, {"i": 1}, iso)
    v2 = dict(ex.function({"main.py": ECHO + "\n# v2\n"}, fid=v1["id"], version=2))
    r2 = ex.invoke(v2, {"i": 2}, iso)
    t.ok(r2.get("cold_reason") == "new_version" and r2.get("container") != r1.get("container"),
         "%s: a new version gets a new container (new_version)" % iso, r2)
    t.ok(wait_for(lambda: container_gone(r1["container"]), 30), "%s: the old version's container is removed" % iso)
    c = ex.client()
    typ, body = c.request("DRAIN", {"function_id": v1["id"]})
    c.close()
    t.ok(typ == "DRAIN_REPLY" and body.get("drained") == 1, "%s: DRAIN drains one container" % iso, body)
    t.ok(wait_for(lambda: container_gone(r2["container"]), 30) and not of_function(ex, v1["id"]),
         "%s: drained container removed" % iso)
    r3 = ex.invoke(v2, {"i": 3}, iso)
    t.ok(r3.get("status") == "success" and r3.get("cold") is True, "%s: next call after DRAIN is cold" % iso, r3)


def test_keepalive(t, iso):
    ex = Executor(executor__keepalive_s=2).start()
    try:
        short = ex.function({"main.py": ECHO})
        long_ = ex.function({"main.py": ECHO}, keepalive_s=120)
        ex.invoke(short, {}, iso)
        ex.invoke(long_, {}, iso)
        t.ok(wait_for(lambda: not of_function(ex, short["id"]), 10),
             "%s: idle container evicted after its 2 s keep-alive" % iso)
        t.ok(len(of_function(ex, long_["id"])) == 1, "%s: per-function keepalive_s=120 keeps its container" % iso)
        r = ex.invoke(short, {}, iso)
        t.ok(r.get("cold_reason") == "evicted", "%s: the next call is cold, reason evicted" % iso, r)
    finally:
        ex.cleanup()


def test_cap_lru(t, iso):
    ex = Executor(executor__max_containers=2).start()
    try:
        a, b, c = (ex.function({"main.py": ECHO}) for _ in range(3))
        ra = ex.invoke(a, {}, iso)
        ex.invoke(b, {}, iso)
        ex.invoke(b, {}, iso)  # b used last: a is the least recently used
        rc = ex.invoke(c, {}, iso)
        t.ok(rc.get("status") == "success" and not of_function(ex, a["id"])
             and of_function(ex, b["id"]) and of_function(ex, c["id"]),
             "%s: at the cap of 2, the LRU container (A) is evicted for C" % iso, pools(ex))
        t.ok(wait_for(lambda: container_gone(ra["container"]), 30), "%s: A's container removed" % iso)
        r = ex.invoke(a, {}, iso)
        t.ok(r.get("cold_reason") == "evicted" and len(pools(ex)["containers"]) == 2,
             "%s: A comes back cold (evicted); still 2 containers" % iso, r)
    finally:
        ex.cleanup()


def test_queue_full(t, iso):
    ex = Executor(executor__queue_max=1).start()
    try:
        fn = ex.function({"main.py": ECHO}, concurrency=1, timeout_ms=10000)
        ex.invoke(fn, {}, iso)
        out = concurrent(ex, fn, [{"sleep": 1}, {"i": 2}, {"i": 3}], iso, gap=0.1)
        t.ok(out[0].get("status") == "success" and out[1].get("status") == "success",
             "%s: one running, one queued: both served" % iso, out[:2])
        t.ok(out[1].get("queue_ms", 0) > 500, "%s: the queued call's queue_ms (%s)" % (iso, out[1].get("queue_ms")))
        t.ok(out[2].get("_type") == "ERROR" and out[2].get("code") == "too_many_requests"
             and out[2].get("retry_after") == 1,
             "%s: queue full: too_many_requests with retry_after" % iso, out[2])
        q = ex.function({"main.py": ECHO}, concurrency=1, timeout_ms=1000)
        ex.invoke(q, {}, iso)
        out = concurrent(ex, q, [{"sleep": 0.8}, {"i": 2}], iso, gap=0.1)
        t.ok(out[1].get("status") == "success", "%s: a call queued 0.7 s under a 1 s timeout runs" % iso, out[1])
        out = concurrent(ex, q, [{"sleep": 0.95}, {"sleep": 0.5}], iso, gap=0.05)
        t.ok(out[1].get("status") == "timeout"
             and (out[1].get("error") or {}).get("errorMessage") == "Task timed out after 1.00 seconds",
             "%s: queue time counts against the timeout" % iso, out[1])
    finally:
        ex.cleanup()


def test_batch(t, ex, iso):
    fn = ex.function({"main.py": ECHO}, concurrency=1, timeout_ms=5000)
    ex.invoke(fn, {}, iso)
    events = [{"sleep": 0.5, "i": 0}] + [{"i": i, "fail": i == 3} for i in range(1, 6)]
    out = concurrent(ex, fn, events, iso, gap=0.03)
    batch = out[1:]
    t.ok(all(r.get("batch_size") == 5 for r in batch), "%s: 5 queued calls ran as one batch" % iso,
         [r.get("batch_size") for r in out])
    t.ok(all(r.get("result") == events[i + 1] for i, r in enumerate(batch) if i + 1 != 3)
         and len({r.get("container") for r in out}) == 1,
         "%s: each call got its own result, same container" % iso, batch)
    t.ok(batch[2].get("status") == "error" and (batch[2].get("error") or {}).get("errorMessage") == "item 3 failed"
         and all(r.get("status") == "success" for i, r in enumerate(batch) if i != 2),
         "%s: the failing item is isolated" % iso, [r.get("status") for r in batch])
    t.ok(batch[0]["queue_ms"] > batch[-1]["queue_ms"], "%s: queue_ms per item" % iso)


NODE_SLEEP = ("exports.handler = async (event) => {\n"
              "  await new Promise((r) => setTimeout(r, event.ms));\n  return event;\n};\n")


def test_node_batch_concurrent(t, ex, iso):
    if not image_exists(image_for("javascript")):
        t.skip("%s: node batch items run concurrently" % iso, "image %s missing" % image_for("javascript"))
        return
    fn = ex.function({"index.js": NODE_SLEEP}, runtime="javascript", concurrency=1, timeout_ms=5000)
    ex.invoke(fn, {"ms": 0}, iso)
    t0 = time.time()
    out = concurrent(ex, fn, [{"ms": 600, "i": 0}] + [{"ms": 400, "i": i} for i in range(1, 4)], iso, gap=0.03)
    batch = out[1:]
    ends = [r["_elapsed"] for r in batch]
    t.ok(all(r.get("batch_size") == 3 and r.get("status") == "success" for r in batch)
         and [r.get("result", {}).get("i") for r in batch] == [1, 2, 3],
         "%s: node: 3 queued calls as one batch, each its own result" % iso, batch)
    # sequentially the last would end 0.8 s after the first; concurrently together
    t.ok(max(ends) - min(ends) < 0.3 and time.time() - t0 < 1.6,
         "%s: node runs the items of a batch concurrently (ends %s)" % (iso, ["%.2f" % e for e in ends]))


def test_batch_timeout(t, ex, iso):
    fn = ex.function({"main.py": ECHO}, concurrency=1, timeout_ms=2000)
    ex.invoke(fn, {}, iso)
    out = [None] * 3

    def go(i, ev):
        out[i] = ex.invoke(fn, ev, iso)
    ths = [threading.Thread(target=go, args=(0, {"sleep": 1.2, "i": 0})),
           threading.Thread(target=go, args=(1, {"spin": True, "i": 1})),
           threading.Thread(target=go, args=(2, {"i": 2}))]
    ths[0].start()
    time.sleep(0.1)
    ths[1].start()
    time.sleep(0.6)  # item 2's deadline is 0.6 s after item 1's: time left to retry it
    ths[2].start()
    for th in ths:
        th.join(60)
    t.ok(out[1].get("status") == "timeout" and out[1].get("batch_size") == 2,
         "%s: the spinning item of a batch of 2 times out" % iso, out[1])
    t.ok(out[2].get("status") == "success" and out[2].get("attempts") == 1
         and out[2].get("container") != out[1].get("container"),
         "%s: the other item is retried on another container and succeeds" % iso, out[2])
    t.ok(wait_for(lambda: container_gone(out[1]["container"]), 30),
         "%s: the container of the timeout is removed" % iso)


def test_batch_held_result(t, ex, iso):
    """A result the bootstrap holds to write with the rest of its batch is let go when the next
    item runs long: a finished item is not run again when its sibling times out."""
    fn = ex.function({"main.py": ECHO}, concurrency=1, timeout_ms=2000)
    ex.invoke(fn, {}, iso)
    out = concurrent(ex, fn, [{"sleep": 0.8, "i": 0}, {"i": 1}, {"spin": True, "i": 2}], iso,
                     gap=0.1)
    t.ok(out[1].get("batch_size") == 2 and out[2].get("batch_size") == 2
         and out[2].get("status") == "timeout",
         "%s: a batch of [fast, spinning]: the spinning item times out" % iso, out[1:])
    t.ok(out[1].get("status") == "success" and out[1].get("result") == {"i": 1}
         and out[1].get("attempts", 0) == 0 and out[1].get("container") == out[2].get("container"),
         "%s: the fast item's result came from the first run, not a retry" % iso, out[1])


def test_concurrent_clients(t, ex, iso, clients=32, calls=20):
    fn = ex.function({"main.py": "def handler(event, context):\n    return event\n"})
    bad = []
    sizes = set()
    lock = threading.Lock()

    def worker(k):
        c = ex.client()
        try:
            for i in range(calls):
                r = ex.invoke(fn, {"k": k, "i": i}, iso, client=c)
                with lock:
                    sizes.add(r.get("batch_size"))
                    if r.get("status") != "success" or r.get("result") != {"k": k, "i": i}:
                        bad.append(r)
        finally:
            c.close()
    ths = [threading.Thread(target=worker, args=(k,)) for k in range(clients)]
    for th in ths:
        th.start()
    for th in ths:
        th.join(120)
    t.ok(not bad, "%s: %d clients x %d calls: every call gets its own result" % (iso, clients, calls),
         bad[:3])
    t.ok(max(s for s in sizes if s) > 1, "%s: ... and some ran in batches (sizes %s)" % (iso, sorted(sizes)))


def main():
    require_stack()
    t = Tap()
    isos = isolations()
    for iso in isos:
        test_prewarmed(t, iso)
    ex = Executor().start()
    try:
        for iso in isos:
            test_batch(t, ex, iso)
            test_node_batch_concurrent(t, ex, iso)
            test_batch_timeout(t, ex, iso)
            test_batch_held_result(t, ex, iso)
        test_concurrent_clients(t, ex, isos[0])
        test_tenancy(t, ex, isos[-1])
        test_versions_and_drain(t, ex, isos[0])
    finally:
        ex.cleanup()
    test_keepalive(t, isos[0])
    test_cap_lru(t, isos[0])
    test_queue_full(t, isos[0])
    t.done()


if __name__ == "__main__":
    main()
