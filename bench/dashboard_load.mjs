// Benchmark: dashboard first load on loopback (issue 5 target: < 300 ms).
// For RUNS fresh browser contexts (empty cache), the time from navigation
// to (a) the sign-in form and (b), signed in, the functions table and the
// monitoring charts' first data. Prints min / median / max.
//
// Usage: LAMBDA_TEST_URL=http://127.0.0.1:8080 LAMBDA_TEST_KEY=$(cat var/admin.key) \
//        node bench/dashboard_load.mjs [RUNS]

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const URL0 = process.env.LAMBDA_TEST_URL;
const KEY = process.env.LAMBDA_TEST_KEY;
const RUNS = Number(process.argv[2] || 10);
if (!URL0 || !KEY) {
  console.error('set LAMBDA_TEST_URL and LAMBDA_TEST_KEY');
  process.exit(2);
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lambda-bench-'));
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--no-first-run', '--disable-quic'],
});
const results = { signin: [], functions: [], monitoring: [] };
for (let i = 0; i < RUNS; i += 1) {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } }); // empty cache
  const page = await ctx.newPage();
  let t0 = performance.now();
  await page.goto(`${URL0}/`);
  await page.waitForSelector('.login-form input[name=key]');
  results.signin.push(performance.now() - t0);
  await ctx.addInitScript((k) => sessionStorage.setItem('lambda.apiKey', k), KEY);
  const page2 = await ctx.newPage();
  t0 = performance.now();
  await page2.goto(`${URL0}/#/functions`);
  await page2.waitForSelector('main .table, main .state-empty', { timeout: 30000 });
  results.functions.push(performance.now() - t0);
  t0 = performance.now();
  await page2.goto(`${URL0}/#/monitoring`);
  await page2.waitForSelector('#mon-volume[data-sums]', { state: 'attached', timeout: 30000 });
  results.monitoring.push(performance.now() - t0);
  await ctx.close();
}
await browser.close();
fs.rmSync(dir, { recursive: true, force: true });
const stat = (a) => {
  const s = [...a].sort((x, y) => x - y);
  return `min ${s[0].toFixed(0)} ms, median ${s[Math.floor(s.length / 2)].toFixed(0)} ms, max ${s[s.length - 1].toFixed(0)} ms`;
};
console.log(`# ${RUNS} loads each, fresh context (no cache), ${os.loadavg()[0].toFixed(1)} load average`);
console.log(`sign-in page (first load):        ${stat(results.signin)}`);
console.log(`functions table (signed in):      ${stat(results.functions)}`);
console.log(`monitoring, first data in charts: ${stat(results.monitoring)}`);
const med = [...results.signin].sort((x, y) => x - y)[Math.floor(RUNS / 2)];
console.log(`target (first load < 300 ms): ${med < 300 ? 'met' : 'missed'}`);
process.exit(med < 300 ? 0 : 1);
