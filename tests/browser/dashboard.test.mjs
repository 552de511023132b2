// Browser tests of the dashboard (issue 5) in headless Chromium against the
// real stack: sign-in (wrong key, right key), validation errors next to the
// field, create a Python and a JavaScript function, invoke each, find the
// call in the invocations list and its detail, logs with HTML rendered as
// text, monitoring charts changing after a burst of calls, the per-function
// page, API keys, narrow screens, keyboard-reachable forms, security
// headers and no CSP violation.  Screenshots of every page go to
// tests/browser/artifacts/.  TAP on stdout; exit 1 on any failure, 77 when
// the stack or Chromium is not available.
//
// Environment: LAMBDA_TEST_URL (http://127.0.0.1:PORT), LAMBDA_TEST_KEY.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ARTIFACTS = path.join(HERE, 'artifacts');
const URL0 = process.env.LAMBDA_TEST_URL;
const KEY = process.env.LAMBDA_TEST_KEY;
const CHROMIUM = '/usr/bin/chromium';
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

if (!URL0 || !KEY) {
  console.log('1..0 # SKIP LAMBDA_TEST_URL and LAMBDA_TEST_KEY are not set (scripts/test.sh sets them)');
  process.exit(77);
}
if (!fs.existsSync(CHROMIUM)) {
  console.log(`1..0 # SKIP ${CHROMIUM} is missing (apt-get install chromium)`);
  process.exit(77);
}
let chromium;
try {
  ({ chromium } = await import('playwright-core'));
} catch (e) {
  console.log(`1..0 # SKIP playwright-core is not installed (npm ci): ${e.message}`);
  process.exit(77);
}

// ------------------------------------------------------------------ TAP

let n = 0;
let failed = 0;
function report(ok, name, diag) {
  n += 1;
  console.log(`${ok ? 'ok' : 'not ok'} ${n} - ${name}`);
  if (!ok) {
    failed += 1;
    for (const line of String(diag || '').split('\n')) console.log(`#   ${line}`);
  }
}
class Check extends Error {}
function check(cond, msg) {
  if (!cond) throw new Check(msg);
}
async function test(name, fn) {
  const t0 = Date.now();
  try {
    await fn();
    report(true, name);
  } catch (e) {
    report(false, name, e instanceof Check ? e.message : (e && e.stack) || String(e));
    await shot(`failed-${n}`).catch(() => {});
  }
  console.log(`#   (${((Date.now() - t0) / 1000).toFixed(2)} s)`);
}

// ------------------------------------------------------------------ helpers

async function api(method, p, body, key = KEY) {
  const r = await fetch(URL0 + p, {
    method,
    headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : (typeof body === 'string' ? body : JSON.stringify(body)),
  });
  const text = await r.text();
  let data = text;
  try { data = JSON.parse(text); } catch { /* not JSON */ }
  return { status: r.status, headers: r.headers, data };
}

const uniq = Math.random().toString(16).slice(2, 10);
const PY = `ui-py-${uniq}`;
const JS = `ui-js-${uniq}`;
const HTML_LOG = '<b id="injected">bold</b><img src=x onerror="window.__xss=1">';
const PY_CODE = [
  'def handler(event, context):',
  `    print(${JSON.stringify(HTML_LOG)})`,
  '    return {"lang": "python", "echo": event}',
  '',
].join('\n');
const JS_CODE = [
  'exports.handler = async (event, context) => {',
  `  console.log(${JSON.stringify(HTML_LOG)});`,
  "  return { lang: 'javascript', echo: event };",
  '};',
  '',
].join('\n');

fs.mkdirSync(ARTIFACTS, { recursive: true });
const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lambda-browser-'));
const consoleProblems = [];
let context;
let page;

async function shot(name) {
  if (page) await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
}

async function go(hash, selector) {
  await page.goto(`${URL0}/#${hash}`);
  // generous: the test machine is shared and often busy
  if (selector) await page.waitForSelector(selector, { state: 'attached', timeout: 30000 });
}

// Replaces the content of the CodeMirror editor inside `host`.
async function setEditor(host, text) {
  const content = page.locator(`${host} .cm-content`);
  await content.click();
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Delete');
  await page.keyboard.insertText(text);
}

async function chartSum(id) {
  const v = await page.locator(`#${id}`).getAttribute('data-sums');
  return v ? JSON.parse(v).reduce((a, b) => a + b, 0) : 0;
}

