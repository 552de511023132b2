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
import bootstrap_cases as bc  # noqa: E402
import bootstrap_driver as bd  # noqa: E402
from bootstrap_cases import ok_result  # noqa: E402

BOOTSTRAP = os.path.join(bd.REPO, "docker", "runtimes", "python", "bootstrap.py")

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
            "log_stream": context.log_stream_name,
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


LANG = bc.Lang("main.py", AWS_CODE, {"handler": "main.handler", "sized": "main.sized",
                                     "exact_logs": "main.exact_logs", "exits": "main.exits",
                                     "unicode": "main.unicode", "clock": "main.clock"})


def fresh(b, handler, **kw):
    return bc.fresh(LANG, b, handler, **kw)


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
    assert 1500 < v["remaining"] <= 2500, v
    assert re.fullmatch(r"\d{4}/\d{2}/\d{2}/\[7\][0-9a-f]{32}", v["log_stream"]), v
    assert v["log_stream"][:10] in {time.strftime("%Y/%m/%d", time.gmtime(time.time() + d))
                                    for d in (-60, 0)}, v
    assert res["logs"] == "got 5\nto stderr\n", res
    assert res["logs_truncated"] is False and "output" not in res
    assert res["duration_ms"] >= 0
    # the second call's context: its own request id, the same per-function fields
    w = ok_result(b.invoke1({"n": 6}, id="req-2", deadline_ms=2500))["result"]
    assert w["request_id"] == "req-2" and w["n"] == 6, w
    for k in ("function_name", "version", "memory", "arn", "log_group", "log_stream"):
        assert w[k] == v[k], (k, v, w)


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


INIT_ERRORS = [
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


def case_log_cap_100mb(b):
    fresh(b, "main.noisy")
    r = b.invoke1({"lines": 100000}, timeout=120)
    bc.check_100mb_logs(r)
    # python alone is ~10 MB resident; holding what was printed would take 100 MB more
    assert r["result"]["peak_kb"] < 64 * 1024, r["result"]
    hwm = b.pid_status("VmHWM") if b.argv[0] != bd.docker_cli() else None
    assert hwm is None or hwm < 64 * 1024, hwm


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


CASES = [
    ("AWS handler: event, context, env, logs", case_aws),
    ("thrown error: type, message, stack, logs", case_error_stack),
    ("seed style with main(*args): output and result", case_seed_main),
    ("seed style script: argv and output", case_seed_script),
    ("batch runs sequentially, one result per item, own logs", case_sequential_batch),
    ("100 MB of prints: logs capped with marker, memory small", case_log_cap_100mb),
    ("non-JSON result (a set): Runtime.MarshalError, no crash", case_not_json),
    ("NaN result: Runtime.MarshalError", case_nan),
    ("prints, raw fd writes and children never touch the channel", case_channel_private),
]
INIT_NAME = ("init errors: handler, import, syntax, top-level raise, conflict, bad path; "
             "no hang")


def main():
    local = shutil.which("python3.11") or "/usr/bin/python3"
    if not os.path.exists(local):
        bc.Tap().skip_all("no python3.11 interpreter")
    t = bc.Tap()
    for label, argv, skip in bd.targets("lambda-python", [local, BOOTSTRAP]):
        bc.run_target(t, LANG, label, argv, skip, CASES, INIT_ERRORS, INIT_NAME)
    t.done()


if __name__ == "__main__":
    main()
