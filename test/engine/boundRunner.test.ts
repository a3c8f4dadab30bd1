// The training step through the IO-binding addon (native/ftlab_ort.cc, runtime/boundSession.ts), with
// parameters and AdamW moments updated in place, against onnxruntime-node's copying run(): the same
// losses, gradient norms, parameters and optimizer state, bit for bit, over several steps, for
// clipping on and off, dropout, L2-SP, the flat layout, a Loop of K steps cut short, gradient
// accumulation, and a LoRA training run of a Llama-family model. Also: the in-place check refuses an
// output whose input is read after it is written, and the runner double-buffers such a pair.
// In CI (FTLAB_ADDON_REQUIRED=1) the addon must be there; elsewhere these tests skip without it.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GraphBuilder } from '../../src/engine/graph/builder';
import { Graph } from '../../src/engine/graph/graph';
import { toModelProto } from '../../src/engine/graph/serialize';
import { BoundSession, boundSessionUnavailable } from '../../src/engine/runtime/boundSession';
import { Gpt2Config, gpt2Forward, gpt2Init, gpt2Params } from '../../src/engine/models/gpt2';
import { llamaCausalLM, llamaInit, LlamaConfig } from '../../src/engine/models/llama';
import { TrainStepConfig, buildTrainStep } from '../../src/engine/train/trainStep';
import { TrainStepRunner } from '../../src/engine/train/trainRunner';
import { inPlaceSafe } from '../../src/engine/train/inPlace';
import { TRAINING_DEFAULTS, parameterGroups, train } from '../../src/engine/train/trainer';
import { prepareDataset } from '../../src/engine/data/prepareDataset';
import { PreparedDataset } from '../../src/engine/data/preparedDataset';
import { put, scratchDir, tinyTokenizer } from '../data/helpers';

const missing = boundSessionUnavailable();
if (missing && process.env.FTLAB_ADDON_REQUIRED === '1') throw new Error(`the IO-binding addon is required here (FTLAB_ADDON_REQUIRED=1) and did not load: ${missing}`);
const skip = missing ? `IO-binding addon not available: ${missing}` : false;

test('the in-place check: an output may take its input\'s buffer only when every read of the input comes first', () => {
  const b = new GraphBuilder(new Graph('g'));
  const x = b.input('x', 'float32', [4]);
  const w = b.input('w', 'float32', [4]);
  const y = b.mul(x, b.scalar(2, 'float32'));       // reads x, writes y
  const late = b.add(w, b.scalar(1, 'float32'));    // reads w: no dependency on y's producer
  const z = b.sub(w, b.mul(y, b.scalar(0.5, 'float32'))); // w's update, after y; but `late` reads w and need not run first
  const v = b.mul(late, y);
  b.graph.outputs = [y, z, v];
  assert.deepEqual(inPlaceSafe(b.graph, [[x, y], [w, z]]), [true, false]);
  // Make `late` an ancestor of z's producer: now safe.
  const b2 = new GraphBuilder(new Graph('g2'));
  const x2 = b2.input('x', 'float32', [4]);
  const read = b2.add(x2, b2.scalar(1, 'float32'));
  const y2 = b2.sub(x2, read);
  b2.graph.outputs = [y2];
  assert.deepEqual(inPlaceSafe(b2.graph, [[x2, y2]]), [true]);
  // Not a graph input (an intermediate) or an output nobody produces: never.
  assert.deepEqual(inPlaceSafe(b2.graph, [[read, y2]]), [false]);
});

