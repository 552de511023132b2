#!/usr/bin/python3
"""The Python bootstrap (docker/runtimes/python/bootstrap.py) against the container protocol.

Runs every case with the local python3.11, then inside lambda-python under runc and runsc
(built or reused through scripts/build-images.sh) with the executor's container limits.
Prints TAP.
"""

import os
import re
import shutil
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bootstrap_driver as bd  # noqa: E402
from tap import Tap, skip_all  # noqa: E402

BOOTSTRAP = os.path.join(bd.REPO, "docker", "runtimes", "python", "bootstrap.py")
MARKER = re.compile(r"\[logs truncated: (\d+) bytes dropped\]\Z")

AWS_CODE = r'''
import os, sys, time
print("loading", os.environ.get("GREETING"))

def handler(event, context):
    print("got", event["n"])
    sys.stderr.write("to stderr\n")
    return {"n": event["n"], "request_id": context.aws_request_id,
            "function_name": context.function_name, "version": context.function_version,
            "memory": context.memory_limit_in_mb, "arn": context.invoked_function_arn,
            "log_group": context.log_group_name, "greeting": os.environ.get("GREETING"),
            "remaining": context.get_remaining_time_in_millis()}

def fail(event, context):
    print("about to fail")
    helper()

def helper():
    raise ValueError("bad input: %s" % 42)

def clock(event, context):
    before = context.get_remaining_time_in_millis()
    time.sleep(0.2)
    return [before, context.get_remaining_time_in_millis()]

def stamp(event, context):
    t0 = time.time()
    print("item", event, "start")
    time.sleep(0.05)
    print("item", event, "end")
    return [event, t0, time.time()]

def noisy(event, context):
    line = "x" * 999
    for _ in range(event["lines"]):
        print(line)
    peak = None
    with open("/proc/self/status") as f:
        for l in f:
            if l.startswith(("VmHWM:", "VmRSS:")) and peak is None:
                peak = int(l.split()[1])
    return {"peak_kb": peak}

def exact_logs(event, context):
    sys.stdout.write("y" * event)

def sized(event, context):
    return "r" * event

def not_json(event, context):
    return {1, 2, 3}

def nan(event, context):
    return float("nan")

def leaky(event, context):
    import subprocess
    print("via print")
    sys.stdout.write("via sys.stdout\n")
    sys.stdout.buffer.write(b"via buffer\n")
    os.write(1, b"raw fd 1\n")
    os.write(2, b"raw fd 2\n")
    subprocess.run(["/bin/echo", "from a child"])
    return {"stdin": sys.stdin.read(), "ok": True}

def exits(event, context):
    print("bye")
    sys.exit(event)

def unicode(event, context):
    print("héllo ✓")
    return {"s": "ünïcode ✓", "e": event}
'''

SEED_MAIN = r'''
import sys
def main(name, times=1):
    print("computing for", name)
    return "Hello, %s x%s" % (name, times)

if __name__ == "__main__":
    print(main(*sys.argv[1:]))
'''

SEED_SCRIPT = r'''
import sys
print("args:", " ".join(sys.argv[1:]))
print("argc", len(sys.argv))
'''


def ok_result(r, what=""):
    assert r["type"] == "result", r
    assert r["ok"] is True, "%s: %r" % (what, r)
    return r


def case_aws(b):
    r = b.init("main.handler", {"main.py": AWS_CODE},
               function={"name": "greeter", "version": 7, "memory_mb": 256,
                         "env": {"GREETING": "hi"}})
    assert r["type"] == "init_ok", r
    assert r["logs"] == "loading hi\n", r
    assert r["init_ms"] >= 0
    res = ok_result(b.invoke1({"n": 5}, id="req-1", deadline_ms=2500))
    v = res["result"]
    assert v["n"] == 5 and v["request_id"] == "req-1", v
    assert v["function_name"] == "greeter" and v["version"] == "7", v
    assert v["memory"] == "256" and v["greeting"] == "hi", v
    assert v["arn"].endswith(":function:greeter") and v["log_group"] == "/aws/lambda/greeter", v
    assert 2000 < v["remaining"] <= 2500, v
    assert res["logs"] == "got 5\nto stderr\n", res
    assert res["logs_truncated"] is False and "output" not in res
    assert res["duration_ms"] >= 0


