// Gradient checkpointing (TrainStepConfig.gradientCheckpointing, NnContext.recompute): the backward
// pass recomputes each transformer block from its input. The gradients equal those of the graph that
// keeps the activations (GPT-2 and Llama, float64 and float32, dropout on and off, LoRA); ONNX Runtime's
// optimizer keeps the recomputed nodes apart from the forward's; the graph without the option has
// no trace of it; a training run with it (train(), dropout on) makes the losses of one without it and
// records it in config.json. Peak memory is measured in BENCHMARKS.md (bench/models.ts), not here.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { onnx } from 'onnx-proto';
import { loadHfModel } from '../../src/engine/checkpoint/hfModel';
import { causalLMFromHf } from '../../src/engine/models/hfCausalLM';
import { CausalLM } from '../../src/engine/models/causalLM';
import { NnContext, crossEntropy } from '../../src/engine/models/nn';
import { gradients } from '../../src/engine/autodiff/autodiff';
import { TypedArray, Value } from '../../src/engine/graph/graph';
import { toModelProto } from '../../src/engine/graph/serialize';
import { GraphBuilder } from '../../src/engine/graph/builder';
import { tensor } from '../../src/engine/runtime/session';
import { TrainStepConfig, buildTrainStep } from '../../src/engine/train/trainStep';
import { initLora, loraParams, loraTargets, LORA_DEFAULT_TARGETS } from '../../src/engine/train/lora';
import { uniformRng } from '../../src/engine/random';
import { gpt2Init } from '../../src/engine/models/gpt2';
import { TRAINING_DEFAULTS, train } from '../../src/engine/train/trainer';
import { tinyRun } from '../runs/tinyRun';
import { HF_FIXTURES } from '../checkpoint/fixturePaths';
import { newBuilder } from './harness';

/**
 * Runs a graph at an ORT optimization level. Above 'basic', ORT fuses patterns (e.g. the decomposed
 * float64 RMSNorm) only where the intermediate values have no other reader: the forward of a graph that
 * keeps its activations for the backward is then fused differently from one that recomputes them, and
 * float64 results differ in the 10th digit. At 'basic' they are equal bit for bit.
 */
async function run(b: GraphBuilder, outputs: Value[], feeds: Map<Value, TypedArray>, level: 'basic' | 'all'): Promise<TypedArray[]> {
  b.graph.outputs = outputs;
  const s = await ort.InferenceSession.create(toModelProto(b.graph), { graphOptimizationLevel: level, intraOpNumThreads: 1, logSeverityLevel: 4 });
  const f: Record<string, ort.Tensor> = {};
  for (const [v, data] of feeds) f[v.name] = tensor(v.dtype, v.shape, data);
  const res = await s.run(f);
  await s.release();
  return outputs.map((v) => res[v.name].data as TypedArray);
}

interface Case { dtype: 'float32' | 'float64'; dropout: boolean; lora: boolean; level: 'basic' | 'all' }

