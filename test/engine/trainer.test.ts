// The training loop end to end on a toy task, plus the engine properties a long run depends on:
// reproducible dropout masks (a resumed run replays them), frozen inputs, per-group learning-rate
// scales, and flat memory over 3000 steps.

import { test } from 'node:test';
import { CLI_OPTION_WORDS } from '../../src/cli/optionWords';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { CausalLM } from '../../src/engine/models/causalLM';
import { Gpt2Config, gpt2Forward, gpt2Init, gpt2Params } from '../../src/engine/models/gpt2';
import { NnContext, dropout } from '../../src/engine/models/nn';
import { TRAINING_DEFAULTS, train, parameterGroups } from '../../src/engine/train/trainer';
import { TrainStepConfig, buildTrainStep } from '../../src/engine/train/trainStep';
import { TrainStepRunner } from '../../src/engine/train/trainRunner';
import { readSafetensors } from '../../src/engine/checkpoint/safetensors';
import { prepareDataset } from '../../src/engine/data/prepareDataset';
import { PreparedDataset } from '../../src/engine/data/preparedDataset';
import { stepKey } from '../../src/engine/random';
import { newBuilder, runGraph } from './harness';
import { put, scratchDir, tinyTokenizer } from '../data/helpers';

function tinyGpt(vocab: number, over: Partial<Gpt2Config> = {}): { cfg: Gpt2Config; model: CausalLM } {
  const cfg: Gpt2Config = { vocabSize: vocab, nPositions: 16, nEmbd: 32, nLayer: 2, nHead: 2, layerNormEps: 1e-5, activation: 'tanh', embdDropout: 0, attnDropout: 0, residDropout: 0, ...over };
  const model: CausalLM = {
    family: 'gpt2', params: gpt2Params(cfg), vocabSize: vocab, maxPositions: cfg.nPositions, nLayers: cfg.nLayer, kvHeads: cfg.nHead, headDim: cfg.nEmbd / cfg.nHead,
    layerOf: (n) => (n.startsWith('h.') ? Number(n.split('.')[1]) : n.startsWith('ln_f') ? cfg.nLayer : -1),
    forward: (c, p, ids, d) => gpt2Forward(c, d ? { ...cfg, embdDropout: d.embd, attnDropout: d.attn, residDropout: d.resid } : cfg, p, ids),
  };
  return { cfg, model };
}

const COLORS: [string, string][] = [['sky', 'blue'], ['grass', 'green'], ['snow', 'white'], ['coal', 'black'], ['blood', 'red'], ['sun', 'yellow']];

async function toyData(dir: string): Promise<{ ds: PreparedDataset; vocab: number }> {
  const words = ['Q:', 'A:', 'what', 'color', 'is', ...COLORS.flat()];
  const tok = await tinyTokenizer(dir, words);
  const src = put(dir, 'colors.jsonl', COLORS.map(([q, a]) => JSON.stringify({ question: `what color is ${q}`, answer: a })).join('\n') + '\n');
  const r = await prepareDataset({ source: { train: src }, tokenizer: tok, outDir: join(dir, 'prepared') });
  return { ds: PreparedDataset.open(r.dir), vocab: tok.vocabSize };
}

