"""Lambda runtime bootstrap for Python 3.11 (stdlib only).

Speaks the container protocol of docs/design.md with the executor: frames are a 4-byte
big-endian length then compact JSON; requests arrive on stdin, answers leave on a private
duplicate of fd 1. At start fd 1 is pointed at fd 2 and fd 0 at /dev/null, so that nothing the
user's code prints or reads can touch the protocol channel. print(), sys.stdout and sys.stderr
are captured per invocation, capped, and returned in the result frame.

Two handler styles:
  aws   "module.function": handler(event, context), the AWS Lambda Python model.
  seed  "file.py": if the file defines a top-level main(), it is loaded once and each call runs
        main(*args) and prints its return value (unless None); otherwise the whole file runs as
        __main__ with sys.argv = [file, *args] on every call. output = what it printed.
"""

# Only what every start needs is imported here (cold starts pay for each module); ast, base64,
# tempfile and traceback are imported where they are used.
import io
import json
import os
import struct
import sys
import time

MAX_IN_FRAME = 256 * 1024 * 1024
DEFAULT_LOG_CAP = 1024 * 1024
DEFAULT_RESULT_CAP = 6291456
RESPONSE_TOO_LARGE = "response exceeded the allowed length"

_proto_in = None
_proto_out = None


# ---------------------------------------------------------------------------------------------
# Framing


def _encode(obj):
    try:
        return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates: fall back to \u escapes
        return json.dumps(obj, separators=(",", ":")).encode("ascii")


def _frame(obj, raw_result=None):
    """raw_result: a result already encoded (bytes of JSON), appended as the "result" member,
    so that a result is encoded once (its check in _result_json is that encoding)."""
    data = _encode(obj)
    if raw_result is not None:
        data = b"".join((data[:-1], b',"result":', raw_result, b"}"))
    return struct.pack(">I", len(data)) + data


def _write_all(data):
    view = memoryview(data)
    while view:
        n = os.write(_proto_out, view)
        view = view[n:]


def send(obj, raw_result=None):
    if _outbox is None:
        _write_all(_frame(obj, raw_result))
    else:
        _outbox.send(_frame(obj, raw_result))


class Outbox:
    """The result frames of a batch's items leave together with the last one: one write, so
    one wake-up of the shim, dockerd and the executor (each ~0.1 ms of CPU here, several times
    that under gVisor) instead of one per item. A thread lets them go early when an item runs
    for HOLD_S without another finishing, so a finished item's result is not lost when a later
    item runs into its deadline (the executor would run that finished item again). The thread
    needs the GIL for that, which pure Python code gives up every switch interval (5 ms) and a
    blocking call at once. What can still lose held results: the process dying (a crash,
    os._exit, an OOM kill) within those few ms, or C code that keeps the GIL until the
    deadline; the executor then retries the finished items. All writes to the protocol channel
    go through this object's lock once it exists, so frames never interleave."""

    HOLD_S = 0.002

    def __init__(self):
        import threading  # only batches of more than one item need it (cold starts do not)

        self.cv = threading.Condition(threading.Lock())
        self.frames = []
        self.done = 0  # results held so far: the flusher's sign of progress
        threading.Thread(target=self._run, name="bootstrap-outbox", daemon=True).start()

    def hold(self, data):
        with self.cv:
            self.frames.append(data)
            self.done += 1
            if len(self.frames) == 1:
                self.cv.notify()

    def send(self, data=b""):
        """Writes what is held, then data, in one write."""
        with self.cv:
            self.frames.append(data)
            self._write()

    def _write(self):
        frames, self.frames = self.frames, []
        if frames:
            _write_all(b"".join(frames))

    def _run(self):
        with self.cv:
            while True:
                while not self.frames:
                    self.cv.wait()
                seen = self.done
                self.cv.wait(self.HOLD_S)
                if self.frames and self.done == seen:
                    self._write()


_outbox = None  # made by the first batch of more than one item


def die(msg):
    os.write(2, ("bootstrap: " + msg + "\n").encode("utf-8", "backslashreplace"))
    os._exit(1)


