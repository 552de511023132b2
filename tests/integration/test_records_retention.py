#!/usr/bin/python3
"""Retention of invocation records (api.records_retention_days; docs/design.md, "Retention").

Rows are put straight into MariaDB with chosen ages: one just past the limit (2 days and
1 minute), one just inside it (2 days less 1 minute), and 2,500 a month old (several chunks of
the delete). `lambda-api --prune-records=2` must remove the old ones with their logs and keep
the young one with its logs; its bad arguments get exit 2 and a message. Then the stack runs
with api.records_retention_days = 2 and api.records_prune_interval_s = 1, and the record
writer must remove new old rows by itself, still keeping the young one."""

import os
import subprocess
import sys
import uuid

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import apistack  # noqa: E402
import harness as h  # noqa: E402
from apitest import Tap  # noqa: E402

t = Tap()
apistack.up()
BIN, CONF = h.API_BIN, h.CONF
NAME = h.unique_name("retention")
EDGE = 60  # seconds either side of the limit


def sql(text):
    return apistack.sql(text, "lambda")


def put(age_s, n=1, logs=1):
    """n invocations of NAME started age_s seconds ago, the first `logs` of them with logs;
    returns their request ids."""
    ids = [str(uuid.uuid4()) for _ in range(n)]
    # the logs first: a pass of the record writer between the two inserts would otherwise
    # remove the invocations before their logs exist (it deletes from invocations down)
    if logs:
        sql("INSERT INTO invocation_logs (request_id, logs) VALUES " +
            ", ".join(f"('{r}', 'log of {r}')" for r in ids[:logs]))
    for i in range(0, n, 500):
        part = ids[i:i + 500]
        sql("INSERT INTO invocations (request_id, function_id, function_name, function_version,"
            " isolation, started_at, status) VALUES " +
            ", ".join(f"('{r}', 999999, '{NAME}', 1, 'docker', "
                      f"UTC_TIMESTAMP(3) - INTERVAL {age_s} SECOND, 'success')" for r in part))
    return ids


def count(ids):
    """(invocations, logs rows) left of ids."""
    where = "request_id IN (%s)" % ", ".join(f"'{r}'" for r in ids)
    return (int(sql(f"SELECT COUNT(*) FROM invocations WHERE {where}")),
            int(sql(f"SELECT COUNT(*) FROM invocation_logs WHERE {where}")))


def run(*args):
    p = subprocess.run([BIN, "-c", CONF, *args], capture_output=True, text=True, timeout=300,
                       stdin=subprocess.DEVNULL)
    return p.returncode, p.stdout, p.stderr


DAY = 86400
past = put(2 * DAY + EDGE)
inside = put(2 * DAY - EDGE)
bulk = put(30 * DAY, n=2500, logs=100)
rc, out, err = run("--prune-records=2")
removed = int(out.split()[1]) if rc == 0 and out.startswith("removed ") else -1
t.ok(rc == 0 and removed >= 2501 and out.endswith(" invocation records older than 2 days\n"),
     "--prune-records=2 removes the records older than 2 days", (rc, out, err))
t.eq(count(past), (0, 0), "a record 2 days and 1 minute old goes, with its logs")
t.eq(count(bulk), (0, 0), "2,500 records a month old go (several chunks), with their logs")
t.eq(count(inside), (1, 1), "a record 2 days less 1 minute old stays, with its logs")
rc, out, err = run("--prune-records")
t.ok(rc == 2 and "kept forever" in err, "--prune-records while retention is 0: says what to give",
     (rc, err))
for bad in ("0", "36501", "2x"):
    rc, out, err = run("--prune-records=" + bad)
    t.ok(rc == 2 and "DAYS must be 1-36500" in err, f"--prune-records={bad}: exit 2", (rc, err))

# The record writer's own pass, with the settings in the stack's configuration.
try:
    apistack.set_local_conf("api.records_retention_days", "2")
    apistack.set_local_conf("api.records_prune_interval_s", "1")
    apistack.web_stop()
    apistack.web_start()
    past = put(2 * DAY + EDGE, n=3, logs=3)
    gone = h.wait_until(lambda: count(past) == (0, 0), timeout=20)
    t.ok(gone, "with api.records_retention_days = 2 the record writer removes old records "
         "by itself", count(past))
    t.eq(count(inside), (1, 1), "... and keeps the young one")
finally:
    apistack.set_local_conf("api.records_retention_days", None)
    apistack.set_local_conf("api.records_prune_interval_s", None)
    apistack.web_stop()
    apistack.web_start()
sql(f"DELETE i, l FROM invocations i LEFT JOIN invocation_logs l ON l.request_id = i.request_id "
    f"WHERE i.function_name = '{NAME}'")
t.done()