test('training on a toy Q&A task brings the answer loss down and writes the run folder', async () => {
  const dir = scratchDir('trainer');
  const { ds, vocab } = await toyData(dir);
  const { cfg, model } = tinyGpt(vocab);
  const runDir = join(dir, 'run');
  const seen: number[] = [];
  const res = await train({
    model, weights: gpt2Init(cfg, 1), data: ds, runDir,
    args: { ...TRAINING_DEFAULTS, learningRate: 3e-3, maxSteps: 80, perDeviceTrainBatchSize: 6, lrSchedulerType: 'constant', threads: 1 },
    onStep: (m) => seen.push(m.loss),
  });
  assert.equal(res.steps, 80);
  const lines = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(lines.length, 80);
  assert.deepEqual(Object.keys(lines[0]).sort(), ['epoch', 'gradNorm', 'learningRate', 'loss', 'step', 'tokensPerSecond']);
  assert.ok(lines[0].loss > 1.5, `initial answer loss ${lines[0].loss} should be near ln(vocab)`);
  assert.ok(lines[79].loss < 0.2 * lines[0].loss, `loss ${lines[0].loss} -> ${lines[79].loss} did not fall`);
  const config = JSON.parse(readFileSync(join(runDir, 'config.json'), 'utf8'));
  assert.equal(config.training.learningRate, 3e-3);
  assert.ok(existsSync(join(runDir, 'checkpoint', 'trainer_state.json')));
  const saved = await readSafetensors(join(runDir, 'checkpoint', 'model.safetensors'));
  for (const p of model.params) {
    assert.deepEqual(saved.tensors.get(p.name)!.shape, p.shape);
    assert.deepEqual(Array.from(saved.tensors.get(p.name)!.data), Array.from(res.weights.get(p.name)!), p.name);
  }
});

test('frozen parameters and lr scale 0 leave weights untouched; others move', async () => {
  const dir = scratchDir('frozen');
  const { ds, vocab } = await toyData(dir);
  const { cfg, model } = tinyGpt(vocab);
  const init = gpt2Init(cfg, 2);
  const res = await train({
    model, weights: init, data: ds, runDir: join(dir, 'run'),
    args: { ...TRAINING_DEFAULTS, learningRate: 1e-3, maxSteps: 3, perDeviceTrainBatchSize: 3, weightDecay: 0.1, threads: 1 },
    isFrozen: (n) => n === 'wte.weight' || n === 'wpe.weight',
    lrScale: (n) => (n.startsWith('h.0.') ? 0 : 1),
  });
  for (const p of model.params) {
    const same = Array.from(res.weights.get(p.name)!).every((v, k) => v === init.get(p.name)![k]);
    const fixed = p.name.startsWith('wte') || p.name.startsWith('wpe') || p.name.startsWith('h.0.');
    assert.equal(same, fixed, `${p.name}: ${fixed ? 'should not move' : 'should move'}`);
  }
});

test('parameter groups: decay only on rank >= 2 tensors, one group per (decay, lr scale)', () => {
  const gs = parameterGroups(gpt2Params(tinyGpt(10).cfg), 0.01, (n) => (n.startsWith('h.1.') ? 2 : 1));
  const byName = new Map(gs.flatMap((g) => g.params.map((p) => [p.name, g])));
  assert.equal(byName.get('h.0.ln_1.bias')!.weightDecay, 0);
  assert.equal(byName.get('h.0.mlp.c_fc.weight')!.weightDecay, 0.01);
  assert.equal(byName.get('h.1.mlp.c_fc.weight')!.lrScale, 2);
  assert.equal(gs.length, 4);
});

