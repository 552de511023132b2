// Sign-in with an API key. The key is checked against an authenticated
// endpoint before it is kept (sessionStorage, this tab only).

import { h, replace, field, setFieldError } from '../dom.js';
import * as api from '../api.js';

export async function render(main, _params, ctx) {
  const input = h('input', {
    type: 'password', name: 'key', autocomplete: 'off', spellcheck: 'false', required: true,
    placeholder: 'LK…………….…', class: 'mono',
  });
  const keyField = field('API key', input, 'Printed by scripts/up.sh and kept in var/admin.key. It stays in this browser tab only.');
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-block' }, 'Sign in');
  const notice = sessionStorage.getItem('lambda.signinMessage');
  sessionStorage.removeItem('lambda.signinMessage');
  const banner = h('p', { class: 'banner banner-warn', role: 'alert', hidden: !notice }, notice || '');
  const form = h('form', { class: 'login-form', novalidate: true }, banner, keyField, submit);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const key = input.value.trim();
    setFieldError(keyField, null);
    banner.hidden = true;
    if (!key) { setFieldError(keyField, 'Enter an API key.'); input.focus(); return; }
    if (!/^[\x21-\x7e]+$/.test(key)) { setFieldError(keyField, 'An API key has no spaces or special characters.'); input.focus(); return; }
    submit.disabled = true;
    submit.textContent = 'Signing in…';
    try {
      await api.get('/api/functions', { limit: 1 }, { key, noAuthRedirect: true, signal: ctx.signal });
      api.setKey(key);
      window.dispatchEvent(new Event('lambda:signedin'));
      ctx.go('/functions');
    } catch (err) {
      if (ctx.signal.aborted) return;
      const msg = err.status === 401 || err.status === 403
        ? 'This API key was not accepted. Check it and try again.'
        : `Cannot sign in: ${err.message}`;
      setFieldError(keyField, msg);
      input.focus();
    } finally {
      submit.disabled = false;
      submit.textContent = 'Sign in';
    }
  });
  replace(main, h('div', { class: 'login-wrap' },
    h('div', { class: 'login-card card' },
      h('div', { class: 'login-brand' }, h('span', { class: 'brand-mark big', 'aria-hidden': 'true' }, 'λ'),
        h('div', null, h('h1', null, 'Lambda'), h('p', { class: 'muted' }, 'Self-hosted functions dashboard'))),
      form)));
  input.focus();
}