const invoked = {};

// ------------------------------------------------------------------ tests

try {
  context = await chromium.launchPersistentContext(userDir, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 800 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
  page = context.pages()[0] || await context.newPage();
  page.on('console', (m) => {
    // HTTP errors the tests provoke on purpose (401, 400, 404) are logged by
    // Chromium as "Failed to load resource": not a problem of the page.
    if (/^Failed to load resource: the server responded with a status of 4\d\d/.test(m.text())) return;
    if (m.type() === 'error' || /Content Security Policy/i.test(m.text())) consoleProblems.push(`${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => consoleProblems.push(`pageerror: ${e.message}`));

  await test('the dashboard is served with CSP and security headers, without inline scripts; markup names are refused', async () => {
    const r = await fetch(`${URL0}/`);
    check(r.status === 200, `GET / ${r.status}`);
    check(r.headers.get('content-security-policy') === CSP, `CSP: ${r.headers.get('content-security-policy')}`);
    check(r.headers.get('x-content-type-options') === 'nosniff', 'X-Content-Type-Options');
    check(!r.headers.get('access-control-allow-origin'), 'no CORS header on the dashboard');
    const html = await r.text();
    check(!/<script(?![^>]*\bsrc=)[^>]*>/i.test(html), 'an inline <script> in index.html');
    check(!/\son[a-z]+\s*=/i.test(html), 'an inline event handler in index.html');
    // the policy is the header's alone: a <meta> one would stop Chromium's preload scanner
    check(!/<meta[^>]*http-equiv=["']?content-security-policy/i.test(html), 'a CSP <meta> in index.html');
    // the sign-in page is in the HTML, its button disabled until the script attached the handler
    // (a native submit would put the key into a URL)
    check(/id="login-static"/.test(html), 'no static sign-in page in index.html');
    check(/<button type="submit"[^>]*\sdisabled>/.test(html), 'the static sign-in button is not disabled');
    for (const asset of ['/dist/app.js', '/js/boot.js', '/css/app.css', '/vendor/chart.umd.min.js', '/vendor/codemirror.js']) {
      const a = await fetch(URL0 + asset);
      check(a.status === 200, `${asset}: ${a.status} (scripts/build-htdocs.sh run?)`);
    }
    const evil = await api('POST', '/api/functions', { name: '<img src=x onerror=alert(1)>', runtime: 'python', handler: 'main.handler', code: 'x' });
    check(evil.status === 400 && /^name:/.test(evil.data.error.message), `a markup name was not refused: ${evil.status}`);
    const t0 = Date.now();
    await page.goto(`${URL0}/`);
    await page.waitForSelector('.login-form button[type=submit]:not([disabled])');
    console.log(`#   first load to the sign-in form, usable: ${Date.now() - t0} ms`);
  });

  await test('a wrong key shows the sign-in error and keeps the user out', async () => {
    await page.fill('input[name=key]', `${KEY.slice(0, -1)}${KEY.endsWith('A') ? 'B' : 'A'}`);
    await page.click('.login-form button[type=submit]');
    const err = page.locator('.login-form .field-error');
    await err.waitFor({ state: 'visible', timeout: 10000 });
    check((await err.textContent()).includes('This API key was not accepted'), `error: ${await err.textContent()}`);
    check(await page.evaluate(() => sessionStorage.getItem('lambda.apiKey')) === null, 'a wrong key was kept');
    await shot('01-sign-in-error');
  });

  await test('sign in with the key: kept in sessionStorage, never in the URL', async () => {
    await page.fill('input[name=key]', KEY);
    await page.click('.login-form button[type=submit]');
    await page.waitForSelector('h1:text("Functions")', { timeout: 10000 });
    check(await page.evaluate(() => sessionStorage.getItem('lambda.apiKey')) === KEY, 'key not in sessionStorage');
    check(await page.evaluate(() => localStorage.length) === 0, 'something in localStorage');
    check(!page.url().includes(KEY) && !page.url().includes(KEY.split('.')[0]), `key in URL ${page.url()}`);
    await shot('02-functions');
  });

  await test('a signed-in reload does not flash the sign-in page', async () => {
    // when the parser inserts index.html's sign-in page, js/boot.js must already have hidden it
    await page.addInitScript(() => {
      new MutationObserver((_, mo) => {
        const el = document.getElementById('login-static');
        if (!el) return;
        window.__loginHiddenAtParse = document.documentElement.classList.contains('signed-in');
        mo.disconnect();
      }).observe(document, { childList: true, subtree: true });
    });
    await page.reload();
    await page.waitForSelector('h1:text("Functions")', { timeout: 10000 });
    check(await page.evaluate(() => window.__loginHiddenAtParse) === true, 'the sign-in page was parsed visible for a signed-in tab');
    check(await page.locator('.login-form').count() === 0, 'the sign-in form is still in the page');
  });

  await test('a bad field shows the API error next to that field', async () => {
    await go('/functions/new', '.cm-editor');
    await page.fill('input[name=name]', `ui-bad-${uniq}`);
    await page.fill('input[name=memory_mb]', '99999');
    await page.click('form button[type=submit]');
    const err = page.locator('[data-field=memory_mb] .field-error');
    await err.waitFor({ state: 'visible', timeout: 10000 });
    const text = await err.textContent();
    check(text.includes('memory_mb') && text.includes('4096'), `memory error: ${text}`);
    check(await page.locator('[data-field=memory_mb] input').getAttribute('aria-invalid') === 'true', 'aria-invalid');
    check(await page.locator('[data-field=name] .field-error').isHidden(), 'error shown on the wrong field');
    await page.fill('input[name=name]', 'bad/name');
    await page.fill('input[name=memory_mb]', '128');
    await page.click('form button[type=submit]');
    const nerr = page.locator('[data-field=name] .field-error');
    await nerr.waitFor({ state: 'visible', timeout: 10000 });
    check((await nerr.textContent()).includes('name: must match'), `name error: ${await nerr.textContent()}`);
    await shot('03-validation-error');
  });

  for (const [name, runtime, code] of [[PY, 'python', PY_CODE], [JS, 'javascript', JS_CODE]]) {
    await test(`create a ${runtime} function with the code editor`, async () => {
      await go('/functions/new', '.cm-editor');
      await page.fill('input[name=name]', name);
      await page.selectOption('select[name=runtime]', runtime);
      await page.fill('input[name=handler]', 'main.handler');
      await setEditor('.editor-host', code);
      await page.click('form button[type=submit]');
      await page.waitForSelector(`h1:has-text("${name}")`, { timeout: 15000 });
      const r = await api('GET', `/api/functions/${name}/code`);
      check(r.status === 200 && r.data.code === code, `stored code differs: ${JSON.stringify(r.data).slice(0, 300)}`);
      await shot(`04-function-${runtime}`);
    });

    await test(`invoke the ${runtime} function: result, status and logs as text`, async () => {
      await go(`/functions/${name}/invoke`, '.cm-editor');
      await setEditor('.editor-host', `{"n": 42, "who": "${runtime}"}`);
      await page.click('form button[type=submit]');
      await page.waitForSelector('#invoke-result, #invoke-error, .result-card .banner-error', { timeout: 60000 });
      const result = await page.locator('#invoke-result').textContent().catch(() => null);
      check(result !== null, `no result: ${await page.locator('.result-card').textContent()}`);
      const parsed = JSON.parse(result);
      check(parsed.lang === runtime && parsed.echo.n === 42, `result ${result}`);
      check((await page.locator('.result-card .badge-ok').first().textContent()) === 'success', 'status badge');
      const logs = page.locator('#invoke-logs');
      check((await logs.textContent()).includes(HTML_LOG), `logs: ${await logs.textContent()}`);
      check(await page.locator('#injected').count() === 0, 'the HTML in the logs was rendered as elements');
      check(await page.evaluate(() => window.__xss) === undefined, 'script in the logs ran');
      const link = page.locator('.result-card a[href^="#/invocations/"]');
      invoked[runtime] = await link.textContent();
      check(/^[0-9a-f-]{36}$/.test(invoked[runtime]), `request id ${invoked[runtime]}`);
      await shot(`05-invoke-${runtime}`);
    });
  }

  await test('the calls appear in the invocations list and open with their logs as text', async () => {
    await go('/invocations', '#invocations-table, .state-empty');
    for (const rt of ['python', 'javascript']) {
      check(invoked[rt], `no ${rt} call to look for`);
      await page.waitForSelector(`#invocations-table a:text("${invoked[rt]}")`, { timeout: 10000 });
    }
    await shot('06-invocations');
    await page.selectOption('select[name=function]', PY);
    await page.waitForSelector(`#invocations-table a:text("${invoked.python}")`, { timeout: 10000 });
    check(await page.locator(`#invocations-table a:text("${invoked.javascript}")`).count() === 0, 'filter by function');
    await page.click(`#invocations-table a:text("${invoked.python}")`);
    const logs = page.locator('#invocation-logs');
    await logs.waitFor({ timeout: 10000 });
    check((await logs.textContent()).includes(HTML_LOG), `logs: ${await logs.textContent()}`);
    check(await page.locator('#injected').count() === 0, 'HTML rendered as elements');
    await shot('07-invocation');
  });

  await test('monitoring: the charts\' data change after a burst of calls', async () => {
    await go('/monitoring', '#mon-volume[data-sums]');
    await page.waitForFunction(() => /^Live/.test(document.querySelector('.live').textContent), null, { timeout: 15000 });
    // The 5 min window slides: count the calls in the buckets from the
    // burst's start on, before and after it.
    const since = Math.floor(Date.now() / 1000) - 1;
    const recent = () => page.evaluate((t) => {
      const c = document.querySelector('#mon-volume');
      const from = Number(c.dataset.from);
      const step = Number(c.dataset.step);
      const chart = window.Chart.getChart(c);
      let sum = 0;
      chart.data.labels.forEach((_, i) => {
        if (from + (i + 1) * step > t) chart.data.datasets.forEach((d) => { sum += Number(d.data[i]) || 0; });
      });
      return sum;
    }, since);
    const before = await recent();
    const burst = 20;
    const calls = [];
    for (let i = 0; i < burst; i += 1) calls.push(api('POST', `/api/functions/${i % 2 ? JS : PY}/invoke`, { i }));
    const res = await Promise.all(calls);
    check(res.every((r) => r.status === 200), `burst statuses ${res.map((r) => r.status).join(',')}`);
    const deadline = Date.now() + 20000;
    let after = before;
    while (after < before + burst && Date.now() < deadline) {
      await page.waitForTimeout(500);
      after = await recent();
    }
    check(after >= before + burst, `calls since the burst began: ${before} -> ${after}`);
    check(await chartSum('mon-latency') > 0, 'latency chart empty');
    const kpi = await page.locator('#mon-kpi-calls').textContent();
    check(Number(kpi.replace(/,/g, '')) >= burst, `requests KPI ${kpi}`);
    check(await page.locator('#containers-table').count() === 1, 'no warm containers table');
    await shot('08-monitoring');
  });

  await test('monitoring pauses while the tab is hidden', async () => {
    await page.evaluate(() => {
      Object.defineProperty(document, 'hidden', { configurable: true, get: () => true });
      document.dispatchEvent(new Event('visibilitychange'));
    });
    const live = page.locator('.live');
    await page.waitForFunction(() => /Paused/.test(document.querySelector('.live').textContent), null, { timeout: 5000 });
    let requests = 0;
    const count = (r) => { if (r.url().includes('/api/metrics/timeseries')) requests += 1; };
    page.on('request', count);
    await page.waitForTimeout(4500);
    page.off('request', count);
    check(requests === 0, `${requests} timeseries requests while hidden (${await live.textContent()})`);
    await page.evaluate(() => {
      Object.defineProperty(document, 'hidden', { configurable: true, get: () => false });
      document.dispatchEvent(new Event('visibilitychange'));
    });
    await page.waitForFunction(() => /^Live/.test(document.querySelector('.live').textContent), null, { timeout: 5000 });
  });

  await test('the per-function page has its own charts and recent calls', async () => {
    await go(`/functions/${PY}`, '#fn-volume[data-sums]');
    await page.waitForFunction(() => {
      const v = document.querySelector('#fn-volume').dataset.sums;
      return v && JSON.parse(v).reduce((a, x) => a + x, 0) > 0;
    }, null, { timeout: 15000 });
    const newest = (await api('GET', `/api/invocations?function=${PY}&limit=1`)).data[0].request_id;
    await page.waitForSelector(`#invocations-table a:text("${newest}")`, { timeout: 15000 });
    check(await page.locator(`#invocations-table a:text("${invoked.javascript}")`).count() === 0, 'another function\'s call listed');
    await shot('09-function-detail');
  });

  await test('API keys: a new key is shown once, listed by its id, and can be revoked', async () => {
    await go('/keys', '#keys-table');
    await shot('10-keys');
    const name = `ui-key-${uniq}`;
    await page.fill('input[name=name]', name);
    await page.click('form button[type=submit]');
    const shown = await page.locator('#new-key').textContent({ timeout: 10000 });
    check(/^LK[0-9A-F]{18}\.[A-Za-z0-9_-]{40}$/.test(shown), `key ${shown}`);
    const ok = await api('GET', '/api/functions?limit=1', undefined, shown);
    check(ok.status === 200, `new key refused: ${ok.status}`);
    const row = page.locator('#keys-table tr', { hasText: name });
    await row.waitFor({ timeout: 10000 });
    check(!(await row.textContent()).includes(shown.split('.')[1]), 'the secret is listed');
    await shot('11-key-created');
    await row.locator('button:text("Revoke")').click();
    await page.locator('dialog button:text("Revoke")').click();
    await page.locator('#keys-table tr', { hasText: name }).locator('.badge:text("revoked")').waitFor({ timeout: 10000 });
    const after = await api('GET', '/api/functions?limit=1', undefined, shown);
    check(after.status === 401, `revoked key still works: ${after.status}`);
    await page.reload();
    await page.waitForSelector('#keys-table');
    check(await page.locator('#new-key').count() === 0, 'the key is shown again after a reload');
  });

  await test('forms are keyboard-accessible: every control has a label and Tab reaches them', async () => {
    await go('/functions/new', '.cm-editor');
    const unlabelled = await page.evaluate(() => [...document.querySelectorAll('main input, main select, main textarea')]
      .filter((el) => el.type !== 'file' && el.type !== 'radio' && !(el.labels && el.labels.length) && !el.getAttribute('aria-label'))
      .map((el) => el.outerHTML.slice(0, 80)));
    check(unlabelled.length === 0, `unlabelled: ${unlabelled.join(' | ')}`);
    await page.focus('input[name=name]');
    const seen = [];
    for (let i = 0; i < 8; i += 1) {
      await page.keyboard.press('Tab');
      seen.push(await page.evaluate(() => document.activeElement && (document.activeElement.name || document.activeElement.className)));
    }
    for (const want of ['runtime', 'handler', 'timeout_ms', 'memory_mb', 'isolation']) {
      check(seen.includes(want), `Tab order ${seen.join(', ')} misses ${want}`);
    }
  });

  await test('narrow screen: pages fit without horizontal scrolling', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    for (const [hash, sel, file] of [['/functions', '.table', '12-narrow-functions'], ['/monitoring', '#mon-volume[data-sums]', '13-narrow-monitoring'], [`/functions/${PY}/invoke`, '.cm-editor', '14-narrow-invoke']]) {
      await go(hash, sel);
      await page.waitForTimeout(300);
      const over = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      check(over <= 1, `${hash} overflows by ${over}px`);
      await shot(file);
    }
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  await test('no CSP violation or script error was logged', async () => {
    check(consoleProblems.length === 0, consoleProblems.join('\n'));
  });

  await test('signing out forgets the key', async () => {
    await go('/functions', '#signout');
    await page.click('#signout');
    await page.waitForSelector('.login-form button[type=submit]:not([disabled])');
    check(await page.evaluate(() => sessionStorage.getItem('lambda.apiKey')) === null, 'key kept after sign-out');
    // a copy of index.html's sign-in page, empty, visible and working again
    check(await page.inputValue('.login-form input[name=key]') === '', 'the key is still in the sign-in form');
    check(await page.isVisible('#login-static'), 'the sign-in page is hidden after signing out');
    await page.fill('input[name=key]', 'LK-not-a-key');
    await page.click('.login-form button[type=submit]');
    await page.locator('.login-form .field-error').waitFor({ state: 'visible', timeout: 10000 });
  });
} catch (e) {
  report(false, 'browser session', (e && e.stack) || String(e));
} finally {
  if (context) await context.close().catch(() => {});
  fs.rmSync(userDir, { recursive: true, force: true });
  for (const f of [PY, JS]) await api('DELETE', `/api/functions/${f}`).catch(() => {});
}

console.log(`1..${n}`);
if (failed) console.log(`# ${failed} of ${n} failed`);
process.exit(failed ? 1 : 0);
