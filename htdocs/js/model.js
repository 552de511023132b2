// Normalises what the API returns into the shapes the pages use, so that the
// pages do not care about aliases (the seed's language/timeout fields).

export const RUNTIMES = [
  { value: 'python', label: 'Python 3.11' },
  { value: 'javascript', label: 'Node.js 18' },
];
export const ISOLATIONS = [
  { value: 'docker', label: 'Docker (runc)' },
  { value: 'gvisor', label: 'gVisor (runsc)' },
];
export const STATUSES = ['success', 'error', 'timeout', 'oom', 'killed', 'internal'];

export function runtimeLabel(r) {
  const x = RUNTIMES.find((o) => o.value === r);
  return x ? x.label : (r || '–');
}

export function isolationLabel(i) {
  if (i === 'docker') return 'runc';
  if (i === 'gvisor') return 'gVisor';
  return i || '–';
}

export function normFunction(f) {
  if (!f || typeof f !== 'object') return null;
  const fn = f.function && typeof f.function === 'object' ? f.function : f;
  let runtime = fn.runtime || fn.language || '';
  if (runtime === 'js' || runtime === 'node' || runtime === 'nodejs') runtime = 'javascript';
  let timeoutMs = fn.timeout_ms;
  if (timeoutMs === undefined && fn.timeout !== undefined) timeoutMs = Number(fn.timeout) * 1000;
  return {
    id: fn.id,
    name: fn.name,
    runtime,
    handler: fn.handler || '',
    timeout_ms: timeoutMs,
    memory_mb: fn.memory_mb,
    isolation: fn.isolation || fn.default_isolation || 'docker',
    version: fn.version,
    env: fn.env || fn.env_vars || {},
    code_size: fn.code_size,
    code_sha256: fn.code_sha256,
    created_at: fn.created_at,
    updated_at: fn.updated_at,
    raw: fn,
  };
}

export function normInvocation(r) {
  const inv = r && r.invocation && typeof r.invocation === 'object' ? r.invocation : r;
  return {
    ...inv,
    request_id: inv.request_id || inv.id,
    function_name: inv.function_name || inv.function || (inv.function_id !== undefined ? `#${inv.function_id}` : ''),
    started_at: inv.started_at || inv.timestamp,
    duration_ms: inv.duration_ms !== undefined ? inv.duration_ms : inv.execution_time,
  };
}
