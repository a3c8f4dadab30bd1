// What this machine has for CUDA training, looked up without loading anything into ONNX Runtime:
// the provider files next to libonnxruntime.so.1 (and the CUDA major they were linked against), the
// CUDA libraries they load (where the loader will find them, and where they lie off its path), the
// driver and the GPUs. ORT's own error only says "Failed to load shared library"; this names the part.

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { elfNeeded } from './elfNeeded';
import { CUDA13_LIBRARIES, PROVIDER_BUILDS, PROVIDER_FILES, installedOrtVersion, ortBinaryDir, readProviderRecord } from './cudaProvider';

export { PROVIDER_FILES, ortBinaryDir };

export interface LibraryProbe {
  name: string;
  /** Where the dynamic loader will find it (LD_LIBRARY_PATH, ldconfig's cache, the default folders); null: it will not. */
  path: string | null;
  /** Copies off the loader's path (CUDA toolkit folders, Python environments' nvidia packages). */
  elsewhere: string[];
}

export interface GpuProbe { index: number; name: string; memoryMiB: number | null; }

export interface CudaProbe {
  platform: string;
  ortVersion: string | null;
  providerDir: string;
  providerFiles: { name: string; present: boolean }[];
  /** The CUDA major the provider was linked against (from its ELF DT_NEEDED entries or setup-cuda's record); null: unknown. */
  providerCudaMajor: number | null;
  /** setup-cuda's record says the files are for another onnxruntime-node. */
  recordedOrtVersion: string | null;
  libraries: LibraryProbe[];
  /** Folders the loader searches, in order (LD_LIBRARY_PATH, then the defaults), plus "ldconfig cache". */
  loaderPath: string[];
  /** Folders looked in that the loader does not search. */
  lookedElsewhere: string[];
  driver: { version: string | null; cudaVersion: string | null; source: 'nvidia-smi' | '/proc/driver/nvidia/version' | null };
  gpus: GpuProbe[];
  gpuSource: 'nvidia-smi' | '/proc/driver/nvidia/gpus' | null;
  /** False when probing stopped at the first missing part (auto's quick form). */
  complete: boolean;
}

const SYSTEM_LIBS = /^(libc|libm|libdl|libpthread|librt|libstdc\+\+|libgcc_s|ld-linux[\w-]*)\.so/;

function dirEntries(dir: string): string[] {
  try { return readdirSync(dir); } catch { return []; }
}

/** `a/*\/b/python3*` style patterns: `*` matches within one path segment. */
function expand(pattern: string): string[] {
  let paths = [pattern.startsWith('/') ? '/' : ''];
  for (const seg of pattern.split('/').filter(Boolean)) {
    if (!seg.includes('*')) { paths = paths.map((p) => join(p, seg)); continue; }
    const re = new RegExp(`^${seg.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`);
    paths = paths.flatMap((p) => dirEntries(p).filter((e) => re.test(e)).sort().map((e) => join(p, e)));
  }
  return paths.filter((p) => existsSync(p));
}

function ldconfigCache(): Map<string, string> {
  const m = new Map<string, string>();
  try {
    const out = execFileSync('ldconfig', ['-p'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 });
    for (const line of out.split('\n')) {
      const hit = /^\s*(\S+)\s.*x86-64.*=>\s*(\S+)/.exec(line) ?? /^\s*(\S+)\s.*=>\s*(\S+)/.exec(line);
      if (hit && !m.has(hit[1])) m.set(hit[1], hit[2]);
    }
  } catch { /* no ldconfig: the folders below still count */ }
  return m;
}

/** Places CUDA libraries often are that the loader does not search unless told to. */
function offPathDirs(): string[] {
  const py = ['lib/python3*/site-packages/nvidia/*/lib', 'lib/python3*/dist-packages/nvidia/*/lib'];
  const roots = [process.env.VIRTUAL_ENV, process.env.CONDA_PREFIX, join(homedir(), '.local'), '/usr/local', '/usr', '/opt/conda'].filter((r): r is string => !!r);
  return [
    ...expand('/usr/local/cuda/lib64'), ...expand('/usr/local/cuda-*/lib64'), ...expand('/usr/local/cuda/targets/x86_64-linux/lib'),
    ...roots.flatMap((r) => py.flatMap((p) => expand(join(r, p)))),
  ];
}

function run(cmd: string, args: string[]): string | null {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 10_000 });
  } catch {
    return null;
  }
}

