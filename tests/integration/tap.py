"""A tiny TAP producer for the integration tests (stdlib only).

    t = Tap()
    t.run("name", fn)          # ok / not ok; an exception in fn is the failure's diagnostic
    t.skip("name", "why")
    t.done()                   # prints the plan, exits 0 (all ok), 1 (a failure)
"""

import sys
import traceback


class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0

    def ok(self, cond, name, diag=None):
        self.n += 1
        print("%s %d - %s" % ("ok" if cond else "not ok", self.n, name), flush=True)
        if not cond:
            self.failed += 1
            if diag:
                self.diag(diag)
        return cond

    def diag(self, text):
        for line in str(text).splitlines():
            print("# " + line, flush=True)

    def run(self, name, fn, *args):
        try:
            fn(*args)
        except Exception:  # the test's failure, whatever it was
            return self.ok(False, name, traceback.format_exc(limit=4))
        return self.ok(True, name)

    def skip(self, name, reason):
        self.n += 1
        print("ok %d - %s # SKIP %s" % (self.n, name, reason), flush=True)

    def done(self):
        print("1..%d" % self.n, flush=True)
        sys.exit(1 if self.failed else 0)


def skip_all(reason):
    """The whole file cannot run here: TAP skip plan and automake's exit 77."""
    print("1..0 # SKIP " + reason, flush=True)
    sys.exit(77)
