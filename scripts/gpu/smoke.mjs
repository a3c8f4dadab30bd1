#!/usr/bin/env node
// CUDA smoke test for onnxruntime-node + the CUDA 13 provider (see .gpu/README.md).
//   node scripts/gpu/smoke.mjs            # CUDA session vs CPU session vs JS reference
//   node scripts/gpu/smoke.mjs --cpu      # CPU only (runs anywhere; used to test this script)
//   options: --device N   --verbose (ORT log level 0 on the CUDA session)   --no-bench
// Prints one JSON object on stdout (last line); exit code 0 only when ok.
// onnxruntime-node is taken from $FTLAB_ORT_DIR, else $FTLAB_GPU_DIR (default /tmp/ftlab-gpu)/node_modules/onnxruntime-node
// (where scripts/gpu/unpack.sh puts it), else normal resolution (repo node_modules, NODE_PATH).
import { createRequire } from 'node:module';
import fs from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const cpuOnly = args.includes('--cpu');
const verbose = args.includes('--verbose');
const bench = !args.includes('--no-bench');
const devIdx = args.indexOf('--device');
const deviceId = devIdx >= 0 ? Number(args[devIdx + 1]) : 0;
const modelPath = path.join(here, 'matmul.onnx');

const result = {
  ok: false,
  node: process.version,
  mode: cpuOnly ? 'cpu' : 'cuda',
  providersTried: [],
  ortPath: null,
  ortVersion: null,
  ldLibraryPathEntries: (process.env.LD_LIBRARY_PATH || '').split(':').filter(Boolean).length,
  providerFiles: {},
  lddNotFound: null,
  maxAbsDiff: null,
  maxNormErr: null,
  error: null,
  sessions: {},
  cases: [],
};

function finish(code) {
  console.log(JSON.stringify(result, null, 1));
  process.exit(code);
}

let ort;
try {
  const gpuDir = process.env.FTLAB_GPU_DIR || '/tmp/ftlab-gpu';
  const candidates = [process.env.FTLAB_ORT_DIR, path.join(gpuDir, 'node_modules', 'onnxruntime-node')].filter(Boolean);
  const dir = candidates.find((d) => fs.existsSync(path.join(d, 'package.json')));
  const id = dir ?? 'onnxruntime-node';
  result.ortPath = require.resolve(id);
  ort = require(id);
  result.ortVersion = ort.env?.versions ?? null;
  const binDir = path.join(path.dirname(result.ortPath), '..', 'bin', 'napi-v6', process.platform, process.arch);
  for (const f of ['libonnxruntime.so.1', 'libonnxruntime_providers_shared.so', 'libonnxruntime_providers_cuda.so']) {
    const p = path.join(binDir, f);
    result.providerFiles[f] = fs.existsSync(p) ? fs.statSync(p).size : 'MISSING';
  }
  // ORT's JS error only says "Failed to load shared library"; the reason goes to its stderr log.
  // ldd shows which CUDA libraries the provider cannot find with the current LD_LIBRARY_PATH.
  const cudaLib = path.join(binDir, 'libonnxruntime_providers_cuda.so');
  if (!cpuOnly && fs.existsSync(cudaLib)) {
    try {
      const out = execFileSync('ldd', [cudaLib], { encoding: 'utf8' });
      result.lddNotFound = out.split('\n').filter((l) => l.includes('not found')).map((l) => l.trim().split(' ')[0]);
    } catch (e) {
      result.lddNotFound = `ldd failed: ${e?.message ?? e}`;
    }
  }
} catch (e) {
  result.error = `cannot load onnxruntime-node: ${e?.message ?? e}`;
  console.error(result.error);
  finish(2);
}

// Deterministic PRNG (mulberry32) -> uniform [-1, 1).
let seed = 12345;
function rnd() {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
}
const randArr = (n) => Float32Array.from({ length: n }, rnd);

function makeFeeds(M, K, N) {
  const a = randArr(M * K), b = randArr(K * N), c = randArr(N);
  return {
    raw: { a, b, c },
    feeds: {
      A: new ort.Tensor('float32', a, [M, K]),
      B: new ort.Tensor('float32', b, [K, N]),
      C: new ort.Tensor('float32', c, [N]),
    },
  };
}

