// config.json: what train() writes reads back equal; every kind of bad field is refused with its
// path; a newer version is refused by version; the previous release's file (no format/version,
// fewer training settings) still reads.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TRAINING_DEFAULTS } from '../../src/engine/train/trainer';
import { RunFolderError } from '../../src/engine/runs/runFolder';
import { RunSettings, readRunConfig, writeRunConfig } from '../../src/engine/runs/runConfig';
import { scratchDir } from '../data/helpers';

const SETTINGS: RunSettings = {
  command: 'train', strategy: 'lora', preset: 'safe', dataSource: '/data/qa.jsonl',
  baseModel: { dir: '/models/gpt2', family: 'gpt2', builtin: false },
  model: { family: 'gpt2', parameters: 124_000, trainable: 4, frozen: ['wte.weight', 'wpe.weight'] },
  lora: { rank: 8, alpha: 16, targetModules: ['c_attn'], adapters: ['h.0.attn.c_attn', 'h.1.attn.c_attn'] },
  training: { ...TRAINING_DEFAULTS, learningRate: 3e-3, totalSteps: 30, stepsPerEpoch: 10, sequenceLength: 15, trainExamples: 60, replay: { dir: '/r', ratio: 0.25, rowsPerBatch: 2 } },
  data: { dir: '/run/data' },
};

function runWith(config: unknown): string {
  const dir = scratchDir('runcfg');
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  return dir;
}

function written(): Record<string, unknown> {
  const dir = scratchDir('runcfg');
  writeRunConfig(dir, SETTINGS);
  return JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
}

test('writeRunConfig adds format, version and createdAt; readRunConfig reads back the same object', () => {
  const dir = scratchDir('runcfg');
  const w = writeRunConfig(dir, { ...SETTINGS, label: 'first try', experiment: { dir: '/exp', variant: 'lora-r8' } });
  assert.equal(w.format, 'ftlab-run');
  assert.equal(w.version, 1);
  assert.ok(Date.now() - Date.parse(w.createdAt) < 60_000);
  assert.deepEqual(readRunConfig(dir), w);
  const raw = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  assert.deepEqual(Object.keys(raw).slice(0, 2), ['format', 'version'], 'format and version open the file');
});

test('unknown extra fields are kept (a newer writer may add some)', () => {
  const c = { ...written(), futureThing: { a: 1 }, training: { ...(written().training as object), someNewFlag: true } };
  const r = readRunConfig(runWith(c)) as unknown as Record<string, unknown>;
  assert.deepEqual(r.futureThing, { a: 1 });
});

const BAD: { name: string; edit: (c: Record<string, any>) => void; path: string; says: RegExp }[] = [
  { name: 'a wrong type', edit: (c) => { c.training.learningRate = 'fast'; }, path: 'training.learningRate', says: /must be a finite number, got "fast"/ },
  { name: 'a missing required field', edit: (c) => { delete c.data.dir; }, path: 'data.dir', says: /it is missing/ },
  { name: 'a missing section', edit: (c) => { delete c.model; }, path: 'model', says: /must be an object \(it is missing\)/ },
  { name: 'a bad list item', edit: (c) => { c.model.frozen[1] = 7; }, path: 'model.frozen[1]', says: /must be a string, got 7/ },
  { name: 'a word outside its set', edit: (c) => { c.training.lrSchedulerType = 'exp'; }, path: 'training.lrSchedulerType', says: /"linear" \| "cosine"/ },
  { name: 'a negative count', edit: (c) => { c.lora.rank = -1; }, path: 'lora.rank', says: /whole number >= 0/ },
  { name: 'a bad optional object', edit: (c) => { c.baseModel = { family: 'gpt2' }; }, path: 'baseModel.dir', says: /it is missing/ },
  { name: 'a half experiment link', edit: (c) => { c.experiment = { dir: '/exp' }; }, path: 'experiment.variant', says: /it is missing/ },
  { name: 'a bad date', edit: (c) => { c.createdAt = 'yesterday'; }, path: 'createdAt', says: /ISO date-time/ },
  { name: 'another format', edit: (c) => { c.format = 'something-else'; }, path: 'format', says: /"ftlab-run"/ },
  { name: 'a bad nested optional', edit: (c) => { c.training.replay.rowsPerBatch = 1.5; }, path: 'training.replay.rowsPerBatch', says: /whole number/ },
  { name: 'a dropout that is neither a number nor null', edit: (c) => { c.training.dropout = 'none'; }, path: 'training.dropout', says: /finite number/ },
];

