#!/usr/bin/python3
"""lambda-executor end to end over its socket: hello in Python and Node under
runc and runsc, the protocol's answers to bad input, docker unreachable,
SIGTERM cleanup, SIGKILL then restart removing orphans (and only ours)."""
import json
import os
import signal
import socket
import struct
import threading
import time

from executor_client import (Executor, Tap, containers_with_label, container_gone, docker_api,
                             image_exists, image_for, isolations, pools, require_stack, wait_for,
                             HDR, TYPES)

HELLO_PY = "def handler(event, context):\n    print('hello from python')\n    return {'hello': event['name'], 'rid': context.aws_request_id}\n"
HELLO_JS = "exports.handler = async (event, context) => {\n  console.log('hello from node');\n  return {hello: event.name, rid: context.awsRequestId};\n};\n"


def test_hello(t, ex, iso):
    fn = ex.function({"main.py": HELLO_PY})
    r1 = ex.invoke(fn, {"name": "world"}, iso)
    t.ok(r1.get("status") == "success" and r1.get("result", {}).get("hello") == "world",
         "%s: python hello" % iso, r1)
    t.ok(r1.get("result", {}).get("rid") == r1.get("request_id"),
         "%s: context carries the request id" % iso, r1)
    t.ok(r1.get("cold") is True and r1.get("cold_reason") == "no_pool" and r1.get("isolation") == iso,
         "%s: first call is cold (no_pool) and says its isolation" % iso, r1)
    t.ok("hello from python" in r1.get("logs", ""), "%s: prints are in logs" % iso, r1)
    r2 = ex.invoke(fn, {"name": "again"}, iso)
    t.ok(r2.get("status") == "success" and r2.get("cold") is False
         and r2.get("container") == r1.get("container"),
         "%s: second call is warm, same container" % iso, r2)
    t.ok(r2["_elapsed"] < 0.25, "%s: warm call took %.1f ms" % (iso, r2["_elapsed"] * 1000))
    if image_exists(image_for("javascript")):
        fj = ex.function({"index.js": HELLO_JS}, runtime="javascript")
        r = ex.invoke(fj, {"name": "node"}, iso)
        t.ok(r.get("status") == "success" and r.get("result", {}).get("hello") == "node"
             and "hello from node" in r.get("logs", ""), "%s: node hello" % iso, r)
    else:
        t.skip("%s: node hello" % iso, "image %s missing" % image_for("javascript"))


def test_outside_kill(t, ex, iso):
    fn = ex.function({"main.py": "import time\ndef handler(e, c):\n    time.sleep(e['s'])\n    return 1\n"},
                     timeout_ms=20000)
    r = ex.invoke(fn, {"s": 0}, iso)
    docker_api("POST", "/containers/%s/kill" % r["container"])
    gone = wait_for(lambda: all(c["id"] != r["container"] for c in pools(ex)["containers"]), 10)
    t.ok(gone, "%s: an idle container killed from outside leaves the pool" % iso)
    n = ex.invoke(fn, {"s": 0}, iso)
    t.ok(n.get("status") == "success" and n.get("cold") is True, "%s: the next call gets a new one" % iso, n)
    out = {}
    th = threading.Thread(target=lambda: out.update(r=ex.invoke(fn, {"s": 10}, iso)))
    th.start()
    time.sleep(1)
    docker_api("POST", "/containers/%s/kill" % n["container"])
    th.join(30)
    r = out.get("r", {})
    # the memory cgroup says there was no OOM kill: killed, not oom (test_executor_isolation.py)
    t.ok(r.get("status") == "killed" and r["_elapsed"] < 5 and (r.get("error") or {}).get("errorMessage") ==
         "Runtime exited with error: signal 9",
         "%s: SIGKILL from outside mid-call: the call ends at once (killed, signal 9)" % iso, r)


