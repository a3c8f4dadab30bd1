// K optimizer steps per ONNX Runtime run (the ONNX Loop, --steps-per-run) in the trainer: the same
// losses, gradient norms and final weights, bit for bit, as one step per run, with a run cut short at
// a checkpoint step, a stop and a resume; and where the runs end.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CausalLM } from '../../src/engine/models/causalLM';
import { Gpt2Config, gpt2Forward, gpt2Init, gpt2Params } from '../../src/engine/models/gpt2';
import { TRAINING_DEFAULTS, train } from '../../src/engine/train/trainer';
import { stepsInRun } from '../../src/engine/train/stepsInRun';
import { prepareDataset } from '../../src/engine/data/prepareDataset';
import { PreparedDataset } from '../../src/engine/data/preparedDataset';
import { put, scratchDir, tinyTokenizer } from '../data/helpers';

const PAIRS: [string, string][] = [['sky', 'blue'], ['grass', 'green'], ['snow', 'white'], ['coal', 'black'], ['blood', 'red'], ['sun', 'yellow']];

async function setup(dir: string): Promise<{ ds: PreparedDataset; model: CausalLM; cfg: Gpt2Config }> {
  const tok = await tinyTokenizer(dir, ['Q:', 'A:', 'what', 'color', 'is', ...PAIRS.flat()]);
  const src = put(dir, 'colors.jsonl', PAIRS.map(([q, a]) => JSON.stringify({ question: `what color is ${q}`, answer: a })).join('\n') + '\n');
  const r = await prepareDataset({ source: { train: src }, tokenizer: tok, outDir: join(dir, 'prepared') });
  // Dropout on: the Loop must feed each step its own dropout key.
  const cfg: Gpt2Config = { vocabSize: tok.vocabSize, nPositions: 16, nEmbd: 32, nLayer: 2, nHead: 2, layerNormEps: 1e-5, activation: 'tanh', embdDropout: 0.1, attnDropout: 0.1, residDropout: 0.1 };
  const model: CausalLM = {
    family: 'gpt2', params: gpt2Params(cfg), vocabSize: cfg.vocabSize, maxPositions: cfg.nPositions, nLayers: cfg.nLayer, kvHeads: cfg.nHead, headDim: cfg.nEmbd / cfg.nHead,
    layerOf: (n) => (n.startsWith('h.') ? Number(n.split('.')[1]) : n.startsWith('ln_f') ? cfg.nLayer : -1),
    forward: (c, p, ids, d) => gpt2Forward(c, d ? { ...cfg, embdDropout: d.embd, attnDropout: d.attn, residDropout: d.resid } : cfg, p, ids),
  };
  return { ds: PreparedDataset.open(r.dir), model, cfg };
}

const metrics = (runDir: string) => readFileSync(join(runDir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { step: number; loss: number; gradNorm: number; learningRate: number });

test('runs end on checkpoint and evaluation steps and on the last step, else hold K steps', () => {
  const b = { stepsPerRun: 4, totalSteps: 10, saveSteps: 3, evalSteps: 0 };
  const runs: number[] = [];
  for (let s = 0; s < b.totalSteps; s += runs[runs.length - 1]) runs.push(stepsInRun(s, b));
  assert.deepEqual(runs, [3, 3, 3, 1]);
  assert.deepEqual([0, 4, 8].map((s) => stepsInRun(s, { stepsPerRun: 4, totalSteps: 10, saveSteps: 0, evalSteps: 0 })), [4, 4, 2]);
  assert.equal(stepsInRun(3, { stepsPerRun: 8, totalSteps: 100, saveSteps: 10, evalSteps: 5 }), 2);
  assert.equal(stepsInRun(5, { stepsPerRun: 8, totalSteps: 100, saveSteps: 10, evalSteps: 5 }), 5);
  assert.equal(stepsInRun(7, { stepsPerRun: 1, totalSteps: 100, saveSteps: 10, evalSteps: 5 }), 1);
});

test('K = 4 steps per run gives the losses and weights of one step per run bit for bit, across a checkpoint step, a stop and a resume', async () => {
  const dir = scratchDir('steps-per-run');
  const { ds, model, cfg } = await setup(dir);
  const base = { ...TRAINING_DEFAULTS, device: 'cpu' as const, learningRate: 3e-3, maxSteps: 9, perDeviceTrainBatchSize: 4, shuffle: true, warmupSteps: 2, threads: 1, saveSteps: 3, weightDecay: 0.01 };
  const single = await train({ model, weights: gpt2Init(cfg, 4), data: ds, runDir: join(dir, 'k1'), args: base });

  // K = 4 with a checkpoint every 3 steps: runs of 3 steps. Stop asked at step 4: the run of steps 4-6
  // finishes, the stop is seen after it, the checkpoint is at step 6; the resumed run makes 7-9.
  const ctl = new AbortController();
  const runDir = join(dir, 'k4');
  const args = { ...base, stepsPerRun: 4 };
  const first = await train({ model, weights: gpt2Init(cfg, 4), data: ds, runDir, args, signal: ctl.signal, onStep: (m) => { if (m.step === 4) ctl.abort(); } });
  assert.equal(first.steps, 6);
  assert.ok(first.stopped);
  const resumed = await train({ model, weights: gpt2Init(cfg, 999), data: ds, runDir, args, resume: true });
  assert.equal(resumed.steps, 9);

  const a = metrics(join(dir, 'k1')), b = metrics(runDir);
  assert.deepEqual(b.map((m) => m.step), [1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.deepEqual(b.map((m) => m.loss), a.map((m) => m.loss));
  assert.deepEqual(b.map((m) => m.gradNorm), a.map((m) => m.gradNorm));
  assert.deepEqual(b.map((m) => m.learningRate), a.map((m) => m.learningRate));
  for (const p of model.params) assert.deepEqual(Array.from(resumed.weights.get(p.name)!), Array.from(single.weights.get(p.name)!), p.name);
  assert.notEqual(a[0].loss, a[1].loss);
  assert.equal(JSON.parse(readFileSync(join(runDir, 'config.json'), 'utf8')).training.stepsPerRun, 4);
});

test('with gradient accumulation (a Loop over micro-batches inside the Loop over steps) K = 3 equals K = 1 bit for bit', async () => {
  const dir = scratchDir('steps-per-run-accum');
  const { ds, model, cfg } = await setup(dir);
  const args = { ...TRAINING_DEFAULTS, device: 'cpu' as const, learningRate: 3e-3, maxSteps: 4, perDeviceTrainBatchSize: 2, gradientAccumulationSteps: 2, shuffle: true, threads: 1, saveSteps: 0 };
  const one = await train({ model, weights: gpt2Init(cfg, 5), data: ds, runDir: join(dir, 'k1'), args });
  const three = await train({ model, weights: gpt2Init(cfg, 5), data: ds, runDir: join(dir, 'k3'), args: { ...args, stepsPerRun: 3 } });
  assert.deepEqual(metrics(join(dir, 'k3')).map((m) => m.loss), metrics(join(dir, 'k1')).map((m) => m.loss));
  for (const p of model.params) assert.deepEqual(Array.from(three.weights.get(p.name)!), Array.from(one.weights.get(p.name)!), p.name);
});
