"""Shared by the AWS-compatibility tests: functions written the way AWS
documents them, zips (honest and hostile), the aws CLI and boto3 pointed at
the test stack with the credentials scripts/admin-key.sh writes."""

import atexit
import base64
import hashlib
import io
import json
import os
import shutil
import stat
import subprocess
import tempfile
import zipfile

import harness as h

AWS = "/usr/bin/aws"
PY3 = "/usr/bin/python3"  # Debian's, with boto3
CREDS = os.path.join(h.VAR, "aws-credentials")
REGION = "us-east-1"
ROLE = "arn:aws:iam::000000000000:role/lambda-role"

# Python, as in AWS's "Define Lambda function handler in Python".
PY_HANDLER = '''\
import json
import os


def lambda_handler(event, context):
    print("hello from python", json.dumps(event)[:200])
    if isinstance(event, dict) and event.get("fail"):
        raise ValueError("asked to fail")
    if isinstance(event, dict) and "s" in event:
        return {"len": len(event["s"])}
    return {
        "echo": event,
        "function": context.function_name,
        "request_id": context.aws_request_id,
        "remaining_ms": context.get_remaining_time_in_millis(),
        "greeting": os.environ.get("GREETING"),
        "version": VERSION,
    }


VERSION = 1
'''

# Node, as in AWS's "Define Lambda function handler in Node.js" (CommonJS).
NODE_HANDLER = '''\
exports.handler = async (event, context) => {
  console.log("hello from node", JSON.stringify(event).slice(0, 200));
  if (event && event.fail) {
    throw new TypeError("asked to fail");
  }
  return {
    echo: event,
    function: context.functionName,
    request_id: context.awsRequestId,
    remaining_ms: context.getRemainingTimeInMillis(),
    greeting: process.env.GREETING || null,
  };
};
'''


def make_zip(files):
    """files: {name: text or bytes} -> zip bytes (deflated)."""
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files.items():
            z.writestr(name, data)
    return b.getvalue()


def py_zip(version=1):
    return make_zip({"lambda_function.py": PY_HANDLER.replace("VERSION = 1", f"VERSION = {version}")})


def node_zip():
    return make_zip({"index.js": NODE_HANDLER})


def traversal_zip():
    return make_zip({"lambda_function.py": PY_HANDLER, "../escape.py": "x = 1\n"})


def symlink_zip():
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w") as z:
        z.writestr("lambda_function.py", PY_HANDLER)
        zi = zipfile.ZipInfo("link")
        zi.create_system = 3
        zi.external_attr = (stat.S_IFLNK | 0o777) << 16
        z.writestr(zi, "/etc/passwd")
    return b.getvalue()


def bomb_zip(size):
    """One entry of `size` zero bytes, deflated (about size/1000 bytes)."""
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w", zipfile.ZIP_DEFLATED) as z:
        with z.open("zeros.bin", "w", force_zip64=False) as f:
            chunk = b"\0" * (1 << 20)
            left = size
            while left > 0:
                n = min(left, len(chunk))
                f.write(chunk[:n])
                left -= n
    return b.getvalue()


def stored_zip_of_size(total):
    """A valid zip of exactly `total` bytes: one stored entry of random
    bytes (incompressible, so the size is what the archive weighs)."""
    def build(n):
        b = io.BytesIO()
        with zipfile.ZipFile(b, "w", zipfile.ZIP_STORED) as z:
            z.writestr("blob.bin", os.urandom(n))
        return b.getvalue()

    overhead = len(build(0))
    data = build(total - overhead)
    assert len(data) == total, (len(data), total)
    return data


def crc_corrupt_zip():
    """A zip whose directory is sound (Python's zipfile and the aws CLI
    accept it) but whose data fails its CRC-32."""
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w", zipfile.ZIP_STORED) as z:
        z.writestr("lambda_function.py", PY_HANDLER)
    data = bytearray(b.getvalue())
    i = data.index(b"def lambda_handler")
    data[i] ^= 0x20
    return bytes(data)


def sha256_b64(data):
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def admin_key():
    h.ensure_stack()
    return h.KEY


_TMP = tempfile.mkdtemp(prefix="aws-tests-")
atexit.register(shutil.rmtree, _TMP, True)


def scratch_dir(prefix):
    """A directory removed when the test exits."""
    return tempfile.mkdtemp(prefix=prefix, dir=_TMP)


