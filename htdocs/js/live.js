// A refresh loop: runs `tick` every `interval` ms after the previous run
// finished, stops when the page's signal aborts, and pauses while the tab is
// hidden (no requests from background tabs).

import * as fmt from './format.js';

export function liveLoop(tick, { interval = 2000, signal, statusEl }) {
  let timer = null;
  let running = false;
  let paused = false; // by the user
  const show = (text, cls) => {
    if (!statusEl) return;
    statusEl.textContent = text;
    statusEl.className = `live ${cls}`;
  };
  async function run() {
    clearTimeout(timer);
    if (signal.aborted || running) return;
    if (paused) { show('Paused', 'live-paused'); return; }
    if (document.hidden) { show('Paused while the tab is hidden', 'live-paused'); return; }
    running = true;
    try {
      await tick();
      show(`Live · updated ${fmt.clock(Date.now() / 1000, true)}`, 'live-on');
    } catch (e) {
      if (signal.aborted) return;
      show(`Update failed: ${e.message}`, 'live-err');
    } finally {
      running = false;
    }
    if (!signal.aborted) timer = setTimeout(run, interval);
  }
  const onVis = () => { if (!document.hidden) run(); else { clearTimeout(timer); show('Paused while the tab is hidden', 'live-paused'); } };
  document.addEventListener('visibilitychange', onVis);
  signal.addEventListener('abort', () => { clearTimeout(timer); document.removeEventListener('visibilitychange', onVis); });
  return {
    now: run,
    setPaused(p) { paused = p; if (!p) run(); else { clearTimeout(timer); show('Paused', 'live-paused'); } },
    get paused() { return paused; },
  };
}
