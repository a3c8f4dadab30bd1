// `npm run bench`: training-step speed and memory of our engine against the PyTorch reference
// (../shared/reference/gpt_ref.py), same sizes, same thread count, same invocation.
// Each measurement runs in a child process so that peak RSS belongs to it alone.
//
//   node dist/bench.js [--sizes a,b,c] [--steps 10] [--threads 2] [--device cpu|cuda] [--no-torch]
//                      [--steps-per-run 1,8] [--runtimes auto|bound,onnxruntime-node] [--python /usr/bin/python3]
//                      [--ref PATH/gpt_ref.py] [--json FILE]
// --runtimes: the engine through the IO-binding addon ('bound': parameters updated in place, on CUDA
// kept on the GPU) and/or onnxruntime-node's copying run(); 'auto' (default) is what the trainer uses.
// --steps-per-run: one engine measurement per K (optimizer steps per ONNX Runtime run, the trainer's
// --steps-per-run; K > 1 through the ONNX Loop); ms/step is a run's time / K. Default 1,8.
//   node dist/bench.js --check-cuda [--sizes a]     CPU vs CUDA: same init, same batches, compare

import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync, renameSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as ort from 'onnxruntime-node';
import { Gpt2Config, gpt2Forward, gpt2Init, gpt2Params } from '../src/engine/models/gpt2';
import { TrainStepConfig, buildTrainStep } from '../src/engine/train/trainStep';
import { TrainStepRunner } from '../src/engine/train/trainRunner';
import { LoraTarget, initLora, loraParams } from '../src/engine/train/lora';
import { Device, createSession, tensor } from '../src/engine/runtime/session';
import { GraphBuilder } from '../src/engine/graph/builder';
import { Graph } from '../src/engine/graph/graph';
import { toModelProto } from '../src/engine/graph/serialize';
import { uniformRng } from '../src/engine/random';

interface Size { layers: number; d: number; heads: number; vocab: number; seq: number; batch: number; nPositions: number; }
const SIZES: Record<string, Size> = {
  a: { layers: 4, d: 256, heads: 4, vocab: 4096, seq: 128, batch: 8, nPositions: 128 },
  b: { layers: 6, d: 384, heads: 6, vocab: 8192, seq: 256, batch: 8, nPositions: 256 },
  c: { layers: 12, d: 768, heads: 12, vocab: 50257, seq: 256, batch: 4, nPositions: 1024 },
  /** GPT-2 124M at 512 tokens (issue 12's second GPU row). */
  c512: { layers: 12, d: 768, heads: 12, vocab: 50257, seq: 512, batch: 4, nPositions: 1024 },
};

function arg(name: string, dflt: string): string {
  const k = process.argv.indexOf(`--${name}`);
  return k >= 0 && process.argv[k + 1] ? process.argv[k + 1] : dflt;
}
const flag = (name: string) => process.argv.includes(`--${name}`);

/** FLOPs of one training step: 3x forward (backward = 2x), matmuls + full T x T attention. */
export function stepFlops(s: Size): number {
  const tokens = s.batch * s.seq;
  const linear = s.layers * 12 * s.d * s.d + s.vocab * s.d; // per token MACs in linear layers + head
  const attn = s.layers * 2 * s.seq * s.d; // QK^T and AV per token (full T x T)
  return 3 * 2 * tokens * (linear + attn);
}

function gptConfig(s: Size): Gpt2Config {
  return { vocabSize: s.vocab, nPositions: s.nPositions, nEmbd: s.d, nLayer: s.layers, nHead: s.heads, layerNormEps: 1e-5, activation: 'tanh', embdDropout: 0, attnDropout: 0, residDropout: 0 };
}

/** LoRA rank r on every c_attn (alpha 16), the model frozen: what `ftlab train --strategy lora` trains on GPT-2. */
function loraTargetsOf(s: Size): LoraTarget[] {
  return gpt2Params(gptConfig(s)).filter((p) => p.name.endsWith('.attn.c_attn.weight')).map((p) => {
    const module = p.name.slice(0, -'.weight'.length);
    return { weight: p.name, module, inDim: p.shape[0], outDim: p.shape[1], fanInFanOut: true, A: `${module}.lora_A.weight`, B: `${module}.lora_B.weight` };
  });
}

