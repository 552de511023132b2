#!/usr/bin/python3
"""Where the p99 of an authenticated GET /api/functions/NAME comes from (issue 2).

For each variant (lambda.local.conf keys and environment for lighttpd; the variants alternate,
--rounds times), restarts lighttpd with LAMBDA_API_HIST set, warms up with wrk, then runs wrk
-t2 -c32 (the issue's benchmark) while it samples:
  - lambda-api's own time per request (fcgi-app/reqtime.h, read with SIGUSR2): wait (in
    FCGX_Accept_r: idle + reading the params), serve (handler + reply written), finish
    (FCGX_Finish_r: flush and close);
  - the FastCGI listen backlog (`ss -xl`, the listen socket's queue of unaccepted
    connections, every 10 ms): whether requests wait for a free API thread;
  - the run-queue delay (/proc/<tid>/schedstat, time runnable but not running) of wrk,
    lighttpd and lambda-api, per request.
Prints one markdown table. Touches nothing but the given stack (restarts its lighttpd).

  bench/apiget_tail.py --var var/bench --port 18650 [--rounds 3] [--seconds 10]
      --variant base --variant 't4:api.threads=4' --variant 'p1:LAMBDA_API_PROCS=1'
"""

import argparse
import glob
import os
import re
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from apiget_profile import children, http, read_pid, wrk_cmd  # noqa: E402
from platform_bench import WRK_LUA  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def parse_variant(s):
    label, _, rest = s.partition(":")
    conf, env = {}, {}
    for kv in filter(None, rest.split(",")):
        k, _, v = kv.partition("=")
        (conf if "." in k else env)[k] = v
    return label, conf, env


def restart(cfg, conf, env, hist):
    with open(os.path.join(cfg.var, "lambda.local.conf"), "w") as f:
        for k, v in conf.items():
            f.write("%s = %s\n" % (k, v))
    e = dict(os.environ, LAMBDA_VAR=cfg.var, LAMBDA_PORT=str(cfg.port), LAMBDA_API_HIST=hist,
             **env)
    subprocess.run([os.path.join(REPO, "scripts", "stack.sh"), "restart", "lighttpd"], env=e,
                   check=True, capture_output=True)


def api_pids(cfg):
    httpd = read_pid(os.path.join(cfg.var, "run", "lighttpd.pid"))
    return httpd, [p for p in children(httpd)
                   if "lambda-api" in os.readlink("/proc/%d/exe" % p)]


def run_delay(pids):
    """Sum over every thread of pids: (ns runnable but waiting, timeslices)."""
    wait = slices = 0
    for pid in pids:
        for path in glob.glob("/proc/%d/task/*/schedstat" % pid):
            try:
                with open(path) as f:
                    _, w, n = f.read().split()
                wait += int(w)
                slices += int(n)
            except (OSError, ValueError):
                pass
    return wait, slices


def backlog_sampler(prefix, stop, out):
    """Samples the unaccepted connections of the listen sockets (api.sock-N, one per
    lambda-api process) every 10 ms: the sum over the sockets."""
    while not stop.is_set():
        r = subprocess.run(["ss", "-xlnH"], capture_output=True, text=True)
        q = 0
        for line in r.stdout.splitlines():
            f = line.split()
            if len(f) > 4 and f[1] == "LISTEN" and f[4].startswith(prefix):
                q += int(f[2])
        out.append(q)
        time.sleep(0.01)


def read_hist(paths):
    """{phase: (count, p50, p99, p99.9, max)} from the last table of each file, the
    percentiles taken as the worst over the processes (each process's own)."""
    res = {}
    for p in paths:
        with open(p) as f:
            lines = f.read().strip().splitlines()
        for line in lines[-3:]:
            f = line.split()
            n, p50, _, p99, p999, mx = (int(x) for x in f[1:7])
            c = res.get(f[0], (0, 0, 0, 0, 0))
            res[f[0]] = (c[0] + n, max(c[1], p50), max(c[2], p99), max(c[3], p999),
                         max(c[4], mx))
    return res