test('a pair that fails the check is double-buffered, and the result equals the copying run', { skip }, async () => {
  const b = new GraphBuilder(new Graph('g'));
  const w = b.input('w', 'float32', [3]);
  const late = b.add(w, b.scalar(1, 'float32'));
  const z = b.mul(w, b.scalar(3, 'float32'));
  const v = b.mul(late, z);
  b.graph.outputs = [z, v];
  assert.deepEqual(inPlaceSafe(b.graph, [[w, z]]), [false]);
  // Bound in place anyway, ORT would be allowed to run `late` after z was written into w's array: the
  // check exists for that. Bound to a separate array, the session computes what onnxruntime-node does.
  const s = BoundSession.create(toModelProto(b.graph))!;
  const wIn = Float32Array.of(1, 2, 3), zOut = new Float32Array(3), vOut = new Float32Array(3);
  s.bindInput('w', 'float32', [3], wIn);
  s.bindOutput(z.name, 'float32', [3], zOut);
  s.bindOutput(v.name, 'float32', [3], vOut);
  await s.run();
  assert.deepEqual(Array.from(zOut), [3, 6, 9]);
  assert.deepEqual(Array.from(vOut), [6, 18, 36]);
  assert.deepEqual(Array.from(wIn), [1, 2, 3]);
  // Device tensors (the CPU's memory on a CPU session): bound by id, read back through a run.
  const id = s.deviceTensor('float32', [3]);
  s.bindOutputTensor(z.name, id);
  await s.run();
  s.bindInputTensor('w', id); // w <- z = [3, 6, 9]
  s.bindOutput(z.name, 'float32', [3], zOut);
  await s.run();
  assert.deepEqual(Array.from(zOut), [9, 18, 27]);
  s.releaseTensor(id);
  assert.throws(() => s.bindInput('w', 'float32', [4], wIn), /holds 12 bytes, the shape and type need 16/);
  s.release();
});

const gcfg: Gpt2Config = { vocabSize: 48, nPositions: 16, nEmbd: 16, nLayer: 2, nHead: 2, layerNormEps: 1e-5, activation: 'tanh', embdDropout: 0.1, attnDropout: 0.1, residDropout: 0.1 };
const params = gpt2Params(gcfg);

function stepConfig(over: Partial<TrainStepConfig>): TrainStepConfig {
  return {
    dtype: 'float32', groups: parameterGroups(params, 0.01), frozen: [], batchSize: 2, seqLen: 8, microBatches: 1, stepsPerRun: 1,
    optimizer: { kind: 'adamw', beta1: 0.9, beta2: 0.95, eps: 1e-8 }, maxGradNorm: 1, dropout: true, layout: 'tensors',
    forward: (c, p, ids) => gpt2Forward(c, gcfg, p, ids), ...over,
  };
}

/**
 * Four steps (three runs when K = 3: 3 + 1) on the bound runtime with the state in the host arrays, on
 * it with the state in device tensors (the CPU's memory here: the code path CUDA takes, read back
 * after the second run and again at the end), and on onnxruntime-node; everything the runner holds is
 * compared.
 */
async function compare(cfg: TrainStepConfig) {
  const K = cfg.stepsPerRun, A = cfg.microBatches, n = K * A * cfg.batchSize * cfg.seqLen;
  const rows = (seed: number) => BigInt64Array.from({ length: n }, (_, i) => BigInt((i * 7 + seed * 13) % gcfg.vocabSize));
  const out: { loss: number[]; norm: number[]; state: number[][][]; inPlace: number; buffers: number }[] = [];
  for (const o of [{ runtime: 'bound', residency: 'host' }, { runtime: 'bound', residency: 'device' }, { runtime: 'onnxruntime-node' }] as const) {
    const r = await TrainStepRunner.create(cfg, buildTrainStep(cfg), gpt2Init(gcfg, 3), { ...o, threads: 1 });
    const loss: number[] = [], norm: number[] = [];
    for (let s = 1, run = 0; s <= 4; s += K, run++) {
      const k = Math.min(K, 5 - s);
      const steps = Array.from({ length: k }, (_, j) => s + j);
      const res = await r.run({ inputIds: rows(s), targets: rows(s + 1) }, steps.map(() => 3e-3), steps, steps.map((j) => 1000 + j));
      loss.push(...res.loss); norm.push(...res.gradNorm);
      if ('residency' in o && o.residency === 'device') {
        assert.throws(() => r.params(), /syncToHost/);
        if (run === 1) { await r.syncToHost(); r.params(); }
      }
    }
    await r.syncToHost();
    out.push({ loss, norm, state: r.state().map((bufs) => bufs.map((x) => Array.from(x))), ...r.runtime });
    await r.release();
  }
  const [bound, device, copying] = out;
  assert.equal(bound.loss.length, 4);
  for (const x of [bound, device]) {
    assert.deepEqual(x.loss, copying.loss);
    assert.deepEqual(x.norm, copying.norm);
    assert.deepEqual(x.state, copying.state);
  }
  assert.notEqual(bound.loss[0], bound.loss[3]);
  return bound;
}

