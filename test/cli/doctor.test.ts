// ftlab doctor: runs here, its JSON has the documented shape and this machine's facts; the text
// form names each part; setup-cuda refuses an unknown CUDA major.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { captureCli } from './captureCli';
import { PROVIDER_FILES, ortBinaryDir } from '../../src/engine/runtime/cudaProvider';
import { repoRoot } from '../foundation/repoRoot';

test('ftlab doctor --json: versions, providers, CUDA parts, CPU and auto\'s choice, with this machine\'s values', async () => {
  const r = await captureCli(['doctor', '--json']);
  assert.equal(r.code, 0);
  const j = JSON.parse(r.out);
  assert.deepEqual(Object.keys(j), ['format', 'version', 'versions', 'platform', 'executionProviders', 'cuda', 'cpu', 'trainingRuntime', 'auto']);
  // The training runtime: the IO-binding addon where it loads (CI requires it), with the reason when not.
  assert.equal(j.trainingRuntime.name, j.trainingRuntime.reason === null ? 'bound' : 'onnxruntime-node');
  if (process.env.FTLAB_ADDON_REQUIRED === '1') assert.equal(j.trainingRuntime.name, 'bound', j.trainingRuntime.reason);
  if (j.trainingRuntime.name === 'bound') assert.ok(existsSync(j.trainingRuntime.addon));
  assert.deepEqual([j.format, j.version], ['ftlab-doctor', 1]);
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'));
  assert.deepEqual(j.versions, { finetuneLab: pkg.version, node: process.version, onnxruntimeNode: pkg.dependencies['onnxruntime-node'], onnxruntimeBinding: pkg.dependencies['onnxruntime-node'] });
  assert.equal(j.platform, `${process.platform}-${process.arch}`);
  assert.deepEqual(j.executionProviders.find((p: { name: string }) => p.name === 'cpu'), { name: 'cpu', bundled: true });
  assert.deepEqual(Object.keys(j.cuda), ['usable', 'gaps', 'provider', 'pinned', 'libraries', 'loaderPath', 'lookedElsewhere', 'driver', 'gpus', 'gpuSource']);
  assert.equal(j.cuda.provider.dir, ortBinaryDir());
  assert.deepEqual(j.cuda.provider.files.map((f: { name: string; present: boolean }) => [f.name, f.present]), PROVIDER_FILES.map((f) => [f, existsSync(join(ortBinaryDir(), f))]));
  assert.ok(j.cuda.pinned.some((b: { cudaMajor: number; source: string }) => b.cudaMajor === 13 && b.source.startsWith('npm ')));
  for (const l of j.cuda.libraries) assert.ok(typeof l.name === 'string' && (l.path === null || existsSync(l.path)) && Array.isArray(l.elsewhere), l.name);
  assert.ok(j.cuda.libraries.some((l: { name: string }) => l.name === 'libcudnn.so.9'));
  assert.deepEqual(Object.keys(j.cuda.driver), ['version', 'cudaVersion', 'source', 'needed']);
  assert.ok(Number.isInteger(j.cpu.threads) && j.cpu.threads >= 1 && typeof j.cpu.model === 'string');
  if (existsSync('/proc/cpuinfo')) {
    const flags = /^flags\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))![1].split(/\s+/);
    assert.equal(j.cpu.features.avx2, flags.includes('avx2'));
    assert.equal(j.cpu.features.avx512f, flags.includes('avx512f'));
  }
  assert.equal(j.cuda.usable, j.cuda.gaps.length === 0);
  assert.equal(j.auto.device, j.cuda.usable && !process.env.FTLAB_DEVICE ? 'cuda' : 'cpu');
  if (!j.cuda.provider.files[0].present) assert.equal(j.cuda.gaps[0].code, 'provider');
});

test('ftlab doctor (text) names every part; setup-cuda refuses an unknown CUDA major', async () => {
  const r = await captureCli(['doctor', '--no-hash']);
  assert.equal(r.code, 0);
  for (const head of ['Fine-Tune Lab ', 'CPU: ', 'Training runtime: ', 'Execution providers in onnxruntime-node: ', 'CUDA provider (', 'CUDA libraries the provider loads', 'NVIDIA driver: ', 'GPUs: ', '--device auto: ']) {
    assert.ok(r.out.split('\n').some((l) => l.startsWith(head)), head);
  }
  const bad = await captureCli(['setup-cuda', '--cuda', '11']);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /--cuda must be one of 13, 12/);
});

test('--device cuda where CUDA cannot work: train and experiment stop with the gaps and the fix before writing any folder', { skip: PROVIDER_FILES.every((f) => existsSync(join(ortBinaryDir(), f))) && 'the CUDA provider is installed here' }, async () => {
  const { scratchDir } = await import('../data/helpers');
  const dir = scratchDir('cli-device-cuda');
  for (const argv of [['train', '--model', join(dir, 'm'), '--data', join(dir, 'd.jsonl'), '--out', join(dir, 'run')], ['experiment', '--data', join(dir, 'd.jsonl'), '--out', join(dir, 'exp')]]) {
    const r = await captureCli([...argv, '--device', 'cuda']);
    assert.equal(r.code, 1, argv[0]);
    assert.match(r.err, new RegExp(`ftlab ${argv[0]}: CUDA training cannot work here:\\n  - the ONNX Runtime CUDA provider is not installed .*with ftlab setup-cuda\\nOr train on the CPU: --device cpu`));
    assert.equal(existsSync(join(dir, argv[0] === 'train' ? 'run' : 'exp')), false);
  }
  const bad = await captureCli(['train', '--model', 'm', '--data', 'd', '--out', 'o', '--device', 'gpu']);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /--device must be one of auto, cpu, cuda/);
});
