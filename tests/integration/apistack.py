"""The API tests' view of the test stack, on top of harness.py (which drives
scripts/stack.sh): start what the API needs, reach MariaDB as root, point
lambda-api at another executor socket (lambda.local.conf), stop and start
single components.  Environment as for harness.py: LAMBDA_TEST_VAR,
LAMBDA_TEST_PORT (the API helper develops with var/test-api and 18083).
Stdlib only."""

import os
import subprocess
import sys

sys.dont_write_bytecode = True
import harness as h  # noqa: E402

VAR = h.VAR
PORT = h.PORT
SOCK = os.path.join(VAR, "run", "mysql.sock")
LOCAL_CONF = os.path.join(VAR, "lambda.local.conf")
_MARK = "# api tests: "


def sql(statement, db=None):
    """Runs SQL as MariaDB's root (unix_socket auth); returns the output."""
    cmd = ["mariadb", "--no-defaults", "-uroot", "-S", SOCK, "-N", "-B"]
    if db:
        cmd.append(db)
    return subprocess.run(cmd + ["-e", statement], check=True, capture_output=True,
                          text=True).stdout


def set_local_conf(key, value):
    """Adds (or removes, value None) our override of key in lambda.local.conf;
    returns whether the file changed (it takes effect when lighttpd starts)."""
    try:
        with open(LOCAL_CONF) as f:
            lines = f.read().splitlines()
    except FileNotFoundError:
        lines = []
    keep, skip = [], False
    for ln in lines:
        if ln == _MARK + key:
            skip = True  # our marker, and the line after it
            continue
        if skip:
            skip = False
            continue
        keep.append(ln)
    if value is not None:
        keep += [_MARK + key, f"{key} = {value}"]
    if keep == lines:
        return False
    with open(LOCAL_CONF, "w") as f:
        f.write("\n".join(keep) + ("\n" if keep else ""))
    return True


def _set_executor_socket(path):
    return set_local_conf("executor_socket", path or None)


def up(executor_socket=None):
    """Makes sure MariaDB and lighttpd (with lambda-api) run, with lambda-api
    talking to executor_socket (None: the stack's own executor); returns the
    admin key.  The executor itself is started only when the stack is
    started as a whole by the harness."""
    os.makedirs(VAR, exist_ok=True)
    changed = _set_executor_socket(executor_socket)
    exe = h.EXECUTOR_BIN
    if h.KEY is None and executor_socket is None and os.access(exe, os.X_OK):
        h.ensure_stack()
    else:
        h.stack("start", "mariadb")
        if changed:
            h.stack("stop", "lighttpd")
        h.stack("start", "lighttpd")
        if h.KEY is None:
            h.KEY = h.script("admin-key.sh").stdout.strip()
    return h.KEY


def db_start():
    h.stack("start", "mariadb")


def db_stop():
    h.stack("stop", "mariadb")


def web_start():
    h.stack("start", "lighttpd")


def web_stop():
    """Stops lighttpd; stack.sh waits for the lambda-api workers too (they
    flush their journals on the way out)."""
    h.stack("stop", "lighttpd")


def api_pids():
    return h.api_workers()
