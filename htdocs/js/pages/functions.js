// Functions list: name, runtime, isolation, version, last call, calls and
// errors in the last hour, p95; search and sort.

import { h, replace, empty, badge } from '../dom.js';
import * as api from '../api.js';
import { normFunction, runtimeLabel, isolationLabel } from '../model.js';
import { sortableTable } from '../table.js';
import * as fmt from '../format.js';

export async function loadAllFunctions(signal) {
  const out = [];
  let cursor = null;
  for (let page = 0; page < 50; page += 1) {
    const pg = await api.getPage('/api/functions', { limit: 100, cursor }, { signal }, 'functions');
    out.push(...pg.items.map(normFunction));
    cursor = pg.next;
    if (!cursor) break;
  }
  return out;
}

export async function loadSummary(window, signal) {
  try {
    const d = await api.get('/api/metrics/summary', { window }, { signal });
    const rows = api.listOf(d, 'functions', 'summary');
    const byId = new Map();
    rows.forEach((r) => byId.set(String(r.function_id), r));
    return byId;
  } catch (e) {
    if (e.status === 401) throw e;
    return new Map(); // metrics are decoration here: the list still works
  }
}

export async function render(main, _params, ctx) {
  const head = h('div', { class: 'page-head' },
    h('div', null, h('h1', null, 'Functions'), h('p', { class: 'muted' }, 'Deployed functions with their activity over the last hour.')),
    h('a', { href: '#/functions/new', class: 'btn btn-primary' }, 'New function'));
  // the last hour's figures, and all time for the last call (cheap: daily rollup)
  const [fns, summary, ever] = await Promise.all([loadAllFunctions(ctx.signal), loadSummary('1h', ctx.signal), loadSummary(undefined, ctx.signal)]);
  if (!fns.length) {
    replace(main, head, empty('No functions yet', 'Create your first function: write a handler in Python or JavaScript and deploy it.',
      h('a', { href: '#/functions/new', class: 'btn btn-primary' }, 'Create a function')));
    return undefined;
  }
  const rows = fns.map((f) => {
    const s = summary.get(String(f.id)) || {};
    const all = ever.get(String(f.id)) || {};
    return { ...f, calls: Number(s.total_calls || 0), errors: Number(s.error_count || 0), p95: s.p95_ms ?? null, last: all.last_call_at || null };
  });
  const link = (f) => h('a', { href: `#/functions/${api.enc(f.name)}`, class: 'strong' }, f.name);
  const table = sortableTable([
    { key: 'name', label: 'Name', cell: link },
    { key: 'runtime', label: 'Runtime', cell: (f) => runtimeLabel(f.runtime) },
    { key: 'isolation', label: 'Isolation', cell: (f) => badge(isolationLabel(f.isolation), f.isolation === 'gvisor' ? 'purple' : 'blue') },
    { key: 'version', label: 'Version', class: 'num', cell: (f) => (f.version !== undefined ? `v${f.version}` : '–') },
    { key: 'last', label: 'Last call', defaultDir: 'desc', sort: (f) => (fmt.toDate(f.last) ? fmt.toDate(f.last).getTime() : null), cell: (f) => h('span', { title: fmt.dateTime(f.last) }, fmt.ago(f.last)) },
    { key: 'calls', label: 'Calls (1 h)', class: 'num', defaultDir: 'desc', cell: (f) => fmt.int(f.calls) },
    { key: 'errors', label: 'Errors (1 h)', class: 'num', defaultDir: 'desc', cell: (f) => (f.errors ? h('span', { class: 'text-err' }, fmt.int(f.errors)) : '0') },
    { key: 'p95', label: 'p95', class: 'num', defaultDir: 'desc', cell: (f) => fmt.ms(f.p95) },
    { key: 'actions', label: '', nosort: true, class: 'actions-cell', cell: (f) => h('a', { href: `#/functions/${api.enc(f.name)}/invoke`, class: 'btn btn-small' }, 'Invoke') },
  ], rows, { caption: 'Functions', sortKey: 'name' });
  const count = h('span', { class: 'muted small', role: 'status' }, `${rows.length} functions`);
  const search = h('input', { type: 'search', class: 'search', placeholder: 'Search by name, runtime or handler', 'aria-label': 'Search functions' });
  search.addEventListener('input', () => {
    const q = search.value.trim().toLowerCase();
    const shown = rows.filter((f) => !q || [f.name, f.runtime, f.handler, f.isolation].some((x) => String(x || '').toLowerCase().includes(q)));
    table.setRows(shown);
    count.textContent = `${shown.length} of ${rows.length} functions`;
  });
  replace(main, head, h('div', { class: 'toolbar' }, search, count), h('div', { class: 'card card-flush' }, table.el));
  return undefined;
}

