// One causal mask per graph (issue 11): the [T, T] additive mask is a constant built once per sequence
// length and shared by every layer, in the training step (K = 1 and the K-step Loop, float32 and float64)
// and in the decode graph's prefill chunk. The values themselves are checked by the golden tests.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadHfModel } from '../../src/engine/checkpoint/hfModel';
import { buildDecodeGraph } from '../../src/engine/generate/decodeGraph';
import type { Graph } from '../../src/engine/graph/graph';
import { causalLMFromHf } from '../../src/engine/models/hfCausalLM';
import { buildTrainStep, type TrainStepConfig } from '../../src/engine/train/trainStep';
import { HF_FIXTURES } from '../checkpoint/fixturePaths';

/** Constants of the graph with this shape, and the data of the first. */
function constantsShaped(g: Graph, shape: number[]) {
  return g.root().constants.filter((c) => c.value.shape.length === shape.length && c.value.shape.every((d, i) => d === shape[i]));
}

for (const name of ['gpt2_tiny', 'llama_gqa_tiny'] as const) {
  test(`${name}: a training graph holds one [T, T] causal mask, whatever the layers, dtype and steps per run`, async () => {
    const hf = await loadHfModel(join(HF_FIXTURES, name));
    const lm = causalLMFromHf(hf.config);
    assert.ok(lm.nLayers >= 2, 'a model of several layers');
    const T = 6;
    for (const [dtype, stepsPerRun] of [['float32', 1], ['float64', 1], ['float32', 3]] as const) {
      const cfg: TrainStepConfig = {
        dtype, groups: [{ name: 'all', params: lm.params, weightDecay: 0, lrScale: 1 }], frozen: [], batchSize: 2, seqLen: T,
        microBatches: 1, stepsPerRun, optimizer: { kind: 'adamw', beta1: 0.9, beta2: 0.999, eps: 1e-8 }, maxGradNorm: 1, dropout: false,
        decompose: dtype === 'float64', forward: (c, p, ids) => lm.forward(c, p, ids),
      };
      const masks = constantsShaped(buildTrainStep(cfg).graph, [T, T]);
      assert.equal(masks.length, 1, `${dtype}, ${stepsPerRun} steps per run: ${masks.length} [${T}, ${T}] constants`);
      const m = Array.from(masks[0]!.data as Float32Array);
      assert.deepEqual(m.slice(0, T), [0, -1e9, -1e9, -1e9, -1e9, -1e9].map((v) => Math.fround(v)));
      assert.deepEqual(m.slice((T - 1) * T), new Array(T).fill(0));
    }
  });
}

test('the decode graph of a prompt chunk holds one chunk mask for all layers', async () => {
  const hf = await loadHfModel(join(HF_FIXTURES, 'llama_gqa_tiny'));
  const lm = causalLMFromHf(hf.config);
  const S = 10, rep = hf.config.family === 'llama' ? hf.config.numAttentionHeads / hf.config.numKeyValueHeads : 1;
  const d = buildDecodeGraph(lm, { batch: 1, chunk: S, capacity: 16, cacheOutput: 'new', logitsOf: 'last' });
  assert.equal(constantsShaped(d.graph, [rep * S, S]).length, 1);
});