/** Loss and the gradient of every trained tensor (all parameters, or the LoRA adapters), by name. */
async function lossAndGrads(lm: CausalLM, weights: Map<string, Float32Array>, k: Case, recompute: boolean): Promise<Map<string, TypedArray>> {
  const b = newBuilder();
  const Arr = k.dtype === 'float64' ? Float64Array : Float32Array;
  const lora = { rank: 4, alpha: 8, targetModules: LORA_DEFAULT_TARGETS[lm.family] };
  const targets = k.lora ? loraTargets(lm, lora) : [];
  const adapters = initLora(targets, lora.rank, 1);
  const u = uniformRng(3);
  for (const t of targets) adapters.set(t.B, Float32Array.from(adapters.get(t.B)!, () => 0.1 * (2 * u() - 1))); // B != 0: gradients reach A
  const shapes = [...lm.params, ...loraParams(targets, lora.rank)];
  const inputs = new Map(shapes.map((p) => [p.name, b.input(p.name, k.dtype, p.shape)]));
  const B = 2, T = 6;
  const ids = b.input('ids', 'int64', [B, T]);
  const tgt = b.input('targets', 'int64', [B, T]);
  const key = k.dropout ? b.input('key', 'uint32', []) : null;
  const adapted = k.lora ? new Map(targets.map((t) => [inputs.get(t.weight)!, { A: inputs.get(t.A)!, B: inputs.get(t.B)!, scale: lora.alpha / lora.rank }])) : undefined;
  const c: NnContext = { b, dtype: k.dtype, decompose: k.dtype === 'float64', dropoutKey: key, dropoutSites: 0, lora: adapted, recompute };
  const logits = lm.forward(c, (n) => inputs.get(n)!, ids, k.dropout ? { embd: 0.1, attn: 0.2, resid: 0.1 } : undefined);
  const { loss } = crossEntropy(c, logits, tgt);
  const trained = k.lora ? targets.flatMap((t) => [t.A, t.B]) : lm.params.map((p) => p.name);
  const g = gradients(b, loss, trained.map((n) => inputs.get(n)!));
  assert.equal(b.graph.segments.length, recompute ? lm.nLayers : 0);

  const feeds = new Map<Value, TypedArray>();
  const all = new Map([...weights, ...adapters]);
  for (const [n, v] of inputs) feeds.set(v, Arr.from(all.get(n)!));
  feeds.set(ids, BigInt64Array.from({ length: B * T }, (_, j) => BigInt((j * 7 + 3) % lm.vocabSize)));
  feeds.set(tgt, BigInt64Array.from({ length: B * T }, (_, j) => BigInt(j % T === T - 1 ? -100 : (j * 5 + 1) % lm.vocabSize)));
  if (key) feeds.set(key, Uint32Array.of(12345));
  const out = await run(b, [loss, ...trained.map((n) => g.get(inputs.get(n)!)!)], feeds, k.level);
  return new Map([['loss', out[0]], ...trained.map((n, j): [string, TypedArray] => [n, out[j + 1]])]);
}

// 'basic': equal bit for bit; 'all' (the trainer's level): within float32 rounding of differently fused ops.
const CASES: Case[] = [
  { dtype: 'float64', dropout: false, lora: false, level: 'basic' },
  { dtype: 'float32', dropout: true, lora: false, level: 'basic' },
  { dtype: 'float32', dropout: true, lora: true, level: 'basic' },
  { dtype: 'float32', dropout: true, lora: false, level: 'all' },
];

for (const name of ['gpt2_tiny', 'llama_gqa_tiny']) {
  test(`${name}: gradients with blocks recomputed equal those with activations kept (${CASES.map((k) => `${k.dtype}${k.dropout ? ' dropout' : ''}${k.lora ? ' LoRA' : ''} at ${k.level}`).join('; ')})`, async () => {
    const hf = await loadHfModel(join(HF_FIXTURES, name));
    const lm = causalLMFromHf(hf.config);
    const weights = new Map([...hf.tensors].map(([n, t]) => [n, Float32Array.from(t.data)]));
    for (const k of CASES) {
      const what = `${k.dtype}${k.dropout ? ', dropout' : ''}${k.lora ? ', LoRA' : ''}, ORT level ${k.level}`;
      const kept = await lossAndGrads(lm, weights, k, false);
      const recomputed = await lossAndGrads(lm, weights, k, true);
      const tol = k.level === 'basic' ? 0 : 1e-5;
      let nonzero = 0;
      for (const [n, a] of kept) {
        const r = recomputed.get(n)!;
        let diff = 0, scale = 0;
        for (let j = 0; j < a.length; j++) { diff = Math.max(diff, Math.abs(Number(a[j]) - Number(r[j]))); scale = Math.max(scale, Math.abs(Number(a[j]))); }
        assert.ok(diff <= tol * scale, `${what}: ${n} differs by ${diff} (scale ${scale})`);
        if (scale > 0) nonzero++;
      }
      assert.ok(nonzero > kept.size / 2, `${what}: most gradients are nonzero`);
    }
  });
}

test('dropout is on in the dropout cases: the recomputed gradients differ from those without dropout', async () => {
  // Without this the equality above could hold with masks that are all ones.
  const hf = await loadHfModel(join(HF_FIXTURES, 'gpt2_tiny'));
  const lm = causalLMFromHf(hf.config);
  const weights = new Map([...hf.tensors].map(([n, t]) => [n, Float32Array.from(t.data)]));
  const on = await lossAndGrads(lm, weights, { dtype: 'float32', dropout: true, lora: false, level: 'all' }, true);
  const off = await lossAndGrads(lm, weights, { dtype: 'float32', dropout: false, lora: false, level: 'all' }, true);
  const name = 'transformer.h.1.attn.c_attn.weight';
  assert.notDeepEqual(Array.from(on.get(name) as Float32Array), Array.from(off.get(name) as Float32Array));
});

