"""Shared helpers for the integration tests (Debian's /usr/bin/python3, stdlib only).

A test file looks like:

    import harness as h

    t = h.Tap()

    @t.test("health answers")
    def _():
        status, _, body = h.api("GET", "/api/health", key=None)
        h.check(status == 200, f"status {status}, body {body!r}")

    t.done()

Environment (set by scripts/test.sh): LAMBDA_TEST_VAR, LAMBDA_TEST_PORT,
LAMBDA_TEST_URL, LAMBDA_TEST_KEY (the admin key), LAMBDA_TEST_BUILD. When a
test file runs on its own without them, the harness starts or reuses a stack
in <repo>/var-test on port 18080 (LAMBDA_TEST_PORT) through scripts/stack.sh
and takes its admin key from scripts/admin-key.sh.
"""

import http.client
import json
import os
import subprocess
import sys
import time
import traceback
import urllib.parse
import uuid

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPTS = os.path.join(REPO, "scripts")

VAR = os.path.abspath(os.environ.get("LAMBDA_TEST_VAR") or os.path.join(REPO, "var-test"))
PORT = int(os.environ.get("LAMBDA_TEST_PORT") or "18080")
URL = os.environ.get("LAMBDA_TEST_URL") or f"http://127.0.0.1:{PORT}"
BUILD = os.path.abspath(os.environ.get("LAMBDA_TEST_BUILD") or os.environ.get("LAMBDA_BUILD") or REPO)
CONF = os.path.join(VAR, "lambda.conf")
API_BIN = os.path.join(BUILD, "fcgi-app", "lambda-api")
EXECUTOR_BIN = os.path.join(BUILD, "executor", "lambda-executor")
KEY = os.environ.get("LAMBDA_TEST_KEY") or None

_DEFAULT = object()


class CheckFailed(AssertionError):
    """Raised by check(); a test that raises it is reported `not ok`."""


def check(cond, message="check failed"):
    """Fails the current test with `message` unless `cond` holds."""
    if not cond:
        raise CheckFailed(message)


def check_eq(got, want, what="value"):
    if got != want:
        raise CheckFailed(f"{what}: got {got!r}, want {want!r}")


# ---------------------------------------------------------------- stack


def stack_env():
    """Environment for scripts/*.sh acting on the test stack."""
    env = dict(os.environ)
    env.update(LAMBDA_VAR=VAR, LAMBDA_PORT=str(PORT), LAMBDA_BUILD=BUILD)
    return env


