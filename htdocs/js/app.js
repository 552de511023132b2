// Shell and router. Routes live in the URL fragment (#/functions/x) so that
// the static server needs no rewrite rules; the API key never appears there.
//
// scripts/build-htdocs.sh bundles this module and everything it imports,
// the pages included, into dist/app.js (esbuild): the first load fetches
// index.html, the stylesheet, js/boot.js and that one script. The sign-in
// page's markup is in index.html (on screen before any script ran); its
// module only attaches the handler. See docs/dashboard.md "First load".

import { h, replace, loading, errorState } from './dom.js';
import * as api from './api.js';
import * as login from './pages/login.js';

const pages = {
  login: async () => login,
  functions: () => import('./pages/functions.js'),
  functionForm: () => import('./pages/function-form.js'),
  functionDetail: () => import('./pages/function-detail.js'),
  invoke: () => import('./pages/invoke.js'),
  invocations: () => import('./pages/invocations.js'),
  invocation: () => import('./pages/invocation.js'),
  monitoring: () => import('./pages/monitoring.js'),
  keys: () => import('./pages/keys.js'),
};

const routes = [
  { re: /^\/login$/, page: pages.login, nav: null, title: 'Sign in', open: true },
  { re: /^\/functions$/, page: pages.functions, nav: 'functions', title: 'Functions' },
  { re: /^\/functions\/new$/, page: pages.functionForm, nav: 'functions', title: 'New function' },
  { re: /^\/functions\/([^/]+)\/edit$/, page: pages.functionForm, nav: 'functions', title: 'Edit function', keys: ['name'] },
  { re: /^\/functions\/([^/]+)\/invoke$/, page: pages.invoke, nav: 'functions', title: 'Invoke', keys: ['name'] },
  { re: /^\/functions\/([^/]+)$/, page: pages.functionDetail, nav: 'functions', title: 'Function', keys: ['name'] },
  { re: /^\/invocations$/, page: pages.invocations, nav: 'invocations', title: 'Invocations' },
  { re: /^\/invocations\/([^/]+)$/, page: pages.invocation, nav: 'invocations', title: 'Invocation', keys: ['id'] },
  { re: /^\/monitoring$/, page: pages.monitoring, nav: 'monitoring', title: 'Monitoring' },
  { re: /^\/keys$/, page: pages.keys, nav: 'keys', title: 'API keys' },
];

const main = document.getElementById('main');
let current = null; // {ctl: AbortController, cleanup: fn}

export function go(path) {
  if (window.location.hash === `#${path}`) route();
  else window.location.hash = `#${path}`;
}

function parseHash() {
  const raw = window.location.hash.replace(/^#/, '') || '/';
  const [path, qs] = raw.split('?');
  return { path, query: new URLSearchParams(qs || '') };
}

function setNav(nav) {
  document.querySelectorAll('[data-nav]').forEach((a) => {
    if (a.dataset.nav === nav) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  });
}

async function route() {
  if (current) {
    current.ctl.abort();
    if (typeof current.cleanup === 'function') current.cleanup();
    current = null;
  }
  const { path, query } = parseHash();
  const signedIn = !!api.getKey();
  document.getElementById('topbar').hidden = !signedIn;
  document.documentElement.classList.toggle('signed-in', signedIn); // see js/boot.js
  if (path === '/' || path === '') { go(signedIn ? '/functions' : '/login'); return; }
  const r = routes.find((x) => x.re.test(path));
  if (!r) {
    replace(main, h('div', { class: 'state state-empty' }, h('p', { class: 'state-title' }, 'Page not found'),
      h('a', { href: '#/functions', class: 'btn' }, 'Go to functions')));
    return;
  }
  if (!r.open && !signedIn) { go('/login'); return; }
  if (r.open && signedIn && r.page === pages.login) { go('/functions'); return; }
  const m = path.match(r.re);
  const params = {};
  (r.keys || []).forEach((k, i) => { params[k] = decodeURIComponent(m[i + 1]); });
  setNav(r.nav);
  document.title = `${r.title} · Lambda`;
  const ctl = new AbortController();
  current = { ctl, cleanup: null };
  if (r.page !== pages.login) replace(main, loading()); // the sign-in page is in index.html
  try {
    const page = await r.page(); // the module, fetched once, then from the module map
    if (ctl.signal.aborted) return;
    const cleanup = await page.render(main, params, { signal: ctl.signal, query, go });
    if (current && current.ctl === ctl) current.cleanup = cleanup;
    else if (typeof cleanup === 'function') cleanup();
  } catch (e) {
    if (ctl.signal.aborted) return;
    if (e && e.status === 401) return; // handled by the unauthorized hook
    console.error(e);
    replace(main, errorState(e, () => route()));
  }
  main.focus({ preventScroll: true });
}

let healthTimer = null;
async function pollHealth() {
  clearTimeout(healthTimer);
  const el = document.getElementById('health');
  if (!api.getKey()) return;
  if (!document.hidden) {
    try {
      const d = await api.get('/api/health', null, { noAuthRedirect: true, timeout: 5000 });
      const db = d && (d.db === true || d.db === 'ok' || d.database === 'ok' || d.database === true);
      const ex = d && (d.executor === true || d.executor === 'ok' || (d.executor && d.executor.ok));
      const ok = d && (d.status === 'ok' || (db && ex));
      el.className = `health ${ok ? 'health-ok' : 'health-bad'}`;
      el.textContent = ok ? 'All systems normal' : `Degraded${db ? '' : ' · database'}${ex ? '' : ' · executor'}`;
    } catch (e) {
      el.className = 'health health-bad';
      el.textContent = e.status === 503 ? 'Degraded' : 'Server unreachable';
    }
  }
  healthTimer = setTimeout(pollHealth, 15000);
}

api.setUnauthorizedHandler(() => {
  api.clearKey();
  sessionStorage.setItem('lambda.signinMessage', 'Your API key was rejected (revoked or invalid). Sign in again.');
  go('/login');
});

document.getElementById('signout').addEventListener('click', () => {
  api.clearKey();
  go('/login');
});

window.addEventListener('hashchange', route);
window.addEventListener('lambda:signedin', pollHealth);
document.addEventListener('visibilitychange', () => { if (!document.hidden) pollHealth(); });
// The health badge waits for the first page, whose requests come first.
route().finally(pollHealth);
