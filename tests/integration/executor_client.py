"""A small client for lambda-executor's socket (docs/design.md, "Executor
protocol") and helpers to run a private executor for a test.

Stdlib only; Debian's /usr/bin/python3.  Each test_executor_*.py /
test_limits_*.py / test_pools_*.py uses it and prints TAP.
"""
import hashlib
import itertools
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402


class Tap(harness.Tap):
    """harness.Tap without its test stack: these tests start their own executor."""

    def __init__(self):  # pylint: disable=super-init-not-called
        self.n = 0
        self.failed = 0
        self.skipped = 0


def skip_all(reason):
    Tap().skip_all(reason)


HDR = struct.Struct(">BBHIQ")
TYPES = {"INVOKE": 1, "RESULT": 2, "POOLS": 3, "POOLS_REPLY": 4, "DRAIN": 5,
         "DRAIN_REPLY": 6, "PING": 7, "PONG": 8, "STATS": 9, "STATS_REPLY": 10,
         "ERROR": 11}
NAMES = {v: k for k, v in TYPES.items()}
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# scripts/test.sh sets LAMBDA_TEST_BUILD (the ASan build in its second pass)
BINARY = os.environ.get("LAMBDA_EXECUTOR_BIN", harness.EXECUTOR_BIN)
DOCKER_SOCK = "/var/run/docker.sock"


class Client:
    """One connection; one request at a time (as the protocol says)."""

    _ids = itertools.count(1)

    def __init__(self, path, timeout=120):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)

    def close(self):
        self.sock.close()

    def _recv(self, n):
        b = b""
        while len(b) < n:
            c = self.sock.recv(n - len(b))
            if not c:
                raise ConnectionError("executor closed the connection")
            b += c
        return b

    def send_raw(self, data):
        self.sock.sendall(data)

    def read_frame(self):
        ver, typ, flags, length, rid = HDR.unpack(self._recv(HDR.size))
        payload = self._recv(length)
        return NAMES.get(typ, typ), rid, json.loads(payload) if payload else None

    def request(self, typ, payload):
        rid = next(self._ids)
        data = json.dumps(payload).encode()
        self.sock.sendall(HDR.pack(1, TYPES[typ], 0, len(data), rid) + data)
        rtyp, rrid, body = self.read_frame()
        assert rrid == rid, "reply for request %d, expected %d" % (rrid, rid)
        return rtyp, body