def aws_env(key=None):
    """Environment for /usr/bin/aws: a private credentials file (profile
    lambda) holding `key` (default: the admin key)."""
    key = key or admin_key()
    d = scratch_dir("aws-cli-")
    creds = os.path.join(d, "credentials")
    with open(creds, "w") as f:
        akid, secret = key.split(".", 1)
        f.write(f"[lambda]\naws_access_key_id = {akid}\naws_secret_access_key = {secret}\n")
    cfg = os.path.join(d, "config")
    with open(cfg, "w") as f:
        f.write(f"[profile lambda]\nregion = {REGION}\noutput = json\n")
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": d,
        "AWS_SHARED_CREDENTIALS_FILE": creds,
        "AWS_CONFIG_FILE": cfg,
        "AWS_PROFILE": "lambda",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_PAGER": "",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_MAX_ATTEMPTS": "1",
    }
    return env


def aws(*args, key=None, env=None, timeout=120, cwd=None):
    """Runs `aws --endpoint-url URL lambda ARGS`; returns (rc, parsed stdout
    or text, stderr)."""
    p = subprocess.run(
        [AWS, "--endpoint-url", h.URL, "lambda", *args],
        env=env or aws_env(key),
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        cwd=cwd,
    )
    out = p.stdout
    try:
        out = json.loads(p.stdout) if p.stdout.strip() else None
    except ValueError:
        pass
    return p.returncode, out, p.stderr


def boto3_client(key=None, secret=None):
    """A boto3 lambda client for the test stack.  Imported lazily: only
    Debian's python3 has boto3."""
    import boto3  # noqa: PLC0415
    from botocore.config import Config  # noqa: PLC0415

    key = key or admin_key()
    akid, sec = key.split(".", 1)
    return boto3.client(
        "lambda",
        endpoint_url=h.URL,
        region_name=REGION,
        aws_access_key_id=akid,
        aws_secret_access_key=secret if secret is not None else sec,
        config=Config(retries={"max_attempts": 1}, read_timeout=120, connect_timeout=10),
    )


def wait_records(name, n, timeout=30.0, source=None):
    """Waits until /api/invocations lists at least n records of function
    `name` (optionally of one source); returns them."""

    def got():
        status, _, body = h.api("GET", f"/api/invocations?function={name}&limit=100")
        if status != 200 or not isinstance(body, list):
            return None
        recs = [r for r in body if source is None or r.get("source") == source]
        return recs if len(recs) >= n else None

    return h.wait_until(got, timeout=timeout, interval=0.2) or []


def signed(method, path, body=b"", headers=None, key=None, timeout=120):
    """One raw HTTP request signed with SigV4 (service lambda) by botocore,
    as an AWS client would send it; returns what h.api returns."""
    from botocore.auth import SigV4Auth  # noqa: PLC0415
    from botocore.awsrequest import AWSRequest  # noqa: PLC0415
    from botocore.credentials import Credentials  # noqa: PLC0415

    akid, secret = (key or admin_key()).split(".", 1)
    data = body.encode() if isinstance(body, str) else bytes(body)
    req = AWSRequest(method=method, url=h.URL + path, data=data, headers=headers or {})
    SigV4Auth(Credentials(akid, secret), "lambda", REGION).add_auth(req)
    return h.api(method, path, body=data if data else None, key=None,
                 headers=dict(req.headers), timeout=timeout)


def attempt_request_id(rid, attempt):
    """The request id of attempt `attempt` of the Event invocation `rid`
    (fcgi-app/event_queue.h event_attempt_request_id)."""
    if attempt <= 1:
        return rid
    d = list(hashlib.sha256(f"{rid}#{attempt}".encode()).hexdigest())
    d[12] = "8"
    d[16] = "89ab"[int(d[16], 16) & 3]
    d = "".join(d)
    return f"{d[:8]}-{d[8:12]}-{d[12:16]}-{d[16:20]}-{d[20:32]}"


def sql(query):
    """Runs a query as root on the stack's MariaDB; rows as lists of str."""
    p = subprocess.run(
        ["mariadb", "--no-defaults", "--socket", os.path.join(h.VAR, "run", "mysql.sock"),
         "-uroot", "--batch", "--skip-column-names", "lambda", "-e", query],
        capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
    h.check(p.returncode == 0, f"mariadb: {p.stderr.strip()}")
    return [line.split("\t") for line in p.stdout.splitlines()]
