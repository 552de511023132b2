#!/usr/bin/python3
"""The real aws CLI (Debian's /usr/bin/aws, v2) drives the platform with
--endpoint-url: create, list (paged), get, update code and configuration,
invoke (sync, log tail, Event, DryRun, function error) and delete, for a
Python and a Node function written as AWS documents them; and every refusal
gets AWS's error type: bad signature, unknown key, unknown function,
oversize payloads (limit pairs), bad zips."""

import base64
import json
import os

import aws_common as a
import harness as h

t = h.Tap()
if not os.access(a.AWS, os.X_OK):
    t.skip_all(f"{a.AWS} missing (apt-get install awscli)")

WORK = a.scratch_dir("test-aws-cli-")
PY = h.unique_name("cli-py")
NODE = h.unique_name("cli-node")


def write(name, data):
    path = os.path.join(WORK, name)
    with open(path, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())
    return path


def ok(rc, out, err, what):
    h.check(rc == 0, f"{what}: exit {rc}: {err.strip()[-800:]}")
    return out


def fails_with(rc, err, code, what):
    h.check(rc != 0, f"{what}: succeeded, expected {code}")
    h.check(code in err, f"{what}: expected {code}, got: {err.strip()[-800:]}")


def invoke(name, payload=None, *extra, payload_file=None):
    out_path = os.path.join(WORK, "out.json")
    args = ["invoke", "--function-name", name, "--cli-binary-format", "raw-in-base64-out"]
    if payload_file is not None:
        args += ["--payload", f"fileb://{payload_file}"]
    elif payload is not None:
        args += ["--payload", json.dumps(payload)]
    rc, out, err = a.aws(*args, *extra, out_path)
    body = None
    if rc == 0 and os.path.exists(out_path):
        with open(out_path, "rb") as f:
            raw = f.read()
        os.unlink(out_path)
        body = json.loads(raw) if raw else None
    return rc, out, err, body


PY_ZIP = a.py_zip(1)
NODE_ZIP = a.node_zip()


@t.test("create-function (python3.12, zip, env, timeout, memory) answers AWS's shape")
def _():
    cfg = ok(*a.aws("create-function", "--function-name", PY, "--runtime", "python3.12",
                    "--handler", "lambda_function.lambda_handler", "--role", a.ROLE,
                    "--zip-file", f"fileb://{write('py.zip', PY_ZIP)}", "--timeout", "5",
                    "--memory-size", "256", "--environment", "Variables={GREETING=hi}",
                    "--description", "made by the aws CLI"), "create-function")
    h.check_eq(cfg["FunctionName"], PY, "FunctionName")
    h.check_eq(cfg["FunctionArn"], f"arn:aws:lambda:us-east-1:000000000000:function:{PY}",
               "FunctionArn")
    h.check_eq(cfg["Runtime"], "python3.12", "Runtime")
    h.check_eq(cfg["Handler"], "lambda_function.lambda_handler", "Handler")
    h.check_eq(cfg["CodeSha256"], a.sha256_b64(PY_ZIP), "CodeSha256")
    h.check_eq(cfg["CodeSize"], len(PY_ZIP), "CodeSize")
    h.check_eq(cfg["Timeout"], 5, "Timeout")
    h.check_eq(cfg["MemorySize"], 256, "MemorySize")
    h.check_eq(cfg["Environment"], {"Variables": {"GREETING": "hi"}}, "Environment")
    h.check_eq(cfg["Version"], "$LATEST", "Version")
    h.check_eq(cfg["State"], "Active", "State")
    h.check_eq(cfg["LastUpdateStatus"], "Successful", "LastUpdateStatus")
    h.check_eq(cfg["Role"], a.ROLE, "Role")
    h.check_eq(cfg["Description"], "made by the aws CLI", "Description")
    h.check(len(cfg["RevisionId"]) == 36, f"RevisionId {cfg['RevisionId']!r}")
    h.check(cfg["LastModified"].endswith("+0000"), f"LastModified {cfg['LastModified']!r}")


