'use strict';
/*
 * Lambda runtime bootstrap for Node.js 18 (CommonJS, no dependencies).
 *
 * Speaks the container protocol of docs/design.md with the executor: frames are a 4-byte
 * big-endian length then compact JSON; requests arrive on stdin, answers leave on a private
 * descriptor opened on the original stdout. At start fd 1 is re-pointed at fd 2 and fd 0 at
 * /dev/null (through /proc/self/fd: Node has no dup2), so nothing the user's code prints or reads
 * touches the protocol channel. console.* and process.stdout/stderr.write are captured per
 * invocation through AsyncLocalStorage, so the items of a batch, which run concurrently, keep
 * their own logs.
 *
 * Two handler styles:
 *   aws   "file.handler": exports.handler(event, context[, callback]), async, promise or callback.
 *   seed  "file.js": the file runs on every call with process.argv = ['node', file, ...args];
 *         output = what it printed. The call ends when the work it started (timers, I/O) is
 *         done, as `node file.js` would exit. If the file exports main(), main(...args) is
 *         awaited too and its result printed (unless undefined).
 */

const fs = require('fs');
const path = require('path');
const os = require('os');
const crypto = require('crypto');
const asyncHooks = require('async_hooks');
const { AsyncLocalStorage } = asyncHooks;

const MAX_IN_FRAME = 256 * 1024 * 1024;
const DEFAULT_LOG_CAP = 1024 * 1024;
const DEFAULT_RESULT_CAP = 6291456;
const RESPONSE_TOO_LARGE = 'response exceeded the allowed length';
const STREAM_ID = crypto.randomBytes(16).toString('hex');

const realExit = process.exit.bind(process);
const als = new AsyncLocalStorage();
let protoIn = -1;
let protoOut = -1;

function die(msg) {
  try {
    fs.writeSync(2, `bootstrap: ${msg}\n`);
  } catch (e) {
    /* nothing left to tell */
  }
  realExit(1);
}

/* ---------------------------------------------------------------------------------------------
 * Descriptors and framing
 */

function reopen(fd, flags) {
  return fs.openSync(`/proc/self/fd/${fd}`, flags);
}

/* Private copies of stdin/stdout, then fd 0 = /dev/null and fd 1 = stderr. Opening
 * /proc/self/fd/N makes a new descriptor on the same pipe; close(n) + open() reuses the lowest
 * free number, which is n itself. */
function setupFds() {
  protoOut = reopen(1, 'w');
  protoIn = reopen(0, 'r');
  fs.closeSync(0);
  if (fs.openSync('/dev/null', 'r') !== 0) die('could not point fd 0 at /dev/null');
  fs.closeSync(1);
  if (reopen(2, 'a') !== 1) die('could not point fd 1 at fd 2');
}