def test_check_config(t, ex):
    import subprocess
    from executor_client import BINARY
    p = subprocess.run([BINARY, "-t", "-c", ex.conf_path], capture_output=True, text=True)
    t.ok(p.returncode == 0 and p.stdout.strip() == "configuration OK", "-t: configuration OK", p)
    bad = ex.conf_path + ".bad"
    with open(bad, "w") as f:
        f.write(open(ex.conf_path).read() + "executor.pids_limit = 15\n")
    p = subprocess.run([BINARY, "-t", "-c", bad], capture_output=True, text=True)
    t.ok(p.returncode == 1 and "executor.pids_limit: 15 is out of bounds [16, 65536]" in p.stderr,
         "-t: a value out of bounds is refused, naming key and bounds", p)
    with open(bad, "w") as f:
        f.write(open(ex.conf_path).read() + "executor.frobnicate = 1\n")
    p = subprocess.run([BINARY, "-t", "-c", bad], capture_output=True, text=True)
    t.ok(p.returncode == 1 and "unknown key 'executor.frobnicate'" in p.stderr, "-t: unknown key refused", p)
    # the seccomp profile is read and checked by -t as at start
    missing = os.path.join(ex.var, "run", "no-such-profile.json")
    with open(bad, "w") as f:
        f.write(open(ex.conf_path).read() + "executor.seccomp_profile = %s\n" % missing)
    p = subprocess.run([BINARY, "-t", "-c", bad], capture_output=True, text=True)
    t.ok(p.returncode == 1 and
         "executor.seccomp_profile: %s: No such file or directory" % missing in p.stderr,
         "-t: a missing seccomp profile is refused, naming key and file", p)
    allow_all = os.path.join(ex.var, "run", "allow-all.json")
    with open(allow_all, "w") as f:
        f.write('{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": '
                '[{"names": ["ptrace"], "action": "SCMP_ACT_ERRNO"}]}')
    with open(bad, "w") as f:
        f.write(open(ex.conf_path).read() + "executor.seccomp_profile = %s\n" % allow_all)
    p = subprocess.run([BINARY, "-t", "-c", bad], capture_output=True, text=True)
    t.ok(p.returncode == 1 and "defaultAction SCMP_ACT_ALLOW" in p.stderr,
         "-t: a profile that allows by default is refused", p)


def test_protocol(t, ex):
    c = ex.client()
    typ, body = c.request("PING", {})
    t.ok(typ == "PONG" and body.get("docker") is True, "PING answers PONG with docker true", body)
    fn = ex.function({"main.py": HELLO_PY})
    for field, value, word in (("timeout_ms", None, "function.timeout_ms is required"),
                               ("timeout_ms", 0, "function.timeout_ms must be between"),
                               ("memory_mb", 4, "function.memory_mb must be between"),
                               ("runtime", "cobol", "function.runtime must be python or javascript"),
                               ("code_dir", "/nonexistent/dir", "function.code_dir is not a directory")):
        bad = dict(fn)
        if value is None:
            del bad[field]
        else:
            bad[field] = value
        typ, body = c.request("INVOKE", {"request_id": "r1", "function": bad, "event": {}})
        t.ok(typ == "ERROR" and body.get("code") == "invalid" and word in body.get("message", ""),
             "INVOKE with bad %s: invalid, names the field" % field, (typ, body))
    typ, body = c.request("INVOKE", {"request_id": "r2", "function": fn, "isolation": "vm"})
    t.ok(typ == "ERROR" and "isolation" in body.get("message", ""), "bad isolation refused", body)
    typ, body = c.request("DRAIN", {"function_id": "x"})
    t.ok(typ == "ERROR" and body.get("code") == "invalid", "DRAIN without a numeric id refused", body)
    # not JSON
    c.send_raw(HDR.pack(1, TYPES["INVOKE"], 0, 5, 77) + b"{nope")
    typ, rid, body = c.read_frame()
    t.ok(typ == "ERROR" and rid == 77 and body.get("code") == "invalid",
         "INVOKE that is not JSON: ERROR invalid", body)
    # a reply type sent as a request: protocol error, then the connection closes
    c.send_raw(HDR.pack(1, TYPES["RESULT"], 0, 2, 78) + b"{}")
    typ, rid, body = c.read_frame()
    t.ok(typ == "ERROR" and body.get("code") == "invalid", "unexpected frame type: ERROR", body)
    closed = False
    try:
        c.sock.settimeout(5)
        closed = c.sock.recv(1) == b""
    except OSError:
        closed = True
    t.ok(closed, "... and the connection is closed")
    c.close()
    # an unknown type in the header: ERROR, then closed
    c = ex.client()
    c.send_raw(HDR.pack(1, 99, 0, 2, 79) + b"{}")
    typ, rid, body = c.read_frame()
    t.ok(typ == "ERROR" and "unknown frame type 99" in body.get("message", ""),
         "unknown frame type in the header: ERROR naming it", body)
    c.close()
    # a frame over the limit is refused before its payload is read
    c = ex.client()
    c.send_raw(HDR.pack(1, TYPES["INVOKE"], 0, 16 * 1024 * 1024 + 1, 80))
    typ, rid, body = c.read_frame()
    t.ok(typ == "ERROR" and "exceeds the limit" in body.get("message", ""),
         "oversized frame refused from its header", body)
    c.close()


