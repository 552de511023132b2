"""A minimal FastCGI client, to talk to each lambda-api process on its own socket
($VAR/run/api.sock-N; lighttpd runs max-procs 2), and a helper that spreads calls over threads.
Used by the cache tests, which must see what *every* process answers."""

import glob
import os
import socket
import struct
import threading

import harness as h


def _record(rtype, content, rid=1):
    return struct.pack(">BBHHBB", 1, rtype, rid, len(content), 0, 0) + content


def _pairs(params):
    out = b""
    for k, v in params.items():
        k, v = k.encode(), v.encode()
        for n in (len(k), len(v)):
            out += struct.pack(">B", n) if n < 128 else struct.pack(">I", n | 0x80000000)
        out += k + v
    return out


def fcgi_get(sock_path, path, key, timeout=10):
    """GET path from one lambda-api process; returns (status, body bytes)."""
    params = {"REQUEST_METHOD": "GET", "REQUEST_URI": path, "SCRIPT_NAME": path,
              "QUERY_STRING": "", "CONTENT_LENGTH": "0", "REMOTE_ADDR": "127.0.0.1",
              "SERVER_PROTOCOL": "HTTP/1.1", "HTTP_AUTHORIZATION": "Bearer " + key}
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect(sock_path)
        s.sendall(_record(1, struct.pack(">HB5x", 1, 0)) + _record(4, _pairs(params)) +
                  _record(4, b"") + _record(5, b""))
        buf, out = b"", b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
            while len(buf) >= 8:
                _, rtype, _, clen, plen, _ = struct.unpack(">BBHHBB", buf[:8])
                if len(buf) < 8 + clen + plen:
                    break
                if rtype == 6:
                    out += buf[8:8 + clen]
                buf = buf[8 + clen + plen:]
                if rtype == 3:
                    head, _, body = out.partition(b"\r\n\r\n")
                    status = 200
                    for line in head.split(b"\r\n"):
                        if line.lower().startswith(b"status:"):
                            status = int(line.split()[1])
                    return status, body
    finally:
        s.close()
    raise OSError("no END_REQUEST from %s" % sock_path)


def sockets():
    """This stack's FastCGI sockets, one per lambda-api process (call it once the stack runs)."""
    return sorted(glob.glob(os.path.join(h.VAR, "run", "api.sock-*")))


def spread(fn, n, threads=8):
    """Runs fn(i) for i in range(n) on `threads` threads; returns the results in order."""
    res = [None] * n

    def worker(k):
        for i in range(k, n, threads):
            try:
                res[i] = fn(i)
            except OSError as e:
                res[i] = ("error", str(e))

    ts = [threading.Thread(target=worker, args=(k,)) for k in range(threads)]
    for th in ts:
        th.start()
    for th in ts:
        th.join()
    return res


def every_process(socks, paths, key, n):
    """n concurrent GETs: request i goes to process socks[i % len(socks)] for
    paths[(i // len(socks)) % len(paths)], so that every path reaches every process.
    Returns [(status, body bytes)] in order (("error", message) where one failed)."""
    k = len(socks)
    return spread(lambda i: fcgi_get(socks[i % k], paths[(i // k) % len(paths)], key), n)
