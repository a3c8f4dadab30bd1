// src/engine/builtin.ts: the assets are found from any bundle location, and a missing file is an error
// that says what is missing and what to do.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import {
  BUILTIN_CORPUS_FILES, BUILTIN_MODEL_DIR, DEMO_GENERAL_EVAL_FILE, DEMO_QA_FILE, PACKAGE_ROOT, findPackageRoot,
  missingBuiltinModelFiles, readDemoQa, requireBuiltinModel,
} from '../../src/engine/builtin';
import { CheckpointError } from '../../src/engine/checkpoint/checkpointError';
import { repoRoot } from '../foundation/repoRoot';

const scratch = mkdtempSync(join(tmpdir(), 'ftlab-builtin-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

test('from out/test/builtin, the package root is the repository', () => {
  assert.equal(PACKAGE_ROOT, repoRoot);
  assert.equal(BUILTIN_MODEL_DIR, join(repoRoot, 'assets', 'base-model'));
  assert.equal(DEMO_QA_FILE, join(repoRoot, 'assets', 'demo', 'qa.jsonl'));
  assert.equal(DEMO_GENERAL_EVAL_FILE, join(repoRoot, 'assets', 'demo', 'general_eval.jsonl'));
  assert.equal(BUILTIN_CORPUS_FILES.length, 5);
});

test('findPackageRoot walks up from dist/ or out/test/x/ to the package.json named finetune-lab', () => {
  const root = join(scratch, 'ext');
  mkdirSync(join(root, 'dist'), { recursive: true });
  mkdirSync(join(root, 'out', 'test', 'builtin'), { recursive: true });
  mkdirSync(join(root, 'node_modules', 'other'), { recursive: true });
  writeFileSync(join(root, 'package.json'), JSON.stringify({ name: 'finetune-lab' }));
  writeFileSync(join(root, 'node_modules', 'other', 'package.json'), JSON.stringify({ name: 'other' }));
  assert.equal(findPackageRoot(join(root, 'dist')), root);
  assert.equal(findPackageRoot(join(root, 'out', 'test', 'builtin')), root);
  assert.equal(findPackageRoot(join(root, 'node_modules', 'other')), root, "another package's package.json is passed by");
});

test('the model folder has everything but, until pretraining, the weights', () => {
  assert.deepEqual(missingBuiltinModelFiles().filter((f) => f !== 'model.safetensors'), []);
});

test('requireBuiltinModel names what is missing and how to get it', () => {
  const dir = join(scratch, 'model');
  mkdirSync(dir, { recursive: true });
  for (const f of ['config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json']) writeFileSync(join(dir, f), '{}');
  assert.throws(() => requireBuiltinModel(dir), (e: unknown) => e instanceof CheckpointError && /model\.safetensors/.test(e.message) && /ftlab pretrain/.test(e.message));
  writeFileSync(join(dir, 'model.safetensors'), '');
  assert.equal(requireBuiltinModel(dir), dir);
  rmSync(join(dir, 'tokenizer.json'));
  assert.throws(() => requireBuiltinModel(dir), /missing tokenizer\.json: reinstall/);
});

test('readDemoQa reports a broken line with its number', () => {
  const f = join(scratch, 'qa.jsonl');
  writeFileSync(f, '{"question":"Q?","answer":"A","category":"c","subject":"s","fact":"f"}\n{"question":"Q2?"}\n');
  assert.throws(() => readDemoQa(f), /qa\.jsonl:2 has no "answer"/);
  writeFileSync(f, '{"question":"Q?","answer":"A","category":"c","subject":"s","fact":"f"}\n\n');
  assert.equal(readDemoQa(f).length, 1);
});
