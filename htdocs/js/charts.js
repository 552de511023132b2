// Thin wrapper over Chart.js (vendor/chart.umd.min.js, loaded before the
// modules). Charts are created once per page and updated in place so that a
// 2 s refresh does not flicker or leak.

import { h } from './dom.js';
import * as fmt from './format.js';

export const COLORS = {
  blue: '#2f5bea', teal: '#0f9d8a', amber: '#d98a00', red: '#d64545', purple: '#7c4dcc',
  grey: '#8a94a6', pink: '#c2418f', green: '#2e9d4f',
};
export const STATUS_COLORS = {
  success: COLORS.teal, error: COLORS.red, timeout: COLORS.amber, oom: COLORS.purple,
  killed: COLORS.pink, internal: COLORS.grey,
};

// Chart.js (UMD build, sets window.Chart) is loaded on the first page that
// draws a chart, not with the sign-in page. A <script src> from our own
// origin is what the CSP allows.
let loading = null;
export function loadCharts() {
  if (window.Chart) return Promise.resolve();
  if (!loading) {
    loading = new Promise((resolve, reject) => {
      const s = document.createElement('script');
      s.src = 'vendor/chart.umd.min.js';
      s.onload = () => resolve();
      s.onerror = () => { loading = null; reject(new Error('Chart.js did not load (vendor/chart.umd.min.js)')); };
      document.head.append(s);
    });
  }
  return loading;
}

function chartLib() {
  if (!window.Chart) throw new Error('Chart.js did not load (vendor/chart.umd.min.js)');
  const C = window.Chart;
  if (!C.__lambdaDefaults) {
    C.defaults.font.family = getComputedStyle(document.body).fontFamily;
    C.defaults.font.size = 12;
    C.defaults.color = '#5b6475';
    C.defaults.borderColor = '#e6e9ef';
    C.defaults.animation = false;
    C.defaults.maintainAspectRatio = false;
    C.__lambdaDefaults = true;
  }
  return C;
}

// card(title, id) -> {el, canvas}: a chart card with a title and a canvas.
export function chartCard(title, id, subtitle) {
  const canvas = h('canvas', { id, role: 'img', 'aria-label': title });
  const el = h('section', { class: 'card chart-card' },
    h('header', { class: 'card-head' }, h('h3', null, title), subtitle ? h('span', { class: 'muted small' }, subtitle) : null),
    h('div', { class: 'chart-box' }, canvas));
  return { el, canvas };
}

// The value axis's labels, without Chart.js's default formatter: that one
// builds an Intl.NumberFormat, and ICU's set-up is tens of ms of a fresh
// page's main thread (format.js). Up to three decimals, grouped as en-US.
const valueTicks = (v) => fmt.int(v);

function baseOptions(kind, yTitle, opts) {
  const o = {
    responsive: true,
    interaction: { mode: 'index', intersect: false },
    plugins: {
      legend: { position: 'bottom', labels: { boxWidth: 10, boxHeight: 10, usePointStyle: true } },
      tooltip: { callbacks: {} },
    },
    scales: {
      x: { stacked: !!opts.stacked, ticks: { maxTicksLimit: 8, maxRotation: 0 }, grid: { display: false } },
      y: { stacked: !!opts.stacked, beginAtZero: true, title: { display: !!yTitle, text: yTitle }, ticks: { precision: opts.precision, callback: valueTicks } },
    },
  };
  if (opts.max !== undefined) o.scales.y.max = opts.max;
  if (opts.horizontal) {
    o.indexAxis = 'y';
    o.scales = { x: { beginAtZero: true, title: { display: !!yTitle, text: yTitle }, ticks: { callback: valueTicks } }, y: { grid: { display: false } } };
  }
  return o;
}

// Creates or updates a chart on `canvas`. series: [{label, data, color, type?, dashed?}].
export function drawChart(canvas, kind, labels, series, opts = {}) {
  const C = chartLib();
  const datasets = series.map((s) => ({
    label: s.label,
    data: s.data,
    type: s.type,
    borderColor: s.color,
    backgroundColor: kind === 'bar' || s.type === 'bar' ? s.color : `${s.color}22`,
    borderWidth: kind === 'bar' ? 0 : 2,
    borderDash: s.dashed ? [5, 4] : undefined,
    pointRadius: labels.length > 100 ? 1.5 : 2.5,
    pointHoverRadius: 4,
    cubicInterpolationMode: 'monotone',
    fill: !!s.fill,
    spanGaps: false, // an empty bucket is a gap, not a slope
    yAxisID: s.yAxisID,
  }));
  let chart = C.getChart(canvas);
  if (!chart) {
    chart = new C(canvas, { type: kind, data: { labels, datasets }, options: baseOptions(kind, opts.yTitle, opts) });
  } else {
    chart.data.labels = labels;
    // keep dataset objects (and their hidden state) when the shape is the same
    if (chart.data.datasets.length === datasets.length) {
      chart.data.datasets.forEach((d, i) => { d.data = datasets[i].data; d.label = datasets[i].label; });
    } else {
      chart.data.datasets = datasets;
    }
    chart.update('none');
  }
  // Totals per series, readable by tests and assistive tools.
  const sums = series.map((s) => s.data.reduce((a, b) => a + (Number(b) || 0), 0));
  const box = canvas.parentElement;
  let note = box.querySelector('.chart-empty');
  if (!note) {
    note = h('p', { class: 'chart-empty' }, opts.emptyText || 'No calls in this window');
    box.append(note);
  }
  note.hidden = !(labels.length === 0 || series.every((s) => s.data.every((v) => v === null || v === undefined || Number(v) === 0)));
  canvas.dataset.sums = JSON.stringify(sums.map((x) => Math.round(x * 1000) / 1000));
  canvas.dataset.points = String(labels.length);
  return chart;
}

export function destroyCharts(root) {
  if (!window.Chart) return;
  root.querySelectorAll('canvas').forEach((c) => {
    const ch = window.Chart.getChart(c);
    if (ch) ch.destroy();
  });
}
