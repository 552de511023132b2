#!/usr/bin/python3
"""SQL reporting views (schema/051, 052; docs/reporting.md): per-function
daily stats, hourly volume and error rate, exact daily percentiles, slowest
calls, over records with known values on fixed past days; the rollup equals
the raw records; every example query of docs/reporting.md runs."""

import os
import re
import subprocess
import uuid

import harness as h

t = h.Tap()

MYSQL = ["mariadb", "--no-defaults", f"--socket={os.path.join(h.VAR, 'run', 'mysql.sock')}",
         "-uroot", "--batch", "--skip-column-names", "lambda"]


def sql(text):
    p = subprocess.run(MYSQL, input=text, capture_output=True, text=True, timeout=120)
    h.check(p.returncode == 0, f"mariadb failed: {p.stderr}\n{text[:500]}")
    return [line.split("\t") for line in p.stdout.splitlines()]


NAME = h.unique_name("report")
st, _, body = h.api("POST", "/api/functions", {
    "name": NAME, "runtime": "python", "handler": "main.handler",
    "code": "def handler(event, context):\n    return event\n"})
FID = body["id"] if st == 201 else None

# (started_at, total_ms, status, cold, isolation) on two fixed UTC days
RECORDS = [
    ("2020-01-01 10:15:00", 10, "success", 1, "docker"),
    ("2020-01-01 10:20:00", 20, "success", 0, "docker"),
    ("2020-01-01 10:59:59.999", 30, "error", 0, "gvisor"),
    ("2020-01-01 11:00:00", 40, "timeout", 0, "docker"),
    ("2020-01-02 23:59:59", 5, "success", 0, "gvisor"),
    ("2020-01-02 00:00:00", 500, "oom", 1, "gvisor"),
]
RIDS = [str(uuid.uuid4()) for _ in RECORDS]


@t.test("records of a new function are inserted and rolled up like the record writer does")
def _():
    h.check(FID is not None, f"create function: {st} {body!r}")
    values = ",\n".join(
        f"('{rid}', {FID}, '{NAME}', 1, '{iso}', '{at}', {ms}, {ms}, {cold}, '{stt}')"
        for rid, (at, ms, stt, cold, iso) in zip(RIDS, RECORDS))
    sql("INSERT IGNORE INTO invocations (request_id, function_id, function_name, function_version, "
        "isolation, started_at, duration_ms, total_ms, cold, status) VALUES " + values + ";"
        f"SELECT @lo := MIN(id), @hi := MAX(id) FROM invocations WHERE function_id = {FID};"
        "CALL rollup_invocations(@lo, @hi);")
    rows = sql(f"SELECT res, SUM(calls) FROM invocation_rollup WHERE function_id = {FID} "
               "GROUP BY res ORDER BY res")
    h.check_eq(rows, [["60", "6"], ["600", "6"], ["86400", "6"]], "calls per resolution")


@t.test("report_function_daily: one row per UTC day with counts, rates and latency")
def _():
    rows = sql("SELECT day, calls, successes, errors, status_error, status_timeout, status_oom, "
               "error_rate, cold_starts, avg_ms, min_ms, max_ms, docker_calls, gvisor_calls "
               f"FROM report_function_daily WHERE function_id = {FID} ORDER BY day")
    h.check_eq(rows, [
        ["2020-01-01", "4", "2", "2", "1", "1", "0", "0.5000", "1", "25.000", "10.000", "40.000", "3", "1"],
        ["2020-01-02", "2", "1", "1", "0", "0", "1", "0.5000", "1", "252.500", "5.000", "500.000", "0", "2"],
    ], "daily rows")


@t.test("report_hourly_volume: volume and error rate per UTC hour")
def _():
    rows = sql("SELECT hour, calls, errors, error_rate, timeouts FROM report_hourly_volume "
               f"WHERE function_id = {FID} ORDER BY hour")
    h.check_eq(rows, [
        ["2020-01-01 10:00:00", "3", "1", "0.3333", "0"],
        ["2020-01-01 11:00:00", "1", "1", "1.0000", "1"],
        ["2020-01-02 00:00:00", "1", "1", "1.0000", "0"],
        ["2020-01-02 23:00:00", "1", "0", "0.0000", "0"],
    ], "hourly rows")


@t.test("report_daily_percentiles: exact p50/p95/p99 per day")
def _():
    rows = sql("SELECT day, calls, p50_ms, p95_ms, p99_ms FROM report_daily_percentiles "
               f"WHERE function_id = {FID} ORDER BY day")
    # 10,20,30,40: p50 = 25, p95 = 30 + 0.85 * 10 = 38.5, p99 = 39.7
    h.check_eq(rows, [["2020-01-01", "4", "25.000", "38.500", "39.700"],
                      ["2020-01-02", "2", "252.500", "475.250", "495.050"]], "percentiles")


@t.test("report_slowest_calls: ranked per function, slowest first")
def _():
    rows = sql("SELECT request_id, total_ms, slow_rank FROM report_slowest_calls "
               f"WHERE function_id = {FID} AND slow_rank <= 2 ORDER BY slow_rank")
    h.check_eq(rows, [[RIDS[5], "500", "1"], [RIDS[3], "40", "2"]], "two slowest")


@t.test("a replayed batch: LAST_INSERT_ID() is the first new row, older duplicates are below it")
def _():
    # db_metrics_rollup_inserted() relies on this to roll up only the rows a
    # batch really inserted when INSERT IGNORE skipped some.
    new = str(uuid.uuid4())
    rows = sql("INSERT IGNORE INTO invocations (request_id, function_id, function_name, "
               "function_version, isolation, started_at, total_ms, status) VALUES "
               f"('{RIDS[0]}', {FID}, '{NAME}', 1, 'docker', '2020-01-01 10:15:00', 10, 'success'), "
               f"('{new}', {FID}, '{NAME}', 1, 'docker', '2020-01-03 10:00:00', 7, 'success');"
               "SELECT ROW_COUNT(), LAST_INSERT_ID();"
               f"SELECT id FROM invocations WHERE request_id IN ('{RIDS[0]}', '{new}') ORDER BY id;")
    (affected, lid), (old_id,), (new_id,) = rows
    h.check_eq(affected, "1", "rows inserted")
    h.check_eq(lid, new_id, "LAST_INSERT_ID is the new row")
    h.check(int(old_id) < int(lid), f"duplicate {old_id} below {lid}")
    sql(f"CALL rollup_invocations({lid}, {new_id})")


@t.test("the rollup agrees with the raw records at every resolution")
def _():
    raw = sql("SELECT COUNT(*), SUM(status <> 'success'), SUM(cold), ROUND(SUM(total_ms), 3) "
              f"FROM invocations WHERE function_id = {FID}")
    for res in (60, 600, 86400):
        got = sql("SELECT SUM(calls), SUM(calls - n_success), SUM(cold), ROUND(SUM(sum_ms), 3) "
                  f"FROM invocation_rollup WHERE res = {res} AND function_id = {FID}")
        h.check_eq(got, raw, f"res {res}")


@t.test("every example query in docs/reporting.md runs")
def _():
    path = os.path.join(h.REPO, "docs", "reporting.md")
    with open(path) as f:
        blocks = re.findall(r"```sql\n(.*?)```", f.read(), re.S)
    h.check(len(blocks) >= 4, f"only {len(blocks)} sql blocks in docs/reporting.md")
    for b in blocks:
        sql(b)



@t.test("clean-up: the test's function is deleted (its records stay, as for any function)")
def _():
    h.check_eq(h.api("DELETE", f"/api/functions/{NAME}")[0], 204, "delete")


t.done()
