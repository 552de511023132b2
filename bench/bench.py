#!/usr/bin/python3
"""Runs the benchmarks of issues 3 and 4 and writes a Markdown report (bench/run.sh calls it).

    bench.py [--quick] [--only SECTION,...] [--out FILE] [--command TEXT]

Sections: baseline (docker run --rm per call), bootstrap (cold start and warm round trip of the
bootstraps through `docker run -i`, batching), memory (idle warm containers), platform (cold
no-pool / pre-warmed / warm through a real executor), stack (cold no-pool calls and timeout
enforcement over HTTP through the full stack), wrk (warm throughput through lighttpd),
apiget (authenticated GET /api/functions/NAME through lighttpd, API-key and function caches
off vs on).
Every figure printed was measured in this run; ratios compare figures of this same run.
"""

import argparse
import datetime
import os
import platform
import signal
import subprocess
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bootstrap_bench as bb  # noqa: E402

bd = bb.bd
SECTIONS = ["baseline", "bootstrap", "memory", "platform", "stack", "wrk", "apiget"]
LANGS = ["python", "node"]


class Report:
    def __init__(self):
        self.lines = []

    def add(self, text=""):
        self.lines.append(text)
        print(text, flush=True)

    def table(self, header, rows):
        self.add("| " + " | ".join(header) + " |")
        self.add("|" + "---|" * len(header))
        for r in rows:
            self.add("| " + " | ".join(str(c) for c in r) + " |")
        self.add()


def ms(v):
    return "%.2f" % v if v is not None else "-"


def sh(*argv):
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "?"


def machine(rep):
    with open("/proc/loadavg") as f:
        load = " ".join(f.read().split()[:3])
    rep.add("## Machine")
    rep.add()
    rep.add("- %s, %s CPUs, kernel %s, %s" % (sh("sh", "-c", ". /etc/os-release; echo $PRETTY_NAME"),
                                              os.cpu_count(), platform.release(),
                                              sh("sh", "-c", "free -m | awk '/Mem:/{print $2\" MiB RAM\"}'")))
    rep.add("- docker engine %s; runtimes: %s" % (
        sh(bd.docker_cli(), "version", "--format", "{{.Server.Version}}"),
        ", ".join(sorted(bd.docker_runtimes()))))
    rep.add("- load average at start: %s (the machine is shared with other work: figures are "
            "noisy, ratios are measured side by side in this run)" % load)
    rep.add()


def images():
    return bd.build_images()


def run_baseline(rep, cfg, results):
    rep.add("## Baseline: `docker run --rm` per call (the seed's design)")
    rep.add()
    rep.add("`docker run --rm --network none --runtime RT IMAGE python3 -c 'print(1)'` "
            "(node: `node -e 'console.log(1)'`), %d calls each, wall time per call." % cfg.n_cold)
    rep.add()
    rows = []
    for lang in LANGS:
        for rt in cfg.runtimes:
            s = bb.baseline(images()["lambda-" + lang], rt, lang, cfg.n_cold)
            results[("baseline", lang, rt)] = s
            rows.append([lang, rt, ms(s["p50"]), ms(s["p99"]), ms(s["min"]), ms(s["max"])])
    rep.table(["runtime", "isolation", "p50 ms", "p99 ms", "min ms", "max ms"], rows)


