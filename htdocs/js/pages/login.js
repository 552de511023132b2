// Sign-in with an API key. The key is checked against an authenticated
// endpoint before it is kept (sessionStorage, this tab only).
//
// The page's markup is index.html's #login-static, so that a first visit
// shows the form at the first paint, before any script ran. This module
// adopts that node the first time and a pristine copy of it afterwards
// (after a sign-out, the first one is gone). The copy is taken when this
// module is evaluated, before anything touched the document.

import { setFieldError } from '../dom.js';
import * as api from '../api.js';

const pristine = document.getElementById('login-static')?.cloneNode(true) || null;
if (pristine) pristine.querySelector('input[name=key]').value = ''; // typed before this ran

export async function render(main, _params, ctx) {
  let wrap = main.querySelector('#login-static');
  if (wrap) {
    // first load: the static page stays where it is (and keeps its focus)
    for (const c of [...main.childNodes]) if (c !== wrap) c.remove();
  } else {
    if (!pristine) throw new Error('index.html has no sign-in form (#login-static)');
    wrap = pristine.cloneNode(true);
    main.replaceChildren(wrap);
  }
  const form = wrap.querySelector('.login-form');
  const input = form.querySelector('input[name=key]');
  const keyField = form.querySelector('.field');
  const submit = form.querySelector('button[type=submit]');
  const banner = form.querySelector('.banner');
  const notice = sessionStorage.getItem('lambda.signinMessage');
  sessionStorage.removeItem('lambda.signinMessage');
  banner.textContent = notice || '';
  banner.hidden = !notice;
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
  submit.disabled = false; // the handler is attached: the form is usable
  if (document.activeElement !== input) input.focus();
}
