// Benchmark: dashboard first load on loopback (issue 5 target: < 300 ms).
// For RUNS fresh browser contexts (empty cache), three loads:
//   sign-in    a first visit: navigation to the sign-in form on screen;
//   functions  signed in (key in sessionStorage), a new page of the same
//              context (its HTTP cache holds what the sign-in page fetched,
//              as for a reload): navigation to the functions table, with its
//              data, on screen;
//   monitoring from there, in-app navigation to the monitoring page's
//              charts holding their first data.
//
// Two clocks per load:
//   page   the page's own clock (performance.now(), 0 = navigation start)
//          to the first frame after the element appeared: the element is
//          seen by a MutationObserver, then a requestAnimationFrame callback
//          and a task after it mark the frame that shows it. This is what a
//          user with a running browser sees, and the figure the target is
//          checked against.
//   wall   the harness's clock from page.goto() to the marker's console
//          message (the frame mark) reaching the harness: the page clock
//          plus Playwright's and Chromium's own overhead (the DevTools round
//          trips, slow on a loaded machine) that a user never pays. Until
//          2026-12-06 23:00 it ended at waitForSelector() (the element in the
//          DOM) and the selector engine ran inside the load (shownEvent).
// The gap between them is split into "before navigation start" (goto to
// the page's time origin, both on the epoch clock) and "after the frame".
// Browser launch and context creation are timed apart and never counted.
//
// Usage: LAMBDA_TEST_URL=http://127.0.0.1:8080 LAMBDA_TEST_KEY=$(cat var/admin.key) \
//        node bench/dashboard_load.mjs [RUNS] [--trace] [--json FILE] [--paths A=/x/,B=/y/]
//        [--playwright-wait]
//
// --paths: several copies of the dashboard under the same server, each
// loaded in every run (the order alternates from run to run), so that all
// see the same machine load; prints each one's figures and the ratios to the
// first (bench/dashboard_ab.sh). Default: one, at /.
//
// --trace: also prints, for the sign-in page, the median of where the time
// goes (page clock): index.html's response, the last script and the
// stylesheet loaded, DOMContentLoaded, the load event, first contentful
// paint, the form in the DOM and on screen, the number and bytes of the
// requests; plus the resource list of the median run (the waterfall).
// --json FILE: writes every run's figures to FILE.
// Exit status: 0 when the sign-in page's median (page clock) is under 300 ms
// (of the last variant with --paths).

import fs from 'node:fs';
import os from 'node:os';
import { chromium } from 'playwright-core';

const URL0 = process.env.LAMBDA_TEST_URL;
const KEY = process.env.LAMBDA_TEST_KEY;
const args = process.argv.slice(2);
const TRACE = args.includes('--trace');
const PLAYWRIGHT_WAIT = args.includes('--playwright-wait');
const jsonAt = args.indexOf('--json');
const JSON_OUT = jsonAt >= 0 ? args[jsonAt + 1] : null;
const RUNS = Number(args.find((a, i) => /^\d+$/.test(a) && args[i - 1] !== '--json') || 10);
const pathsAt = args.indexOf('--paths');
const VARIANTS = (pathsAt >= 0 ? args[pathsAt + 1] : '=/').split(',').map((v) => {
  const [name, p] = v.split('=');
  return { name, path: p };
});
const TARGET_MS = 300;
if (!URL0 || !KEY) {
  console.error('set LAMBDA_TEST_URL and LAMBDA_TEST_KEY');
  process.exit(2);
}

const SEL = {
  signin: '.login-form button[type=submit]:not([disabled])', // usable: the handler is attached
  functions: 'main .table, main .state-empty',
  monitoring: '#mon-volume[data-sums]',
};
const epochNow = () => performance.timeOrigin + performance.now();

let t0 = epochNow();
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--no-first-run', '--disable-quic'],
});
const launchMs = epochNow() - t0;

// Runs in every document of a context before its scripts (DevTools injects
// it; the page's CSP does not apply): for each selector, when the element
// appears (DOM) and the frame after (shown), in the page's clock.
function marker(sels) {
  window.__seen = {};
  const frame = (k) => requestAnimationFrame(() => setTimeout(() => {
    window.__seen[k].shown = performance.now();
    console.debug(`__shown ${k}`); // the harness's signal (shownEvent)
  }, 0));
  const look = () => {
    for (const [k, s] of Object.entries(sels)) {
      if (!window.__seen[k] && document.querySelector(s)) {
        window.__seen[k] = { dom: performance.now() };
        frame(k);
      }
    }
  };
  new MutationObserver(look).observe(document, { childList: true, subtree: true, attributes: true });
  window.__fcp = null;
  new PerformanceObserver((l) => {
    for (const e of l.getEntries()) if (e.name === 'first-contentful-paint') window.__fcp = e.startTime;
  }).observe({ type: 'paint', buffered: true });
}

