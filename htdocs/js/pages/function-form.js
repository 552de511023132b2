// Create / edit a function: configuration fields, env vars, a code editor
// (CodeMirror), or an uploaded source file / zip. Errors from the API are
// shown next to the field they name.

import { h, replace, field, setFieldError, toast } from '../dom.js';
import * as api from '../api.js';
import { normFunction, RUNTIMES, ISOLATIONS } from '../model.js';
import { mountEditor } from '../editor.js';
import * as fmt from '../format.js';

const TEMPLATES = {
  python: `def handler(event, context):
    name = event.get("name", "world") if isinstance(event, dict) else "world"
    print(f"hello {name}")  # goes to the invocation's logs
    return {"message": f"Hello, {name}!"}
`,
  javascript: `exports.handler = async (event, context) => {
  const name = (event && event.name) || 'world';
  console.log(\`hello \${name}\`); // goes to the invocation's logs
  return { message: \`Hello, \${name}!\` };
};
`,
};
const MAX_UPLOAD = 5 * 1024 * 1024;
const FIELDS = ['name', 'runtime', 'handler', 'timeout_ms', 'memory_mb', 'isolation', 'env', 'code'];

// Which form field does an API error message talk about?
export function fieldOfMessage(message) {
  const m = String(message || '').toLowerCase();
  const aliases = { timeout: 'timeout_ms', memory: 'memory_mb', language: 'runtime', environment: 'env', env_vars: 'env', zip: 'code', code_zip: 'code' };
  let best = null;
  let bestPos = Infinity;
  const consider = (word, target) => {
    const re = new RegExp(`(^|[^a-z_])${word}([^a-z_]|$)`);
    const hit = re.exec(m);
    if (hit && hit.index < bestPos) { best = target; bestPos = hit.index; }
  };
  FIELDS.forEach((f) => consider(f, f));
  Object.entries(aliases).forEach(([w, f]) => consider(w, f));
  return best;
}

function selectOf(name, options, value) {
  return h('select', { name }, options.map((o) => h('option', { value: o.value, selected: o.value === value }, o.label)));
}

function envEditor(env) {
  const list = h('div', { class: 'env-list' });
  const addRow = (k = '', v = '') => {
    const key = h('input', { type: 'text', class: 'mono', placeholder: 'NAME', 'aria-label': 'Variable name', value: k, spellcheck: 'false' });
    const val = h('input', { type: 'text', class: 'mono', placeholder: 'value', 'aria-label': 'Variable value', value: v, spellcheck: 'false' });
    const row = h('div', { class: 'env-row' }, key, val,
      h('button', { type: 'button', class: 'btn btn-ghost btn-small', 'aria-label': 'Remove variable', onclick: () => row.remove() }, 'Remove'));
    list.append(row);
    return key;
  };
  Object.entries(env || {}).forEach(([k, v]) => addRow(k, String(v)));
  const add = h('button', { type: 'button', class: 'btn btn-small', onclick: () => addRow().focus() }, 'Add variable');
  const el = h('div', { class: 'env-editor', id: 'env-editor', name: 'env' }, list, add);
  return {
    el,
    value() {
      const out = {};
      for (const row of list.querySelectorAll('.env-row')) {
        const [k, v] = row.querySelectorAll('input');
        if (k.value.trim() === '' && v.value === '') continue;
        if (k.value.trim() === '') throw new Error('every variable needs a name');
        out[k.value.trim()] = v.value;
      }
      return out;
    },
  };
}

function readFile(file, asDataUrl) {
  return new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => resolve(r.result);
    r.onerror = () => reject(new Error(`cannot read ${file.name}`));
    if (asDataUrl) r.readAsDataURL(file); else r.readAsText(file);
  });
}

