#!/usr/bin/python3
"""lambda-api's command line: -t (configuration check), --create-key, --help,
and the configuration errors it names."""

import os
import re
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import apistack  # noqa: E402
import harness as h  # noqa: E402
from apitest import Api, Tap  # noqa: E402

t = Tap()
apistack.up()
BIN, CONF = h.API_BIN, h.CONF


def run(*args, env=None):
    p = subprocess.run([BIN, *args], capture_output=True, text=True, timeout=30,
                       env=env if env is not None else dict(os.environ), stdin=subprocess.DEVNULL)
    return p.returncode, p.stdout, p.stderr


rc, out, err = run("-c", CONF, "-t")
t.eq((rc, out), (0, "configuration OK\n"), "-t on the stack's configuration")
env = dict(os.environ, LAMBDA_CONF=CONF)
t.eq(run("-t", env=env)[:2], (0, "configuration OK\n"), "-t finds LAMBDA_CONF")
rc, out, err = run("--help")
t.ok(rc == 0 and "--create-key" in out and "-t" in out, "--help", out)
rc, out, err = run("--bogus")
t.eq(rc, 2, "unknown option: exit 2")
env = {k: v for k, v in os.environ.items() if k != "LAMBDA_CONF"}
rc, out, err = run("-t", env=env)
t.ok(rc == 1 and "give -c FILE or set LAMBDA_CONF" in err, "no configuration: says how", err)

with tempfile.TemporaryDirectory() as d:
    cases = [
        ("api.threads = 0\n", "line 1: api.threads: 0 is out of bounds [1, 256]"),
        ("log_level = chatty\n", "log_level: expected error|warn|info|debug, got 'chatty'"),
        ("x.y = 1\n", "line 1: unknown key 'x.y'"),
        ("executor.pids_limit = 128\napi.threads = 2\n", None),
    ]
    for text, msg in cases:
        path = os.path.join(d, "lambda.conf")
        with open(path, "w") as f:
            f.write(text)
        rc, out, err = run("-c", path, "-t")
        if msg is None:
            t.eq((rc, out), (0, "configuration OK\n"), "executor.* keys are the executor's")
        else:
            t.ok(rc == 1 and msg in err, f"-t refuses: {msg}", err)
    rc, out, err = run("-c", os.path.join(d, "missing.conf"), "-t")
    t.ok(rc == 1 and "missing.conf" in err, "missing file named", err)

rc, out, err = run("-c", CONF)
t.ok(rc == 1 and "not a FastCGI listen socket" in err, "serving without lighttpd's socket: exit 1",
     err)

rc, out, err = run("-c", CONF, "--create-key", "cli test")
key = out.strip()
t.ok(rc == 0 and re.match(r"^LK[0-9A-F]{18}\.[A-Za-z0-9_-]{40}$", key), "--create-key prints a key",
     (rc, out, err))
t.eq(Api(key).get("/api/functions?limit=1").status, 200, "the printed key works")
rc, out, err = run("-c", CONF, "--create-key", "")
t.ok(rc == 1 and "key name" in err, "--create-key with an empty name: exit 1", err)
t.done()
