// A Llama checkpoint through the compiled training step (buildTrainStep + TrainStepRunner) against
// torch.optim.AdamW (test/golden/hf_llama_gqa_tiny_adamw.json, tools/reference/hf_ref.py): weights
// after one step and the loss before each of three steps, float64 (1e-6) and float32 (1e-4).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadHfModel } from '../../src/engine/checkpoint/hfModel';
import { causalLMFromHf } from '../../src/engine/models/hfCausalLM';
import { TrainStepConfig, buildTrainStep } from '../../src/engine/train/trainStep';
import { TrainStepRunner } from '../../src/engine/train/trainRunner';
import { GOLDEN_DIR, HF_FIXTURES } from '../checkpoint/fixturePaths';
import { Nested, flat, hfTargets, relErr } from './goldenHelpers';

interface AdamwGolden {
  optimizer: { lr: number; betas: [number, number]; eps: number; weight_decay: number; steps: number };
  losses_before_each_step: number[];
  weights_after_step1: Record<string, Nested>;
}
const NAME = 'llama_gqa_tiny';
const adamw: AdamwGolden = JSON.parse(readFileSync(join(GOLDEN_DIR, `hf_${NAME}_adamw.json`), 'utf8'));
const golden: { input_ids: number[][]; labels: number[][]; grads: Record<string, Nested> } = JSON.parse(readFileSync(join(GOLDEN_DIR, `hf_${NAME}.json`), 'utf8'));

for (const dtype of ['float64', 'float32'] as const) {
  const tol = dtype === 'float64' ? 1e-6 : 1e-4;
  test(`${NAME} ${dtype}: AdamW steps through the training-step compiler match torch.optim.AdamW`, async () => {
    const hf = await loadHfModel(join(HF_FIXTURES, NAME));
    const lm = causalLMFromHf(hf.config);
    const o = adamw.optimizer;
    const B = golden.input_ids.length, T = golden.input_ids[0].length;
    const cfg: TrainStepConfig = {
      dtype,
      groups: [
        { name: 'decay', params: lm.params.filter((p) => p.shape.length >= 2), weightDecay: o.weight_decay, lrScale: 1 },
        { name: 'no_decay', params: lm.params.filter((p) => p.shape.length < 2), weightDecay: 0, lrScale: 1 },
      ],
      frozen: [], batchSize: B, seqLen: T, microBatches: 1, stepsPerRun: 1,
      optimizer: { kind: 'adamw', beta1: o.betas[0], beta2: o.betas[1], eps: o.eps }, maxGradNorm: 0, dropout: false,
      decompose: dtype === 'float64', forward: (c, p, ids) => lm.forward(c, p, ids),
    };
    const Arr = dtype === 'float64' ? Float64Array : Float32Array;
    const init = new Map([...hf.tensors].map(([n, t]) => [n, Arr.from(t.data)]));
    const runner = await TrainStepRunner.create(cfg, buildTrainStep(cfg), init);
    const batch = { inputIds: BigInt64Array.from(golden.input_ids.flat(), BigInt), targets: hfTargets(golden.labels) };
    for (let s = 1; s <= o.steps; s++) {
      const r = await runner.run(batch, [o.lr], [s]);
      const ref = adamw.losses_before_each_step[s - 1];
      assert.ok(Math.abs(r.loss[0] - ref) / ref < tol, `loss before step ${s}: ${r.loss[0]} vs PyTorch ${ref}`);
      if (s > 1) continue;
      for (const p of lm.params) {
        // First AdamW step moves each weight by ~lr * sign(g): where |g| is at float32 rounding level, compare in float64 only.
        const g = flat(golden.grads[p.name]);
        const keep = (_: unknown, k: number) => dtype === 'float64' || Math.abs(g[k]) >= 1e-6;
        const e = relErr(Array.from(runner.params().get(p.name)!).filter(keep), flat(adamw.weights_after_step1[p.name]).filter(keep));
        assert.ok(e < tol, `${p.name} after one AdamW step: relative error ${e.toExponential(2)}`);
      }
    }
    await runner.release();
  });
}
