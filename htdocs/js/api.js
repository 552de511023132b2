// The only module that talks to the server. The API key lives in
// sessionStorage (gone when the tab closes) and travels only in the
// Authorization header, never in a URL.

const KEY_NAME = 'lambda.apiKey';
const TIMEOUT_MS = 15000;

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export function getKey() {
  return sessionStorage.getItem(KEY_NAME);
}

export function setKey(key) {
  sessionStorage.setItem(KEY_NAME, key);
}

export function clearKey() {
  sessionStorage.removeItem(KEY_NAME);
}

let onUnauthorized = () => {};
export function setUnauthorizedHandler(fn) {
  onUnauthorized = fn;
}

function buildUrl(path, query) {
  const url = new URL(path, window.location.origin);
  if (query) {
    for (const [k, v] of Object.entries(query)) {
      if (v !== undefined && v !== null && v !== '') url.searchParams.set(k, String(v));
    }
  }
  return url.pathname + url.search;
}

// The answer to a GET that js/boot.js started before this module ran (a
// signed-in load of the functions page), taken once, only for the same URL
// and key and while fresh; else null.
const EARLY_FRESH_MS = 10000;
function takeEarly(url, key) {
  const early = window.lambdaEarly;
  const e = early && early.get(url);
  if (!e) return null;
  early.delete(url);
  return e.key === key && performance.now() - e.at < EARLY_FRESH_MS ? e.response : null;
}

// request('GET', '/api/functions', {query, body, key, signal}) -> parsed JSON
// (or text for non-JSON answers, null for 204). Throws ApiError.
export async function request(method, path, opts = {}) {
  const key = opts.key !== undefined ? opts.key : getKey();
  const headers = { Accept: 'application/json' };
  if (key) headers.Authorization = `Bearer ${key}`;
  let body;
  if (opts.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
  }
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), opts.timeout || TIMEOUT_MS);
  if (opts.signal) opts.signal.addEventListener('abort', () => ctl.abort());
  const url = buildUrl(path, opts.query);
  let resp;
  try {
    resp = await ((method === 'GET' && takeEarly(url, key)) || fetch(url, {
      method, headers, body, signal: ctl.signal, credentials: 'omit', cache: 'no-store',
    }));
  } catch (e) {
    if (opts.signal && opts.signal.aborted) throw e;
    throw new ApiError(0, 'network', ctl.signal.aborted || e.name === 'AbortError'
      ? 'The server did not answer in time.'
      : 'Cannot reach the server. Is the platform running?');
  } finally {
    clearTimeout(timer);
  }
  if (opts.onHeaders) opts.onHeaders(resp.headers);
  if (resp.status === 204) return null;
  const type = resp.headers.get('Content-Type') || '';
  const text = await resp.text();
  let data = text;
  if (type.includes('json') && text.length) {
    try { data = JSON.parse(text); } catch { data = text; }
  }
  if (!resp.ok) {
    const e = data && data.error ? data.error : null;
    const msg = e && e.message ? e.message : `${resp.status} ${resp.statusText || 'error'}`;
    const err = new ApiError(resp.status, e && e.code ? e.code : 'http', msg);
    if (resp.status === 401 && !opts.noAuthRedirect) onUnauthorized(err);
    throw err;
  }
  return data;
}

export const get = (path, query, opts = {}) => request('GET', path, { ...opts, query });
export const post = (path, body, opts = {}) => request('POST', path, { ...opts, body });
export const put = (path, body, opts = {}) => request('PUT', path, { ...opts, body });
export const del = (path, opts = {}) => request('DELETE', path, opts);

// Lists come as a bare array (the seed's shape) or as an object holding one.
export function listOf(data, ...names) {
  if (Array.isArray(data)) return data;
  if (!data || typeof data !== 'object') return [];
  for (const n of [...names, 'items', 'data']) {
    if (Array.isArray(data[n])) return data[n];
  }
  return [];
}

// A page of a list: lists are JSON arrays and the cursor of the next page
// comes in the X-Next-Cursor header. -> {items, next}
export async function getPage(path, query, opts = {}, ...names) {
  let next = null;
  const data = await request('GET', path, {
    ...opts, query, onHeaders: (hd) => { next = hd.get('X-Next-Cursor'); },
  });
  if (!next && data && !Array.isArray(data)) next = data.next_cursor || null;
  return { items: listOf(data, ...names), next };
}

export const enc = encodeURIComponent;
