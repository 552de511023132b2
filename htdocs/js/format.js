// Formatting of numbers, durations and times for display.
//
// No Intl (toLocaleString and friends) here: the formats are fixed (en-US
// digit grouping, en-GB day-month order, 24 h clock, local time), and the
// first use of ICU in a fresh renderer cost 30-75 ms of its main thread on
// this machine (the first grouped number alone), in the middle of the
// functions table's first paint (docs/dashboard.md, First load).

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const two = (n) => String(n).padStart(2, '0');

// 1234567.5 -> "1,234,567.5": at most three decimals, as en-US.
function grouped(n) {
  if (!Number.isFinite(n)) return String(n);
  const r = Math.round(Math.abs(n) * 1000) / 1000;
  const [ip, fp] = r.toFixed(3).replace(/\.?0+$/, '').split('.');
  const sign = n < 0 && r !== 0 ? '-' : '';
  return `${sign}${ip.replace(/\B(?=(\d{3})+$)/g, ',')}${fp ? `.${fp}` : ''}`;
}

// "09:05" or "09:05:03", local time
function hms(d, withSeconds) {
  const t = `${two(d.getHours())}:${two(d.getMinutes())}`;
  return withSeconds ? `${t}:${two(d.getSeconds())}` : t;
}

// "06 Sep"
function dayMonth(d) {
  return `${two(d.getDate())} ${MONTHS[d.getMonth()]}`;
}

export function ms(v) {
  if (v === null || v === undefined || Number.isNaN(Number(v))) return '–';
  const n = Number(v);
  if (n < 1) return `${n.toFixed(2)} ms`;
  if (n < 100) return `${n.toFixed(1)} ms`;
  if (n < 10000) return `${Math.round(n)} ms`;
  return `${(n / 1000).toFixed(1)} s`;
}

export function int(v) {
  if (v === null || v === undefined) return '–';
  return grouped(Number(v));
}

export function pct(v, digits = 1) {
  if (v === null || v === undefined || Number.isNaN(Number(v))) return '–';
  return `${(Number(v) * 100).toFixed(digits)} %`;
}

export function bytes(v) {
  if (v === null || v === undefined) return '–';
  const n = Number(v);
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let x = n;
  while (x >= 1024 && i < units.length - 1) { x /= 1024; i += 1; }
  return `${x < 10 && i > 0 ? x.toFixed(1) : Math.round(x)} ${units[i]}`;
}

export function secs(v) {
  if (v === null || v === undefined) return '–';
  const s = Math.round(Number(v));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

// Accepts epoch seconds, epoch ms, or an ISO/SQL date string.
export function toDate(v) {
  if (v === null || v === undefined || v === '') return null;
  if (typeof v === 'number') return new Date(v < 1e11 ? v * 1000 : v);
  let s = String(v);
  if (/^\d{4}-\d\d-\d\d \d/.test(s)) s = s.replace(' ', 'T');
  if (/T\d\d:\d\d(:\d\d(\.\d+)?)?$/.test(s)) s += 'Z';
  const d = new Date(s);
  return Number.isNaN(d.getTime()) ? null : d;
}

export function dateTime(v) {
  const d = toDate(v);
  if (!d) return '–';
  return `${dayMonth(d)} ${d.getFullYear()}, ${hms(d, true)}`;
}

export function ago(v) {
  const d = toDate(v);
  if (!d) return 'never';
  const s = Math.round((Date.now() - d.getTime()) / 1000);
  if (s < 5) return 'just now';
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

export function clock(epochSeconds, withSeconds) {
  return hms(new Date(epochSeconds * 1000), withSeconds);
}

// Compact: the time alone today, else day and time.
export function shortTime(v) {
  const d = toDate(v);
  if (!d) return '–';
  const now = new Date();
  const time = hms(d, true);
  if (d.toDateString() === now.toDateString()) return time;
  return `${dayMonth(d)} ${time}`;
}
