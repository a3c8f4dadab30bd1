// `ftlab demo` on the built-in model: the four strategies at their presets, each measured before and
// after on the held-out demo questions and on general knowledge; the report reads back against its schema.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BUILTIN_WEIGHTS_FILE, DEMO_QA_TEST_FILE } from '../../src/engine/builtin';
import { parseReportText } from '../../src/engine/experiment/report';
import { scratchDir } from '../data/helpers';
import { repoRoot } from '../foundation/repoRoot';

test('ftlab demo: four strategies side by side, measured before and after, report.json and report.html', { timeout: 480_000 }, (t) => {
  if (!existsSync(BUILTIN_WEIGHTS_FILE)) { t.skip('no built-in weights (ftlab pretrain makes them)'); return; }
  const out = join(scratchDir('demo'), 'demo');
  const r = spawnSync(process.execPath, [join(repoRoot, 'bin', 'ftlab.js'), 'demo', '--out', out, '--quiet'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const heldOut = readFileSync(DEMO_QA_TEST_FILE, 'utf8').trim().split('\n').length;
  for (const s of ['full', 'frozen-embeddings', 'layerwise-lr', 'lora']) {
    assert.match(r.stdout, new RegExp(`${s}\\s+\\d+\\.\\d% \\(\\d+/${heldOut}\\) → \\d+\\.\\d% \\(\\d+/${heldOut}\\)`), `${s} row in:\n${r.stdout}`);
  }
  assert.match(r.stdout, /prose completion of the facts the demo asks about: \d+\.\d% \(\d+\/\d+\)/);
  const report = parseReportText(readFileSync(join(out, 'report.json'), 'utf8'), 'report.json');
  assert.deepEqual(report.variants.map((v) => v.status), ['finished', 'finished', 'finished', 'finished']);
  // Held out: no evaluated question is among the trained ones.
  const trained = new Set(readFileSync(join(repoRoot, 'assets', 'demo', 'qa.jsonl'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { question: string }).question));
  for (const s of report.variants[0].samples) assert.ok(![...trained].some((q) => s.prompt.includes(q)), s.prompt);
  assert.ok(existsSync(join(out, 'report.html')));
});
