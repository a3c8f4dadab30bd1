// Host logic of the data surface without VS Code: the debounced, cancellable validation on save; the
// Custom… input checks; an experiment that failed before its first step is removed; Run again builds
// the same experiment; the walkthrough's demo copy.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { DEMO_QA_FILE } from '../../src/engine/builtin';
import { createExperiment } from '../../src/engine/experiment/runExperiment';
import { readExperiment } from '../../src/engine/experiment/experimentFile';
import { DebouncedTasks } from '../../src/extension/debouncedTasks';
import { copyDemoData } from '../../src/extension/demoData';
import { nothingTrained, removeIfNothingTrained } from '../../src/extension/emptyExperiment';
import { experimentLike } from '../../src/extension/runAgain';
import { checkNumber, customFields } from '../../src/extension/settingValidators';
import { scratchDir } from '../data/helpers';

const dir = scratchDir('ext-host');

test('debounced tasks: three saves in a row run once, with the last; a newer save aborts a running pass, whose result is dropped', async () => {
  const tasks = new DebouncedTasks<string>(20);
  const ran: number[] = [];
  const applied: number[] = [];
  for (const n of [1, 2, 3]) tasks.schedule('a.jsonl', async () => { ran.push(n); return n; }, (r) => applied.push(r));
  await sleep(60);
  assert.deepEqual(ran, [3]);
  assert.deepEqual(applied, [3]);

  let aborted = false;
  tasks.schedule('a.jsonl', (signal) => new Promise<number>((resolve) => {
    signal.addEventListener('abort', () => { aborted = true; });
    setTimeout(() => resolve(4), 80); // a slow pass that ignores the signal still has its result dropped
  }), (r) => applied.push(r));
  await sleep(40); // running now
  assert.deepEqual(tasks.busy, ['a.jsonl']);
  tasks.schedule('a.jsonl', async () => 5, (r) => applied.push(r));
  await sleep(120);
  assert.ok(aborted, 'the running pass was aborted');
  assert.deepEqual(applied, [3, 5]);

  tasks.schedule('b.csv', async () => 6, (r) => applied.push(r));
  tasks.cancel('b.csv');
  const errors: unknown[] = [];
  const failing = new DebouncedTasks<string>(5, (_k, e) => errors.push(e));
  failing.schedule('c.tsv', async () => { throw new Error('boom'); }, () => {});
  await sleep(40);
  assert.deepEqual(applied, [3, 5], 'a cancelled request never runs');
  assert.equal((errors[0] as Error).message, 'boom');
  assert.deepEqual(tasks.busy, []);
});

test('Custom… values are checked as typed', () => {
  const f = Object.fromEntries(customFields(257).map((x) => [x.key, x.check]));
  assert.equal(f.learningRate!('0.0001'), undefined);
  assert.match(f.learningRate!('0')!, /above 0/);
  assert.match(f.learningRate!('abc')!, /not a number/);
  assert.match(f.learningRate!(' ')!, /type the learning rate/);
  assert.match(f.numTrainEpochs!('2.5')!, /whole number/);
  assert.equal(f.perDeviceTrainBatchSize!('16'), undefined);
  assert.equal(f.maxLength!('257'), undefined);
  assert.match(f.maxLength!('258')!, /at most 257/);
  assert.equal(f.loraRank!('8'), undefined);
  assert.match(f.loraAlpha!('0')!, /above 0/);
  assert.equal(f.replayRatio!('0'), undefined);
  assert.match(f.replayRatio!('1')!, /below 1/);
  assert.match(f.validationSplit!('0.9')!, /at most 0.8/);
  assert.equal(checkNumber('1e-3', 'x', { min: 0, max: 1 }), undefined);
  assert.deepEqual(customFields(257).filter((x) => x.loraOnly).map((x) => x.key), ['loraRank', 'loraAlpha']);
});

test('an experiment with no step recorded is removed; one with a step is kept; Run again makes the same experiment', async () => {
  const data = join(dir, 'qa.jsonl');
  writeFileSync(data, readFileSync(DEMO_QA_FILE));
  const made = join(dir, 'experiments', 'one');
  await createExperiment({
    dir: made, baseModel: 'builtin', dataFile: data, validationSplit: 0.1, earlyStoppingPatience: 3, seed: 2, maxLength: 64,
    variants: [{ strategy: 'lora', name: 'lora', overrides: { learningRate: 0.003, loraRank: 4, loraAlpha: 8 } }, { strategy: 'full', name: 'full' }],
  });
  assert.ok(nothingTrained(made));
  const again = await experimentLike(join(made, 'runs', 'lora'), made, join(dir, 'experiments', 'two'));
  const spec = readExperiment(again);
  assert.deepEqual(spec.variants.map((v) => [v.name, v.strategy, v.overrides]), [['lora', 'lora', { learningRate: 0.003, loraRank: 4, loraAlpha: 8 }]]);
  assert.deepEqual([spec.dataFile, spec.validationSplit, spec.earlyStoppingPatience, spec.seed, spec.maxLength], [data, 0.1, 3, 2, 64]);

  mkdirSync(join(made, 'runs', 'full'), { recursive: true });
  writeFileSync(join(made, 'runs', 'full', 'metrics.jsonl'), '{"step":1}\n');
  assert.equal(removeIfNothingTrained(made), false, 'a step was recorded: kept');
  assert.ok(existsSync(made));
  assert.equal(removeIfNothingTrained(again), true);
  assert.ok(!existsSync(again));
  assert.equal(removeIfNothingTrained(join(dir, 'not-an-experiment')), false);
});

test('the demo copy: qa.jsonl and a prompts page of Q: lines; a second copy keeps the user\'s edits', () => {
  const root = join(dir, 'ws');
  mkdirSync(root);
  const { dataFile, promptsFile } = copyDemoData(root);
  assert.equal(readFileSync(dataFile, 'utf8'), readFileSync(DEMO_QA_FILE, 'utf8'));
  assert.equal(readFileSync(promptsFile, 'utf8').split('\n').filter((l) => /^Q: \S/.test(l)).length, 7);
  writeFileSync(dataFile, 'mine\n');
  copyDemoData(root);
  assert.equal(readFileSync(dataFile, 'utf8'), 'mine\n');
});
