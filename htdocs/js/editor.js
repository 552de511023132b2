// Code editor: CodeMirror 6 (bundled into vendor/codemirror.js at build time),
// loaded lazily; when the bundle is missing, a monospace textarea with line
// numbers takes its place with the same interface.

import { h } from './dom.js';

let cmPromise = null;
function loadCodeMirror() {
  // resolved against the page, not this module: the same URL from js/editor.js
  // and from the bundle (dist/app.js), which must not take CodeMirror in
  const url = new URL('vendor/codemirror.js', document.baseURI).href;
  if (!cmPromise) cmPromise = import(url).catch(() => null);
  return cmPromise;
}

function fallbackEditor(parent, opts) {
  const gutter = h('div', { class: 'code-gutter', 'aria-hidden': 'true' });
  const ta = h('textarea', {
    class: 'code-fallback', spellcheck: 'false', autocapitalize: 'off', autocomplete: 'off',
    wrap: 'off', 'aria-label': opts.label || 'Code editor',
  });
  ta.value = opts.doc || '';
  const renumber = () => {
    const n = ta.value.split('\n').length;
    gutter.textContent = Array.from({ length: n }, (_, i) => i + 1).join('\n');
    gutter.scrollTop = ta.scrollTop;
  };
  ta.addEventListener('input', () => { renumber(); if (opts.onChange) opts.onChange(); });
  ta.addEventListener('scroll', () => { gutter.scrollTop = ta.scrollTop; });
  ta.addEventListener('keydown', (e) => {
    if (e.key === 'Tab' && !e.shiftKey && !ta.dataset.escape) {
      e.preventDefault();
      ta.setRangeText('    ', ta.selectionStart, ta.selectionEnd, 'end');
      renumber();
    }
    ta.dataset.escape = e.key === 'Escape' ? '1' : '';
  });
  parent.append(h('div', { class: 'code-fallback-wrap' }, gutter, ta));
  renumber();
  return {
    get: () => ta.value,
    set: (t) => { ta.value = t; renumber(); },
    setLanguage: () => {},
    focus: () => ta.focus(),
    fallback: true,
  };
}

// mountEditor(parent, {doc, language, label, onChange}) -> Promise<editor>
export async function mountEditor(parent, opts = {}) {
  parent.classList.add('code-editor');
  const cm = await loadCodeMirror();
  if (cm && cm.createEditor) {
    try {
      return cm.createEditor(parent, opts);
    } catch (e) {
      console.warn('CodeMirror failed, using the plain editor', e);
    }
  }
  return fallbackEditor(parent, opts);
}
