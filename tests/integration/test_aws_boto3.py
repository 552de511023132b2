#!/usr/bin/python3
"""boto3 (Debian's python3-boto3) drives the platform with endpoint_url:
the same life cycle as the CLI test, paginators, waiters-free reads of the
shapes botocore parses, and the errors as botocore's ClientError codes."""

import base64
import json

import aws_common as a
import harness as h

t = h.Tap()
try:
    import boto3  # noqa: F401
    from botocore.exceptions import ClientError
except ImportError:
    t.skip_all("boto3 missing (apt-get install python3-boto3; run with /usr/bin/python3)")

c = a.boto3_client()
PY = h.unique_name("b3-py")
NODE = h.unique_name("b3-node")
PY_ZIP = a.py_zip(1)


def code_of(fn):
    try:
        fn()
    except ClientError as e:
        return e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"]
    return None, None


@t.test("create_function for python and node; CodeSha256 is base64 SHA-256 of the zip")
def _():
    r = c.create_function(FunctionName=PY, Runtime="python3.11", Role=a.ROLE,
                          Handler="lambda_function.lambda_handler", Code={"ZipFile": PY_ZIP},
                          Timeout=4, MemorySize=192,
                          Environment={"Variables": {"GREETING": "hej"}})
    h.check_eq(r["ResponseMetadata"]["HTTPStatusCode"], 201, "status")
    h.check_eq(r["CodeSha256"], a.sha256_b64(PY_ZIP), "CodeSha256")
    h.check_eq((r["Timeout"], r["MemorySize"]), (4, 192), "Timeout, MemorySize")
    r = c.create_function(FunctionName=NODE, Runtime="nodejs18.x", Role=a.ROLE,
                          Handler="index.handler", Code={"ZipFile": a.node_zip()})
    h.check_eq(r["Runtime"], "nodejs18.x", "Runtime")
    h.check_eq(code_of(lambda: c.create_function(
        FunctionName=NODE, Runtime="nodejs18.x", Role=a.ROLE, Handler="index.handler",
        Code={"ZipFile": a.node_zip()})), ("ResourceConflictException", 409), "duplicate")


@t.test("list_functions paginator with PageSize 1 walks every function once")
def _():
    names = []
    pages = 0
    for page in c.get_paginator("list_functions").paginate(PaginationConfig={"PageSize": 1}):
        pages += 1
        names += [f["FunctionName"] for f in page["Functions"]]
    h.check(PY in names and NODE in names, f"missing in {names}")
    h.check_eq(len(names), len(set(names)), "no function twice")
    h.check(pages >= 2, f"{pages} pages")
    h.check_eq(code_of(lambda: c.list_functions(Marker="not-a-marker")),
               ("InvalidParameterValueException", 400), "bad Marker")


@t.test("get_function / get_function_configuration")
def _():
    r = c.get_function(FunctionName=PY)
    h.check_eq(r["Configuration"]["Handler"], "lambda_function.lambda_handler", "Handler")
    r = c.get_function_configuration(FunctionName=NODE)
    h.check_eq(r["FunctionName"], NODE, "FunctionName")
    h.check_eq(r["State"], "Active", "State")
    h.check_eq(code_of(lambda: c.get_function(FunctionName=PY, Qualifier="7")),
               ("ResourceNotFoundException", 404), "a version that does not exist")


@t.test("invoke RequestResponse with LogType Tail, python and node")
def _():
    for name, line in ((PY, "hello from python"), (NODE, "hello from node")):
        r = c.invoke(FunctionName=name, Payload=json.dumps({"k": "v"}), LogType="Tail")
        h.check_eq(r["StatusCode"], 200, "StatusCode")
        body = json.loads(r["Payload"].read())
        h.check_eq(body["echo"], {"k": "v"}, f"{name} echo")
        h.check(line in base64.b64decode(r["LogResult"]).decode(), f"{line!r} in log tail")
        h.check_eq(r["ExecutedVersion"], "$LATEST", "ExecutedVersion")