def one(cfg, lua, label, conf, env, rnd, tmp):
    hist = os.path.join(tmp, "hist-%s-%d" % (label, rnd))
    restart(cfg, conf, env, hist)
    httpd, api = api_pids(cfg)
    subprocess.run(wrk_cmd(lua, cfg.port, cfg.name, 32, cfg.warmup), check=True,
                   capture_output=True)
    for p in api:
        os.kill(p, 12)  # SIGUSR2: drop the warm-up's counts
    time.sleep(0.3)
    for p in glob.glob(hist + ".*"):
        os.unlink(p)
    load0 = open("/proc/loadavg").read().split()[0]
    stop, samples = threading.Event(), []
    t = threading.Thread(target=backlog_sampler,
                         args=(os.path.join(cfg.var, "run", "api.sock"), stop, samples))
    rd0 = {"lighttpd": run_delay([httpd]), "lambda-api": run_delay(api)}
    w = subprocess.Popen(wrk_cmd(lua, cfg.port, cfg.name, 32, cfg.seconds),
                         stdout=subprocess.PIPE, text=True)
    t.start()
    wrk_rd = {}
    while w.poll() is None:  # wrk's schedstat must be read before it exits
        wrk_rd = run_delay([w.pid])
        time.sleep(0.2)
    out = w.stdout.read()
    stop.set()
    t.join()
    rd1 = {"lighttpd": run_delay([httpd]), "lambda-api": run_delay(api)}
    for p in api:
        os.kill(p, 12)
    time.sleep(0.5)
    load1 = open("/proc/loadavg").read().split()[0]
    m = re.search(r"BENCH p50=([\d.]+) p99=([\d.]+) requests=(\d+) errors=(\d+) non2xx=(\d+)",
                  out)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    n = int(m.group(3))
    h = read_hist(glob.glob(hist + ".*"))
    busy = sum(1 for s in samples if s > 0)
    row = {"label": label, "round": rnd, "rps": rps, "p50": float(m.group(1)),
           "p99": float(m.group(2)), "failed": int(m.group(4)) + int(m.group(5)), "n": n,
           "hist": h, "backlog_busy": 100.0 * busy / max(1, len(samples)),
           "backlog_max": max(samples) if samples else 0,
           "rq_httpd": (rd1["lighttpd"][0] - rd0["lighttpd"][0]) / n / 1000,
           "rq_api": (rd1["lambda-api"][0] - rd0["lambda-api"][0]) / n / 1000,
           "rq_wrk": wrk_rd[0] / n / 1000 if wrk_rd else 0, "load": (load0, load1)}
    return row


def us_ms(us):
    return "%.2f" % (us / 1000.0)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--var", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--name", default="bench-get")
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--variant", action="append", required=True,
                    help="LABEL[:key=value,...]: dotted keys go to lambda.local.conf, the "
                    "others are environment for lighttpd (LAMBDA_API_PROCS ...)")
    cfg = ap.parse_args()
    key = open(os.path.join(cfg.var, "admin.key")).read().strip()
    if http(cfg.port, key, "GET", "/api/functions/" + cfg.name) == 404:
        http(cfg.port, key, "POST", "/api/functions", {
            "name": cfg.name, "runtime": "python", "handler": "main.handler",
            "code": "def handler(event, context):\n    return event\n"})
    variants = [parse_variant(v) for v in cfg.variant]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        lua = os.path.join(tmp, "get.lua")
        with open(lua, "w") as f:
            f.write(WRK_LUA % ("GET", "nil", key))
        try:
            for rnd in range(1, cfg.rounds + 1):
                for label, conf, env in variants:
                    rows.append(one(cfg, lua, label, conf, env, rnd, tmp))
                    print("done %s %d: p99 %.2f" % (label, rnd, rows[-1]["p99"]),
                          file=sys.stderr)
        finally:
            restart(cfg, {}, {}, "")
    print("| variant | round | req/s | wrk p50 ms | wrk p99 ms | failed | app serve p99 ms | "
          "app finish p99 ms | app wait p50 / p99 ms | app max ms | backlog > 0 | "
          "backlog max | run-queue wait us/req wrk / lighttpd / api | load before -> after |")
    print("|" + "---|" * 14)
    for r in rows:
        h = r["hist"]
        sv, fi, wa = h.get("serve"), h.get("finish"), h.get("wait")
        print("| %s | %d | %.0f | %.2f | %.2f | %d | %s | %s | %s / %s | %s | %.0f%% | %d | "
              "%.0f / %.0f / %.0f | %s -> %s |" % (
                  r["label"], r["round"], r["rps"], r["p50"], r["p99"], r["failed"],
                  us_ms(sv[2]), us_ms(fi[2]), us_ms(wa[1]), us_ms(wa[2]),
                  us_ms(max(sv[4], fi[4])), r["backlog_busy"], r["backlog_max"], r["rq_wrk"],
                  r["rq_httpd"], r["rq_api"], r["load"][0], r["load"][1]))
    print()
    for label, _, _ in variants:
        p99s = sorted(r["p99"] for r in rows if r["label"] == label)
        rps = sorted(r["rps"] for r in rows if r["label"] == label)
        print("- %s: p99 median %.2f ms (runs %s), req/s median %.0f" % (
            label, p99s[len(p99s) // 2], ", ".join("%.2f" % x for x in p99s),
            rps[len(rps) // 2]))


if __name__ == "__main__":
    main()