function sleepMs(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function writeAll(fd, buf) {
  let off = 0;
  while (off < buf.length) {
    try {
      off += fs.writeSync(fd, buf, off, buf.length - off);
    } catch (e) {
      if (e.code === 'EAGAIN') {
        sleepMs(1);
        continue;
      }
      if (e.code === 'EPIPE') die('protocol channel closed by the executor');
      throw e;
    }
  }
}

function frameOf(json) {
  const body = Buffer.from(json, 'utf8');
  const hdr = Buffer.allocUnsafe(4);
  hdr.writeUInt32BE(body.length, 0);
  return Buffer.concat([hdr, body]);
}

/*
 * Result frames wait in the outbox until the microtasks already queued when the first of them
 * settled have run, then leave in one write. The items of a batch of async handlers settle in
 * one such run, so a batch of 16 costs the shim, dockerd and the executor one wake-up instead
 * of 16 (each ~0.1 ms of CPU on this kind of machine). What it risks: a result held there is
 * lost if, before the flush, code of another item of the batch blocks the event loop until its
 * deadline; the executor then retries that finished item with the unfinished ones. Items that
 * run at once already have that at-least-once retry when a sibling times out, and a result
 * settled synchronously during invoke() is written before the next item starts, as before.
 */
let outbox = [];

function flushOutbox() {
  if (outbox.length === 0) return;
  const frames = outbox;
  outbox = [];
  writeAll(protoOut, frames.length === 1 ? frames[0] : Buffer.concat(frames));
}

function sendResult(json) {
  outbox.push(frameOf(json));
  if (outbox.length === 1) queueMicrotask(flushOutbox);
}

/* Frames are written synchronously: one frame is never interleaved with another. */
function send(obj) {
  flushOutbox();
  writeAll(protoOut, frameOf(JSON.stringify(obj)));
}

function exitClean() {
  flushOutbox();
  realExit(0);
}

function errorObj(message, type, trace) {
  return { errorMessage: String(message), errorType: String(type), stackTrace: trace || [] };
}

function frameError(message) {
  return { type: 'error', error: errorObj(message, 'Runtime.InvalidFrame') };
}

const PARSE_ERROR = Symbol('parse error');

function parseError(message) {
  return { [PARSE_ERROR]: frameError(message) };
}

/* Reads frames from the protocol input and hands each parsed object to onFrame, or an error
 * frame to answer for a frame that could not be parsed, in order. */
function readFrames(onFrame, onEnd) {
  let chunks = [];
  let have = 0;
  let need = -1; /* body length once the header is read */
  let skip = 0; /* bytes of an oversized frame still to discard */
  const stream = fs.createReadStream(null, { fd: protoIn, highWaterMark: 1 << 16 });
  const take = (n) => {
    const all = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
    chunks = all.length > n ? [all.subarray(n)] : [];
    have = all.length - n;
    return all.subarray(0, n);
  };
  stream.on('data', (chunk) => {
    if (skip > 0) {
      const n = Math.min(skip, chunk.length);
      skip -= n;
      chunk = chunk.subarray(n);
      if (skip === 0) onFrame(parseError(`frame exceeds the ${MAX_IN_FRAME} byte limit`));
    }
    if (chunk.length) {
      chunks.push(chunk);
      have += chunk.length;
    }
    for (;;) {
      if (need < 0) {
        if (have < 4) break;
        need = take(4).readUInt32BE(0);
        if (need > MAX_IN_FRAME) {
          const n = Math.min(need, have);
          take(n);
          skip = need - n;
          need = -1;
          if (skip === 0) onFrame(parseError(`frame exceeds the ${MAX_IN_FRAME} byte limit`));
          continue;
        }
      }
      if (have < need) break;
      const body = take(need);
      need = -1;
      let msg;
      try {
        msg = JSON.parse(body.toString('utf8'));
      } catch (e) {
        onFrame(parseError(`frame is not valid JSON: ${e.message}`));
        continue;
      }
      if (msg === null || typeof msg !== 'object' || Array.isArray(msg)) {
        onFrame(parseError('frame must be a JSON object'));
        continue;
      }
      onFrame(msg);
    }
  });
  stream.on('end', () => {
    if (need >= 0 || have > 0 || skip > 0) die('protocol channel closed in the middle of a frame');
    onEnd();
  });
  stream.on('error', (e) => die(`protocol channel: ${e.message}`));
}

/* ---------------------------------------------------------------------------------------------
 * Capped capture of prints
 */

/* Keeps at most cap bytes (whole UTF-8 characters only); counts the rest. */
class Capped {
  constructor(cap) {
    this.cap = cap;
    this.buf = Buffer.alloc(0);
    this.len = 0;
    this.dropped = 0;
  }

  add(s) {
    const n = Buffer.byteLength(s, 'utf8');
    if (this.len + n > this.buf.length && this.buf.length < this.cap) {
      const size = Math.min(this.cap, Math.max(this.len + n, this.buf.length * 2, 4096));
      const grown = Buffer.allocUnsafe(size);
      this.buf.copy(grown, 0, 0, this.len);
      this.buf = grown;
    }
    const wrote = this.len < this.buf.length ? this.buf.write(s, this.len, 'utf8') : 0;
    this.len += wrote;
    this.dropped += n - wrote;
  }

  /* [text, truncated]: when cut, the last line is the marker and the whole fits the cap. */
  text() {
    if (!this.dropped) return [this.buf.toString('utf8', 0, this.len), false];
    const worst = `\n[logs truncated: ${this.dropped + this.len} bytes dropped]`;
    let keep = Math.max(0, this.cap - Buffer.byteLength(worst));
    while (keep > 0 && keep < this.len && (this.buf[keep] & 0xc0) === 0x80) keep--;
    keep = Math.min(keep, this.len);
    let text = this.buf.toString('utf8', 0, keep);
    if (text && !text.endsWith('\n')) text += '\n';
    return [`${text}[logs truncated: ${this.dropped + this.len - keep} bytes dropped]`, true];
  }
}

class Capture {
  constructor(cap, withOutput) {
    this.logs = new Capped(cap);
    this.output = withOutput ? new Capped(cap) : null;
  }

  write(stream, s) {
    this.logs.add(s);
    if (stream === 'stdout' && this.output) this.output.add(s);
  }
}

let initCapture = null; /* prints during init */
const inflight = new Set(); /* items running now */

function currentCapture() {
  const item = als.getStore();
  if (item && !item.finished) return item.capture;
  if (initCapture) return initCapture;
  if (inflight.size === 1) return inflight.values().next().value.capture;
  return null;
}

function chunkText(chunk, encoding) {
  if (typeof chunk === 'string') return chunk;
  if (chunk instanceof Uint8Array) {
    return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString(
      typeof encoding === 'string' && Buffer.isEncoding(encoding) ? encoding : 'utf8'
    );
  }
  throw new TypeError('The "chunk" argument must be of type string or an instance of Buffer');
}

function hookStream(stream, name) {
  const original = stream.write.bind(stream);
  stream.write = function write(chunk, encoding, cb) {
    const text = chunkText(chunk, encoding);
    const cap = currentCapture();
    if (!cap) return original(text, cb || encoding);
    cap.write(name, text);
    const done = typeof encoding === 'function' ? encoding : cb;
    if (typeof done === 'function') process.nextTick(done);
    return true;
  };
}

/* ---------------------------------------------------------------------------------------------
 * Pending work of a seed-style call (timers, I/O): the call ends when none is left
 */

const IGNORED_RESOURCES = new Set(['PROMISE']);
const resourceOwner = new Map();
let internalScheduling = false;

const seedHook = asyncHooks.createHook({
  init(asyncId, type) {
    if (internalScheduling || IGNORED_RESOURCES.has(type)) return;
    const item = als.getStore();
    if (!item || item.finished || !item.trackPending) return;
    item.pending++;
    resourceOwner.set(asyncId, item);
  },
  destroy(asyncId) {
    const item = resourceOwner.get(asyncId);
    if (!item) return;
    resourceOwner.delete(asyncId);
    item.pending--;
    item.checkIdle();
  },
});

function scheduleInternal(fn) {
  internalScheduling = true;
  try {
    setImmediate(fn);
  } finally {
    internalScheduling = false;
  }
}

/* ---------------------------------------------------------------------------------------------
 * Loading the function
 */

class InitError extends Error {
  constructor(message, type, trace) {
    super(message);
    this.error = errorObj(message, type, trace);
  }
}

function stackOf(e) {
  if (e && typeof e.stack === 'string') return e.stack.split('\n');
  return [];
}

function userError(e) {
  if (e instanceof Error || (e && typeof e === 'object' && 'message' in e)) {
    return errorObj(e.message, e.name || 'Error', stackOf(e));
  }
  return errorObj(e === undefined ? 'undefined' : String(e), typeof e);
}

function writeFiles(files) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'task-'));
  for (const f of files) {
    if (!f || typeof f !== 'object' || typeof f.path !== 'string') {
      throw new InitError('files[]: each entry needs a string path', 'Runtime.InvalidCodeFile');
    }
    const rel = path.normalize(f.path);
    if (path.isAbsolute(rel) || rel.startsWith('..') || rel === '.' || rel === '') {
      throw new InitError(`invalid code file path: ${f.path}`, 'Runtime.InvalidCodeFile');
    }
    const data = typeof f.data === 'string' ? f.data : '';
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(data) || data.length % 4 !== 0) {
      throw new InitError(`code file ${rel}: data is not valid base64`, 'Runtime.InvalidCodeFile');
    }
    const dest = path.join(root, rel);
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    fs.writeFileSync(dest, Buffer.from(data, 'base64'));
  }
  return root;
}