// float64 reference; also the per-element error scale sum_k |a||b| + |c|.
function reference({ a, b, c }, M, K, N) {
  const y = new Float64Array(M * N), s = new Float64Array(M * N);
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let acc = c[j], sc = Math.abs(c[j]);
      for (let k = 0; k < K; k++) {
        const p = a[i * K + k] * b[k * N + j];
        acc += p;
        sc += Math.abs(p);
      }
      y[i * N + j] = acc;
      s[i * N + j] = sc;
    }
  }
  return { y, s };
}

function diff(x, y, scale) {
  let maxAbs = 0, maxNorm = 0;
  for (let i = 0; i < x.length; i++) {
    const d = Math.abs(x[i] - y[i]);
    if (!(d <= maxAbs)) maxAbs = d; // catches NaN
    if (scale) {
      const n = d / Math.max(scale[i], 1e-30);
      if (!(n <= maxNorm)) maxNorm = n;
    }
  }
  return { maxAbs, maxNorm: scale ? maxNorm : undefined };
}

async function createSession(name) {
  result.providersTried.push(name);
  const t0 = performance.now();
  const opts = {
    executionProviders: name === 'cuda' ? [{ name: 'cuda', deviceId }] : ['cpu'],
    logSeverityLevel: name === 'cuda' && verbose ? 0 : 3,
  };
  try {
    const s = await ort.InferenceSession.create(modelPath, opts);
    result.sessions[name] = { ok: true, createMs: +(performance.now() - t0).toFixed(1) };
    return s;
  } catch (e) {
    const msg = String(e?.message ?? e);
    result.sessions[name] = { ok: false, error: msg };
    console.error(`\n*** ${name.toUpperCase()} SESSION FAILED ***\n${msg}\n`);
    return null;
  }
}

const cpu = await createSession('cpu');
const gpu = cpuOnly ? null : await createSession('cuda');
const primary = cpuOnly ? cpu : gpu;
if (!primary) {
  result.error = result.sessions[cpuOnly ? 'cpu' : 'cuda']?.error ?? 'no session';
  finish(1);
}

// fp32 on CPU should be ~1e-6 normalised; CUDA may use TF32 for MatMul (ORT default), ~1e-3.
const tol = cpuOnly ? 1e-5 : 5e-3;
let worstAbs = 0, worstNorm = 0;
try {
  for (const [M, K, N] of [[1, 1, 1], [3, 5, 7], [64, 128, 32], [257, 511, 129]]) {
    const { raw, feeds } = makeFeeds(M, K, N);
    const ref = reference(raw, M, K, N);
    const yp = (await primary.run(feeds)).Y.data;
    const dp = diff(yp, ref.y, ref.s);
    const row = { shape: [M, K, N], maxAbsDiffVsRef: dp.maxAbs, maxNormErrVsRef: dp.maxNorm };
    if (!cpuOnly && cpu) {
      const yc = (await cpu.run(feeds)).Y.data;
      row.maxAbsDiffVsCpu = diff(yp, yc).maxAbs;
      row.cpuMaxAbsDiffVsRef = diff(yc, ref.y).maxAbs;
    }
    result.cases.push(row);
    if (!(dp.maxAbs <= worstAbs)) worstAbs = dp.maxAbs;
    if (!(dp.maxNorm <= worstNorm)) worstNorm = dp.maxNorm;
  }
  result.maxAbsDiff = worstAbs;
  result.maxNormErr = worstNorm;
  result.ok = worstNorm <= tol;
  if (!result.ok) result.error = `normalised error ${worstNorm} > tolerance ${tol}`;

  if (bench) {
    // Timing hint that the CUDA session really runs on the GPU (same inputs on both sessions).
    const S = 1024;
    const { feeds } = makeFeeds(S, S, S);
    const time = async (s, iters) => {
      await s.run(feeds);
      const t0 = performance.now();
      let out;
      for (let i = 0; i < iters; i++) out = await s.run(feeds);
      return { ms: +((performance.now() - t0) / iters).toFixed(2), y: out.Y.data };
    };
    const b = { shape: [S, S, S] };
    const tp = await time(primary, 10);
    b[`${result.mode}MsPerRun`] = tp.ms;
    if (!cpuOnly && cpu) {
      const tc = await time(cpu, 3);
      b.cpuMsPerRun = tc.ms;
      b.maxAbsDiffVsCpu = diff(tp.y, tc.y).maxAbs;
    }
    result.bench = b;
  }
} catch (e) {
  result.ok = false;
  result.error = `run failed: ${e?.message ?? e}`;
  console.error(result.error);
}
finish(result.ok ? 0 : 1);
