#!/usr/bin/python3
"""The Node.js bootstrap (docker/runtimes/node/bootstrap.js) against the container protocol.

Runs every case with the local node, then inside lambda-node (node 18) under runc and runsc
(built or reused through scripts/build-images.sh) with the executor's container limits.
Prints TAP.
"""

import os
import re
import shutil
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bootstrap_cases as bc  # noqa: E402
import bootstrap_driver as bd  # noqa: E402
from bootstrap_cases import ok_result  # noqa: E402

BOOTSTRAP = os.path.join(bd.REPO, "docker", "runtimes", "node", "bootstrap.js")

AWS_CODE = r'''
const fs = require('fs');
const { execSync } = require('child_process');
console.log('loading', process.env.GREETING);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

exports.handler = async (event, context) => {
  console.log('got', event.n);
  console.error('to stderr');
  return { n: event.n, requestId: context.awsRequestId, functionName: context.functionName,
    version: context.functionVersion, memory: context.memoryLimitInMB,
    arn: context.invokedFunctionArn, logGroup: context.logGroupName,
    logStream: context.logStreamName,
    waits: context.callbackWaitsForEmptyEventLoop, greeting: process.env.GREETING,
    remaining: context.getRemainingTimeInMillis() };
};

exports.callback = (event, context, callback) => {
  setTimeout(() => callback(null, { via: 'callback', event }), 20);
};
exports.callbackErr = (event, context, callback) => callback(new RangeError('cb failed'));
exports.promise = (event) => sleep(10).then(() => ({ via: 'promise', event }));
exports.sync = (event) => ({ via: 'sync', event });

exports.fail = async () => {
  console.log('about to fail');
  await sleep(1);
  helper();
};
function helper() { null.boom(); }
exports.rejectString = async () => { throw 'plain string'; };

exports.clock = async (event, context) => {
  const before = context.getRemainingTimeInMillis();
  await sleep(200);
  return [before, context.getRemainingTimeInMillis()];
};

exports.concurrent = async (event) => {
  const t0 = Date.now();
  console.log(`item ${event.tag} start`);
  await sleep(event.wait);
  await Promise.resolve().then(() => console.log(`item ${event.tag} middle`));
  setTimeout(() => {}, 1);
  await new Promise((r) => setImmediate(r));
  process.stdout.write(`item ${event.tag} end\n`);
  return [event.tag, t0, Date.now()];
};

exports.noisy = async (event) => {
  const line = 'x'.repeat(999);
  const before = process.memoryUsage().rss;
  for (let i = 0; i < event.lines; i++) console.log(line);
  return { growthKb: (process.memoryUsage().rss - before) >> 10 };
};
exports.exactLogs = async (n) => { process.stdout.write('y'.repeat(n)); };
exports.sized = async (n) => 'r'.repeat(n);
exports.bigint = async () => ({ big: 10n });
exports.circular = async () => { const o = {}; o.self = o; return o; };

exports.leaky = async () => {
  console.log('via console.log');
  process.stdout.write('via stdout.write\n');
  process.stdout.write(Buffer.from('via a buffer\n'));
  console.info('via console.info');
  console.warn('via console.warn');
  fs.writeSync(1, 'raw fd 1\n');
  fs.writeSync(2, 'raw fd 2\n');
  execSync('/bin/echo from a child', { stdio: 'inherit' });
  return { stdin: fs.readFileSync(0, 'utf8'), ok: true };
};

exports.exits = async (code) => { console.log('bye'); process.exit(code); };
exports.unicode = async (e) => { console.log('héllo ✓'); return { s: 'ünïcode ✓', e }; };

exports.escape = async (event) => {
  if (event.throwLater) setTimeout(() => { throw new Error('escaped ' + event.tag); }, 10);
  await sleep(event.wait);
  return event.tag;
};
'''

SEED_SCRIPT = r'''
const args = process.argv.slice(2);
console.log('args:', args.join(' '));
console.log('argc', process.argv.length, require('path').basename(process.argv[1]));
setTimeout(() => console.log('later', args[0]), 30);
'''

SEED_MAIN = r'''
exports.main = async (name, times) => {
  console.log('computing for', name);
  return `Hello, ${name} x${times}`;
};
'''


LANG = bc.Lang("index.js", AWS_CODE, {"handler": "index.handler", "sized": "index.sized",
                                      "exact_logs": "index.exactLogs", "exits": "index.exits",
                                      "unicode": "index.unicode", "clock": "index.clock"})


def fresh(b, handler, **kw):
    return bc.fresh(LANG, b, handler, **kw)


