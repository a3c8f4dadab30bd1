// `npm run bench:decode`: greedy decoding speed with the static KV cache (tokens/s, batch 1) of our
// generator (weights fed as inputs, the default, and baked in as initializers), of the exported ONNX model
// driven by plain onnxruntime, and of a PyTorch KV-cache decode of
// the same architecture (tools/reference/decode_ref.py over ../shared/reference/gpt_ref.py's GPT), same
// thread count, in the same run. Random weights (GPT-2 init); sizes:
//   small  4 layers, d 256, 4 heads, vocab 4096
//   gpt2   12 layers, d 768, 12 heads, vocab 50257 (GPT-2 124M)
//
//   node dist/bench-decode.js [--sizes small,gpt2] [--prompt 32] [--new 128] [--threads 2] [--reps 3]
//                             [--no-torch] [--no-export] [--omp-passive] [--python /usr/bin/python3] [--json FILE]
//
// --omp-passive runs PyTorch with OMP_WAIT_POLICY=PASSIVE: on a machine whose cores other processes also
// use, OpenMP's spinning workers made PyTorch's 2-thread decode ~8x slower (GPT-2 124M: 409 vs 53 ms/token,
// 1 thread 54 ms); passive waiting removes that artefact. Say which was used when quoting numbers.
//
// ms/token is the mean time between consecutive generated tokens (decode steps only: sampling on the host
// included, prefill excluded); each implementation runs --reps times, alternating, and the median is reported.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { parseHfConfig } from '../src/engine/checkpoint/hfConfig';
import { causalLMFromHf } from '../src/engine/models/hfCausalLM';
import { CausalLM } from '../src/engine/models/causalLM';
import { gpt2Init } from '../src/engine/models/gpt2';
import { Decoder, generate } from '../src/engine/generate/generator';
import { argmax } from '../src/engine/generate/sampling';
import { exportOnnx } from '../src/engine/export/onnxExport';
import { uniformRng } from '../src/engine/random';

interface Size { layers: number; d: number; heads: number; vocab: number; nPositions: number }
const SIZES: Record<string, Size> = {
  small: { layers: 4, d: 256, heads: 4, vocab: 4096, nPositions: 1024 },
  gpt2: { layers: 12, d: 768, heads: 12, vocab: 50257, nPositions: 1024 },
};

function arg(name: string, dflt: string): string {
  const k = process.argv.indexOf(`--${name}`);
  return k >= 0 && process.argv[k + 1] ? process.argv[k + 1] : dflt;
}
const flag = (name: string) => process.argv.includes(`--${name}`);
const median = (xs: number[]) => [...xs].sort((p, q) => p - q)[Math.floor(xs.length / 2)];

function model(s: Size): { lm: CausalLM; weights: Map<string, Float32Array> } {
  const config = parseHfConfig({ model_type: 'gpt2', vocab_size: s.vocab, n_positions: s.nPositions, n_embd: s.d, n_layer: s.layers, n_head: s.heads }, 'bench');
  const init = gpt2Init({ vocabSize: s.vocab, nPositions: s.nPositions, nEmbd: s.d, nLayer: s.layers, nHead: s.heads, layerNormEps: 1e-5, activation: 'tanh', embdDropout: 0, attnDropout: 0, residDropout: 0 }, 1234);
  return { lm: causalLMFromHf(config), weights: new Map([...init].map(([n, w]) => [`transformer.${n}`, w])) };
}

function prompt(s: Size, n: number): number[] {
  const r = uniformRng(7);
  return Array.from({ length: n }, () => Math.floor(r() * s.vocab));
}

/** Our generator: decode ms/token from the gaps between streamed tokens. */
async function ours(d: Decoder, ids: number[], n: number): Promise<{ msPerToken: number; prefillMs: number }> {
  const stamps: number[] = [];
  const t0 = performance.now();
  await generate(d, ids, { greedy: true, maxNewTokens: n, onToken: () => { stamps.push(performance.now()); } });
  return { msPerToken: (stamps[stamps.length - 1] - stamps[0]) / (stamps.length - 1), prefillMs: stamps[0] - t0 };
}

