#!/usr/bin/python3
"""A minimal private stack for the API's integration tests: MariaDB,
lighttpd and lambda-api under a var/ directory, on a test port.

It follows ../shared/RECIPES.md and is only a stand-in until the infra
helper's harness.py (scripts/stack.sh) is used: `LAMBDA_TEST_VAR` and
`LAMBDA_TEST_PORT` choose the directory and the port (default
<repo>/var/test-api and 18083).  Command line: apistack.py up|down|env.
Stdlib only (Debian's /usr/bin/python3)."""

import glob
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
VAR = os.path.abspath(os.environ.get("LAMBDA_TEST_VAR", os.path.join(REPO, "var", "test-api")))
PORT = int(os.environ.get("LAMBDA_TEST_PORT", "18083"))
API_BIN = os.path.join(REPO, "fcgi-app", "lambda-api")
SOCK = os.path.join(VAR, "run", "mysql.sock")
CONF = os.path.join(VAR, "lambda.conf")
MAX_REQUEST_KIB = 16384


def _run(cmd, **kw):
    return subprocess.run(cmd, check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, **kw)


def sql(statement, db=None):
    cmd = ["mariadb", "--no-defaults", "-uroot", "-S", SOCK, "-N", "-B", "-e", statement]
    if db:
        cmd.insert(-2, db)
    return _run(cmd).stdout


def _pid(path):
    try:
        with open(path) as f:
            pid = int(f.read().strip())
        os.kill(pid, 0)
        return pid
    except (OSError, ValueError):
        return None


def db_running():
    s = socket.socket(socket.AF_UNIX)
    try:
        s.connect(SOCK)
        return True
    except OSError:
        return False
    finally:
        s.close()


def db_start():
    for d in ("run", "log", "journal", "code"):
        os.makedirs(os.path.join(VAR, d), exist_ok=True)
    if db_running():
        return
    if not os.path.isdir(os.path.join(VAR, "db", "mysql")):
        _run(["mariadb-install-db", "--no-defaults", "--user=root",
              "--datadir=" + os.path.join(VAR, "db"), "--skip-test-db"])
    subprocess.Popen(["mariadbd", "--no-defaults", "--user=root",
                      "--datadir=" + os.path.join(VAR, "db"), "--socket=" + SOCK,
                      "--pid-file=" + os.path.join(VAR, "run", "mysql.pid"),
                      "--skip-networking", "--innodb_flush_log_at_trx_commit=1",
                      "--max_allowed_packet=64M",
                      "--log-error=" + os.path.join(VAR, "log", "mysql.err")],
                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                     stderr=subprocess.DEVNULL, start_new_session=True)
    for _ in range(200):
        if db_running():
            try:
                sql("SELECT 1")
                return
            except subprocess.CalledProcessError:
                pass
        time.sleep(0.05)
    raise RuntimeError("mariadbd did not start; see " + os.path.join(VAR, "log", "mysql.err"))


def db_stop():
    pid = _pid(os.path.join(VAR, "run", "mysql.pid"))
    if pid is None:
        return
    os.kill(pid, signal.SIGTERM)
    for _ in range(300):
        if _pid(os.path.join(VAR, "run", "mysql.pid")) is None and not db_running():
            return
        time.sleep(0.05)


def migrate():
    sql("CREATE DATABASE IF NOT EXISTS lambda")
    sql("CREATE USER IF NOT EXISTS 'lambda'@'localhost' IDENTIFIED BY 'lambda-test'")
    sql("GRANT ALL ON lambda.* TO 'lambda'@'localhost'")
    migrate_sh = os.path.join(REPO, "scripts", "migrate.sh")
    for f in sorted(glob.glob(os.path.join(REPO, "schema", "*.sql"))):
        with open(f) as fh:
            _run(["mariadb", "--no-defaults", "-uroot", "-S", SOCK, "lambda"], input=fh.read())
    return migrate_sh