def script(name, *args, timeout=300, check_rc=True):
    """Runs scripts/<name> on the test stack; returns CompletedProcess
    (stdout and stderr as text). Raises CheckFailed on a non-zero exit
    when check_rc."""
    p = subprocess.run(
        [os.path.join(SCRIPTS, name), *args],
        env=stack_env(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if check_rc and p.returncode != 0:
        raise CheckFailed(
            f"scripts/{name} {' '.join(args)} exited {p.returncode}: {p.stderr.strip()[-2000:]}"
        )
    return p


def stack(action, component="all", timeout=300):
    """scripts/stack.sh ACTION COMPONENT on the test stack (start, stop,
    restart, kill, status; mariadb, executor, lighttpd, all)."""
    return script("stack.sh", action, component, timeout=timeout)


def read_pid(name):
    """PID recorded in $VAR/run/<name>.pid, or None."""
    try:
        with open(os.path.join(VAR, "run", f"{name}.pid")) as f:
            pid = int(f.read().strip())
    except (OSError, ValueError):
        return None
    return pid if pid_alive(pid) else None


def pid_alive(pid):
    """True when PID exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def api_workers():
    """PIDs of this stack's FastCGI workers: lambda-api processes whose
    environment names this stack's lambda.conf."""
    pids = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/comm") as f:
                if f.read().strip() != "lambda-api":
                    continue
            with open(f"/proc/{d}/environ", "rb") as f:
                env = f.read().split(b"\0")
        except OSError:
            continue
        if f"LAMBDA_CONF={CONF}".encode() in env and pid_alive(int(d)):
            pids.append(int(d))
    return pids


def ensure_stack():
    """Starts (or reuses) the test stack and sets KEY when the test was not
    started by scripts/test.sh."""
    global KEY
    if KEY is not None:
        return
    stack("start", "all")
    KEY = script("admin-key.sh").stdout.strip()


# ---------------------------------------------------------------- HTTP


def api(method, path, body=None, key=_DEFAULT, headers=None, timeout=30, raw=False):
    """One HTTP request to the test stack.

    body: dict/list (sent as JSON), str or bytes (sent as is), or None.
    key: the Bearer key (default the admin key; None sends no Authorization).
    Returns (status, headers as a dict with lower-case names, body): body is
    parsed JSON when the response says application/json (and raw is false),
    else bytes. Raises OSError (ConnectionError, timeout) when the server
    does not answer."""
    if key is _DEFAULT:
        key = KEY
    hdrs = {}
    data = None
    if body is not None:
        if isinstance(body, (dict, list)):
            data = json.dumps(body).encode()
            hdrs["Content-Type"] = "application/json"
        elif isinstance(body, str):
            data = body.encode()
        else:
            data = bytes(body)
    if key is not None:
        hdrs["Authorization"] = f"Bearer {key}"
    hdrs.update(headers or {})
    u = urllib.parse.urlsplit(URL)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
    try:
        conn.request(method, path, body=data, headers=hdrs)
        r = conn.getresponse()
        payload = r.read()
        rh = {k.lower(): v for k, v in r.getheaders()}
    finally:
        conn.close()
    if not raw and "application/json" in rh.get("content-type", "") and payload:
        try:
            return r.status, rh, json.loads(payload)
        except ValueError:
            pass
    return r.status, rh, payload


def status_of(method, path, **kw):
    """The status of a request, or 0 when the server does not answer."""
    try:
        return api(method, path, **kw)[0]
    except OSError:
        return 0


def wait_until(predicate, timeout=10.0, interval=0.05):
    """Calls predicate until it returns a true value (returned) or timeout
    seconds pass (returns the last value). Exceptions count as false."""
    deadline = time.monotonic() + timeout
    value = None
    while True:
        try:
            value = predicate()
        except Exception:  # noqa: BLE001 - a predicate that raises is "not yet"
            value = None
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


def unique_name(prefix="t"):
    """A function name no other test run uses."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


# ---------------------------------------------------------------- TAP


class Tap:
    """A tiny TAP producer: `ok N - name` / `not ok N - name` with the
    failure as a `#` diagnostic, the plan printed at the end, and an exit
    status that is non-zero when anything failed (77 when all was skipped)."""

    def __init__(self):
        self.n = 0
        self.failed = 0
        self.skipped = 0
        ensure_stack()

    def _emit(self, ok, name, diag=None, directive=None):
        self.n += 1
        line = f"{'ok' if ok else 'not ok'} {self.n} - {name}"
        if directive:
            line += f" # {directive}"
        print(line, flush=True)
        if diag:
            for d in str(diag).rstrip().splitlines():
                print(f"#   {d}", flush=True)

    def ok(self, cond, name, diag=None):
        """Records one result; returns cond."""
        self._emit(bool(cond), name, None if cond else diag)
        if not cond:
            self.failed += 1
        return bool(cond)

    def eq(self, got, want, name):
        return self.ok(got == want, name, f"got {got!r}, want {want!r}")

    def skip(self, name, reason):
        self.skipped += 1
        self._emit(True, name, directive=f"SKIP {reason}")

    def test(self, name):
        """Decorator: runs the function now as one test; a CheckFailed or
        any other exception makes it `not ok` with the reason."""

        def run(fn):
            t0 = time.monotonic()
            try:
                fn()
            except CheckFailed as e:
                self.ok(False, name, str(e))
            except Exception:  # noqa: BLE001 - report, keep going
                self.ok(False, name, traceback.format_exc())
            else:
                self.ok(True, name)
            print(f"#   ({time.monotonic() - t0:.2f} s)", flush=True)
            return fn

        return run

    def figure(self, name, value, unit=""):
        """Reports a measured figure: a `# figure: NAME = VALUE UNIT` line,
        collected by scripts/test.sh into tests/results/figures.md (and into
        README's reliability section with --update-readme). Never pass a
        value that was not measured in this run."""
        if isinstance(value, float):
            value = f"{value:.3g}"
        print(f"# figure: {name} = {value}{(' ' + unit) if unit else ''}", flush=True)

    def skip_all(self, reason):
        """Nothing can run here (something absent): TAP skip, exit 77."""
        print(f"1..0 # SKIP {reason}", flush=True)
        sys.exit(77)

    def done(self):
        print(f"1..{self.n}", flush=True)
        if self.failed:
            print(f"# {self.failed} of {self.n} failed", flush=True)
            sys.exit(1)
        sys.exit(0)
