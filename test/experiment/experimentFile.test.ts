// experiment.json across versions: the strategy presets replay general text and use L2-SP since
// version 2, so a version-1 variant without its own replayRatio / l2spWeight (trained by the presets of
// then) is read as 0 for both,
// and resuming or reporting it does not change what it trained with.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEMO_QA_FILE } from '../../src/engine/builtin';
import { createExperiment } from '../../src/engine/experiment/runExperiment';
import { EXPERIMENT_FILE, readExperiment } from '../../src/engine/experiment/experimentFile';
import { SAFE_L2SP_WEIGHT, SAFE_REPLAY_RATIO, effectiveSettings } from '../../src/engine/experiment/strategyPresets';
import { scratchDir } from '../data/helpers';

test('a version-1 experiment reads as the presets of then (no replay, no L2-SP); a new one gets the safe preset\'s guards', async () => {
  const dir = scratchDir('experiment-file');
  await createExperiment({ dir, baseModel: 'builtin', dataFile: DEMO_QA_FILE, variants: [{ strategy: 'full' }, { strategy: 'lora', overrides: { replayRatio: 0.25 } }] });
  const now = readExperiment(dir);
  assert.equal(now.version, 2);
  assert.equal(now.variants[0]!.overrides.replayRatio, undefined);
  assert.equal(effectiveSettings('full', now.variants[0]!.overrides).replayRatio, SAFE_REPLAY_RATIO);
  assert.equal(effectiveSettings('full', now.variants[0]!.overrides).l2spWeight, SAFE_L2SP_WEIGHT);
  assert.equal(effectiveSettings('lora', {}).l2spWeight, 0, 'LoRA has no L2-SP');
  assert.ok(SAFE_REPLAY_RATIO > 0 && SAFE_L2SP_WEIGHT > 0);

  const file = join(dir, EXPERIMENT_FILE);
  writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), version: 1 }));
  const old = readExperiment(dir);
  assert.equal(effectiveSettings('full', old.variants[0]!.overrides).replayRatio, 0);
  assert.equal(effectiveSettings('full', old.variants[0]!.overrides).l2spWeight, 0);
  assert.equal(effectiveSettings('lora', old.variants[1]!.overrides).replayRatio, 0.25, 'a replay share of its own is kept');
});