export async function render(main, params, ctx) {
  const editing = !!params.name;
  let fn = null;
  let code = '';
  let keepZip = false; // an existing zip archive stays unless a new file is chosen
  if (editing) {
    const path = `/api/functions/${api.enc(params.name)}`;
    const [d, c] = await Promise.all([api.get(path, null, { signal: ctx.signal }), api.get(`${path}/code`, null, { signal: ctx.signal }).catch((e) => { if (e.status === 401) throw e; return null; })]);
    fn = normFunction(d);
    if (typeof c === 'string') code = c;
    else if (c && typeof c.code === 'string') code = c.code;
    else if (c && c.code_zip) keepZip = true;
  }
  const runtime0 = fn ? fn.runtime : 'python';
  const inputs = {
    name: h('input', { type: 'text', name: 'name', required: true, maxlength: 64, value: fn ? fn.name : '', disabled: editing, autocomplete: 'off', spellcheck: 'false', class: 'mono' }),
    runtime: selectOf('runtime', RUNTIMES, runtime0),
    handler: h('input', { type: 'text', name: 'handler', value: fn ? fn.handler : 'main.handler', class: 'mono', spellcheck: 'false', autocomplete: 'off' }),
    timeout_ms: h('input', { type: 'number', name: 'timeout_ms', min: 1, step: 1, inputmode: 'numeric', value: fn && fn.timeout_ms !== undefined ? fn.timeout_ms : 3000 }),
    memory_mb: h('input', { type: 'number', name: 'memory_mb', min: 1, step: 1, inputmode: 'numeric', value: fn && fn.memory_mb !== undefined ? fn.memory_mb : 128 }),
    isolation: selectOf('isolation', ISOLATIONS, fn ? fn.isolation : 'docker'),
  };
  const env = envEditor(fn ? fn.env : {});
  const wraps = {
    name: field('Name', inputs.name, editing ? 'The name cannot change.' : 'Letters, digits, - and _ (up to 64).'),
    runtime: field('Runtime', inputs.runtime),
    handler: field('Handler', inputs.handler, 'module.function, e.g. main.handler (file main.py / main.js).'),
    timeout_ms: field('Timeout (ms)', inputs.timeout_ms),
    memory_mb: field('Memory (MiB)', inputs.memory_mb),
    isolation: field('Default isolation', inputs.isolation),
  };
  const envWrap = h('div', { class: 'field', dataset: { field: 'env' } },
    h('span', { class: 'label', id: 'env-label' }, 'Environment variables'), env.el,
    h('p', { class: 'field-error', hidden: true, role: 'alert' }));
  wraps.env = envWrap;

  const editorHost = h('div', { class: 'editor-host' });
  const fileInput = h('input', { type: 'file', name: 'upload', accept: '.py,.js,.mjs,.cjs,.zip,text/plain,application/zip', class: 'file-input' });
  let zipData = null; // base64 of an uploaded zip, sent instead of the editor's text
  const uploadNote = h('p', { class: 'hint', role: 'status' }, 'Or upload a .py / .js file (loaded into the editor) or a .zip archive.');
  const codeWrap = h('div', { class: 'field', dataset: { field: 'code' } },
    h('div', { class: 'field-row' }, h('span', { class: 'label' }, 'Code'),
      h('label', { class: 'btn btn-small' }, 'Upload file…', fileInput)),
    editorHost, uploadNote, h('p', { class: 'field-error', hidden: true, role: 'alert' }));
  wraps.code = codeWrap;

  const formError = h('p', { class: 'banner banner-error', role: 'alert', hidden: true });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, editing ? 'Save changes' : 'Create function');
  const cancel = h('a', { href: editing ? `#/functions/${api.enc(fn.name)}` : '#/functions', class: 'btn btn-ghost' }, 'Cancel');
  const form = h('form', { class: 'form', novalidate: true },
    formError,
    h('div', { class: 'form-grid' },
      h('div', { class: 'card form-side' }, h('h2', null, 'Configuration'),
        wraps.name, wraps.runtime, wraps.handler,
        h('div', { class: 'two' }, wraps.timeout_ms, wraps.memory_mb), wraps.isolation, envWrap),
      h('div', { class: 'card form-main' }, codeWrap)),
    h('div', { class: 'form-actions' }, cancel, submit));

  const title = editing ? `Edit ${fn.name}` : 'New function';
  replace(main, h('div', { class: 'page-head' }, h('div', null,
    h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' }, h('a', { href: '#/functions' }, 'Functions'), editing ? h('a', { href: `#/functions/${api.enc(fn.name)}` }, fn.name) : null),
    h('h1', null, title),
    editing ? h('p', { class: 'muted' }, `Version ${fn.version ?? '–'} · updated ${fmt.ago(fn.updated_at)}. Saving creates a new version and drains warm containers.`) : null)), form);

  const editor = await mountEditor(editorHost, { doc: editing ? code : TEMPLATES[runtime0], language: runtime0, label: 'Function code' });
  if (keepZip) {
    editorHost.classList.add('is-disabled');
    uploadNote.textContent = 'This function\'s code is a zip archive: it is kept as it is unless you upload a new file.';
  }
  let touched = editing;
  editorHost.addEventListener('input', () => { touched = true; }, true);
  editorHost.addEventListener('keydown', () => { touched = true; }, true);
  inputs.runtime.addEventListener('change', () => {
    const rt = inputs.runtime.value;
    editor.setLanguage(rt);
    if (!touched && !zipData) editor.set(TEMPLATES[rt]);
  });
  fileInput.addEventListener('change', async () => {
    const f = fileInput.files[0];
    setFieldError(codeWrap, null);
    if (!f) return;
    if (f.size > MAX_UPLOAD) { setFieldError(codeWrap, `${f.name} is ${fmt.bytes(f.size)}; the limit is ${fmt.bytes(MAX_UPLOAD)}.`); return; }
    try {
      if (/\.zip$/i.test(f.name)) {
        const url = await readFile(f, true);
        zipData = String(url).split(',')[1] || '';
        keepZip = false;
        uploadNote.textContent = `${f.name} (${fmt.bytes(f.size)}) will be deployed as the function's code archive; the editor's text is ignored.`;
        editorHost.classList.add('is-disabled');
      } else {
        zipData = null;
        keepZip = false;
        editorHost.classList.remove('is-disabled');
        editor.set(await readFile(f, false));
        touched = true;
        if (/\.py$/i.test(f.name)) { inputs.runtime.value = 'python'; editor.setLanguage('python'); }
        if (/\.(m|c)?js$/i.test(f.name)) { inputs.runtime.value = 'javascript'; editor.setLanguage('javascript'); }
        uploadNote.textContent = `Loaded ${f.name} into the editor.`;
      }
    } catch (e) {
      setFieldError(codeWrap, e.message);
    }
  });

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    Object.values(wraps).forEach((w) => setFieldError(w, null));
    formError.hidden = true;
    const body = {
      runtime: inputs.runtime.value,
      handler: inputs.handler.value.trim(),
      isolation: inputs.isolation.value,
    };
    if (!editing) body.name = inputs.name.value.trim();
    const local = [];
    for (const k of ['timeout_ms', 'memory_mb']) {
      const raw = inputs[k].value.trim();
      if (raw === '' || !/^\d+$/.test(raw)) local.push([k, 'Enter a whole number.']);
      else body[k] = Number(raw);
    }
    try { body.env = env.value(); } catch (err) { local.push(['env', `Environment: ${err.message}.`]); }
    if (!editing && !body.name) local.push(['name', 'A name is required.']);
    if (zipData) body.code_zip = zipData;
    else if (!keepZip) body.code = editor.get();
    if (body.code !== undefined && !body.code.trim()) local.push(['code', 'The code is empty.']);
    if (local.length) {
      local.forEach(([k, msg]) => setFieldError(wraps[k], msg));
      focusField(wraps[local[0][0]]);
      return;
    }
    submit.disabled = true;
    submit.textContent = 'Saving…';
    try {
      const d = editing
        ? await api.put(`/api/functions/${api.enc(fn.name)}`, body, { signal: ctx.signal })
        : await api.post('/api/functions', body, { signal: ctx.signal });
      const saved = normFunction(d) || {};
      toast(editing ? `Saved ${fn.name} (version ${saved.version ?? 'new'})` : `Created ${body.name}`, 'ok');
      ctx.go(`/functions/${api.enc(saved.name || (editing ? fn.name : body.name))}`);
    } catch (err) {
      if (ctx.signal.aborted) return;
      const f = err.status === 409 ? 'name' : fieldOfMessage(err.message);
      if (f && wraps[f]) { setFieldError(wraps[f], err.message); focusField(wraps[f]); }
      else { formError.textContent = err.message; formError.hidden = false; formError.focus?.(); }
    } finally {
      submit.disabled = false;
      submit.textContent = editing ? 'Save changes' : 'Create function';
    }
  });
  if (!editing) inputs.name.focus();
  return undefined;
}

function focusField(wrap) {
  const el = wrap && wrap.querySelector('input:not([type=file]), select, textarea, .cm-content');
  if (el) el.focus();
}