// The figures of the page just loaded for selector key k; waits for the frame mark.
async function figures(page, k, gotoEpoch) {
  await page.waitForFunction((key) => window.__seen && window.__seen[key] && window.__seen[key].shown, k);
  await page.waitForLoadState('load'); // for the trace's load event and resource list
  return page.evaluate(([key, g]) => {
    const nav = performance.getEntriesByType('navigation')[0];
    const res = performance.getEntriesByType('resource');
    const end = (re) => Math.max(0, ...res.filter((r) => re.test(r.name)).map((r) => r.responseEnd));
    return {
      before: performance.timeOrigin - g,
      request: nav.requestStart,
      html: nav.responseEnd,
      js: end(/\.js(\?|$)/),
      css: end(/\.css(\?|$)/),
      api: end(/\/api\//),
      dcl: nav.domContentLoadedEventEnd,
      load: nav.loadEventEnd,
      fcp: window.__fcp,
      dom: window.__seen[key].dom,
      shown: window.__seen[key].shown,
      origin: performance.timeOrigin,
      requests: res.length + 1,
      bytes: res.reduce((a, r) => a + (r.transferSize || 0), nav.transferSize || 0),
      list: res.map((r) => [r.name.replace(/^https?:\/\/[^/]+/, ''), Math.round(r.startTime),
        Math.round(r.responseEnd), r.transferSize, r.encodedBodySize]),
    };
  }, [k, gotoEpoch]);
}

// The marker's console message for key k, as a promise to take before the
// navigation. The harness waits for it rather than with waitForSelector: the
// first selector call on a document makes Playwright evaluate its injected
// script (some 100 kB) on the page's main thread, 15-50 ms in the middle of
// the load being measured that a user's browser never runs (seen in
// dashboard_trace.mjs's traces as an EvaluateScript without a URL).
// --playwright-wait restores the selector wait, for comparison.
function shownEvent(page, k) {
  if (PLAYWRIGHT_WAIT) return page.waitForSelector(SEL[k], { state: 'attached', timeout: 30000 });
  return page.waitForEvent('console', { predicate: (m) => m.text() === `__shown ${k}`, timeout: 30000 });
}

// goto + the element shown, on the harness clock, then the page's figures
// (which check the element with a selector once the clock has stopped). goto
// returns at the commit, not at the load event (Playwright's default): a page
// that draws its form before its load event must not wait for it here.
async function timedLoad(page, url, k) {
  const g = epochNow();
  const shown = shownEvent(page, k);
  await page.goto(url, { waitUntil: 'commit' });
  await shown;
  const wall = epochNow() - g;
  await page.waitForSelector(SEL[k], { state: 'attached', timeout: 30000 });
  return { ...(await figures(page, k, g)), wall };
}

// One fresh context (empty cache): the three loads of one variant.
async function oneRun(base) {
  const t = epochNow();
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  await ctx.addInitScript(marker, SEL);
  const page = await ctx.newPage();
  const setupMs = epochNow() - t;
  const signin = await timedLoad(page, `${base}`, 'signin');
  await ctx.addInitScript((key) => sessionStorage.setItem('lambda.apiKey', key), KEY);
  const page2 = await ctx.newPage();
  const functions = await timedLoad(page2, `${base}#/functions`, 'functions');
  // in-app navigation (the fragment changes, the document stays): page clock
  // from the hash change
  const g = epochNow();
  const start = await page2.evaluate(() => performance.now());
  // (a page that had the element already, like a test page, sent its message)
  const had = await page2.evaluate(() => Boolean(window.__seen.monitoring));
  const shown = had ? null : shownEvent(page2, 'monitoring');
  await page2.goto(`${base}#/monitoring`);
  await shown;
  const wall = epochNow() - g;
  const mon = await figures(page2, 'monitoring', g);
  await ctx.close();
  return { setupMs, signin, functions, monitoring: { wall, shown: mon.shown - start, requests: mon.requests } };
}

const byVariant = Object.fromEntries(VARIANTS.map((v) => [v.name, []]));
const setup = [];
for (let i = 0; i < RUNS; i += 1) {
  const order = i % 2 ? [...VARIANTS].reverse() : VARIANTS;
  for (const v of order) {
    const r = await oneRun(`${URL0}${v.path}`);
    setup.push(r.setupMs);
    byVariant[v.name].push(r);
  }
}
await browser.close();

const sorted = (a) => [...a].sort((x, y) => x - y);
const median = (a) => sorted(a)[Math.floor(a.length / 2)];
const stat = (a) => {
  const s = sorted(a);
  return `median ${median(s).toFixed(0)} (min ${s[0].toFixed(0)}, max ${s[s.length - 1].toFixed(0)})`;
};
console.log(`# ${RUNS} loads each, fresh context (no cache), load average at the end ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
console.log(`# not counted: browser launch ${launchMs.toFixed(0)} ms; new context + page ${stat(setup)} ms`);
console.log(`# ms; page = navigation start to the frame showing it (page clock); wall = goto to ${PLAYWRIGHT_WAIT ? 'selector (harness, --playwright-wait)' : 'the frame mark reaching the harness'}`);
let lastMed = 0;
const medOf = {};
for (const v of VARIANTS) {
  const runs = byVariant[v.name];
  const col = (k, f) => runs.map((r) => r[k][f]);
  if (VARIANTS.length > 1) console.log(`## ${v.name} (${v.path})`);
  for (const k of ['signin', 'functions']) {
    const name = k === 'signin' ? 'sign-in form usable (first visit)' : 'functions table (signed in)';
    console.log(`${name.padEnd(34)} page ${stat(col(k, 'shown'))}; wall ${stat(col(k, 'wall'))}; ` +
      `goto to navigation start ${median(col(k, 'before')).toFixed(0)}`);
  }
  console.log(`${'monitoring, first chart data'.padEnd(34)} page ${stat(col('monitoring', 'shown'))}; ` +
    `wall ${stat(col('monitoring', 'wall'))} (in-app, from the hash change)`);
  if (TRACE) {
    for (const k of ['signin', 'functions']) {
      const tr = runs.map((r) => r[k]);
      const med = (f) => median(tr.map((x) => x[f] ?? 0));
      console.log(`# ${k}, median ms from navigation start: index.html requested ${med('request').toFixed(0)}, received ${med('html').toFixed(0)}, ` +
        `last .js ${med('js').toFixed(0)}, .css ${med('css').toFixed(0)}, last /api/ ${med('api').toFixed(0)}, ` +
        `DOMContentLoaded ${med('dcl').toFixed(0)}, first contentful paint ${med('fcp').toFixed(0)}, in the DOM ${med('dom').toFixed(0)}, ` +
        `on screen ${med('shown').toFixed(0)}, load event ${med('load').toFixed(0)}; ${med('requests')} requests, ${med('bytes')} bytes transferred`);
    }
    const mid = runs.map((r) => r.signin).sort((a, b) => a.shown - b.shown)[Math.floor(runs.length / 2)];
    console.log('# waterfall of the median sign-in run: path start end transferred body');
    for (const r of mid.list) console.log(`  ${r.join(' ')}`);
  }
  medOf[v.name] = {
    signin: median(col('signin', 'shown')), signinWall: median(col('signin', 'wall')),
    functions: median(col('functions', 'shown')), functionsWall: median(col('functions', 'wall')),
    monitoring: median(col('monitoring', 'shown')), requests: median(col('signin', 'requests')), bytes: median(col('signin', 'bytes')),
  };
  lastMed = medOf[v.name].signin;
}
if (VARIANTS.length > 1) {
  const base = VARIANTS[0].name;
  console.log(`# medians (ms) and ratios to ${base}`);
  console.log('| variant | sign-in usable, page | sign-in, wall | requests | bytes | functions table, page | functions, wall | monitoring data, page |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const v of VARIANTS) {
    const m = medOf[v.name];
    const b = medOf[base];
    const r = (k) => (v.name === base ? `${m[k].toFixed(0)}` : `${m[k].toFixed(0)} (${(m[k] / b[k]).toFixed(2)}x)`);
    console.log(`| ${v.name} | ${r('signin')} | ${r('signinWall')} | ${m.requests} | ${m.bytes} | ${r('functions')} | ${r('functionsWall')} | ${r('monitoring')} |`);
  }
}
if (JSON_OUT) {
  fs.writeFileSync(JSON_OUT, JSON.stringify({ load: os.loadavg(), launchMs, setup, byVariant }, (k, v) => (k === 'list' ? undefined : v)));
}
console.log(`target (sign-in form usable on screen < ${TARGET_MS} ms, page clock median): ${lastMed < TARGET_MS ? 'met' : 'missed'} (${lastMed.toFixed(0)} ms)`);
process.exit(lastMed < TARGET_MS ? 0 : 1);