function stepConfig(s: Size, stepsPerRun = 1, device: Device = 'cpu', lora = 0): TrainStepConfig {
  const cfg = gptConfig(s);
  const ps = gpt2Params(cfg);
  if (lora > 0) {
    const targets = loraTargetsOf(s);
    return {
      dtype: 'float32', groups: [{ name: 'lora', params: loraParams(targets, lora), weightDecay: 0, lrScale: 1 }],
      frozen: ps, batchSize: s.batch, seqLen: s.seq, microBatches: 1, stepsPerRun,
      optimizer: { kind: 'adamw', beta1: 0.9, beta2: 0.95, eps: 1e-8 }, maxGradNorm: 0, dropout: false, layout: 'tensors',
      forward: (c, p, ids) => gpt2Forward(c, cfg, p, ids), lora: targets.map((t) => ({ weight: t.weight, A: t.A, B: t.B, scale: 16 / lora })),
    };
  }
  return {
    dtype: 'float32',
    groups: [
      { name: 'decay', params: ps.filter((p) => p.shape.length >= 2), weightDecay: 0.01, lrScale: 1 },
      { name: 'no_decay', params: ps.filter((p) => p.shape.length < 2), weightDecay: 0, lrScale: 1 },
    ],
    frozen: [], batchSize: s.batch, seqLen: s.seq, microBatches: 1, stepsPerRun,
    optimizer: { kind: 'adamw', beta1: 0.9, beta2: 0.95, eps: 1e-8 }, maxGradNorm: 0, dropout: false,
    forward: (c, p, ids) => gpt2Forward(c, cfg, p, ids), layout: 'tensors',
  };
}

function randomBatch(s: Size, seed: number, K = 1) {
  const r = uniformRng(seed);
  const n = K * s.batch * s.seq;
  const inputIds = new BigInt64Array(n), targets = new BigInt64Array(n);
  for (let k = 0; k < n; k++) { inputIds[k] = BigInt(Math.floor(r() * s.vocab)); targets[k] = BigInt(Math.floor(r() * s.vocab)); }
  return { inputIds, targets };
}

const median = (xs: number[]) => { const a = [...xs].sort((p, q) => p - q); return a[Math.floor(a.length / 2)]; };

/** Child mode: time our engine on one size, print one JSON line. */
/** This process's GPU memory (MiB) as nvidia-smi sees it (ORT's CUDA arena keeps its peak); null without nvidia-smi. */
function gpuMemoryMiB(): number | null {
  const r = spawnSync('nvidia-smi', ['--query-compute-apps=pid,used_memory', '--format=csv,noheader,nounits'], { encoding: 'utf8' });
  if (r.status !== 0) return null;
  const row = r.stdout.split('\n').map((l) => l.split(',').map((x) => x.trim())).find(([pid]) => Number(pid) === process.pid);
  return row ? Number(row[1]) : null;
}

