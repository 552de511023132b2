"""Helpers shared by the reliability tests (test_load_*, test_faults_*,
test_security_*) and tests/soak/: functions, the load generator
(tests/load/lambda-load), the database, processes and the figures that
scripts/reliability-report.py turns into docs/reliability.md.

Stdlib only, on top of harness.py."""

import json
import os
import re
import subprocess
import sys
import tempfile
import time

import harness as h

RESULTS = os.path.join(h.REPO, "tests", "results")
FIGURES = os.path.join(RESULTS, "reliability.jsonl")
LOCAL_CONF = os.path.join(h.VAR, "lambda.local.conf")

PY_ECHO = "def handler(event, context):\n    return {'ok': True, 'n': event.get('n')}\n"
JS_ECHO = "exports.handler = async (event) => ({ok: true, n: event.n});\n"
PY_SLOW = "import time\ndef handler(event, context):\n    time.sleep(0.2)\n    return 'slept'\n"
JS_FAIL = "exports.handler = async () => { throw new TypeError('planned failure'); };\n"
PY_SPIN = "import time\ndef handler(event, context):\n    time.sleep(5)\n    return 'late'\n"
# Appends the event's n to the container's /tmp/seen ({"dump": true} reads
# it back): with concurrency 1 one container serves every call, so its /tmp
# tells how often each event ran.
PY_COUNTER = r'''
import os, time
def handler(event, context):
    if event.get('dump'):
        return open('/tmp/seen').read().split() if os.path.exists('/tmp/seen') else []
    with open('/tmp/seen', 'a') as f:
        f.write('%s\n' % event['n'])
    time.sleep(event.get('s', 0))
    return event['n']
'''


# ---------------------------------------------------------------- figures


def figure(kind, **values):
    """Appends one figure (a JSON line) for the generated reliability report."""
    os.makedirs(RESULTS, exist_ok=True)
    values.update(kind=kind, at=time.strftime("%Y-%m-%d %H:%M:%S"),
                  build="asan" if "asan" in os.path.basename(h.VAR) else "release")
    with open(FIGURES, "a") as f:
        f.write(json.dumps(values) + "\n")
    # headline figures for README's table (scripts/test.sh --update-readme)
    if kind == "load":
        print(f"# figure: {values['conns']} connections: admitted p99 = {values['p99_ms']:.0f} ms "
              f"({values['ok']} x 2xx, {values['s429']} x 429, {values['s5xx']} x 5xx)")
        print(f"# figure: {values['conns']} connections: records lost = "
              f"{values['records_missing']}")
    elif kind == "fault":
        print(f"# figure: {values['name']}: records lost = {values['records_missing']} "
              f"of {values['acknowledged']} acknowledged")
    elif kind == "security":
        print(f"# figure: {values['name']}: attempts = {values.get('tried', 0)} "
              f"({values.get('failed', 0)} failed checks)")
    sys.stdout.flush()


# ---------------------------------------------------------------- database


