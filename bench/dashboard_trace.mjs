// Where the first load's time goes, from Chromium's own trace (the DevTools
// timeline), not the page's resource timings: for RUNS fresh contexts (empty
// cache), one load of the sign-in page each (or PATH, e.g. /ab/before/),
// traced; prints the median, in ms from the navigation start, of: the
// navigation's commit in the renderer, the first HTML parse, each request
// sent and finished, each script evaluated, the parser's end
// (domInteractive), the first contentful paint; and the main thread's busy
// time before the first paint. Writes the last run's trace to FILE (load it
// in chrome://tracing or the DevTools Performance panel) with --out FILE.
//
// --signed-in: the key (LAMBDA_TEST_KEY) in sessionStorage before the load,
// which goes to PATH#/functions and ends with the functions table shown.
//
// Usage: LAMBDA_TEST_URL=http://127.0.0.1:8080 [LAMBDA_TEST_KEY=...] \
//        node bench/dashboard_trace.mjs [RUNS] [--path /x/] [--out FILE] [--signed-in]

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const URL0 = process.env.LAMBDA_TEST_URL;
const args = process.argv.slice(2);
const opt = (name) => (args.includes(name) ? args[args.indexOf(name) + 1] : null);
const RUNS = Number(args.find((a, i) => /^\d+$/.test(a) && !['--path', '--out'].includes(args[i - 1])) || 5);
const PATH = opt('--path') || '/';
const OUT = opt('--out');
if (!URL0) {
  console.error('set LAMBDA_TEST_URL');
  process.exit(2);
}
const CATEGORIES = ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'blink.user_timing', 'loading',
  'navigation', 'toplevel'];
const SIGNED_IN = args.includes('--signed-in');
const KEY = process.env.LAMBDA_TEST_KEY;
if (SIGNED_IN && !KEY) {
  console.error('--signed-in: set LAMBDA_TEST_KEY');
  process.exit(2);
}
const DONE = SIGNED_IN ? 'main .table, main .state-empty' : '.login-form button[type=submit]:not([disabled])';

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--no-first-run', '--disable-quic'],
});
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dashboard-trace-'));

// The milestones of one trace, in ms from the navigation start of PATH's document.
function milestones(trace) {
  const ev = trace.traceEvents;
  const nav = ev.find((e) => e.name === 'navigationStart' && e.args?.data?.documentLoaderURL?.startsWith(URL0));
  if (!nav) throw new Error('no navigationStart in the trace');
  const t0 = nav.ts;
  const ms = (e) => (e.ts - t0) / 1000;
  const out = {};
  const first = (key, pred) => {
    const e = ev.filter(pred).sort((a, b) => a.ts - b.ts)[0];
    if (e) out[key] = ms(e);
  };
  const short = (u) => u.replace(URL0, '').replace(PATH, '/');
  first('commit in the renderer', (e) => e.name === 'CommitLoad' && e.ts >= t0);
  first('first HTML parse', (e) => e.name === 'ParseHTML' && e.ts >= t0);
  for (const e of ev.filter((x) => x.ts >= t0 && ['ResourceSendRequest', 'ResourceFinish'].includes(x.name))) {
    const id = e.args?.data?.requestId;
    const send = ev.find((x) => x.name === 'ResourceSendRequest' && x.args?.data?.requestId === id);
    if (!send || !send.args.data.url.startsWith(URL0)) continue;
    const key = `${short(send.args.data.url)} ${e.name === 'ResourceSendRequest' ? 'requested' : 'finished'}`;
    if (!(key in out)) out[key] = ms(e);
  }
  // classic scripts (EvaluateScript) and modules (v8.evaluateModule), by URL
  const urlOf = (e) => e.args?.data?.url || e.args?.data?.fileName || e.args?.fileName || '';
  for (const e of ev.filter((x) => ['EvaluateScript', 'v8.compileModule', 'v8.evaluateModule'].includes(x.name) &&
    x.ts >= t0 && urlOf(x).startsWith(URL0))) {
    const key = `${short(urlOf(e))} ${e.name === 'v8.compileModule' ? 'compiled' : 'evaluated'} (end)`;
    if (!(key in out)) out[key] = ms(e) + (e.dur || 0) / 1000;
  }
  first('domInteractive', (e) => e.name === 'domInteractive' && e.ts >= t0);
  first('first contentful paint', (e) => e.name === 'firstContentfulPaint' && e.ts >= t0);
  first('DOMContentLoaded (end)', (e) => e.name === 'domContentLoadedEventEnd' && e.ts >= t0);
  // the renderer main thread: busy time from navigation start to the first paint
  const rendererPid = nav.pid;
  const fcp = out['first contentful paint'];
  const main = ev.filter((e) => e.pid === rendererPid && e.name === 'RunTask' && e.ph === 'X' && e.ts >= t0 &&
    (fcp === undefined || ms(e) < fcp));
  out['renderer main thread busy before FCP'] = main.reduce((a, e) => a + (e.dur || 0) / 1000, 0);
  return out;
}

const all = [];
for (let i = 0; i < RUNS; i += 1) {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  if (SIGNED_IN) await ctx.addInitScript((k) => sessionStorage.setItem('lambda.apiKey', k), KEY);
  // The element's arrival comes as a console message from this observer, not
  // from waitForSelector, whose selector engine (Playwright's injected
  // script) would run on the traced main thread (bench/dashboard_load.mjs).
  await ctx.addInitScript((sel) => {
    const look = () => {
      if (document.querySelector(sel)) {
        obs.disconnect();
        console.debug('__done');
      }
    };
    const obs = new MutationObserver(look);
    obs.observe(document, { childList: true, subtree: true, attributes: true });
  }, DONE);
  const page = await ctx.newPage();
  const file = path.join(tmp, `trace-${i}.json`);
  await browser.startTracing(page, { path: file, categories: CATEGORIES });
  const done = page.waitForEvent('console', { predicate: (m) => m.text() === '__done', timeout: 30000 });
  await page.goto(`${URL0}${PATH}${SIGNED_IN ? '#/functions' : ''}`, { waitUntil: 'commit' });
  await done;
  await page.waitForLoadState('load');
  await page.waitForTimeout(100); // the paint after the form was enabled
  await browser.stopTracing();
  all.push(milestones(JSON.parse(fs.readFileSync(file, 'utf8'))));
  if (OUT && i === RUNS - 1) fs.copyFileSync(file, OUT);
  await ctx.close();
}
await browser.close();
fs.rmSync(tmp, { recursive: true, force: true });

const keys = [...new Set(all.flatMap((r) => Object.keys(r)))];
const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
console.log(`# ${URL0}${PATH}${SIGNED_IN ? '#/functions, signed in' : ''}: ${RUNS} traced first loads (fresh contexts), load average at the end ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
console.log('# median ms from navigation start (runs that have the event)');
const rows = keys.map((k) => [k, median(all.map((r) => r[k]).filter((v) => v !== undefined))]);
rows.sort((a, b) => (a[0].startsWith('renderer') ? 1 : b[0].startsWith('renderer') ? -1 : a[1] - b[1]));
for (const [k, v] of rows) console.log(`${k.padEnd(48)} ${v.toFixed(1)}`);
