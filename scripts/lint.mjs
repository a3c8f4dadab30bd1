// Boundary rules (STYLE.md): the engine never imports vscode or touches the DOM; protocol stays dependency-free.
// Usage: node scripts/lint.mjs [root]   (root defaults to the current directory; tests lint a temp copy)
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const rules = [
  { dir: 'src/engine', banned: [/from\s+['"]vscode['"]/, /require\(['"]vscode['"]\)/, /\bdocument\./, /\bwindow\./], why: 'the engine is plain Node (no vscode, no DOM)' },
  { dir: 'src/cli', banned: [/from\s+['"]vscode['"]/, /require\(['"]vscode['"]\)/], why: 'the CLI runs without VS Code' },
  { dir: 'src/cli', banned: [/['"](?:\.\.\/)+engine\/[^'"]+['"]/], why: 'the CLI uses the engine through its public entry, src/engine/index.ts' },
  { dir: 'src/extension', banned: [/['"](?:\.\.\/)+engine\/[^'"]+['"]/], why: 'the extension uses the engine through its public entry, src/engine/index.ts' },
  { dir: 'src/protocol', banned: [/\bfrom\s+['"](?!\.\/)/, /\b(?:require|import)\s*\(\s*['"](?!\.\/)/], why: 'the protocol imports nothing outside src/protocol' },
  { dir: 'webview', banned: [/from\s+['"]vscode['"]/, /onnxruntime/], why: 'the webview is a browser bundle' },
  { dir: 'webview', except: 'webview/toolkit.ts', banned: [/['"]@vscode\/webview-ui-toolkit/], why: 'only webview/toolkit.ts wraps the (deprecated) UI toolkit, so it can be swapped' },
];
const root = process.argv[2] ?? '.';
const files = (d) => readdirSync(d).flatMap((f) => { const p = join(d, f); return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : []; });
let bad = 0;
for (const r of rules) {
  let list = [];
  try { list = files(join(root, r.dir)); } catch { continue; }
  for (const f of list) {
    const name = relative(root, f).split('\\').join('/');
    if (name === r.except) continue;
    readFileSync(f, 'utf8').split('\n').forEach((line, i) => {
      for (const re of r.banned) if (re.test(line)) { console.error(`${name}:${i + 1}: ${line.trim()}\n  -> not allowed: ${r.why}`); bad++; }
    });
  }
}
if (bad) { console.error(`lint: ${bad} boundary violation(s)`); process.exit(1); }
console.log('lint: boundaries ok');
