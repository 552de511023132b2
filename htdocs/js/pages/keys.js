// API keys: create (the key is shown once), list, revoke.

import { h, replace, field, setFieldError, confirmDialog, toast, empty, badge, errorState, loading } from '../dom.js';
import * as api from '../api.js';
import * as fmt from '../format.js';

export async function render(main, _params, ctx) {
  const name = h('input', { type: 'text', name: 'name', maxlength: 64, autocomplete: 'off', placeholder: 'e.g. ci-deploy' });
  const nameWrap = field('Key name', name, 'A label to recognise the key by.');
  const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Create key');
  const reveal = h('div', { 'aria-live': 'polite' });
  const form = h('form', { class: 'card form-inline', novalidate: true }, nameWrap, h('div', { class: 'form-actions' }, submit));
  const list = h('div', { class: 'card card-flush' });
  replace(main,
    h('div', { class: 'page-head' }, h('div', null, h('h1', null, 'API keys'),
      h('p', { class: 'muted' }, 'Keys for the REST API, the dashboard and AWS clients (access key id + secret). Only a hash of each key is stored.'))),
    form, reveal, list);

  const load = async () => {
    replace(list, loading());
    try {
      const keys = [];
      let cursor = null;
      for (let i = 0; i < 20; i += 1) {
        const pg = await api.getPage('/api/keys', { limit: 500, cursor }, { signal: ctx.signal }, 'keys');
        keys.push(...pg.items);
        cursor = pg.next;
        if (!cursor) break;
      }
      if (!keys.length) { replace(list, empty('No API keys', 'Create one above.')); return; }
      replace(list, h('div', { class: 'table-wrap' }, h('table', { class: 'table', id: 'keys-table' },
        h('caption', { class: 'sr-only' }, 'API keys'),
        h('thead', null, h('tr', null, ['Name', 'Access key id', 'Created', 'Last used', 'Status', ''].map((x) => h('th', { scope: 'col' }, x)))),
        h('tbody', null, keys.map((k) => {
          const revoked = !!k.revoked || !!k.revoked_at;
          const btn = h('button', { type: 'button', class: 'btn btn-small btn-danger-ghost', disabled: revoked }, 'Revoke');
          btn.addEventListener('click', async () => {
            if (!await confirmDialog(`Revoke "${k.name}"?`, 'Clients using this key are refused from now on. This cannot be undone.', 'Revoke')) return;
            try {
              await api.del(`/api/keys/${api.enc(k.id ?? k.access_key_id)}`);
              toast(`Revoked ${k.name}`, 'ok');
              load();
            } catch (e) { toast(`Revoke failed: ${e.message}`, 'err'); }
          });
          return h('tr', null,
            h('td', { 'data-label': 'Name', class: 'strong' }, k.name),
            h('td', { 'data-label': 'Access key id', class: 'mono small' }, k.access_key_id || '–'),
            h('td', { 'data-label': 'Created' }, fmt.dateTime(k.created_at)),
            h('td', { 'data-label': 'Last used' }, fmt.ago(k.last_used_at)),
            h('td', { 'data-label': 'Status' }, revoked ? badge('revoked', 'err') : badge('active', 'ok')),
            h('td', { class: 'actions-cell' }, revoked ? h('span', { class: 'muted small' }, k.revoked_at ? `revoked ${fmt.ago(k.revoked_at)}` : '') : btn));
        })))));
    } catch (e) {
      if (ctx.signal.aborted || e.status === 401) return;
      replace(list, errorState(e, load));
    }
  };

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    setFieldError(nameWrap, null);
    const n = name.value.trim();
    if (!n) { setFieldError(nameWrap, 'A name is required.'); name.focus(); return; }
    submit.disabled = true;
    try {
      const d = await api.post('/api/keys', { name: n }, { signal: ctx.signal });
      const key = d && (d.key || d.api_key);
      const copy = h('button', { type: 'button', class: 'btn btn-small' }, 'Copy');
      const keyEl = h('code', { class: 'key-once mono', id: 'new-key' }, key || '(the server did not return the key)');
      copy.addEventListener('click', async () => {
        try { await navigator.clipboard.writeText(key); toast('Copied', 'ok'); } catch { toast('Copy failed: select the key and copy it', 'err'); }
      });
      replace(reveal, h('div', { class: 'banner banner-ok key-reveal', role: 'alert' },
        h('p', { class: 'strong' }, `Key "${n}" created. Copy it now: it is shown only once.`),
        h('div', { class: 'key-line' }, keyEl, copy)));
      name.value = '';
      load();
    } catch (err) {
      if (ctx.signal.aborted) return;
      setFieldError(nameWrap, err.message);
      name.focus();
    } finally {
      submit.disabled = false;
    }
  });
  await load();
  return undefined;
}
