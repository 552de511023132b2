// Metric views shared by the monitoring page and the per-function page:
// KPI tiles and the timeseries charts, all fed by /api/metrics/timeseries.

import { h, replace } from './dom.js';
import { chartCard, drawChart, COLORS, STATUS_COLORS } from './charts.js';
import * as api from './api.js';
import * as fmt from './format.js';

export const WINDOWS = [
  { value: '5m', label: '5 min', seconds: 300 },
  { value: '1h', label: '1 hour', seconds: 3600 },
  { value: '24h', label: '24 hours', seconds: 86400 },
];
const ERROR_STATUSES = ['error', 'timeout', 'oom', 'killed', 'internal'];

// Segmented control built from radio buttons: arrow keys work natively.
export function windowSelector(value, onChange) {
  const name = `win-${Math.random().toString(36).slice(2, 8)}`;
  const box = h('fieldset', { class: 'segmented' }, h('legend', { class: 'sr-only' }, 'Time window'));
  for (const w of WINDOWS) {
    const id = `${name}-${w.value}`;
    const input = h('input', { type: 'radio', name, id, value: w.value, checked: w.value === value });
    input.addEventListener('change', () => { if (input.checked) onChange(w.value); });
    box.append(input, h('label', { for: id }, w.label));
  }
  return box;
}

export function kpi(label, id) {
  const value = h('div', { class: 'kpi-value', id }, '–');
  const sub = h('div', { class: 'kpi-sub muted small' }, '');
  return { el: h('div', { class: 'kpi' }, h('div', { class: 'kpi-label' }, label), value, sub), value, sub };
}

export function fetchSeries(win, fn, signal) {
  return api.get('/api/metrics/timeseries', { window: win, function: fn || undefined }, { signal });
}

function labelsOf(series) {
  const step = series.step_s || 60;
  return (series.buckets || []).map((b) => fmt.clock(b.ts, step < 60));
}

// Builds the chart cards; returns {el, update(series)}.
export function seriesCharts(prefix, opts = {}) {
  const vol = chartCard('Request volume', `${prefix}-volume`, 'calls per interval, by status');
  const lat = chartCard('Latency', `${prefix}-latency`, 'p50 / p95 / p99');
  const err = chartCard('Error rate', `${prefix}-errors`, '% of calls, by status');
  const cold = chartCard('Cold starts', `${prefix}-cold`, '% of calls that started a container');
  const isoCalls = chartCard('runc vs gVisor: volume', `${prefix}-iso-calls`, 'calls per interval');
  const isoLat = chartCard('runc vs gVisor: latency', `${prefix}-iso-latency`, 'p50 and p95');
  const cards = [vol, lat, err, cold];
  if (!opts.noIsolation) cards.push(isoCalls, isoLat);
  const el = h('div', { class: 'chart-grid' }, cards.map((c) => c.el));
  function update(series) {
    const labels = labelsOf(series);
    const b = series.buckets || [];
    const st = (s) => b.map((x) => (x.by_status && x.by_status[s]) || 0);
    // bucket times, for readers of the data (tests): bucket i starts at from + i * step
    vol.canvas.dataset.from = String(series.from ?? (b.length ? b[0].ts : 0));
    vol.canvas.dataset.step = String(series.step_s || 0);
    drawChart(vol.canvas, 'bar', labels, ['success', ...ERROR_STATUSES].map((s) => ({ label: s, data: st(s), color: STATUS_COLORS[s] })), { stacked: true, precision: 0, yTitle: 'calls' });
    drawChart(lat.canvas, 'line', labels, [
      { label: 'p50', data: b.map((x) => x.p50_ms), color: COLORS.teal },
      { label: 'p95', data: b.map((x) => x.p95_ms), color: COLORS.blue },
      { label: 'p99', data: b.map((x) => x.p99_ms), color: COLORS.red, dashed: true },
    ], { yTitle: 'ms' });
    const rate = (n, d) => (d ? Math.round((n / d) * 10000) / 100 : null);
    drawChart(err.canvas, 'line', labels, ERROR_STATUSES.map((s) => ({
      label: s, data: b.map((x) => rate((x.by_status && x.by_status[s]) || 0, x.calls)), color: STATUS_COLORS[s],
    })), { yTitle: '%', emptyText: 'No errors in this window' });
    drawChart(cold.canvas, 'line', labels, [{ label: 'cold-start rate', data: b.map((x) => rate(x.cold || 0, x.calls)), color: COLORS.amber, fill: true }], { yTitle: '%', emptyText: 'No cold starts in this window' });
    if (!opts.noIsolation) {
      const iso = (name, k) => b.map((x) => (x.by_isolation && x.by_isolation[name] ? x.by_isolation[name][k] : (k === 'calls' ? 0 : null)));
      drawChart(isoCalls.canvas, 'line', labels, [
        { label: 'runc', data: iso('docker', 'calls'), color: COLORS.blue },
        { label: 'gVisor', data: iso('gvisor', 'calls'), color: COLORS.purple },
      ], { precision: 0, yTitle: 'calls' });
      drawChart(isoLat.canvas, 'line', labels, [
        { label: 'runc p50', data: iso('docker', 'p50_ms'), color: COLORS.blue },
        { label: 'runc p95', data: iso('docker', 'p95_ms'), color: COLORS.blue, dashed: true },
        { label: 'gVisor p50', data: iso('gvisor', 'p50_ms'), color: COLORS.purple },
        { label: 'gVisor p95', data: iso('gvisor', 'p95_ms'), color: COLORS.purple, dashed: true },
      ], { yTitle: 'ms' });
    }
  }
  return { el, update };
}