def read_exact(n, eof_ok=False):
    """Read n bytes from the protocol input; b'' at a clean EOF (eof_ok) before any byte."""
    buf = _proto_in.read(n) or b""
    if len(buf) < n and not (eof_ok and not buf):
        die("protocol channel closed in the middle of a frame")
    return buf


def discard(n):
    while n > 0:
        chunk = _proto_in.read(min(n, 1 << 20))
        if not chunk:
            die("protocol channel closed in the middle of a frame")
        n -= len(chunk)


def error_obj(message, etype, trace=None):
    return {"errorMessage": message, "errorType": etype, "stackTrace": trace or []}


# ---------------------------------------------------------------------------------------------
# Capped capture of prints


class Capped:
    """Keeps at most cap bytes of text; counts the rest. Memory never exceeds the cap."""

    def __init__(self, cap):
        self.cap = cap
        self.data = bytearray()
        self.dropped = 0

    def add(self, b):
        room = self.cap - len(self.data)
        if len(b) <= room:
            self.data += b
        else:
            if room > 0:
                self.data += b[:room]
            self.dropped += len(b) - max(room, 0)

    def text(self):
        """(text, truncated): when cut, the last line is the marker and the total fits the cap."""
        data = self.data
        if not self.dropped:
            return data.decode("utf-8", "replace"), False
        worst = "\n[logs truncated: %d bytes dropped]" % (self.dropped + len(data))
        keep = max(0, self.cap - len(worst.encode()))
        dropped = self.dropped + len(data) - keep
        text = bytes(data[:keep]).decode("utf-8", "ignore")
        if text and not text.endswith("\n"):
            text += "\n"
        return text + "[logs truncated: %d bytes dropped]" % dropped, True


class Capture:
    """Where prints go during one invocation (or during init)."""

    def __init__(self, cap, with_output):
        self.logs = Capped(cap)
        self.output = Capped(cap) if with_output else None

    def write(self, stream, s):
        b = s.encode("utf-8", "backslashreplace")
        self.logs.add(b)
        if stream == "stdout" and self.output is not None:
            self.output.add(b)


class _BinaryProxy:
    def __init__(self, text):
        self._text = text

    def write(self, b):
        b = bytes(b)
        self._text.write(b.decode("utf-8", "replace"))
        return len(b)

    def flush(self):
        pass


class StreamProxy(io.TextIOBase):
    """sys.stdout / sys.stderr: forwards to the current capture, or to fd 2 between calls."""

    current = None

    def __init__(self, name, fd):
        super().__init__()
        self._name = name
        self._fd = fd
        self.buffer = _BinaryProxy(self)

    def write(self, s):
        if not isinstance(s, str):
            raise TypeError("write() argument must be str, not %s" % type(s).__name__)
        cap = StreamProxy.current
        if cap is not None:
            cap.write(self._name, s)
        else:
            os.write(2, s.encode("utf-8", "backslashreplace"))
        return len(s)

    def writable(self):
        return True

    def isatty(self):
        return False

    def fileno(self):
        return self._fd

    @property
    def encoding(self):
        return "utf-8"

    @property
    def errors(self):
        return "backslashreplace"


# ---------------------------------------------------------------------------------------------
# Context (AWS model)


class LambdaContext:
    # What does not change from call to call is worked out once per function and per day
    # (_context_base): it was a tenth of a hello call's CPU in the bootstrap.
    _base = None  # (spec, day, fields)

    def __init__(self, fn, request_id, deadline):
        self.__dict__.update(_context_base(fn))
        self.aws_request_id = request_id
        self.identity = None
        self.client_context = None
        self._deadline = deadline

    def get_remaining_time_in_millis(self):
        return max(0, int((self._deadline - time.monotonic()) * 1000))


_STREAM_ID = os.urandom(16).hex()


