// Device selection (--device auto | cpu | cuda): what this GPU-less machine really has (probed), the
// branches it cannot reach (injected probes: everything present, libraries off the loader's path, no
// GPU, an old driver, a provider for another onnxruntime-node, another platform), the messages, and
// that an explicit cuda that cannot work fails before a run folder exists.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CudaProbe, probeCuda } from '../../src/engine/runtime/cuda';
import { CudaUnavailableError, cudaGaps, resolveDevice } from '../../src/engine/runtime/device';
import { CLI_DEVICE_WORDS } from '../../src/cli/deviceWords';
import { PROVIDER_FILES, ortBinaryDir } from '../../src/engine/runtime/cudaProvider';
import { elfNeeded } from '../../src/engine/runtime/elfNeeded';
import { createSession } from '../../src/engine/runtime/session';
import { toModelProto } from '../../src/engine/graph/serialize';
import { newBuilder } from './harness';
import { scratchDir } from '../data/helpers';
import { repoRoot } from '../foundation/repoRoot';

const FIXTURE = join(repoRoot, 'test', 'fixtures', 'elf', 'needs-cuda13.so');
const NO_PIN = { env: {} };

/** A machine where everything is in place (an H200, CUDA 13 driver, provider and libraries found). */
function fullProbe(over: Partial<CudaProbe> = {}): CudaProbe {
  return {
    platform: 'linux-x64', ortVersion: '1.29.0', providerDir: '/x/bin', providerFiles: PROVIDER_FILES.map((name) => ({ name, present: true })),
    providerCudaMajor: 13, recordedOrtVersion: '1.29.0',
    libraries: ['libcudart.so.13', 'libcublasLt.so.13', 'libcudnn.so.9', 'libcuda.so.1'].map((name) => ({ name, path: `/usr/lib/${name}`, elsewhere: [] })),
    loaderPath: ['ldconfig cache', '/usr/lib'], lookedElsewhere: [],
    driver: { version: '580.95.05', cudaVersion: '13.0', source: 'nvidia-smi' },
    gpus: [{ index: 0, name: 'NVIDIA H200', memoryMiB: 143771 }], gpuSource: 'nvidia-smi', complete: true,
    ...over,
  };
}

const providerHere = PROVIDER_FILES.every((f) => existsSync(join(ortBinaryDir(), f)));

