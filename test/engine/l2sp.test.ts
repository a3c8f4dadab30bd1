// L2-SP (decoupled pull toward the pretrained weights): 3 steps of AdamW + L2-SP and of SGD with
// clipping + L2-SP against PyTorch (tools/reference/l2sp_golden.py -> test/golden/l2sp_tiny_f64.json)
// in the 'tensors' and 'flat' layouts and as K=3 steps in one run (Loop); with no gradient signal the
// distance to w0 shrinks by exactly (1 - lr*lambda) per step; lambda = 0 builds the very same graph;
// on a real tiny training run the weights end closer to w0 than without it, a resume keeps w0, and
// LoRA and a negative lambda are refused.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CausalLM } from '../../src/engine/models/causalLM';
import { Gpt2Config, gpt2Forward, gpt2Init, gpt2Params } from '../../src/engine/models/gpt2';
import { TrainStepConfig, buildTrainStep } from '../../src/engine/train/trainStep';
import { TrainStepRunner } from '../../src/engine/train/trainRunner';
import { TRAINING_DEFAULTS, parameterGroups, train } from '../../src/engine/train/trainer';
import { toModelProto } from '../../src/engine/graph/serialize';
import { prepareDataset } from '../../src/engine/data/prepareDataset';
import { PreparedDataset } from '../../src/engine/data/preparedDataset';
import { train as trainCommand } from '../../src/cli/commands/train';
import { UsageError } from '../../src/cli/command';
import { put, scratchDir, tinyTokenizer } from '../data/helpers';

interface Run { lr: number; l2sp_weight: number; losses: number[]; grad_norms: number[]; weights_after_3: Record<string, number[]>; }
const g = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'test', 'golden', 'l2sp_tiny_f64.json'), 'utf8')) as {
  config: { vocab: number; n_positions: number; d_model: number; layers: number; heads: number; seq: number; batch: number };
  weights: Record<string, number[]>; input_ids: number[][]; targets: number[][]; adamw_l2sp: Run; sgd_l2sp: Run;
};
const c = g.config;
const gcfg: Gpt2Config = { vocabSize: c.vocab, nPositions: c.n_positions, nEmbd: c.d_model, nLayer: c.layers, nHead: c.heads, layerNormEps: 1e-5, activation: 'tanh', embdDropout: 0, attnDropout: 0, residDropout: 0 };
const params = gpt2Params(gcfg);
const ADAMW = { kind: 'adamw', beta1: 0.9, beta2: 0.999, eps: 1e-8 } as const;

function stepConfig(over: Partial<TrainStepConfig>): TrainStepConfig {
  return {
    dtype: 'float64', groups: parameterGroups(params, 0.01), frozen: [], batchSize: c.batch, seqLen: c.seq, microBatches: 1, stepsPerRun: 1,
    optimizer: ADAMW, maxGradNorm: 0, dropout: false, decompose: true, layout: 'tensors',
    forward: (ctx, p, ids) => gpt2Forward(ctx, gcfg, p, ids), ...over,
  };
}
const goldenInit = () => new Map(params.map((p) => [p.name, Float64Array.from(g.weights[p.name])]));

/** Runs 3 steps on the golden batch (K=1: three runs; K=3: one run of a Loop over the batch three times). */
async function threeSteps(cfg: TrainStepConfig, lr: number, init = goldenInit(), targets = g.targets.flat()) {
  const r = await TrainStepRunner.create(cfg, buildTrainStep(cfg), init);
  const K = cfg.stepsPerRun;
  const rep = (xs: number[]) => BigInt64Array.from(Array.from({ length: K }, () => xs).flat(), BigInt);
  const batch = { inputIds: rep(g.input_ids.flat()), targets: rep(targets) };
  const losses: number[] = [], norms: number[] = [];
  for (let s = 1; s <= 3; s += K) {
    const steps = Array.from({ length: K }, (_, k) => s + k);
    const out = await r.run(batch, steps.map(() => lr), steps);
    losses.push(...out.loss);
    norms.push(...out.gradNorm);
  }
  return { r, losses, norms };
}

