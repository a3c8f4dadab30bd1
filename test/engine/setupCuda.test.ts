// setup-cuda offline: installing a provider build from a package .tgz, a folder, a fetcher (npm pack's
// stand-in) or onnxruntime-node's install script (its stand-in); the sha256 check that refuses a wrong
// file before anything is replaced; the record and the pairing check that read it; and the pinned table
// against package.json's onnxruntime-node and scripts/gpu/SHA256SUMS.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROVIDER_BUILDS, PROVIDER_FILES, PROVIDER_RECORD, ProviderBuild, checkPairing } from '../../src/engine/runtime/cudaProvider';
import { SetupCudaError, setupCuda } from '../../src/engine/runtime/setupCuda';
import { repoRoot } from '../foundation/repoRoot';
import { scratchDir } from '../data/helpers';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const CONTENT: Record<string, string> = { [PROVIDER_FILES[0]]: 'cuda provider bytes', [PROVIDER_FILES[1]]: 'shared provider bytes' };
const PKG_PATH = 'package/Plugins/Linux/x64';

function builds(): ProviderBuild[] {
  return [
    { ortVersion: '9.9.9', cudaMajor: 13, source: { kind: 'npm', spec: 'fake-provider@1.0.0', pathInPackage: PKG_PATH }, sha256: Object.fromEntries(PROVIDER_FILES.map((f) => [f, sha(CONTENT[f])])), libraries: [], minDriver: '580.65.06' },
    { ortVersion: '9.9.9', cudaMajor: 12, source: { kind: 'nuget', name: 'Fake.Gpu.Linux', version: '9.9.9', pathInPackage: 'runtimes/linux-x64/native' }, sha256: null, libraries: [], minDriver: '525.60.13' },
  ];
}

function filesIn(dir: string, content = CONTENT): string {
  mkdirSync(dir, { recursive: true });
  for (const f of PROVIDER_FILES) writeFileSync(join(dir, f), content[f]);
  return dir;
}

test('installs a pinned build from a folder: sha256 checked, record written, pairing paired; a second run finds it installed', async () => {
  const dir = scratchDir('setup-cuda-folder');
  const providerDir = join(dir, 'bin');
  mkdirSync(providerDir);
  const o = { providerDir, ortVersion: '9.9.9', builds: builds(), from: filesIn(join(dir, 'src')) };
  const r = await setupCuda(o);
  assert.equal(r.outcome, 'installed');
  for (const f of PROVIDER_FILES) assert.equal(readFileSync(join(providerDir, f), 'utf8'), CONTENT[f]);
  const record = JSON.parse(readFileSync(join(providerDir, PROVIDER_RECORD), 'utf8'));
  assert.deepEqual([record.ortVersion, record.cudaMajor, record.source.spec], ['9.9.9', 13, 'fake-provider@1.0.0']);
  assert.equal(record.files[PROVIDER_FILES[0]].sha256, sha(CONTENT[PROVIDER_FILES[0]]));
  assert.equal(r.pairing.state, 'paired');
  assert.equal((await checkPairing(providerDir, { ortVersion: '9.9.9', hash: false, builds: builds() })).state, 'paired');
  // Another onnxruntime-node under the same files: a mismatch, which auto and doctor report.
  assert.deepEqual(await checkPairing(providerDir, { ortVersion: '9.9.10', hash: false, builds: builds() }), { state: 'mismatch', recorded: '9.9.9', installed: '9.9.10' });
  assert.equal((await setupCuda(o)).outcome, 'already');
});

test('a file that is not the pinned build is refused before anything is replaced', async () => {
  const dir = scratchDir('setup-cuda-wrong');
  const providerDir = join(dir, 'bin');
  mkdirSync(providerDir);
  const from = filesIn(join(dir, 'src'), { ...CONTENT, [PROVIDER_FILES[0]]: 'a provider of another release' });
  await assert.rejects(setupCuda({ providerDir, ortVersion: '9.9.9', builds: builds(), from }), (e: unknown) => {
    assert.ok(e instanceof SetupCudaError);
    assert.equal(e.code, 'checksum');
    assert.match(e.message, /is not the pinned build \(sha256 [0-9a-f]{64}, expected [0-9a-f]{64}\).*nothing was installed/);
    return true;
  });
  assert.deepEqual(PROVIDER_FILES.map((f) => existsSync(join(providerDir, f))), [false, false]);
  assert.equal(existsSync(join(providerDir, PROVIDER_RECORD)), false);
});

