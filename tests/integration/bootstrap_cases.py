"""Cases that both bootstraps must pass the same way (test_bootstrap_python.py and
test_bootstrap_node.py). A Lang says where each language keeps its test handlers:

    Lang(file="main.py", code=CODE, handlers={"sized": "main.sized", ...})

Handlers the shared cases need: handler (AWS handler with event {"n"}), sized (returns a string
of event characters), exact_logs (writes event bytes to stdout, no newline), exits (prints
"bye", exits with status event), unicode (prints "héllo ✓", returns {"s": "ünïcode ✓",
"e": event}), clock (returns [remaining, remaining after sleeping 200 ms]).
"""

import re

import bootstrap_driver as bd
import harness as h

MARKER = re.compile(r"\[logs truncated: (\d+) bytes dropped\]\Z")
TOO_LARGE = "response exceeded the allowed length"


class Tap(h.Tap):
    """harness.Tap without its test stack: these tests drive the bootstraps directly."""

    def __init__(self):  # pylint: disable=super-init-not-called
        self.n = 0
        self.failed = 0
        self.skipped = 0

    def run(self, name, fn, *args):
        self.test(name)(lambda: fn(*args))


class Lang:
    def __init__(self, file, code, handlers):
        self.file = file
        self.code = code
        self.handlers = handlers


def ok_result(r, what=""):
    assert r["type"] == "result", r
    assert r["ok"] is True, "%s: %r" % (what, r)
    return r


def fresh(lang, b, key, **kw):
    """Initialises b with lang's code and handler `key`; returns b."""
    r = b.init(lang.handlers.get(key, key), {lang.file: lang.code}, **kw)
    assert r["type"] == "init_ok", r
    return b


def check_100mb_logs(r, line_len=999, lines=100000):
    """A result of printing `lines` lines of line_len characters: capped, marker exact."""
    ok_result(r, "100 MB of prints")
    logs = r["logs"].encode()
    assert r["logs_truncated"] is True, r["logs"][-200:]
    assert len(logs) <= 1048576, len(logs)
    m = MARKER.search(r["logs"])
    assert m, r["logs"][-200:]
    body = r["logs"][: -len(m.group(0))]
    # the bootstrap adds a newline before the marker when the cut fell inside a line
    kept = len(body) if len(body[:-1].rsplit("\n", 1)[-1]) == line_len else len(body) - 1
    assert int(m.group(1)) + kept == lines * (line_len + 1), (m.group(0), kept)


def case_remaining_time(lang, b):
    fresh(lang, b, "clock")
    before, after = ok_result(b.invoke1({}, deadline_ms=1500))["result"]
    assert 1300 <= before <= 1500, before
    assert 180 <= before - after <= 600, (before, after)
    before, _ = ok_result(b.invoke1({}, deadline_ms=50))["result"]
    assert 0 <= before <= 50, before


def case_log_cap_pair(lang, b):
    fresh(lang, b, "exact_logs", log_cap_bytes=1000)
    r = ok_result(b.invoke1(1000))
    assert r["logs"] == "y" * 1000 and r["logs_truncated"] is False, r
    r = ok_result(b.invoke1(1001))
    assert r["logs_truncated"] is True and len(r["logs"].encode()) <= 1000, r
    m = MARKER.search(r["logs"])
    assert m and r["logs"].startswith("yyy"), r["logs"][-100:]
    assert int(m.group(1)) + len(r["logs"]) - len(m.group(0)) - 1 == 1001, r["logs"][-60:]


def case_result_cap_small(lang, b):
    fresh(lang, b, "sized", result_cap_bytes=1000)
    r = ok_result(b.invoke1(998), "a 1000-byte result with a 1000-byte cap")
    assert r["result"] == "r" * 998
    r = b.invoke1(999)
    assert r["ok"] is False, r
    assert r["error"]["errorMessage"] == TOO_LARGE, r
    assert r["error"]["errorType"] == "Runtime.ResponseSizeTooLarge", r


def case_result_cap_default(lang, b):
    fresh(lang, b, "sized")
    cap = 6291456
    r = ok_result(b.invoke1(cap - 2, timeout=60), "a result of exactly 6291456 bytes")
    assert len(r["result"]) == cap - 2
    r = b.invoke1(cap - 1, timeout=60)
    assert r["ok"] is False and r["error"]["errorMessage"] == TOO_LARGE, r


def case_exit(lang, b):
    fresh(lang, b, "exits")
    r = b.invoke1(3)
    assert r["ok"] is False and r["error"]["errorType"] == "Runtime.ExitError", r
    assert r["error"]["errorMessage"] == "Runtime exited with error: exit status 3", r
    assert r["logs"] == "bye\n", r
    r = ok_result(b.invoke1(0))
    assert r["result"] is None


def case_unicode(lang, b):
    fresh(lang, b, "unicode")
    r = ok_result(b.invoke1("✓"))
    assert r["result"] == {"s": "ünïcode ✓", "e": "✓"} and r["logs"] == "héllo ✓\n", r


def case_frames(lang, b):
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
    fresh(lang, b, "handler")
    r = b.request({"type": "invoke", "items": [{"event": 1}]})
    assert r["type"] == "error" and "id" in r["error"]["errorMessage"], r
    r = b.init(lang.handlers["handler"], {lang.file: lang.code})
    assert r["type"] == "init_error" and r["error"]["errorType"] == "Runtime.AlreadyInitialized"
    ok_result(b.invoke1({"n": 1}))
    # a truncated frame: the channel is broken, the bootstrap says so and exits non-zero
    b.send_raw(b'\x00\x00\x01\x00{"type"')
    rc = b.close()
    assert rc not in (0, None), rc
    assert b"middle of a frame" in bytes(b.stderr), bytes(b.stderr)


def case_eof_exit(lang, b):
    fresh(lang, b, "handler")
    b.send({"type": "invoke", "items": [{"id": "last", "event": {"n": 9}}]})
    b.p.stdin.close()
    r = b.recv()
    assert r["id"] == "last" and r["ok"] is True, r
    assert b.p.wait(20) == 0


SHARED = [
    ("remaining time follows deadline_ms", case_remaining_time),
    ("log cap pair: exactly the cap kept, one byte over truncated", case_log_cap_pair),
    ("result cap pair (1000 bytes): inside ok, over fails", case_result_cap_small),
    ("result cap pair at the default 6291456 bytes", case_result_cap_default),
    ("exit(n): ExitError for non-zero, normal end for 0", case_exit),
    ("unicode in result and logs", case_unicode),
    ("malformed frames answered, broken channel exits non-zero", case_frames),
    ("EOF after an invoke: answers it, exits 0", case_eof_exit),
]


def init_errors(make, cases):
    """cases: (handler, files, errorType, word in the message). Each gets a fresh bootstrap."""
    import time

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


def run_target(t, lang, label, argv, skip, cases, init_cases, init_name):
    """Runs the language's own cases (fn(b)) and the shared ones, each in a new bootstrap."""
    all_cases = [(n, fn) for n, fn in cases] + [
        (n, (lambda f: lambda b: f(lang, b))(fn)) for n, fn in SHARED
    ]
    if skip:
        for n, _ in all_cases:
            t.skip("[%s] %s" % (label, n), skip)
        t.skip("[%s] %s" % (label, init_name), skip)
        return
    for name, fn in all_cases:
        b = bd.Boot(argv)
        try:
            t.run("[%s] %s" % (label, name), fn, b)
        finally:
            b.kill()
    t.run("[%s] %s" % (label, init_name), init_errors, lambda: bd.Boot(argv), init_cases)
