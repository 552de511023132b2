#!/usr/bin/python3
"""The stack as a whole: health, supervision of the executor, MariaDB going
away under the API (503 within 2 s, recovery on its own), a restart of the
whole stack with data intact, scripts/stack.sh keeping a var dir on its own
port (LAMBDA_PORT unset: the port it was started on; another LAMBDA_PORT
while it runs: refused with status 2), and scripts/down.sh leaving nothing
behind."""

import os
import re
import subprocess
import time

import harness as h

t = h.Tap()

CODE = "def handler(event, context):\n    return {'echo': event}\n"
FN = h.unique_name("stack")


def functions_status():
    return h.status_of("GET", "/api/functions", timeout=10)


def error_shape_ok(body):
    return (
        isinstance(body, dict)
        and isinstance(body.get("error"), dict)
        and isinstance(body["error"].get("code"), str)
        and isinstance(body["error"].get("message"), str)
    )


@t.test("GET /api/health answers 200 with a JSON object, without a key")
def _():
    status, hdrs, body = h.api("GET", "/api/health", key=None)
    h.check_eq(status, 200, "status")
    h.check(isinstance(body, dict), f"body is not a JSON object: {body!r}")


@t.test("the executor is supervised: after SIGKILL a new one serves within 10 s")
def _():
    old = h.read_pid("executor")
    h.check(old is not None, "no executor running (var/run/executor.pid)")
    t0 = time.monotonic()
    h.stack("kill", "executor")
    new = h.wait_until(
        lambda: (p := h.read_pid("executor")) and p != old
        and os.path.exists(os.path.join(h.VAR, "run", "executor.sock")) and p,
        timeout=10,
    )
    h.check(new, f"no new executor 10 s after killing {old}")
    t.figure("executor back after SIGKILL", time.monotonic() - t0, "s")
    h.check(not h.pid_alive(old), f"killed executor {old} still alive")


@t.test("a SIGKILLed FastCGI worker is replaced by lighttpd, the API keeps answering")
def _():
    before = h.api_workers()
    h.check(len(before) >= 1, f"no FastCGI worker of this stack: {before}")
    victim = before[0]
    t0 = time.monotonic()
    os.kill(victim, 9)
    h.check(h.wait_until(lambda: not h.pid_alive(victim), timeout=5), f"worker {victim} survived SIGKILL")
    again = h.wait_until(
        lambda: len(w := h.api_workers()) >= len(before) and victim not in w and w, timeout=10
    )
    h.check(again, f"lighttpd did not respawn the worker within 10 s (workers now {h.api_workers()})")
    ok = h.wait_until(lambda: functions_status() == 200, timeout=5)
    h.check(ok, "GET /api/functions did not answer 200 within 5 s of the kill")
    t.figure("FastCGI worker replaced after SIGKILL", time.monotonic() - t0, "s")


def db_down_then_back(action, label):
    h.check_eq(functions_status(), 200, "GET /api/functions before the fault")
    h.stack(action, "mariadb")
    try:
        t0 = time.monotonic()
        status, _, body = h.api("GET", "/api/functions", timeout=10)
        took = time.monotonic() - t0
        h.check(status == 503, f"with MariaDB {label}: status {status}, body {body!r}")
        h.check(took < 2.0, f"503 took {took:.2f} s (limit 2 s)")
        t.figure(f"503 answer with MariaDB {label}", took * 1000, "ms")
        h.check(error_shape_ok(body), f"503 body is not the JSON error shape: {body!r}")
    finally:
        h.stack("start", "mariadb")
    t0 = time.monotonic()
    ok = h.wait_until(lambda: functions_status() == 200, timeout=15, interval=0.05)
    h.check(ok, "the API did not recover within 15 s of MariaDB's return")
    t.figure(f"API recovered after MariaDB {label} and back", time.monotonic() - t0, "s")


@t.test("MariaDB stopped under the API: 503 within 2 s, recovers by itself")
def _():
    db_down_then_back("stop", "stopped")


@t.test("mariadbd SIGKILLed under the API: 503 within 2 s, recovers by itself")
def _():
    db_down_then_back("kill", "killed")


def get_function():
    status, _, body = h.api("GET", f"/api/functions/{FN}")
    return status, body


def get_code():
    status, _, body = h.api("GET", f"/api/functions/{FN}/code")
    if isinstance(body, dict):
        body = body.get("code")
    elif isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    return status, body


@t.test("a function survives a restart of the whole stack")
def _():
    status, _, body = h.api(
        "POST",
        "/api/functions",
        {"name": FN, "runtime": "python", "handler": "main.handler", "code": CODE, "timeout": 3},
    )
    h.check_eq(status, 201, f"create status (body {body!r})")
    s1, before = get_function()
    h.check_eq(s1, 200, "GET before restart")
    t0 = time.monotonic()
    h.stack("restart", "all")
    up = h.wait_until(lambda: functions_status() == 200, timeout=20, interval=0.05)
    h.check(up, "the API did not answer 200 within 20 s of the restart")
    t.figure("whole-stack restart until the API answers", time.monotonic() - t0, "s")
    s2, after = get_function()
    h.check_eq(s2, 200, "GET after restart")
    for k in ("name", "runtime", "handler", "version"):
        h.check_eq(after.get(k), before.get(k), f"field {k} after restart")
    h.check_eq(get_code(), (200, CODE), "code after restart")