function maxRelError(ours: ArrayLike<number>, want: ArrayLike<number>): number {
  let diff = 0, scale = 0;
  for (let k = 0; k < want.length; k++) { diff = Math.max(diff, Math.abs(ours[k] - want[k])); scale = Math.max(scale, Math.abs(want[k])); }
  return diff / scale;
}

async function checkGolden(cfg: TrainStepConfig, ref: Run): Promise<void> {
  const { r, losses, norms } = await threeSteps(cfg, ref.lr);
  losses.forEach((l, s) => assert.ok(Math.abs(l - ref.losses[s]) / ref.losses[s] < 1e-9, `loss at step ${s + 1}: ${l} vs ${ref.losses[s]}`));
  norms.forEach((n, s) => assert.ok(Math.abs(n - ref.grad_norms[s]) / ref.grad_norms[s] < 1e-9, `grad norm at step ${s + 1}`));
  for (const p of params) {
    const e = maxRelError(r.params().get(p.name)!, ref.weights_after_3[p.name]);
    assert.ok(e < 1e-6, `${p.name} after 3 steps: relative error ${e.toExponential(2)}`);
  }
  await r.release();
}

for (const layout of ['tensors', 'flat'] as const) {
  for (const K of [1, 3]) {
    test(`AdamW + L2-SP (${layout} layout, ${K} step${K > 1 ? 's' : ''} per run): weights after 3 steps match PyTorch`, () =>
      checkGolden(stepConfig({ layout, stepsPerRun: K, l2sp: g.adamw_l2sp.l2sp_weight }), g.adamw_l2sp));
  }
}

test('SGD with momentum, weight decay and clipping + L2-SP: weights after 3 steps match PyTorch', () =>
  checkGolden(stepConfig({ groups: [{ name: 'all', params, weightDecay: 0.01, lrScale: 1 }], optimizer: { kind: 'sgd', momentum: 0.9 }, maxGradNorm: 0.5, l2sp: g.sgd_l2sp.l2sp_weight }), g.sgd_l2sp));

test('the golden can tell: without L2-SP the same AdamW run ends far outside the tolerance on every tensor', async () => {
  const { r } = await threeSteps(stepConfig({}), g.adamw_l2sp.lr);
  for (const p of params) {
    const e = maxRelError(r.params().get(p.name)!, g.adamw_l2sp.weights_after_3[p.name]);
    assert.ok(e > 1e-5, `${p.name}: L2-SP changes it by only ${e.toExponential(2)}`);
  }
  await r.release();
});

test('no gradient signal (every target ignored): w - w0 shrinks by exactly (1 - lr*scale*lambda) per step, w0 kept through load()', async () => {
  const lambda = 20, lr = 0.01;
  for (const [layout, K] of [['tensors', 1], ['flat', 3]] as const) {
    // Two groups, one with lr scale 2 (layer-wise learning rates scale the pull too); no weight decay.
    const cfg = stepConfig({ layout, stepsPerRun: K, l2sp: lambda, groups: parameterGroups(params, 0, (n) => (n.startsWith('h.1.') ? 2 : 1)) });
    const w0 = goldenInit();
    const r = await TrainStepRunner.create(cfg, buildTrainStep(cfg), w0);
    // Start away from w0, as a resumed run does: load() moves the parameters, not the anchor.
    const start = new Map([...w0].map(([n, v]) => [n, v.map((x, k) => x + 0.01 * Math.sin(k + n.length))]));
    const zeros = new Map([...w0].map(([n, v]) => [n, [new Float64Array(v.length), new Float64Array(v.length)]]));
    r.load(start, zeros);
    const ignored = BigInt64Array.from({ length: K * c.batch * c.seq }, () => -100n);
    const ids = BigInt64Array.from(Array.from({ length: K }, () => g.input_ids.flat()).flat(), BigInt);
    for (let s = 1; s <= 3; s += K) {
      const steps = Array.from({ length: K }, (_, k) => s + k);
      const out = await r.run({ inputIds: ids, targets: ignored }, steps.map(() => lr), steps);
      assert.deepEqual(out.gradNorm, steps.map(() => 0));
    }
    for (const p of params) {
      const f = (1 - lr * (p.name.startsWith('h.1.') ? 2 : 1) * lambda) ** 3;
      const want = start.get(p.name)!.map((x, k) => w0.get(p.name)![k] + f * (x - w0.get(p.name)![k]));
      const e = maxRelError(r.params().get(p.name)!, want);
      assert.ok(e < 1e-12, `${layout}: ${p.name} relative error ${e.toExponential(2)}`);
    }
    await r.release();
  }
});