test('dropout masks depend only on (key, site, element): same key same mask, rate and scale as asked', async () => {
  const b = newBuilder();
  const x = b.input('x', 'float32', [64, 64]);
  const key = b.input('key', 'uint32', []);
  const c: NnContext = { b, dtype: 'float32', decompose: false, dropoutKey: key, dropoutSites: 0 };
  const y1 = dropout(c, x, 0.25);
  const y2 = dropout(c, x, 0.25); // a second site: an independent mask
  const ones = new Float32Array(64 * 64).fill(1);
  const feeds = (k: number) => new Map<import('../../src/engine/graph/graph').Value, Float32Array | Uint32Array>([[x, ones], [key, Uint32Array.of(k)]]);
  const [a1, a2] = (await runGraph(b, [y1, y2], feeds(stepKey(7, 3)))) as Float32Array[];
  const b2 = newBuilder();
  // Rebuild the same graph: the mask must not depend on session state.
  const x2 = b2.input('x', 'float32', [64, 64]);
  const key2 = b2.input('key', 'uint32', []);
  const y3 = dropout({ b: b2, dtype: 'float32', decompose: false, dropoutKey: key2, dropoutSites: 0 }, x2, 0.25);
  const [again] = <Float32Array[]>await runGraph(b2, [y3], new Map<import('../../src/engine/graph/graph').Value, Float32Array | Uint32Array>([[x2, ones], [key2, Uint32Array.of(stepKey(7, 3))]]));
  const [other] = <Float32Array[]>await runGraph(b2, [y3], new Map<import('../../src/engine/graph/graph').Value, Float32Array | Uint32Array>([[x2, ones], [key2, Uint32Array.of(stepKey(7, 4))]]));
  assert.deepEqual(Array.from(again), Array.from(a1));
  assert.notDeepEqual(Array.from(other), Array.from(a1));
  assert.notDeepEqual(Array.from(a2), Array.from(a1));
  const kept = Array.from(a1).filter((v) => v !== 0);
  assert.ok(Math.abs(kept.length / a1.length - 0.75) < 0.03, `kept ${kept.length / a1.length}`);
  assert.ok(kept.every((v) => Math.abs(v - 1 / 0.75) < 1e-6));
});

function dropoutStep(vocab: number): { cfg: TrainStepConfig; init: Map<string, Float32Array> } {
  const { cfg: g, model } = tinyGpt(vocab, { embdDropout: 0.1, attnDropout: 0.1, residDropout: 0.1 });
  const cfg: TrainStepConfig = {
    dtype: 'float32', groups: parameterGroups(model.params, 0.01), frozen: [], batchSize: 2, seqLen: 8, microBatches: 1, stepsPerRun: 1,
    optimizer: { kind: 'adamw', beta1: 0.9, beta2: 0.999, eps: 1e-8 }, maxGradNorm: 1, dropout: true,
    forward: (c, p, ids) => gpt2Forward(c, g, p, ids),
  };
  return { cfg, init: gpt2Init(g, 3) };
}

test('a resumed run replays the dropout masks of an uninterrupted one (bit-identical weights)', async () => {
  const { cfg, init } = dropoutStep(12);
  const batch = { inputIds: BigInt64Array.from({ length: 16 }, (_, k) => BigInt(k % 12)), targets: BigInt64Array.from({ length: 16 }, (_, k) => BigInt((k + 1) % 12)) };
  const step = (r: TrainStepRunner, s: number) => r.run(batch, [1e-2], [s], [stepKey(42, s)]);
  const whole = await TrainStepRunner.create(cfg, buildTrainStep(cfg), init);
  const losses: number[] = [];
  for (let s = 1; s <= 4; s++) losses.push((await step(whole, s)).loss[0]);
  const first = await TrainStepRunner.create(cfg, buildTrainStep(cfg), init);
  await step(first, 1);
  await step(first, 2);
  const saved = first.state().map((bufs) => bufs.map((a) => a.slice()));
  const resumed = await TrainStepRunner.create(cfg, buildTrainStep(cfg), init);
  resumed.restore(saved);
  const after = [(await step(resumed, 3)).loss[0], (await step(resumed, 4)).loss[0]];
  assert.deepEqual(after, losses.slice(2));
  for (const [n, v] of whole.params()) assert.deepEqual(Array.from(resumed.params().get(n)!), Array.from(v), n);
  assert.notEqual(losses[0], losses[1]);
});

test('3000 training steps keep memory flat', async () => {
  const { cfg, init } = dropoutStep(12);
  const r = await TrainStepRunner.create(cfg, buildTrainStep(cfg), init, { threads: 1 });
  const batch = { inputIds: BigInt64Array.from({ length: 16 }, (_, k) => BigInt(k % 12)), targets: BigInt64Array.from({ length: 16 }, (_, k) => BigInt((k * 5 + 1) % 12)) };
  let rssAt500 = 0;
  for (let s = 1; s <= 3000; s++) {
    await r.run(batch, [1e-3], [s], [s]);
    if (s === 500) { global.gc?.(); rssAt500 = process.memoryUsage().rss; }
  }
  global.gc?.();
  const growth = (process.memoryUsage().rss - rssAt500) / 2 ** 20;
  assert.ok(growth < 40, `RSS grew by ${growth.toFixed(1)} MiB between step 500 and 3000`);
  await r.release();
});