function stepConfig(lm: CausalLM, gradientCheckpointing?: boolean): TrainStepConfig {
  return {
    dtype: 'float32', groups: [{ name: 'all', params: lm.params, weightDecay: 0, lrScale: 1 }], frozen: [], batchSize: 2, seqLen: 8,
    microBatches: 1, stepsPerRun: 1, optimizer: { kind: 'adamw', beta1: 0.9, beta2: 0.999, eps: 1e-8 }, maxGradNorm: 1, dropout: true,
    layout: 'tensors', forward: (c, p, ids) => lm.forward(c, p, ids), ...(gradientCheckpointing === undefined ? {} : { gradientCheckpointing }),
  };
}

test('without the option the step graph is the one without it; with it, ONNX Runtime\'s optimizer keeps the recomputed blocks', async () => {
  const hf = await loadHfModel(join(HF_FIXTURES, 'llama_gqa_tiny'));
  const lm = causalLMFromHf(hf.config);
  const absent = buildTrainStep(stepConfig(lm)).graph;
  const off = buildTrainStep(stepConfig(lm, false)).graph;
  const on = buildTrainStep(stepConfig(lm, true)).graph;
  assert.equal(off.nodes.length, absent.nodes.length);
  assert.deepEqual(off.nodes.map((n) => n.op), absent.nodes.map((n) => n.op));
  assert.equal(off.segments.length, 0);
  assert.ok(!off.nodes.some((n) => n.name.startsWith('recompute/')));
  assert.equal(on.segments.length, lm.nLayers);
  const products = (ops: string[]) => ops.filter((op) => op === 'MatMul' || op === 'Gemm' || op === 'FusedMatMul').length;
  const ours = products(on.nodes.filter((n) => n.name.startsWith('recompute/')).map((n) => n.op));
  assert.ok(ours >= 7 * lm.nLayers, `recomputed matrix products: ${ours}`); // q, k, v, o, gate, up, down at least

  // ORT at the trainer's optimization level ('all'): common-subexpression elimination must not merge
  // a recomputed MatMul with the forward's (they read x + 0 * dY[0], not x).
  const dir = mkdtempSync(join(tmpdir(), 'ftlab-recompute-'));
  try {
    const file = join(dir, 'optimized.onnx');
    const s = await ort.InferenceSession.create(toModelProto(on), { graphOptimizationLevel: 'all', optimizedModelFilePath: file, logSeverityLevel: 4, intraOpNumThreads: 1 });
    await s.release();
    const model = onnx.ModelProto.decode(readFileSync(file));
    const kept = products(model.graph!.node!.filter((n) => (n.name ?? '').startsWith('recompute/')).map((n) => n.opType ?? ''));
    assert.equal(kept, ours, 'every recomputed matrix product is still there after ORT\'s optimizer (fused or not)');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a training run with gradient checkpointing makes the losses of one without it, and config.json says so', async () => {
  const { dir, model, cfg, ds } = await tinyRun('gradient-checkpointing', { nEmbd: 32, nLayer: 2, embdDropout: 0.1, attnDropout: 0.1, residDropout: 0.1 });
  const args = { ...TRAINING_DEFAULTS, device: 'cpu' as const, learningRate: 3e-3, maxSteps: 4, perDeviceTrainBatchSize: 2, shuffle: true, threads: 1, saveSteps: 0 };
  await train({ model, weights: gpt2Init(cfg, 7), data: ds, runDir: join(dir, 'kept'), args });
  await train({ model, weights: gpt2Init(cfg, 7), data: ds, runDir: join(dir, 'recomputed'), args: { ...args, gradientCheckpointing: true } });
  const losses = (run: string) => readFileSync(join(dir, run, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { loss: number }).loss);
  const a = losses('kept'), b = losses('recomputed');
  assert.equal(b.length, 4);
  b.forEach((x, k) => assert.ok(Math.abs(x - a[k]) <= 1e-5 * Math.abs(a[k]), `step ${k + 1}: loss ${x} vs ${a[k]}`));
  assert.notEqual(a[0], a[3]);
  const training = (run: string) => (JSON.parse(readFileSync(join(dir, run, 'config.json'), 'utf8')) as { training: { gradientCheckpointing: boolean } }).training;
  assert.equal(training('recomputed').gradientCheckpointing, true);
  assert.equal(training('kept').gradientCheckpointing, false);
});
