// End-to-end check against PyTorch (llm.c test_gpt2.c style): ../shared/reference/gpt_ref.py
// --dump-golden wrote test/golden/gpt2_tiny_f64.json (float64: logits, loss, every gradient,
// weights after one AdamW step, losses over 4 steps; plain and masked targets). Our graph must
// reproduce them tensor by tensor, by name, in float64 (1e-6) and float32 (1e-4).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Gpt2Config, gpt2Forward, gpt2Params } from '../../src/engine/models/gpt2';
import { NnContext, ParamShape } from '../../src/engine/models/nn';
import { ParamGroup, TrainStepConfig, buildTrainStep } from '../../src/engine/train/trainStep';
import { TrainStepRunner } from '../../src/engine/train/trainRunner';
import { gradients } from '../../src/engine/autodiff/autodiff';
import { crossEntropy } from '../../src/engine/models/nn';
import { Value } from '../../src/engine/graph/graph';
import { newBuilder, runGraph } from './harness';

type Nested = number | Nested[];
interface GoldenCase { targets: number[][]; loss: number; logits: Nested; grads: Record<string, Nested>; weights_after_step1: Record<string, Nested>; }
interface Golden extends GoldenCase {
  config: { layers: number; d_model: number; heads: number; vocab: number; seq: number; n_positions: number; batch: number; lr: number; betas: [number, number]; eps: number; weight_decay: number; decay: string; layer_norm_eps: number };
  param_names: string[];
  params: number;
  weights: Record<string, Nested>;
  input_ids: number[][];
  losses_same_batch_steps_0_to_3: number[];
  masked: GoldenCase;
}

const golden: Golden = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'test', 'golden', 'gpt2_tiny_f64.json'), 'utf8'));
const flat = (x: Nested): number[] => (Array.isArray(x) ? x.flatMap(flat) : [x]);
const gc = golden.config;
const cfg: Gpt2Config = {
  vocabSize: gc.vocab, nPositions: gc.n_positions, nEmbd: gc.d_model, nLayer: gc.layers, nHead: gc.heads,
  layerNormEps: gc.layer_norm_eps, activation: 'tanh', embdDropout: 0, attnDropout: 0, residDropout: 0,
};
const params = gpt2Params(cfg);
const B = gc.batch, T = gc.seq;

/** Worst |ours - ref| / max|ref| over a tensor (relative to the tensor's scale). */
function relErr(ours: ArrayLike<number>, ref: number[]): number {
  assert.equal(ours.length, ref.length);
  let diff = 0, scale = 0;
  for (let k = 0; k < ref.length; k++) { diff = Math.max(diff, Math.abs(ours[k] - ref[k])); scale = Math.max(scale, Math.abs(ref[k])); }
  return diff / Math.max(scale, 1e-30);
}

function init(dtype: 'float32' | 'float64') {
  const Arr = dtype === 'float64' ? Float64Array : Float32Array;
  return new Map(params.map((p) => [p.name, Arr.from(flat(golden.weights[p.name]))]));
}

/** HF Trainer-style groups: decay on tensors of rank >= 2 (the golden's `--decay matrices`). */
function groups(ps: ParamShape[]): ParamGroup[] {
  return [
    { name: 'decay', params: ps.filter((p) => p.shape.length >= 2), weightDecay: gc.weight_decay, lrScale: 1 },
    { name: 'no_decay', params: ps.filter((p) => p.shape.length < 2), weightDecay: 0, lrScale: 1 },
  ];
}

function stepConfig(dtype: 'float32' | 'float64', over: Partial<TrainStepConfig> = {}): TrainStepConfig {
  return {
    dtype, groups: groups(params), frozen: [], batchSize: B, seqLen: T, microBatches: 1, stepsPerRun: 1,
    optimizer: { kind: 'adamw', beta1: gc.betas[0], beta2: gc.betas[1], eps: gc.eps }, maxGradNorm: 0, dropout: false,
    decompose: dtype === 'float64', forward: (c, p, ids) => gpt2Forward(c, cfg, p, ids), ...over,
  };
}

const ids64 = (rows: number[][], times = 1) => BigInt64Array.from(Array.from({ length: times }, () => rows.flat()).flat(), BigInt);