// KPI row for a series' totals.
export function seriesKpis(prefix) {
  const k = {
    calls: kpi('Requests', `${prefix}-kpi-calls`),
    rps: kpi('Throughput', `${prefix}-kpi-rps`),
    err: kpi('Error rate', `${prefix}-kpi-errors`),
    lat: kpi('Latency p50 / p95 / p99', `${prefix}-kpi-latency`),
    cold: kpi('Cold starts', `${prefix}-kpi-cold`),
  };
  k.lat.el.classList.add('kpi-wide');
  const el = h('div', { class: 'kpis' }, Object.values(k).map((x) => x.el));
  function update(series, winSeconds) {
    const t = series.totals || {};
    const calls = Number(t.calls || 0);
    k.calls.value.textContent = fmt.int(calls);
    k.calls.sub.textContent = `in the last ${WINDOWS.find((w) => w.seconds === winSeconds)?.label || ''}`;
    k.rps.value.textContent = `${(calls / winSeconds).toFixed(calls / winSeconds < 10 ? 2 : 0)}/s`;
    k.rps.sub.textContent = 'average';
    k.err.value.textContent = calls ? fmt.pct(t.error_rate ?? (t.errors || 0) / calls) : '–';
    const bs = t.by_status || {};
    k.err.sub.textContent = ERROR_STATUSES.filter((s) => bs[s]).map((s) => `${s} ${bs[s]}`).join(' · ') || 'no errors';
    k.lat.value.textContent = calls ? `${fmt.ms(t.p50_ms)} / ${fmt.ms(t.p95_ms)} / ${fmt.ms(t.p99_ms)}` : '–';
    k.lat.value.classList.toggle('kpi-value-small', true);
    k.lat.sub.textContent = series.source === 'rollup' ? 'approximate: from latency histograms' : 'exact, from every call';
    k.cold.value.textContent = calls ? fmt.pct(t.cold_rate ?? (t.cold || 0) / calls) : '–';
    k.cold.sub.textContent = `${fmt.int(t.cold || 0)} cold of ${fmt.int(calls)}`;
  }
  return { el, update };
}

// Table of warm containers from /api/pools (optionally one function's).
export function containersTable(containers) {
  if (!containers.length) return h('p', { class: 'muted pad' }, 'No warm containers right now.');
  return h('div', { class: 'table-wrap' }, h('table', { class: 'table', id: 'containers-table' },
    h('caption', { class: 'sr-only' }, 'Warm containers'),
    h('thead', null, h('tr', null, ['Container', 'Function', 'Isolation', 'State', 'Age', 'Idle', 'Calls', 'Memory', 'CPU'].map((x) => h('th', { scope: 'col', class: ['Calls', 'Memory', 'CPU', 'Age', 'Idle'].includes(x) ? 'num' : '' }, x)))),
    h('tbody', null, containers.map((c) => h('tr', null,
      h('td', { class: 'mono small', 'data-label': 'Container' }, String(c.id || '').slice(0, 12)),
      h('td', { 'data-label': 'Function' }, c.function_name ? h('a', { href: `#/functions/${api.enc(c.function_name)}` }, c.function_name, c.version !== undefined ? ` v${c.version}` : '') : h('span', { class: 'muted' }, 'pre-warmed')),
      h('td', { 'data-label': 'Isolation' }, c.isolation === 'gvisor' ? 'gVisor' : 'runc'),
      h('td', { 'data-label': 'State' }, h('span', { class: `state-pill state-${String(c.state || '').toLowerCase()}` }, String(c.state || '–').toLowerCase())),
      h('td', { class: 'num', 'data-label': 'Age' }, fmt.secs(c.age_s)),
      h('td', { class: 'num', 'data-label': 'Idle' }, fmt.secs(c.idle_s)),
      h('td', { class: 'num', 'data-label': 'Calls' }, fmt.int(c.calls)),
      h('td', { class: 'num', 'data-label': 'Memory' }, fmt.bytes(c.memory_bytes)),
      h('td', { class: 'num', 'data-label': 'CPU' }, fmt.ms(c.cpu_ms)))))));
}

export function setText(el, text) {
  replace(el, text);
}
