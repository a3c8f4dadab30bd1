// `ftlab experiment` end to end on the built-in model with tiny sets and capped steps: every variant in
// its own process, report.json valid against its schema, and an experiment whose variants are killed
// with SIGKILL mid-training resumes to the same losses and the same answers as an uninterrupted one.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BUILTIN_WEIGHTS_FILE, DEMO_GENERAL_EVAL_FILE, DEMO_QA_FILE, DEMO_QA_TEST_FILE } from '../../src/engine/builtin';
import { parseReportText } from '../../src/engine/experiment/report';
import { readRunStatus } from '../../src/engine/runs/runStatus';
import { scratchDir } from '../data/helpers';
import { repoRoot } from '../foundation/repoRoot';

const head = (file: string, n: number) => readFileSync(file, 'utf8').split('\n').filter(Boolean).slice(0, n).join('\n') + '\n';

function tinySets(dir: string) {
  const files = { data: join(dir, 'qa.jsonl'), test: join(dir, 'qa_test.jsonl'), general: join(dir, 'general.jsonl'), text: join(dir, 'text.txt') };
  writeFileSync(files.data, head(DEMO_QA_FILE, 40));
  writeFileSync(files.test, head(DEMO_QA_TEST_FILE, 12));
  writeFileSync(files.general, head(DEMO_GENERAL_EVAL_FILE, 16));
  writeFileSync(files.text, 'The cat sat on the mat. It was a warm day, and the children played in the garden.\n\nRivers flow to the sea. Most rain falls in the mountains.\n');
  return files;
}

function experiment(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [join(repoRoot, 'bin', 'ftlab.js'), 'experiment', '--quiet', ...args], { encoding: 'utf8', env: { ...process.env, ...env } });
}

const ARGS = (f: ReturnType<typeof tinySets>, out: string) => [
  '--data', f.data, '--test-data', f.test, '--general-prompts', f.general, '--general-text', f.text, '--trained-sample', '8',
  '--strategies', 'full,lora', '--max-steps', '30', '--threads', '1', '--out', out,
];

test('ftlab experiment: two strategies, each in its own process, a valid report; killed mid-variant, it resumes to the same result', { timeout: 600_000 }, (t) => {
  if (!existsSync(BUILTIN_WEIGHTS_FILE)) { t.skip('no built-in weights (ftlab pretrain makes them)'); return; }
  const dir = scratchDir('experiment');
  const f = tinySets(dir);

  const a = join(dir, 'uninterrupted');
  const ra = experiment(ARGS(f, a));
  assert.equal(ra.status, 0, ra.stderr);
  assert.match(ra.stdout, /full-steps30\s+\d+\.\d% \(\d+\/12\) → \d+\.\d% \(\d+\/12\)/);
  const report = parseReportText(readFileSync(join(a, 'report.json'), 'utf8'), join(a, 'report.json'));
  assert.deepEqual(report.variants.map((v) => [v.name, v.strategy, v.status]), [['full-steps30', 'full', 'finished'], ['lora-steps30', 'lora', 'finished']]);
  for (const v of report.variants) {
    assert.equal(v.lossCurve.length, 30);
    assert.equal(v.accuracy.task.before!.total, 12);
    assert.equal(v.accuracy.task.after!.total, 12);
    assert.equal(v.accuracy.taskTrained.after!.total, 8);
    assert.equal(v.accuracy.general.after!.total, 16);
    assert.ok(v.perplexity.general.before! > 1 && v.perplexity.general.after! > 1);
    assert.ok(v.peakMemoryBytes! > 50e6, 'peak memory of the variant process');
  }
  assert.deepEqual(report.variants[0].accuracy.task.before, report.variants[1].accuracy.task.before, 'one baseline for all variants');
  assert.ok(report.variants[1].trainableParameters < report.variants[0].trainableParameters / 10, 'LoRA trains a small share');
  assert.equal(report.variants[1].settings.learningRate, 2e-3, 'LoRA preset learning rate');
  const html = readFileSync(join(a, 'report.html'), 'utf8');
  assert.doesNotMatch(html, /(src|href)=["']https?:/);

  // Every variant process is killed with SIGKILL at step 27 (after the checkpoint of step 25).
  const b = join(dir, 'killed');
  const rb = experiment(ARGS(f, b), { FTLAB_KILL_AT_STEP: '27' });
  assert.notEqual(rb.status, 0);
  for (const v of ['full-steps30', 'lora-steps30']) {
    const st = readRunStatus(join(b, 'runs', v));
    // The launcher saw its process killed and says so; the checkpoint of step 25 stays for the resume.
    assert.equal(st.state, 'failed', `${v}: ${JSON.stringify(st)}`);
    assert.match(st.error?.message ?? '', /killed \(SIGKILL\): out of memory, or ended from outside/);
    assert.equal(st.error?.code, 'SIGKILL');
  }
  const rc = experiment(['--resume', b]);
  assert.equal(rc.status, 0, rc.stderr);
  for (const v of ['full-steps30', 'lora-steps30']) {
    const losses = (d: string) => readFileSync(join(d, 'runs', v, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).loss as number);
    assert.deepEqual(losses(b), losses(a), `${v}: per-step losses`);
    const outcome = (d: string) => JSON.parse(readFileSync(join(d, 'runs', v, 'outcome.json'), 'utf8')) as { evaluation: { task: { items: { output: string }[] }; general: { correct: number } }; training: { resumedFromStep: number | null } };
    assert.deepEqual(outcome(b).evaluation.task.items.map((i) => i.output), outcome(a).evaluation.task.items.map((i) => i.output), `${v}: answers`);
    assert.equal(outcome(b).evaluation.general.correct, outcome(a).evaluation.general.correct);
    assert.equal(outcome(b).training.resumedFromStep, 25);
  }
});
