// Boundary rules (STYLE.md): the engine never imports vscode or touches the DOM; protocol stays dependency-free.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const rules = [
  { dir: 'src/engine', banned: [/from\s+['"]vscode['"]/, /require\(['"]vscode['"]\)/, /\bdocument\./, /\bwindow\./], why: 'the engine is plain Node (no vscode, no DOM)' },
  { dir: 'src/cli', banned: [/from\s+['"]vscode['"]/, /require\(['"]vscode['"]\)/], why: 'the CLI runs without VS Code' },
  { dir: 'src/protocol', banned: [/from\s+['"](?!\.)/], why: 'the protocol imports nothing outside itself' },
  { dir: 'webview', banned: [/from\s+['"]vscode['"]/, /onnxruntime/], why: 'the webview is a browser bundle' },
];
const files = (d) => readdirSync(d).flatMap((f) => { const p = join(d, f); return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : []; });
let bad = 0;
for (const r of rules) {
  let list = [];
  try { list = files(r.dir); } catch { continue; }
  for (const f of list) {
    readFileSync(f, 'utf8').split('\n').forEach((line, i) => {
      for (const re of r.banned) if (re.test(line)) { console.error(`${f}:${i + 1}: ${line.trim()}\n  -> not allowed: ${r.why}`); bad++; }
    });
  }
}
if (bad) { console.error(`lint: ${bad} boundary violation(s)`); process.exit(1); }
console.log('lint: boundaries ok');