test('from the npm package: a .tgz given with --from, or fetched (npm pack stand-in)', async () => {
  const dir = scratchDir('setup-cuda-tgz');
  filesIn(join(dir, 'pkg', PKG_PATH));
  const tgz = join(dir, 'fake-provider-1.0.0.tgz');
  execFileSync('tar', ['-czf', tgz, '-C', join(dir, 'pkg'), 'package']);
  for (const how of ['from', 'fetch'] as const) {
    const providerDir = join(dir, `bin-${how}`);
    mkdirSync(providerDir);
    const fetched: string[] = [];
    const r = await setupCuda({
      providerDir, ortVersion: '9.9.9', builds: builds(),
      ...(how === 'from' ? { from: tgz } : { fetchNpm: async (spec: string) => { fetched.push(spec); return tgz; } }),
    });
    assert.equal(r.pairing.state, 'paired', how);
    assert.deepEqual(fetched, how === 'fetch' ? ['fake-provider@1.0.0'] : []);
    assert.equal(readFileSync(join(providerDir, PROVIDER_FILES[1]), 'utf8'), CONTENT[PROVIDER_FILES[1]]);
  }
  mkdirSync(join(dir, 'bin-none'));
  await assert.rejects(setupCuda({ providerDir: join(dir, 'bin-none'), ortVersion: '9.9.9', builds: builds(), cudaMajor: 13, from: join(dir, 'missing.tgz') }), /does not exist/);
});

test('CUDA 12: the NuGet build through onnxruntime-node\'s install script (stand-in), recorded without a pinned sha256', async () => {
  const dir = scratchDir('setup-cuda-12');
  const providerDir = join(dir, 'bin');
  mkdirSync(providerDir);
  const flags: string[] = [];
  const r = await setupCuda({ providerDir, ortVersion: '9.9.9', builds: builds(), cudaMajor: 12, runOrtInstall: async (flag) => { flags.push(flag); filesIn(providerDir, { [PROVIDER_FILES[0]]: 'cuda 12 build', [PROVIDER_FILES[1]]: 'shared, cuda 12 build' }); } });
  assert.deepEqual(flags, ['cuda12']);
  assert.equal(r.pairing.state, 'paired');
  assert.ok(r.pairing.state === 'paired' && r.pairing.build.cudaMajor === 12 && r.pairing.how === 'record');
});

test('no build recorded for this onnxruntime-node or CUDA major: an error that lists what is recorded', async () => {
  const providerDir = scratchDir('setup-cuda-none');
  await assert.rejects(setupCuda({ providerDir, ortVersion: '9.9.9', builds: builds(), cudaMajor: 11 }), (e: unknown) => e instanceof SetupCudaError && e.code === 'no-build' && /no CUDA 11 provider build is recorded for onnxruntime-node 9\.9\.9 \(recorded: CUDA 13, CUDA 12\)/.test(e.message));
  await assert.rejects(setupCuda({ providerDir, ortVersion: '1.0.0', builds: builds() }), /recorded for: 9\.9\.9; install that onnxruntime-node version/);
});

test('the pinned builds pair with package.json\'s onnxruntime-node, and their sha256 is the one scripts/gpu measured with', () => {
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'));
  const ort = pkg.dependencies['onnxruntime-node'];
  assert.deepEqual(PROVIDER_BUILDS.filter((b) => b.ortVersion === ort).map((b) => b.cudaMajor).sort(), [12, 13], `no pinned CUDA provider builds for onnxruntime-node ${ort}: add them to src/engine/runtime/cudaProvider.ts`);
  const sums = new Map(readFileSync(join(repoRoot, 'scripts', 'gpu', 'SHA256SUMS'), 'utf8').trim().split('\n').map((l) => l.split(/\s+/)).map(([h, n]) => [n, h]));
  const npmBuild = PROVIDER_BUILDS.find((b) => b.ortVersion === ort && b.cudaMajor === 13)!;
  for (const f of PROVIDER_FILES) assert.equal(npmBuild.sha256![f], sums.get(f), f);
  assert.equal(npmBuild.source.kind, 'npm');
  assert.ok(npmBuild.source.kind === 'npm' && readFileSync(join(repoRoot, 'scripts', 'gpu', 'build-bundle.sh'), 'utf8').includes(npmBuild.source.spec));
  // onnxruntime-node's own postinstall fetches the CUDA 12 build from NuGet, not from npm.
  const meta = readFileSync(join(repoRoot, 'node_modules', 'onnxruntime-node', 'script', 'install-metadata.js'), 'utf8');
  const nuget = PROVIDER_BUILDS.find((b) => b.ortVersion === ort && b.cudaMajor === 12)!;
  assert.ok(nuget.source.kind === 'nuget' && meta.includes(nuget.source.name) && meta.includes("'linux/x64': ['cuda12']"));
});