for (const dtype of ['float64', 'float32'] as const) {
  const tol = dtype === 'float64' ? 1e-6 : 1e-4;

  test(`gpt2 ${dtype}: logits, loss and every gradient match PyTorch (plain and masked targets)`, async () => {
    for (const gcase of [golden as GoldenCase, golden.masked]) {
      const b = newBuilder();
      const pv = new Map(params.map((p) => [p.name, b.input(p.name, dtype, p.shape)]));
      const ids = b.input('ids', 'int64', [B, T]);
      const targets = b.input('targets', 'int64', [B, T]);
      const c: NnContext = { b, dtype, decompose: dtype === 'float64', dropoutKey: null, dropoutSites: 0 };
      const logits = gpt2Forward(c, cfg, (n) => pv.get(n)!, ids);
      const { loss } = crossEntropy(c, logits, targets);
      const grads = gradients(b, loss, [...pv.values()]);
      const feeds = new Map<Value, Float32Array | Float64Array | BigInt64Array>([...init(dtype)].map(([n, d]) => [pv.get(n)!, d]));
      feeds.set(ids, ids64(golden.input_ids));
      feeds.set(targets, ids64(gcase.targets));
      const [l, lg, ...gs] = await runGraph(b, [loss, logits, ...pv.values()].map((v, k) => (k < 2 ? v : grads.get(v)!)), feeds);
      assert.ok(Math.abs((l as Float64Array)[0] - gcase.loss) / gcase.loss < tol, `loss ${l[0]} vs PyTorch ${gcase.loss}`);
      assert.ok(relErr(lg as Float64Array, flat(gcase.logits)) < tol, `logits differ: ${relErr(lg as Float64Array, flat(gcase.logits))}`);
      params.forEach((p, k) => {
        const e = relErr(gs[k] as Float64Array, flat(gcase.grads[p.name]));
        assert.ok(e < tol, `gradient of ${p.name}: relative error ${e.toExponential(2)} > ${tol}`);
      });
    }
  });

  test(`gpt2 ${dtype}: AdamW steps match PyTorch (weights after step 1, losses over 4 steps)`, async () => {
    const c = stepConfig(dtype);
    const runner = await TrainStepRunner.create(c, buildTrainStep(c), init(dtype));
    const batch = { inputIds: ids64(golden.input_ids), targets: ids64(golden.targets) };
    const losses: number[] = [];
    for (let s = 1; s <= 4; s++) {
      const r = await runner.run(batch, [gc.lr], [s]);
      losses.push(r.loss[0]);
      if (s === 1) {
        const now = runner.params();
        // AdamW's first update is lr * g / (|g| + eps): where the true gradient is ~0 (the key bias:
        // softmax is shift-invariant), float32 rounding noise of ~1e-9 in g moves the weight by up to
        // lr, in PyTorch float32 as here. Float32 compares the elements whose true |g| >= 1e-6.
        let skipped = 0;
        for (const p of params) {
          const g = flat(golden.grads[p.name]);
          const keep = (_: unknown, k: number) => dtype === 'float64' || Math.abs(g[k]) >= 1e-6;
          skipped += g.length - g.filter(keep).length;
          const e = relErr(Array.from(now.get(p.name)!).filter(keep), flat(golden.weights_after_step1[p.name]).filter(keep));
          assert.ok(e < tol, `${p.name} after one AdamW step: relative error ${e.toExponential(2)}`);
        }
        assert.ok(skipped < 0.01 * golden.params, `${skipped} elements with ~zero gradient skipped`);
      }
    }
    golden.losses_same_batch_steps_0_to_3.forEach((ref, k) => assert.ok(Math.abs(losses[k] - ref) / ref < tol, `loss before step ${k + 1}: ${losses[k]} vs PyTorch ${ref}`));
    await runner.release();
  });
}

test('K steps in one run (ONNX Loop) give bit-identical results to K single steps', async () => {
  const K = 3;
  const single = stepConfig('float32');
  const looped = stepConfig('float32', { stepsPerRun: K });
  const r1 = await TrainStepRunner.create(single, buildTrainStep(single), init('float32'));
  const rK = await TrainStepRunner.create(looped, buildTrainStep(looped), init('float32'));
  const ones = { inputIds: ids64(golden.input_ids), targets: ids64(golden.masked.targets) };
  const lossesSingle: number[] = [];
  for (let s = 1; s <= K; s++) lossesSingle.push((await r1.run(ones, [1e-3 * s], [s])).loss[0]);
  const res = await rK.run({ inputIds: ids64(golden.input_ids, K), targets: ids64(golden.masked.targets, K) }, [1e-3, 2e-3, 3e-3], [1, 2, 3]);
  assert.deepEqual(res.loss, lossesSingle);
  const a = r1.params(), b = rK.params();
  for (const p of params) assert.deepEqual(Array.from(b.get(p.name)!), Array.from(a.get(p.name)!), `${p.name} differs`);
});