def fresh(b, handler, code=AWS_CODE, **kw):
    r = b.init(handler, {"main.py": code}, **kw)
    assert r["type"] == "init_ok", r
    return b


def case_error_stack(b):
    fresh(b, "main.fail")
    r = b.invoke1({})
    assert r["ok"] is False, r
    e = r["error"]
    assert e["errorType"] == "ValueError" and e["errorMessage"] == "bad input: 42", e
    joined = "".join(e["stackTrace"])
    assert "main.py" in joined and "in helper" in joined and "in fail" in joined, e
    assert "bootstrap.py" not in joined, e
    assert "about to fail" in r["logs"] and "[ERROR] ValueError: bad input: 42" in r["logs"], r
    again = b.invoke1({})  # the bootstrap still serves after a failure
    assert again["ok"] is False and again["error"]["errorType"] == "ValueError", again
    assert again["logs"].startswith("about to fail\n"), again


def case_init_errors(make):
    cases = [
        ("main.nothere", {"main.py": AWS_CODE}, "Runtime.HandlerNotFound", "nothere"),
        ("missing.handler", {"main.py": AWS_CODE}, "Runtime.ImportModuleError", "missing"),
        ("main.handler", {"main.py": "def handler(e, c)\n    return 1\n"},
         "Runtime.UserCodeSyntaxError", "main"),
        ("nodot", {"main.py": AWS_CODE}, "Runtime.MalformedHandlerName", "nodot"),
        ("main.handler", {"main.py": "import not_a_module_xyz\n"}, "Runtime.ImportModuleError",
         "not_a_module_xyz"),
        ("main.handler", {"main.py": "x = 1 / 0\n"}, "ZeroDivisionError", "division"),
        ("json.handler", {"json.py": "def handler(e, c): return 1\n"},
         "Runtime.BuiltInModuleConflict", "json"),
        ("main.handler", {"../evil.py": "x"}, "Runtime.InvalidCodeFile", "evil"),
        ("broken.py", {"broken.py": "def main(:\n"}, "Runtime.UserCodeSyntaxError", "broken"),
    ]
    for handler, files, etype, word in cases:
        b = make()
        try:
            t0 = time.monotonic()
            r = b.init(handler, files)
            assert time.monotonic() - t0 < 10, "init took too long"
            assert r["type"] == "init_error", (handler, r)
            assert r["error"]["errorType"] == etype, (handler, r)
            assert word in r["error"]["errorMessage"], (handler, r)
            if etype == "Runtime.UserCodeSyntaxError":
                assert r["error"]["stackTrace"], r
            inv = b.invoke1({})
            assert inv["ok"] is False and inv["error"]["errorType"] == "Runtime.NotInitialized", inv
            assert b.close() == 0
        finally:
            b.kill()


def case_seed_main(b):
    r = b.init("hello.py", {"hello.py": SEED_MAIN})
    assert r["type"] == "init_ok", r
    res = ok_result(b.invoke1(None, args=["World", 3]))
    assert res["output"] == "computing for World\nHello, World x3\n", res
    assert res["result"] == "Hello, World x3", res
    res = ok_result(b.invoke1(None, args=["again"]))
    assert res["output"] == "computing for again\nHello, again x1\n", res


def case_seed_script(b):
    r = b.init("script.py", {"script.py": SEED_SCRIPT})
    assert r["type"] == "init_ok" and r["logs"] == "", r
    res = ok_result(b.invoke1(None, args=["a", "b", 3]))
    assert res["output"] == "args: a b 3\nargc 4\n", res
    assert res["result"] is None
    res = ok_result(b.invoke1(None, args=[]))
    assert res["output"] == "args: \nargc 1\n", res


def case_sequential_batch(b):
    fresh(b, "main.stamp")
    items = [{"id": "s%d" % i, "event": i} for i in range(4)]
    t0 = time.monotonic()
    res = b.invoke(items)
    assert [r["id"] for r in res] == ["s0", "s1", "s2", "s3"], res
    for i, r in enumerate(res):
        ok_result(r)
        assert r["logs"] == "item %d start\nitem %d end\n" % (i, i), r
    spans = [r["result"] for r in res]
    for a, c in zip(spans, spans[1:]):
        assert c[1] >= a[2] - 0.001, "items overlapped: %r" % spans
    assert time.monotonic() - t0 >= 0.2