for (const b of BAD) {
  test(`config.json with ${b.name} is refused, naming the file and ${b.path}`, () => {
    const c = structuredClone(written());
    b.edit(c);
    const dir = runWith(c);
    assert.throws(() => readRunConfig(dir), (err: unknown) => {
      assert.ok(err instanceof RunFolderError, String(err));
      assert.equal(err.code, 'bad-field');
      assert.equal(err.field, b.path);
      assert.equal(err.file, join(dir, 'config.json'));
      assert.ok(err.message.startsWith(`${join(dir, 'config.json')}: "${b.path}"`), err.message);
      assert.match(err.message, b.says);
      assert.match(err.message, /restore it|train the run again/);
      return true;
    });
  });
}

test('config.json that is missing, not JSON, not an object, or from a newer version: each its own code', () => {
  const empty = scratchDir('runcfg');
  assert.throws(() => readRunConfig(empty), (e: unknown) => e instanceof RunFolderError && e.code === 'missing' && /is not a run folder/.test(e.message));
  const notJson = scratchDir('runcfg');
  writeFileSync(join(notJson, 'config.json'), '{"format": "ftlab-run",');
  assert.throws(() => readRunConfig(notJson), (e: unknown) => e instanceof RunFolderError && e.code === 'not-json');
  assert.throws(() => readRunConfig(runWith([1, 2])), (e: unknown) => e instanceof RunFolderError && e.field === '(top level)' && /must be an object/.test(e.message));
  assert.throws(() => readRunConfig(runWith({ ...written(), version: 2 })), (e: unknown) => e instanceof RunFolderError && e.code === 'newer-version' && /update Fine-Tune Lab/.test(e.message));
});

test("the previous release's config.json (no format/version, fewer training settings) reads as version 0 with defaults filled in", () => {
  const old = written();
  delete old.format;
  delete old.version;
  const training = old.training as Record<string, unknown>;
  delete training.l2spWeight;
  delete training.earlyStoppingPatience;
  const r = readRunConfig(runWith(old));
  assert.equal(r.format, 'ftlab-run');
  assert.equal(r.version, 0);
  assert.equal(r.training.l2spWeight, TRAINING_DEFAULTS.l2spWeight);
  assert.equal(r.training.earlyStoppingPatience, TRAINING_DEFAULTS.earlyStoppingPatience);
  assert.equal(r.training.learningRate, 3e-3, 'what the file says wins over defaults');
  assert.equal(r.lora?.rank, 8);
});

test('writeRunConfig refuses a description the readers would refuse, and writes nothing', () => {
  const dir = scratchDir('runcfg');
  assert.throws(() => writeRunConfig(dir, { ...SETTINGS, baseModel: { dir: 3 } as never }), (e: unknown) => e instanceof RunFolderError && e.field === 'baseModel.dir');
  assert.throws(() => readRunConfig(dir), (e: unknown) => e instanceof RunFolderError && e.code === 'missing');
});

test('on resume, the earlier createdAt, label and experiment link are kept unless given anew', async () => {
  const dir = scratchDir('runcfg');
  const first = writeRunConfig(dir, { ...SETTINGS, label: 'mine', experiment: { dir: '/exp', variant: 'a' } });
  await new Promise((r) => setTimeout(r, 5));
  const resumed = writeRunConfig(dir, { ...SETTINGS, training: { ...SETTINGS.training, maxSteps: 50 } }, { resume: true });
  assert.equal(resumed.createdAt, first.createdAt);
  assert.equal(resumed.label, 'mine');
  assert.deepEqual(resumed.experiment, { dir: '/exp', variant: 'a' });
  assert.equal(resumed.training.maxSteps, 50);
  const relabelled = writeRunConfig(dir, { ...SETTINGS, label: 'renamed' }, { resume: true });
  assert.equal(relabelled.label, 'renamed');
  const fresh = writeRunConfig(dir, SETTINGS);
  assert.equal(fresh.label, undefined, 'a new run (overwrite) keeps nothing');
  assert.notEqual(fresh.createdAt, first.createdAt);
});