test('a run stopped mid-way and resumed from its checkpoint ends bit-identical to an uninterrupted run', async () => {
  const dir = scratchDir('resume');
  const { ds, vocab } = await toyData(dir);
  const { cfg, model } = tinyGpt(vocab, { embdDropout: 0.1, attnDropout: 0.1, residDropout: 0.1 });
  const args = { ...TRAINING_DEFAULTS, learningRate: 3e-3, maxSteps: 8, perDeviceTrainBatchSize: 4, shuffle: true, warmupSteps: 2, threads: 1, saveSteps: 0 };
  const whole = await train({ model, weights: gpt2Init(cfg, 4), data: ds, runDir: join(dir, 'whole'), args });

  const ctl = new AbortController();
  const runDir = join(dir, 'stopped');
  const first = await train({ model, weights: gpt2Init(cfg, 4), data: ds, runDir, args, signal: ctl.signal, onStep: (m) => { if (m.step === 5) ctl.abort(); } });
  assert.equal(first.steps, 5);
  assert.ok(first.stopped);
  const resumed = await train({ model, weights: gpt2Init(cfg, 999), data: ds, runDir, args, resume: true });
  assert.equal(resumed.steps, 8);
  for (const p of model.params) assert.deepEqual(Array.from(resumed.weights.get(p.name)!), Array.from(whole.weights.get(p.name)!), p.name);
  const losses = (d: string) => readFileSync(join(d, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).loss);
  assert.deepEqual(losses(runDir), losses(join(dir, 'whole')));
  await assert.rejects(train({ model, weights: gpt2Init(cfg, 4), data: ds, runDir, args, resume: true }), /already run 8 of 8 steps/);
});

test('validation loss: the evaluator agrees with the loss a training step reports for the same weights and batch', async () => {
  const dir = scratchDir('evalloss');
  const { ds, vocab } = await toyData(dir);
  const { cfg, model } = tinyGpt(vocab);
  const { LossEvaluator } = await import('../../src/engine/train/evalLoss');
  const init = gpt2Init(cfg, 6);
  const res = await train({ model, weights: init, data: ds, runDir: join(dir, 'one'), args: { ...TRAINING_DEFAULTS, maxSteps: 1, perDeviceTrainBatchSize: 6, threads: 1, learningRate: 0 } });
  const ev = await LossEvaluator.create(model, 6, JSON.parse(readFileSync(join(dir, "one", "config.json"), "utf8")).training.sequenceLength);
  const r = await ev.evaluate(init, ds, 'train');
  assert.ok(Math.abs(r.loss - res.finalLoss) < 1e-5, `${r.loss} vs ${res.finalLoss}`);
  assert.ok(r.tokens > 0);
  await ev.release();
});

