"""Benchmarks through the platform itself (sections `platform` and `wrk` of bench.py).

platform  A private lambda-executor (tests/integration/executor_client.py) driven over its
          socket with the executor protocol, per runtime x isolation:
            cold no-pool  a new function on an executor with prewarm_min = 0
            pre-warmed    a new function while a pre-warmed generic container waits
            warm          the same function again
          and warm throughput with 32 and 128 concurrent clients, batching on (batch_max 16)
          vs off (batch_max 1). This is the executor's share of a call (no HTTP, no MariaDB).
stack     The full stack over HTTP (issue 3's targets): a cold call with no pool (a new function
          each call, prewarm_min 0) against this run's `docker run --rm` baseline, and how long
          past its 1 s limit a busy-looping function runs before the platform ends it.
wrk       The full stack (lighttpd + lambda-api + executor + MariaDB) under var/bench/ on
          LAMBDA_BENCH_PORT (18089): warm latency with 1 client and throughput with 32 and 128
          wrk connections on a function's invoke endpoint, batching on vs off.
"""

import contextlib
import json
import os
import re
import resource
import subprocess
import sys
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))
import bootstrap_bench as bb  # noqa: E402
import executor_client as ec  # noqa: E402
from proccpu import TICK, all_cpu  # noqa: E402

RUNTIME = {"python": "python", "node": "javascript"}
ISOLATION = {"runc": "docker", "runsc": "gvisor"}


def code_files(lang, key=1):
    fname, h1, h2, code = bb.CODE[lang]
    return {fname: code}, (h1, h2)[key - 1]


def ms(v):
    return "%.2f" % v if v is not None else "-"


def _fn(ex, lang, name=None, key=1):
    files, handler = code_files(lang, key)
    return ex.function(files, runtime=RUNTIME[lang], handler=handler, name=name)


def _call(ex, fn, iso, client=None):
    r = ex.invoke(fn, {"n": 1}, isolation=iso, client=client)
    if r.get("_type") != "RESULT" or r.get("status") != "success":
        raise RuntimeError("call failed: %r" % {k: r.get(k) for k in ("_type", "status", "error",
                                                                        "code", "message")})
    return r


def _prewarmed_idle(ex, lang, iso):
    c = ex.client()
    try:
        _, body = c.request("POOLS", {})
    finally:
        c.close()
    for p in body.get("prewarmed", []):
        if p.get("runtime") == RUNTIME[lang] and p.get("isolation") == iso:
            return p.get("idle", 0)
    return 0