test('lambda = 0 adds nothing to the graph and gives bit-identical weights', async () => {
  for (const layout of ['tensors', 'flat'] as const) {
    const plain = stepConfig({ layout }), zero = stepConfig({ layout, l2sp: 0 });
    assert.deepEqual(toModelProto(buildTrainStep(zero).graph), toModelProto(buildTrainStep(plain).graph), layout);
    const a = await threeSteps(plain, 1e-3), b = await threeSteps(zero, 1e-3);
    for (const p of params) assert.deepEqual(b.r.params().get(p.name), a.r.params().get(p.name), `${layout}: ${p.name}`);
    await a.r.release();
    await b.r.release();
  }
  assert.throws(() => buildTrainStep(stepConfig({ l2sp: -1 })), /finite number >= 0/);
});

// --- a real tiny training run (the toy task of trainer.test.ts) ---

function tinyGpt(vocab: number): { cfg: Gpt2Config; model: CausalLM } {
  const cfg: Gpt2Config = { vocabSize: vocab, nPositions: 16, nEmbd: 32, nLayer: 2, nHead: 2, layerNormEps: 1e-5, activation: 'tanh', embdDropout: 0, attnDropout: 0, residDropout: 0 };
  const model: CausalLM = {
    family: 'gpt2', params: gpt2Params(cfg), vocabSize: vocab, maxPositions: cfg.nPositions, nLayers: cfg.nLayer, kvHeads: cfg.nHead, headDim: cfg.nEmbd / cfg.nHead,
    layerOf: (n) => (n.startsWith('h.') ? Number(n.split('.')[1]) : n.startsWith('ln_f') ? cfg.nLayer : -1),
    forward: (ctx, p, ids) => gpt2Forward(ctx, cfg, p, ids),
  };
  return { cfg, model };
}

async function toyData(dir: string): Promise<{ ds: PreparedDataset; vocab: number }> {
  const colors = [['sky', 'blue'], ['grass', 'green'], ['snow', 'white'], ['coal', 'black'], ['blood', 'red'], ['sun', 'yellow']];
  const tok = await tinyTokenizer(dir, ['Q:', 'A:', 'what', 'color', 'is', ...colors.flat()]);
  const src = put(dir, 'colors.jsonl', colors.map(([q, a]) => JSON.stringify({ question: `what color is ${q}`, answer: a })).join('\n') + '\n');
  const r = await prepareDataset({ source: { train: src }, tokenizer: tok, outDir: join(dir, 'prepared') });
  return { ds: PreparedDataset.open(r.dir), vocab: tok.vocabSize };
}

function distance(w: Map<string, Float32Array>, w0: Map<string, Float32Array>): number {
  let d = 0;
  for (const [n, v] of w0) v.forEach((x, k) => { d += (w.get(n)![k] - x) ** 2; });
  return Math.sqrt(d);
}