def _context_base(fn):
    now = time.time()
    day = int(now // 86400)
    base = LambdaContext._base
    if base is not None and base[0] is fn and base[1] == day:
        return base[2]
    name = str(fn.get("name") or "function")
    version = str(fn.get("version") or "$LATEST")
    region = os.environ.get("AWS_REGION", "us-east-1")
    account = str(fn.get("account_id") or "000000000000")
    fields = {
        "function_name": name,
        "function_version": version,
        "memory_limit_in_mb": str(fn.get("memory_mb") or 128),
        "invoked_function_arn": fn.get("arn")
        or "arn:aws:lambda:%s:%s:function:%s" % (region, account, name),
        "log_group_name": "/aws/lambda/" + name,
        "log_stream_name": "%s/[%s]%s"
        % (time.strftime("%Y/%m/%d", time.gmtime(now)), version, _STREAM_ID),
    }
    LambdaContext._base = (fn, day, fields)
    return fields


# ---------------------------------------------------------------------------------------------
# Loading the function


class InitError(Exception):
    def __init__(self, message, etype, trace=None):
        super().__init__(message)
        self.error = error_obj(message, etype, trace)


class Function:
    def __init__(self, spec, log_cap, result_cap):
        self.spec = spec
        self.log_cap = log_cap
        self.result_cap = result_cap
        self.style = None
        self.handler = None  # callable (aws, seed main)
        self.script = None  # (code object, path) for a seed script without main
        self.path = None


_SELF = os.path.abspath(__file__)


def _trace_of(tb):
    """AWS-style stackTrace: formatted frames, without the bootstrap's and importlib's."""
    import traceback

    frames = [
        f
        for f in traceback.extract_tb(tb)
        if f.filename != _SELF and not f.filename.startswith("<frozen ")
    ]
    return traceback.format_list(frames)


def _syntax_error(e, modname):
    trace = ['  File "%s" Line %s\n        %s\n' % (e.filename, e.lineno, (e.text or "").strip())]
    return InitError(
        "Syntax error in module '%s': %s" % (modname, e), "Runtime.UserCodeSyntaxError", trace
    )


def _write_files(files):
    import base64
    import tempfile

    root = tempfile.mkdtemp(prefix="task-")
    for f in files:
        if not isinstance(f, dict) or not isinstance(f.get("path"), str):
            raise InitError("files[]: each entry needs a string path", "Runtime.InvalidCodeFile")
        rel = os.path.normpath(f["path"])
        if os.path.isabs(rel) or rel.startswith("..") or rel in ("", "."):
            raise InitError("invalid code file path: %r" % f["path"], "Runtime.InvalidCodeFile")
        try:
            data = base64.b64decode(f.get("data") or "", validate=True)
        except (ValueError, TypeError):
            raise InitError(
                "code file %s: data is not valid base64" % rel, "Runtime.InvalidCodeFile"
            ) from None
        dest = os.path.join(root, rel)
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        with open(dest, "wb") as out:
            out.write(data)
    return root


def _check_module_conflict(modname, task_dir):
    top = modname.split(".")[0]
    if top in sys.builtin_module_names:
        raise InitError(
            "Cannot use built-in module %s as a handler module" % top,
            "Runtime.BuiltInModuleConflict",
        )
    m = sys.modules.get(top)
    if m is not None:
        f = getattr(m, "__file__", None) or ""
        if not os.path.abspath(f).startswith(task_dir + os.sep):
            raise InitError(
                "Cannot use module %s as a handler module: it shadows a runtime module" % top,
                "Runtime.BuiltInModuleConflict",
            )


def _load_aws(fn, handler, task_dir):
    import importlib

    try:
        modname, fname = handler.rsplit(".", 1)
    except ValueError as e:
        raise InitError("Bad handler '%s': %s" % (handler, e), "Runtime.MalformedHandlerName")
    if not modname or not fname:
        raise InitError("Bad handler '%s'" % handler, "Runtime.MalformedHandlerName")
    modname = modname.replace("/", ".")
    _check_module_conflict(modname, task_dir)
    try:
        mod = importlib.import_module(modname)
    except SyntaxError as e:
        raise _syntax_error(e, modname) from None
    except ImportError as e:
        raise InitError(
            "Unable to import module '%s': %s" % (modname, e), "Runtime.ImportModuleError"
        ) from None
    except Exception as e:  # error in the module's top level: like AWS, its own class name
        raise InitError(str(e), type(e).__name__, _trace_of(e.__traceback__)) from None
    h = getattr(mod, fname, None)
    if h is None:
        raise InitError(
            "Handler '%s' missing on module '%s'" % (fname, modname), "Runtime.HandlerNotFound"
        )
    if not callable(h):
        raise InitError(
            "Handler '%s' on module '%s' is not callable" % (fname, modname),
            "Runtime.HandlerNotFound",
        )
    fn.handler = h


def _load_seed(fn, handler, task_dir):
    import ast
    import importlib.util

    path = os.path.join(task_dir, handler)
    modname = os.path.splitext(os.path.basename(handler))[0]
    try:
        with open(path, "rb") as f:
            source = f.read()
    except OSError as e:
        raise InitError(
            "Unable to import module '%s': %s" % (modname, e.strerror), "Runtime.ImportModuleError"
        ) from None
    try:
        tree = ast.parse(source, filename=path)
        code = compile(tree, path, "exec")
    except SyntaxError as e:
        raise _syntax_error(e, modname) from None
    has_main = any(
        isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == "main"
        for n in tree.body
    )
    fn.path = path
    if not has_main:
        fn.script = code
        return
    if modname in sys.modules or modname in sys.builtin_module_names:
        modname = "__lambda_seed__"
    spec = importlib.util.spec_from_file_location(modname, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[modname] = mod
    try:
        exec(code, mod.__dict__)
    except Exception as e:
        raise InitError(str(e), type(e).__name__, _trace_of(e.__traceback__)) from None
    if not callable(getattr(mod, "main", None)):
        raise InitError("main is not callable in %s" % handler, "Runtime.HandlerNotFound")
    fn.handler = mod.main


def _set_env(spec, task_dir, handler):
    env = spec.get("env") or {}
    if not isinstance(env, dict):
        raise InitError("function.env must be an object", "Runtime.InvalidFunction")
    for k, v in env.items():
        os.environ[str(k)] = v if isinstance(v, str) else json.dumps(v)
    name = str(spec.get("name") or "function")
    os.environ.update(
        {
            "AWS_LAMBDA_FUNCTION_NAME": name,
            "AWS_LAMBDA_FUNCTION_VERSION": str(spec.get("version") or "$LATEST"),
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.get("memory_mb") or 128),
            "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/" + name,
            "AWS_EXECUTION_ENV": "AWS_Lambda_python3.11",
            "LAMBDA_TASK_ROOT": task_dir,
            "LAMBDA_RUNTIME_DIR": os.path.dirname(os.path.abspath(__file__)),
            "_HANDLER": handler,
        }
    )


def _cap_field(msg, spec, name, default):
    v = msg.get(name, spec.get(name, default))
    if not isinstance(v, int) or isinstance(v, bool) or v < 0:
        raise InitError("%s must be a non-negative integer" % name, "Runtime.InvalidFunction")
    return v


def load_function(msg):
    spec = msg.get("function")
    if not isinstance(spec, dict):
        raise InitError("init: function must be an object", "Runtime.InvalidFunction")
    handler = spec.get("handler")
    if not isinstance(handler, str) or not handler:
        raise InitError("init: function.handler must be a non-empty string", "Runtime.InvalidFunction")
    fn = Function(
        spec,
        _cap_field(msg, spec, "log_cap_bytes", DEFAULT_LOG_CAP),
        _cap_field(msg, spec, "result_cap_bytes", DEFAULT_RESULT_CAP),
    )
    style = spec.get("style") or ("seed" if handler.endswith(".py") else "aws")
    if style not in ("aws", "seed"):
        raise InitError("init: unknown style %r" % style, "Runtime.InvalidFunction")
    fn.style = style
    if isinstance(msg.get("code_path"), str):
        task_dir = os.path.abspath(msg["code_path"])
    else:
        task_dir = _write_files(msg.get("files") or [])
    _set_env(spec, task_dir, handler)
    sys.path.insert(0, task_dir)
    os.chdir(task_dir)
    if style == "aws":
        _load_aws(fn, handler, task_dir)
    else:
        _load_seed(fn, handler, task_dir)
    return fn


# ---------------------------------------------------------------------------------------------
# Requests


class Bootstrap:
    def __init__(self):
        self.fn = None
        self.init_tried = False

    def handle(self, msg):
        t = msg.get("type")
        if t == "ping":
            send({"type": "pong"})
        elif t == "init":
            self.init(msg)
        elif t == "invoke":
            self.invoke(msg)
        else:
            send(frame_error("unknown frame type %r" % (t,)))

    def init(self, msg):
        if self.init_tried:
            send(
                {
                    "type": "init_error",
                    "error": error_obj(
                        "this container was already initialised", "Runtime.AlreadyInitialized"
                    ),
                }
            )
            return
        self.init_tried = True
        t0 = time.perf_counter()
        cap = msg.get("log_cap_bytes", DEFAULT_LOG_CAP)
        capture = Capture(cap if isinstance(cap, int) and cap >= 0 else DEFAULT_LOG_CAP, False)
        StreamProxy.current = capture
        try:
            self.fn = load_function(msg)
            reply = {"type": "init_ok"}
        except InitError as e:
            reply = {"type": "init_error", "error": e.error}
        except Exception as e:  # a bug of ours or an odd file system: still an answer
            reply = {
                "type": "init_error",
                "error": error_obj(str(e), type(e).__name__, _trace_of(e.__traceback__)),
            }
        finally:
            StreamProxy.current = None
        reply["init_ms"] = round((time.perf_counter() - t0) * 1000, 3)
        reply["logs"], reply["logs_truncated"] = capture.logs.text()
        send(reply)

    def invoke(self, msg):
        received = time.monotonic()
        items = msg.get("items")
        if not isinstance(items, list):
            send(frame_error("invoke: items must be an array"))
            return
        global _outbox
        if len(items) > 1 and _outbox is None:
            _outbox = Outbox()
        cpu = None  # the CPU clock where the last item's figure ended
        try:
            for k, item in enumerate(items):
                if not isinstance(item, dict) or not isinstance(item.get("id"), str):
                    send(frame_error("invoke: each item needs a string id"))
                    continue
                if self.fn is None:
                    send(
                        {
                            "type": "result",
                            "id": item["id"],
                            "ok": False,
                            "error": error_obj(
                                "function not initialised", "Runtime.NotInitialized"
                            ),
                            "logs": "",
                            "logs_truncated": False,
                            "duration_ms": 0,
                        }
                    )
                    continue
                reply, raw, cpu = run_item(self.fn, item, received, cpu)
                if _outbox is not None and k < len(items) - 1:
                    _outbox.hold(_frame(reply, raw))
                else:
                    send(reply, raw)
        finally:
            if _outbox is not None:
                _outbox.send()


def frame_error(message):
    return {"type": "error", "error": error_obj(message, "Runtime.InvalidFrame")}


def _str_arg(a):
    return a if isinstance(a, str) else json.dumps(a)


def _call(fn, item, deadline):
    """Runs one item with prints captured. Returns the return value; raises what the code raised."""
    args = item.get("args")
    if not isinstance(args, list):
        args = []
    if fn.style == "aws":
        ctx = LambdaContext(fn.spec, item["id"], deadline)
        result = fn.handler(item.get("event"), ctx)
    else:
        sys.argv = [fn.path] + [_str_arg(a) for a in args]
        if fn.script is not None:
            exec(fn.script, {"__name__": "__main__", "__file__": fn.path, "__builtins__": __builtins__})
            return None
        result = fn.handler(*args)
    if hasattr(result, "__await__"):
        import asyncio

        result = asyncio.run(_await(result))
    if fn.style == "seed" and result is not None:
        print(result)
    return result


async def _await(aw):
    return await aw


def _result_json(fn, result):
    """Checks that the result is JSON and within the cap; returns (its JSON as bytes, error)."""
    try:
        data = json.dumps(result, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError, RecursionError) as e:
        if fn.style == "seed":  # the seed printed it; the value itself just is not JSON
            return b"null", None
        return None, error_obj("Unable to marshal response: %s" % e, "Runtime.MarshalError")
    try:
        raw = data.encode("utf-8")
        size = len(raw)
    except UnicodeEncodeError:  # lone surrogates: \u escapes, as _encode does
        size = len(data.encode("utf-8", "surrogatepass"))
        raw = None
    if size > fn.result_cap:
        return None, error_obj(RESPONSE_TOO_LARGE, "Runtime.ResponseSizeTooLarge")
    if raw is None:
        raw = json.dumps(result, separators=(",", ":"), allow_nan=False).encode("ascii")
    return raw, None


def run_item(fn, item, received, cpu0=None):
    """Runs one item; returns (its result frame without the result, the result's JSON or None
    on error, the CPU clock at its end). cpu0: where the previous item of the batch ended.
    Items run one at a time, so one reading of the clock ends an item and starts the next:
    each reading is two system calls, ~8 us here, which was a sixth of a hello call's CPU in
    the bootstrap. An item's cpu_ms so includes the bootstrap's own work between items
    (framing the previous result), as a call alone does (the executor then reads the
    container's cgroup)."""
    deadline_ms = item.get("deadline_ms")
    if not isinstance(deadline_ms, (int, float)) or isinstance(deadline_ms, bool):
        deadline_ms = fn.spec.get("timeout_ms") or 3000
    deadline = received + deadline_ms / 1000.0
    capture = Capture(fn.log_cap, fn.style == "seed")
    err = None
    result = None
    StreamProxy.current = capture
    t0 = time.perf_counter()
    # items run one at a time: the process's CPU time (its waited-for children included) across
    # the call is this item's alone
    if cpu0 is None:
        cpu0 = _cpu_seconds()
    try:
        result = _call(fn, item, deadline)
    except SystemExit as e:
        code = e.code
        if code not in (None, 0):
            if not isinstance(code, int):
                print(code, file=sys.stderr)
                code = 1
            err = error_obj(
                "Runtime exited with error: exit status %d" % code, "Runtime.ExitError"
            )
    except BaseException as e:  # noqa: B036 - KeyboardInterrupt from user code too
        err = error_obj(str(e), type(e).__name__, _trace_of(e.__traceback__))
        print("[ERROR] %s: %s" % (type(e).__name__, e), file=sys.stderr)
        sys.stderr.write("Traceback (most recent call last):\n" + "".join(err["stackTrace"]))
    finally:
        duration = (time.perf_counter() - t0) * 1000
        cpu1 = _cpu_seconds()
        cpu_ms = (cpu1 - cpu0) * 1000
        StreamProxy.current = None
        sys.argv = [sys.argv[0]]
    raw = None
    if err is None:
        raw, err = _result_json(fn, result)
    reply = {"type": "result", "id": item["id"], "ok": err is None}
    if err is not None:
        reply["error"] = err
    if capture.output is not None:
        reply["output"] = capture.output.text()[0]
    reply["logs"], reply["logs_truncated"] = capture.logs.text()
    reply["duration_ms"] = round(duration, 3)
    reply["cpu_ms"] = round(cpu_ms, 3)
    return reply, raw, cpu1


def _cpu_seconds():
    # process_time: CLOCK_PROCESS_CPUTIME_ID, ns resolution; os.times() counts in clock ticks
    # (10 ms) but is the only stdlib figure for children without importing resource
    t = os.times()
    return time.process_time() + t.children_user + t.children_system


# ---------------------------------------------------------------------------------------------
# Main loop


def setup_fds():
    global _proto_in, _proto_out
    _proto_out = os.dup(1)  # os.dup: not inherited by child processes
    os.dup2(2, 1)
    fd_in = os.dup(0)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    _proto_in = os.fdopen(fd_in, "rb", buffering=1 << 16)
    sys.stdout = StreamProxy("stdout", 1)
    sys.stderr = StreamProxy("stderr", 2)
    sys.stdin = open(os.devnull, "r")


def main():
    setup_fds()
    boot = Bootstrap()
    while True:
        hdr = read_exact(4, eof_ok=True)
        if not hdr:
            return 0
        (n,) = struct.unpack(">I", hdr)
        if n > MAX_IN_FRAME:
            discard(n)
            send(frame_error("frame of %d bytes exceeds the %d byte limit" % (n, MAX_IN_FRAME)))
            continue
        body = read_exact(n)
        try:
            msg = json.loads(body)
        except ValueError as e:
            send(frame_error("frame is not valid JSON: %s" % e))
            continue
        if not isinstance(msg, dict):
            send(frame_error("frame must be a JSON object"))
            continue
        boot.handle(msg)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:
        die("protocol channel closed by the executor")
