// The training worker as the extension runs it: a real worker_thread over dist/worker.js, typed
// protocol messages both ways, the built-in model, a real run folder.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EvalMetrics, Ready, RunFailed, RunFinished, RunStarted, StartRun, StepMetrics } from '../../src/protocol/messages';
import { BUILTIN_WEIGHTS_FILE, readGeneralEval } from '../../src/engine/builtin';
import { put, scratchDir } from '../data/helpers';
import { repoRoot } from '../foundation/repoRoot';

function talk(config: Record<string, unknown>, until: (m: unknown) => boolean): Promise<unknown[]> {
  const w = new Worker(join(repoRoot, 'dist', 'worker.js'));
  const seen: unknown[] = [];
  return new Promise((resolvePromise, reject) => {
    w.on('error', reject);
    w.on('message', (m: unknown) => {
      seen.push(m);
      if (Ready.is(m)) w.postMessage(StartRun.create(1, { config: config as never }));
      if (until(m) || (StartRun.isResponse(m) && 'error' in m)) { void w.terminate(); resolvePromise(seen); }
    });
  });
}

const QA = Array.from({ length: 10 }, (_, i) => JSON.stringify({ question: `What is ${i} plus ${i}?`, answer: `${2 * i}` })).join('\n') + '\n';

test('startRun trains the built-in model and reports runStarted, every step, runFinished', { timeout: 120_000 }, async (t) => {
  if (!existsSync(BUILTIN_WEIGHTS_FILE)) { t.skip('no built-in weights'); return; }
  const dir = scratchDir('worker');
  const runDir = join(dir, 'runs', 'first');
  const msgs = await talk({ runDir, dataFile: put(dir, 'qa.jsonl', QA), baseModel: 'builtin', strategy: 'frozen-embeddings', maxSteps: 3, validationSplit: 0.3 }, (m) => RunFinished.is(m) || RunFailed.is(m));
  const failed = msgs.find((m) => RunFailed.is(m));
  assert.equal(failed, undefined, JSON.stringify(failed));
  const started = msgs.find((m) => RunStarted.is(m));
  assert.ok(started && RunStarted.is(started));
  assert.deepEqual([started.params.runId, started.params.totalSteps, started.params.startStep], ['first', 3, 0]);
  assert.deepEqual(msgs.filter((m) => StepMetrics.is(m)).map((m) => (StepMetrics.is(m) ? m.params.step : -1)), [1, 2, 3]);
  const done = msgs.at(-1);
  assert.ok(RunFinished.is(done) && done.params.reason === 'completed' && done.params.step === 3);
  assert.equal(readFileSync(join(runDir, 'metrics.jsonl'), 'utf8').trim().split('\n').length, 3);
  assert.equal(JSON.parse(readFileSync(join(runDir, 'config.json'), 'utf8')).strategy, 'frozen-embeddings');
  // Accuracy before/after, measured on the held-out Q&A examples and the built-in general prompts.
  const acc = msgs.filter((m) => EvalMetrics.is(m) && m.params.metrics.accuracyBefore !== undefined).map((m) => (EvalMetrics.is(m) ? m.params : null)!);
  assert.deepEqual(acc.map((a) => a.split), ['qa', 'general']);
  for (const a of acc) for (const k of ['accuracyBefore', 'accuracyAfter']) assert.ok(a.metrics[k] >= 0 && a.metrics[k] <= 1, `${a.split} ${k}`);
  assert.equal(acc[1].metrics.count, readGeneralEval().length);
  const report = JSON.parse(readFileSync(join(runDir, 'eval.json'), 'utf8'));
  assert.deepEqual(report.accuracy.map((r: { task: string; count: number }) => r.task), ['qa', 'general']);
  assert.ok(msgs.some((m) => EvalMetrics.is(m) && m.params.split === 'validation'), 'validation loss reported');
});

test('a bad record becomes runFailed with file, line and fix; a bad config is an error response', { timeout: 60_000 }, async (t) => {
  if (!existsSync(BUILTIN_WEIGHTS_FILE)) { t.skip('no built-in weights'); return; }
  const dir = scratchDir('worker-bad');
  const bad = put(dir, 'bad.jsonl', QA + '{"question": "What is red?"\n');
  const msgs = await talk({ runDir: join(dir, 'run'), dataFile: bad, baseModel: 'builtin', maxSteps: 2 }, (m) => RunFinished.is(m) || RunFailed.is(m));
  const f = msgs.at(-1);
  assert.ok(RunFailed.is(f), JSON.stringify(f));
  assert.equal(f.params.file, bad);
  assert.equal(f.params.line, 11);
  assert.ok(f.params.fix);
  const cfgErr = await talk({ runDir: join(dir, 'run2'), dataFile: bad, strategy: 'qlora' }, () => false);
  const resp = cfgErr.find((m) => StartRun.isResponse(m));
  assert.ok(resp && StartRun.isResponse(resp) && 'error' in resp && /strategy/.test(resp.error!.message), JSON.stringify(resp));
});

test('generate answers a prompt with the built-in model and with a run; a missing run is an error response', { timeout: 60_000 }, async (t) => {
  if (!existsSync(BUILTIN_WEIGHTS_FILE)) { t.skip('no built-in weights'); return; }
  const { Generate } = await import('../../src/protocol/messages');
  const dir = scratchDir('worker-gen');
  const runDir = join(dir, 'run');
  await talk({ runDir, dataFile: put(dir, 'qa.jsonl', QA), baseModel: 'builtin', maxSteps: 2 }, (m) => RunFinished.is(m) || RunFailed.is(m));
  const w = new Worker(join(repoRoot, 'dist', 'worker.js'));
  const ask = (id: number, params: { model: string; run?: string; prompt: string }) => new Promise<unknown>((resolveAsk) => {
    const on = (m: unknown) => { if (Generate.isResponse(m) && m.id === id) { w.off('message', on); resolveAsk(m); } };
    w.on('message', on);
    w.postMessage(Generate.create(id, params));
  });
  try {
    const base = await ask(1, { model: 'builtin', prompt: 'The capital of France is' });
    assert.ok(Generate.isResponse(base) && 'result' in base && typeof base.result.text === 'string' && !base.result.text.includes('\n'), JSON.stringify(base));
    const tuned = await ask(2, { model: 'builtin', run: runDir, prompt: 'Q: What is 3 plus 3?\nA:' });
    assert.ok(Generate.isResponse(tuned) && 'result' in tuned, JSON.stringify(tuned));
    const missing = await ask(3, { model: 'builtin', run: join(dir, 'nope'), prompt: 'x' });
    assert.ok(Generate.isResponse(missing) && 'error' in missing && /not a run folder/.test(missing.error!.message), JSON.stringify(missing));
  } finally {
    await w.terminate();
  }
});