def test_docker_unavailable(t):
    ex = Executor(executor__docker_socket="/nonexistent/docker.sock").start()
    try:
        fn = ex.function({"main.py": HELLO_PY})
        c = ex.client()
        typ, body = c.request("INVOKE", {"request_id": "r", "function": fn, "event": {}})
        t.ok(typ == "ERROR" and body == {"code": "docker_unavailable",
                                         "message": "executor unavailable: docker engine not reachable"},
             "docker unreachable: the exact docker_unavailable error", (typ, body))
        typ, body = c.request("PING", {})
        t.ok(typ == "PONG" and body.get("docker") is False, "PING says docker false", body)
        c.close()
    finally:
        ex.cleanup()


def test_sigterm(t, iso):
    ex = Executor().start()
    try:
        fn = ex.function({"main.py": HELLO_PY})
        r = ex.invoke(fn, {"name": "x"}, iso)
        label = "lambda.instance=" + ex.instance
        t.ok(r.get("status") == "success" and len(containers_with_label(label)) == 1,
             "%s: one container before SIGTERM" % iso, r)
        rc = ex.stop(signal.SIGTERM)
        t.ok(rc == 0, "SIGTERM: exit status 0 (got %s)" % rc)
        left = wait_for(lambda: not containers_with_label(label), 30)
        t.ok(left, "SIGTERM: own containers removed", containers_with_label(label))
        t.ok(not os.path.exists(ex.socket), "SIGTERM: socket removed")
    finally:
        ex.cleanup()


def test_sigkill_orphans(t, iso):
    ex = Executor().start()
    foreign = None
    try:
        # a container of another instance: never touched by us
        st, body = docker_api("POST", "/containers/create", {
            "Image": image_for("python"), "Cmd": ["true"],
            "Labels": {"lambda.instance": "someone-else-" + ex.instance},
            "HostConfig": {"NetworkMode": "none"}})
        foreign = body["Id"] if st == 201 else None
        fn = ex.function({"main.py": "import time\ndef handler(e, c):\n    time.sleep(e['s'])\n    return 1\n"},
                         timeout_ms=30000)
        ex.invoke(fn, {"s": 0}, iso)
        out = {}

        def slow():
            try:
                out["r"] = ex.invoke(fn, {"s": 20}, iso)
            except Exception as e:  # the executor dies under it
                out["e"] = e
        th = threading.Thread(target=slow)
        th.start()
        time.sleep(0.5)
        ex.stop(signal.SIGKILL)
        th.join(10)
        t.ok("e" in out and not th.is_alive(), "%s: a call in flight fails at once when the executor is killed" % iso, out)
        label = "lambda.instance=" + ex.instance
        t.ok(len(containers_with_label(label)) >= 1, "orphans are left behind by SIGKILL")
        ex.start()
        t.ok(wait_for(lambda: not containers_with_label(label), 30),
             "%s: restart removes the orphans" % iso, containers_with_label(label))
        t.ok(foreign is not None and not container_gone(foreign),
             "another instance's container is left alone")
        r = ex.invoke(fn, {"s": 0}, iso)
        t.ok(r.get("status") == "success", "%s: new calls succeed after the restart" % iso, r)
    finally:
        if foreign:
            docker_api("DELETE", "/containers/%s?force=1" % foreign)
        ex.cleanup()


def test_stray_sweep(t):
    ex = Executor(executor__sweep_interval_s=2).start()
    try:
        fn = ex.function({"main.py": HELLO_PY})
        r = ex.invoke(fn, {"name": "x"}, "docker")
        # a container with our label that the executor does not know (as left
        # behind by a removal that failed while dockerd was down)
        st, body = docker_api("POST", "/containers/create", {
            "Image": image_for("python"), "Cmd": ["true"],
            "Labels": {"lambda.instance": ex.instance, "lambda.function": "999"},
            "HostConfig": {"NetworkMode": "none"}})
        stray = body["Id"] if st == 201 else None
        t.ok(stray and wait_for(lambda: container_gone(stray), 15),
             "a stray container with our label is swept within the interval")
        t.ok(not container_gone(r["container"]) and ex.invoke(fn, {"name": "y"}, "docker").get("cold") is False,
             "... and the pool's own containers are kept")
    finally:
        ex.cleanup()


def main():
    require_stack()
    t = Tap()
    ex = Executor().start()
    try:
        for iso in isolations():
            test_hello(t, ex, iso)
            test_outside_kill(t, ex, iso)
        test_protocol(t, ex)
        test_check_config(t, ex)
    finally:
        ex.cleanup()
    test_docker_unavailable(t)
    test_stray_sweep(t)
    test_sigterm(t, isolations()[0])
    test_sigkill_orphans(t, isolations()[-1])
    t.done()


if __name__ == "__main__":
    main()