test('a real tiny training run: with L2-SP the weights end closer to the pretrained ones, still learn, and config.json records lambda', async () => {
  const dir = scratchDir('l2sp');
  const { ds, vocab } = await toyData(dir);
  const { cfg, model } = tinyGpt(vocab);
  const args = { ...TRAINING_DEFAULTS, learningRate: 3e-3, maxSteps: 40, perDeviceTrainBatchSize: 6, lrSchedulerType: 'constant' as const, threads: 1, saveSteps: 0 };
  const w0 = gpt2Init(cfg, 3);
  const free = await train({ model, weights: w0, data: ds, runDir: join(dir, 'free'), args });
  const pulled = await train({ model, weights: w0, data: ds, runDir: join(dir, 'pulled'), args: { ...args, l2spWeight: 10 } });
  const dFree = distance(free.weights, w0), dPulled = distance(pulled.weights, w0);
  assert.ok(dPulled < 0.75 * dFree, `distance to w0: ${dPulled.toFixed(4)} with L2-SP vs ${dFree.toFixed(4)} without`);
  // Every tensor, biases and norm gains included, is pulled.
  for (const p of model.params) assert.ok(distance(new Map([[p.name, pulled.weights.get(p.name)!]]), new Map([[p.name, w0.get(p.name)!]])) < distance(new Map([[p.name, free.weights.get(p.name)!]]), new Map([[p.name, w0.get(p.name)!]])), p.name);
  const first = JSON.parse(readFileSync(join(dir, 'pulled', 'metrics.jsonl'), 'utf8').split('\n')[0]).loss;
  assert.ok(pulled.finalLoss < 0.5 * first, `loss ${first} -> ${pulled.finalLoss}: L2-SP at this strength should still let it learn`);
  assert.equal(JSON.parse(readFileSync(join(dir, 'pulled', 'config.json'), 'utf8')).training.l2spWeight, 10);
  assert.equal(JSON.parse(readFileSync(join(dir, 'free', 'config.json'), 'utf8')).training.l2spWeight, 0);
});

test('a run with L2-SP stopped and resumed ends bit-identical to an uninterrupted one (w0 stays the pretrained weights)', async () => {
  const dir = scratchDir('l2sp-resume');
  const { ds, vocab } = await toyData(dir);
  const { cfg, model } = tinyGpt(vocab);
  const args = { ...TRAINING_DEFAULTS, learningRate: 3e-3, maxSteps: 6, perDeviceTrainBatchSize: 4, threads: 1, saveSteps: 0, l2spWeight: 30 };
  const whole = await train({ model, weights: gpt2Init(cfg, 4), data: ds, runDir: join(dir, 'whole'), args });
  const ctl = new AbortController();
  const runDir = join(dir, 'stopped');
  await train({ model, weights: gpt2Init(cfg, 4), data: ds, runDir, args, signal: ctl.signal, onStep: (m) => { if (m.step === 3) ctl.abort(); } });
  const resumed = await train({ model, weights: gpt2Init(cfg, 4), data: ds, runDir, args, resume: true });
  for (const p of model.params) assert.deepEqual(resumed.weights.get(p.name), whole.weights.get(p.name), p.name);
});

test('L2-SP is refused with LoRA and with a negative weight, in the engine and in `ftlab train`', async () => {
  const dir = scratchDir('l2sp-refuse');
  const { ds, vocab } = await toyData(dir);
  const { cfg, model } = tinyGpt(vocab);
  const args = { ...TRAINING_DEFAULTS, maxSteps: 1, threads: 1, l2spWeight: 1 };
  await assert.rejects(train({ model, weights: gpt2Init(cfg, 5), data: ds, runDir: join(dir, 'lora'), args, lora: { rank: 2, alpha: 4, targetModules: ['c_attn'] } }), /LoRA/);
  await assert.rejects(train({ model, weights: gpt2Init(cfg, 5), data: ds, runDir: join(dir, 'neg'), args: { ...args, l2spWeight: -1 } }), /L2-SP weight must be a number >= 0/);
  const cli = async (...extra: string[]) => trainCommand.run(['--model', dir, '--data', join(dir, 'colors.jsonl'), '--out', join(dir, 'cli'), ...extra], { commands: [] });
  await assert.rejects(cli('--l2sp-weight', '-0.5'), (e: unknown) => e instanceof UsageError && /--l2sp-weight must be a number >= 0/.test(e.message));
  await assert.rejects(cli('--l2sp-weight', '2', '--strategy', 'lora'), (e: unknown) => e instanceof UsageError && /--strategy lora/.test(e.message));
});
