// The CUDA provider builds that pair with the pinned onnxruntime-node. ONNX Runtime does not check
// that libonnxruntime_providers_cuda.so comes from the same release as the libonnxruntime.so.1 that
// loads it (a mismatch breaks silently), so the project pins the pairs here and checks them.
//
// onnxruntime-node's own postinstall (script/install.js, manifest 'linux/x64:cuda12') downloads the
// CUDA 12 build from NuGet (Microsoft.ML.OnnxRuntime.Gpu.Linux, same version) when api.nuget.org is
// reachable; the npm registry has no package of Microsoft's with the provider. The CUDA 13 build of
// the same release is on npm as a third party's package (Unity plugin, MIT), which is what
// `ftlab setup-cuda` installs by default.

import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';

export const PROVIDER_FILES = ['libonnxruntime_providers_cuda.so', 'libonnxruntime_providers_shared.so'] as const;

/** Written next to the provider files by setup-cuda: which build they are. */
export const PROVIDER_RECORD = 'ftlab-cuda-provider.json';

export type ProviderSource =
  | { kind: 'npm'; spec: string; pathInPackage: string }
  | { kind: 'nuget'; name: string; version: string; pathInPackage: string };

export interface ProviderBuild {
  /** The onnxruntime-node version this build pairs with. */
  ortVersion: string;
  cudaMajor: number;
  source: ProviderSource;
  /** sha256 of each provider file; null where this release has not recorded them. */
  sha256: Record<string, string> | null;
  /** What the provider loads: the CUDA runtime libraries, cuDNN and the driver's libcuda. */
  libraries: string[];
  /** Oldest Linux driver of this CUDA major (NVIDIA's CUDA Toolkit release notes, table 3). */
  minDriver: string;
}

export const CUDA13_LIBRARIES = ['libcudart.so.13', 'libcublas.so.13', 'libcublasLt.so.13', 'libcurand.so.10', 'libcufft.so.12', 'libcudnn.so.9', 'libcuda.so.1'];
export const CUDA12_LIBRARIES = ['libcudart.so.12', 'libcublas.so.12', 'libcublasLt.so.12', 'libcurand.so.10', 'libcufft.so.11', 'libcudnn.so.9', 'libcuda.so.1'];

export const PROVIDER_BUILDS: readonly ProviderBuild[] = [
  {
    ortVersion: '1.29.0', cudaMajor: 13,
    source: { kind: 'npm', spec: 'com.github.asus4.onnxruntime.linux-x64-gpu@0.4.9', pathInPackage: 'package/Plugins/Linux/x64' },
    // The same files as scripts/gpu/SHA256SUMS (measured on an H200 with onnxruntime-node 1.29.0).
    sha256: {
      'libonnxruntime_providers_cuda.so': '56cf3254b118ad837ccc4ed8f6d1b23504bbf7ef91b34cbc0b289cb7f10b3037',
      'libonnxruntime_providers_shared.so': 'c6a12593396095f5670160e284c35d1700b7708cf3037b7042e2a5200ccae772',
    },
    libraries: CUDA13_LIBRARIES, minDriver: '580.65.06',
  },
  {
    ortVersion: '1.29.0', cudaMajor: 12,
    source: { kind: 'nuget', name: 'Microsoft.ML.OnnxRuntime.Gpu.Linux', version: '1.29.0', pathInPackage: 'runtimes/linux-x64/native' },
    sha256: null,
    libraries: CUDA12_LIBRARIES, minDriver: '525.60.13',
  },
];

/** What setup-cuda wrote about the files it installed. */
export interface ProviderRecord {
  ortVersion: string;
  cudaMajor: number;
  source: ProviderSource;
  files: Record<string, { sha256: string; bytes: number }>;
  installedAt: string;
}

export function installedOrtVersion(): string | null {
  try {
    return JSON.parse(readFileSync(require.resolve('onnxruntime-node/package.json'), 'utf8')).version ?? null;
  } catch {
    return null;
  }
}

/** The folder of libonnxruntime.so.1, where ORT looks for provider libraries. */
export function ortBinaryDir(): string {
  const pkg = dirname(require.resolve('onnxruntime-node/package.json'));
  return join(pkg, 'bin', 'napi-v6', process.platform, process.arch);
}

export function readProviderRecord(dir: string): ProviderRecord | null {
  const p = join(dir, PROVIDER_RECORD);
  if (!existsSync(p)) return null;
  try {
    const r = JSON.parse(readFileSync(p, 'utf8')) as ProviderRecord;
    return typeof r.ortVersion === 'string' && typeof r.cudaMajor === 'number' && r.files ? r : null;
  } catch {
    return null;
  }
}

export async function sha256File(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}

export type Pairing =
  | { state: 'missing'; files: string[] }
  /** The files are a recorded build for this onnxruntime-node (by sha256). */
  | { state: 'paired'; build: ProviderBuild; how: 'sha256' | 'record' }
  /** setup-cuda installed them for another onnxruntime-node version. */
  | { state: 'mismatch'; recorded: string; installed: string | null }
  /** Present, but not a build this release knows (placed by hand, or by onnxruntime-node's own install script). */
  | { state: 'unknown'; sha256: Record<string, string> | null };

/**
 * Which build the provider files in `dir` are. Cheap form (hash: false): setup-cuda's record and the
 * files' sizes; with hash: true the files' sha256 against the pinned builds (about a second for the
 * 400 MB provider).
 */
export async function checkPairing(dir: string, o: { ortVersion: string | null; hash: boolean; builds?: readonly ProviderBuild[] }): Promise<Pairing> {
  const builds = o.builds ?? PROVIDER_BUILDS;
  const missing = PROVIDER_FILES.filter((f) => !existsSync(join(dir, f)));
  if (missing.length) return { state: 'missing', files: missing };
  const record = readProviderRecord(dir);
  if (record && record.ortVersion !== o.ortVersion) return { state: 'mismatch', recorded: record.ortVersion, installed: o.ortVersion };
  if (o.hash) {
    const sums: Record<string, string> = {};
    for (const f of PROVIDER_FILES) sums[f] = await sha256File(join(dir, f));
    const build = builds.find((b) => b.ortVersion === o.ortVersion && b.sha256 && PROVIDER_FILES.every((f) => b.sha256![f] === sums[f]));
    if (build) return { state: 'paired', build, how: 'sha256' };
    if (record && PROVIDER_FILES.every((f) => record.files[f]?.sha256 === sums[f])) {
      const b = builds.find((x) => x.ortVersion === record.ortVersion && x.cudaMajor === record.cudaMajor);
      if (b) return { state: 'paired', build: b, how: 'record' };
    }
    return { state: 'unknown', sha256: sums };
  }
  if (record && PROVIDER_FILES.every((f) => record.files[f]?.bytes === statSync(join(dir, f)).size)) {
    const b = builds.find((x) => x.ortVersion === record.ortVersion && x.cudaMajor === record.cudaMajor);
    if (b) return { state: 'paired', build: b, how: 'record' };
  }
  return { state: 'unknown', sha256: null };
}
