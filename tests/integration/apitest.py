"""Small helpers for the API's integration tests: an HTTP client and TAP
output ending with the `N passed, N failed` line.  Stdlib only."""

import http.client
import json
import sys
import time

import apistack


class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0

    def ok(self, cond, desc, detail=None):
        self.n += 1
        if cond:
            print(f"ok {self.n} - {desc}")
        else:
            self.failed += 1
            print(f"not ok {self.n} - {desc}")
            if detail is not None:
                for line in str(detail).splitlines()[:20]:
                    print("#   " + line)
        sys.stdout.flush()
        return cond

    def eq(self, got, want, desc):
        return self.ok(got == want, desc, f"got {got!r}, want {want!r}")

    def done(self):
        print(f"1..{self.n}")
        print(f"# {self.n - self.failed} passed, {self.failed} failed")
        sys.exit(1 if self.failed else 0)


class Resp:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body
        try:
            self.json = json.loads(body) if body else None
        except ValueError:
            self.json = None

    def err(self):
        """The error message of an error body, or ''."""
        try:
            return self.json["error"]["message"]
        except (TypeError, KeyError):
            return ""

    def code(self):
        try:
            return self.json["error"]["code"]
        except (TypeError, KeyError):
            return ""

    def __repr__(self):
        return f"<{self.status} {self.body[:300]!r}>"


class Api:
    def __init__(self, key, port=None):
        self.key = key
        self.port = port or apistack.PORT

    def call(self, method, path, body=None, key=True, headers=None, raw=None, timeout=30):
        h = {}
        if key:
            h["Authorization"] = "Bearer " + (self.key if key is True else key)
        if headers:
            h.update(headers)
        data = raw if raw is not None else (json.dumps(body) if body is not None else None)
        if isinstance(data, str):
            data = data.encode()
        if data is not None:
            h.setdefault("Content-Type", "application/json")
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            c.request(method, path, body=data, headers=h)
            r = c.getresponse()
            return Resp(r.status, {k.lower(): v for k, v in r.getheaders()}, r.read())
        finally:
            c.close()

    def get(self, path, **kw):
        return self.call("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.call("POST", path, body, **kw)

    def put(self, path, body=None, **kw):
        return self.call("PUT", path, body, **kw)

    def delete(self, path, **kw):
        return self.call("DELETE", path, **kw)


def wait_until(pred, timeout=10.0, step=0.05):
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return True
        time.sleep(step)
    return pred()