async function measureOurs(name: string, device: Device, steps: number, threads: number, K = 1, lora = 0): Promise<void> {
  const s = SIZES[name];
  const t0 = performance.now();
  const layout = arg('layout', '');
  const cfg = { ...stepConfig(s, K, device, lora), ...(layout ? { layout: layout as 'flat' | 'tensors' } : {}) };
  const init = gpt2Init(gptConfig(s), 1234);
  if (lora) for (const [n, v] of initLora(loraTargetsOf(s), lora, 1234)) init.set(n, v);
  const runtime = arg('runtime', 'auto') as 'auto' | 'bound' | 'onnxruntime-node';
  const runner = await TrainStepRunner.create(cfg, buildTrainStep(cfg), init, { device, threads, runtime, onFallback: (m) => console.error(m) });
  const buildMs = performance.now() - t0;
  // K > 1: each run makes K steps on K copies of the batch (the same work per step as K = 1).
  const one = randomBatch(s, 1);
  const batch = K === 1 ? one : { inputIds: new BigInt64Array(K * one.inputIds.length), targets: new BigInt64Array(K * one.targets.length) };
  for (let j = 0; j < K && K > 1; j++) { batch.inputIds.set(one.inputIds, j * one.inputIds.length); batch.targets.set(one.targets, j * one.targets.length); }
  const times: number[] = [], losses: number[] = [];
  const warm = Math.ceil(3 / K), timed = Math.max(1, Math.ceil(steps / K));
  for (let k = 0, step = 0; k < warm + timed; k++, step += K) {
    const a = performance.now();
    const r = await runner.run(batch, new Array(K).fill(3e-4), Array.from({ length: K }, (_, j) => step + j + 1));
    const ms = (performance.now() - a) / K;
    losses.push(...r.loss);
    if (k >= warm) times.push(ms);
  }
  const med = median(times);
  console.log(JSON.stringify({
    engine: 'finetune-lab', size: name, device: runner.device, runtime: runner.runtime.name, in_place: `${runner.runtime.inPlace}/${runner.runtime.buffers}`,
    threads, steps_per_run: K, lora_rank: lora, build_ms: Math.round(buildMs),
    ...(runner.device === 'cuda' ? { gpu_mib: gpuMemoryMiB() } : {}),
    step_ms_median: +med.toFixed(1), step_ms_min: +Math.min(...times).toFixed(1),
    tokens_per_s: Math.round((s.batch * s.seq) / (med / 1000)),
    peak_rss_mib: Math.round(process.resourceUsage().maxRSS / 1024),
    loss_first: losses[0], loss_last: losses[losses.length - 1],
  }));
  await runner.release();
}

/** SGEMM peak of this machine through ORT: 2048^3 MatMul, median of 10. */
async function sgemmPeak(threads: number): Promise<number> {
  const n = 2048;
  const b = new GraphBuilder(new Graph('sgemm'));
  const x = b.input('a', 'float32', [n, n]), y = b.input('b', 'float32', [n, n]);
  b.graph.outputs = [b.matmul(x, y)];
  const { session } = await createSession(toModelProto(b.graph), { threads });
  const data = new Float32Array(n * n).fill(0.5);
  const feeds = { a: tensor('float32', [n, n], data), b: tensor('float32', [n, n], data) };
  const ts: number[] = [];
  for (let k = 0; k < 12; k++) { const t = performance.now(); await session.run(feeds); if (k >= 2) ts.push(performance.now() - t); }
  return (2 * n ** 3) / (median(ts) / 1000) / 1e9;
}

