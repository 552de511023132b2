#!/usr/bin/python3
"""Escape attempts from inside a function, through the HTTP API, under runc
and runsc: reach the Docker socket, mount, ptrace another process, load a
kernel module, open raw and packet sockets, create a user namespace, become
root, write to the root file system or the code directory, reach the host's
stack over TCP or any network. Each attempt must fail and the test asserts
each one; writing /tmp must work (the failures are not a broken sandbox).

Then the seccomp profile (scripts/seccomp.sh, docs/design.md "Seccomp"),
each call under runc and runsc with the errno asserted: ptrace
(PTRACE_TRACEME in a forked child, PTRACE_ATTACH and PTRACE_SEIZE of a
child), process_vm_readv of a child, io_uring_setup, unshare and clone of a
new user namespace: EPERM; clone3: ENOSYS (so that glibc falls back to
clone). And the positive side: Python threads, a thread pool, fork and
subprocess, Node worker_threads and child_process work under both runtimes.
The containers are checked to carry the profile (SecurityOpt seccomp=...)
and, under gVisor, the runtime that applies it (runsc-lambda)."""

import json
import os
import subprocess
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
import relib  # noqa: E402

ESCAPE = r'''
import ctypes, os, socket, time
libc = ctypes.CDLL(None, use_errno=True)

def attempt(f):
    try:
        r = f()
        return 'succeeded: %r' % (r,)
    except BaseException as e:
        return 'failed: %s: %s' % (type(e).__name__, e)

def check(rc, what):
    if rc == -1:
        e = ctypes.get_errno()
        raise OSError(e, '%s: %s' % (what, os.strerror(e)))
    return rc

def docker_sock_connect():
    for p in ('/var/run/docker.sock', '/run/docker.sock'):
        try:
            s = socket.socket(socket.AF_UNIX)
            s.connect(p)
            return p
        except FileNotFoundError:
            continue
    raise FileNotFoundError('no docker socket')

def docker_sock_read():
    return open('/var/run/docker.sock', 'rb').read(1)

def mount_tmpfs():
    os.makedirs('/tmp/m', exist_ok=True)
    return check(libc.mount(b'none', b'/tmp/m', b'tmpfs', 0, None), 'mount')

def mount_proc():
    os.makedirs('/tmp/p', exist_ok=True)
    return check(libc.mount(b'proc', b'/tmp/p', b'proc', 0, None), 'mount proc')

def ptrace_init():
    # PTRACE_ATTACH (16) to pid 1, the runtime that serves this function
    return check(libc.ptrace(16, 1, None, None), 'ptrace pid 1')

def ptrace_peer():
    pid = os.fork()
    if pid == 0:
        time.sleep(3)
        os._exit(0)
    try:
        # PTRACE_SEIZE (0x4206) a sibling-like process we did not start traced
        return check(libc.ptrace(0x4206, pid, None, None), 'ptrace child')
    finally:
        os.kill(pid, 9)
        os.waitpid(pid, 0)

def finit_module():
    fd = os.open('/dev/null', os.O_RDONLY)
    return check(libc.syscall(313, fd, b'', 0), 'finit_module')

def init_module():
    buf = ctypes.create_string_buffer(b'\x7fELF' + b'\0' * 60)
    return check(libc.syscall(175, buf, 64, b''), 'init_module')

def raw_socket():
    return socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP).fileno()

def packet_socket():
    return socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0).fileno()

def unshare_user():
    return check(libc.unshare(0x10000000), 'unshare(CLONE_NEWUSER)')

def setuid_root():
    os.setuid(0)
    return os.getuid()

def write_etc():
    open('/etc/escaped', 'w').write('x')

def write_root():
    open('/escaped', 'w').write('x')

def write_usr():
    open('/usr/bin/escaped', 'w').write('x')

def write_task():
    # the code directory, bind-mounted read-only (also in a container taken
    # from the pre-warmed pool: its own host directory, filled on the claim)
    open('/var/task/escaped', 'w').write('x')

def tcp_host_stack(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(2)
    s.connect(('127.0.0.1', port))
    s.sendall(b'GET /api/health HTTP/1.0\r\n\r\n')
    return s.recv(100)

def tcp_out():
    # any address off the container: there must be no route at all
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(2)
    routes = [l.split() for l in open('/proc/net/route').readlines()[1:]]
    if not routes:
        raise OSError('no route in /proc/net/route')
    return routes

def ifaces():
    names = sorted(l.split(':')[0].strip() for l in open('/proc/net/dev').readlines()[2:])
    if names != ['lo']:
        return names
    raise OSError('only lo')

def handler(event, context):
    tests = {
        'docker_sock_connect': docker_sock_connect, 'docker_sock_read': docker_sock_read,
        'mount_tmpfs': mount_tmpfs, 'mount_proc': mount_proc,
        'ptrace_pid1': ptrace_init, 'ptrace_child': ptrace_peer,
        'finit_module': finit_module, 'init_module': init_module,
        'raw_socket': raw_socket, 'packet_socket': packet_socket,
        'unshare_user': unshare_user, 'setuid_root': setuid_root,
        'write_etc': write_etc, 'write_root': write_root, 'write_usr': write_usr,
        'write_code': write_task,
        'tcp_host_stack': lambda: tcp_host_stack(event['port']),
        'network_route': tcp_out, 'network_interfaces': ifaces,
    }
    out = {'_uid': os.getuid(), '_task_root': os.environ.get('LAMBDA_TASK_ROOT'),
           '_cap_eff': [l.split()[1] for l in open('/proc/self/status')
                        if l.startswith('CapEff')][0]}
    # unshare last: it changes the process's credentials
    out.update({k: attempt(f) for k, f in tests.items() if k != 'unshare_user'})
    out['unshare_user'] = attempt(unshare_user)
    out['_tmp_write'] = attempt(lambda: open('/tmp/ok', 'w').write('x'))
    return out
'''

