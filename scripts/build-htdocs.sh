#!/bin/sh
# Builds htdocs/vendor/ from the npm packages pinned in package.json
# (run `npm ci` first): Chart.js is copied, CodeMirror 6 is bundled with
# esbuild into one ES module. Nothing is fetched at run time (no CDN).
# Then bundles the dashboard's own modules (htdocs/js/app.js and all it
# imports, the pages included) into htdocs/dist/app.js, the one script
# index.html loads: run it again after editing htdocs/js/.
# Idempotent; writes only htdocs/vendor/ and htdocs/dist/.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
nm="$top/node_modules"
out="$top/htdocs/vendor"

for need in chart.js/dist/chart.umd.min.js codemirror/package.json esbuild/bin/esbuild; do
	if [ ! -e "$nm/$need" ]; then
		echo "build-htdocs: $nm/$need missing: run 'npm ci' in $top first" >&2
		exit 1
	fi
done

mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cp "$nm/chart.js/dist/chart.umd.min.js" "$tmp/chart.umd.min.js"

cat >"$tmp/codemirror-entry.js" <<'JS'
import { EditorView, basicSetup } from 'codemirror';
import { EditorState, Compartment } from '@codemirror/state';
import { keymap } from '@codemirror/view';
import { indentWithTab } from '@codemirror/commands';
import { python } from '@codemirror/lang-python';
import { javascript } from '@codemirror/lang-javascript';
import { json } from '@codemirror/lang-json';

const languages = { python, javascript, json };

// createEditor(parent, {doc, language, label, onChange}) -> {get, set, setLanguage, focus, view}
export function createEditor(parent, opts = {}) {
  const lang = new Compartment();
  const langExt = (name) => (languages[name] ? languages[name]() : []);
  // CodeMirror adds its styles with a <style> tag in a document, which our
  // CSP (style-src 'self') blocks; inside a shadow root it uses constructable
  // style sheets (adoptedStyleSheets) instead, which the CSP allows.
  const shadow = parent.attachShadow({ mode: 'open' });
  const view = new EditorView({
    parent: shadow,
    root: shadow,
    state: EditorState.create({
      doc: opts.doc || '',
      extensions: [
        basicSetup,
        keymap.of([indentWithTab]),
        lang.of(langExt(opts.language)),
        EditorView.theme({
          '&': { height: '100%', fontSize: '13px', backgroundColor: '#fff' },
          '&.cm-focused': { outline: 'none' },
          '.cm-scroller': { fontFamily: 'ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace', lineHeight: '1.55' },
          '.cm-gutters': { backgroundColor: '#f7f8fa', borderRight: '1px solid #e3e7ee', color: '#98a2b3' },
        }),
        EditorView.contentAttributes.of({ 'aria-label': opts.label || 'Code editor' }),
        EditorView.updateListener.of((u) => { if (u.docChanged && opts.onChange) opts.onChange(); }),
      ],
    }),
  });
  return {
    view,
    get: () => view.state.doc.toString(),
    set: (text) => view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } }),
    setLanguage: (name) => view.dispatch({ effects: lang.reconfigure(langExt(name)) }),
    focus: () => view.focus(),
  };
}
JS

"$nm/esbuild/bin/esbuild" "$tmp/codemirror-entry.js" --bundle --format=esm --minify \
	--target=es2020 --legal-comments=none --log-level=warning \
	--resolve-extensions=.js,.mjs --outfile="$tmp/codemirror.js" \
	--alias:codemirror="$nm/codemirror" --alias:@codemirror="$nm/@codemirror" 2>&1

# The app: one file instead of a module graph (the first load's critical
# path was a request, a parse and a compile per module). Chart.js and
# CodeMirror stay out (loaded by URL by the pages that use them).
"$nm/esbuild/bin/esbuild" "$top/htdocs/js/app.js" --bundle --format=esm --minify \
	--target=es2020 --legal-comments=none --log-level=warning \
	--outfile="$tmp/app.js" 2>&1

# Replace atomically so that a running server never serves half a file.
for f in chart.umd.min.js codemirror.js; do
	mv -f "$tmp/$f" "$out/$f"
done
mkdir -p "$top/htdocs/dist"
mv -f "$tmp/app.js" "$top/htdocs/dist/app.js"
echo "build-htdocs: wrote $out/chart.umd.min.js, $out/codemirror.js and $top/htdocs/dist/app.js"
