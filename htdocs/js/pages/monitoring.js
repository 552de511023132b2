// Real-time monitoring: volume, latency percentiles, errors by status, cold
// starts, runc vs gVisor, resource use per function and per warm container,
// pool occupancy. Refreshes every 2 s, pauses while the tab is hidden.

import { h, replace } from '../dom.js';
import * as api from '../api.js';
import { chartCard, drawChart, COLORS, loadCharts } from '../charts.js';
import { liveLoop } from '../live.js';
import { WINDOWS, windowSelector, kpi, fetchSeries, seriesCharts, seriesKpis, containersTable } from '../metrics-view.js';
import { loadAllFunctions } from './functions.js';
import * as fmt from '../format.js';

function occupancy(label, used, max, fmtv = fmt.int, capacity = true) {
  const ratio = max ? Math.min(1, used / max) : 0;
  const bar = h('div', { class: 'meter-fill' });
  bar.style.width = `${Math.round(ratio * 100)}%`; // CSSOM, allowed by the CSP
  if (capacity && ratio > 0.85) bar.classList.add('meter-hot');
  if (!capacity) bar.classList.add('meter-ok');
  return h('div', { class: 'meter-row' },
    h('div', { class: 'meter-label' }, h('span', null, label), h('span', { class: 'num muted' }, max ? `${fmtv(used)} / ${fmtv(max)}` : fmtv(used))),
    h('div', { class: 'meter', role: 'meter', 'aria-label': label, 'aria-valuemin': 0, 'aria-valuemax': max || 0, 'aria-valuenow': used || 0 }, bar));
}

function poolPanel(pools) {
  const cs = pools.containers || [];
  const lim = pools.limits || {};
  const mem = cs.reduce((a, c) => a + (Number(c.memory_bytes) || 0), 0);
  const rows = [
    occupancy('Containers', cs.length, lim.max_containers),
    occupancy('Container memory', mem, lim.max_memory_mb ? lim.max_memory_mb * 1048576 : 0, fmt.bytes),
  ];
  for (const p of pools.prewarmed || []) {
    rows.push(occupancy(`Pre-warmed ${p.runtime} · ${p.isolation === 'gvisor' ? 'gVisor' : 'runc'}`, Number(p.idle || 0), Number(p.target || 0), fmt.int, false));
  }
  rows.push(h('p', { class: 'muted small' }, `Queued requests: ${fmt.int(pools.queued || 0)}`));
  return rows;
}

