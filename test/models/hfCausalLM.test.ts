// causalLMFromHf beyond the goldens: layer indices, cache shape, and GPT-2 variants no golden covers
// (untied lm_head, n_inner != 4 * n_embd; other activations) against the plain float64 reference forward.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HfModelConfig, parseHfConfig } from '../../src/engine/checkpoint/hfConfig';
import { expectedParams } from '../../src/engine/checkpoint/hfModel';
import { FloatTensor } from '../../src/engine/checkpoint/safetensors';
import { causalLMFromHf } from '../../src/engine/models/hfCausalLM';
import { NnContext } from '../../src/engine/models/nn';
import { TypedArray, Value } from '../../src/engine/graph/graph';
import { normalRng } from '../../src/engine/random';
import { newBuilder, runGraph } from '../engine/harness';
import { referenceLogits } from '../checkpoint/referenceForward';
import { relErr } from './goldenHelpers';

const GPT2 = { model_type: 'gpt2', vocab_size: 40, n_positions: 12, n_embd: 16, n_layer: 2, n_head: 2 };
const LLAMA = { model_type: 'llama', vocab_size: 40, hidden_size: 16, intermediate_size: 24, num_hidden_layers: 3, num_attention_heads: 4, num_key_value_heads: 2 };

function randomTensors(config: HfModelConfig, seed: number): Map<string, FloatTensor> {
  const r = normalRng(seed);
  return new Map(expectedParams(config).map((p) => {
    const data = Float32Array.from({ length: p.shape.reduce((a, b) => a * b, 1) }, () => (p.shape.length === 1 && p.name.endsWith('weight') ? 1 : 0) + 0.3 * r());
    return [p.name, { shape: p.shape, data }];
  }));
}

async function logits(config: HfModelConfig, tensors: Map<string, FloatTensor>, ids: number[][], dtype: 'float32' | 'float64' = 'float64'): Promise<Float64Array | Float32Array> {
  const lm = causalLMFromHf(config);
  const b = newBuilder();
  const pv = new Map(lm.params.map((p) => [p.name, b.input(p.name, dtype, p.shape)]));
  const x = b.input('ids', 'int64', [ids.length, ids[0].length]);
  const c: NnContext = { b, dtype, decompose: dtype === 'float64', dropoutKey: null, dropoutSites: 0 };
  const y = lm.forward(c, (n) => pv.get(n)!, x);
  const Arr = dtype === 'float64' ? Float64Array : Float32Array;
  const feeds = new Map<Value, TypedArray>([...pv].map(([n, v]) => [v, Arr.from(tensors.get(n)!.data)]));
  feeds.set(x, BigInt64Array.from(ids.flat(), BigInt));
  return (await runGraph(b, [y], feeds))[0] as Float64Array | Float32Array;
}

test('layer indices, cache shape and parameter names follow the checkpoint', () => {
  const g = causalLMFromHf(parseHfConfig(GPT2));
  assert.deepEqual([g.nLayers, g.kvHeads, g.headDim, g.maxPositions], [2, 2, 8, 12]);
  assert.deepEqual(['transformer.wte.weight', 'transformer.wpe.weight', 'transformer.h.0.ln_1.weight', 'transformer.h.1.mlp.c_proj.bias', 'transformer.ln_f.weight'].map(g.layerOf), [-1, -1, 0, 1, 2]);
  const l = causalLMFromHf(parseHfConfig({ ...LLAMA, head_dim: 6 }));
  assert.deepEqual([l.nLayers, l.kvHeads, l.headDim], [3, 2, 6]);
  assert.deepEqual(['model.embed_tokens.weight', 'model.layers.2.mlp.up_proj.weight', 'model.norm.weight', 'lm_head.weight'].map(l.layerOf), [-1, 2, 3, 3]);
  assert.deepEqual(l.params, expectedParams(parseHfConfig({ ...LLAMA, head_dim: 6 })));
});

test('GPT-2 with an untied lm_head and n_inner 40 matches the float64 reference forward; activations differ as they should', async () => {
  const config = parseHfConfig({ ...GPT2, tie_word_embeddings: false, n_inner: 40 });
  const tensors = randomTensors(config, 5);
  assert.ok(tensors.has('lm_head.weight'));
  const ids = [[1, 5, 9, 33, 2, 0], [7, 7, 3, 39, 21, 4]];
  const ours = await logits(config, tensors, ids);
  const ref = referenceLogits(config, tensors, ids).flat(2);
  // 1e-6 as for the goldens: ORT's 'extended' fusions of the decomposed float64 GELU/LayerNorm leave ~4e-9.
  assert.ok(relErr(ours, ref) < 1e-6, `logits: ${relErr(ours, ref)}`);
  // The same weights under the other activation functions (float32: exact GELU's Erf has no float64 kernel).
  const seen = new Set<string>();
  for (const act of ['gelu_new', 'gelu', 'relu', 'silu', 'quick_gelu']) {
    const y = await logits(parseHfConfig({ ...GPT2, tie_word_embeddings: false, n_inner: 40, activation_function: act }), tensors, ids, 'float32');
    assert.ok(y.every(Number.isFinite));
    seen.add(y.slice(0, 6).join());
  }
  assert.equal(seen.size, 5);
});

test('a Llama with head_dim != hidden/heads and untied head matches the float64 reference forward', async () => {
  const config = parseHfConfig({ ...LLAMA, head_dim: 6, rope_theta: 500 });
  const tensors = randomTensors(config, 9);
  const ids = [[1, 5, 9, 33, 2, 0, 17]];
  assert.ok(relErr(await logits(config, tensors, ids), referenceLogits(config, tensors, ids).flat(2)) < 1e-6);
});