function probeDriverAndGpus(): Pick<CudaProbe, 'driver' | 'gpus' | 'gpuSource'> {
  const q = run('nvidia-smi', ['--query-gpu=index,name,memory.total,driver_version', '--format=csv,noheader,nounits']);
  if (q !== null) {
    const rows = q.trim().split('\n').filter(Boolean).map((l) => l.split(',').map((x) => x.trim()));
    const head = run('nvidia-smi', []) ?? '';
    return {
      gpus: rows.map((r) => ({ index: Number(r[0]), name: r[1] ?? 'unknown', memoryMiB: Number.isFinite(Number(r[2])) ? Number(r[2]) : null })),
      gpuSource: 'nvidia-smi',
      driver: { version: rows[0]?.[3] ?? /Driver Version:\s*([\d.]+)/.exec(head)?.[1] ?? null, cudaVersion: /CUDA Version:\s*([\d.]+)/.exec(head)?.[1] ?? null, source: 'nvidia-smi' },
    };
  }
  // No nvidia-smi: the kernel module's own files.
  let version: string | null = null;
  try { version = /Kernel Module\s+(?:for \S+\s+)?([\d.]+)/.exec(readFileSync('/proc/driver/nvidia/version', 'utf8'))?.[1] ?? null; } catch { /* no driver */ }
  const gpuDirs = dirEntries('/proc/driver/nvidia/gpus').sort();
  const gpus = gpuDirs.map((d, index) => {
    let name = 'unknown';
    try { name = /Model:\s*(.+)/.exec(readFileSync(join('/proc/driver/nvidia/gpus', d, 'information'), 'utf8'))?.[1]?.trim() ?? name; } catch { /* unreadable */ }
    return { index, name, memoryMiB: null };
  });
  return { gpus, gpuSource: gpus.length ? '/proc/driver/nvidia/gpus' : null, driver: { version, cudaVersion: null, source: version ? '/proc/driver/nvidia/version' : null } };
}

/** The CUDA libraries the provider in `dir` loads: its DT_NEEDED entries plus what it opens at run time (cuDNN, libcuda). */
function providerNeeds(dir: string, major: number | null): string[] {
  const base = PROVIDER_BUILDS.find((b) => b.cudaMajor === major)?.libraries ?? CUDA13_LIBRARIES;
  try {
    const needed = elfNeeded(join(dir, PROVIDER_FILES[0])).filter((n) => !SYSTEM_LIBS.test(n) && !n.startsWith('libonnxruntime'));
    return [...new Set([...needed, ...base])];
  } catch {
    return base;
  }
}

function majorFromElf(dir: string): number | null {
  try {
    const lt = elfNeeded(join(dir, PROVIDER_FILES[0])).map((n) => /^libcu(?:blasLt|dart|blas)\.so\.(\d+)$/.exec(n)?.[1]).find(Boolean);
    return lt ? Number(lt) : null;
  } catch {
    return null;
  }
}

export interface ProbeOptions {
  /** Stop at the first missing part (what auto needs), skipping the slower look-ups after it. */
  quick?: boolean;
  providerDir?: string;
}

export function probeCuda(o: ProbeOptions = {}): CudaProbe {
  const platform = `${process.platform}-${process.arch}`;
  let providerDir = o.providerDir ?? '';
  try { providerDir ||= ortBinaryDir(); } catch { /* onnxruntime-node not resolvable */ }
  const p: CudaProbe = {
    platform, ortVersion: installedOrtVersion(), providerDir,
    providerFiles: PROVIDER_FILES.map((name) => ({ name, present: !!providerDir && existsSync(join(providerDir, name)) })),
    providerCudaMajor: null, recordedOrtVersion: null, libraries: [], loaderPath: [], lookedElsewhere: [],
    driver: { version: null, cudaVersion: null, source: null }, gpus: [], gpuSource: null, complete: false,
  };
  if (platform !== 'linux-x64') return p;
  const haveProvider = p.providerFiles.every((f) => f.present);
  if (o.quick && !haveProvider) return p;
  const record = haveProvider ? readProviderRecord(providerDir) : null;
  p.recordedOrtVersion = record?.ortVersion ?? null;
  p.providerCudaMajor = haveProvider ? (majorFromElf(providerDir) ?? record?.cudaMajor ?? null) : null;
  if (o.quick && record && record.ortVersion !== p.ortVersion) return p;

  const ldPath = (process.env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean);
  const defaults = ['/lib', '/usr/lib', '/lib64', '/usr/lib64', '/lib/x86_64-linux-gnu', '/usr/lib/x86_64-linux-gnu', '/usr/lib/wsl/lib'];
  p.loaderPath = [...ldPath, 'ldconfig cache', ...defaults.filter((d) => existsSync(d))];
  const cache = ldconfigCache();
  const elsewhere = offPathDirs().filter((d) => !ldPath.includes(d));
  p.lookedElsewhere = elsewhere;
  const needs = providerNeeds(providerDir, p.providerCudaMajor);
  const find = (name: string, dirs: string[]) => dirs.map((d) => join(d, name)).filter((f) => existsSync(f));
  p.libraries = needs.map((name) => ({
    name,
    path: find(name, ldPath)[0] ?? cache.get(name) ?? find(name, defaults)[0] ?? (existsSync(join(providerDir, name)) ? join(providerDir, name) : null),
    elsewhere: find(name, elsewhere),
  }));
  if (o.quick && p.libraries.some((l) => !l.path)) return p;
  Object.assign(p, probeDriverAndGpus());
  if (!p.gpus.length && existsSync('/dev/nvidia0')) p.gpus = [{ index: 0, name: 'unknown (/dev/nvidia0)', memoryMiB: null }];
  p.complete = true;
  return p;
}

/** Probed once per process for auto and createSession (a process does not gain a GPU while it runs). */
let cached: CudaProbe | null = null;
export function cudaProbeOnce(): CudaProbe {
  return (cached ??= probeCuda({ quick: true }));
}

/** The size of a file in MiB, for messages. */
export function fileMiB(file: string): number {
  try { return Math.round(statSync(file).size / 2 ** 20); } catch { return 0; }
}
