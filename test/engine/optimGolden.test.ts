// Optimizers against PyTorch over 3 steps (tools/reference/optim_golden.py -> test/golden/
// optim_tiny_f64.json): AdamW with decay on matrices only, and SGD with momentum, coupled weight
// decay and global-norm clipping (torch.nn.utils.clip_grad_norm_). Float64, 1e-6 relative.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Gpt2Config, gpt2Forward, gpt2Params } from '../../src/engine/models/gpt2';
import { TrainStepConfig, buildTrainStep } from '../../src/engine/train/trainStep';
import { TrainStepRunner } from '../../src/engine/train/trainRunner';
import { parameterGroups } from '../../src/engine/train/trainer';

interface Run { losses: number[]; grad_norms: number[]; weights_after_3: Record<string, number[]>; }
const g = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'test', 'golden', 'optim_tiny_f64.json'), 'utf8')) as {
  config: { vocab: number; n_positions: number; d_model: number; layers: number; heads: number; seq: number; batch: number };
  weights: Record<string, number[]>; input_ids: number[][]; targets: number[][]; adamw_3steps: Run; sgd_clip: Run;
};
const c = g.config;
const cfg: Gpt2Config = { vocabSize: c.vocab, nPositions: c.n_positions, nEmbd: c.d_model, nLayer: c.layers, nHead: c.heads, layerNormEps: 1e-5, activation: 'tanh', embdDropout: 0, attnDropout: 0, residDropout: 0 };
const params = gpt2Params(cfg);

async function check(over: Partial<TrainStepConfig>, lr: number, ref: Run): Promise<void> {
  const step: TrainStepConfig = {
    dtype: 'float64', groups: [], frozen: [], batchSize: c.batch, seqLen: c.seq, microBatches: 1, stepsPerRun: 1,
    optimizer: { kind: 'adamw', beta1: 0.9, beta2: 0.999, eps: 1e-8 }, maxGradNorm: 0, dropout: false, decompose: true,
    forward: (ctx, p, ids) => gpt2Forward(ctx, cfg, p, ids), ...over,
  };
  const init = new Map(params.map((p) => [p.name, Float64Array.from(g.weights[p.name])]));
  const r = await TrainStepRunner.create(step, buildTrainStep(step), init);
  const batch = { inputIds: BigInt64Array.from(g.input_ids.flat(), BigInt), targets: BigInt64Array.from(g.targets.flat(), BigInt) };
  for (let s = 1; s <= 3; s++) {
    const out = await r.run(batch, [lr], [s]);
    assert.ok(Math.abs(out.loss[0] - ref.losses[s - 1]) / ref.losses[s - 1] < 1e-9, `loss at step ${s}: ${out.loss[0]} vs ${ref.losses[s - 1]}`);
    assert.ok(Math.abs(out.gradNorm[0] - ref.grad_norms[s - 1]) / ref.grad_norms[s - 1] < 1e-9, `grad norm at step ${s}`);
  }
  for (const p of params) {
    const ours = r.params().get(p.name)!, want = ref.weights_after_3[p.name];
    let diff = 0, scale = 0;
    want.forEach((w, k) => { diff = Math.max(diff, Math.abs(ours[k] - w)); scale = Math.max(scale, Math.abs(w)); });
    assert.ok(diff / scale < 1e-6, `${p.name} after 3 steps: relative error ${(diff / scale).toExponential(2)}`);
  }
  await r.release();
}

test('AdamW: weights after 3 steps match torch.optim.AdamW (decay on matrices only)', () =>
  check({ groups: parameterGroups(params, 0.01) }, 1e-3, g.adamw_3steps));

test('SGD with momentum, weight decay and clip_grad_norm_: weights after 3 steps match PyTorch', () =>
  check({ groups: [{ name: 'all', params, weightDecay: 0.01, lrScale: 1 }], optimizer: { kind: 'sgd', momentum: 0.9 }, maxGradNorm: 0.5 }, 0.05, g.sgd_clip));