/** CUDA vs CPU: same init and batches; 3 steps; compare losses and parameters, then time CUDA. */
async function checkCuda(names: string[], steps: number): Promise<void> {
  for (const name of names) {
    const s = SIZES[name];
    const init = gpt2Init(gptConfig(s), 7);
    const batch = randomBatch(s, 3);
    const result: Record<string, unknown> = { size: name, ort: ort.env.versions };
    const runs: Record<string, { loss: number[]; params: Map<string, Float32Array | Float64Array>; ms: number[]; device: string }> = {};
    for (const device of ['cpu', 'cuda'] as Device[]) {
      let fallback = '';
      const cfg = stepConfig(s, 1, device);
      const runner = await TrainStepRunner.create(cfg, buildTrainStep(cfg), init, { device, onFallback: (m) => { fallback = m; } });
      const loss: number[] = [], ms: number[] = [];
      for (let k = 1; k <= (device === 'cpu' ? 3 : 3 + steps); k++) {
        const t = performance.now();
        const r = await runner.run(batch, [1e-3], [k]);
        ms.push(performance.now() - t);
        if (k <= 3) loss.push(r.loss[0]);
        if (k === 3) {
          await runner.syncToHost();
          runs[device] = { loss, params: new Map([...runner.params()].map(([n, v]) => [n, v.slice()])), ms, device: runner.device };
        }
      }
      runs[device].ms = device === 'cpu' ? ms : ms.slice(3);
      if (fallback) result[`${device}_fallback`] = fallback;
      await runner.release();
    }
    let worst = 0, worstName = '', d2 = 0, a2 = 0;
    for (const [n, a] of runs.cpu.params) {
      const c = runs.cuda.params.get(n)!;
      for (let k = 0; k < a.length; k++) { d2 += (a[k] - c[k]) ** 2; a2 += a[k] ** 2; }
      let diff = 0, scale = 0;
      for (let k = 0; k < a.length; k++) { diff = Math.max(diff, Math.abs(a[k] - c[k])); scale = Math.max(scale, Math.abs(a[k])); }
      if (diff / scale > worst) { worst = diff / scale; worstName = n; }
    }
    Object.assign(result, {
      cuda_device: runs.cuda.device, loss_cpu: runs.cpu.loss, loss_cuda: runs.cuda.loss,
      loss_max_rel_diff: Math.max(...runs.cpu.loss.map((l, k) => Math.abs(l - runs.cuda.loss[k]) / Math.abs(l))),
      params_after_3_steps_max_rel_diff: worst, worst_param: worstName, params_after_3_steps_rel_l2: Math.sqrt(d2 / a2),
      step_ms_cpu: +median(runs.cpu.ms).toFixed(1), step_ms_cuda: +median(runs.cuda.ms).toFixed(1),
      tokens_per_s_cuda: Math.round((s.batch * s.seq) / (median(runs.cuda.ms) / 1000)),
    });
    // Host<->device copies of params and optimizer state dominate single steps on a GPU: time K
    // steps per run (ONNX Loop) too.
    const K = 8;
    const kcfg = stepConfig(s, K, 'cuda');
    const kr = await TrainStepRunner.create(kcfg, buildTrainStep(kcfg), init, { device: 'cuda' });
    const kbatch = randomBatch(s, 3, K);
    const kms: number[] = [];
    for (let rep = 0; rep < 3; rep++) {
      const t = performance.now();
      await kr.run(kbatch, new Array(K).fill(1e-3), Array.from({ length: K }, (_, k) => rep * K + k + 1));
      kms.push(performance.now() - t);
    }
    Object.assign(result, { loop_k: K, loop_device: kr.device, step_ms_cuda_loop: +(median(kms.slice(1)) / K).toFixed(2), tokens_per_s_cuda_loop: Math.round((K * s.batch * s.seq) / (median(kms.slice(1)) / 1000)) });
    await kr.release();
    console.log(JSON.stringify(result));
  }
}

function runChild(args: string[]): Record<string, unknown> | null {
  const r = spawnSync(process.execPath, [__filename, ...args], { encoding: 'utf8', maxBuffer: 1 << 24 });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  try { return JSON.parse(line); } catch { console.error(`bench child failed (${args.join(' ')}):\n${r.stderr}`); return null; }
}

function runTorch(python: string, ref: string, s: Size, steps: number, threads: number): Record<string, unknown> | null {
  const r = spawnSync(python, [ref, '--layers', `${s.layers}`, '--d-model', `${s.d}`, '--heads', `${s.heads}`, '--vocab', `${s.vocab}`,
    '--seq', `${s.seq}`, '--n-positions', `${s.nPositions}`, '--batch', `${s.batch}`, '--steps', `${steps}`, '--threads', `${threads}`, '--decay', 'matrices'],
  { encoding: 'utf8', maxBuffer: 1 << 24 });
  try { return JSON.parse(r.stdout.trim().split('\n').pop() ?? ''); } catch { console.error(`PyTorch reference failed:\n${r.stderr.slice(-2000)}`); return null; }
}