def docker_api(method, path, body=None):
    """A minimal Docker Engine API call over the unix socket (for checks)."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(DOCKER_SOCK)
    data = json.dumps(body).encode() if body is not None else b""
    req = "%s /v1.41%s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n" % (method, path)
    if body is not None:
        req += "Content-Type: application/json\r\n"
    req += "Content-Length: %d\r\n\r\n" % len(data)
    s.sendall(req.encode() + data)
    out = b""
    while True:
        c = s.recv(65536)
        if not c:
            break
        out += c
    s.close()
    head, _, rest = out.partition(b"\r\n\r\n")
    status = int(head.split()[1])
    if b"chunked" in head.lower():
        body_b = b""
        while rest:
            line, _, rest = rest.partition(b"\r\n")
            n = int(line.split(b";")[0], 16)
            if n == 0:
                break
            body_b += rest[:n]
            rest = rest[n + 2:]
        rest = body_b
    try:
        return status, json.loads(rest) if rest.strip() else None
    except ValueError:
        return status, rest


def containers_with_label(label):
    q = json.dumps({"label": [label]})
    import urllib.parse
    st, body = docker_api("GET", "/containers/json?all=1&filters=" + urllib.parse.quote(q))
    return body if st == 200 else []


def docker_available():
    try:
        st, _ = docker_api("GET", "/_ping")
        return st == 200
    except OSError:
        return False


def image_exists(name):
    try:
        st, _ = docker_api("GET", "/images/%s/json" % name)
        return st == 200
    except OSError:
        return False


def runtime_registered(name):
    st, info = docker_api("GET", "/info")
    return st == 200 and name in (info.get("Runtimes") or {})


class Executor:
    """A private lambda-executor with its own var dir and configuration."""

    def __init__(self, **conf):
        self.var = tempfile.mkdtemp(prefix="lambda-exec-test-")
        os.chmod(self.var, 0o755)
        for d in ("run", "log", "code"):
            os.makedirs(os.path.join(self.var, d))
        os.chmod(os.path.join(self.var, "code"), 0o755)
        self.instance = hashlib.sha256(self.var.encode()).hexdigest()[:12]
        # the function containers' seccomp profile, as stack.sh writes it
        subprocess.run([os.path.join(harness.REPO, "scripts", "seccomp.sh"),
                        os.path.join(self.var, "run", "seccomp.json")], check=True)
        self.conf_path = os.path.join(self.var, "lambda.conf")
        self.socket = os.path.join(self.var, "run", "executor.sock")
        base = {
            "var_dir": self.var,
            "instance": self.instance,
            "log_level": "info",
            "executor.prewarm_min": "0",
            "executor.image_python": image_for("python"),
            "executor.image_node": image_for("javascript"),
        }
        base.update({k.replace("__", "."): str(v) for k, v in conf.items()})
        self.conf = base
        self.proc = None
        self.fn_ids = itertools.count(1000)
        self.write_conf()

    def write_conf(self):
        with open(self.conf_path, "w") as f:
            f.write("# written by tests/integration/executor_client.py\n")
            for k, v in self.conf.items():
                f.write("%s = %s\n" % (k, v))
            f.write("api.threads = 4\n")  # the API's keys are ignored by the executor

    def start(self, wait=True):
        self.log = open(os.path.join(self.var, "log", "executor.log"), "ab")
        self.proc = subprocess.Popen([BINARY, "-c", self.conf_path], stdout=self.log,
                                     stderr=self.log)
        if wait:
            deadline = time.time() + 20
            while time.time() < deadline:
                if os.path.exists(self.socket):
                    try:
                        c = Client(self.socket)
                        c.close()
                        return self
                    except OSError:
                        pass
                if self.proc.poll() is not None:
                    raise RuntimeError("executor exited: %s" % self.read_log()[-2000:])
                time.sleep(0.05)
            raise RuntimeError("executor did not come up")
        return self

    def read_log(self):
        with open(os.path.join(self.var, "log", "executor.log"), errors="replace") as f:
            return f.read()

    def rss_kb(self):
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return -1

    def sanitized(self):
        with open("/proc/%d/maps" % self.proc.pid) as f:
            return "libasan" in f.read()

    def stop(self, sig=signal.SIGTERM, timeout=60):
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        rc = self.proc.returncode
        self.proc = None
        self.log.close()
        return rc

    def cleanup(self):
        self.stop()
        for c in containers_with_label("lambda.instance=" + self.instance):
            docker_api("DELETE", "/containers/%s?force=1" % c["Id"])
        shutil.rmtree(self.var, ignore_errors=True)

    def client(self):
        return Client(self.socket)

    def function(self, files, runtime="python", handler=None, timeout_ms=3000, memory_mb=128,
                 name=None, fid=None, version=1, **extra):
        """Writes code files under var/code/<sha256> and returns the INVOKE "function"."""
        h = hashlib.sha256()
        for p in sorted(files):
            h.update(p.encode() + b"\0" + files[p].encode() + b"\0")
        sha = h.hexdigest()
        d = os.path.join(self.var, "code", sha)
        if not os.path.isdir(d):
            os.makedirs(d)
            for p, text in files.items():
                full = os.path.join(d, p)
                os.makedirs(os.path.dirname(full), exist_ok=True)
                with open(full, "w") as f:
                    f.write(text)
                os.chmod(full, 0o644)
            os.chmod(d, 0o755)
        if handler is None:
            handler = "main.handler" if runtime == "python" else "index.handler"
        fid = fid if fid is not None else next(self.fn_ids)
        fn = {"id": fid, "name": name or "f%d" % fid, "version": version, "runtime": runtime,
              "handler": handler, "style": "aws", "code_sha256": sha, "code_dir": d,
              "timeout_ms": timeout_ms, "memory_mb": memory_mb, "env": {}, "concurrency": 0}
        fn.update(extra)
        return fn

    def invoke(self, fn, event=None, isolation="docker", client=None, args=None):
        req = {"request_id": str(uuid.uuid4()), "function": fn, "isolation": isolation,
               "event": event}
        if args is not None:
            req["args"] = args
        c = client or self.client()
        try:
            t0 = time.time()
            typ, body = c.request("INVOKE", req)
            body = body or {}
            body["_elapsed"] = time.time() - t0
            body["_type"] = typ
            return body
        finally:
            if client is None:
                c.close()


def pools(ex):
    """The executor's POOLS reply."""
    c = ex.client()
    try:
        return c.request("POOLS", {})[1]
    finally:
        c.close()


