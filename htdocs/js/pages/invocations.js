// Invocations: filter by function, status and time; newest first; open one
// to see its logs. Filters live in the fragment so a view can be shared.

import { h, replace, append, empty, statusBadge, badge, loading, errorState } from '../dom.js';
import * as api from '../api.js';
import { normInvocation, STATUSES, isolationLabel } from '../model.js';
import { loadAllFunctions } from './functions.js';
import * as fmt from '../format.js';

const WINDOWS = [
  { value: '', label: 'Any time' },
  { value: '900', label: 'Last 15 minutes' },
  { value: '3600', label: 'Last hour' },
  { value: '86400', label: 'Last 24 hours' },
  { value: '604800', label: 'Last 7 days' },
];
const PAGE = 50;

export function invocationRows(items, withFunction = true) {
  return items.map(normInvocation).map((r) => h('tr', null,
    h('td', { 'data-label': 'Time' }, h('span', { title: fmt.dateTime(r.started_at) }, fmt.dateTime(r.started_at))),
    withFunction ? h('td', { 'data-label': 'Function' }, r.function_name && !r.function_name.startsWith('#')
      ? h('a', { href: `#/functions/${api.enc(r.function_name)}`, class: 'fn-link' }, r.function_name) : r.function_name) : null,
    h('td', { 'data-label': 'Status' }, statusBadge(r.status)),
    h('td', { class: 'num', 'data-label': 'Duration' }, fmt.ms(r.duration_ms)),
    h('td', { 'data-label': 'Start' }, r.cold ? badge('cold', 'warn') : badge('warm', 'ok')),
    h('td', { 'data-label': 'Isolation' }, isolationLabel(r.isolation)),
    h('td', { class: 'mono small', 'data-label': 'Request id' }, h('a', { href: `#/invocations/${api.enc(r.request_id)}` }, r.request_id))));
}

export function invocationTable(withFunction = true) {
  const tbody = h('tbody');
  const table = h('table', { class: 'table', id: 'invocations-table' },
    h('caption', { class: 'sr-only' }, 'Invocations, newest first'),
    h('thead', null, h('tr', null,
      h('th', { scope: 'col' }, 'Time'), withFunction ? h('th', { scope: 'col' }, 'Function') : null,
      h('th', { scope: 'col' }, 'Status'), h('th', { scope: 'col', class: 'num' }, 'Duration'),
      h('th', { scope: 'col' }, 'Start'), h('th', { scope: 'col' }, 'Isolation'), h('th', { scope: 'col' }, 'Request id'))),
    tbody);
  return { el: h('div', { class: 'table-wrap' }, table), tbody };
}

export async function render(main, _params, ctx) {
  const q = ctx.query;
  const fns = await loadAllFunctions(ctx.signal);
  const fnSel = h('select', { name: 'function', 'aria-label': 'Function' }, h('option', { value: '' }, 'All functions'),
    fns.map((f) => h('option', { value: f.name, selected: q.get('function') === f.name }, f.name)));
  const stSel = h('select', { name: 'status', 'aria-label': 'Status' }, h('option', { value: '' }, 'Any status'),
    STATUSES.map((s) => h('option', { value: s, selected: q.get('status') === s }, s)));
  const tSel = h('select', { name: 'since', 'aria-label': 'Time' }, WINDOWS.map((w) => h('option', { value: w.value, selected: (q.get('since') || '') === w.value }, w.label)));
  const refresh = h('button', { type: 'button', class: 'btn' }, 'Refresh');
  const body = h('div', { class: 'card card-flush' });
  const more = h('button', { type: 'button', class: 'btn', hidden: true }, 'Load more');
  replace(main,
    h('div', { class: 'page-head' }, h('div', null, h('h1', null, 'Invocations'), h('p', { class: 'muted' }, 'Every call, whatever its outcome. Open one to read its logs.'))),
    h('div', { class: 'toolbar' }, fnSel, stSel, tSel, refresh), body, h('div', { class: 'center' }, more));

  const syncHash = () => {
    const p = new URLSearchParams();
    if (fnSel.value) p.set('function', fnSel.value);
    if (stSel.value) p.set('status', stSel.value);
    if (tSel.value) p.set('since', tSel.value);
    const s = p.toString();
    history.replaceState(null, '', `#/invocations${s ? `?${s}` : ''}`);
  };
  let cursor = null;
  let table = null;
  // The API lists newest first without a time filter: the time filter is
  // applied here, and paging stops at the first row older than it.
  const load = async (reset) => {
    if (reset) { cursor = null; replace(body, loading()); more.hidden = true; }
    const since = tSel.value ? Date.now() - Number(tSel.value) * 1000 : null;
    try {
      const pg = await api.getPage('/api/invocations', { function: fnSel.value, status: stSel.value, limit: PAGE, cursor }, { signal: ctx.signal }, 'invocations');
      let items = pg.items;
      let older = false;
      if (since !== null) {
        const keep = items.filter((r) => { const d = fmt.toDate(normInvocation(r).started_at); return d && d.getTime() >= since; });
        older = keep.length < items.length;
        items = keep;
      }
      if (reset) {
        if (!items.length) {
          replace(body, empty('No invocations match', fnSel.value || stSel.value || tSel.value ? 'Try widening the filters.' : 'Invoke a function and its calls appear here.'));
          return;
        }
        table = invocationTable(true);
        replace(body, table.el);
      }
      append(table.tbody, invocationRows(items, true));
      cursor = older ? null : pg.next;
      more.hidden = !cursor;
    } catch (e) {
      if (ctx.signal.aborted || e.status === 401) return;
      replace(body, errorState(e, () => load(true)));
    }
  };
  [fnSel, stSel, tSel].forEach((s) => s.addEventListener('change', () => { syncHash(); load(true); }));
  refresh.addEventListener('click', () => load(true));
  more.addEventListener('click', () => load(false));
  await load(true);
  return undefined;
}
