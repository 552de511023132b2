"""Benchmarks that need only the Docker engine and the runtime images (no stack):

  baseline   `docker run --rm --network none IMAGE python3 -c ...` per call: the seed's design
  cold       a new `docker run -i` container with the bootstrap: start + init + first call
  warm       calls to an initialised bootstrap over `docker run -i` stdio (one at a time)
  batch      64 calls as one invoke frame vs 64 frames one after the other
  memory     memory of idle initialised containers (cgroup usage and MemAvailable drop)

Each returns rows for the report (bench/report.py); nothing here invents a figure.
"""

import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
import bootstrap_driver as bd  # noqa: E402

BENCH_LABEL = "lambda.bench=bootstrap"

# The two functions of issue 4: hello world and ~10 ms of CPU.
CODE = {
    "python": ("main.py", "main.handler", "main.cpu10", r'''
import time
def handler(event, context):
    return {"hello": event}
def cpu10(event, context):
    end = time.process_time() + 0.010
    n = 0
    while time.process_time() < end:
        n += 1
    return n
'''),
    "node": ("index.js", "index.handler", "index.cpu10", r'''
exports.handler = async (event) => ({ hello: event });
exports.cpu10 = async () => {
  const used = () => { const u = process.cpuUsage(); return u.user + u.system; };
  const end = used() + 10000;
  let n = 0;
  while (used() < end) n++;
  return n;
};
'''),
}

BASELINE_CMD = {
    "python": ["python3", "-c", "print(1)"],
    "node": ["node", "-e", "console.log(1)"],
}


def percentile(values, p):
    """Nearest-rank percentile of a non-empty list."""
    v = sorted(values)
    k = max(0, min(len(v) - 1, int(-(-p * len(v) // 100)) - 1))
    return v[k]


def stats(values):
    return {"n": len(values), "p50": percentile(values, 50), "p99": percentile(values, 99),
            "min": min(values), "max": max(values)}


def container_argv(image, runtime, memory="128m"):
    argv = bd.docker_argv(image, runtime, memory)
    i = argv.index("--label")
    argv[i + 1] = BENCH_LABEL
    return argv


def baseline(image, runtime, lang, n):
    """Wall time of `docker run --rm` of a one-line program, per call (ms)."""
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        subprocess.run([bd.docker_cli(), "run", "--rm", "--network", "none", "--runtime", runtime,
                        "--label", BENCH_LABEL, image] + BASELINE_CMD[lang],
                       check=True, capture_output=True)
        times.append((time.perf_counter() - t0) * 1000)
    return stats(times)


def start(image, runtime, lang, handler_key=1):
    """A container with the bootstrap, initialised with the hello (1) or cpu10 (2) handler."""
    fname, *handlers, code = CODE[lang]
    b = bd.Boot(container_argv(image, runtime))
    r = b.init(handlers[handler_key - 1], {fname: code}, timeout=60)
    if r["type"] != "init_ok":
        b.kill()
        raise RuntimeError("init failed: %r" % r)
    return b


def cold(image, runtime, lang, n):
    """From `docker run -i` to the first result: container start + bootstrap + init + call."""
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        b = start(image, runtime, lang)
        r = b.invoke1({"n": 1})
        times.append((time.perf_counter() - t0) * 1000)
        b.close()
        if not r["ok"]:
            raise RuntimeError("cold call failed: %r" % r)
    return stats(times)


def warm(image, runtime, lang, n, handler_key=1):
    """Round trip of one call to an initialised bootstrap (ms), n calls in a row."""
    b = start(image, runtime, lang, handler_key)
    try:
        for _ in range(min(20, n)):  # warm-up: imports, JIT
            b.invoke1({"n": 0})
        times = []
        for i in range(n):
            t0 = time.perf_counter()
            r = b.invoke1({"n": i})
            times.append((time.perf_counter() - t0) * 1000)
            if not r["ok"]:
                raise RuntimeError("warm call failed: %r" % r)
        return stats(times)
    finally:
        b.close()


def batch(image, runtime, lang, size=64, rounds=20):
    """Calls per second: `size` calls as one invoke frame vs `size` single-item frames."""
    b = start(image, runtime, lang)
    try:
        b.invoke([{"event": i} for i in range(size)])
        t0 = time.perf_counter()
        for _ in range(rounds):
            res = b.invoke([{"event": i} for i in range(size)])
            assert all(r["ok"] for r in res)
        batched = size * rounds / (time.perf_counter() - t0)
        t0 = time.perf_counter()
        for _ in range(rounds):
            for i in range(size):
                assert b.invoke1(i)["ok"]
        single = size * rounds / (time.perf_counter() - t0)
        return {"batched_per_s": batched, "single_per_s": single, "size": size}
    finally:
        b.close()


def mem_available_kb():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1])
    raise RuntimeError("no MemAvailable")


def _bytes(text):
    units = {"B": 1, "KiB": 1024, "MiB": 1 << 20, "GiB": 1 << 30, "kB": 1000, "MB": 10**6,
             "GB": 10**9}
    for u in sorted(units, key=len, reverse=True):
        if text.endswith(u):
            return float(text[: -len(u)]) * units[u]
    return float(text)


def memory(image, runtime, lang, k=4):
    """Idle initialised containers: cgroup usage per container (docker stats) and the drop in
    MemAvailable per container. The second is noisy on a shared machine: both are reported."""
    before = mem_available_kb()
    boots = []
    try:
        for _ in range(k):
            b = start(image, runtime, lang)
            assert b.invoke1({"n": 1})["ok"]
            boots.append(b)
        time.sleep(2)
        after = mem_available_kb()
        out = subprocess.run([bd.docker_cli(), "stats", "--no-stream", "--format",
                              "{{.Container}} {{.MemUsage}}", "--no-trunc"],
                             capture_output=True, text=True, check=True).stdout
        ids = set(subprocess.run([bd.docker_cli(), "ps", "-q", "--no-trunc", "--filter",
                                  "label=" + BENCH_LABEL], capture_output=True, text=True,
                                 check=True).stdout.split())
        usage = [_bytes(line.split()[1]) for line in out.splitlines()
                 if line.split() and any(i.startswith(line.split()[0]) for i in ids)]
        return {"k": k, "cgroup_mib": (sum(usage) / len(usage) / (1 << 20)) if usage else None,
                "memavail_mib": (before - after) / k / 1024}
    finally:
        for b in boots:
            b.close()
