#!/usr/bin/python3
"""A stand-in executor speaking common/proto.h, for the API's tests of the
faults a real executor cannot produce on demand (429, death mid-call).

Behaviour by function name prefix:
  echo*     success, result = the event, output = " ".join(args)
  fail*     status error with errorType Runtime.UserError
  slow*     status timeout, "Task timed out after N seconds"
  busy*     ERROR too_many_requests, retry_after 2
  docker*   ERROR docker_unavailable
  die*      closes the connection without answering (died mid-call)
  logs*     success with 3000 bytes of logs
Stdlib only."""

import json
import os
import socket
import struct
import threading

HDR = struct.Struct(">BBHIQ")
INVOKE, RESULT, POOLS, POOLS_REPLY, DRAIN, DRAIN_REPLY, PING, PONG = 1, 2, 3, 4, 5, 6, 7, 8
ERROR = 11


def _read_exact(conn, n):
    buf = b""
    while len(buf) < n:
        chunk = conn.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


class FakeExecutor:
    def __init__(self, path):
        self.path = path
        self.invokes = []
        self.drains = []
        self.lock = threading.Lock()
        if os.path.exists(path):
            os.unlink(path)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(path)
        self.sock.listen(64)
        self.stopped = False
        threading.Thread(target=self._accept, daemon=True).start()

    def stop(self):
        self.stopped = True
        try:
            self.sock.close()
        finally:
            if os.path.exists(self.path):
                os.unlink(self.path)

    def _accept(self):
        while not self.stopped:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _send(self, conn, typ, rid, obj):
        body = json.dumps(obj).encode()
        conn.sendall(HDR.pack(1, typ, 0, len(body), rid) + body)

    def _serve(self, conn):
        with conn:
            while True:
                hdr = _read_exact(conn, HDR.size)
                if hdr is None:
                    return
                ver, typ, flags, length, rid = HDR.unpack(hdr)
                body = _read_exact(conn, length)
                if body is None:
                    return
                msg = json.loads(body)
                if typ == PING:
                    self._send(conn, PONG, rid, {"docker": True, "containers": 0,
                                                 "version": "fake"})
                elif typ == DRAIN:
                    with self.lock:
                        self.drains.append(msg.get("function_id"))
                    self._send(conn, DRAIN_REPLY, rid, {"drained": 0})
                elif typ == INVOKE:
                    with self.lock:
                        self.invokes.append(msg)
                    if not self._invoke(conn, rid, msg):
                        return
                else:
                    self._send(conn, ERROR, rid, {"code": "invalid", "message": "unsupported"})

    def _invoke(self, conn, rid, msg):
        fn = msg["function"]
        name = fn["name"]
        base = {"request_id": msg["request_id"], "duration_ms": 1.5, "init_ms": 0.0,
                "queue_ms": 0.1, "cold": True, "cold_reason": "no_pool",
                "isolation": msg["isolation"], "container": "fake0", "batch_size": 1,
                "logs": "", "logs_truncated": False, "max_memory_bytes": None,
                "cpu_ms": None, "response_bytes": 10}
        if name.startswith("die"):
            return False
        if name.startswith("busy"):
            self._send(conn, ERROR, rid, {"code": "too_many_requests",
                                          "message": "queue full", "retry_after": 2})
            return True
        if name.startswith("docker"):
            self._send(conn, ERROR, rid, {"code": "docker_unavailable", "message":
                                          "executor unavailable: docker engine not reachable"})
            return True
        if name.startswith("fail"):
            base.update(status="error", error={"errorMessage": "boom", "errorType":
                                               "Runtime.UserError", "stackTrace": []},
                        logs="Traceback: boom\n")
        elif name.startswith("slow"):
            secs = fn["timeout_ms"] / 1000.0
            base.update(status="timeout", error={
                "errorMessage": "Task timed out after %.2f seconds" % secs,
                "errorType": "Runtime.Timeout", "stackTrace": []})
        else:
            args = msg.get("args") or []
            base.update(status="success", result=msg.get("event"),
                        output=" ".join(str(a) for a in args),
                        logs=("x" * 2999 + "\n") if name.startswith("logs") else "hi\n")
        self._send(conn, RESULT, rid, base)
        return True
