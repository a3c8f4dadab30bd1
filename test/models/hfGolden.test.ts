// Every HF fixture against its PyTorch float64 golden (tools/reference/hf_ref.py): the checkpoint is
// loaded with loadHfModel, the model built by causalLMFromHf, and logits, loss and every gradient
// (by HF name) compared in float64 (1e-6) and float32 (1e-4), relative to each tensor's largest value.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadHfModel } from '../../src/engine/checkpoint/hfModel';
import { ropeInvFreq } from '../../src/engine/checkpoint/hfConfig';
import { causalLMFromHf } from '../../src/engine/models/hfCausalLM';
import { NnContext, crossEntropy } from '../../src/engine/models/nn';
import { gradients } from '../../src/engine/autodiff/autodiff';
import { TypedArray, Value } from '../../src/engine/graph/graph';
import { newBuilder, runGraph } from '../engine/harness';
import { GOLDEN_DIR, HF_FIXTURES, HF_FIXTURE_NAMES } from '../checkpoint/fixturePaths';
import { Nested, flat, hfTargets, relErr } from './goldenHelpers';

interface HfGolden {
  name: string;
  param_names: string[];
  input_ids: number[][];
  labels: number[][];
  loss: number;
  logits: Nested;
  grads: Record<string, Nested>;
  rope_inv_freq?: number[];
}

for (const name of HF_FIXTURE_NAMES) {
  const golden: HfGolden = JSON.parse(readFileSync(join(GOLDEN_DIR, `hf_${name}.json`), 'utf8'));
  for (const dtype of ['float64', 'float32'] as const) {
    const tol = dtype === 'float64' ? 1e-6 : 1e-4;
    test(`${name} ${dtype}: logits, loss and every gradient match PyTorch`, async () => {
      const hf = await loadHfModel(join(HF_FIXTURES, name));
      const lm = causalLMFromHf(hf.config);
      assert.deepEqual(lm.params.map((p) => p.name), golden.param_names, 'parameter names and order');
      if (hf.config.family === 'llama') {
        assert.ok(relErr(ropeInvFreq(hf.config), golden.rope_inv_freq!) < 1e-12, 'rope inv_freq');
      }
      const B = golden.input_ids.length, T = golden.input_ids[0].length;
      const b = newBuilder();
      const pv = new Map(lm.params.map((p) => [p.name, b.input(p.name, dtype, p.shape)]));
      const ids = b.input('ids', 'int64', [B, T]);
      const targets = b.input('targets', 'int64', [B, T]);
      const c: NnContext = { b, dtype, decompose: dtype === 'float64', dropoutKey: null, dropoutSites: 0 };
      const logits = lm.forward(c, (n) => pv.get(n)!, ids);
      const { loss } = crossEntropy(c, logits, targets);
      const grads = gradients(b, loss, [...pv.values()]);
      const Arr = dtype === 'float64' ? Float64Array : Float32Array;
      const feeds = new Map<Value, TypedArray>([...pv].map(([n, v]) => [v, Arr.from(hf.tensors.get(n)!.data)]));
      feeds.set(ids, BigInt64Array.from(golden.input_ids.flat(), BigInt));
      feeds.set(targets, hfTargets(golden.labels));
      const [l, lg, ...gs] = await runGraph(b, [loss, logits, ...[...pv.values()].map((v) => grads.get(v)!)], feeds);
      const lossErr = Math.abs((l as Float64Array)[0] - golden.loss) / golden.loss;
      assert.ok(lossErr < tol, `loss ${l[0]} vs PyTorch ${golden.loss}`);
      const le = relErr(lg as Float64Array, flat(golden.logits));
      assert.ok(le < tol, `logits: relative error ${le.toExponential(2)}`);
      lm.params.forEach((p, k) => {
        const e = relErr(gs[k] as Float64Array, flat(golden.grads[p.name]));
        assert.ok(e < tol, `gradient of ${p.name}: relative error ${e.toExponential(2)} > ${tol}`);
      });
    });
  }
}