@t.test("create-function (nodejs20.x, exports.handler) and a duplicate is a conflict")
def _():
    zp = write("node.zip", NODE_ZIP)
    cfg = ok(*a.aws("create-function", "--function-name", NODE, "--runtime", "nodejs20.x",
                    "--handler", "index.handler", "--role", a.ROLE, "--zip-file",
                    f"fileb://{zp}"), "create-function node")
    h.check_eq(cfg["Runtime"], "nodejs20.x", "Runtime")
    h.check_eq(cfg["Timeout"], 3, "default Timeout")
    h.check_eq(cfg["MemorySize"], 128, "default MemorySize")
    rc, _, err = a.aws("create-function", "--function-name", NODE, "--runtime", "nodejs20.x",
                       "--handler", "index.handler", "--role", a.ROLE, "--zip-file",
                       f"fileb://{zp}")
    fails_with(rc, err, "ResourceConflictException", "second create")


@t.test("list-functions finds both, also one per page (Marker/NextMarker)")
def _():
    out = ok(*a.aws("list-functions"), "list-functions")
    names = [f["FunctionName"] for f in out["Functions"]]
    h.check(PY in names and NODE in names, f"{PY}, {NODE} not in {names}")
    paged = ok(*a.aws("list-functions", "--page-size", "1"), "list-functions --page-size 1")
    h.check_eq(sorted(f["FunctionName"] for f in paged["Functions"]), sorted(names),
               "functions seen one page at a time")
    one = ok(*a.aws("list-functions", "--max-items", "1"), "list-functions --max-items 1")
    h.check_eq(len(one["Functions"]), 1, "--max-items 1")
    h.check("NextToken" in one, f"no NextToken with more to come: {one}")


@t.test("get-function and get-function-configuration (also by ARN)")
def _():
    out = ok(*a.aws("get-function", "--function-name", PY), "get-function")
    h.check_eq(out["Configuration"]["FunctionName"], PY, "Configuration.FunctionName")
    h.check_eq(out["Code"]["RepositoryType"], "S3", "Code.RepositoryType")
    arn = f"arn:aws:lambda:us-east-1:000000000000:function:{PY}"
    cfg = ok(*a.aws("get-function-configuration", "--function-name", arn),
             "get-function-configuration by ARN")
    h.check_eq(cfg["CodeSha256"], a.sha256_b64(PY_ZIP), "CodeSha256")


@t.test("invoke (python, sync): 200, the handler's result, context and env")
def _():
    rc, out, err, body = invoke(PY, {"a": 1})
    ok(rc, out, err, "invoke")
    h.check_eq(out.get("StatusCode"), 200, "StatusCode")
    h.check_eq(out.get("ExecutedVersion"), "$LATEST", "ExecutedVersion")
    h.check("FunctionError" not in out, f"FunctionError in {out}")
    h.check_eq(body["echo"], {"a": 1}, "echo")
    h.check_eq(body["function"], PY, "context.function_name")
    h.check_eq(body["greeting"], "hi", "environment variable")
    h.check(0 < body["remaining_ms"] <= 5000, f"remaining_ms {body['remaining_ms']}")
    recs = a.wait_records(PY, 1, source="aws")
    h.check(any(r["request_id"] == body["request_id"] for r in recs),
            f"no invocation record for {body['request_id']}")


@t.test("invoke (node, sync) with --log-type Tail: the last 4 KB of logs")
def _():
    rc, out, err, body = invoke(NODE, {"b": [1, 2]}, "--log-type", "Tail")
    ok(rc, out, err, "invoke node")
    h.check_eq(body["echo"], {"b": [1, 2]}, "echo")
    h.check_eq(body["function"], NODE, "context.functionName")
    logs = base64.b64decode(out["LogResult"]).decode()
    h.check("hello from node" in logs, f"console.log line missing from {logs!r}")
    h.check(logs.startswith("START RequestId: "), f"no START line: {logs!r}")
    h.check("REPORT RequestId: " in logs, f"no REPORT line: {logs!r}")
    h.check(len(base64.b64decode(out["LogResult"])) <= 4096, "tail over 4 KB")