def sql(query, db="lambda", timeout=20):
    """Runs QUERY as MariaDB's root on the test stack's socket; returns the
    rows as lists of strings. Raises CheckFailed when the client fails."""
    p = subprocess.run(
        ["mariadb", "--no-defaults", f"--socket={h.VAR}/run/mysql.sock", "-uroot", "-N", "-B",
         "--connect-timeout=3", db, "-e", query],
        capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    if p.returncode != 0:
        raise h.CheckFailed(f"mariadb: {p.stderr.strip()}")
    return [line.split("\t") for line in p.stdout.splitlines()]


def records_of(function_ids):
    """{request_id: status} of the invocations of these functions."""
    ids = ",".join(str(int(i)) for i in function_ids)
    rows = sql(f"SELECT request_id, status FROM invocations WHERE function_id IN ({ids})")
    return {r[0]: r[1] for r in rows}


def wait_records(function_ids, want_ids, timeout=15.0):
    """Waits until every request id of WANT_IDS has its invocation row (the
    journal writer flushes every 50 ms); returns (records, missing ids)."""
    want = set(want_ids)
    deadline = time.monotonic() + timeout
    while True:
        try:
            recs = records_of(function_ids)
        except h.CheckFailed:
            recs = {}
        missing = want - recs.keys()
        if not missing or time.monotonic() > deadline:
            return recs, missing
        time.sleep(0.2)


# ---------------------------------------------------------------- functions


def create(code, runtime="python", isolation="docker", prefix="rel", **kw):
    """Creates a function through the API; returns its JSON."""
    body = {"name": h.unique_name(prefix), "runtime": runtime, "code": code,
            "isolation": isolation}
    body.update(kw)
    st, _, j = h.api("POST", "/api/functions", body)
    h.check(st == 201, f"create {body['name']}: {st} {j!r}")
    return j


def invoke(fn, event=None, isolation=None, timeout=60):
    """(status, headers, body) of one invoke call."""
    q = f"?isolation={isolation}" if isolation else ""
    return h.api("POST", f"/api/functions/{fn['name']}/invoke{q}", event or {}, timeout=timeout)


WARM_IDS = []


def warm(fn, isolation=None, n=1):
    """Calls FN until a call is warm (a container is up); fails otherwise.
    The request ids of the calls that succeeded are kept in WARM_IDS."""
    last = None
    for _ in range(5):
        st, _, j = invoke(fn, {"n": 0}, isolation)
        last = (st, j)
        if st == 200:
            WARM_IDS.append(j["request_id"])
            for _ in range(n - 1):
                WARM_IDS.append(invoke(fn, {"n": 0}, isolation)[2]["request_id"])
            return j
        time.sleep(1)
    raise h.CheckFailed(f"warming {fn['name']}: {last!r}")


# ---------------------------------------------------------------- load


def load_binary():
    for d in (h.BUILD, h.REPO):
        p = os.path.join(d, "tests", "load", "lambda-load")
        if os.access(p, os.X_OK):
            return p
    return None


class LoadRun:
    """The outcome of one lambda-load run: summary (dict) and rows, each
    {idx, spec, status, latency_ms, rid, retry_after, body}."""

    def __init__(self, summary, rows, specs):
        self.summary = summary
        self.rows = rows
        self.specs = specs

    def by_status(self):
        out = {}
        for r in self.rows:
            out[r["status"]] = out.get(r["status"], 0) + 1
        return out

    def ok_ids(self):
        return [r["rid"] for r in self.rows if 200 <= r["status"] < 300]

    def bad(self, pred):
        return [r for r in self.rows if pred(r)]


def run_load(specs, conns, seconds, count, timeout=30, rate=0):
    """Runs tests/load/lambda-load against the test stack with the requests
    SPECS (a list of (method, path, body-string)), round-robin."""
    binary = load_binary()
    h.check(binary is not None, "tests/load/lambda-load is not built (make)")
    with tempfile.TemporaryDirectory(prefix="lload-") as d:
        spec_file = os.path.join(d, "specs")
        out_file = os.path.join(d, "out.tsv")
        with open(spec_file, "w") as f:
            for m, p, b in specs:
                f.write(f"{m} {p} {b}\n")
        p = subprocess.run(
            [binary, "-p", str(h.PORT), "-c", str(conns), "-d", str(seconds), "-n", str(count),
             "-s", spec_file, "-o", out_file, "-k", h.KEY, "-t", str(timeout),
             "-r", str(rate)],
            capture_output=True, text=True, timeout=seconds + timeout + 60,
            stdin=subprocess.DEVNULL)
        h.check(p.returncode == 0, f"lambda-load exited {p.returncode}: {p.stderr}")
        summary = json.loads(p.stdout)
        rows = []
        with open(out_file) as f:
            for line in f:
                idx, spec, st, lat, rid, ra, body = line.rstrip("\n").split("\t", 6)
                rows.append({"idx": int(idx), "spec": int(spec), "status": int(st),
                             "latency_ms": int(lat) / 1000.0, "rid": rid if rid != "-" else None,
                             "retry_after": ra if ra != "-" else None, "body": body})
    return LoadRun(summary, rows, specs)


def invoke_spec(fn, event=None, isolation=None):
    q = f"?isolation={isolation}" if isolation else ""
    return ("POST", f"/api/functions/{fn['name']}/invoke{q}", json.dumps(event or {"n": 1}))


def body_status(row):
    """The invocation status from the first bytes of a 200 body."""
    m = re.search(r'"status":\s*"([a-z]+)"', row["body"])
    return m.group(1) if m else None


# ---------------------------------------------------------------- config and processes


def set_local_conf(values):
    """Sets (or, with value None, removes) keys in the stack's
    lambda.local.conf; returns the previous text (or None) to restore."""
    try:
        with open(LOCAL_CONF) as f:
            old = f.read()
    except FileNotFoundError:
        old = None
    lines = [l for l in (old or "").splitlines()
             if l.split("=")[0].strip() not in values]
    lines += [f"{k} = {v}" for k, v in values.items() if v is not None]
    with open(LOCAL_CONF, "w") as f:
        f.write("\n".join(lines) + ("\n" if lines else ""))
    return old


def restore_local_conf(old):
    if old is None:
        try:
            os.unlink(LOCAL_CONF)
        except FileNotFoundError:
            pass
    else:
        with open(LOCAL_CONF, "w") as f:
            f.write(old)


def rss_kb(pid):
    """Resident set size of PID in KiB, or None."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def healthy():
    return h.status_of("GET", "/api/health", key=None) == 200


def wait_healthy(timeout=30):
    return h.wait_until(healthy, timeout, 0.2)


def instance_containers(all_states=True):
    """IDs of the Docker containers labelled with this stack's instance."""
    inst = None
    with open(h.CONF) as f:
        for line in f:
            if line.split("=")[0].strip() == "instance":
                inst = line.split("=", 1)[1].strip()
    h.check(inst, "no instance in lambda.conf")
    args = ["docker", "ps", "-q", "--no-trunc", "--filter", f"label=lambda.instance={inst}"]
    if all_states:
        args.insert(2, "-a")
    p = subprocess.run(args, capture_output=True, text=True, timeout=30)
    return [l for l in p.stdout.split() if l]


class Background:
    """Python threads calling invoke in a loop until stop(): a light load
    during fault injection. Each call is kept as a dict {t0, t1, fn, status,
    rid, code, message} (status 0 = no answer)."""

    def __init__(self, fns, threads=8, timeout=30):
        import threading
        self.fns = fns
        self.calls = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.timeout = timeout
        self.threads = [threading.Thread(target=self._loop, args=(i,), daemon=True)
                        for i in range(threads)]
        for th in self.threads:
            th.start()

    def _loop(self, i):
        n = 0
        while not self.stopping.is_set():
            fn = self.fns[(i + n) % len(self.fns)]
            n += 1
            t0 = time.monotonic()
            try:
                st, hd, j = invoke(fn, {"n": n}, timeout=self.timeout)
            except OSError as e:
                st, hd, j = 0, {}, {"error": {"code": "io", "message": str(e)}}
            c = {"t0": t0, "t1": time.monotonic(), "fn": fn["name"], "status": st,
                 "rid": hd.get("x-request-id"), "retry_after": hd.get("retry-after")}
            if isinstance(j, dict) and isinstance(j.get("error"), dict) and st != 200:
                c["code"] = j["error"].get("code")
                c["message"] = j["error"].get("message")
            elif isinstance(j, dict):
                c["result_status"] = j.get("status")
            else:
                c["message"] = repr(j)[:200]
            with self.lock:
                self.calls.append(c)
            if st != 200:
                time.sleep(0.05)

    def stop(self):
        self.stopping.set()
        for th in self.threads:
            th.join(self.timeout + 10)
        return self.calls

    def ok_ids(self):
        with self.lock:
            return [c["rid"] for c in self.calls if c["status"] == 200 and c["rid"]]


def summarise(calls):
    by = {}
    for c in calls:
        by[c["status"]] = by.get(c["status"], 0) + 1
    return by


# ---------------------------------------------------------------- AWS (SigV4, stdlib)


def aws_invoke(name, payload, invocation_type="RequestResponse", key=None, timeout=30):
    """POST /2015-03-31/functions/NAME/invocations signed with SigV4 by the
    API key (access key id and secret split at the dot); returns
    (status, headers, body bytes)."""
    import datetime
    import hashlib
    import hmac
    import http.client
    akid, secret = (key or h.KEY).split(".", 1)
    body = json.dumps(payload).encode()
    now = datetime.datetime.now(datetime.timezone.utc)
    amz_date, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
    region, service = "us-east-1", "lambda"
    path = f"/2015-03-31/functions/{name}/invocations"
    host = f"127.0.0.1:{h.PORT}"
    hdrs = {"host": host, "x-amz-date": amz_date, "x-amz-invocation-type": invocation_type,
            "content-type": "application/json"}
    signed = ";".join(sorted(hdrs))
    canon = "\n".join(["POST", path, "", "".join(f"{k}:{hdrs[k]}\n" for k in sorted(hdrs)),
                       signed, hashlib.sha256(body).hexdigest()])
    scope = f"{day}/{region}/{service}/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope,
                         hashlib.sha256(canon.encode()).hexdigest()])

    def mac(k, m):
        return hmac.new(k, m.encode(), hashlib.sha256).digest()

    k = mac(mac(mac(mac(("AWS4" + secret).encode(), day), region), service), "aws4_request")
    sig = hmac.new(k, to_sign.encode(), hashlib.sha256).hexdigest()
    hdrs["authorization"] = (f"AWS4-HMAC-SHA256 Credential={akid}/{scope}, "
                             f"SignedHeaders={signed}, Signature={sig}")
    conn = http.client.HTTPConnection("127.0.0.1", h.PORT, timeout=timeout)
    try:
        conn.request("POST", path, body=body, headers=hdrs)
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        conn.close()