/** The exported model (in-graph cache update, whole cache returned each step) with plain onnxruntime. */
async function exported(path: string, ids: number[], n: number, threads: number): Promise<number> {
  const session = await ort.InferenceSession.create(path, { intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all', logSeverityLevel: 4 });
  const past: Record<string, ort.Tensor> = {};
  for (const m of session.inputMetadata) {
    if (!m.name.startsWith('past_')) continue;
    const shape = (m as unknown as { shape: number[] }).shape;
    past[m.name] = new ort.Tensor('float32', new Float32Array(shape.reduce((a, b) => a * b, 1)), shape);
  }
  let pos = 0, token = 0;
  const step = async (t: number) => {
    const out = await session.run({ input_ids: new ort.Tensor('int64', BigInt64Array.of(BigInt(t)), [1, 1]), positions: new ort.Tensor('int64', BigInt64Array.of(BigInt(pos)), [1]), ...past });
    for (const k of Object.keys(past)) past[k] = out[k.replace('past_', 'present_')] as ort.Tensor;
    pos++;
    token = argmax(out.logits.data as Float32Array);
  };
  for (const t of ids) await step(t);
  const t0 = performance.now();
  for (let i = 0; i < n - 1; i++) await step(token);
  const ms = (performance.now() - t0) / (n - 1);
  await session.release();
  return ms;
}

function torch(s: Size, promptLen: number, n: number, threads: number): { msPerToken: number; raw: Record<string, unknown> } | null {
  const python = arg('python', '/usr/bin/python3');
  let root = __dirname;
  while (!existsSync(join(root, 'tools', 'reference', 'decode_ref.py')) && dirname(root) !== root) root = dirname(root);
  const script = join(root, 'tools', 'reference', 'decode_ref.py');
  const r = spawnSync(python, [script, '--layers', `${s.layers}`, '--d', `${s.d}`, '--heads', `${s.heads}`, '--vocab', `${s.vocab}`, '--n-positions', `${s.nPositions}`,
    '--prompt', `${promptLen}`, '--new', `${n}`, '--threads', `${threads}`], { encoding: 'utf8', env: { ...process.env, ...(flag('omp-passive') ? { OMP_WAIT_POLICY: 'PASSIVE' } : {}) } });
  if (r.status !== 0) { console.error(`PyTorch reference failed: ${r.error?.message ?? r.stderr}`); return null; }
  const raw = JSON.parse(r.stdout.trim().split('\n').pop()!);
  return { msPerToken: raw.ms_per_token, raw };
}

async function main(): Promise<void> {
  const sizes = arg('sizes', 'small,gpt2').split(',');
  const promptLen = Number(arg('prompt', '32')), n = Number(arg('new', '128')), threads = Number(arg('threads', '2')), reps = Number(arg('reps', '3'));
  const rows: Record<string, unknown>[] = [];
  for (const name of sizes) {
    const s = SIZES[name];
    if (!s) throw new Error(`unknown size '${name}' (sizes: ${Object.keys(SIZES).join(', ')})`);
    const { lm, weights } = model(s);
    const ids = prompt(s, promptLen);
    const d = new Decoder(lm, weights, { threads, bakeWeights: false });
    let t0 = performance.now();
    await ours(d, ids, 4); // compile the sessions
    const firstCallMs = performance.now() - t0;
    const baked = new Decoder(lm, weights, { threads, bakeWeights: true });
    t0 = performance.now();
    await ours(baked, ids, 4);
    const bakedFirstCallMs = performance.now() - t0;
    const capacity = 2 ** Math.ceil(Math.log2(promptLen + n));
    const dir = mkdtempSync(join(tmpdir(), 'ftlab-bench-decode-'));
    const onnxPath = flag('no-export') ? null : exportOnnx(lm, weights, join(dir, 'model.onnx'), { capacity }).path;
    const o: number[] = [], pre: number[] = [], ob: number[] = [], e: number[] = [], t: number[] = [];
    let torchRaw: Record<string, unknown> | null = null;
    for (let r = 0; r < reps; r++) {
      const m = await ours(d, ids, n);
      o.push(m.msPerToken);
      pre.push(m.prefillMs);
      ob.push((await ours(baked, ids, n)).msPerToken);
      if (onnxPath) e.push(await exported(onnxPath, ids, n, threads));
      if (!flag('no-torch')) {
        const tr = torch(s, promptLen, n, threads);
        if (tr) { t.push(tr.msPerToken); torchRaw = tr.raw; }
      }
    }
    await d.release();
    await baked.release();
    rmSync(dir, { recursive: true, force: true });
    const row = {
      size: name, ...s, params: lm.params.reduce((a, p) => a + p.shape.reduce((x, y) => x * y, 1), 0), prompt: promptLen, new: n, capacity, threads,
      ours_ms_per_token: +median(o).toFixed(2), ours_tokens_per_s: +(1000 / median(o)).toFixed(1), ours_prefill_ms: +median(pre).toFixed(1),
      ours_first_call_ms: Math.round(firstCallMs), baked_ms_per_token: +median(ob).toFixed(2), baked_first_call_ms: Math.round(bakedFirstCallMs),
      export_ms_per_token: e.length ? +median(e).toFixed(2) : null,
      torch_ms_per_token: t.length ? +median(t).toFixed(2) : null, torch_tokens_per_s: t.length ? +(1000 / median(t)).toFixed(1) : null,
      torch_over_ours: t.length ? +(median(t) / median(o)).toFixed(2) : null, torch_blas: torchRaw?.blas ?? null, torch_omp_passive: flag('omp-passive'),
      all_ms: { ours: o.map((x) => +x.toFixed(2)), baked: ob.map((x) => +x.toFixed(2)), export: e.map((x) => +x.toFixed(2)), torch: t },
    };
    rows.push(row);
    console.log(JSON.stringify(row));
  }
  console.log('\nms/token (decode, batch 1)');
  console.log('size    params  ours  ours-baked  exported  pytorch  pytorch/ours');
  for (const r of rows as Record<string, number | string | null>[]) {
    const col = (v: unknown, w: number) => String(v ?? '-').padStart(w);
    console.log(`${String(r.size).padEnd(6)} ${(Number(r.params) / 1e6).toFixed(1).padStart(6)}M ${col(r.ours_ms_per_token, 5)} ${col(r.baked_ms_per_token, 11)} ${col(r.export_ms_per_token, 9)} ${col(r.torch_ms_per_token, 8)} ${col(r.torch_over_ours, 13)}`);
  }
  const out = arg('json', '');
  if (out) writeFileSync(out, JSON.stringify(rows, null, 2));
}

main().catch((err) => { console.error(err); process.exit(1); });