@t.test("invoke with a function error: 200, FunctionError Unhandled, errorType")
def _():
    for name, etype in ((PY, "ValueError"), (NODE, "TypeError")):
        rc, out, err, body = invoke(name, {"fail": True})
        ok(rc, out, err, f"invoke {name}")
        h.check_eq(out.get("StatusCode"), 200, "StatusCode")
        h.check_eq(out.get("FunctionError"), "Unhandled", "FunctionError")
        h.check_eq(body.get("errorType"), etype, "errorType")
        h.check_eq(body.get("errorMessage"), "asked to fail", "errorMessage")
        h.check(isinstance(body.get("stackTrace"), list), f"stackTrace in {body}")


@t.test("invoke --invocation-type Event: 202, then it runs once (source event)")
def _():
    before = len(a.wait_records(PY, 0, timeout=1, source="event"))
    rc, out, err, _ = invoke(PY, {"async": 1}, "--invocation-type", "Event")
    ok(rc, out, err, "invoke Event")
    h.check_eq(out.get("StatusCode"), 202, "StatusCode")
    recs = a.wait_records(PY, before + 1, timeout=30, source="event")
    h.check(len(recs) == before + 1, f"{len(recs) - before} event records, want 1")
    h.check_eq(recs[0]["status"], "success", "status of the queued run")


@t.test("invoke --invocation-type DryRun: 204, nothing runs")
def _():
    before = len(a.wait_records(PY, 0, timeout=1))
    rc, out, err, _ = invoke(PY, {"dry": 1}, "--invocation-type", "DryRun")
    ok(rc, out, err, "invoke DryRun")
    h.check_eq(out.get("StatusCode"), 204, "StatusCode")
    h.check_eq(len(a.wait_records(PY, 0, timeout=1)), before, "records after DryRun")


@t.test("update-function-code: new CodeSha256, the new code runs")
def _():
    new = a.py_zip(2)
    cfg = ok(*a.aws("update-function-code", "--function-name", PY, "--zip-file",
                    f"fileb://{write('py2.zip', new)}"), "update-function-code")
    h.check_eq(cfg["CodeSha256"], a.sha256_b64(new), "CodeSha256")
    rc, out, err, body = invoke(PY, {})
    ok(rc, out, err, "invoke after update")
    h.check_eq(body.get("version"), 2, "the new code's VERSION")


@t.test("update-function-configuration: timeout, memory, env, runtime")
def _():
    cfg = ok(*a.aws("update-function-configuration", "--function-name", PY, "--timeout", "10",
                    "--memory-size", "512", "--environment", "Variables={GREETING=bonjour}",
                    "--runtime", "python3.11"), "update-function-configuration")
    h.check_eq((cfg["Timeout"], cfg["MemorySize"], cfg["Runtime"]), (10, 512, "python3.11"),
               "Timeout, MemorySize, Runtime")
    rc, out, err, body = invoke(PY, {})
    ok(rc, out, err, "invoke")
    h.check_eq(body.get("greeting"), "bonjour", "new environment")
    rc, _, err = a.aws("update-function-configuration", "--function-name", PY,
                       "--memory-size", "4097")
    fails_with(rc, err, "InvalidParameterValueException", "MemorySize 4097 (limit 4096)")
    ok(*a.aws("update-function-configuration", "--function-name", PY, "--memory-size", "4096"),
       "MemorySize 4096")
    rc, _, err = a.aws("update-function-configuration", "--function-name", PY, "--timeout", "901")
    fails_with(rc, err, "InvalidParameterValueException", "Timeout 901 (limit 900)")
    ok(*a.aws("update-function-configuration", "--function-name", PY, "--timeout", "900"),
       "Timeout 900")