# Every attempt must fail under both runtimes, ptrace of a child the function
# forked itself and a user namespace under gVisor included: the platform's
# seccomp profile denies them, and runsc-lambda applies it (--oci-seccomp).
t = h.Tap()
fn = relib.create(ESCAPE, "python", "docker", "sec-escape", timeout_ms=20000)
tried = 0
for iso in ("docker", "gvisor"):
    st, _, j = relib.invoke(fn, {"port": h.PORT}, iso)
    r = j.get("result") if isinstance(j, dict) else None
    if not t.ok(st == 200 and isinstance(r, dict), f"{iso}: the escape function ran", (st, j)):
        continue
    print(f"# {iso}: uid {r['_uid']}, CapEff {r['_cap_eff']}, code in {r['_task_root']}",
          flush=True)
    for k, v in sorted(r.items()):
        if k.startswith("_"):
            continue
        tried += 1
        t.ok(v.startswith("failed"), f"{iso}: {k} fails ({v[:100]})", v)
    t.ok(r["_tmp_write"].startswith("succeeded"), f"{iso}: writing /tmp works (sanity)",
         r["_tmp_write"])
    t.ok(r["_uid"] != 0, f"{iso}: the function does not run as root (uid {r['_uid']})")
    t.ok(int(r["_cap_eff"], 16) == 0, f"{iso}: no effective capability ({r['_cap_eff']})")
t.ok(not os.path.exists("/etc/escaped") and not os.path.exists("/escaped"),
     "nothing appeared on the host")