def _wait_prewarmed(ex, lang, iso, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if _prewarmed_idle(ex, lang, iso) > 0:
            return
        time.sleep(0.1)
    raise RuntimeError("no pre-warmed %s/%s container within %ds" % (lang, iso, timeout))


def cold_series(ex, lang, iso, n, prewarmed):
    times, reasons, init = [], {}, []
    for _ in range(n):
        if prewarmed:
            _wait_prewarmed(ex, lang, iso)
        r = _call(ex, _fn(ex, lang), iso)
        times.append(r["_elapsed"] * 1000)
        init.append(r.get("init_ms") or 0)
        reasons[r.get("cold_reason")] = reasons.get(r.get("cold_reason"), 0) + 1
    s = bb.stats(times)
    s["reasons"] = reasons
    s["init_p50"] = bb.percentile(init, 50)
    return s


def warm_series(ex, lang, iso, n, key=1):
    fn = _fn(ex, lang, key=key)
    c = ex.client()
    try:
        for _ in range(20):
            _call(ex, fn, iso, c)
        times = []
        for _ in range(n):
            r = _call(ex, fn, iso, c)
            if r.get("cold"):
                raise RuntimeError("a warm call was cold: %r" % r.get("cold_reason"))
            times.append(r["_elapsed"] * 1000)
        return bb.stats(times)
    finally:
        c.close()


def throughput(ex, lang, iso, clients, seconds, warmup):
    """Calls/s with `clients` connections each calling one warm function in a loop, counted
    over `seconds` after `warmup` seconds (in which the executor scales up)."""
    fn = _fn(ex, lang)
    _call(ex, fn, iso)
    t_start = time.time() + warmup
    t_stop = t_start + seconds
    counts = [0] * clients
    errors = {}
    batch_sizes = []
    lock = threading.Lock()

    def worker(i):
        c = ex.client()
        try:
            while True:
                r = ex.invoke(fn, {"n": i}, isolation=iso, client=c)
                now = time.time()
                if now >= t_stop:
                    return
                if now < t_start:
                    continue
                if r.get("status") == "success":
                    counts[i] += 1
                    if i == 0:
                        batch_sizes.append(r.get("batch_size") or 1)
                else:
                    kind = r.get("status") or r.get("code") or r.get("_type")
                    with lock:
                        errors[kind] = errors.get(kind, 0) + 1
        finally:
            c.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    mean_batch = sum(batch_sizes) / len(batch_sizes) if batch_sizes else 0
    err = ", ".join("%s %d" % kv for kv in sorted(errors.items(), key=str)) or "0"
    return sum(counts) / seconds, err, mean_batch


@contextlib.contextmanager
def _executor(**conf):
    """A private lambda-executor with conf, cleaned up when the block ends."""
    if not os.access(ec.BINARY, os.X_OK):
        raise RuntimeError("%s is not built (./autogen.sh && ./configure && make)" % ec.BINARY)
    ex = ec.Executor(**conf).start()
    try:
        yield ex
    finally:
        ex.cleanup()


def run_platform(rep, cfg, results):
    rep.add("## Platform: the executor's share of a call (executor protocol, no HTTP)")
    rep.add()
    rep.add("A private `lambda-executor` driven over its unix socket by "
            "tests/integration/executor_client.py: time from sending INVOKE to its RESULT. "
            "cold no-pool: a new function each call, prewarm_min 0 (%d calls); pre-warmed: a new "
            "function each call once a pre-warmed container idles (prewarm_min 1, %d calls); "
            "warm: one function, %d calls in a row; cpu10: a function burning 10 ms of CPU. "
            "Ratios use this run's baseline (`docker run --rm`)."
            % (cfg.n_cold, cfg.n_cold, cfg.n_warm))
    rep.add()
    rows = []
    for lang in bb_langs():
        for rt in cfg.runtimes:
            iso = ISOLATION[rt]
            with _executor(executor__prewarm_min=0) as ex:
                c = cold_series(ex, lang, iso, cfg.n_cold, False)
                w = warm_series(ex, lang, iso, cfg.n_warm)
                cpu = warm_series(ex, lang, iso, max(20, cfg.n_warm // 10), key=2)
            with _executor(executor__prewarm_min=1) as ex:
                p = cold_series(ex, lang, iso, cfg.n_cold, True)
            base = results.get(("baseline", lang, rt))
            results[("platform_cold", lang, rt)] = c
            results[("platform_prewarmed", lang, rt)] = p
            results[("platform_warm", lang, rt)] = w
            rows.append([lang, rt, ms(c["p50"]), ms(c["p99"]),
                         "%.2fx" % (c["p50"] / base["p50"]) if base else "-",
                         ms(p["p50"]), ms(p["p99"]),
                         "%.1fx" % (base["p50"] / p["p50"]) if base else "-",
                         ms(w["p50"]), ms(w["p99"]), ms(cpu["p50"]),
                         ", ".join("%s %d" % kv for kv in sorted(
                             {**c["reasons"], **p["reasons"]}.items(), key=str))])
    rep.table(["runtime", "isolation", "cold p50", "cold p99", "cold / baseline", "pre-warmed p50",
               "pre-warmed p99", "baseline / pre-warmed", "warm p50", "warm p99",
               "cpu10 warm p50", "cold reasons seen"], rows)

    rep.add("Warm throughput through the executor: N client connections (threads of one "
            "Python process: the client itself tops out at a few thousand calls/s) calling one "
            "warm function in a loop, counted over %d s after %d s of warm-up in which the "
            "executor scales up; batching on = batch_max 16, off = batch_max 1; mean batch = "
            "batch_size seen by client 0; errors by status." % (cfg.seconds, cfg.warmup))
    rep.add()
    rows = []
    for lang in bb_langs():
        for rt in cfg.runtimes:
            for clients in (32, 128):
                row = [lang, rt, clients]
                for bmax in (1, 16):
                    with _executor(executor__prewarm_min=0, executor__batch_max=bmax,
                                   executor__queue_max=1024) as ex:
                        rate, errs, mean_batch = throughput(ex, lang, ISOLATION[rt], clients,
                                                            cfg.seconds, cfg.warmup)
                    row += ["%.0f" % rate, errs, "%.1f" % mean_batch]
                row.append("%.1fx" % (float(row[6]) / float(row[3])) if float(row[3]) else "-")
                rows.append(row)
    rep.table(["runtime", "isolation", "clients", "off calls/s", "off errors", "off mean batch",
               "on calls/s", "on errors", "on mean batch", "on / off"], rows)


def bb_langs():
    return ["python", "node"]


# ---------------------------------------------------------------------------------------------
# Full stack with wrk


BENCH_VAR = os.path.join(REPO, "var", "bench")
PORT = int(os.environ.get("LAMBDA_BENCH_PORT", "18089"))


def _stack(action, extra_conf=None):
    env = dict(os.environ, LAMBDA_VAR=BENCH_VAR, LAMBDA_PORT=str(PORT), LAMBDA_BUILD=REPO)
    if extra_conf is not None:
        os.makedirs(BENCH_VAR, exist_ok=True)
        with open(os.path.join(BENCH_VAR, "lambda.local.conf"), "w") as f:
            for k, v in extra_conf.items():
                f.write("%s = %s\n" % (k, v))
    p = subprocess.run([os.path.join(REPO, "scripts", "stack.sh"), action, "all"], env=env,
                       capture_output=True, text=True, timeout=600)
    if p.returncode != 0:
        raise RuntimeError("stack.sh %s all: exit %d\n%s" % (action, p.returncode,
                                                            p.stderr[-3000:]))
    if action == "stop":
        return None
    return subprocess.run([os.path.join(REPO, "scripts", "admin-key.sh")], env=env, check=True,
                          capture_output=True, text=True, timeout=120).stdout.strip()


@contextlib.contextmanager
def _bench_stack():
    """The block of a section that runs the bench stack (started and restarted with
    _stack("restart", conf) as often as it needs): the stack is stopped when the block ends,
    and a failure to stop does not hide the block's own error. The last variant's
    lambda.local.conf is removed with it: a stack started later on var/bench (by hand, or by
    bench/apiget_tail.py's default variant) would otherwise run with, say, `api.threads = 2`."""
    try:
        yield
    finally:
        try:
            _stack("stop")
        except (subprocess.SubprocessError, RuntimeError) as e:
            print("bench: stopping the stack: %s" % e, file=sys.stderr)
        try:
            os.unlink(os.path.join(BENCH_VAR, "lambda.local.conf"))
        except FileNotFoundError:
            pass


def _http(method, path, key, body=None):
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (PORT, path), method=method,
                                 data=json.dumps(body).encode() if body is not None else None,
                                 headers={"Authorization": "Bearer " + key,
                                          "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def _create(key, name, lang, handler=None, code=None, timeout_ms=3000, exists_ok=False):
    """Creates function name: lang's hello function, or handler and code. exists_ok: one
    already there by that name will do."""
    if code is None:
        files, handler = code_files(lang)
        (_, code), = files.items()
    st, body = _http("POST", "/api/functions", key, {
        "name": name, "runtime": RUNTIME[lang], "handler": handler, "code": code,
        "timeout_ms": timeout_ms, "memory_mb": 128})
    if st not in ((200, 201, 409) if exists_ok else (201,)):
        raise RuntimeError("create %s: %s %r" % (name, st, body))


SPIN = {
    "python": ("spin.py", "spin.handler", "def handler(event, context):\n    while True:\n"
               "        pass\n"),
    "node": ("spin.js", "spin.handler", "exports.handler = async () => { for (;;) {} };\n"),
}


def _timed_invoke(key, name, iso):
    t0 = time.monotonic()
    st, body = _http("POST", "/api/functions/%s/invoke?isolation=%s" % (name, iso), key,
                     {"n": 1})
    wall = (time.monotonic() - t0) * 1000.0
    if st != 200 or not isinstance(body, dict):
        raise RuntimeError("invoke %s: %s %r" % (name, st, body))
    return wall, body


def _stack_cold(key, lang, rt, n):
    walls, reasons = [], {}
    for i in range(n):
        name = "bench-cold-%s-%s-%d-%d" % (lang, rt, os.getpid(), i)
        _create(key, name, lang)
        try:
            wall, body = _timed_invoke(key, name, ISOLATION[rt])
            if body.get("status") != "success" or not body.get("cold"):
                raise RuntimeError("cold call: %r" % body)
            reasons[body.get("cold_reason")] = reasons.get(body.get("cold_reason"), 0) + 1
            walls.append(wall)
        finally:
            _http("DELETE", "/api/functions/" + name, key)
    return bb.stats(walls), reasons


def _stack_timeout(key, lang, rt, n):
    _, handler, code = SPIN[lang]
    name = "bench-spin-%s-%s-%d" % (lang, rt, os.getpid())
    _create(key, name, lang, handler, code, timeout_ms=1000)
    over_run, over_wall = [], []
    try:
        for _ in range(n):
            wall, body = _timed_invoke(key, name, ISOLATION[rt])
            if body.get("status") != "timeout":
                raise RuntimeError("spin call: %r" % body)
            over_run.append(body["duration_ms"] - 1000.0)
            # the wall time less what is not the function's time (cold start, queue)
            over_wall.append(wall - (body.get("init_ms") or 0) - (body.get("queue_ms") or 0)
                             - 1000.0)
    finally:
        _http("DELETE", "/api/functions/" + name, key)
    return bb.stats(over_run), bb.stats(over_wall)


def run_stack(rep, cfg, results):
    rep.add("## Full stack: cold calls with no pool, and timeout enforcement (issue 3)")
    rep.add()
    rep.add("A stack under var/bench/ on 127.0.0.1:%d with executor.prewarm_min 0. cold: "
            "`POST /api/functions/NAME/invoke` of a function created just before (%d calls, a new "
            "function each), HTTP wall time, against this run's `docker run --rm` baseline "
            "(targets: <= 1.2x). timeout: a function that spins forever with a 1 s limit (%d "
            "calls); over limit = the recorded duration_ms less 1000, and the HTTP wall time "
            "less init_ms, queue_ms and 1000 (targets: +300 ms runc, +600 ms runsc)."
            % (PORT, cfg.n_cold, cfg.n_timeout))
    rep.add()
    rows = []
    with _bench_stack():
        imgs = bb.bd.build_images()
        key = _stack("restart", {"executor.prewarm_min": 0,
                                 "executor.image_python": imgs["lambda-python"],
                                 "executor.image_node": imgs["lambda-node"]})
        for lang in bb_langs():
            for rt in cfg.runtimes:
                c, reasons = _stack_cold(key, lang, rt, cfg.n_cold)
                run, wall = _stack_timeout(key, lang, rt, cfg.n_timeout)
                base = results.get(("baseline", lang, rt))
                ratio = "%.2fx" % (c["p50"] / base["p50"]) if base else "-"
                rows.append([lang, rt, ms(c["p50"]), ms(c["p99"]), ratio,
                             ", ".join("%s %d" % kv for kv in sorted(reasons.items())),
                             "%+.2f" % run["p50"], "%+.2f" % run["max"],
                             "%+.2f" % wall["p50"], "%+.2f" % wall["max"]])
    rep.table(["runtime", "isolation", "cold p50 ms", "cold p99 ms", "cold / baseline p50",
               "cold reasons", "timeout: run over limit p50", "max", "wall over limit p50",
               "max"], rows)


WRK_LUA = """
wrk.method = "%s"
wrk.body = %s
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer %s"
local threads = {}
function setup(thread)
  table.insert(threads, thread)
end
function init(args)
  n429 = 0
  n5xx = 0
end
function response(status, headers, body)
  if status == 429 then n429 = n429 + 1 elseif status >= 500 then n5xx = n5xx + 1 end
end
done = function(summary, latency, requests)
  local t429, t5xx = 0, 0
  for _, t in ipairs(threads) do
    t429 = t429 + t:get("n429")
    t5xx = t5xx + t:get("n5xx")
  end
  io.write(string.format("BENCH p50=%%.3f p99=%%.3f requests=%%d errors=%%d non2xx=%%d " ..
    "n429=%%d n5xx=%%d\\n",
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, summary.requests,
    summary.errors.connect + summary.errors.read + summary.errors.write +
    summary.errors.timeout, summary.errors.status, t429, t5xx))
end
"""


# Who spends the CPU of a call: processes by name (/proc/PID/comm), grouped. The runtime's
# process is python3 or node under runc; under runsc the sandbox (gVisor's Sentry, "exe")
# runs it and the Python or Node process inside is not visible to the host.
CPU_GROUPS = [("lighttpd", ("lighttpd",)), ("lambda-api", ("lambda-api",)),
              ("executor", ("lambda-executor",)), ("mariadbd", ("mariadbd",)),
              ("dockerd", ("dockerd",)), ("shim", ("containerd-shim",)),
              ("bootstrap", ("python3", "node")), ("runsc sandbox", ("exe", "runsc-sandbox")),
              ("wrk", ("wrk",))]


def _cpu_per_call(before, after, calls):
    """us of CPU per call by CPU_GROUPS (and "other") between two all_cpu() snapshots;
    processes that ended in between are not counted (wrk is, through RUSAGE_CHILDREN)."""
    used = {}
    for pid, (comm, ticks) in after.items():
        b = before.get(pid)
        d = ticks - (b[1] if b and b[0] == comm else 0)
        if d > 0:
            used[comm] = used.get(comm, 0) + d
    out = {}
    for label, comms in CPU_GROUPS:
        out[label] = sum(used.pop(c, 0) for c in comms)
    out["other"] = sum(used.values())
    return {k: v * 1e6 / TICK / calls for k, v in out.items()} if calls else {}


def _wrk(key, path, conns, seconds, method="POST"):
    lua = os.path.join(BENCH_VAR, "bench.lua")
    with open(lua, "w") as f:
        f.write(WRK_LUA % (method, "'{\"n\": 1}'" if method == "POST" else "nil", key))
    cpu0, ru0 = all_cpu(), resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(["wrk", "-t", "2" if conns > 1 else "1", "-c", str(conns), "-d",
                          "%ds" % seconds, "--latency", "-s", lua,
                          "http://127.0.0.1:%d%s" % (PORT, path)],
                         capture_output=True, text=True, check=True, timeout=seconds + 60).stdout
    cpu1, ru1 = all_cpu(), resource.getrusage(resource.RUSAGE_CHILDREN)
    m = re.search(r"BENCH p50=([\d.]+) p99=([\d.]+) requests=(\d+) errors=(\d+) non2xx=(\d+) "
                  r"n429=(\d+) n5xx=(\d+)", out)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if not m or not rps:
        raise RuntimeError("cannot read wrk's output:\n" + out)
    # 429 with Retry-After is the designed answer over capacity (the executor's queue is
    # full): counted apart; socket errors (wrk's 2 s timeout included), 5xx and any other
    # non-2xx are failures
    n429 = int(m.group(6))
    calls = int(m.group(3))
    cpu = _cpu_per_call(cpu0, cpu1, calls)
    if calls:
        cpu["wrk"] = ((ru1.ru_utime + ru1.ru_stime) - (ru0.ru_utime + ru0.ru_stime)) * 1e6 / calls
    return {"p50": float(m.group(1)), "p99": float(m.group(2)), "requests": calls,
            "errors": int(m.group(4)) + int(m.group(5)) - n429, "n429": n429,
            "timeouts": int(m.group(4)), "rps": float(rps.group(1)), "cpu": cpu}


def run_wrk(rep, cfg, results):
    rep.add("## Full stack: wrk on the invoke endpoint (lighttpd + lambda-api + executor)")
    rep.add()
    rep.add("A stack under var/bench/ on 127.0.0.1:%d; one hello function per runtime; "
            "`POST /api/functions/NAME/invoke?isolation=ISO` with wrk (%d s per row after a %d s "
            "wrk warm-up with the same connections; latency in ms); batching on = "
            "executor.batch_max 16 with the default waits (batch_wait_ms 0, batch_wait_busy_ms "
            "5: docs/design.md, Batching), off = batch_max 1; failed = socket errors (wrk's 2 s timeout "
            "included) + non-2xx answers other than 429; 429 = `too_many_requests` with "
            "Retry-After, the designed answer when the executor's queue (queue_max 1024) is full."
            % (PORT, cfg.seconds, cfg.warmup))
    rep.add()
    rows, cpu_rows, rate = [], [], {}
    # off and on alternate (off, on, off, on, ...): on a machine shared with other work the
    # figures drift by tens of percent within minutes, so each round's ratio compares
    # neighbours and the summary below gives every round
    phases = [b for b, label in ((1, "off"), (16, "on")) if label in cfg.batching] * cfg.rounds
    with _bench_stack():
        for n, bmax in enumerate(phases):
            rnd = n // (len(phases) // cfg.rounds) + 1
            imgs = bb.bd.build_images()
            for lang in [x for x in bb_langs() if x in cfg.langs]:
                name = "bench-%s" % lang
                for rt in cfg.wrk_runtimes:
                    # a fresh stack per row: the containers of the row before (up to 64, and
                    # more of them with batching off) would stay for their keep-alive, and an
                    # idle runsc sandbox costs ~5% of a core
                    key = _stack("restart", {"executor.batch_max": bmax,
                                             "executor.queue_max": 1024,
                                             "executor.prewarm_min": 0,
                                             "executor.image_python": imgs["lambda-python"],
                                             "executor.image_node": imgs["lambda-node"]})
                    _create(key, name, lang, exists_ok=True)
                    path = "/api/functions/%s/invoke?isolation=%s" % (name, ISOLATION[rt])
                    st, body = _http("POST", path, key, {"n": 1})
                    if st != 200:
                        raise RuntimeError("invoke %s: %s %r" % (path, st, body))
                    for conns in cfg.conns:
                        _wrk(key, path, conns, cfg.warmup)  # the executor scales up first
                        r = _wrk(key, path, conns, cfg.seconds)
                        head = [lang, rt, "on" if bmax > 1 else "off", conns]
                        if cfg.rounds > 1:
                            head.append(rnd)
                        rate[(lang, rt, conns, bmax > 1, rnd)] = r["rps"]
                        rows.append(head + ["%.0f" % r["rps"], ms(r["p50"]), ms(r["p99"]),
                                            r["requests"], r["errors"], r["n429"]])
                        cpu = r["cpu"]
                        cpu_rows.append(head + ["%.0f" % cpu.get(k, 0) for k, _ in CPU_GROUPS]
                                        + ["%.0f" % cpu.get("other", 0),
                                           "%.0f" % sum(cpu.values())])
    key_cols = ["runtime", "isolation", "batching", "connections"] + (
        ["round"] if cfg.rounds > 1 else [])
    rep.table(key_cols + ["calls/s", "p50 ms", "p99 ms", "requests", "failed", "429"], rows)
    rep.add()
    ratios = []
    for lang, rt, conns in sorted({k[:3] for k in rate}, key=lambda k: (k[0] != "python", k)):
        per = [rate[(lang, rt, conns, True, i)] / rate[(lang, rt, conns, False, i)]
               for i in range(1, cfg.rounds + 1)
               if rate.get((lang, rt, conns, False, i)) and (lang, rt, conns, True, i) in rate]
        if per:
            ratios.append([lang, rt, conns, " ".join("%.2fx" % x for x in per),
                           "%.2fx" % (sum(per) / len(per))])
    if ratios:
        rep.add("Batching on / off, calls/s of the same row in the same round (issue 4's "
                "target: >= 2x at 128 connections):")
        rep.add()
        rep.table(["runtime", "isolation", "connections", "per round", "mean"], ratios)
        rep.add()
    rep.add("CPU per call of the rows above, in us, by process (utime + stime from /proc over "
            "the measured run, divided by its requests; \"bootstrap\" is python3 or node under "
            "runc, the sandbox holds it under runsc; \"other\" is the rest of the machine, "
            "other work on it included). Batching can only shrink the columns from dockerd to "
            "the sandbox; the others are paid per HTTP request.")
    rep.add()
    rep.table(key_cols + [k for k, _ in CPU_GROUPS] + ["other", "total"], cpu_rows)


# ---------------------------------------------------------------------------------------------
# Authenticated GET through the full stack: the API-key and function caches off vs on


# (label, lambda.local.conf keys, SQL round trips per request)
APIGET_VARIANTS = [
    ("none", {"api.key_cache_ms": 0, "api.fn_cache_ms": 0}, 2),
    ("key", {"api.fn_cache_ms": 0}, 1),
    ("key+fn", {}, 0),
    # the same with fewer FastCGI threads per process (default 16): does the p99 tail come
    # from 32 runnable API threads on 2 cores?
    ("t4", {"api.threads": 4}, 0),
    ("t2", {"api.threads": 2}, 0),
]


def run_apiget(rep, cfg, results):
    rounds = 1 if cfg.quick else 2
    rep.add("## Full stack: wrk on `GET /api/functions/NAME` (issue 2 target: >= 5,000 req/s, "
            "p99 < 20 ms at 32 connections)")
    rep.add()
    rep.add("A stack under var/bench/ on 127.0.0.1:%d (lighttpd, 2 lambda-api processes, "
            "MariaDB); one function; an authenticated GET of it with wrk -c 32 (%d s per row "
            "after a %d s warm-up). Caches: none = `api.key_cache_ms = 0` and "
            "`api.fn_cache_ms = 0` (the key, then the function looked up in MariaDB: two round "
            "trips); key = the API-key cache only (one round trip, the code before the function "
            "cache); key+fn = the defaults (no round trip while both are warm); t4 and t2 = key+fn "
            "with `api.threads` 4 and 2 per process instead of 16. The variants "
            "alternate, %d round(s) each, so that all see the same load; the load average is "
            "taken at the end of each row." % (PORT, cfg.seconds, cfg.warmup, rounds))
    rep.add()
    rows = []
    rps = {}
    with _bench_stack():
        for rnd in range(rounds):
            for label, conf, trips in APIGET_VARIANTS:
                key = _stack("restart", conf)
                _create(key, "bench-get", "python", exists_ok=True)
                path = "/api/functions/bench-get"
                st, body = _http("GET", path, key)
                if st != 200:
                    raise RuntimeError("GET %s: %s %r" % (path, st, body))
                _wrk(key, path, 32, cfg.warmup, method="GET")
                r = _wrk(key, path, 32, cfg.seconds, method="GET")
                with open("/proc/loadavg") as f:
                    load = f.read().split()[0]
                rps.setdefault(label, []).append(r["rps"])
                rows.append([rnd + 1, label, trips, "%.0f" % r["rps"], ms(r["p50"]),
                             ms(r["p99"]), r["requests"], r["errors"], load])
    rep.table(["round", "caches", "SQL round trips", "req/s", "p50 ms", "p99 ms", "requests",
               "failed", "load 1 min"], rows)
    mean = {k: sum(v) / len(v) for k, v in rps.items()}
    rep.add("Mean req/s: none %.0f, key %.0f, key+fn %.0f: key+fn / key = %.2fx, "
            "key+fn / none = %.2fx." % (mean["none"], mean["key"], mean["key+fn"],
                                        mean["key+fn"] / mean["key"],
                                        mean["key+fn"] / mean["none"]))
    rep.add()
    results["apiget"] = mean