OTHER_PORT = h.PORT + 1  # never bound: every use of it below is refused or a status
PORT_FILE = os.path.join(h.VAR, "run", "port")


def stack_sh(*args, port=None):
    """scripts/stack.sh ARGS on the test stack with LAMBDA_PORT=port, or
    without LAMBDA_PORT (port None); returns (status, stdout, stderr)."""
    env = h.stack_env()
    env.pop("LAMBDA_PORT")
    if port is not None:
        env["LAMBDA_PORT"] = str(port)
    p = subprocess.run([os.path.join(h.SCRIPTS, "stack.sh"), *args], env=env,
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)
    return p.returncode, p.stdout, p.stderr


def remembered():
    try:
        with open(PORT_FILE) as f:
            return f.read().strip()
    except OSError:
        return None


@t.test("without LAMBDA_PORT, stack.sh restarts lighttpd on the var dir's own port")
def _():
    h.check_eq(remembered(), str(h.PORT), f"{PORT_FILE}")
    rc, out, err = stack_sh("status", "all")
    h.check(rc == 0 and f"port {h.PORT}," in out, f"status without LAMBDA_PORT: {rc} {out!r} {err!r}")
    old = h.read_pid("lighttpd")
    rc, out, err = stack_sh("restart", "lighttpd")
    h.check_eq(rc, 0, f"restart lighttpd without LAMBDA_PORT (stderr {err.strip()[-500:]!r})")
    h.check(h.read_pid("lighttpd") not in (None, old), "lighttpd was not restarted")
    with open(os.path.join(h.VAR, "run", "lighttpd.conf")) as f:
        conf = f.read()
    h.check_eq(re.findall(r"(?m)^server\.port\s*=\s*(\d+)", conf), [str(h.PORT)],
               "server.port of the generated lighttpd.conf")
    h.check(h.wait_until(lambda: functions_status() == 200, timeout=20),
            f"the API does not answer on port {h.PORT} after the restart")
    h.check_eq(remembered(), str(h.PORT), f"{PORT_FILE} after the restart")


@t.test("another LAMBDA_PORT than the running stack's: refused, status 2, one line, nothing changed")
def _():
    pid = h.read_pid("lighttpd")
    for action in ("start", "restart", "status"):
        rc, out, err = stack_sh(action, "all", port=OTHER_PORT)
        h.check_eq(rc, 2, f"stack.sh {action} all with LAMBDA_PORT={OTHER_PORT}: status "
                   f"(stdout {out!r}, stderr {err!r})")
        lines = err.strip().splitlines()
        h.check(len(lines) == 1 and f"runs on port {h.PORT}" in lines[0]
                and f"LAMBDA_PORT={OTHER_PORT}" in lines[0], f"stack.sh {action}: stderr {err!r}")
        h.check_eq(out, "", f"stack.sh {action}: stdout")
    h.check_eq(h.read_pid("lighttpd"), pid, "lighttpd after the refusals")
    h.check_eq(remembered(), str(h.PORT), f"{PORT_FILE} after the refusals")
    h.check_eq(functions_status(), 200, "GET /api/functions after the refusals")


@t.test("scripts/down.sh leaves no process of the stack behind")
def _():
    workers = h.api_workers()
    h.check(workers, "no FastCGI worker of this stack before down.sh")
    h.script("down.sh")
    h.check_eq(h.api_workers(), [], "lambda-api workers of this stack after down.sh")
    for name in ("mysql", "executor", "executor-supervisor", "lighttpd"):
        h.check_eq(h.read_pid(name), None, f"{name} process after down.sh")
    for pid in workers:
        h.check(not h.pid_alive(pid), f"worker {pid} still alive")
    h.check_eq(h.status_of("GET", "/api/health", key=None, timeout=3), 0, "HTTP after down.sh")


@t.test("a stopped stack is not held to its port; without LAMBDA_PORT it keeps it")
def _():
    rc, out, err = stack_sh("status", "lighttpd", port=OTHER_PORT)
    h.check(rc == 1 and f"port {OTHER_PORT}," in out and "lighttpd  stopped" in out,
            f"status of the stopped stack with LAMBDA_PORT={OTHER_PORT}: {rc} {out!r} {err!r}")
    rc, out, err = stack_sh("status", "lighttpd")
    h.check(rc == 1 and f"port {h.PORT}," in out,
            f"status of the stopped stack without LAMBDA_PORT: {rc} {out!r} {err!r}")


@t.test("after down.sh the stack starts again with its data")
def _():
    h.stack("start", "all")
    up = h.wait_until(lambda: functions_status() == 200, timeout=20, interval=0.2)
    h.check(up, "the API did not answer 200 within 20 s")
    status, body = get_function()
    h.check_eq(status, 200, f"GET /api/functions/{FN} (body {body!r})")
    status, _, _ = h.api("DELETE", f"/api/functions/{FN}")
    h.check_eq(status, 204, "DELETE")


t.done()