@t.test("sync payload cap 6 MB: 6291456 bytes run, 6291457 get RequestTooLargeException")
def _():
    for size, good in ((6291456, True), (6291457, False)):
        pad = size - len('{"s":""}')
        path = write("big.json", '{"s":"' + "x" * pad + '"}')
        h.check_eq(os.path.getsize(path), size, "payload size")
        rc, out, err, body = invoke(PY, payload_file=path)
        if good:
            ok(rc, out, err, f"{size} bytes")
            h.check_eq(body, {"len": pad}, "result")
        else:
            fails_with(rc, err, "RequestTooLargeException", f"{size} bytes")


@t.test("async payload cap 1 MB: 1048576 bytes queued, 1048577 refused")
def _():
    for size, good in ((1048576, True), (1048577, False)):
        pad = size - len('{"s":""}')
        path = write("big.json", '{"s":"' + "y" * pad + '"}')
        rc, out, err, _ = invoke(PY, None, "--invocation-type", "Event", payload_file=path)
        if good:
            ok(rc, out, err, f"{size} bytes")
            h.check_eq(out.get("StatusCode"), 202, "StatusCode")
        else:
            fails_with(rc, err, "RequestTooLargeException", f"{size} bytes")


@t.test("unknown function: ResourceNotFoundException for invoke, get and delete")
def _():
    ghost = h.unique_name("ghost")
    rc, _, err, _ = invoke(ghost, {})
    fails_with(rc, err, "ResourceNotFoundException", "invoke")
    rc, _, err = a.aws("get-function", "--function-name", ghost)
    fails_with(rc, err, "ResourceNotFoundException", "get-function")
    rc, _, err = a.aws("delete-function", "--function-name", ghost)
    fails_with(rc, err, "ResourceNotFoundException", "delete-function")


@t.test("bad signature: InvalidSignatureException; unknown key: UnrecognizedClientException")
def _():
    key = a.admin_key()
    last = key[-1]
    wrong = key[:-1] + ("A" if last != "A" else "B")
    rc, _, err = a.aws("list-functions", key=wrong)
    fails_with(rc, err, "InvalidSignatureException", "secret differing in its last byte")
    unknown = "LK" + "0" * 18 + key[key.index("."):]
    rc, _, err = a.aws("list-functions", key=unknown)
    fails_with(rc, err, "UnrecognizedClientException", "unknown access key id")


@t.test("bad zips: traversal, symlink, CRC, over 250 MB unzipped, over 50 MB zipped")
def _():
    cases = [
        ("traversal", a.traversal_zip(), "InvalidParameterValueException"),
        ("symlink", a.symlink_zip(), "InvalidParameterValueException"),
        # (the CLI itself refuses what Python's zipfile cannot open: not-a-zip
        # is in test_aws_boto3.py)
        ("crc", a.crc_corrupt_zip(), "InvalidParameterValueException"),
        ("bomb", a.bomb_zip(262144001), "InvalidParameterValueException"),
        ("huge", a.stored_zip_of_size(52428801), "RequestEntityTooLargeException"),
    ]
    for label, data, code in cases:
        name = h.unique_name(f"bad-{label}")
        rc, _, err = a.aws("create-function", "--function-name", name, "--runtime",
                           "python3.12", "--handler", "lambda_function.lambda_handler",
                           "--role", a.ROLE, "--zip-file",
                           f"fileb://{write(label + '.zip', data)}", timeout=300)
        fails_with(rc, err, code, label)
        rc, _, err = a.aws("get-function", "--function-name", name)
        fails_with(rc, err, "ResourceNotFoundException", f"{label}: no function left behind")


@t.test("delete-function: then it is gone")
def _():
    for name in (PY, NODE):
        ok(*a.aws("delete-function", "--function-name", name), f"delete {name}")
        rc, _, err = a.aws("get-function", "--function-name", name)
        fails_with(rc, err, "ResourceNotFoundException", f"get after delete {name}")


t.done()