def concurrent(ex, fn, events, iso, gap=0.02):
    """Invokes fn once per event, each from its own thread, gap seconds apart;
    returns the replies in the order of events."""
    out = [None] * len(events)

    def go(i):
        out[i] = ex.invoke(fn, events[i], iso)
    ths = []
    for i in range(len(events)):
        th = threading.Thread(target=go, args=(i,))
        th.start()
        ths.append(th)
        time.sleep(gap)
    for th in ths:
        th.join(120)
    return out


def isolations():
    """Which isolations to test: both unless LAMBDA_TEST_ISOLATION says one."""
    only = os.environ.get("LAMBDA_TEST_ISOLATION")
    return [only] if only else ["docker", "gvisor"]


_TAGS = {}


def image_for(runtime):
    """This checkout's content tag for the runtime's image (scripts/build-images.sh
    --print-tags), unless LAMBDA_IMAGE_PYTHON / LAMBDA_IMAGE_NODE say otherwise:
    :latest is machine-wide and may be another checkout's."""
    env = os.environ.get("LAMBDA_IMAGE_PYTHON" if runtime == "python" else "LAMBDA_IMAGE_NODE")
    if env:
        return env
    if not _TAGS:
        repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        out = subprocess.run([os.path.join(repo, "scripts", "build-images.sh"), "--print-tags"],
                             check=True, capture_output=True, text=True).stdout
        for line in out.splitlines():
            rt, tag = line.split()
            _TAGS[rt] = tag
    return _TAGS["python" if runtime == "python" else "node"]


def require_stack(runtimes=("python",)):
    """Skips the whole file (exit 77) when the executor, docker or an image is missing."""
    if not os.path.exists(BINARY):
        skip_all("%s not built" % BINARY)
    if not docker_available():
        skip_all("docker engine not reachable on %s" % DOCKER_SOCK)
    for rt in runtimes:
        if not image_exists(image_for(rt)):
            skip_all("image %s missing (scripts/build-images.sh builds it)" % image_for(rt))
    if "gvisor" in isolations() and not runtime_registered("runsc-lambda"):
        skip_all("runtime runsc-lambda is not registered with dockerd (scripts/deps.sh does it)")


def wait_for(cond, timeout=20, step=0.1):
    """Polls cond() until it is true or timeout seconds pass; returns its last value."""
    deadline = time.time() + timeout
    while True:
        v = cond()
        if v or time.time() > deadline:
            return v
        time.sleep(step)


def container_gone(full_or_short_id):
    st, _ = docker_api("GET", "/containers/%s/json" % full_or_short_id)
    return st == 404


def host_pids_in_container(full_id):
    """Host processes whose cgroup names the container (runc and runsc alike)."""
    pids = []
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open("/proc/%s/cgroup" % p) as f:
                if full_id in f.read():
                    pids.append(int(p))
        except OSError:
            pass
    return pids