def case_aws(b):
    r = b.init("index.handler", {"index.js": AWS_CODE},
               function={"name": "greeter", "version": 7, "memory_mb": 256,
                         "env": {"GREETING": "hi"}})
    assert r["type"] == "init_ok", r
    assert r["logs"] == "loading hi\n", r
    res = ok_result(b.invoke1({"n": 5}, id="req-1", deadline_ms=2500))
    v = res["result"]
    assert v["n"] == 5 and v["requestId"] == "req-1", v
    assert v["functionName"] == "greeter" and v["version"] == "7", v
    assert v["memory"] == "256" and v["greeting"] == "hi" and v["waits"] is True, v
    assert v["arn"].endswith(":function:greeter") and v["logGroup"] == "/aws/lambda/greeter", v
    assert 1500 < v["remaining"] <= 2500, v
    assert re.fullmatch(r"\d{4}/\d{2}/\d{2}/\[7\][0-9a-f]{32}", v["logStream"]), v
    assert v["logStream"][:10] in {time.strftime("%Y/%m/%d", time.gmtime(time.time() + d))
                                   for d in (-60, 0)}, v
    assert res["logs"] == "got 5\nto stderr\n", res
    assert res["logs_truncated"] is False and "output" not in res
    # the second call's context: its own request id, the same per-function fields
    w = ok_result(b.invoke1({"n": 6}, id="req-2", deadline_ms=2500))["result"]
    assert w["requestId"] == "req-2" and w["n"] == 6, w
    for k in ("functionName", "version", "memory", "arn", "logGroup", "logStream"):
        assert w[k] == v[k], (k, v, w)


def case_styles(b):
    fresh(b, "index.callback")
    assert ok_result(b.invoke1(1))["result"] == {"via": "callback", "event": 1}
    b.kill()
    b2 = bd.Boot(b.argv)
    try:
        fresh(b2, "index.promise")
        assert ok_result(b2.invoke1(2))["result"] == {"via": "promise", "event": 2}
    finally:
        b2.kill()
    b3 = bd.Boot(b.argv)
    try:
        fresh(b3, "index.sync")
        assert ok_result(b3.invoke1(3))["result"] == {"via": "sync", "event": 3}
    finally:
        b3.kill()
    b4 = bd.Boot(b.argv)
    try:
        fresh(b4, "index.callbackErr")
        r = b4.invoke1(4)
        assert r["ok"] is False and r["error"]["errorType"] == "RangeError", r
        assert r["error"]["errorMessage"] == "cb failed", r
    finally:
        b4.kill()


def case_error_stack(b):
    fresh(b, "index.fail")
    r = b.invoke1({})
    assert r["ok"] is False, r
    e = r["error"]
    assert e["errorType"] == "TypeError" and "boom" in e["errorMessage"], e
    joined = "\n".join(e["stackTrace"])
    assert "index.js" in joined and "helper" in joined, e
    assert "bootstrap.js" not in joined, e
    assert r["logs"].startswith("about to fail\n") and "[ERROR] TypeError" in r["logs"], r
    again = b.invoke1({})
    assert again["ok"] is False and again["error"]["errorType"] == "TypeError", again


def case_reject_string(b):
    fresh(b, "index.rejectString")
    r = b.invoke1({})
    assert r["ok"] is False, r
    assert r["error"]["errorType"] == "string" and r["error"]["errorMessage"] == "plain string", r


INIT_ERRORS = [
    ("index.nothere", {"index.js": AWS_CODE}, "Runtime.HandlerNotFound", "nothere"),
    ("missing.handler", {"index.js": AWS_CODE}, "Runtime.ImportModuleError", "missing"),
    ("index.handler", {"index.js": "exports.handler = async (e => 1;\n"},
     "Runtime.UserCodeSyntaxError", "SyntaxError"),
    ("nodot", {"index.js": AWS_CODE}, "Runtime.MalformedHandlerName", "nodot"),
    ("index.handler", {"index.js": "require('not-a-package-xyz');\n"},
     "Runtime.ImportModuleError", "not-a-package-xyz"),
    ("index.handler", {"index.js": "throw new EvalError('at load');\n"}, "EvalError",
     "at load"),
    ("index.handler", {"../evil.js": "x"}, "Runtime.InvalidCodeFile", "evil"),
    ("broken.js", {"broken.js": "console.log('x'\n"}, "Runtime.UserCodeSyntaxError",
     "SyntaxError"),
    ("lib/app.handler", {"lib/app.js": "exports.other = 1;\n"}, "Runtime.HandlerNotFound",
     "handler"),
]


def case_subdir_and_esm(b):
    r = b.init("lib/app.handler", {"lib/app.js": "exports.handler = async (e) => ({ sub: e });\n"})
    assert r["type"] == "init_ok", r
    assert ok_result(b.invoke1(1))["result"] == {"sub": 1}


def case_esm(b):
    r = b.init("app.handler", {"app.mjs": "export const handler = async (e) => ({ esm: e });\n"})
    assert r["type"] == "init_ok", r
    assert ok_result(b.invoke1(2))["result"] == {"esm": 2}


def case_seed_script(b):
    r = b.init("hello.js", {"hello.js": SEED_SCRIPT})
    assert r["type"] == "init_ok" and r["logs"] == "", r
    res = ok_result(b.invoke1(None, args=["a", "b", 3]))
    assert res["output"] == "args: a b 3\nargc 5 hello.js\nlater a\n", res
    res = ok_result(b.invoke1(None, args=["z"]))
    assert res["output"] == "args: z\nargc 3 hello.js\nlater z\n", res