def case_remaining_time(b):
    fresh(b, "main.clock")
    before, after = ok_result(b.invoke1({}, deadline_ms=1500))["result"]
    assert 1300 <= before <= 1500, before
    assert 180 <= before - after <= 600, (before, after)
    before, _ = ok_result(b.invoke1({}, deadline_ms=50))["result"]
    assert 0 <= before <= 50, before


def case_log_cap_100mb(b, local):
    fresh(b, "main.noisy")
    t0 = time.monotonic()
    r = ok_result(b.invoke1({"lines": 100000}, timeout=120), "100 MB of prints")
    logs = r["logs"].encode()
    assert r["logs_truncated"] is True, r["logs"][-200:]
    assert len(logs) <= 1048576, len(logs)
    m = MARKER.search(r["logs"])
    assert m, r["logs"][-200:]
    body = r["logs"][: -len(m.group(0))]
    kept = len(body) if len(body[:-1].rsplit("\n", 1)[-1]) == 999 else len(body) - 1
    assert int(m.group(1)) + kept == 100000 * 1000, (m.group(0), kept)
    assert r["result"]["peak_kb"] < 64 * 1024, r["result"]
    if local:
        hwm = b.pid_status("VmHWM")
        assert hwm is not None and hwm < 64 * 1024, hwm
    bd_time = time.monotonic() - t0
    assert bd_time < 60, bd_time


def case_log_cap_pair(b):
    fresh(b, "main.exact_logs", log_cap_bytes=1000)
    r = ok_result(b.invoke1(1000))
    assert r["logs"] == "y" * 1000 and r["logs_truncated"] is False, r
    r = ok_result(b.invoke1(1001))
    assert r["logs_truncated"] is True, r
    assert len(r["logs"].encode()) <= 1000, len(r["logs"])
    m = MARKER.search(r["logs"])
    assert m and r["logs"].startswith("yyy"), r["logs"][-100:]
    assert int(m.group(1)) + len(r["logs"]) - len(m.group(0)) - 1 == 1001, r["logs"][-60:]


def case_result_cap_small(b):
    fresh(b, "main.sized", result_cap_bytes=1000)
    r = ok_result(b.invoke1(998), "a 1000-byte result with a 1000-byte cap")
    assert r["result"] == "r" * 998
    r = b.invoke1(999)
    assert r["ok"] is False, r
    assert r["error"]["errorMessage"] == "response exceeded the allowed length", r
    assert r["error"]["errorType"] == "Function.ResponseSizeTooLarge", r


def case_result_cap_default(b):
    fresh(b, "main.sized")
    cap = 6291456
    r = ok_result(b.invoke1(cap - 2, timeout=60), "a result of exactly 6291456 bytes")
    assert len(r["result"]) == cap - 2
    r = b.invoke1(cap - 1, timeout=60)
    assert r["ok"] is False and r["error"]["errorMessage"] == "response exceeded the allowed length", r


def case_not_json(b):
    fresh(b, "main.not_json")
    r = b.invoke1({})
    assert r["ok"] is False and r["error"]["errorType"] == "Runtime.MarshalError", r
    assert "set" in r["error"]["errorMessage"], r
    r = b.invoke1({})
    assert r["ok"] is False and r["error"]["errorType"] == "Runtime.MarshalError", r


def case_nan(b):
    fresh(b, "main.nan")
    r = b.invoke1({})
    assert r["ok"] is False and r["error"]["errorType"] == "Runtime.MarshalError", r


def case_channel_private(b):
    fresh(b, "main.leaky")
    r = ok_result(b.invoke1({}))
    assert r["result"] == {"stdin": "", "ok": True}, r
    assert "via print\nvia sys.stdout\nvia buffer\n" == r["logs"], r
    assert b.request({"type": "ping"}) == {"type": "pong"}
    assert b.close() == 0
    assert b.garbage is None, b.garbage
    err = bytes(b.stderr)
    assert b"raw fd 1" in err and b"raw fd 2" in err and b"from a child" in err, err


def case_exit(b):
    fresh(b, "main.exits")
    r = b.invoke1(3)
    assert r["ok"] is False and r["error"]["errorType"] == "Runtime.ExitError", r
    assert r["error"]["errorMessage"] == "Runtime exited with error: exit status 3", r
    assert r["logs"] == "bye\n"
    r = ok_result(b.invoke1(0))
    assert r["result"] is None


