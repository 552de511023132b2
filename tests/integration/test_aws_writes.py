#!/usr/bin/python3
"""Writes whose outcome the API cannot see (issue 7): code writes run on a
connection with api.db_bulk_timeout_s; a write is never sent twice; when
the connection breaks after sending (a timeout, a killed connection) the
API waits for the server to finish the statement and reads the row to
answer truly: 2xx when it was written, 503 ServiceException when not.

The faults are made with MariaDB itself: a root session holds a lock the
API's statement waits behind (longer than the API's read timeout), or
kills the API's connection while it waits."""

import os
import re
import subprocess
import threading
import time

import aws_common as a
import harness as h
import relib

t = h.Tap()
try:
    import boto3  # noqa: F401
except ImportError:
    t.skip_all("boto3 missing (apt-get install python3-boto3; run with /usr/bin/python3)")



def client():
    """boto3 without retries: botocore retries a 503 even with the shared
    client's max_attempts 1 (legacy mode: one retry), and these tests must
    see the first answer."""
    import boto3  # noqa: PLC0415
    from botocore.config import Config  # noqa: PLC0415

    akid, secret = a.admin_key().split(".", 1)
    return boto3.client("lambda", endpoint_url=h.URL, region_name=a.REGION,
                        aws_access_key_id=akid, aws_secret_access_key=secret,
                        config=Config(retries={"total_max_attempts": 1}, read_timeout=170,
                                      connect_timeout=10))


c = client()
SOCK = os.path.join(h.VAR, "run", "mysql.sock")
LOG = os.path.join(h.VAR, "log", "lighttpd.log")
FN = h.unique_name("wr")


sql = a.sql