@t.test("invoke with an error: FunctionError Unhandled and the error payload")
def _():
    r = c.invoke(FunctionName=PY, Payload=b'{"fail": true}')
    h.check_eq(r.get("FunctionError"), "Unhandled", "FunctionError")
    body = json.loads(r["Payload"].read())
    h.check_eq((body["errorType"], body["errorMessage"]), ("ValueError", "asked to fail"),
               "error")


@t.test("invoke Event (202, runs once) and DryRun (204)")
def _():
    r = c.invoke(FunctionName=NODE, InvocationType="Event", Payload=b'{"e": 1}')
    h.check_eq(r["StatusCode"], 202, "Event")
    recs = a.wait_records(NODE, 1, source="event")
    h.check_eq(len(recs), 1, "event records")
    r = c.invoke(FunctionName=NODE, InvocationType="DryRun")
    h.check_eq(r["StatusCode"], 204, "DryRun")


@t.test("payload that is not JSON: InvalidRequestContentException")
def _():
    h.check_eq(code_of(lambda: c.invoke(FunctionName=PY, Payload=b"{not json")),
               ("InvalidRequestContentException", 400), "bad payload")


@t.test("update_function_code and update_function_configuration")
def _():
    new = a.py_zip(3)
    r = c.update_function_code(FunctionName=PY, ZipFile=new)
    h.check_eq(r["CodeSha256"], a.sha256_b64(new), "CodeSha256")
    rev = r["RevisionId"]
    h.check_eq(code_of(lambda: c.update_function_configuration(
        FunctionName=PY, Timeout=6, RevisionId="00000000-0000-0000-0000-000000000000")),
        ("PreconditionFailedException", 412), "stale RevisionId")
    r = c.update_function_configuration(FunctionName=PY, Timeout=6, RevisionId=rev,
                                        Description="updated")
    h.check_eq((r["Timeout"], r["Description"]), (6, "updated"), "Timeout, Description")
    h.check(r["RevisionId"] != rev, "RevisionId changes with the function")
    body = json.loads(c.invoke(FunctionName=PY, Payload=b"{}")["Payload"].read())
    h.check_eq(body["version"], 3, "new code runs")


@t.test("wrong secret and unknown key id are refused with AWS's codes")
def _():
    bad = a.boto3_client(secret="x" * 40)
    h.check_eq(code_of(bad.list_functions), ("InvalidSignatureException", 403), "wrong secret")
    nobody = a.boto3_client(key="LK" + "F" * 18 + ".y")
    h.check_eq(code_of(nobody.list_functions), ("UnrecognizedClientException", 403),
               "unknown key")


@t.test("bad zips through boto3: traversal and not-a-zip")
def _():
    for data in (a.traversal_zip(), b"PK\x03\x04 truncated"):
        name = h.unique_name("b3-bad")
        h.check_eq(code_of(lambda: c.create_function(
            FunctionName=name, Runtime="python3.12", Role=a.ROLE,
            Handler="lambda_function.lambda_handler", Code={"ZipFile": data})),
            ("InvalidParameterValueException", 400), "bad zip")


@t.test("zip size cap 50 MB: 52428800 bytes accepted, 52428801 refused")
def _():
    for size, want in ((52428800, None), (52428801, ("RequestEntityTooLargeException", 413))):
        name = h.unique_name("b3-size")
        data = a.stored_zip_of_size(size)

        def create():
            c.create_function(FunctionName=name, Runtime="python3.12", Role=a.ROLE,
                              Handler="lambda_function.lambda_handler",
                              Code={"ZipFile": data})

        h.check_eq(code_of(create), want or (None, None), f"{size} bytes")
        if want is None:
            r = c.get_function_configuration(FunctionName=name)
            h.check_eq(r["CodeSize"], size, "CodeSize")
            c.delete_function(FunctionName=name)


@t.test("delete_function, then ResourceNotFoundException")
def _():
    for name in (PY, NODE):
        r = c.delete_function(FunctionName=name)
        h.check_eq(r["ResponseMetadata"]["HTTPStatusCode"], 204, "delete")
        h.check_eq(code_of(lambda: c.invoke(FunctionName=name)),
                   ("ResourceNotFoundException", 404), "invoke after delete")


t.done()
