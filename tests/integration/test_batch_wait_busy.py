#!/usr/bin/python3
"""executor.batch_wait_busy_ms: while the host's CPUs are busy and another container of the
pool is running a batch, the call that takes an idle container waits for followers before it
sends its batch (up to the limit, or until batch_max - 1 calls are queued); on an idle host,
or with no other container busy, it sends at once. A pool of one container waits too when its
last batch had more than one call, until as many followers as that batch had are queued.

The host is made busy with one spinning process per CPU at nice 19 (counted as busy in
/proc/stat, as the executor's 1 s sample reads it; they yield to everything else). The
function's concurrency is 2, so the calls that arrive during the wait queue instead of
starting a third container."""
import os
import subprocess
import sys
import time

from executor_client import Executor, Tap, concurrent, pools, require_stack, wait_for

WAIT_MS = 400
ECHO = ("import time\ndef handler(event, context):\n    time.sleep(event.get('sleep', 0))\n"
        "    return event\n")


def spinners():
    return [subprocess.Popen(["nice", "-n", "19", sys.executable, "-c", "while True: pass"])
            for _ in range(os.cpu_count() or 1)]


def host_idle(ex):
    return pools(ex).get("host_idle", 1.0)


def two_warm(ex, fn, iso):
    """Two containers of fn, both warm and idle."""
    out = concurrent(ex, fn, [{"sleep": 0.4}, {"sleep": 0.4}], iso, gap=0.05)
    return len({r.get("container") for r in out}) == 2 and all(r.get("status") == "success" for r in out)


def main():
    require_stack()
    t = Tap()
    iso = "docker"
    ex = Executor(executor__batch_max=3, executor__batch_wait_busy_ms=WAIT_MS).start()
    spin = []
    try:
        fn = ex.function({"main.py": ECHO}, concurrency=2, timeout_ms=10000)
        t.ok(two_warm(ex, fn, iso), "two warm containers of the function")
        t.eq(pools(ex)["limits"].get("batch_wait_busy_ms"), WAIT_MS, "POOLS shows limits.batch_wait_busy_ms")

        # idle host: no wait, even with the other container busy
        t.ok(wait_for(lambda: host_idle(ex) >= 0.25, 30), "the host is idle (%.2f)" % host_idle(ex))
        out = concurrent(ex, fn, [{"sleep": 1.0, "i": 0}, {"i": 1}], iso, gap=0.15)
        t.ok(out[1].get("status") == "success" and out[1].get("batch_size") == 1
             and out[1].get("queue_ms", 1e9) < WAIT_MS / 4,
             "idle host: a call sent at once beside a busy container (queue_ms %s)" % out[1].get("queue_ms"),
             out[1])

        spin = spinners()
        t.ok(wait_for(lambda: host_idle(ex) < 0.25, 30), "the host is busy (%.2f)" % host_idle(ex))

        # alone: waits the whole limit for followers, then goes alone
        out = concurrent(ex, fn, [{"sleep": 1.5, "i": 0}, {"i": 1}], iso, gap=0.15)
        t.ok(out[1].get("status") == "success" and out[1].get("batch_size") == 1
             and WAIT_MS * 0.9 <= out[1].get("queue_ms", 0) < WAIT_MS * 2,
             "busy host: the call waited %s ms for followers (limit %d) and went alone"
             % (out[1].get("queue_ms"), WAIT_MS), out[1])

        # one follower arrives during the wait: one batch of 2 after the limit
        out = concurrent(ex, fn, [{"sleep": 1.5, "i": 0}, {"i": 1}, {"i": 2}], iso, gap=0.15)
        t.ok(all(r.get("status") == "success" and r.get("batch_size") == 2 for r in out[1:])
             and out[1].get("container") == out[2].get("container") != out[0].get("container")
             and [r.get("result", {}).get("i") for r in out] == [0, 1, 2],
             "busy host: a call that arrived during the wait joined the batch", out)
        t.ok(out[1].get("queue_ms", 0) >= WAIT_MS * 0.9,
             "... which left when the limit passed (leader's queue_ms %s)" % out[1].get("queue_ms"))

        # batch_max - 1 = 2 followers: the batch is full, the wait ends early
        out = concurrent(ex, fn, [{"sleep": 1.5, "i": 0}, {"i": 1}, {"i": 2}, {"i": 3}], iso, gap=0.05)
        t.ok(all(r.get("status") == "success" and r.get("batch_size") == 3 for r in out[1:])
             and len({r.get("container") for r in out[1:]}) == 1,
             "busy host: leader + 2 followers = batch_max 3 in one batch", out)
        t.ok(out[1].get("queue_ms", 1e9) < WAIT_MS / 2,
             "... sent as soon as it was full (leader's queue_ms %s, limit %d)"
             % (out[1].get("queue_ms"), WAIT_MS))

        # only one container busy-or-idle: nobody else is running, so no wait
        time.sleep(1.6)
        out = [ex.invoke(fn, {"i": 9}, iso)]
        t.ok(out[0].get("status") == "success" and out[0].get("queue_ms", 1e9) < WAIT_MS / 4,
             "busy host, no other container running: sent at once (queue_ms %s)" % out[0].get("queue_ms"),
             out[0])
        # a pool of one container: its last batch tells of the load, and says how many
        # followers to wait for (here 1, fewer than batch_max - 1 = 2)
        one = ex.function({"main.py": ECHO}, concurrency=1, timeout_ms=10000)
        t.ok(ex.invoke(one, {"i": 0}, iso).get("status") == "success", "one container, warm")
        out = [ex.invoke(one, {"i": 9}, iso)]
        t.ok(out[0].get("queue_ms", 1e9) < WAIT_MS / 4 and out[0].get("batch_size") == 1,
             "one container, last batch of 1: sent at once (queue_ms %s)" % out[0].get("queue_ms"),
             out[0])
        out = concurrent(ex, one, [{"sleep": 0.5, "i": 0}, {"i": 1}, {"i": 2}], iso, gap=0.05)
        t.ok([r.get("batch_size") for r in out] == [1, 2, 2],
             "one container: the calls queued behind a busy one went as a batch of 2", out)
        out = concurrent(ex, one, [{"i": 3}, {"i": 4}], iso, gap=0.15)
        t.ok(all(r.get("status") == "success" and r.get("batch_size") == 2 for r in out)
             and out[0].get("container") == out[1].get("container"),
             "one container, last batch of 2: the next call waited for a follower", out)
        t.ok(100 <= out[0].get("queue_ms", 0) < WAIT_MS * 0.75,
             "... and left once 1 follower (as many as the last batch had) was queued, not at the "
             "limit or at batch_max - 1 (queue_ms %s, limit %d)" % (out[0].get("queue_ms"), WAIT_MS))
    finally:
        for p in spin:
            p.kill()
            p.wait()
        ex.cleanup()
    t.done()


if __name__ == "__main__":
    main()