SECCOMP = r'''
import ctypes, errno, os, platform, struct

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
libc.ptrace.restype = ctypes.c_long
NR = {  # the calls glibc has no wrapper for (or that we make raw)
    "x86_64": {"clone": 56, "process_vm_readv": 310, "io_uring_setup": 425, "clone3": 435},
    "aarch64": {"clone": 220, "process_vm_readv": 270, "io_uring_setup": 425, "clone3": 435},
}[platform.machine()]
CLONE_NEWUSER, SIGCHLD = 0x10000000, 17
PTRACE_TRACEME, PTRACE_ATTACH, PTRACE_DETACH, PTRACE_SEIZE = 0, 16, 17, 0x4206


def rc_errno(rc):
    """0 when the call succeeded, else its errno."""
    return ctypes.get_errno() if rc == -1 else 0


def in_child(f):
    """Runs f() in a forked child (a call that succeeds must not change this
    process); returns the errno f returned there."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.write(w, struct.pack("i", f()))
        finally:
            os._exit(0)
    os.close(w)
    data = os.read(r, 4)
    os.close(r)
    os.waitpid(pid, 0)
    return struct.unpack("i", data)[0] if len(data) == 4 else -1


def with_sleeping_child(f):
    """f(pid) on a child that sleeps; the child is killed afterwards."""
    pid = os.fork()
    if pid == 0:
        import time
        time.sleep(30)
        os._exit(0)
    try:
        return f(pid)
    finally:
        os.kill(pid, 9)
        os.waitpid(pid, 0)


def ptrace_child(req):
    def f(pid):
        e = rc_errno(libc.ptrace(req, pid, None, None))
        if e == 0:
            libc.ptrace(PTRACE_DETACH, pid, None, None)
        return e
    return with_sleeping_child(f)


SECRET = ctypes.create_string_buffer(b"secret of the parent's child", 64)


def vm_readv_child():
    class iovec(ctypes.Structure):
        _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]
    local = ctypes.create_string_buffer(64)
    liov = iovec(ctypes.cast(local, ctypes.c_void_p), 64)
    riov = iovec(ctypes.cast(SECRET, ctypes.c_void_p), 64)  # same address in the child
    return with_sleeping_child(lambda pid: rc_errno(libc.syscall(
        NR["process_vm_readv"], pid, ctypes.byref(liov), 1, ctypes.byref(riov), 1, 0)))


def io_uring_setup():
    params = ctypes.create_string_buffer(120)  # struct io_uring_params, zeroed
    fd = libc.syscall(NR["io_uring_setup"], 4, params)
    e = rc_errno(fd)
    if fd >= 0:
        os.close(fd)
    return e


def fork_like(rc):
    """For a clone-style call: the new process exits at once."""
    e = rc_errno(rc)
    if rc == 0:
        os._exit(0)
    if rc > 0:
        os.waitpid(rc, 0)
    return e


def clone_newuser():
    return fork_like(libc.syscall(NR["clone"], CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0))


def clone3_plain():
    # struct clone_args {flags, pidfd, child_tid, parent_tid, exit_signal,
    # stack, stack_size, tls}: a fork, valid everywhere clone3 exists
    args = struct.pack("8Q", 0, 0, 0, 0, SIGCHLD, 0, 0, 0)
    buf = ctypes.create_string_buffer(args, len(args))
    return fork_like(libc.syscall(NR["clone3"], buf, len(args)))


def handler(event, context):
    return {
        "ptrace_traceme_in_child": in_child(lambda: rc_errno(
            libc.ptrace(PTRACE_TRACEME, 0, None, None))),
        "ptrace_attach_child": ptrace_child(PTRACE_ATTACH),
        "ptrace_seize_child": ptrace_child(PTRACE_SEIZE),
        "process_vm_readv_child": vm_readv_child(),
        "io_uring_setup": io_uring_setup(),
        "unshare_newuser": in_child(lambda: rc_errno(libc.unshare(CLONE_NEWUSER))),
        "clone_newuser": in_child(clone_newuser),
        "clone3": in_child(clone3_plain),
    }
'''

WORKERS_PY = r'''
import concurrent.futures, os, subprocess, sys, threading


def handler(event, context):
    out = {}
    seen = []
    ts = [threading.Thread(target=lambda i=i: seen.append(i * i)) for i in range(8)]
    for th in ts:
        th.start()
    for th in ts:
        th.join()
    out["threads"] = sorted(seen)
    with concurrent.futures.ThreadPoolExecutor(4) as ex:
        out["pool"] = sum(ex.map(lambda x: x + 1, range(100)))
    pid = os.fork()
    if pid == 0:
        os._exit(7)
    out["fork_exit"] = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
    p = subprocess.run([sys.executable, "-c", "import threading; print(6 * 7)"],
                       capture_output=True, text=True, timeout=20)
    out["subprocess"] = p.stdout.strip()
    return out
'''

