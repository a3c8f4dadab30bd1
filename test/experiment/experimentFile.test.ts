// experiment.json across versions: the strategy presets replay general text since version 2, so a
// version-1 variant without its own replayRatio (trained by the presets of then) is read as replay 0,
// and resuming or reporting it does not change what it trained with.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEMO_QA_FILE } from '../../src/engine/builtin';
import { createExperiment } from '../../src/engine/experiment/runExperiment';
import { EXPERIMENT_FILE, readExperiment } from '../../src/engine/experiment/experimentFile';
import { SAFE_REPLAY_RATIO, effectiveSettings } from '../../src/engine/experiment/strategyPresets';
import { scratchDir } from '../data/helpers';

test('a version-1 experiment reads as the presets of then (no replay); a new one gets the safe preset\'s replay', async () => {
  const dir = scratchDir('experiment-file');
  await createExperiment({ dir, baseModel: 'builtin', dataFile: DEMO_QA_FILE, variants: [{ strategy: 'full' }, { strategy: 'lora', overrides: { replayRatio: 0.25 } }] });
  const now = readExperiment(dir);
  assert.equal(now.version, 2);
  assert.equal(now.variants[0]!.overrides.replayRatio, undefined);
  assert.equal(effectiveSettings('full', now.variants[0]!.overrides).replayRatio, SAFE_REPLAY_RATIO);
  assert.ok(SAFE_REPLAY_RATIO > 0);

  const file = join(dir, EXPERIMENT_FILE);
  writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), version: 1 }));
  const old = readExperiment(dir);
  assert.equal(effectiveSettings('full', old.variants[0]!.overrides).replayRatio, 0);
  assert.equal(effectiveSettings('lora', old.variants[1]!.overrides).replayRatio, 0.25, 'a replay share of its own is kept');
});