def case_seed_main(b):
    r = b.init("main.js", {"main.js": SEED_MAIN})
    assert r["type"] == "init_ok", r
    res = ok_result(b.invoke1(None, args=["World", 3]))
    assert res["output"] == "computing for World\nHello, World x3\n", res
    assert res["result"] == "Hello, World x3", res


def case_concurrent_batch(b):
    fresh(b, "index.concurrent")
    waits = {"a": 300, "b": 20, "c": 150, "d": 60}
    items = [{"id": t, "event": {"tag": t, "wait": w}} for t, w in waits.items()]
    res = b.invoke(items)
    # completion order follows the waits, not the order sent; every item started before the
    # first one ended: they ran side by side (robust on a loaded machine, unlike wall time)
    assert [r["id"] for r in res] == ["b", "d", "c", "a"], [r["id"] for r in res]
    for r in res:
        ok_result(r)
        t = r["id"]
        assert r["logs"] == "item %s start\nitem %s middle\nitem %s end\n" % (t, t, t), r
    spans = {r["id"]: r["result"] for r in res}
    assert max(s[1] for s in spans.values()) <= min(s[2] for s in spans.values()), spans


def case_log_cap_100mb(b):
    fresh(b, "index.noisy")
    r = b.invoke1({"lines": 100000}, timeout=180)
    bc.check_100mb_logs(r)
    # holding what was printed would grow the RSS by >= 100 MB (and the containers, limited to
    # 128 MiB, would be OOM-killed); V8's lazy GC alone grows it by ~20-60 MB
    assert r["result"]["growthKb"] < 90 * 1024, r["result"]


def case_not_json(b):
    fresh(b, "index.bigint")
    r = b.invoke1({})
    assert r["ok"] is False and r["error"]["errorType"] == "Runtime.MarshalError", r
    assert "BigInt" in r["error"]["errorMessage"], r
    b.kill()
    b2 = bd.Boot(b.argv)
    try:
        fresh(b2, "index.circular")
        r = b2.invoke1({})
        assert r["ok"] is False and r["error"]["errorType"] == "Runtime.MarshalError", r
        assert b2.request({"type": "ping"}) == {"type": "pong"}
    finally:
        b2.kill()


def case_channel_private(b):
    fresh(b, "index.leaky")
    r = ok_result(b.invoke1({}))
    assert r["result"] == {"stdin": "", "ok": True}, r
    assert r["logs"] == ("via console.log\nvia stdout.write\nvia a buffer\nvia console.info\n"
                         "via console.warn\n"), r
    assert b.request({"type": "ping"}) == {"type": "pong"}
    assert b.close() == 0
    assert b.garbage is None, b.garbage
    err = bytes(b.stderr)
    assert b"raw fd 1" in err and b"raw fd 2" in err and b"from a child" in err, err


def case_escaped_error(b):
    fresh(b, "index.escape")
    items = [{"id": "bad", "event": {"tag": "bad", "wait": 200, "throwLater": True}},
             {"id": "good", "event": {"tag": "good", "wait": 100}}]
    res = {r["id"]: r for r in b.invoke(items)}
    assert res["bad"]["ok"] is False, res
    assert res["bad"]["error"]["errorMessage"] == "escaped bad", res
    assert res["good"]["ok"] is True and res["good"]["result"] == "good", res
    assert b.request({"type": "ping"}) == {"type": "pong"}


CASES = [
    ("AWS async handler: event, context, env, logs", case_aws),
    ("callback, promise and sync handlers; callback(err)", case_styles),
    ("thrown error: type, message, stack, logs", case_error_stack),
    ("rejected with a string: errorType string", case_reject_string),
    ("handler in a subdirectory (lib/app.handler)", case_subdir_and_esm),
    ("ES module handler (.mjs)", case_esm),
    ("seed style script: process.argv, output, waits for its timers", case_seed_script),
    ("seed style with exports.main: output and result", case_seed_main),
    ("batch runs concurrently, results as they complete, own logs", case_concurrent_batch),
    ("100 MB of prints: logs capped with marker, memory small", case_log_cap_100mb),
    ("non-JSON results (BigInt, cycle): Runtime.MarshalError, no crash", case_not_json),
    ("prints, raw fd writes and children never touch the channel", case_channel_private),
    ("an error escaping one batch item fails only that item", case_escaped_error),
]
INIT_NAME = ("init errors: handler, module, syntax, top-level throw, bad path, "
               "seed syntax; no hang")


def main():
    local = shutil.which("node") or "/usr/bin/node"
    if not os.path.exists(local):
        bc.Tap().skip_all("no node interpreter")
    t = bc.Tap()
    for label, argv, skip in bd.targets("lambda-node", [local, BOOTSTRAP]):
        bc.run_target(t, LANG, label, argv, skip, CASES, INIT_ERRORS, INIT_NAME)
    t.done()


if __name__ == "__main__":
    main()
