// Invoke a function with an event and show what happened: status, result or
// error, logs (as text), duration, cold/warm and why.

import { h, replace, field, setFieldError, statusBadge, badge } from '../dom.js';
import * as api from '../api.js';
import { normFunction, isolationLabel, runtimeLabel } from '../model.js';
import { mountEditor } from '../editor.js';
import * as fmt from '../format.js';

function pretty(v) {
  if (v === undefined) return '';
  if (typeof v === 'string') return v;
  return JSON.stringify(v, null, 2);
}

export function resultView(r) {
  const cold = r.cold ? badge(`cold${r.cold_reason ? ` · ${r.cold_reason}` : ''}`, 'warn') : badge('warm', 'ok');
  const facts = h('dl', { class: 'facts' },
    h('div', null, h('dt', null, 'Status'), h('dd', null, statusBadge(r.status))),
    h('div', null, h('dt', null, 'Duration'), h('dd', { class: 'num' }, fmt.ms(r.duration_ms))),
    h('div', null, h('dt', null, 'Init'), h('dd', { class: 'num' }, fmt.ms(r.init_ms))),
    h('div', null, h('dt', null, 'Queue'), h('dd', { class: 'num' }, fmt.ms(r.queue_ms))),
    h('div', null, h('dt', null, 'Start'), h('dd', null, cold)),
    h('div', null, h('dt', null, 'Isolation'), h('dd', null, isolationLabel(r.isolation))),
    h('div', null, h('dt', null, 'Request id'), h('dd', { class: 'mono small' },
      r.request_id ? h('a', { href: `#/invocations/${api.enc(r.request_id)}` }, r.request_id) : '–')));
  const parts = [facts];
  if (r.status === 'success' || r.result !== undefined) {
    parts.push(h('h3', null, 'Result'), h('pre', { class: 'code-block', id: 'invoke-result' }, pretty(r.result !== undefined ? r.result : r.output)));
  }
  if (r.error) {
    const e = typeof r.error === 'object' ? r.error : { errorMessage: String(r.error) };
    parts.push(h('h3', null, 'Error'), h('div', { class: 'error-box', id: 'invoke-error' },
      h('p', { class: 'strong' }, e.errorType || 'Error'), h('p', null, e.errorMessage || e.message || ''),
      Array.isArray(e.stackTrace) && e.stackTrace.length ? h('pre', { class: 'code-block small' }, e.stackTrace.join('\n')) : null));
  }
  parts.push(h('h3', null, 'Logs', r.logs_truncated ? h('span', { class: 'badge badge-warn' }, 'truncated') : null),
    r.logs ? h('pre', { class: 'code-block logs', id: 'invoke-logs' }, r.logs) : h('p', { class: 'muted' }, 'No output.'));
  return h('div', { class: 'result' }, parts);
}

export async function render(main, params, ctx) {
  const d = await api.get(`/api/functions/${api.enc(params.name)}`, null, { signal: ctx.signal });
  const fn = normFunction(d);
  const iso = h('select', { name: 'isolation' },
    h('option', { value: '' }, `Function default (${isolationLabel(fn.isolation)})`),
    h('option', { value: 'docker' }, 'Docker (runc)'),
    h('option', { value: 'gvisor' }, 'gVisor (runsc)'));
  const isoWrap = field('Isolation for this call', iso);
  const eventHost = h('div', { class: 'editor-host editor-small' });
  const eventWrap = h('div', { class: 'field', dataset: { field: 'event' } }, h('span', { class: 'label' }, 'Event (JSON)'), eventHost,
    h('p', { class: 'field-error', hidden: true, role: 'alert' }));
  const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Invoke');
  const out = h('div', { class: 'card result-card', 'aria-live': 'polite' }, h('p', { class: 'muted' }, 'The result appears here.'));
  const form = h('form', { class: 'card form-side', novalidate: true }, eventWrap, isoWrap, h('div', { class: 'form-actions' }, submit));
  replace(main,
    h('div', { class: 'page-head' }, h('div', null,
      h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' }, h('a', { href: '#/functions' }, 'Functions'), h('a', { href: `#/functions/${api.enc(fn.name)}` }, fn.name)),
      h('h1', null, `Invoke ${fn.name}`),
      h('p', { class: 'muted' }, `${runtimeLabel(fn.runtime)} · handler ${fn.handler || '–'} · timeout ${fmt.ms(fn.timeout_ms)} · ${fn.memory_mb ?? '–'} MiB`))),
    h('div', { class: 'split' }, form, out));
  const editor = await mountEditor(eventHost, { doc: '{\n  "name": "world"\n}\n', language: 'json', label: 'Event JSON' });
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    setFieldError(eventWrap, null);
    const text = editor.get().trim() || 'null';
    try { JSON.parse(text); } catch (err) {
      setFieldError(eventWrap, `Not valid JSON: ${err.message}`);
      editor.focus();
      return;
    }
    submit.disabled = true;
    submit.textContent = 'Running…';
    replace(out, h('div', { class: 'state state-loading', role: 'status' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), 'Running…'));
    const t0 = performance.now();
    try {
      const r = await api.request('POST', `/api/functions/${api.enc(fn.name)}/invoke`, { body: text, query: { isolation: iso.value || undefined }, signal: ctx.signal, timeout: (fn.timeout_ms || 3000) + 30000 });
      replace(out, h('p', { class: 'muted small' }, `Round trip ${fmt.ms(performance.now() - t0)}`), resultView(r || {}));
    } catch (err) {
      if (ctx.signal.aborted) return;
      const retry = err.status === 429 ? ' The function is at capacity; try again in a moment.' : '';
      replace(out, h('div', { class: 'banner banner-error', role: 'alert' }, `${err.message}${retry}`));
    } finally {
      submit.disabled = false;
      submit.textContent = 'Invoke';
    }
  });
  return undefined;
}
