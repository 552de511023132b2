#!/usr/bin/python3
"""Function URLs (ANY /fn/{name}/{path}): the request becomes an API Gateway
v2 / function-URL event and the handler's answer the HTTP response. GET and
POST with query, headers, cookies, JSON and binary bodies round-trip;
structured and plain returns; errors; public and key-protected functions
(Bearer key or SigV4); the 6 MB body cap as a limit pair."""

import base64
import json

import aws_common as a
import harness as h

t = h.Tap()

HANDLER = '''\
import base64
import json


def handler(event, context):
    q = event.get("queryStringParameters") or {}
    mode = q.get("mode")
    if mode == "plain":
        return "just a string"
    if mode == "json":
        return {"k": [1, 2]}
    if mode == "len":
        return {"len": len(event.get("body") or "")}
    if mode == "binary":
        return {"statusCode": 200, "headers": {"content-type": "application/octet-stream"},
                "body": base64.b64encode(bytes(range(256))).decode(),
                "isBase64Encoded": True}
    if mode == "fail":
        raise RuntimeError("boom")
    return {"statusCode": 201,
            "headers": {"content-type": "application/json", "x-echo": "yes"},
            "cookies": ["a=1; Path=/", "b=2"],
            "body": json.dumps({"event": event})}
'''

PUB = h.unique_name("url-pub")
PRIV = h.unique_name("url-key")


def create(name, url_auth):
    body = {"name": name, "runtime": "python", "handler": "lambda_function.handler",
            "code": HANDLER}
    if url_auth is not None:
        body["url_auth"] = url_auth
    status, _, resp = h.api("POST", "/api/functions", body)
    h.check_eq(status, 201, f"create {name}: {resp!r}")
    return resp


def call(method, path, body=None, headers=None, key=None, timeout=60):
    return h.api(method, path, body=body, key=key, headers=headers, timeout=timeout, raw=True)


def event_of(resp_body):
    return json.loads(resp_body)["event"]


@t.test("url_auth is a function setting: 'none' on create, 'key' by default")
def _():
    h.check_eq(create(PUB, "none").get("url_auth"), "none", "url_auth of the public one")
    h.check_eq(create(PRIV, None).get("url_auth"), "key", "default url_auth")
    status, _, body = h.api("PUT", f"/api/functions/{PRIV}", {"url_auth": "sometimes"})
    h.check_eq(status, 400, f"bad url_auth: {body!r}")


@t.test("GET with path, query, headers and cookies: the v2 event, the structured answer")
def _():
    status, hdrs, body = call("GET", f"/fn/{PUB}/some/path?x=1&y=two%20words&x=3",
                              headers={"X-Custom": "v", "Cookie": "c1=a; c2=b",
                                       "User-Agent": "fnurl-test"})
    h.check_eq(status, 201, f"status ({body[:300]!r})")
    h.check_eq(hdrs.get("x-echo"), "yes", "header from the function")
    h.check_eq(hdrs.get("content-type"), "application/json", "content type")
    ev = event_of(body)
    h.check_eq(ev["version"], "2.0", "version")
    h.check_eq(ev["rawPath"], "/some/path", "rawPath")
    h.check_eq(ev["rawQueryString"], "x=1&y=two%20words&x=3", "rawQueryString")
    h.check_eq(ev["queryStringParameters"], {"x": "1,3", "y": "two words"},
               "queryStringParameters")
    h.check_eq(ev["headers"].get("x-custom"), "v", "headers are lower-case")
    h.check_eq(ev["cookies"], ["c1=a", "c2=b"], "cookies")
    http = ev["requestContext"]["http"]
    h.check_eq((http["method"], http["path"], http["sourceIp"], http["userAgent"]),
               ("GET", "/some/path", "127.0.0.1", "fnurl-test"), "requestContext.http")
    h.check(http["protocol"].startswith("HTTP/"), f"protocol {http['protocol']!r}")
    h.check_eq(ev["isBase64Encoded"], False, "isBase64Encoded")
    h.check("body" not in ev, "no body on a GET")


@t.test("the function's cookies become Set-Cookie headers")
def _():
    import http.client
    import urllib.parse
    u = urllib.parse.urlsplit(h.URL)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    conn.request("GET", f"/fn/{PUB}/")
    r = conn.getresponse()
    r.read()
    cookies = r.headers.get_all("Set-Cookie") or []
    conn.close()
    h.check_eq(sorted(cookies), ["a=1; Path=/", "b=2"], "Set-Cookie")


@t.test("POST JSON: the body arrives as text, isBase64Encoded false")
def _():
    sent = json.dumps({"hello": "wörld", "n": [1, 2, 3]})
    status, _, body = call("POST", f"/fn/{PUB}/items", body=sent.encode(),
                           headers={"Content-Type": "application/json"})
    h.check_eq(status, 201, "status")
    ev = event_of(body)
    h.check_eq(ev["requestContext"]["http"]["method"], "POST", "method")
    h.check_eq(ev["body"], sent, "body")
    h.check_eq(ev["isBase64Encoded"], False, "isBase64Encoded")