async function main(): Promise<void> {
  const sizes = arg('sizes', 'a,b,c').split(',');
  const steps = Number(arg('steps', '10'));
  const threads = Number(arg('threads', '2'));
  const device = arg('device', 'cpu') as Device;
  const stepsPerRun = arg('steps-per-run', '1,8').split(',').map(Number);
  // --runtimes bound,onnxruntime-node: the engine on each (the bound runtime is the IO-binding addon).
  const runtimes = arg('runtimes', 'auto').split(',');
  if (!stepsPerRun.every((k) => Number.isInteger(k) && k >= 1)) throw new Error(`--steps-per-run takes whole numbers >= 1 separated by commas, got ${arg('steps-per-run', '')}`);
  if (flag('child')) return measureOurs(arg('size', 'a'), device, steps, threads, stepsPerRun[0], Number(arg('lora', '0')));
  if (flag('check-cuda')) return checkCuda(sizes, steps);
  const python = arg('python', '/usr/bin/python3');
  const ref = resolve(arg('ref', join(__dirname, '..', '..', 'shared', 'reference', 'gpt_ref.py')));
  const peak = await sgemmPeak(threads);
  console.log(`SGEMM peak (ORT MatMul 2048^3, ${threads} threads): ${peak.toFixed(1)} GFLOP/s`);
  const rows: Record<string, unknown>[] = [];
  for (const name of sizes) {
    const s = SIZES[name];
    const gflop = stepFlops(s) / 1e9;
    // The engine once per runtime and K, then the PyTorch reference (same invocation).
    const variants = runtimes.flatMap((rt) => stepsPerRun.map((k) => ({ rt, k })));
    const oursByK = variants.map(({ rt, k }) => runChild(['--child', '--size', name, '--steps', `${steps}`, '--threads', `${threads}`, '--device', device, '--steps-per-run', `${k}`, '--runtime', rt]));
    const label = (i: number) => `${runtimes.length > 1 ? `${oursByK[i]?.runtime ?? variants[i].rt}, ` : ''}K=${variants[i].k}`;
    const ours = oursByK[0];
    const torch = flag('no-torch') || !existsSync(ref) ? null : runTorch(python, ref, s, steps, threads);
    const row: Record<string, unknown> = { size: name, gflop_per_step: +gflop.toFixed(1), ours, torch, ...(variants.length > 1 ? { ours_variants: Object.fromEntries(variants.map((_, i) => [label(i), oursByK[i]])) } : {}) };
    const line = [`size ${name}: ${gflop.toFixed(1)} GFLOP/step`];
    oursByK.forEach((o, i) => {
      if (o) line.push(`ours (${label(i)}) ${o.step_ms_median} ms/step, ${o.tokens_per_s} tok/s, ${o.peak_rss_mib} MiB, ${((gflop / ((o.step_ms_median as number) / 1000)) / peak * 100).toFixed(0)}% of SGEMM peak`);
    });
    if (torch) {
      // Debian's reference BLAS (no libopenblas0-openmp) makes PyTorch ~30x slower: say so on the row.
      const blas = String(torch.blas ?? 'unknown');
      if (!/openblas|mkl/i.test(blas)) line.push(`WARNING: PyTorch loaded ${blas}, not OpenBLAS or MKL: the comparison is meaningless (apt-get install -y libopenblas0-openmp)`);
      const tms = torch.step_ms_median as number;
      line.push(`PyTorch ${tms} ms/step, ${torch.tokens_per_s_median} tok/s, ${torch.peak_rss_mib} MiB, ${((gflop / (tms / 1000)) / peak * 100).toFixed(0)}% of peak`);
      const ratios = oursByK.map((o) => (o ? +(tms / (o.step_ms_median as number)).toFixed(2) : null));
      if (ours) { row.speed_ratio = ratios[0]; line.push(`ratio (ours/PyTorch tokens/s) ${variants.map((_, i) => `${label(i)}: ${ratios[i]}`).join(', ')}`); }
      if (variants.length > 1) row.speed_ratio_by_variant = Object.fromEntries(variants.map((_, i) => [label(i), ratios[i]]));
    }
    console.log(line.join('\n  '));
    rows.push(row);
  }
  const out = arg('json', '');
  if (out) { writeFileSync(`${out}.tmp`, JSON.stringify({ date: new Date().toISOString(), threads, device, steps_per_run: stepsPerRun, runtimes, sgemm_peak_gflops: peak, rows }, null, 2)); renameSync(`${out}.tmp`, out); }
}

main().catch((e) => { console.error(e); process.exit(1); });