test('early stopping ends the run when validation loss stops improving and returns the best weights', async () => {
  const dir = scratchDir('early');
  const words = ['Q:', 'A:', 'what', 'color', 'is', ...COLORS.flat(), 'leaf', 'milk', 'ink', 'ash', 'night', 'gold', 'purple', 'grey', 'brown'];
  const tok = await tinyTokenizer(dir, words);
  const more: [string, string][] = [...COLORS, ['leaf', 'green'], ['milk', 'white'], ['ink', 'black'], ['ash', 'grey'], ['night', 'black'], ['gold', 'yellow']];
  const src = put(dir, 'c.jsonl', more.map(([q, a]) => JSON.stringify({ question: `what color is ${q}`, answer: a })).join('\n') + '\n');
  const r = await prepareDataset({ source: src, tokenizer: tok, outDir: join(dir, 'p'), split: { validation: 0.34, test: 0 }, seed: 3 });
  const ds = PreparedDataset.open(r.dir);
  assert.ok(ds.size('validation') > 0);
  const { cfg, model } = tinyGpt(tok.vocabSize);
  const evals: number[] = [];
  const runDir = join(dir, 'run');
  const res = await train({
    model, weights: gpt2Init(cfg, 8), data: ds, runDir, onEval: (m) => evals.push(m.loss),
    args: { ...TRAINING_DEFAULTS, learningRate: 1e-2, maxSteps: 300, perDeviceTrainBatchSize: 4, lrSchedulerType: 'constant', evalSteps: 5, earlyStoppingPatience: 2, threads: 1 },
  });
  assert.ok(res.stoppedEarly, `validation losses ${evals.map((l) => l.toFixed(3)).join(' ')}`);
  assert.ok(res.steps < 300);
  assert.equal(res.best!.loss, Math.min(...evals));
  const best = await readSafetensors(join(runDir, 'best', 'model.safetensors'));
  for (const p of model.params) assert.deepEqual(Array.from(res.weights.get(p.name)!), Array.from(best.tensors.get(p.name)!.data), p.name);
  const lines = readFileSync(join(runDir, 'eval_metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(lines.map((l) => l.loss), evals);
});

test('replay mixes general text into every batch, resumes exactly, and refuses a corpus packed to the wrong length', async () => {
  const dir = scratchDir('replay');
  const { ds } = await toyData(dir);
  const words = ['Q:', 'A:', 'what', 'color', 'is', ...COLORS.flat()];
  const tok = await tinyTokenizer(dir, [...words, 'the', 'and', '.']);
  const { sequenceLength } = await import('../../src/engine/train/trainer');
  const { prepareCorpus } = await import('../../src/engine/data/prepareCorpus');
  const { cfg, model } = tinyGpt(tok.vocabSize);
  const T = sequenceLength(ds, model.maxPositions);
  const text = Array.from({ length: 30 }, (_, i) => `the ${COLORS[i % 6][0]} is ${COLORS[i % 6][1]} and the ${COLORS[(i + 1) % 6][0]} is ${COLORS[(i + 1) % 6][1]} .`).join('\n\n');
  const corpus = await prepareCorpus({ source: put(dir, 'general.txt', text + '\n'), tokenizer: tok, outDir: join(dir, 'general'), seqLength: T + 1 });
  const replayData = PreparedDataset.open(corpus.dir);
  const args = { ...TRAINING_DEFAULTS, learningRate: 3e-3, maxSteps: 6, perDeviceTrainBatchSize: 4, threads: 1, saveSteps: 0, shuffle: true };
  const plain = await train({ model, weights: gpt2Init(cfg, 9), data: ds, runDir: join(dir, 'plain'), args });
  const mixed = await train({ model, weights: gpt2Init(cfg, 9), data: ds, runDir: join(dir, 'mixed'), args, replay: { data: replayData, ratio: 0.5 } });
  assert.notDeepEqual(Array.from(mixed.weights.get('wte.weight')!), Array.from(plain.weights.get('wte.weight')!));
  const conf = JSON.parse(readFileSync(join(dir, 'mixed', 'config.json'), 'utf8'));
  assert.equal(conf.training.replay.rowsPerBatch, 2);
  // stop at 3, resume to 6: the same as the uninterrupted mixed run
  const ctl = new AbortController();
  await train({ model, weights: gpt2Init(cfg, 9), data: ds, runDir: join(dir, 'r'), args, replay: { data: replayData, ratio: 0.5 }, signal: ctl.signal, onStep: (m) => { if (m.step === 3) ctl.abort(); } });
  const resumed = await train({ model, weights: gpt2Init(cfg, 9), data: ds, runDir: join(dir, 'r'), args, replay: { data: replayData, ratio: 0.5 }, resume: true });
  for (const p of model.params) assert.deepEqual(Array.from(resumed.weights.get(p.name)!), Array.from(mixed.weights.get(p.name)!), p.name);
  const wrong = await prepareCorpus({ source: put(dir, 'g2.txt', text + '\n'), tokenizer: tok, outDir: join(dir, 'general2'), seqLength: T + 3 });
  await assert.rejects(train({ model, weights: gpt2Init(cfg, 9), data: ds, runDir: join(dir, 'w'), args, replay: { data: PreparedDataset.open(wrong.dir), ratio: 0.25 } }), /packed in sequences of/);
});

test('LoRA trains only the adapters (base weights fixed), learns, and returns merged weights', async () => {
  const dir = scratchDir('lora');
  const { ds, vocab } = await toyData(dir);
  const { cfg, model } = tinyGpt(vocab);
  const init = gpt2Init(cfg, 11);
  const lora = { rank: 4, alpha: 16, targetModules: ['c_attn', 'c_fc'] };
  const runDir = join(dir, 'run');
  const res = await train({ model, weights: init, data: ds, runDir, lora, args: { ...TRAINING_DEFAULTS, learningRate: 1e-2, maxSteps: 60, perDeviceTrainBatchSize: 6, lrSchedulerType: 'constant', threads: 1 } });
  const lines = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.ok(lines[59].loss < 0.9 * lines[0].loss, `loss ${lines[0].loss} -> ${lines[59].loss}`); // rank-4 adapters on a random base: slower than full fine-tuning
  const saved = await readSafetensors(join(runDir, 'checkpoint', 'model.safetensors'));
  for (const p of model.params) assert.deepEqual(Array.from(saved.tensors.get(p.name)!.data), Array.from(init.get(p.name)!), `${p.name} is frozen`);
  assert.ok(saved.tensors.get('h.0.attn.c_attn.lora_B.weight')!.data.some((v) => v !== 0), 'adapters moved');
  assert.ok(!res.weights.has('h.0.attn.c_attn.lora_A.weight'), 'the result is the merged model');
  assert.notDeepEqual(Array.from(res.weights.get('h.0.attn.c_attn.weight')!), Array.from(init.get('h.0.attn.c_attn.weight')!));
  assert.deepEqual(Array.from(res.weights.get('wte.weight')!), Array.from(init.get('wte.weight')!));
  const conf = JSON.parse(readFileSync(join(runDir, 'config.json'), 'utf8'));
  assert.deepEqual(conf.lora.adapters, ['h.0.attn.c_attn', 'h.0.mlp.c_fc', 'h.1.attn.c_attn', 'h.1.mlp.c_fc']);
});

test("ONNX Runtime's out-of-memory failure becomes a message that says what to lower", async () => {
  const { explainStepError, OutOfMemoryError } = await import('../../src/engine/train/trainer');
  const b = newBuilder('oom');
  const x = b.input('x', 'float32', [1]);
  const y = b.reduceSum(b.expand(x, [50000, 50000, 10]), [0, 1, 2]); // 100 GB: more than this machine has
  const err = await runGraph(b, [y], new Map([[x, Float32Array.of(1)]])).then(() => null, (e: unknown) => e);
  assert.ok(err, 'the allocation failed');
  const e = explainStepError(err, 16, 256, 2);
  assert.ok(e instanceof OutOfMemoryError, String(err));
  assert.match(e.message, /out of memory.*batch 16 x 256 tokens, 2 micro-batches.*lower the batch size.*the last checkpoint is kept/);
  assert.match((e as InstanceType<typeof OutOfMemoryError>).describe(CLI_OPTION_WORDS), /--per-device-train-batch-size.*--resume/);
  const other = new Error('some other failure');
  assert.equal(explainStepError(other, 1, 1, 1), other);
});
