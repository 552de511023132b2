#!/usr/bin/python3
"""Where the CPU of an authenticated GET /api/functions/NAME goes, per request.

Runs wrk (-c 32 by default) against a running stack and, over the same interval, measures
per process group (wrk, lighttpd, lambda-api, mariadbd): CPU time (utime + stime of every
thread, from /proc), context switches (voluntary + involuntary, summed over threads) and, with
--syscalls, system calls (`perf stat -e raw_syscalls:sys_enter`). Prints one markdown table,
divided by the requests wrk completed. Touches nothing but the given stack.

  bench/apiget_profile.py --var var/bench --port 18550 [--name bench-get] [--seconds 10]
                          [--conns 32] [--syscalls]

The stack must run (scripts/stack.sh start all) and have the function (created when missing)
and an admin key ($VAR/admin.key).
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from platform_bench import WRK_LUA  # noqa: E402
from proccpu import cpu_seconds  # noqa: E402



def read_pid(path):
    with open(path) as f:
        return int(f.read().split()[0])


def children(pid):
    out = []
    for task in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/children" % (pid, task)) as f:
                out += [int(x) for x in f.read().split()]
        except OSError:
            pass
    return out


def groups(var):
    """{group: [pids]} of the stack under var."""
    run = os.path.join(var, "run")
    httpd = read_pid(os.path.join(run, "lighttpd.pid"))
    api = [p for p in children(httpd) if "lambda-api" in os.readlink("/proc/%d/exe" % p)]
    if not api:
        sys.exit("apiget_profile: no lambda-api process under lighttpd %d" % httpd)
    return {"lighttpd": [httpd], "lambda-api": api,
            "mariadbd": [read_pid(os.path.join(run, "mysql.pid"))]}


def sample(pids):
    """(cpu seconds, context switches) summed over every thread of pids."""
    cpu = 0.0
    ctx = 0
    for pid in pids:
        cpu += cpu_seconds([pid])  # utime stime of the whole process
        for task in os.listdir("/proc/%d/task" % pid):
            try:
                with open("/proc/%d/task/%s/status" % (pid, task)) as f:
                    for line in f:
                        if "ctxt_switches" in line:
                            ctx += int(line.split()[1])
            except OSError:
                pass  # the thread ended meanwhile
    return cpu, ctx


def http(port, key, method, path, body=None):
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (port, path), method=method,
                                 data=json.dumps(body).encode() if body else None,
                                 headers={"Authorization": "Bearer " + key,
                                          "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def wrk_cmd(lua, port, name, conns, seconds):
    return ["wrk", "-t", "2", "-c", str(conns), "-d", "%ds" % seconds, "--latency", "-s", lua,
            "http://127.0.0.1:%d/api/functions/%s" % (port, name)]


def perf_stat(pids):
    """Starts a syscall counter on pids; returns the process (stopped by SIGINT)."""
    return subprocess.Popen(["perf", "stat", "-x", ",", "-e", "raw_syscalls:sys_enter", "-p",
                             ",".join(str(p) for p in pids)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)


def perf_count(p):
    p.send_signal(2)
    err = p.communicate(timeout=30)[1]
    m = re.search(r"^(\d+),", err, re.M)
    return int(m.group(1)) if m else None


def run(cfg):
    key = open(os.path.join(cfg.var, "admin.key")).read().strip()
    if http(cfg.port, key, "GET", "/api/functions/" + cfg.name) == 404:
        st = http(cfg.port, key, "POST", "/api/functions", {
            "name": cfg.name, "runtime": "python", "handler": "main.handler",
            "code": "def handler(event, context):\n    return event\n"})
        if st != 201:
            sys.exit("apiget_profile: create %s: HTTP %d" % (cfg.name, st))
    g = groups(cfg.var)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(WRK_LUA % ("GET", "nil", key))
        lua = f.name
    try:
        subprocess.run(wrk_cmd(lua, cfg.port, cfg.name, cfg.conns, cfg.warmup), check=True,
                       capture_output=True)
        before = {k: sample(v) for k, v in g.items()}
        counters = {k: perf_stat(v) for k, v in g.items()} if cfg.syscalls else {}
        w = subprocess.Popen(wrk_cmd(lua, cfg.port, cfg.name, cfg.conns, cfg.seconds),
                             stdout=subprocess.PIPE, text=True)
        if cfg.syscalls:
            counters["wrk"] = perf_stat([w.pid])
        out = w.stdout.read()
        _, status, ru = os.wait4(w.pid, 0)
        after = {k: sample(v) for k, v in g.items()}
        calls = {k: perf_count(p) for k, p in counters.items()}
    finally:
        os.unlink(lua)
    if status != 0:
        sys.exit("apiget_profile: wrk failed:\n" + out)
    m = re.search(r"BENCH p50=([\d.]+) p99=([\d.]+) requests=(\d+) errors=(\d+) non2xx=(\d+)",
                  out)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    n = int(m.group(3))
    use = {k: (after[k][0] - before[k][0], after[k][1] - before[k][1]) for k in g}
    use["wrk"] = (ru.ru_utime + ru.ru_stime, ru.ru_nvcsw + ru.ru_nivcsw)
    total = sum(c for c, _ in use.values())
    print("wrk -c %d, %d s: %.0f req/s, p50 %s ms, p99 %s ms, %d requests, %d failed" % (
        cfg.conns, cfg.seconds, rps, m.group(1), m.group(2), n, int(m.group(4)) +
        int(m.group(5))))
    print()
    print("| process | CPU us/request | share of CPU | ctx switches/request | syscalls/request |")
    print("|---|---|---|---|---|")
    for k in ("wrk", "lighttpd", "lambda-api", "mariadbd"):
        cpu, ctx = use[k]
        sc = calls.get(k)
        print("| %s | %.0f | %.0f%% | %.2f | %s |" % (k, cpu / n * 1e6, 100 * cpu / total,
                                                    ctx / n, "%.1f" % (sc / n) if sc else "-"))
    print("| all | %.0f | 100%% | | |" % (total / n * 1e6))
    print()
    print("CPU seconds used: %.1f over %d s on %d CPUs" % (total, cfg.seconds, os.cpu_count()))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--var", required=True, help="the stack's LAMBDA_VAR")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--name", default="bench-get")
    ap.add_argument("--conns", type=int, default=32)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--syscalls", action="store_true",
                    help="count system calls with perf stat (a little overhead)")
    run(ap.parse_args())


if __name__ == "__main__":
    main()
