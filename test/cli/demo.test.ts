// `ftlab demo` on the built-in model: before/after accuracy measured on held-out data.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BUILTIN_WEIGHTS_FILE } from '../../src/engine/builtin';
import { scratchDir } from '../data/helpers';
import { repoRoot } from '../foundation/repoRoot';

test('ftlab demo fine-tunes the built-in model and reports measured accuracy before and after', { timeout: 240_000 }, (t) => {
  if (!existsSync(BUILTIN_WEIGHTS_FILE)) { t.skip('no built-in weights (ftlab pretrain makes them)'); return; }
  const out = join(scratchDir('demo'), 'run');
  const r = spawnSync(process.execPath, [join(repoRoot, 'bin', 'ftlab.js'), 'demo', '--out', out, '--epochs', '1'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /Q&A \(held out\)\s+\d+\.\d% \(\d+\/\d+\)\s+\d+\.\d% \(\d+\/\d+\)/);
  const report = JSON.parse(readFileSync(join(out, 'eval.json'), 'utf8'));
  for (const phase of ['before', 'after']) {
    for (const task of ['qa', 'general']) {
      const res = report.items[phase][task];
      assert.equal(res.items.length, report.counts[task]);
      assert.equal(res.correct, res.items.filter((i: { correct: boolean }) => i.correct).length);
      assert.equal(report[phase][task], res.correct / res.total);
    }
  }
  // Held out: no evaluated question is in the training file.
  const trained = new Set(readFileSync(join(out, 'qa-train.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).question));
  for (const it of report.items.before.qa.items) assert.ok(!trained.has(it.prompt.slice(3, -3)), it.prompt);
  assert.ok(existsSync(join(out, 'metrics.jsonl')));
});