test('device residency: a checkpoint loaded between runs is what the next run reads', { skip }, async () => {
  const cfg = stepConfig({});
  const n = cfg.batchSize * cfg.seqLen;
  const batch = { inputIds: BigInt64Array.from({ length: n }, (_, i) => BigInt(i % 40)), targets: BigInt64Array.from({ length: n }, (_, i) => BigInt((i + 1) % 40)) };
  const results: number[][] = [];
  for (const residency of ['device', 'host'] as const) {
    const r = await TrainStepRunner.create(cfg, buildTrainStep(cfg), gpt2Init(gcfg, 3), { runtime: 'bound', residency, threads: 1 });
    await r.run(batch, [3e-3], [1], [1]);
    await r.syncToHost();
    const saved = { params: new Map([...r.params()].map(([k, v]) => [k, v.slice()])), state: new Map([...r.optimizerState()].map(([k, v]) => [k, v.map((x) => x.slice())])) };
    await r.run(batch, [3e-3], [2], [2]);
    r.load(saved.params, saved.state); // back to after step 1
    const again = await r.run(batch, [3e-3], [2], [2]);
    await r.syncToHost();
    results.push([...again.loss, ...r.params().get('wte.weight')!.slice(0, 8)]);
    await r.release();
  }
  assert.deepEqual(results[0], results[1]);
});

// With clipping, every update waits for the global norm, so for every read of every parameter: all
// buffers are updated in place. Without it, a parameter whose input gradient is computed after its own
// update could be (the final layer norm: its weight is read for the gradient flowing into the last
// block, which its own update does not wait for): the check finds those and they are double-buffered.
const cases: [string, Partial<TrainStepConfig>, 'all' | 'some'][] = [
  ['clipping and dropout, one tensor per buffer', {}, 'all'],
  ['no clipping, L2-SP', { maxGradNorm: 0, l2sp: 5 }, 'some'],
  ['the flat layout (a buffer per group)', { layout: 'flat' }, 'all'],
  ['K = 3 steps per run (a Loop), the second run cut to 1 step', { stepsPerRun: 3 }, 'all'],
  ['gradient accumulation over 2 micro-batches', { microBatches: 2 }, 'all'],
];
for (const [name, over, inPlace] of cases) {
  test(`bound and in place = onnxruntime-node's copying run, bit for bit: ${name}`, { skip }, async () => {
    const r = await compare(stepConfig(over));
    if (inPlace === 'all') assert.equal(r.inPlace, r.buffers);
    else assert.ok(r.inPlace > 0 && r.inPlace < r.buffers, `${r.inPlace} of ${r.buffers} in place`);
  });
}

test('a LoRA training run of a Llama-family model gives the same losses and weights on both runtimes', { skip }, async () => {
  const dir = scratchDir('bound-lora');
  const words = ['Q:', 'A:', 'what', 'color', 'is', 'sky', 'blue', 'grass', 'green', 'snow', 'white'];
  const tok = await tinyTokenizer(dir, words);
  const src = put(dir, 'd.jsonl', [['sky', 'blue'], ['grass', 'green'], ['snow', 'white']].map(([q, a]) => JSON.stringify({ question: `what color is ${q}`, answer: a })).join('\n') + '\n');
  const ds = PreparedDataset.open((await prepareDataset({ source: { train: src }, tokenizer: tok, outDir: join(dir, 'prepared') })).dir);
  const cfg: LlamaConfig = {
    family: 'llama', modelType: 'llama', vocabSize: tok.vocabSize, tieWordEmbeddings: false, bosTokenId: null, eosTokenIds: [], padTokenId: null, torchDtype: null, raw: {},
    hiddenSize: 16, intermediateSize: 32, numHiddenLayers: 2, numAttentionHeads: 4, numKeyValueHeads: 2, headDim: 4, rmsNormEps: 1e-6, ropeTheta: 10000,
    ropeScaling: null, maxPositionEmbeddings: 32, qkvBias: false, oBias: false, mlpBias: false, hiddenAct: 'silu', attentionDropout: 0, slidingWindow: null,
  };
  const model = llamaCausalLM(cfg);
  const args = { ...TRAINING_DEFAULTS, device: 'cpu' as const, learningRate: 1e-2, maxSteps: 3, perDeviceTrainBatchSize: 2, threads: 1, saveSteps: 0 };
  const job = (runDir: string) => ({ model, weights: llamaInit(cfg, 7), data: ds, runDir, args, lora: { rank: 4, alpha: 8, targetModules: ['q_proj', 'v_proj'] } });
  const bound = await train(job(join(dir, 'bound')));
  process.env.FTLAB_ORT_ADDON = '0';
  try {
    const copying = await train(job(join(dir, 'copying')));
    const losses = (d: string) => readFileSync(join(dir, d, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).loss as number);
    assert.equal(losses('bound').length, 3);
    assert.deepEqual(losses('bound'), losses('copying'));
    for (const [n, w] of copying.weights) assert.deepEqual(Array.from(bound.weights.get(n)!), Array.from(w), n);
  } finally {
    delete process.env.FTLAB_ORT_ADDON;
  }
});