test('this machine, probed: without the CUDA provider auto trains on the CPU with a one-line reason, and an explicit cuda is an error naming the files and the fix', { skip: providerHere && 'the CUDA provider is installed here' }, () => {
  const p = probeCuda();
  assert.equal(p.providerDir, ortBinaryDir());
  assert.deepEqual(p.providerFiles.map((f) => f.present), [false, false]);
  const auto = resolveDevice('auto', NO_PIN);
  assert.equal(auto.device, 'cpu');
  assert.match(auto.reason, /^the CPU: the ONNX Runtime CUDA provider is not installed \(libonnxruntime_providers_cuda\.so, libonnxruntime_providers_shared\.so missing in /);
  assert.ok(!auto.reason.includes('\n'));
  assert.throws(() => resolveDevice('cuda', NO_PIN), (e: unknown) => {
    assert.ok(e instanceof CudaUnavailableError);
    assert.equal(e.code, 'cuda-unavailable');
    assert.deepEqual(e.gaps.map((g) => g.code), ['provider']);
    const text = e.describe(CLI_DEVICE_WORDS);
    for (const f of PROVIDER_FILES) assert.ok(text.includes(f), f);
    assert.match(text, /with ftlab setup-cuda/);
    assert.match(text, /Or train on the CPU: --device cpu/);
    return true;
  });
  assert.equal(resolveDevice('cpu', NO_PIN).device, 'cpu');
});

test('sessions: cpu and auto run here; an explicit cuda that cannot work throws instead of training on the CPU', { skip: providerHere && 'the CUDA provider is installed here' }, async () => {
  const b = newBuilder();
  const x = b.input('x', 'float32', [2]);
  b.graph.outputs = [b.add(x, x)];
  const model = toModelProto(b.graph);
  assert.equal((await createSession(model, { device: 'auto' })).device, 'cpu');
  assert.equal((await createSession(model)).device, 'cpu');
  await assert.rejects(createSession(model, { device: 'cuda' }), CudaUnavailableError);
});

test('auto takes CUDA when provider, libraries and a GPU are all there; FTLAB_DEVICE=cpu pins the CPU; cpu stays cpu', () => {
  const probe = () => fullProbe();
  const auto = resolveDevice('auto', { probe, env: {} });
  assert.equal(auto.device, 'cuda');
  assert.equal(auto.reason, 'CUDA: NVIDIA H200 (140 GiB), CUDA 13 provider');
  assert.equal(resolveDevice('cuda', { probe, env: {} }).device, 'cuda');
  assert.equal(resolveDevice('cpu', { probe, env: {} }).device, 'cpu');
  const pinned = resolveDevice('auto', { probe, env: { FTLAB_DEVICE: 'cpu' } });
  assert.deepEqual([pinned.device, pinned.reason], ['cpu', 'the CPU (FTLAB_DEVICE=cpu)']);
  // The pin decides what auto means, never an explicit request.
  assert.equal(resolveDevice('cuda', { probe, env: { FTLAB_DEVICE: 'cpu' } }).device, 'cuda');
  assert.throws(() => resolveDevice('auto', { probe, env: { FTLAB_DEVICE: 'gpu' } }), /FTLAB_DEVICE must be cpu, cuda or auto/);
});

test('each missing part: auto says it in one line, cuda lists every one with its fix', () => {
  const cases: { probe: CudaProbe; codes: string[]; reason: RegExp; fix: RegExp }[] = [
    { probe: fullProbe({ platform: 'darwin-arm64' }), codes: ['platform'], reason: /Linux x64 only \(this is darwin-arm64\)/, fix: /train on the CPU/ },
    { probe: fullProbe({ recordedOrtVersion: '1.28.0' }), codes: ['pairing'], reason: /installed for onnxruntime-node 1\.28\.0, but 1\.29\.0 is installed/, fix: /reinstall the matching provider with ftlab setup-cuda/ },
    {
      probe: fullProbe({ libraries: [{ name: 'libcublasLt.so.13', path: null, elsewhere: ['/venv/nvidia/cublas/lib/libcublasLt.so.13'] }, { name: 'libcuda.so.1', path: '/usr/lib/libcuda.so.1', elsewhere: [] }] }),
      codes: ['libraries'], reason: /not on the loader's path .*: libcublasLt\.so\.13$/, fix: /they are in \/venv\/nvidia\/cublas\/lib: start it with LD_LIBRARY_PATH=\/venv\/nvidia\/cublas\/lib:\$LD_LIBRARY_PATH/,
    },
    {
      probe: fullProbe({ libraries: [{ name: 'libcudnn.so.9', path: null, elsewhere: [] }] }),
      codes: ['libraries'], reason: /libcudnn\.so\.9/, fix: /install the CUDA 13 runtime libraries and cuDNN 9 .*machine with CUDA 12 only can use the CUDA 12 build: ftlab setup-cuda --cuda 12/,
    },
    { probe: fullProbe({ gpus: [], gpuSource: null }), codes: ['gpu'], reason: /no NVIDIA GPU was found/, fix: /install the NVIDIA driver/ },
    { probe: fullProbe({ driver: { version: '550.54', cudaVersion: '12.4', source: 'nvidia-smi' } }), codes: ['driver'], reason: /supports CUDA 12\.4, the provider needs CUDA 13 \(driver 580\.65\.06 or newer\)/, fix: /update the driver, or install the CUDA 12 build \(ftlab setup-cuda --cuda 12\)/ },
    { probe: fullProbe({ gpus: [], gpuSource: null, libraries: [{ name: 'libcudart.so.13', path: null, elsewhere: [] }] }), codes: ['libraries', 'gpu'], reason: /libcudart\.so\.13/, fix: /libcudart\.so\.13[^]*no NVIDIA GPU/ },
  ];
  for (const c of cases) {
    const auto = resolveDevice('auto', { probe: () => c.probe, env: {} });
    assert.equal(auto.device, 'cpu', c.codes.join());
    assert.match(auto.reason, c.reason);
    assert.deepEqual(cudaGaps(c.probe).map((g) => g.code), c.codes);
    assert.throws(() => resolveDevice('cuda', { probe: () => c.probe, env: {} }), (e: unknown) => e instanceof CudaUnavailableError && c.fix.test(e.describe(CLI_DEVICE_WORDS)));
  }
});

test('the probe reads which CUDA the provider links (ELF DT_NEEDED) and finds its libraries on LD_LIBRARY_PATH or off the loader path', () => {
  assert.deepEqual(elfNeeded(FIXTURE), ['libcublasLt.so.13', 'libcudart.so.13']);
  assert.deepEqual(elfNeeded(join(ortBinaryDir(), 'onnxruntime_binding.node')), ['libonnxruntime.so.1', 'libstdc++.so.6', 'libm.so.6', 'libgcc_s.so.1', 'libc.so.6']);
  assert.throws(() => elfNeeded(join(repoRoot, 'package.json')), /is not an ELF file/);

  const dir = scratchDir('cuda-probe');
  const providerDir = join(dir, 'bin'), onPath = join(dir, 'ld'), venv = join(dir, 'venv'), off = join(venv, 'lib', 'python3.12', 'site-packages', 'nvidia', 'cublas', 'lib');
  for (const d of [providerDir, onPath, off]) mkdirSync(d, { recursive: true });
  copyFileSync(FIXTURE, join(providerDir, PROVIDER_FILES[0]));
  writeFileSync(join(providerDir, PROVIDER_FILES[1]), '');
  writeFileSync(join(onPath, 'libcudart.so.13'), '');
  writeFileSync(join(off, 'libcublasLt.so.13'), '');
  const saved = { ld: process.env.LD_LIBRARY_PATH, venv: process.env.VIRTUAL_ENV };
  process.env.LD_LIBRARY_PATH = onPath;
  process.env.VIRTUAL_ENV = venv;
  try {
    const p = probeCuda({ providerDir });
    assert.equal(p.providerCudaMajor, 13);
    const lib = (n: string) => p.libraries.find((l) => l.name === n)!;
    assert.equal(lib('libcudart.so.13').path, join(onPath, 'libcudart.so.13'));
    assert.equal(lib('libcublasLt.so.13').path, null);
    assert.deepEqual(lib('libcublasLt.so.13').elsewhere, [join(off, 'libcublasLt.so.13')]);
    assert.ok(p.loaderPath[0] === onPath && p.lookedElsewhere.includes(off));
    const gap = cudaGaps(p).find((g) => g.code === 'libraries')!;
    assert.ok(gap.names!.includes('libcublasLt.so.13') && !gap.names!.includes('libcudart.so.13'));
    assert.deepEqual(gap.addToLibraryPath, [off]);
  } finally {
    if (saved.ld === undefined) delete process.env.LD_LIBRARY_PATH; else process.env.LD_LIBRARY_PATH = saved.ld;
    if (saved.venv === undefined) delete process.env.VIRTUAL_ENV; else process.env.VIRTUAL_ENV = saved.venv;
  }
});

test('train() with an explicit cuda that cannot work fails before the run folder exists', { skip: providerHere && 'the CUDA provider is installed here' }, async () => {
  const { prepareDataset } = await import('../../src/engine/data/prepareDataset');
  const { PreparedDataset } = await import('../../src/engine/data/preparedDataset');
  const { TRAINING_DEFAULTS, train } = await import('../../src/engine/train/trainer');
  const { gpt2Forward, gpt2Init, gpt2Params } = await import('../../src/engine/models/gpt2');
  const { put, tinyTokenizer } = await import('../data/helpers');
  const dir = scratchDir('cuda-train');
  const tok = await tinyTokenizer(dir, ['Q:', 'A:', 'sky', 'blue']);
  const r = await prepareDataset({ source: { train: put(dir, 'd.jsonl', '{"question": "sky", "answer": "blue"}\n') }, tokenizer: tok, outDir: join(dir, 'prepared') });
  const cfg = { vocabSize: tok.vocabSize, nPositions: 8, nEmbd: 8, nLayer: 1, nHead: 1, layerNormEps: 1e-5, activation: 'tanh' as const, embdDropout: 0, attnDropout: 0, residDropout: 0 };
  const runDir = join(dir, 'run');
  await assert.rejects(train({
    model: { family: 'gpt2', params: gpt2Params(cfg), vocabSize: cfg.vocabSize, maxPositions: 8, nLayers: 1, kvHeads: 1, headDim: 8, layerOf: () => 0, forward: (c, p, ids) => gpt2Forward(c, cfg, p, ids) },
    weights: gpt2Init(cfg, 1), data: PreparedDataset.open(r.dir), runDir, args: { ...TRAINING_DEFAULTS, device: 'cuda', maxSteps: 1, perDeviceTrainBatchSize: 1 },
  }), CudaUnavailableError);
  assert.equal(existsSync(runDir), false);
});

test('driver, CUDA version and GPUs come from nvidia-smi (a stand-in on PATH here), and a too-old driver is a gap', () => {
  const dir = scratchDir('cuda-smi');
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  const smi = join(bin, 'nvidia-smi');
  writeFileSync(smi, `#!/bin/sh
if [ "$#" -gt 0 ]; then printf '0, NVIDIA H200, 143771, 550.54.15\\n1, NVIDIA H200, 143771, 550.54.15\\n'; exit 0; fi
echo '| NVIDIA-SMI 550.54.15    Driver Version: 550.54.15    CUDA Version: 12.4 |'
`, { mode: 0o755 });
  const providerDir = join(dir, 'provider');
  mkdirSync(providerDir);
  copyFileSync(FIXTURE, join(providerDir, PROVIDER_FILES[0]));
  writeFileSync(join(providerDir, PROVIDER_FILES[1]), '');
  const saved = process.env.PATH;
  process.env.PATH = `${bin}:${saved}`;
  try {
    const p = probeCuda({ providerDir });
    assert.deepEqual(p.gpus, [{ index: 0, name: 'NVIDIA H200', memoryMiB: 143771 }, { index: 1, name: 'NVIDIA H200', memoryMiB: 143771 }]);
    assert.deepEqual(p.driver, { version: '550.54.15', cudaVersion: '12.4', source: 'nvidia-smi' });
    assert.equal(p.gpuSource, 'nvidia-smi');
    const driver = cudaGaps(p).find((g) => g.code === 'driver');
    assert.ok(driver && /supports CUDA 12\.4, the provider needs CUDA 13 \(driver 580\.65\.06 or newer\)/.test(driver.problem));
  } finally {
    process.env.PATH = saved;
  }
});
