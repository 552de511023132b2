// One invocation: its record, error and logs (always rendered as text).

import { h, replace, statusBadge, badge } from '../dom.js';
import * as api from '../api.js';
import { normInvocation, isolationLabel } from '../model.js';
import * as fmt from '../format.js';

export async function render(main, params, ctx) {
  const d = await api.get(`/api/invocations/${api.enc(params.id)}`, null, { signal: ctx.signal });
  const r = normInvocation(d);
  const fnLink = r.function_name && !r.function_name.startsWith('#')
    ? h('a', { href: `#/functions/${api.enc(r.function_name)}` }, r.function_name) : (r.function_name || '–');
  const row = (k, v) => h('div', null, h('dt', null, k), h('dd', null, v ?? '–'));
  const facts = h('dl', { class: 'facts facts-wide' },
    row('Function', fnLink),
    row('Version', r.version ?? r.function_version ?? '–'),
    row('Status', statusBadge(r.status)),
    row('Started', fmt.dateTime(r.started_at)),
    row('Duration', fmt.ms(r.duration_ms)),
    row('Init', fmt.ms(r.init_ms)),
    row('Queue', fmt.ms(r.queue_ms)),
    row('Start', r.cold ? badge(`cold${r.cold_reason ? ` · ${r.cold_reason}` : ''}`, 'warn') : badge('warm', 'ok')),
    row('Isolation', isolationLabel(r.isolation)),
    row('Batch size', r.batch_size ?? '–'),
    row('Max memory', r.max_memory_bytes !== null && r.max_memory_bytes !== undefined ? fmt.bytes(r.max_memory_bytes) : '–'),
    row('CPU time', r.cpu_ms !== null && r.cpu_ms !== undefined ? fmt.ms(r.cpu_ms) : '–'),
    row('Response size', r.response_bytes !== undefined && r.response_bytes !== null ? fmt.bytes(r.response_bytes) : '–'),
    row('Source', r.source || '–'));
  const logs = typeof r.logs === 'object' && r.logs !== null ? r.logs.text ?? r.logs.logs : r.logs;
  const truncated = r.logs_truncated || (r.logs && r.logs.truncated);
  const errMsg = r.error_message || (r.error && (r.error.errorMessage || r.error.message));
  const errType = r.error_type || (r.error && r.error.errorType);
  replace(main,
    h('div', { class: 'page-head' }, h('div', null,
      h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' }, h('a', { href: '#/invocations' }, 'Invocations')),
      h('h1', { class: 'mono h1-id' }, r.request_id))),
    h('div', { class: 'card' }, facts),
    errMsg || errType ? h('div', { class: 'card' }, h('h2', null, 'Error'),
      h('div', { class: 'error-box', id: 'invocation-error' }, h('p', { class: 'strong' }, errType || 'Error'), h('p', null, errMsg || ''))) : null,
    h('div', { class: 'card' }, h('h2', null, 'Logs', truncated ? h('span', { class: 'badge badge-warn' }, 'truncated') : null),
      logs ? h('pre', { class: 'code-block logs', id: 'invocation-logs' }, logs) : h('p', { class: 'muted' }, 'This invocation printed nothing.')));
  return undefined;
}
