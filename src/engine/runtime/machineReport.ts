// What `ftlab doctor` reports: versions, ONNX Runtime's execution providers, the CUDA provider and
// the libraries it loads (found, missing, where looked), driver and CUDA versions needed and found,
// GPUs, the CPU (model, AVX2/AVX-512, threads) and what --device auto picks here. One typed object,
// printed as text or JSON by the CLI.

import { availableParallelism, cpus } from 'node:os';
import { readFileSync } from 'node:fs';
import { CudaProbe, probeCuda } from './cuda';
import { PROVIDER_BUILDS, Pairing, checkPairing } from './cudaProvider';
import { CudaGap, DeviceChoice, cudaGaps, resolveDevice } from './device';
import { addonPath, boundSessionUnavailable } from './boundSession';

export const MACHINE_REPORT_FORMAT = 'ftlab-doctor';
export const MACHINE_REPORT_VERSION = 1;

export interface CpuReport {
  model: string;
  /** Threads Node sees (os.availableParallelism: cgroup and affinity limits included). */
  threads: number;
  /** From /proc/cpuinfo's flags (Linux); null where not readable. */
  features: { avx2: boolean; fma: boolean; avx512f: boolean; avx512bw: boolean; avx512vnni: boolean; avx512bf16: boolean; amxTile: boolean } | null;
}

export interface MachineReport {
  format: typeof MACHINE_REPORT_FORMAT;
  version: typeof MACHINE_REPORT_VERSION;
  versions: { finetuneLab: string; node: string; onnxruntimeNode: string | null; onnxruntimeBinding: string | null };
  platform: string;
  /** Providers onnxruntime-node was built with; bundled: false means extra files are needed (CUDA, TensorRT). */
  executionProviders: { name: string; bundled: boolean }[];
  cuda: {
    usable: boolean;
    gaps: CudaGap[];
    provider: { dir: string; files: { name: string; present: boolean }[]; cudaMajor: number | null; pairing: Pairing | { state: 'not-checked' } };
    /** The builds this release pairs with the installed onnxruntime-node (what setup-cuda installs). */
    pinned: { ortVersion: string; cudaMajor: number; source: string; minDriver: string }[];
    libraries: CudaProbe['libraries'];
    loaderPath: string[];
    lookedElsewhere: string[];
    driver: CudaProbe['driver'] & { needed: { cudaMajor: number; minDriver: string } | null };
    gpus: CudaProbe['gpus'];
    gpuSource: CudaProbe['gpuSource'];
  };
  cpu: CpuReport;
  /**
   * How training runs ONNX Runtime: 'bound' through the IO-binding addon (parameters updated in place),
   * else 'onnxruntime-node' (its copying run()), with why the addon is not used.
   */
  trainingRuntime: { name: 'bound' | 'onnxruntime-node'; addon: string | null; reason: string | null };
  /** What --device auto picks here, and why; env: FTLAB_DEVICE when set. */
  auto: DeviceChoice & { env: string | null };
}

export function cpuReport(cpuinfo: string | null = readCpuinfo()): CpuReport {
  const flags = cpuinfo ? new Set((/^flags\s*:\s*(.*)$/m.exec(cpuinfo)?.[1] ?? '').split(/\s+/)) : null;
  return {
    model: (cpuinfo && /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1]?.trim()) || cpus()[0]?.model || 'unknown',
    threads: availableParallelism(),
    features: flags && {
      avx2: flags.has('avx2'), fma: flags.has('fma'), avx512f: flags.has('avx512f'), avx512bw: flags.has('avx512bw'),
      avx512vnni: flags.has('avx512_vnni'), avx512bf16: flags.has('avx512_bf16'), amxTile: flags.has('amx_tile'),
    },
  };
}

function readCpuinfo(): string | null {
  try { return readFileSync('/proc/cpuinfo', 'utf8'); } catch { return null; }
}

function describeSource(s: (typeof PROVIDER_BUILDS)[number]['source']): string {
  return s.kind === 'npm' ? `npm ${s.spec}` : `NuGet ${s.name} ${s.version}`;
}

/** o.hash: check the provider files' sha256 against the pinned builds (about a second when they are there). */
export async function machineReport(o: { appVersion: string; hash?: boolean; probe?: CudaProbe }): Promise<MachineReport> {
  let providers: { name: string; bundled: boolean }[] = [];
  let binding: string | null = null;
  try {
    const ort = await import('onnxruntime-node');
    providers = ort.listSupportedBackends().map((b) => ({ name: b.name, bundled: b.bundled }));
    binding = ort.env.versions.node ?? null;
  } catch { /* reported through versions.onnxruntimeBinding = null */ }
  const p = o.probe ?? probeCuda();
  const gaps = cudaGaps(p);
  const pairing = p.providerDir ? await checkPairing(p.providerDir, { ortVersion: p.ortVersion, hash: o.hash ?? true }) : { state: 'not-checked' as const };
  const build = PROVIDER_BUILDS.find((b) => b.ortVersion === p.ortVersion && b.cudaMajor === (p.providerCudaMajor ?? 13));
  let auto: DeviceChoice;
  try {
    auto = resolveDevice('auto', { probe: () => p });
  } catch (err) {
    auto = { device: 'cpu', request: 'auto', reason: err instanceof Error ? err.message : String(err) };
  }
  return {
    format: MACHINE_REPORT_FORMAT, version: MACHINE_REPORT_VERSION,
    versions: { finetuneLab: o.appVersion, node: process.version, onnxruntimeNode: p.ortVersion, onnxruntimeBinding: binding },
    platform: p.platform,
    executionProviders: providers,
    cuda: {
      usable: gaps.length === 0, gaps,
      provider: { dir: p.providerDir, files: p.providerFiles, cudaMajor: p.providerCudaMajor, pairing },
      pinned: PROVIDER_BUILDS.filter((b) => b.ortVersion === p.ortVersion).map((b) => ({ ortVersion: b.ortVersion, cudaMajor: b.cudaMajor, source: describeSource(b.source), minDriver: b.minDriver })),
      libraries: p.libraries, loaderPath: p.loaderPath, lookedElsewhere: p.lookedElsewhere,
      driver: { ...p.driver, needed: build ? { cudaMajor: build.cudaMajor, minDriver: build.minDriver } : null },
      gpus: p.gpus, gpuSource: p.gpuSource,
    },
    cpu: cpuReport(),
    trainingRuntime: trainingRuntime(),
    auto: { ...auto, env: process.env.FTLAB_DEVICE ?? null },
  };
}

function trainingRuntime(): MachineReport['trainingRuntime'] {
  const reason = boundSessionUnavailable();
  return { name: reason ? 'onnxruntime-node' : 'bound', addon: addonPath(), reason };
}