@t.test("POST binary: the body arrives base64, isBase64Encoded true")
def _():
    sent = bytes(range(256)) * 4
    status, _, body = call("POST", f"/fn/{PUB}/upload", body=sent,
                           headers={"Content-Type": "application/octet-stream"})
    h.check_eq(status, 201, "status")
    ev = event_of(body)
    h.check_eq(ev["isBase64Encoded"], True, "isBase64Encoded")
    h.check_eq(base64.b64decode(ev["body"]), sent, "body round-trips")


@t.test("other methods (PUT, DELETE) reach the function")
def _():
    for m in ("PUT", "DELETE", "PATCH"):
        status, _, body = call(m, f"/fn/{PUB}/x")
        h.check_eq(status, 201, f"{m} status")
        h.check_eq(event_of(body)["requestContext"]["http"]["method"], m, f"{m} method")


@t.test("plain returns: a string or JSON becomes 200 application/json")
def _():
    status, hdrs, body = call("GET", f"/fn/{PUB}/?mode=plain")
    h.check_eq((status, hdrs.get("content-type")), (200, "application/json"), "plain")
    h.check_eq(json.loads(body), "just a string", "string body")
    status, _, body = call("GET", f"/fn/{PUB}/?mode=json")
    h.check_eq((status, json.loads(body)), (200, {"k": [1, 2]}), "json")


@t.test("binary answer: isBase64Encoded bodies are decoded")
def _():
    status, hdrs, body = call("GET", f"/fn/{PUB}/?mode=binary")
    h.check_eq(status, 200, "status")
    h.check_eq(hdrs.get("content-type"), "application/octet-stream", "content type")
    h.check_eq(body, bytes(range(256)), "bytes")


@t.test("a function error is a 502 without its details; the record has them")
def _():
    status, hdrs, body = call("GET", f"/fn/{PUB}/?mode=fail")
    h.check_eq(status, 502, "status")
    h.check(b"boom" not in body, f"error details leaked: {body!r}")
    rid = hdrs.get("x-amzn-requestid")
    h.check(rid, "x-amzn-RequestId header")
    got = h.wait_until(lambda: (r := h.api("GET", f"/api/invocations/{rid}"))[0] == 200 and r,
                       timeout=10)
    h.check(got, f"no record of {rid}")
    rec = got[2]
    h.check(rec.get("source") == "url" and rec.get("status") == "error", f"record: {rec!r}")


@t.test("key-protected URL: 401 without a key, 200 with Bearer or SigV4; key not passed on")
def _():
    status, _, _ = call("GET", f"/fn/{PRIV}/")
    h.check_eq(status, 401, "no key")
    status, _, _ = call("GET", f"/fn/{PRIV}/", key="LK" + "0" * 18 + "." + "x" * 40)
    h.check_eq(status, 401, "unknown key")
    status, _, body = call("GET", f"/fn/{PRIV}/", key=a.admin_key())
    h.check_eq(status, 201, "Bearer admin key")
    h.check("authorization" not in event_of(body)["headers"], "Authorization passed on")
    # AWS_IAM style: a SigV4 signature (service lambda) made with our key
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    akid, secret = a.admin_key().split(".", 1)
    req = AWSRequest(method="GET", url=f"{h.URL}/fn/{PRIV}/signed?q=1")
    SigV4Auth(Credentials(akid, secret), "lambda", "us-east-1").add_auth(req)
    status, _, body = call("GET", f"/fn/{PRIV}/signed?q=1", headers=dict(req.headers))
    h.check_eq(status, 201, f"SigV4 signed: {body[:300]!r}")
    status, _, _ = call("GET", f"/fn/{PRIV}/signed?q=2", headers=dict(req.headers))
    h.check_eq(status, 403, "the same signature on another query")


@t.test("unknown function: 404")
def _():
    status, _, _ = call("GET", f"/fn/{h.unique_name('ghost')}/")
    h.check_eq(status, 404, "status")


@t.test("body cap 6 MB: 6291456 bytes pass, 6291457 get 413")
def _():
    for size, want in ((6291456, 200), (6291457, 413)):
        status, _, body = call("POST", f"/fn/{PUB}/?mode=len", body=b"z" * size,
                               headers={"Content-Type": "text/plain"}, timeout=120)
        h.check_eq(status, want, f"{size} bytes: {body[:200]!r}")
        if want == 200:
            h.check_eq(json.loads(body), {"len": size}, "length seen by the function")


@t.test("clean up")
def _():
    for name in (PUB, PRIV):
        h.check_eq(h.api("DELETE", f"/api/functions/{name}")[0], 204, f"delete {name}")


t.done()
