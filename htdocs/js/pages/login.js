// Sign-in with an API key. js/boot.js handles the submit of every sign-in
// form (it checks the key against an authenticated endpoint, keeps it in
// sessionStorage, this tab only, and goes on to the functions page), so that
// a first visit can sign in before this app has loaded.
//
// The page's markup is index.html's #login-static, on screen at the first
// paint. This module shows that node the first time and a pristine copy of
// it afterwards (after a sign-out, the first one is gone). The copy is taken
// when this module is evaluated, and reset when it is shown.

import { setFieldError } from '../dom.js';

const pristine = document.getElementById('login-static')?.cloneNode(true) || null;

export async function render(main) {
  let wrap = main.querySelector('#login-static');
  if (wrap) {
    // first load: the static page stays where it is (and keeps its focus)
    for (const c of [...main.childNodes]) if (c !== wrap) c.remove();
  } else {
    if (!pristine) throw new Error('index.html has no sign-in form (#login-static)');
    wrap = pristine.cloneNode(true);
    const form = wrap.querySelector('.login-form');
    delete form.dataset.busy; // copied while a sign-in was under way
    form.querySelector('input[name=key]').value = '';
    form.querySelector('button[type=submit]').textContent = 'Sign in';
    setFieldError(form.querySelector('.field'), null);
    main.replaceChildren(wrap);
  }
  const form = wrap.querySelector('.login-form');
  const input = form.querySelector('input[name=key]');
  const banner = form.querySelector('.banner');
  const notice = sessionStorage.getItem('lambda.signinMessage');
  sessionStorage.removeItem('lambda.signinMessage');
  banner.textContent = notice || '';
  banner.hidden = !notice;
  // boot.js's submit handler is on the document: the button may be enabled
  // (boot.js did it already for index.html's form, unless it is signing in)
  if (!form.dataset.busy) form.querySelector('button[type=submit]').disabled = false;
  if (document.activeElement !== input) input.focus();
}