function resolveModule(taskDir, modPath) {
  const base = path.resolve(taskDir, modPath);
  for (const ext of ['', '.js', '.cjs', '.mjs']) {
    const p = base + ext;
    try {
      if (fs.statSync(p).isFile()) return p;
    } catch (e) {
      /* try the next extension */
    }
  }
  for (const idx of ['index.js', 'index.cjs', 'index.mjs']) {
    const p = path.join(base, idx);
    if (fs.existsSync(p)) return p;
  }
  return null;
}

function loadError(e, modPath) {
  if (e instanceof SyntaxError) {
    return new InitError(`${e.name}: ${e.message}`, 'Runtime.UserCodeSyntaxError', stackOf(e));
  }
  if (e && e.code === 'MODULE_NOT_FOUND') {
    return new InitError(`Error: ${e.message}`, 'Runtime.ImportModuleError', stackOf(e));
  }
  const err = userError(e);
  return new InitError(err.errorMessage, err.errorType, err.stackTrace);
}

async function loadModule(file, modPath) {
  try {
    if (file.endsWith('.mjs')) return await import(`file://${file}`);
    return require(file);
  } catch (e) {
    throw loadError(e, modPath);
  }
}

async function loadAws(fn, handler, taskDir) {
  const dot = handler.lastIndexOf('.');
  if (dot <= 0 || dot === handler.length - 1) {
    throw new InitError(`Bad handler ${handler}`, 'Runtime.MalformedHandlerName');
  }
  const modPath = handler.slice(0, dot);
  const fname = handler.slice(dot + 1);
  const file = resolveModule(taskDir, modPath);
  if (!file) {
    throw new InitError(
      `Error: Cannot find module '${modPath}'`,
      'Runtime.ImportModuleError',
      [`Error: Cannot find module '${modPath}'`]
    );
  }
  const mod = await loadModule(file, modPath);
  let h = mod ? mod[fname] : undefined;
  if (h === undefined && mod && mod.default && typeof mod.default === 'object') h = mod.default[fname];
  if (typeof h !== 'function') {
    throw new InitError(`${handler} is undefined or not exported`, 'Runtime.HandlerNotFound');
  }
  fn.handler = h;
}

