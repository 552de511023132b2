// A sortable table: column headers are buttons (keyboard reachable) and the
// sorted column carries aria-sort.

import { h, replace } from './dom.js';

// Case-insensitive, then by code point: the names sorted here are ASCII
// (functions, runtimes, key names), and localeCompare's first call sets up
// ICU's collator, tens of ms of a fresh page's main thread (format.js).
export function textOrder(a, b) {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  if (x !== y) return x < y ? -1 : 1;
  if (a === b) return 0;
  return a < b ? -1 : 1;
}

// columns: [{key, label, sort?: (row)=>value, cell: (row)=>Node|string, class?}]
export function sortableTable(columns, rows, opts = {}) {
  let sortKey = opts.sortKey || columns[0].key;
  let dir = opts.dir || 'asc';
  const thead = h('thead');
  const tbody = h('tbody');
  const table = h('table', { class: `table ${opts.class || ''}` }, opts.caption ? h('caption', { class: 'sr-only' }, opts.caption) : null, thead, tbody);

  function value(col, row) {
    const v = col.sort ? col.sort(row) : row[col.key];
    return v === undefined || v === null ? null : v;
  }

  function draw() {
    const col = columns.find((c) => c.key === sortKey) || columns[0];
    const sorted = [...rows].sort((a, b) => {
      const va = value(col, a);
      const vb = value(col, b);
      if (va === vb) return 0;
      if (va === null) return 1;
      if (vb === null) return -1;
      const c = typeof va === 'number' && typeof vb === 'number' ? va - vb : textOrder(String(va), String(vb));
      return dir === 'asc' ? c : -c;
    });
    replace(thead, h('tr', null, columns.map((c) => {
      const active = c.key === sortKey;
      const th = h('th', { scope: 'col', class: c.class || '', 'aria-sort': active ? (dir === 'asc' ? 'ascending' : 'descending') : null });
      if (c.nosort) { th.textContent = c.label; return th; }
      th.append(h('button', {
        type: 'button', class: 'th-sort',
        onclick: () => {
          if (sortKey === c.key) dir = dir === 'asc' ? 'desc' : 'asc';
          else { sortKey = c.key; dir = c.defaultDir || 'asc'; }
          draw();
        },
      }, c.label, h('span', { class: 'sort-ind', 'aria-hidden': 'true' }, active ? (dir === 'asc' ? '▲' : '▼') : '↕')));
      return th;
    })));
    replace(tbody, sorted.map((r) => h('tr', opts.rowAttrs ? opts.rowAttrs(r) : null,
      columns.map((c) => h('td', { class: c.class || '', 'data-label': c.label }, c.cell ? c.cell(r) : (r[c.key] ?? '–'))))));
  }

  draw();
  return {
    el: h('div', { class: 'table-wrap' }, table),
    setRows(newRows) { rows = newRows; draw(); },
  };
}