def run_bootstrap(rep, cfg, results):
    rep.add("## Bootstraps through `docker run -i` stdio (no executor)")
    rep.add()
    rep.add("cold = from `docker run -i` to the first result (container start, bootstrap, init, "
            "call; %d runs); warm = round trip of one call to an initialised bootstrap, one at a "
            "time (%d calls); cpu10 = a handler burning 10 ms of CPU. Containers run with the "
            "executor's limits (128 MiB, pids 128, read-only, cap-drop ALL)." % (cfg.n_cold,
                                                                                 cfg.n_warm))
    rep.add()
    rows = []
    for lang in LANGS:
        for rt in cfg.runtimes:
            img = images()["lambda-" + lang]
            c = bb.cold(img, rt, lang, cfg.n_cold)
            w = bb.warm(img, rt, lang, cfg.n_warm)
            cpu = bb.warm(img, rt, lang, max(20, cfg.n_warm // 10), handler_key=2)
            results[("boot_cold", lang, rt)] = c
            results[("boot_warm", lang, rt)] = w
            base = results.get(("baseline", lang, rt))
            ratio = "%.0fx" % (base["p50"] / w["p50"]) if base else "-"
            rows.append([lang, rt, ms(c["p50"]), ms(c["p99"]), ms(w["p50"]), ms(w["p99"]),
                         ms(cpu["p50"]), ratio])
    rep.table(["runtime", "isolation", "cold p50", "cold p99", "warm p50", "warm p99",
               "cpu10 warm p50", "baseline p50 / warm p50"], rows)
    rows = []
    for lang in LANGS:
        for rt in cfg.runtimes:
            b = bb.batch(images()["lambda-" + lang], rt, lang)
            rows.append([lang, rt, "%.0f" % b["single_per_s"], "%.0f" % b["batched_per_s"],
                         "%.1fx" % (b["batched_per_s"] / b["single_per_s"])])
    rep.add("Batching inside one container: 64 hello calls as 64 frames one after the other vs "
            "one invoke frame of 64 items (20 rounds).")
    rep.add()
    rep.table(["runtime", "isolation", "single calls/s", "batched calls/s", "gain"], rows)


def run_memory(rep, cfg, results):
    rep.add("## Idle memory per warm container")
    rep.add()
    rep.add("%d initialised containers per row, idle 2 s; cgroup = `docker stats` memory usage "
            "per container; MemAvailable = drop of the host's MemAvailable per container (noisy "
            "on a shared machine: other work starts and stops meanwhile, so it is shown but not "
            "used). Fit in 24 GiB = 24 GiB / cgroup usage (for runsc the container's cgroup "
            "holds the whole sandbox: Sentry, gofer and the guest memory file)." % cfg.n_mem)
    rep.add()
    rows = []
    for lang in LANGS:
        for rt in cfg.runtimes:
            m = bb.memory(images()["lambda-" + lang], rt, lang, cfg.n_mem)
            per = m["cgroup_mib"] or 0
            rows.append([lang, rt, ms(m["cgroup_mib"]), ms(m["memavail_mib"]),
                         "%d" % (24 * 1024 / per) if per > 0 else "-"])
    rep.table(["runtime", "isolation", "cgroup MiB", "MemAvailable MiB", "fit in 24 GiB"], rows)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="fewer samples (a smoke run)")
    ap.add_argument("--only", default=",".join(SECTIONS))
    ap.add_argument("--out", default=None)
    ap.add_argument("--command", default=" ".join(sys.argv))
    ap.add_argument("--langs", default="python,node", help="wrk rows: runtimes to run")
    ap.add_argument("--isolations", default="runc,runsc", help="wrk rows: runc, runsc or both")
    ap.add_argument("--batching", default="off,on", help="wrk rows: off, on or both")
    ap.add_argument("--conns", default="1,32,128", help="wrk rows: connection counts")
    ap.add_argument("--rounds", type=int, default=1,
                    help="wrk rows: run the off and on phases this many times, alternating")
    cfg = ap.parse_args()
    cfg.n_cold = 5 if cfg.quick else 20
    cfg.n_warm = 200 if cfg.quick else 2000
    cfg.n_mem = 2 if cfg.quick else 4
    cfg.n_timeout = 2 if cfg.quick else 5
    cfg.seconds = 3 if cfg.quick else 10
    cfg.warmup = 2 if cfg.quick else 5
    only = [s for s in cfg.only.split(",") if s]
    bad = [s for s in only if s not in SECTIONS]
    if bad:
        ap.error("unknown section(s): %s (known: %s)" % (",".join(bad), ",".join(SECTIONS)))
    def interrupted(signum, frame):
        raise KeyboardInterrupt("signal %d" % signum)

    # SIGTERM too unwinds through the finally blocks that stop executors and stacks
    signal.signal(signal.SIGTERM, interrupted)
    if not bd.docker_answers():
        sys.exit("bench: docker engine not reachable on %s" % bd.DOCKER_SOCK)
    cfg.runtimes = [rt for rt in ("runc", "runsc") if rt in bd.docker_runtimes()]
    cfg.langs = [x for x in cfg.langs.split(",") if x]
    cfg.wrk_runtimes = [x for x in cfg.isolations.split(",") if x in cfg.runtimes]
    cfg.batching = [x for x in cfg.batching.split(",") if x]
    try:
        cfg.conns = [int(x) for x in cfg.conns.split(",") if x]
    except ValueError:
        ap.error("--conns: a comma-separated list of integers")
    if (not set(cfg.langs) <= set(LANGS) or not set(cfg.batching) <= {"off", "on"}
            or not cfg.conns or min(cfg.conns) < 1 or not 1 <= cfg.rounds <= 20):
        ap.error("--langs python,node; --batching off,on; --conns positive integers; "
                 "--rounds 1-20")

    rep = Report()
    rep.add("# Benchmarks %s" % datetime.datetime.now().strftime("%Y-%m-%d %H:%M"))
    rep.add()
    rep.add("Command: `%s`" % cfg.command)
    rep.add()
    machine(rep)
    rep.add("Images: %s" % ", ".join(sorted(images().values())))
    # the platform runs these exact images, not whatever :latest points at on a shared engine
    os.environ["LAMBDA_IMAGE_PYTHON"] = images()["lambda-python"]
    os.environ["LAMBDA_IMAGE_NODE"] = images()["lambda-node"]
    rep.add()
    results = {}
    failed = []
    t0 = time.monotonic()
    for name in SECTIONS:
        if name not in only:
            continue
        fn = globals().get("run_" + name)
        if fn is None:
            import platform_bench

            fn = getattr(platform_bench, "run_" + name)
        try:
            fn(rep, cfg, results)
        except Exception:  # a section that cannot run is reported, the others still run
            failed.append(name)
            rep.add("Section %s failed:" % name)
            rep.add()
            rep.add("```")
            rep.add(traceback.format_exc().rstrip())
            rep.add("```")
            rep.add()
    with open("/proc/loadavg") as f:
        load = " ".join(f.read().split()[:3])
    rep.add("Total bench time: %.0f s; load average at the end: %s." % (time.monotonic() - t0,
                                                                     load))
    if cfg.out:
        with open(cfg.out, "w") as f:
            f.write("\n".join(rep.lines) + "\n")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
