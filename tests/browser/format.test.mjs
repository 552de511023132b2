// The dashboard's formatting without Intl (htdocs/js/format.js, textOrder in
// htdocs/js/table.js) against what the Intl calls they replaced print, in
// Node (no browser): grouped numbers as en-US, dates and clocks as en-GB in
// local time (ICU's "Sept" aside), and the tables' text order. TAP output.

import { fileURLToPath } from 'node:url';
import path from 'node:path';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const JS = path.join(HERE, '..', '..', 'htdocs', 'js');
process.removeAllListeners('warning'); // Node's note that htdocs/js has no package.json type
const fmt = await import(path.join(JS, 'format.js'));
const { textOrder } = await import(path.join(JS, 'table.js'));

let n = 0;
let failed = 0;
function check(ok, name, diag) {
  n += 1;
  if (!ok) failed += 1;
  console.log(`${ok ? 'ok' : 'not ok'} ${n} - ${name}`);
  if (!ok && diag !== undefined) console.log(`# ${JSON.stringify(diag)}`);
}

// numbers: fixed cases, edges and a seeded sweep of magnitudes
const nums = [0, 1, 7, 999, 1000, 1001, 9999, 10000, 123456, 999999, 1000000, 1234567, -1, -999, -1000,
  -1234567, 0.5, 0.25, 12.3456, 1234.5678, 0.001, 0.0005, 99.9999, 1e15, 2 ** 31, Number.MAX_SAFE_INTEGER];
let seed = 12345;
const rnd = () => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648; };
for (let i = 0; i < 200; i += 1) {
  const v = Math.floor(rnd() * 10 ** Math.floor(rnd() * 13));
  nums.push(v && rnd() < 0.2 ? -v : v); // not -0, which Intl prints as "-0" and a count never is
}
const numDiff = nums.filter((v) => fmt.int(v) !== v.toLocaleString('en-US'))
  .map((v) => [v, fmt.int(v), v.toLocaleString('en-US')]);
check(numDiff.length === 0, `int() prints ${nums.length} numbers as toLocaleString('en-US') does`, numDiff.slice(0, 5));
check(fmt.int(null) === '–' && fmt.int(undefined) === '–' && fmt.int(Number.NaN) === 'NaN',
  'int(): null and undefined are a dash, NaN stays NaN');

// dates: every month, hours around midnight and noon, in three time zones
const sept = (s) => s.replace('Sept', 'Sep');
const dateDiff = [];
const tz0 = process.env.TZ;
for (const tz of ['UTC', 'Europe/London', 'America/New_York']) for (let m = 0; m < 12; m += 1) {
  process.env.TZ = tz; // Node applies it to Date and Intl at once
  for (const [hh, mm, ss] of [[0, 0, 0], [9, 5, 3], [12, 0, 59], [23, 59, 59]]) {
    const d = new Date(2026, m, m + 1, hh, mm, ss);
    const want = sept(d.toLocaleString('en-GB', { year: 'numeric', month: 'short', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' }));
    if (fmt.dateTime(d.getTime()) !== want) dateDiff.push(['dateTime', fmt.dateTime(d.getTime()), want]);
    const clock = d.toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit', hour12: false });
    if (fmt.clock(d.getTime() / 1000) !== clock) dateDiff.push(['clock', fmt.clock(d.getTime() / 1000), clock]);
    const clockS = d.toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
    if (fmt.clock(d.getTime() / 1000, true) !== clockS) dateDiff.push(['clock s', fmt.clock(d.getTime() / 1000, true), clockS]);
    const short = `${sept(d.toLocaleDateString('en-GB', { day: '2-digit', month: 'short' }))} ${clockS}`;
    if (fmt.shortTime(d.getTime()) !== short) dateDiff.push(['shortTime', fmt.shortTime(d.getTime()), short]);
  }
}
if (tz0 === undefined) delete process.env.TZ;
else process.env.TZ = tz0;
check(dateDiff.length === 0, 'dateTime(), clock() and shortTime() print as the en-GB Intl calls did', dateDiff.slice(0, 5));
const now = new Date();
check(fmt.shortTime(now.getTime()) === fmt.clock(now.getTime() / 1000, true), 'shortTime(): today is the time alone');
check(fmt.dateTime('2026-12-06 22:57:01') === fmt.dateTime('2026-12-06T22:57:01Z') && fmt.dateTime(null) === '–',
  'dateTime(): SQL and ISO UTC strings are the same instant; null is a dash');

// the tables' order: case-insensitive, then by code point; a total order
const names = ['beta', 'Alpha', 'alpha', 'b-2', 'b_1', 'B', 'a10', 'a9', 'zeta', 'Zulu', 'python', 'javascript'];
const sorted = [...names].sort(textOrder);
check(JSON.stringify(sorted) === JSON.stringify(['a10', 'a9', 'Alpha', 'alpha', 'B', 'b-2', 'b_1', 'beta', 'javascript', 'python', 'zeta', 'Zulu']),
  'textOrder: case-insensitive, ties by code point', sorted);
check(names.every((a) => names.every((b) => Math.sign(textOrder(a, b)) === -Math.sign(textOrder(b, a)))) &&
  names.every((a) => textOrder(a, a) === 0), 'textOrder: antisymmetric, and 0 only for equal strings');

console.log(`1..${n}`);
process.exit(failed ? 1 : 0);