class Lock:
    """A root session that runs `locking` in a transaction and keeps its
    locks for `seconds` (then rolls back)."""

    def __init__(self, locking, seconds):
        self.tag = h.unique_name("lock")
        self.p = subprocess.Popen(
            ["mariadb", "--no-defaults", "--socket", SOCK, "-uroot", "lambda", "-e",
             f"BEGIN; {locking}; SELECT SLEEP({seconds}) AS `{self.tag}`; ROLLBACK;"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        held = h.wait_until(lambda: sql(
            "SELECT COUNT(*) FROM information_schema.PROCESSLIST "
            f"WHERE INFO LIKE '%SLEEP%{self.tag}%' AND ID <> CONNECTION_ID()")[0][0] == "1",
            timeout=10)
        h.check(held, "the locking session did not start")
        self.t0 = time.monotonic()

    def wait(self):
        _, err = self.p.communicate(timeout=120)
        h.check_eq(self.p.returncode, 0, f"locking session: {err}")


def api_conn_running(prefix):
    """The id of the API's connection whose statement starts with prefix."""
    rows = sql("SELECT ID FROM information_schema.PROCESSLIST WHERE USER = 'lambda' "
               f"AND INFO LIKE '{prefix}%'")
    return int(rows[0][0]) if rows else None


def in_thread(fn):
    """Runs fn in a thread; returns a function that joins it and returns
    (botocore error code or None, the result or the exception, seconds)."""
    out = {}

    def run():
        t0 = time.monotonic()
        try:
            out["r"] = (None, fn())
        except Exception as ex:  # noqa: BLE001 - reported to the test
            code = getattr(ex, "response", {}).get("Error", {}).get("Code", repr(ex))
            out["r"] = (code, ex)
        out["s"] = time.monotonic() - t0

    th = threading.Thread(target=run)
    th.start()

    def join():
        th.join(180)
        h.check(not th.is_alive(), "the call did not return within 180 s")
        return out["r"] + (out["s"],)
    return join


def log_has(pattern, since):
    with open(LOG, errors="replace") as f:
        f.seek(since)
        return re.search(pattern, f.read()) is not None


def create_call(name, zipdata):
    return lambda: c.create_function(FunctionName=name, Runtime="python3.12", Role=a.ROLE,
                                     Handler="lambda_function.lambda_handler",
                                     Code={"ZipFile": zipdata})


@t.test("setup")
def _():
    create_call(FN, a.py_zip(1))()


@t.test("Event: the INSERT outlives the 2 s read timeout behind a lock: settled as queued, "
        "202, one row, one run")
def _():
    since = os.path.getsize(LOG)
    lock = Lock("SELECT COUNT(*) FROM event_queue WHERE request_id >= '' FOR UPDATE", 5)
    join = in_thread(lambda: c.invoke(FunctionName=FN, InvocationType="Event",
                                      Payload=b'{"w": 1}'))
    code, r, secs = join()
    lock.wait()
    h.check(code is None, f"Event invoke failed: {code} {r}")
    rid = r["ResponseMetadata"]["HTTPHeaders"]["x-amzn-requestid"]
    h.check(secs >= 2, f"answered in {secs:.1f} s: the lock did not hold the INSERT")
    h.check(log_has(rf"event {rid}: connection lost during INSERT .*settled: queued", since),
            "the log does not show the write settled as queued")
    h.check_eq(sql(f"SELECT COUNT(*) FROM event_queue WHERE request_id = '{rid}'"), [["1"]],
               "rows")
    got = h.wait_until(lambda: sql(
        f"SELECT status FROM invocations WHERE request_id = '{rid}'"), timeout=30)
    h.check_eq(got, [["success"]], "the one run's record")


@t.test("CreateFunction whose INSERT is killed: 503 ServiceException, not created, "
        "a second try works")
def _():
    name = h.unique_name("wr-kill")
    since = os.path.getsize(LOG)
    lock = Lock("SELECT COUNT(*) FROM functions WHERE name >= '' FOR UPDATE", 30)
    join = in_thread(create_call(name, a.py_zip(2)))
    conn = h.wait_until(lambda: api_conn_running("INSERT INTO functions"), timeout=20)
    h.check(conn, "the API's INSERT never showed up waiting")
    sql(f"KILL {conn}")
    code, r, _ = join()
    h.check_eq(code, "ServiceException", f"answer: {r}")
    h.check("it was not created" in str(r), f"message: {r}")
    h.check(log_has(rf"function '{name}': connection lost during INSERT .*settled: not created",
                    since), "the log does not show the write settled")
    lock.p.kill()
    lock.p.wait()
    h.check_eq(sql(f"SELECT COUNT(*) FROM functions WHERE name = '{name}'"), [["0"]], "rows")
    create_call(name, a.py_zip(2))()
    h.check_eq(c.get_function_configuration(FunctionName=name)["FunctionName"], name, "created")
    c.delete_function(FunctionName=name)


@t.test("UpdateFunctionCode whose UPDATE is killed: 503 ServiceException, code unchanged")
def _():
    before = c.get_function_configuration(FunctionName=FN)["CodeSha256"]
    fid = sql(f"SELECT id FROM functions WHERE name = '{FN}'")[0][0]
    lock = Lock(f"SELECT version FROM functions WHERE id = {fid} FOR UPDATE", 30)
    join = in_thread(lambda: c.update_function_code(FunctionName=FN, ZipFile=a.py_zip(3)))
    conn = h.wait_until(lambda: api_conn_running("UPDATE functions"), timeout=20)
    h.check(conn, "the API's UPDATE never showed up waiting")
    sql(f"KILL {conn}")
    code, r, _ = join()
    lock.p.kill()
    lock.p.wait()
    h.check_eq(code, "ServiceException", f"answer: {r}")
    h.check_eq(c.get_function_configuration(FunctionName=FN)["CodeSha256"], before,
               "CodeSha256")


@t.test("with api.db_bulk_timeout_s = 3: CreateFunction and UpdateFunctionCode held 4.5 s "
        "by a lock are settled as written")
def _():
    old = relib.set_local_conf({"api.db_bulk_timeout_s": "3"})
    try:
        h.stack("restart", "lighttpd")
        name = h.unique_name("wr-slow")
        since = os.path.getsize(LOG)
        lock = Lock("SELECT COUNT(*) FROM functions WHERE name >= '' FOR UPDATE", 4.5)
        data = a.py_zip(4)
        code, r, secs = in_thread(create_call(name, data))()
        lock.wait()
        h.check(code is None, f"create: {code} {r}")
        h.check(secs >= 3, f"answered in {secs:.1f} s: the lock did not hold the INSERT")
        h.check(log_has(rf"function '{name}': connection lost during INSERT .*settled: created",
                        since), "the log does not show the INSERT settled as created")
        h.check_eq(r["CodeSha256"], a.sha256_b64(data), "CodeSha256 answered")
        h.check_eq(sql(f"SELECT COUNT(*) FROM functions WHERE name = '{name}'"), [["1"]],
                   "rows")

        fid = sql(f"SELECT id FROM functions WHERE name = '{name}'")[0][0]
        new = a.py_zip(5)
        lock = Lock(f"SELECT version FROM functions WHERE id = {fid} FOR UPDATE", 4.5)
        code, r, secs = in_thread(
            lambda: c.update_function_code(FunctionName=name, ZipFile=new))()
        lock.wait()
        h.check(code is None, f"update: {code} {r}")
        h.check(secs >= 3, f"answered in {secs:.1f} s: the lock did not hold the UPDATE")
        h.check(log_has(rf"function {fid}: connection lost during UPDATE .*settled: updated",
                        since), "the log does not show the UPDATE settled as updated")
        h.check_eq(r["CodeSha256"], a.sha256_b64(new), "CodeSha256 answered")
        h.check_eq(c.get_function_configuration(FunctionName=name)["CodeSha256"],
                   a.sha256_b64(new), "CodeSha256 stored")
        c.delete_function(FunctionName=name)
    finally:
        relib.restore_local_conf(old)
        h.stack("restart", "lighttpd")


@t.test("UpdateFunctionCode zip cap 50 MB: 52428800 bytes accepted, 52428801 refused")
def _():
    for size, want in ((52428800, None), (52428801, "RequestEntityTooLargeException")):
        data = a.stored_zip_of_size(size)
        code, r, secs = in_thread(
            lambda data=data: c.update_function_code(FunctionName=FN, ZipFile=data))()
        h.check_eq(code, want, f"{size} bytes: {r if code else ''}")
        if want is None:
            h.check_eq(r["CodeSize"], size, "CodeSize")
            h.check_eq(r["CodeSha256"], a.sha256_b64(data), "CodeSha256")
            print(f"# figure: update_code_50mb_s = {secs:.1f}")


@t.test("clean up")
def _():
    c.delete_function(FunctionName=FN)


t.done()
