"""Drives a runtime bootstrap (docker/runtimes/*) over the container protocol of docs/design.md,
as a local subprocess or inside its image through `docker run -i`. Used by
test_bootstrap_python.py, test_bootstrap_node.py and bench/.
"""

import base64
import json
import os
import queue
import shutil
import struct
import subprocess
import threading
import time
import urllib.error

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DOCKER_SOCK = "/var/run/docker.sock"
TEST_LABEL = "lambda.test=bootstrap"


def frame(obj):
    data = json.dumps(obj, separators=(",", ":")).encode("utf-8")
    return struct.pack(">I", len(data)) + data


class ChannelClosed(Exception):
    pass


class Boot:
    """One bootstrap process. Frames it writes are read by a thread into a queue."""

    def __init__(self, argv):
        self.argv = argv
        self.p = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        self.frames = queue.Queue()
        self.stderr = bytearray()
        self.garbage = None  # set when the channel carried something that is not a frame
        self._threads = [threading.Thread(target=self._read_frames, daemon=True),
                         threading.Thread(target=self._read_stderr, daemon=True)]
        for t in self._threads:
            t.start()

    def _read_frames(self):
        out = self.p.stdout
        while True:
            hdr = out.read(4)
            if len(hdr) < 4:
                if hdr:
                    self.garbage = hdr
                break
            (n,) = struct.unpack(">I", hdr)
            body = out.read(n)
            if len(body) < n:
                self.garbage = hdr + body
                break
            try:
                self.frames.put(json.loads(body))
            except ValueError:
                self.garbage = hdr + body[:200]
                break
        self.frames.put(None)

    def _read_stderr(self):
        while True:
            chunk = self.p.stderr.read(65536)
            if not chunk:
                break
            if len(self.stderr) < 1 << 20:
                self.stderr += chunk[: (1 << 20) - len(self.stderr)]

    def send(self, obj):
        self.send_raw(frame(obj))

    def send_raw(self, data):
        self.p.stdin.write(data)
        self.p.stdin.flush()

    def recv(self, timeout=30):
        try:
            f = self.frames.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError("no frame within %ss; stderr: %s" % (timeout, self.stderr[-2000:]))
        if f is None:
            self.frames.put(None)
            raise ChannelClosed(
                "channel closed (garbage %r); stderr: %s" % (self.garbage, self.stderr[-2000:])
            )
        return f

    def request(self, obj, timeout=30):
        self.send(obj)
        return self.recv(timeout)

    def init(self, handler, files, timeout=30, **fields):
        """files: {path: str|bytes}. Extra fields go into the init frame (caps, code_path)."""
        fn = {"id": 1, "name": "fn", "version": 1, "handler": handler, "timeout_ms": 3000,
              "memory_mb": 128}
        fn.update(fields.pop("function", {}))
        msg = {"type": "init", "function": fn, "files": [
            {"path": p, "data": base64.b64encode(d.encode() if isinstance(d, str) else d).decode()}
            for p, d in files.items()
        ]}
        msg.update(fields)
        return self.request(msg, timeout)

    def invoke(self, items, timeout=30):
        """items: list of dicts (id added when missing). Returns the result frames in arrival order."""
        for i, it in enumerate(items):
            it.setdefault("id", "item-%d" % i)
        self.send({"type": "invoke", "items": items})
        return [self.recv(timeout) for _ in items]

    def invoke1(self, event=None, timeout=30, **item):
        item["event"] = event
        return self.invoke([item], timeout)[0]

    def pid_status(self, field):
        """A field of /proc/PID/status of the local process (kB for Vm*), or None."""
        try:
            with open("/proc/%d/status" % self.p.pid) as f:
                for line in f:
                    if line.startswith(field + ":"):
                        return int(line.split()[1])
        except OSError:
            return None
        return None

    def close(self, timeout=30):
        """Closes stdin (EOF between frames) and returns the exit status."""
        try:
            self.p.stdin.close()
        except BrokenPipeError:
            pass
        try:
            rc = self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
            raise AssertionError("bootstrap did not exit after EOF")
        for t in self._threads:  # all it wrote, stderr included, has been read
            t.join(10)
        return rc

    def kill(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()


# -------------------------------------------------------------------------------------------
# Targets: where the bootstrap runs


def docker_cli():
    return "/usr/bin/docker" if os.access("/usr/bin/docker", os.X_OK) else shutil.which("docker")


def docker_answers():
    import http.client
    import socket

    class Conn(http.client.HTTPConnection):
        def connect(self):
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.settimeout(3)
            self.sock.connect(DOCKER_SOCK)

    try:
        c = Conn("localhost", timeout=3)
        c.request("GET", "/_ping")
        return c.getresponse().status == 200
    except (OSError, http.client.HTTPException, urllib.error.URLError):
        return False


def docker_runtimes():
    """Names of the runtimes dockerd knows (runc, runsc, ...)."""
    try:
        out = subprocess.run([docker_cli(), "info", "--format", "{{json .Runtimes}}"],
                             capture_output=True, timeout=20, check=True).stdout
        return set(json.loads(out).keys())
    except (subprocess.SubprocessError, ValueError, OSError):
        return set()


_built = None


def build_images():
    """Runs scripts/build-images.sh (a no-op when current) and returns {name: content tag}."""
    global _built
    if _built is None:
        r = subprocess.run([os.path.join(REPO, "scripts", "build-images.sh")],
                           capture_output=True, text=True, timeout=900)
        if r.returncode != 0:
            raise RuntimeError("build-images.sh failed: " + r.stderr[-2000:])
        _built = {}
        for tag in r.stdout.split():
            name, version = tag.split(":")
            if version != "latest":
                _built[name] = tag
    return _built


def docker_argv(image, runtime="runc", memory="128m", extra=()):
    """The container a warm bootstrap runs in: the executor's limits (issue 3), stdio attached."""
    argv = [docker_cli(), "run", "-i", "--rm", "--network", "none", "--user", "1000:1000",
            "--label", TEST_LABEL, "--runtime", runtime, "--memory", memory,
            "--memory-swap", memory, "--pids-limit", "128", "--read-only",
            "--tmpfs", "/tmp:size=64m,mode=1777", "--cap-drop", "ALL",
            "--security-opt", "no-new-privileges", "--ulimit", "nofile=1024:1024"]
    argv += list(extra)
    argv.append(image)
    return argv


def targets(image_name, local_argv):
    """[(label, argv or None, skip reason)]: local interpreter, image under runc and runsc."""
    out = [("local", local_argv, None)]
    if not docker_answers():
        reason = "docker engine not reachable on " + DOCKER_SOCK
        return out + [("runc", None, reason), ("runsc", None, reason)]
    try:
        image = build_images()[image_name]
    except (RuntimeError, KeyError, OSError, subprocess.SubprocessError) as e:
        return out + [("runc", None, str(e)), ("runsc", None, str(e))]
    known = docker_runtimes()
    for rt in ("runc", "runsc"):
        if rt in known:
            out.append((rt, docker_argv(image, rt), None))
        else:
            out.append((rt, None, "dockerd has no %s runtime" % rt))
    return out


def timed(fn, *args):
    t0 = time.perf_counter()
    r = fn(*args)
    return r, (time.perf_counter() - t0) * 1000