export async function render(main, _params, ctx) {
  let win = ctx.query.get('window') || '5m';
  if (!WINDOWS.some((w) => w.value === win)) win = '5m';
  let fnName = ctx.query.get('function') || '';
  // Chart.js (200 kB to fetch and compile) loads while the list is fetched
  const [fns] = await Promise.all([loadAllFunctions(ctx.signal), loadCharts()]);
  const liveEl = h('span', { class: 'live', role: 'status', 'aria-live': 'off' }, 'Connecting…');
  const pauseBtn = h('button', { type: 'button', class: 'btn btn-small', 'aria-pressed': 'false' }, 'Pause');
  const fnSel = h('select', { 'aria-label': 'Function' }, h('option', { value: '' }, 'All functions'),
    fns.map((f) => h('option', { value: f.name, selected: f.name === fnName }, f.name)));
  const kpis = seriesKpis('mon');
  const host = { cpu: kpi('Host CPU', 'mon-kpi-cpu'), mem: kpi('Host memory', 'mon-kpi-mem'), warm: kpi('Warm containers', 'mon-kpi-warm') };
  Object.values(host).forEach((k) => kpis.el.append(k.el));
  const charts = seriesCharts('mon');
  const memFn = chartCard('Memory per function', 'mon-mem-fn', 'warm containers, current');
  const cpuFn = chartCard('CPU time per function', 'mon-cpu-fn', 'warm containers, cumulative');
  const memCt = chartCard('Memory per warm container', 'mon-mem-ct', 'current');
  const poolBox = h('div', { class: 'pool-box' });
  const ctBox = h('div');
  const errBox = h('div', { class: 'banner banner-error', role: 'alert', hidden: true });
  const sync = () => {
    const p = new URLSearchParams({ window: win });
    if (fnName) p.set('function', fnName);
    history.replaceState(null, '', `#/monitoring?${p}`);
  };

  replace(main,
    h('div', { class: 'page-head' },
      h('div', null, h('h1', null, 'Monitoring'), h('p', { class: 'muted' }, 'Live view of every invocation and the container pools.')),
      h('div', { class: 'head-tools' }, liveEl, pauseBtn)),
    h('div', { class: 'toolbar' }, windowSelector(win, (v) => { win = v; sync(); loop.now(); }), fnSel),
    errBox, kpis.el, charts.el,
    h('h2', { class: 'section-title' }, 'Resources'),
    h('div', { class: 'chart-grid' },
      h('section', { class: 'card' }, h('header', { class: 'card-head' }, h('h3', null, 'Pool occupancy'), h('span', { class: 'muted small' }, 'against the executor\'s caps')), poolBox),
      memCt.el, memFn.el, cpuFn.el),
    h('section', { class: 'card card-flush' }, h('header', { class: 'card-head pad' }, h('h3', null, 'Warm containers')), ctBox));

  fnSel.addEventListener('change', () => { fnName = fnSel.value; sync(); loop.now(); });

  async function tick() {
    const seconds = WINDOWS.find((w) => w.value === win).seconds;
    const [series, pools, stats] = await Promise.all([
      fetchSeries(win, fnName, ctx.signal),
      api.get('/api/pools', null, { signal: ctx.signal }).catch((e) => ({ error: e })),
      api.get('/api/stats', null, { signal: ctx.signal }).catch((e) => ({ error: e })),
    ]);
    if (ctx.signal.aborted) return;
    kpis.update(series, seconds);
    charts.update(series);
    const problems = [];
    if (stats.error) {
      problems.push(`host stats: ${stats.error.message}`);
    } else {
      const hs = stats.host || {};
      host.cpu.value.textContent = hs.cpu_percent !== undefined && hs.cpu_percent !== null ? `${Number(hs.cpu_percent).toFixed(0)} %` : '–';
      host.cpu.sub.textContent = hs.cpus ? `${hs.cpus} cores · load ${Number(hs.load1 || 0).toFixed(2)}` : '';
      host.mem.value.textContent = hs.mem_total_bytes ? fmt.pct(1 - hs.mem_available_bytes / hs.mem_total_bytes, 0) : '–';
      host.mem.sub.textContent = hs.mem_total_bytes ? `${fmt.bytes(hs.mem_total_bytes - hs.mem_available_bytes)} of ${fmt.bytes(hs.mem_total_bytes)}` : '';
    }
    if (pools.error) {
      problems.push(`pools: ${pools.error.message}`);
      host.warm.value.textContent = '–';
      replace(ctBox, h('p', { class: 'muted pad' }, 'Pool state unavailable.'));
      replace(poolBox, h('p', { class: 'muted' }, pools.error.message));
    } else {
      let cs = pools.containers || [];
      if (fnName) cs = cs.filter((c) => c.function_name === fnName);
      host.warm.value.textContent = fmt.int(cs.length);
      host.warm.sub.textContent = `${cs.filter((c) => String(c.state).toLowerCase() === 'busy').length} busy`;
      const byFn = new Map();
      for (const c of cs) {
        const k = c.function_name || 'pre-warmed';
        const v = byFn.get(k) || { mem: 0, cpu: 0 };
        v.mem += Number(c.memory_bytes) || 0;
        v.cpu += Number(c.cpu_ms) || 0;
        byFn.set(k, v);
      }
      const names = [...byFn.keys()];
      drawChart(memFn.canvas, 'bar', names, [{ label: 'memory (MiB)', data: names.map((n) => byFn.get(n).mem / 1048576), color: COLORS.blue }], { horizontal: true, yTitle: 'MiB', emptyText: 'No warm containers' });
      drawChart(cpuFn.canvas, 'bar', names, [{ label: 'CPU (ms)', data: names.map((n) => byFn.get(n).cpu), color: COLORS.teal }], { horizontal: true, yTitle: 'ms', emptyText: 'No warm containers' });
      const ids = cs.map((c) => `${String(c.id || '').slice(0, 8)} ${c.function_name || 'pre-warmed'}`);
      drawChart(memCt.canvas, 'bar', ids, [{ label: 'memory (MiB)', data: cs.map((c) => (Number(c.memory_bytes) || 0) / 1048576), color: COLORS.purple }], { horizontal: true, yTitle: 'MiB', emptyText: 'No warm containers' });
      replace(ctBox, containersTable(cs));
      replace(poolBox, poolPanel(pools));
    }
    errBox.hidden = !problems.length;
    errBox.textContent = problems.length ? `Partly unavailable: ${problems.join('; ')}` : '';
  }

  const loop = liveLoop(tick, { interval: 2000, signal: ctx.signal, statusEl: liveEl });
  pauseBtn.addEventListener('click', () => {
    loop.setPaused(!loop.paused);
    pauseBtn.textContent = loop.paused ? 'Resume' : 'Pause';
    pauseBtn.setAttribute('aria-pressed', String(loop.paused));
  });
  await loop.now();
  return undefined;
}
