// The first script of index.html: classic, tiny, ahead of the stylesheet, so
// it runs as soon as it arrives (a script after a stylesheet would wait for
// it). It owns the first load's critical path; the app (dist/app.js, 55 kB)
// is not on it. See docs/dashboard.md "First load".
//
// Signed out (a first visit): the sign-in form is index.html's own markup.
// This script handles every sign-in form's submit (one listener on the
// document, so index.html's form and the copies js/pages/login.js shows
// after a sign-out) and enables the button once the form is parsed: the form
// is usable without the app. The app is loaded after the first frame.
//
// Signed in (the key in this tab's sessionStorage): the sign-in page is
// hidden before it is ever painted (class signed-in), the app is fetched at
// once, and the functions page's API calls start now; js/api.js takes their
// answers instead of asking again (window.lambdaEarly).
(() => {
  const KEY_NAME = 'lambda.apiKey'; // as js/api.js
  const TIMEOUT_MS = 15000; // as js/api.js
  const app = new URL('../dist/app.js', document.currentScript.src).href;
  let appLoad = null; // import() of the app: resolves once it has run
  let appModule = null; // the app's exports, once it has run
  let key = null;
  try {
    key = sessionStorage.getItem(KEY_NAME);
  } catch (e) {
    // storage disabled: the app shows the sign-in page anyway
  }

  function loadApp() {
    if (!appLoad) {
      appLoad = import(app);
      appLoad.then((m) => { appModule = m; }, (e) => console.error('dashboard: cannot load the app', e));
    }
    return appLoad;
  }

  // fn after the next frame; rAF does not run in a hidden tab, hence the timer.
  function afterFrame(fn) {
    requestAnimationFrame(() => setTimeout(fn, 0));
    setTimeout(fn, 1000);
  }

  // Runs fn once the parser has finished (readyState interactive), which is
  // before DOMContentLoaded and before any deferred script.
  function whenParsed(fn) {
    if (document.readyState !== 'loading') fn();
    else document.addEventListener('readystatechange', fn, { once: true });
  }

  // GET path with the key, as js/api.js does (header only, no cookie, no
  // cache). -> Promise of the Response; rejects on a network error or after
  // TIMEOUT_MS.
  function get(path, k) {
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), TIMEOUT_MS);
    return fetch(path, {
      headers: { Accept: 'application/json', Authorization: `Bearer ${k}` },
      credentials: 'omit', cache: 'no-store', signal: ctl.signal,
    }).finally(() => clearTimeout(timer));
  }

  // js/dom.js's setFieldError on the form's key field: this classic script
  // runs before the bundle and cannot import it, so keep the two in step.
  function fieldError(form, message) {
    const field = form.querySelector('.field');
    const err = field.querySelector('.field-error');
    const input = field.querySelector('input');
    err.textContent = message || '';
    err.hidden = !message;
    field.classList.toggle('has-error', !!message);
    if (message) input.setAttribute('aria-invalid', 'true');
    else input.removeAttribute('aria-invalid');
  }

  // The key is checked against an authenticated endpoint before it is kept.
  async function signIn(form) {
    const input = form.querySelector('input[name=key]');
    const submit = form.querySelector('button[type=submit]');
    const banner = form.querySelector('.banner');
    const k = input.value.trim();
    fieldError(form, null);
    banner.hidden = true;
    if (!k) { fieldError(form, 'Enter an API key.'); input.focus(); return; }
    if (!/^[\x21-\x7e]+$/.test(k)) { fieldError(form, 'An API key has no spaces or special characters.'); input.focus(); return; }
    form.dataset.busy = '1';
    submit.disabled = true;
    submit.textContent = 'Signing in…';
    let msg = null;
    try {
      const resp = await get('/api/functions?limit=1', k);
      if (resp.status === 401 || resp.status === 403) msg = 'This API key was not accepted. Check it and try again.';
      else if (!resp.ok) {
        let m = `${resp.status} ${resp.statusText || 'error'}`;
        try { m = (await resp.json()).error.message || m; } catch (e) { /* not our JSON error */ }
        msg = `Cannot sign in: ${m}`;
      }
    } catch (e) {
      msg = e && e.name === 'AbortError' ? 'Cannot sign in: The server did not answer in time.'
        : 'Cannot sign in: Cannot reach the server. Is the platform running?';
    }
    if (msg) {
      delete form.dataset.busy;
      submit.disabled = false;
      submit.textContent = 'Sign in';
      fieldError(form, msg);
      input.focus();
      return;
    }
    sessionStorage.setItem(KEY_NAME, k);
    window.dispatchEvent(new Event('lambda:signedin'));
    // The app routes to the functions page: now if it runs already, else
    // when it starts (it reads the fragment then). The form stays busy until
    // the page replaces it.
    if (appModule) appModule.go('/functions');
    else window.location.hash = '#/functions';
    loadApp().catch(() => {
      fieldError(form, 'Signed in, but the dashboard did not load. Reload the page.');
    });
  }

  // Capture phase, on the document: attached before any form exists, and
  // ahead of anything else. A native submit would put the key into the URL.
  document.addEventListener('submit', (e) => {
    const form = e.target;
    if (!form.matches || !form.matches('.login-form')) return;
    e.preventDefault();
    if (!form.dataset.busy) signIn(form);
  }, true);

  if (key) {
    document.documentElement.classList.add('signed-in');
    const preload = document.createElement('link');
    preload.rel = 'modulepreload';
    preload.href = app;
    document.head.appendChild(preload);
    // The functions page's first requests (js/pages/functions.js: the list and
    // the two summaries), for the routes that show it. The same URLs as
    // js/api.js builds, so that it finds them.
    const route = window.location.hash.replace(/^#/, '').split('?')[0];
    if (route === '' || route === '/' || route === '/functions') {
      window.lambdaEarly = new Map();
      for (const p of ['/api/functions?limit=100', '/api/metrics/summary?window=1h', '/api/metrics/summary']) {
        const r = get(p, key);
        r.catch(() => {}); // js/api.js reports the error, if it takes this one
        window.lambdaEarly.set(p, { key, response: r, at: performance.now() });
      }
    }
    whenParsed(loadApp);
    return;
  }

  whenParsed(() => {
    const submit = document.querySelector('#login-static button[type=submit]');
    if (submit && !document.querySelector('#login-static form').dataset.busy) submit.disabled = false;
    // The app after the frame that shows the usable form, so that its
    // download and evaluation do not delay that frame.
    afterFrame(loadApp);
  });
})();
