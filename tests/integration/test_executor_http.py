#!/usr/bin/python3
"""The executor's faults through the whole stack (lighttpd -> lambda-api ->
lambda-executor -> runc / runsc): POST /api/functions/{name}/invoke answers
timeout, oom, the result cap, broken code and SIGKILL of the executor with
the right status and body."""
import os
import threading
import time

import harness as h
from executor_client import containers_with_label, isolations

t = h.Tap()
BUSY = "def handler(event, context):\n    while event.get('spin'):\n        pass\n    return 'calm'\n"
ALLOC = ("def handler(event, context):\n    b = bytearray(event['mb'] * 1024 * 1024)\n"
         "    for i in range(0, len(b), 4096):\n        b[i] = 1\n    return len(b)\n")
BIG = "def handler(event, context):\n    return 'x' * event['n']\n"
SLEEP = "import time\ndef handler(event, context):\n    time.sleep(event['s'])\n    return 'slept'\n"


def create(code, **kw):
    name = h.unique_name("ex")
    body = {"name": name, "runtime": "python", "code": code}
    body.update(kw)
    status, _, r = h.api("POST", "/api/functions", body)
    h.check(status in (200, 201), f"create: {status} {r!r}")
    return name


def invoke(name, event, iso, timeout=60):
    t0 = time.monotonic()
    status, hdrs, body = h.api("POST", f"/api/functions/{name}/invoke?isolation={iso}", event,
                               timeout=timeout)
    return status, body, time.monotonic() - t0


def err_msg(body):
    return ((body or {}).get("error") or {}).get("errorMessage")


for iso in isolations():
    @t.test(f"{iso}: busy loop under a 1 s timeout: 200, status timeout, exact message, 1.0-1.5 s")
    def _():
        name = create(BUSY, timeout_ms=1000)
        status, body, _ = invoke(name, {}, iso)
        h.check(status == 200 and body.get("status") == "success", f"warm-up: {status} {body!r}")
        status, body, took = invoke(name, {"spin": True}, iso)
        h.check(status == 200 and body.get("status") == "timeout", f"{status} {body!r}")
        h.check_eq(err_msg(body), "Task timed out after 1.00 seconds", "message")
        h.check(1.0 <= took <= 1.5, f"took {took:.3f} s")
        status, body, _ = invoke(name, {}, iso)
        h.check(status == 200 and body.get("status") == "success" and body.get("cold") is True,
                f"the next call: {status} {body!r}")

    @t.test(f"{iso}: 2x memory: status oom; well under: success")
    def _():
        name = create(ALLOC, memory_mb=128)
        status, body, _ = invoke(name, {"mb": 256}, iso)
        h.check(status == 200 and body.get("status") == "oom", f"{status} {body!r}")
        status, body, _ = invoke(name, {"mb": 16}, iso)
        h.check(status == 200 and body.get("status") == "success", f"{status} {body!r}")

    @t.test(f"{iso}: a 6 MiB result passes, one byte more: response exceeded the allowed length")
    def _():
        name = create(BIG)
        status, body, _ = invoke(name, {"n": 6 * 1024 * 1024 - 2}, iso)
        h.check(status == 200 and body.get("status") == "success",
                f"{status} {(body or {}).get('status')} {err_msg(body)}")
        status, body, _ = invoke(name, {"n": 6 * 1024 * 1024 - 1}, iso)
        h.check(status == 200 and body.get("status") == "error"
                and err_msg(body) == "response exceeded the allowed length", f"{status} {body!r}")

    @t.test(f"{iso}: a syntax error: status error, Runtime.UserCodeSyntaxError")
    def _():
        name = create("def handler(e, c)\n    return 1\n")
        status, body, _ = invoke(name, {}, iso)
        h.check(status == 200 and body.get("status") == "error"
                and (body.get("error") or {}).get("errorType") == "Runtime.UserCodeSyntaxError",
                f"{status} {body!r}")


def stack_instance():
    with open(os.path.join(h.VAR, "lambda.conf")) as f:
        for line in f:
            k, _, v = line.partition("=")
            if k.strip() == "instance":
                return v.strip()
    return None


@t.test("executor SIGKILLed mid-call: the call fails at once, orphans go, calls succeed again")
def _():
    name = create(SLEEP, timeout_ms=30000)
    iso = isolations()[0]
    status, body, _ = invoke(name, {"s": 0}, iso)
    h.check(status == 200 and body.get("status") == "success", f"warm-up: {status} {body!r}")
    out = {}
    th = threading.Thread(target=lambda: out.update(r=invoke(name, {"s": 20}, iso)))
    th.start()
    time.sleep(1)
    h.stack("kill", "executor")
    th.join(15)
    h.check(not th.is_alive(), "the call in flight hangs")
    status, body, took = out["r"]
    h.check(status == 503 or (status == 200 and body.get("status") == "internal"),
            f"in flight: {status} {body!r}")
    h.check(took < 10, f"took {took:.1f} s")
    label = "lambda.instance=" + stack_instance()
    old = {c["Id"] for c in containers_with_label(label) if c["Labels"].get("lambda.function") != "0"}
    h.check(h.wait_until(lambda: not (old & {c["Id"] for c in containers_with_label(label)}), 30),
            "the orphans of the killed executor are still there")
    ok = h.wait_until(lambda: invoke(name, {"s": 0}, iso)[0] == 200, timeout=20, interval=0.5)
    h.check(ok, "calls do not succeed again after the restart")


t.done()