test('a training run with the state in device tensors (CUDA\'s path, on the CPU) checkpoints, evaluates, stops and resumes like one in host arrays', { skip }, async () => {
  const dir = scratchDir('bound-residency');
  const things = ['sky', 'grass', 'snow', 'coal', 'sun', 'blood', 'milk', 'ink', 'leaf', 'sea', 'rose', 'ash'];
  const colors = ['blue', 'green', 'white', 'black', 'yellow', 'red'];
  const tok = await tinyTokenizer(dir, ['Q:', 'A:', 'what', 'color', 'is', ...things, ...colors]);
  const src = put(dir, 'd.jsonl', things.map((q, i) => JSON.stringify({ question: `what color is ${q}`, answer: colors[i % colors.length] })).join('\n') + '\n');
  const ds = PreparedDataset.open((await prepareDataset({ source: src, tokenizer: tok, outDir: join(dir, 'p'), split: { validation: 0.34, test: 0 }, seed: 3 })).dir);
  assert.ok(ds.size('validation') > 0);
  const cfg: Gpt2Config = { ...gcfg, vocabSize: tok.vocabSize };
  const model = {
    family: 'gpt2' as const, params: gpt2Params(cfg), vocabSize: cfg.vocabSize, maxPositions: cfg.nPositions, nLayers: cfg.nLayer, kvHeads: cfg.nHead, headDim: cfg.nEmbd / cfg.nHead,
    layerOf: (n: string) => (n.startsWith('h.') ? Number(n.split('.')[1]) : -1),
    forward: (c: Parameters<typeof gpt2Forward>[0], p: Parameters<typeof gpt2Forward>[2], ids: Parameters<typeof gpt2Forward>[3]) => gpt2Forward(c, cfg, p, ids),
  };
  const args = { ...TRAINING_DEFAULTS, device: 'cpu' as const, learningRate: 3e-3, maxSteps: 5, perDeviceTrainBatchSize: 2, threads: 1, saveSteps: 2, evalSteps: 2 };
  const results: { metrics: number[]; evals: string; weights: number[] }[] = [];
  for (const residency of ['device', 'host']) {
    process.env.FTLAB_ORT_RESIDENCY = residency;
    try {
      const runDir = join(dir, residency);
      const ctl = new AbortController();
      const first = await train({ model, weights: gpt2Init(cfg, 4), data: ds, runDir, args, signal: ctl.signal, onStep: (m) => { if (m.step === 3) ctl.abort(); } });
      assert.ok(first.stopped);
      const done = await train({ model, weights: gpt2Init(cfg, 4), data: ds, runDir, args, resume: true });
      assert.equal(done.steps, 5);
      const lines = (f: string) => readFileSync(join(runDir, f), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      results.push({
        metrics: lines('metrics.jsonl').map((m) => m.loss),
        evals: JSON.stringify(lines('eval_metrics.jsonl').map((m) => [m.step, m.loss])),
        weights: Array.from(done.weights.get('h.0.attn.c_attn.weight')!),
      });
    } finally {
      delete process.env.FTLAB_ORT_RESIDENCY;
    }
  }
  assert.equal(results[0].metrics.length, 5);
  assert.deepEqual(results[0], results[1]);
});
