#!/usr/bin/python3
"""Tenancy, under runc and runsc: function B never runs in a container that
ran function A (container ids and host names differ, also when A's
containers sit idle and warm and when B is called while A is busy), and B
never sees A's environment variables, A's /tmp or A's processes."""

import os
import sys
import threading

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
import relib  # noqa: E402

PROBE = r'''
import os, socket, time
def handler(event, context):
    if event.get('plant'):
        with open('/tmp/planted-' + event['plant'], 'w') as f:
            f.write(os.environ.get('TENANT_SECRET', ''))
    time.sleep(event.get('s', 0))
    secret = event.get('look_for', '\x00')
    seen_in_proc = []
    for p in os.listdir('/proc'):
        if p.isdigit():
            try:
                if secret.encode() in open('/proc/%s/environ' % p, 'rb').read():
                    seen_in_proc.append(p)
            except OSError:
                pass
    tmp = []
    for root, dirs, files in os.walk('/tmp'):
        tmp += [os.path.join(root, f) for f in files]
    return {'host': socket.gethostname(), 'env': dict(os.environ),
            'tmp': tmp, 'seen_in_proc': seen_in_proc,
            'pids': sorted(int(p) for p in os.listdir('/proc') if p.isdigit())}
'''

t = h.Tap()
for iso in ("docker", "gvisor"):
    secret = "s3cr3t-" + h.unique_name("a")
    a = relib.create(PROBE, "python", iso, "ten-a", env={"TENANT_SECRET": secret})
    b = relib.create(PROBE, "python", iso, "ten-b", env={"OTHER": "b"})
    a_ctrs, a_hosts = set(), set()
    # A runs (two at once, so it gets two containers) and plants a file
    res = []

    def call_a(i):
        res.append(relib.invoke(a, {"plant": secret, "s": 0.5})[2])

    ths = [threading.Thread(target=call_a, args=(i,)) for i in range(2)]
    for th in ths:
        th.start()
    for th in ths:
        th.join(60)
    for j in res:
        if isinstance(j, dict) and j.get("status") == "success":
            a_ctrs.add(j["container"])
            a_hosts.add(j["result"]["host"])
    t.ok(len(res) == 2 and all(j.get("status") == "success" for j in res),
         f"{iso}: A ran twice at once and planted its secret in /tmp", res)
    # B: while A is idle and warm, and while A is busy
    busy = threading.Thread(target=relib.invoke, args=(a, {"s": 2}))
    b_res = [relib.invoke(b, {"look_for": secret})[2] for _ in range(3)]
    busy.start()
    b_res += [relib.invoke(b, {"look_for": secret})[2] for _ in range(3)]
    busy.join(60)
    ok = [j for j in b_res if isinstance(j, dict) and j.get("status") == "success"]
    t.ok(len(ok) == 6, f"{iso}: B ran 6 times", b_res)
    b_ctrs = {j["container"] for j in ok}
    b_hosts = {j["result"]["host"] for j in ok}
    t.ok(a_ctrs and not (a_ctrs & b_ctrs), f"{iso}: B never ran in A's containers",
         (a_ctrs, b_ctrs))
    t.ok(not (a_hosts & b_hosts), f"{iso}: B's host names are not A's", (a_hosts, b_hosts))
    leaks = [j["result"]["env"] for j in ok
             if "TENANT_SECRET" in j["result"]["env"]
             or any(secret in v for v in j["result"]["env"].values())]
    t.ok(not leaks, f"{iso}: B never sees A's environment variables", leaks[:1])
    tmp = [f for j in ok for f in j["result"]["tmp"] if "planted" in f or secret in f]
    t.ok(not tmp, f"{iso}: B never sees A's /tmp", tmp)
    procs = [j["result"]["seen_in_proc"] for j in ok if j["result"]["seen_in_proc"]]
    t.ok(not procs, f"{iso}: no process visible to B carries A's secret", procs)
    # A still sees its own file: the check above is not vacuous
    j = relib.invoke(a, {"look_for": secret})[2]
    mine = j.get("result", {}) if isinstance(j, dict) else {}
    t.ok(any("planted" in f for f in mine.get("tmp", []))
         and mine.get("env", {}).get("TENANT_SECRET") == secret,
         f"{iso}: A itself sees its planted file and its secret (sanity)", mine)
relib.figure("security", name="tenancy (runc and runsc)", tried=t.n, failed=t.failed)
t.done()