function loadSeed(fn, handler, taskDir) {
  const file = path.resolve(taskDir, handler);
  if (!fs.existsSync(file)) {
    throw new InitError(`Error: Cannot find module '${file}'`, 'Runtime.ImportModuleError');
  }
  /* Compile once now so that a syntax error is an init error, not a per-call one. */
  const vm = require('vm');
  try {
    new vm.Script(require('module').wrap(fs.readFileSync(file, 'utf8')), { filename: file });
  } catch (e) {
    throw loadError(e, handler);
  }
  fn.file = file;
  seedHook.enable();
}

function setEnv(spec, taskDir, handler) {
  const env = spec.env || {};
  if (typeof env !== 'object' || Array.isArray(env)) {
    throw new InitError('function.env must be an object', 'Runtime.InvalidFunction');
  }
  for (const [k, v] of Object.entries(env)) {
    process.env[k] = typeof v === 'string' ? v : JSON.stringify(v);
  }
  const name = String(spec.name || 'function');
  Object.assign(process.env, {
    AWS_LAMBDA_FUNCTION_NAME: name,
    AWS_LAMBDA_FUNCTION_VERSION: String(spec.version || '$LATEST'),
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(spec.memory_mb || 128),
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${name}`,
    AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs18.x',
    LAMBDA_TASK_ROOT: taskDir,
    LAMBDA_RUNTIME_DIR: __dirname,
    _HANDLER: handler,
  });
}

function capField(msg, spec, name, dflt) {
  const v = name in msg ? msg[name] : name in spec ? spec[name] : dflt;
  if (!Number.isInteger(v) || v < 0) {
    throw new InitError(`${name} must be a non-negative integer`, 'Runtime.InvalidFunction');
  }
  return v;
}

async function loadFunction(msg) {
  const spec = msg.function;
  if (!spec || typeof spec !== 'object' || Array.isArray(spec)) {
    throw new InitError('init: function must be an object', 'Runtime.InvalidFunction');
  }
  const handler = spec.handler;
  if (typeof handler !== 'string' || !handler) {
    throw new InitError('init: function.handler must be a non-empty string', 'Runtime.InvalidFunction');
  }
  const fn = {
    spec,
    logCap: capField(msg, spec, 'log_cap_bytes', DEFAULT_LOG_CAP),
    resultCap: capField(msg, spec, 'result_cap_bytes', DEFAULT_RESULT_CAP),
    style: spec.style || (/\.(c|m)?js$/.test(handler) ? 'seed' : 'aws'),
    handler: null,
    file: null,
  };
  if (fn.style !== 'aws' && fn.style !== 'seed') {
    throw new InitError(`init: unknown style ${fn.style}`, 'Runtime.InvalidFunction');
  }
  const taskDir =
    typeof msg.code_path === 'string' ? path.resolve(msg.code_path) : writeFiles(msg.files || []);
  setEnv(spec, taskDir, handler);
  process.chdir(taskDir);
  if (fn.style === 'aws') await loadAws(fn, handler, taskDir);
  else loadSeed(fn, handler, taskDir);
  return fn;
}

/* ---------------------------------------------------------------------------------------------
 * Running items
 */

class ExitSignal extends Error {
  constructor(code, item) {
    super(`process.exit(${code})`);
    this.exitCode = code;
    this.item = item;
  }
}

/* What does not change from call to call, worked out once per function and per (UTC) day:
 * it was a tenth of a hello call's CPU in the bootstrap. */
let contextBase = { fn: null, day: -1, fields: null };

function contextFields(fn) {
  const now = Date.now();
  const dayNo = Math.floor(now / 86400000);
  if (contextBase.fn === fn && contextBase.day === dayNo) return contextBase.fields;
  const spec = fn.spec;
  const name = String(spec.name || 'function');
  const version = String(spec.version || '$LATEST');
  const region = process.env.AWS_REGION || 'us-east-1';
  const account = String(spec.account_id || '000000000000');
  const day = new Date(now).toISOString().slice(0, 10).replace(/-/g, '/');
  const fields = {
    functionName: name,
    functionVersion: version,
    memoryLimitInMB: String(spec.memory_mb || 128),
    invokedFunctionArn: spec.arn || `arn:aws:lambda:${region}:${account}:function:${name}`,
    logGroupName: `/aws/lambda/${name}`,
    logStreamName: `${day}/[${version}]${STREAM_ID}`,
  };
  contextBase = { fn, day: dayNo, fields };
  return fields;
}

function makeContext(fn, item) {
  const f = contextFields(fn);
  return {
    awsRequestId: item.id,
    functionName: f.functionName,
    functionVersion: f.functionVersion,
    memoryLimitInMB: f.memoryLimitInMB,
    invokedFunctionArn: f.invokedFunctionArn,
    logGroupName: f.logGroupName,
    logStreamName: f.logStreamName,
    callbackWaitsForEmptyEventLoop: true,
    identity: undefined,
    clientContext: undefined,
    getRemainingTimeInMillis: () => Math.max(0, Math.floor(item.deadline - performance.now())),
    done: (err, res) => item.settle(err, res),
    succeed: (res) => item.settle(null, res),
    fail: (err) => item.settle(err === undefined || err === null ? 'handled' : err),
  };
}

function resultFrame(fn, item, err, result) {
  let json = null;
  if (!err) {
    try {
      json = JSON.stringify(result === undefined ? null : result);
      if (json === undefined) json = 'null'; /* a function or symbol */
    } catch (e) {
      if (fn.style === 'seed') json = 'null';
      else err = errorObj(`Unable to marshal response: ${e.message}`, 'Runtime.MarshalError');
    }
  }
  if (!err && Buffer.byteLength(json, 'utf8') > fn.resultCap) {
    err = errorObj(RESPONSE_TOO_LARGE, 'Runtime.ResponseSizeTooLarge');
  }
  const [logs, truncated] = item.capture.logs.text();
  const tail = {
    logs,
    logs_truncated: truncated,
    duration_ms: Math.round((performance.now() - item.t0) * 1000) / 1000,
  };
  if (item.capture.output) tail.output = item.capture.output.text()[0];
  const head = JSON.stringify({ type: 'result', id: item.id, ok: !err });
  const body = err ? `,"error":${JSON.stringify(err)}` : `,"result":${json}`;
  return `${head.slice(0, -1)}${body},${JSON.stringify(tail).slice(1)}`;
}

function argvString(a) {
  return typeof a === 'string' ? a : JSON.stringify(a);
}

class Item {
  constructor(fn, raw, received) {
    this.fn = fn;
    this.id = raw.id;
    this.raw = raw;
    const d = raw.deadline_ms;
    this.deadline = received + (typeof d === 'number' ? d : fn.spec.timeout_ms || 3000);
    this.capture = new Capture(fn.logCap, fn.style === 'seed');
    this.finished = false;
    this.trackPending = fn.style === 'seed';
    this.pending = 0;
    this.bodyDone = false;
    this.t0 = performance.now();
  }

  /* The one place an item ends: exactly one result frame per item. */
  settle(err, result) {
    if (this.finished) return;
    this.finished = true;
    inflight.delete(this);
    if (closing && inflight.size === 0) scheduleInternal(exitClean);
    if (err !== null && err !== undefined && !(err instanceof ExitSignal && err.exitCode === 0)) {
      if (err instanceof ExitSignal) {
        err = errorObj(`Runtime exited with error: exit status ${err.exitCode}`, 'Runtime.ExitError');
      } else {
        const e = userError(err);
        this.capture.write('stderr', `[ERROR] ${e.errorType}: ${e.errorMessage}\n`);
        err = e;
      }
      sendResult(resultFrame(this.fn, this, err, null));
    } else {
      sendResult(resultFrame(this.fn, this, null, result));
    }
  }

  checkIdle() {
    if (this.finished || !this.bodyDone || this.pending > 0) return;
    scheduleInternal(() => {
      if (!this.finished && this.pending === 0) this.settle(null, this.seedResult);
    });
  }

  run() {
    inflight.add(this);
    als.run(this, () => {
      try {
        if (this.fn.style === 'aws') this.runAws();
        else this.runSeed();
      } catch (e) {
        this.settle(e);
      }
    });
  }

  runAws() {
    const callback = (err, res) => this.settle(err, res);
    const ret = this.fn.handler(this.raw.event, makeContext(this.fn, this), callback);
    if (ret && typeof ret.then === 'function') {
      ret.then((res) => this.settle(null, res), (err) => this.settle(err === undefined ? 'undefined' : err));
    } else if (this.fn.handler.length < 3) {
      this.settle(null, ret);
    }
  }

  runSeed() {
    const args = Array.isArray(this.raw.args) ? this.raw.args : [];
    process.argv = [process.execPath, this.fn.file, ...args.map(argvString)];
    delete require.cache[this.fn.file];
    const mod = require(this.fn.file);
    if (mod && typeof mod.main === 'function') {
      Promise.resolve(mod.main(...args)).then(
        (res) => {
          this.seedResult = res;
          if (res !== undefined) console.log(res);
          this.bodyDone = true;
          this.checkIdle();
        },
        (err) => this.settle(err)
      );
      return;
    }
    this.bodyDone = true;
    this.checkIdle();
  }
}

/* ---------------------------------------------------------------------------------------------
 * Requests
 */

let fn = null;
let initTried = false;
let closing = false; /* stdin is at EOF: exit once the items in flight are answered */

async function init(msg) {
  if (initTried) {
    send({
      type: 'init_error',
      error: errorObj('this container was already initialised', 'Runtime.AlreadyInitialized'),
    });
    return;
  }
  initTried = true;
  const t0 = performance.now();
  const cap = Number.isInteger(msg.log_cap_bytes) && msg.log_cap_bytes >= 0 ? msg.log_cap_bytes : DEFAULT_LOG_CAP;
  initCapture = new Capture(cap, false);
  let reply;
  try {
    fn = await loadFunction(msg);
    reply = { type: 'init_ok' };
  } catch (e) {
    reply = { type: 'init_error', error: e instanceof InitError ? e.error : userError(e) };
  }
  const capture = initCapture;
  initCapture = null;
  reply.init_ms = Math.round((performance.now() - t0) * 1000) / 1000;
  [reply.logs, reply.logs_truncated] = capture.logs.text();
  send(reply);
}

function invoke(msg) {
  const received = performance.now();
  if (!Array.isArray(msg.items)) {
    send(frameError('invoke: items must be an array'));
    return;
  }
  for (const raw of msg.items) {
    if (!raw || typeof raw !== 'object' || typeof raw.id !== 'string') {
      send(frameError('invoke: each item needs a string id'));
      continue;
    }
    if (!fn) {
      send({
        type: 'result',
        id: raw.id,
        ok: false,
        error: errorObj('function not initialised', 'Runtime.NotInitialized'),
        logs: '',
        logs_truncated: false,
        duration_ms: 0,
      });
      continue;
    }
    flushOutbox(); /* what settled synchronously leaves before the next item runs */
    new Item(fn, raw, received).run();
  }
}

function handle(msg) {
  switch (msg.type) {
    case 'ping':
      send({ type: 'pong' });
      return null;
    case 'init':
      return init(msg);
    case 'invoke':
      invoke(msg);
      return null;
    default:
      send(frameError(`unknown frame type ${JSON.stringify(msg.type)}`));
      return null;
  }
}

/* Errors that escape the user's async code: attributed to the item they belong to when known,
 * else to every item in flight (their state can no longer be trusted). */
function escaped(err) {
  if (err instanceof ExitSignal && err.item) {
    err.item.settle(err);
    return;
  }
  const item = als.getStore();
  if (item && !item.finished) {
    item.settle(err);
    return;
  }
  if (inflight.size === 0) {
    try {
      fs.writeSync(2, `bootstrap: error outside any invocation: ${stackOf(err).join('\n') || err}\n`);
    } catch (e) {
      /* ignore */
    }
    return;
  }
  for (const it of [...inflight]) it.settle(err);
}

function main() {
  setupFds();
  hookStream(process.stdout, 'stdout');
  hookStream(process.stderr, 'stderr');
  process.exit = (code) => {
    throw new ExitSignal(code === undefined ? process.exitCode || 0 : code, als.getStore());
  };
  process.on('uncaughtException', escaped);
  process.on('unhandledRejection', escaped);
  let chain = Promise.resolve();
  readFrames(
    (msg) => {
      chain = chain.then(() => (msg[PARSE_ERROR] ? send(msg[PARSE_ERROR]) : handle(msg))).catch((e) => die(`internal error: ${e.stack || e}`));
    },
    () => {
      chain.then(() => {
        closing = true;
        if (inflight.size === 0) exitClean();
      });
    }
  );
}

main();