test('gradient accumulation over 2 micro-batches equals one step on the whole batch (float64)', async () => {
  const whole = stepConfig('float64');
  const accum = stepConfig('float64', { batchSize: 1, microBatches: 2 });
  const rw = await TrainStepRunner.create(whole, buildTrainStep(whole), init('float64'));
  const ra = await TrainStepRunner.create(accum, buildTrainStep(accum), init('float64'));
  const batch = { inputIds: ids64(golden.input_ids), targets: ids64(golden.targets) };
  const lw = await rw.run(batch, [gc.lr], [1]);
  const la = await ra.run(batch, [gc.lr], [1]);
  assert.ok(Math.abs(lw.loss[0] - la.loss[0]) < 1e-12);
  assert.ok(Math.abs(lw.gradNorm[0] - la.gradNorm[0]) < 1e-12);
  for (const p of params) assert.ok(relErr(ra.params().get(p.name)!, Array.from(rw.params().get(p.name)!)) < 1e-10, p.name);
});

test('a batch whose targets are all ignored gives loss 0 and leaves weights unchanged by gradients', async () => {
  const c = stepConfig('float32', { optimizer: { kind: 'sgd', momentum: 0 }, groups: groups(params).map((g) => ({ ...g, weightDecay: 0 })) });
  const r = await TrainStepRunner.create(c, buildTrainStep(c), init('float32'));
  const before = new Map([...r.params()].map(([k, v]) => [k, Array.from(v)]));
  const res = await r.run({ inputIds: ids64(golden.input_ids), targets: BigInt64Array.from({ length: B * T }, () => -100n) }, [0.1], [1]);
  assert.ok(res.loss[0] === 0, `loss ${res.loss[0]}`); // -0 counts as 0
  assert.equal(res.gradNorm[0], 0);
  for (const [k, v] of r.params()) {
    const bad = Array.from(v).findIndex((x, e) => x !== before.get(k)![e]);
    assert.equal(bad, -1, `${k}[${bad}]: ${v[bad]} was ${before.get(k)![bad]}`);
  }
});

test("the 'tensors' layout (one buffer per parameter) computes the same steps as the flat layout", async () => {
  const flatCfg = stepConfig('float64');
  const tensCfg = stepConfig('float64', { layout: 'tensors' });
  const rf = await TrainStepRunner.create(flatCfg, buildTrainStep(flatCfg), init('float64'));
  const rt = await TrainStepRunner.create(tensCfg, buildTrainStep(tensCfg), init('float64'));
  const batch = { inputIds: ids64(golden.input_ids), targets: ids64(golden.masked.targets) };
  for (let s = 1; s <= 2; s++) {
    const a = await rf.run(batch, [gc.lr], [s]);
    const b = await rt.run(batch, [gc.lr], [s]);
    assert.ok(Math.abs(a.loss[0] - b.loss[0]) < 1e-12);
  }
  for (const p of params) assert.ok(relErr(rt.params().get(p.name)!, Array.from(rf.params().get(p.name)!)) < 1e-12, p.name);
  assert.equal(rt.state().length, params.length);
});

test('a compiled step dumps to a .onnx file that a fresh ONNX Runtime session loads', async () => {
  const { mkdtempSync, rmSync, statSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { dumpModel } = await import('../../src/engine/graph/serialize');
  const ort = await import('onnxruntime-node');
  const dir = mkdtempSync(join(tmpdir(), 'ftlab-dump-'));
  const path = join(dir, 'step.onnx');
  const step = buildTrainStep(stepConfig('float32'));
  dumpModel(step.graph, path);
  assert.ok(statSync(path).size > 1000);
  const s = await ort.InferenceSession.create(path);
  assert.ok(s.inputNames.includes('input_ids') && s.inputNames.includes('decay.params'));
  assert.equal(s.outputNames.length, 2 + 2 * 3);
  await s.release();
  rmSync(dir, { recursive: true, force: true });
});