def write_conf(executor_socket=None):
    lines = [
        "var_dir = " + VAR,
        "log_level = debug",
        "api.db_socket = " + SOCK,
        "api.db_user = lambda",
        "api.db_password = lambda-test",
        "api.threads = 4",
    ]
    if executor_socket:
        lines.append("executor_socket = " + executor_socket)
    with open(CONF, "w") as f:
        f.write("\n".join(lines) + "\n")
    htdocs = os.path.join(VAR, "htdocs")
    os.makedirs(htdocs, exist_ok=True)
    with open(os.path.join(VAR, "lighttpd.conf"), "w") as f:
        f.write(f"""server.bind = "127.0.0.1"
server.port = {PORT}
server.document-root = "{htdocs}"
server.pid-file = "{VAR}/run/lighttpd.pid"
server.errorlog = "{VAR}/log/lighttpd.log"
server.max-request-size = {MAX_REQUEST_KIB}
server.modules += ( "mod_fastcgi" )
fastcgi.server = ( "/api/" => (( "bin-path" => "{API_BIN}", "socket" => "{VAR}/run/api.sock",
   "max-procs" => 2, "check-local" => "disable",
   "bin-copy-environment" => ( "PATH", "ASAN_OPTIONS", "UBSAN_OPTIONS" ),
   "bin-environment" => ( "LAMBDA_CONF" => "{CONF}" ) )) )
""")


def web_running():
    return _pid(os.path.join(VAR, "run", "lighttpd.pid")) is not None


def web_start():
    if web_running():
        return
    log = open(os.path.join(VAR, "log", "api.log"), "ab")
    subprocess.Popen(["lighttpd", "-D", "-f", os.path.join(VAR, "lighttpd.conf")],
                     stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
    for _ in range(200):
        try:
            c = http.client.HTTPConnection("127.0.0.1", PORT, timeout=2)
            c.request("GET", "/api/health")
            c.getresponse().read()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("lighttpd did not start; see " + os.path.join(VAR, "log"))


def _alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def web_stop():
    """Stops lighttpd and waits for its lambda-api workers to finish (they
    flush their journals after lighttpd is gone)."""
    pid = _pid(os.path.join(VAR, "run", "lighttpd.pid"))
    if pid is None:
        return
    workers = api_pids()
    os.kill(pid, signal.SIGTERM)
    for _ in range(400):
        if _pid(os.path.join(VAR, "run", "lighttpd.pid")) is None and \
                not any(_alive(w) for w in workers):
            break
        time.sleep(0.05)


def api_pids():
    """PIDs of the lambda-api processes of this stack (children of lighttpd)."""
    lpid = _pid(os.path.join(VAR, "run", "lighttpd.pid"))
    out = []
    if lpid is None:
        return out
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                st = f.read()
            ppid = int(st.rsplit(")", 1)[1].split()[1])
            exe = os.readlink(f"/proc/{d}/exe")
        except OSError:
            continue
        if ppid == lpid and os.path.basename(exe).startswith("lambda-api"):
            out.append(int(d))
    return out


def admin_key():
    path = os.path.join(VAR, "admin.key")
    if not os.path.exists(path):
        key = _run([API_BIN, "-c", CONF, "--create-key", "admin"]).stdout.strip()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.write(fd, (key + "\n").encode())
        os.close(fd)
    with open(path) as f:
        return f.read().strip()


def up(executor_socket=None):
    if not os.path.exists(API_BIN):
        raise RuntimeError("build first: " + API_BIN + " is missing")
    db_start()
    migrate()
    write_conf(executor_socket)
    web_start()
    return admin_key()


def down():
    web_stop()
    db_stop()


if __name__ == "__main__":
    what = sys.argv[1] if len(sys.argv) > 1 else "up"
    if what == "up":
        print(up())
    elif what == "down":
        down()
    elif what == "env":
        print(f"VAR={VAR}\nPORT={PORT}\nCONF={CONF}")
    else:
        sys.exit("usage: apistack.py up|down|env")
