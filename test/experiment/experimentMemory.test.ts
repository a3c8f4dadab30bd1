// An experiment's memory before it runs: each variant's estimate from the run's own estimate (what
// Fine-tune model shows and warns about), and `ftlab experiment` refusing a variant that does not
// fit, then training it with --ignore-memory-estimate (what the extension's "Train anyway" passes).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { BUILTIN_WEIGHTS_FILE, DEMO_QA_FILE } from '../../src/engine/builtin';
import { estimateExperimentMemory } from '../../src/engine/experiment/experimentMemory';
import { createExperiment } from '../../src/engine/experiment/runExperiment';
import { readRunStatus } from '../../src/engine/runs/runStatus';
import { scratchDir } from '../data/helpers';
import { repoRoot } from '../foundation/repoRoot';

const head = (file: string, n: number) => readFileSync(file, 'utf8').split('\n').filter(Boolean).slice(0, n).join('\n') + '\n';

function withAvailable<T>(size: string, f: () => Promise<T>): Promise<T> {
  const before = process.env.FTLAB_AVAILABLE_MEMORY;
  process.env.FTLAB_AVAILABLE_MEMORY = size;
  return f().finally(() => {
    if (before === undefined) delete process.env.FTLAB_AVAILABLE_MEMORY;
    else process.env.FTLAB_AVAILABLE_MEMORY = before;
  });
}

test('estimateExperimentMemory: one estimate per variant, LoRA below full, judged against the memory available', async () => {
  const dir = scratchDir('experiment-memory');
  const data = join(dir, 'qa.jsonl');
  writeFileSync(data, head(DEMO_QA_FILE, 12));
  const exp = join(dir, 'exp');
  await createExperiment({
    dir: exp, baseModel: 'builtin', dataFile: data, testSplit: 0, generalPrompts: null, generalText: null,
    variants: [{ strategy: 'full', name: 'full', overrides: { perDeviceTrainBatchSize: 8 } }, { strategy: 'lora', name: 'lora', overrides: { perDeviceTrainBatchSize: 8 } }],
  });
  const roomy = await withAvailable('64G', () => estimateExperimentMemory(exp));
  assert.deepEqual(roomy.available, { bytes: 64 * 2 ** 30, source: 'FTLAB_AVAILABLE_MEMORY' });
  assert.deepEqual(roomy.variants.map((v) => [v.name, v.strategy, v.fits, v.finished]), [['full', 'full', true, false], ['lora', 'lora', true, false]]);
  const [full, lora] = roomy.variants;
  assert.ok(lora!.estimate.peakBytes < full!.estimate.peakBytes, 'LoRA keeps no optimizer state for the frozen weights');
  assert.equal(full!.estimate.basis.batchSize, 8, 'the variant\'s own batch size');
  assert.ok(existsSync(join(exp, 'data', 'manifest.json')) || existsSync(join(exp, 'data')), 'the data is prepared in the experiment (the run reuses it)');
  const tight = await withAvailable(`${Math.floor((lora!.estimate.peakBytes + full!.estimate.peakBytes) / 2)}`, () => estimateExperimentMemory(exp));
  assert.deepEqual(tight.variants.map((v) => v.fits), [false, true]);
});

test('ftlab experiment refuses a variant over the memory available, saying what to lower; --ignore-memory-estimate trains it', { timeout: 300_000 }, async (t) => {
  if (!existsSync(BUILTIN_WEIGHTS_FILE)) { t.skip('no built-in weights (ftlab pretrain makes them)'); return; }
  const dir = scratchDir('experiment-memory-cli');
  const data = join(dir, 'qa.jsonl');
  writeFileSync(data, head(DEMO_QA_FILE, 12));
  const exp = join(dir, 'exp');
  const run = (args: string[]) => spawnSync(process.execPath, [join(repoRoot, 'bin', 'ftlab.js'), 'experiment', '--quiet', ...args], {
    encoding: 'utf8', env: { ...process.env, FTLAB_AVAILABLE_MEMORY: '100M' },
  });
  const refused = run(['--data', data, '--strategies', 'full', '--max-steps', '1', '--test-split', '0', '--general-prompts', 'none', '--general-text', 'none', '--trained-sample', '2', '--threads', '1', '--out', exp]);
  assert.equal(refused.status, 1, refused.stderr);
  assert.match(refused.stderr, /more than the 100 MiB available \(FTLAB_AVAILABLE_MEMORY\)/);
  assert.match(refused.stderr, /--ignore-memory-estimate/);
  const status = readRunStatus(join(exp, 'runs', 'full-steps1'));
  assert.equal(status.state, 'failed');
  assert.equal(status.error?.code, 'memory-estimate-exceeds-available');

  const forced = run(['--resume', exp, '--ignore-memory-estimate', '--threads', '1']);
  assert.equal(forced.status, 0, forced.stderr);
  assert.equal(readRunStatus(join(exp, 'runs', 'full-steps1')).state, 'finished');
  // Resuming it again would train nothing: the extension leaves finished variants out of its check.
  assert.deepEqual((await estimateExperimentMemory(exp)).variants.map((v) => [v.name, v.finished]), [['full-steps1', true]]);
});
