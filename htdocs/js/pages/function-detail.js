// One function: its configuration, its own live charts, recent calls and
// warm containers; invoke / edit / delete.

import { h, replace, badge, confirmDialog, toast, empty } from '../dom.js';
import * as api from '../api.js';
import { normFunction, runtimeLabel, isolationLabel } from '../model.js';
import { liveLoop } from '../live.js';
import { loadCharts } from '../charts.js';
import { WINDOWS, windowSelector, fetchSeries, seriesCharts, seriesKpis, containersTable } from '../metrics-view.js';
import { invocationTable, invocationRows } from './invocations.js';
import * as fmt from '../format.js';

export async function render(main, params, ctx) {
  const path = `/api/functions/${api.enc(params.name)}`;
  const [raw] = await Promise.all([api.get(path, null, { signal: ctx.signal }), loadCharts()]);
  const fn = normFunction(raw);
  let win = '1h';
  const liveEl = h('span', { class: 'live', role: 'status', 'aria-live': 'off' }, 'Connecting…');
  const del = h('button', { type: 'button', class: 'btn btn-danger-ghost' }, 'Delete');
  const kpis = seriesKpis('fn');
  const charts = seriesCharts('fn');
  const recent = h('div');
  const ctBox = h('div');
  const env = Object.keys(fn.env || {});
  const fact = (k, v) => h('div', null, h('dt', null, k), h('dd', null, v));
  replace(main,
    h('div', { class: 'page-head' },
      h('div', null,
        h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' }, h('a', { href: '#/functions' }, 'Functions')),
        h('h1', null, fn.name, ' ', h('span', { class: 'badge badge-neutral' }, `v${fn.version ?? '?'}`)),
        h('p', { class: 'muted' }, `${runtimeLabel(fn.runtime)} · created ${fmt.dateTime(fn.created_at)} · updated ${fmt.ago(fn.updated_at)}`)),
      h('div', { class: 'head-tools' },
        h('a', { href: `#${`/functions/${api.enc(fn.name)}/invoke`}`, class: 'btn btn-primary' }, 'Invoke'),
        h('a', { href: `#${`/functions/${api.enc(fn.name)}/edit`}`, class: 'btn' }, 'Edit'), del)),
    h('div', { class: 'card' }, h('dl', { class: 'facts facts-wide' },
      fact('Handler', h('code', null, fn.handler || '–')),
      fact('Runtime', runtimeLabel(fn.runtime)),
      fact('Isolation', badge(isolationLabel(fn.isolation), fn.isolation === 'gvisor' ? 'purple' : 'blue')),
      fact('Timeout', fmt.ms(fn.timeout_ms)),
      fact('Memory', fn.memory_mb !== undefined ? `${fn.memory_mb} MiB` : '–'),
      fact('Code', fn.code_size !== undefined ? fmt.bytes(fn.code_size) : '–'),
      fact('SHA-256', h('span', { class: 'mono small truncate', title: fn.code_sha256 || '' }, fn.code_sha256 ? fn.code_sha256.slice(0, 16) : '–')),
      fact('Environment', env.length ? env.join(', ') : 'none'))),
    h('div', { class: 'toolbar' }, windowSelector(win, (v) => { win = v; loop.now(); }), liveEl),
    kpis.el, charts.el,
    h('section', { class: 'card card-flush' }, h('header', { class: 'card-head pad' }, h('h3', null, 'Recent invocations'),
      h('a', { href: `#/invocations?function=${api.enc(fn.name)}`, class: 'small' }, 'All invocations →')), recent),
    h('section', { class: 'card card-flush' }, h('header', { class: 'card-head pad' }, h('h3', null, 'Warm containers')), ctBox));

  del.addEventListener('click', async () => {
    if (!await confirmDialog(`Delete ${fn.name}?`, 'Its code and configuration are removed and its warm containers drained. Recorded invocations stay.', 'Delete')) return;
    try {
      await api.del(path);
      toast(`Deleted ${fn.name}`, 'ok');
      ctx.go('/functions');
    } catch (e) {
      toast(`Delete failed: ${e.message}`, 'err');
    }
  });

  async function tick() {
    const seconds = WINDOWS.find((w) => w.value === win).seconds;
    const [series, inv, pools] = await Promise.all([
      fetchSeries(win, fn.name, ctx.signal),
      api.getPage('/api/invocations', { function: fn.name, limit: 10 }, { signal: ctx.signal }, 'invocations'),
      api.get('/api/pools', null, { signal: ctx.signal }).catch(() => null),
    ]);
    if (ctx.signal.aborted) return;
    kpis.update(series, seconds);
    charts.update(series);
    const { items } = inv;
    if (!items.length) replace(recent, empty('No calls yet', 'Invoke the function to see its calls here.'));
    else { const t = invocationTable(false); t.tbody.append(...invocationRows(items, false)); replace(recent, t.el); }
    if (!pools) replace(ctBox, h('p', { class: 'muted pad' }, 'Pool state unavailable.'));
    else replace(ctBox, containersTable((pools.containers || []).filter((c) => c.function_name === fn.name || c.function_id === fn.id)));
  }
  const loop = liveLoop(tick, { interval: 2000, signal: ctx.signal, statusEl: liveEl });
  await loop.now();
  return undefined;
}
