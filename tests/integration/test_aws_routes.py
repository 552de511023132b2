#!/usr/bin/python3
"""Requests under AWS's dated prefixes (/2015-03-31/... and the others
botocore's lambda model uses) that no route takes get AWS-shaped errors:
X-Amzn-ErrorType and {"Type", "message"}, never our REST shape; they are
authenticated first; operations that are not built (versions, aliases,
event invoke config, layers...) say so (docs/aws.md)."""

import aws_common as a
import harness as h

t = h.Tap()
try:
    import boto3  # noqa: F401
except ImportError:
    t.skip_all("boto3 missing (apt-get install python3-boto3; run with /usr/bin/python3)")

c = a.boto3_client()
FN = h.unique_name("routes")


def aws_shaped(got, status, etype, what, message_has=""):
    st, hd, body = got
    h.check_eq((st, hd.get("x-amzn-errortype")), (status, etype), f"{what}: {body!r}")
    h.check(isinstance(body, dict) and set(body) == {"Type", "message"},
            f"{what}: body is not AWS-shaped: {body!r}")
    h.check_eq(body["Type"], "User" if status < 500 else "Service", f"{what}: Type")
    h.check(message_has in body["message"], f"{what}: message {body['message']!r}")
    return hd


def code_of(fn):
    try:
        fn()
    except Exception as ex:  # noqa: BLE001 - botocore's ClientError
        r = getattr(ex, "response", None)
        if r is None:
            raise
        return r["Error"]["Code"], r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Message"]
    return None, None, None


@t.test("setup")
def _():
    c.create_function(FunctionName=FN, Runtime="python3.12", Role=a.ROLE,
                      Handler="lambda_function.lambda_handler", Code={"ZipFile": a.py_zip()})


@t.test("unknown path: 404 UnknownOperationException (signed), under any dated prefix")
def _():
    for path in ("/2015-03-31/nothing", "/2015-03-31/functions/x/y/z", "/2015-03-31//x",
                 "/2015-03-31", "/2099-01-01/functions", "/2099-01-01"):
        aws_shaped(a.signed("GET", path), 404, "UnknownOperationException", path,
                   "Unknown operation GET ")


@t.test("unsigned or badly signed: authentication comes first")
def _():
    aws_shaped(h.api("GET", "/2015-03-31/nothing", key=None), 403,
               "MissingAuthenticationTokenException", "unsigned")
    akid = a.admin_key().split(".")[0]
    aws_shaped(a.signed("GET", "/2015-03-31/nothing", key=akid + "." + "x" * 40), 403,
               "InvalidSignatureException", "wrong secret")


@t.test("wrong method on a known path: 405 UnknownOperationException with Allow")
def _():
    for method, path, allow in (("GET", f"/2015-03-31/functions/{FN}/invocations", "POST"),
                                ("PATCH", f"/2015-03-31/functions/{FN}", "GET, DELETE"),
                                ("DELETE", "/2015-03-31/functions", "POST, GET")):
        hd = aws_shaped(a.signed(method, path), 405, "UnknownOperationException",
                        f"{method} {path}", f"this path takes {allow}")
        h.check_eq(hd.get("allow"), allow, f"{method} {path}: Allow")


@t.test("malformed path: 400 InvalidParameterValueException")
def _():
    aws_shaped(a.signed("GET", "/2015-03-31/functions/%zz"), 400,
               "InvalidParameterValueException", "bad escape", "bad percent-escape")


@t.test("our REST API keeps its own shape")
def _():
    st, hd, body = h.api("GET", "/api/nothing")
    h.check_eq((st, "x-amzn-errortype" in hd, body.get("error", {}).get("code")),
               (404, False, "not_found"), "REST 404")


@t.test("not built, through boto3: PublishVersion, CreateAlias, event invoke config... "
        "501 UnsupportedOperationException")
def _():
    calls = {
        "PublishVersion": lambda: c.publish_version(FunctionName=FN),
        "ListVersionsByFunction": lambda: c.list_versions_by_function(FunctionName=FN),
        "CreateAlias": lambda: c.create_alias(FunctionName=FN, Name="live",
                                              FunctionVersion="1"),
        "GetAlias": lambda: c.get_alias(FunctionName=FN, Name="live"),
        "FunctionEventInvokeConfig operations": lambda: c.put_function_event_invoke_config(
            FunctionName=FN, MaximumRetryAttempts=0),
        "FunctionConcurrency operations": lambda: c.put_function_concurrency(
            FunctionName=FN, ReservedConcurrentExecutions=1),
        "FunctionUrlConfig operations": lambda: c.get_function_url_config(FunctionName=FN),
        "Layer operations": lambda: c.list_layers(),
        "EventSourceMapping operations": lambda: c.list_event_source_mappings(),
        "AddPermission": lambda: c.add_permission(FunctionName=FN, StatementId="s",
                                                  Action="lambda:InvokeFunction",
                                                  Principal="*"),
        "Tag operations": lambda: c.list_tags(Resource=f"arn:aws:lambda:us-east-1:"
                                              f"000000000000:function:{FN}"),
        "GetAccountSettings": lambda: c.get_account_settings(),
    }
    for op, call in calls.items():
        code, status, msg = code_of(call)
        h.check_eq((code, status), ("UnsupportedOperationException", 501), op)
        h.check(msg.startswith(f"{op}: not built on this platform: "), f"{op}: {msg!r}")
    # and raw, with the header and body
    aws_shaped(a.signed("POST", f"/2015-03-31/functions/{FN}/versions", body="{}"), 501,
               "UnsupportedOperationException", "raw PublishVersion", "only $LATEST exists")


@t.test("clean up")
def _():
    c.delete_function(FunctionName=FN)


t.done()
