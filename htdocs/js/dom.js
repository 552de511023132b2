// Tiny DOM helpers. Every piece of data goes in through text nodes or
// attributes set one by one: this module never parses HTML.

// h('div', {class: 'x', onclick: fn}, 'text', child, [more]) -> element.
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === null || v === undefined || v === false) continue;
      if (k.startsWith('on') && typeof v === 'function') {
        el.addEventListener(k.slice(2), v);
      } else if (k === 'class') {
        el.className = v;
      } else if (k === 'text') {
        el.textContent = String(v);
      } else if (k === 'dataset') {
        Object.assign(el.dataset, v);
      } else if (k === 'value' || k === 'checked' || k === 'selected' || k === 'disabled') {
        el[k] = v;
      } else if (k === 'style') {
        throw new Error('inline style strings are not allowed (CSP); use classes');
      } else {
        el.setAttribute(k, v === true ? '' : String(v));
      }
    }
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

export function replace(el, ...children) {
  clear(el);
  return append(el, children);
}

let uid = 0;
export function nextId(prefix) {
  uid += 1;
  return `${prefix}-${uid}`;
}

// Loading / empty / error states, one look everywhere.
export function loading(text = 'Loading…') {
  return h('div', { class: 'state state-loading', role: 'status' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), text);
}

export function empty(title, hint, action) {
  return h('div', { class: 'state state-empty' }, h('p', { class: 'state-title' }, title), hint ? h('p', { class: 'muted' }, hint) : null, action || null);
}

export function errorState(err, retry) {
  return h('div', { class: 'state state-error', role: 'alert' },
    h('p', { class: 'state-title' }, 'Something went wrong'),
    h('p', null, err && err.message ? err.message : String(err)),
    retry ? h('button', { type: 'button', class: 'btn', onclick: retry }, 'Try again') : null);
}

export function badge(text, kind) {
  return h('span', { class: `badge badge-${kind || 'neutral'}` }, text);
}

export function statusBadge(status) {
  const kinds = { success: 'ok', error: 'err', timeout: 'warn', oom: 'err', killed: 'err', internal: 'err' };
  return badge(status || 'unknown', kinds[status] || 'neutral');
}

export function toast(message, kind = 'info') {
  const box = document.getElementById('toasts');
  const t = h('div', { class: `toast toast-${kind}` }, message);
  box.append(t);
  setTimeout(() => t.remove(), 4000);
}

// A modal confirmation built on <dialog>; resolves true/false.
export function confirmDialog(title, body, okText = 'Confirm') {
  return new Promise((resolve) => {
    const dlg = h('dialog', { class: 'dialog', 'aria-labelledby': 'dlg-title' });
    const done = (v) => { dlg.close(); dlg.remove(); resolve(v); };
    append(dlg, [
      h('h2', { id: 'dlg-title' }, title),
      h('p', null, body),
      h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'btn', onclick: () => done(false) }, 'Cancel'),
        h('button', { type: 'button', class: 'btn btn-danger', onclick: () => done(true) }, okText)),
    ]);
    dlg.addEventListener('cancel', (e) => { e.preventDefault(); done(false); });
    document.body.append(dlg);
    dlg.showModal();
  });
}

export function field(label, input, hint) {
  const id = input.id || nextId('f');
  input.id = id;
  const err = h('p', { class: 'field-error', id: `${id}-error`, hidden: true });
  input.setAttribute('aria-describedby', `${id}-error`);
  const wrap = h('div', { class: 'field', dataset: { field: input.name || '' } },
    h('label', { for: id }, label), input, hint ? h('p', { class: 'hint' }, hint) : null, err);
  return wrap;
}

export function setFieldError(wrap, message) {
  const err = wrap.querySelector('.field-error');
  const input = wrap.querySelector('input, select, textarea, .cm-editor, .code-fallback');
  if (message) {
    err.textContent = message;
    err.hidden = false;
    wrap.classList.add('has-error');
    if (input && input.setAttribute) input.setAttribute('aria-invalid', 'true');
  } else {
    err.textContent = '';
    err.hidden = true;
    wrap.classList.remove('has-error');
    if (input && input.removeAttribute) input.removeAttribute('aria-invalid');
  }
}