def case_unicode(b):
    fresh(b, "main.unicode")
    r = ok_result(b.invoke1("✓"))
    assert r["result"] == {"s": "ünïcode ✓", "e": "✓"} and r["logs"] == "héllo ✓\n", r


def case_frames(b):
    assert b.request({"type": "ping"}) == {"type": "pong"}
    b.send_raw(b"\x00\x00\x00\x05hello")
    r = b.recv()
    assert r["type"] == "error" and r["error"]["errorType"] == "Runtime.InvalidFrame", r
    r = b.request([1, 2])
    assert r["type"] == "error" and "object" in r["error"]["errorMessage"], r
    r = b.request({"type": "bogus"})
    assert r["type"] == "error" and "bogus" in r["error"]["errorMessage"], r
    r = b.request({"type": "invoke", "items": "nope"})
    assert r["type"] == "error", r
    b.send_raw(b"\x00\x00\x00\x00")
    assert b.recv()["type"] == "error"
    fresh(b, "main.handler")
    r = b.request({"type": "invoke", "items": [{"event": 1}]})
    assert r["type"] == "error" and "id" in r["error"]["errorMessage"], r
    r = b.init("main.handler", {"main.py": AWS_CODE})
    assert r["type"] == "init_error" and r["error"]["errorType"] == "Runtime.AlreadyInitialized"
    ok_result(b.invoke1({"n": 1}))
    # a truncated frame: the channel is broken, the bootstrap says so and exits non-zero
    b.send_raw(b"\x00\x00\x01\x00{\"type\"")
    rc = b.close()
    assert rc not in (0, None), rc
    assert b"middle of a frame" in bytes(b.stderr), bytes(b.stderr)


def case_eof_exit(b):
    fresh(b, "main.handler")
    b.send({"type": "invoke", "items": [{"id": "last", "event": {"n": 9}}]})
    b.p.stdin.close()
    r = b.recv()
    assert r["id"] == "last" and r["ok"] is True, r
    assert b.p.wait(20) == 0


def main():
    local = shutil.which("python3.11") or "/usr/bin/python3"
    if not os.path.exists(local):
        skip_all("no python3.11 interpreter")
    t = Tap()
    for label, argv, skip in bd.targets("lambda-python", [local, BOOTSTRAP]):
        run_target(t, label, argv, skip)
    t.done()


CASES = [
    ("AWS handler: event, context, env, logs", case_aws),
    ("thrown error: type, message, stack, logs", case_error_stack),
    ("seed style with main(*args): output and result", case_seed_main),
    ("seed style script: argv and output", case_seed_script),
    ("batch runs sequentially, one result per item, own logs", case_sequential_batch),
    ("remaining time follows deadline_ms", case_remaining_time),
    ("100 MB of prints: logs capped with marker, memory small", None),
    ("log cap pair: exactly the cap kept, one byte over truncated", case_log_cap_pair),
    ("result cap pair (1000 bytes): inside ok, over fails", case_result_cap_small),
    ("result cap pair at the default 6291456 bytes", case_result_cap_default),
    ("non-JSON result (a set): Runtime.MarshalError, no crash", case_not_json),
    ("NaN result: Runtime.MarshalError", case_nan),
    ("prints, raw fd writes and children never touch the channel", case_channel_private),
    ("sys.exit: ExitError for non-zero, normal end for 0", case_exit),
    ("unicode in result and logs", case_unicode),
    ("malformed frames answered, broken channel exits non-zero", case_frames),
    ("EOF after an invoke: answers it, exits 0", case_eof_exit),
]


def run_target(t, label, argv, skip):
    names = [n for n, _ in CASES] + ["init errors: handler, import, syntax, top-level raise, "
                                     "conflict, bad path; no hang"]
    if skip:
        for n in names:
            t.skip("[%s] %s" % (label, n), skip)
        return
    for name, fn in CASES:
        b = bd.Boot(argv)
        try:
            if fn is None:
                t.run("[%s] %s" % (label, name), case_log_cap_100mb, b, label == "local")
            else:
                t.run("[%s] %s" % (label, name), fn, b)
        finally:
            b.kill()
    t.run("[%s] %s" % (label, names[-1]), case_init_errors, lambda: bd.Boot(argv))


if __name__ == "__main__":
    main()