WORKERS_JS = r'''
const { Worker } = require("worker_threads");
const { execFileSync } = require("child_process");

exports.handler = async () => {
  const fromWorker = await new Promise((resolve, reject) => {
    const w = new Worker("const { parentPort } = require('worker_threads');" +
                        "parentPort.postMessage(6 * 7);", { eval: true });
    w.once("message", resolve);
    w.once("error", reject);
  });
  const child = execFileSync(process.execPath, ["-e", "console.log(6 * 7)"],
                             { timeout: 20000 }).toString().trim();
  return { worker: fromWorker, child };
};
'''

EPERM, ENOSYS = 1, 38
WANT = {
    "ptrace_traceme_in_child": EPERM, "ptrace_attach_child": EPERM,
    "ptrace_seize_child": EPERM, "process_vm_readv_child": EPERM,
    "io_uring_setup": EPERM, "unshare_newuser": EPERM, "clone_newuser": EPERM,
    "clone3": ENOSYS,
}
ERRNO_NAME = {0: "success", EPERM: "EPERM", ENOSYS: "ENOSYS"}
sc_fn = relib.create(SECCOMP, "python", "docker", "sec-seccomp", timeout_ms=20000)
py_fn = relib.create(WORKERS_PY, "python", "docker", "sec-threads", timeout_ms=30000)
js_fn = relib.create(WORKERS_JS, "javascript", "docker", "sec-threads-js", timeout_ms=30000,
                     memory_mb=256)
for iso in ("docker", "gvisor"):
    st, _, j = relib.invoke(sc_fn, {}, iso)
    r = j.get("result") if isinstance(j, dict) else None
    if not t.ok(st == 200 and isinstance(r, dict), f"{iso}: the seccomp function ran", (st, j)):
        continue
    for k, want in WANT.items():
        tried += 1
        got = r.get(k)
        t.eq(got, want, f"{iso}: {k} fails with {ERRNO_NAME[want]} "
                        f"(got {ERRNO_NAME.get(got, got)})")
    st, _, j = relib.invoke(py_fn, {}, iso)
    r = j.get("result") if isinstance(j, dict) else None
    t.eq((st, r), (200, {"threads": [i * i for i in range(8)], "pool": 5050, "fork_exit": 7,
                         "subprocess": "42"}),
         f"{iso}: Python threads, a thread pool, fork and subprocess work")
    st, _, j = relib.invoke(js_fn, {}, iso)
    r = j.get("result") if isinstance(j, dict) else None
    t.eq((st, r), (200, {"worker": 42, "child": "42"}),
         f"{iso}: Node worker_threads and child_process work")


def inspect(ids):
    p = subprocess.run(["docker", "inspect"] + ids, capture_output=True, text=True, timeout=60)
    return json.loads(p.stdout) if p.returncode == 0 else []


# Every container of this stack carries the profile; gVisor ones run under
# the runtime that applies it. (Containers may come and go meanwhile: those
# that vanished between the listing and the inspect are simply not seen.)
ours = [c for c in inspect(relib.instance_containers()) if c.get("HostConfig")]
seccomp_opts = [[o for o in c["HostConfig"].get("SecurityOpt") or [] if o.startswith("seccomp=")]
                for c in ours]
t.ok(ours and all(len(o) == 1 for o in seccomp_opts),
     f"all {len(ours)} containers of the stack carry one seccomp= profile",
     [c["HostConfig"].get("SecurityOpt") for c in ours][:3])
profiles = [json.loads(o[0][len("seccomp="):]) for o in seccomp_opts if len(o) == 1]
allowed = {n for p in profiles for r in p.get("syscalls", []) if r.get("action") == "SCMP_ACT_ALLOW"
           for n in r.get("names", [])}
t.ok(profiles and allowed and not allowed & {"ptrace", "process_vm_readv", "process_vm_writev",
                                              "io_uring_setup", "io_uring_enter", "unshare",
                                              "clone3"},
     "the profile allows no ptrace, process_vm_*, io_uring_*, unshare, clone3")
runtimes = sorted({c["HostConfig"]["Runtime"] for c in ours})
t.ok("runsc-lambda" in runtimes and "runsc" not in runtimes,
     f"gVisor containers run under runsc-lambda (runtimes seen: {runtimes})")
relib.figure("security", name="escape attempts (runc and runsc)", tried=tried, failed=t.failed)
t.done()
