// Which device a run trains on. 'auto' (what users get by default): CUDA when the provider files,
// the CUDA libraries and a GPU are all there, else the CPU with a one-line reason. An explicit 'cuda'
// that cannot work is an error naming what is missing and how to fix it, raised before a run starts.
// FTLAB_DEVICE=cpu|cuda in the environment decides what 'auto' means (the test suite pins the CPU).

import { CudaProbe, cudaProbeOnce, probeCuda } from './cuda';
import { PROVIDER_BUILDS } from './cudaProvider';

export type Device = 'cpu' | 'cuda';
export type DeviceRequest = 'auto' | Device;
export const DEVICE_REQUESTS: readonly DeviceRequest[] = ['auto', 'cpu', 'cuda'];

export type CudaGapCode = 'platform' | 'provider' | 'pairing' | 'libraries' | 'gpu' | 'driver' | 'load';

/** One thing CUDA training lacks here, in engine words; `fix` names no surface's command or flag. */
export interface CudaGap {
  code: CudaGapCode;
  problem: string;
  fix: string;
  /** The missing library names (code 'libraries'), or provider files (code 'provider'). */
  names?: string[];
  /** Folders holding some of the missing libraries that the loader does not search. */
  addToLibraryPath?: string[];
}

/** How a surface names its ways to fix a gap: the device option and the installer. */
export interface DeviceWords {
  /** e.g. '--device cpu' (CLI) or "the setting finetuneLab.device set to 'cpu'" (VS Code). */
  useCpu: string;
  /** e.g. 'ftlab setup-cuda' or 'the command "Fine-Tune Lab: Set up CUDA"'. */
  setupCuda: string;
  /** e.g. 'ftlab doctor'. */
  doctor: string;
}

/** The steps missing for CUDA training, first the one to fix first; [] when CUDA can work. */
export function cudaGaps(p: CudaProbe): CudaGap[] {
  if (p.platform !== 'linux-x64') {
    return [{ code: 'platform', problem: `CUDA training is supported on Linux x64 only (this is ${p.platform})`, fix: 'train on the CPU' }];
  }
  const gaps: CudaGap[] = [];
  const missingFiles = p.providerFiles.filter((f) => !f.present).map((f) => f.name);
  if (missingFiles.length) {
    gaps.push({ code: 'provider', names: missingFiles, problem: `the ONNX Runtime CUDA provider is not installed (${missingFiles.join(', ')} missing in ${p.providerDir})`, fix: `install the provider build that pairs with onnxruntime-node ${p.ortVersion ?? '(not found)'} with {{setupCuda}}` });
    return gaps;
  }
  if (p.recordedOrtVersion && p.recordedOrtVersion !== p.ortVersion) {
    gaps.push({ code: 'pairing', problem: `the CUDA provider in ${p.providerDir} was installed for onnxruntime-node ${p.recordedOrtVersion}, but ${p.ortVersion ?? 'another version'} is installed (ONNX Runtime does not check this: it breaks silently)`, fix: 'reinstall the matching provider with {{setupCuda}}' });
    return gaps;
  }
  const missing = p.libraries.filter((l) => !l.path);
  if (missing.length) {
    const dirs = [...new Set(missing.flatMap((l) => l.elsewhere.map((f) => f.slice(0, f.lastIndexOf('/')))))];
    const major = p.providerCudaMajor ?? 13;
    const fix = dirs.length
      ? `${missing.every((l) => l.elsewhere.length) ? 'they are' : 'some are'} in ${dirs.join(', ')}: start it with LD_LIBRARY_PATH=${dirs.join(':')}:$LD_LIBRARY_PATH${missing.every((l) => l.elsewhere.length) ? '' : `, and install the rest (CUDA ${major} runtime, cuBLAS, cuRAND, cuFFT, cuDNN 9)`}`
      : `install the CUDA ${major} runtime libraries and cuDNN 9 (NVIDIA's CUDA ${major} toolkit packages, or pip install nvidia-cublas-cu${major} nvidia-cuda-runtime-cu${major} nvidia-curand-cu${major} nvidia-cufft-cu${major} nvidia-cudnn-cu${major} and put their nvidia/*/lib folders on LD_LIBRARY_PATH; a PyTorch cu${major}x environment has them)${major === 13 ? '; a machine with CUDA 12 only can use the CUDA 12 build: {{setupCuda}} --cuda 12' : ''}`;
    gaps.push({ code: 'libraries', names: missing.map((l) => l.name), addToLibraryPath: dirs, problem: `CUDA libraries the provider loads are not on the loader's path (LD_LIBRARY_PATH, ldconfig): ${missing.map((l) => l.name).join(', ')}`, fix });
  }
  if (!p.complete) return gaps;
  if (!p.gpus.length) gaps.push({ code: 'gpu', problem: 'no NVIDIA GPU was found (nvidia-smi, /proc/driver/nvidia, /dev/nvidia0)', fix: 'install the NVIDIA driver, or train on the CPU' });
  const major = p.providerCudaMajor;
  const cuda = p.driver.cudaVersion ? Number(p.driver.cudaVersion.split('.')[0]) : null;
  if (p.gpus.length && major !== null && cuda !== null && cuda < major) {
    const need = PROVIDER_BUILDS.find((b) => b.cudaMajor === major)?.minDriver;
    gaps.push({ code: 'driver', problem: `the NVIDIA driver ${p.driver.version ?? ''} supports CUDA ${p.driver.cudaVersion}, the provider needs CUDA ${major}${need ? ` (driver ${need} or newer)` : ''}`, fix: `update the driver${major === 13 ? ', or install the CUDA 12 build ({{setupCuda}} --cuda 12)' : ''}` });
  }
  return gaps;
}

export function wordGap(gap: CudaGap, words: DeviceWords): string {
  return `${gap.problem}: ${gap.fix.replace(/\{\{setupCuda\}\}/g, words.setupCuda).replace(/\{\{doctor\}\}/g, words.doctor)}`;
}

/** An explicit request for CUDA that cannot work here. Code and data for each surface to word. */
export class CudaUnavailableError extends Error {
  override readonly name = 'CudaUnavailableError';
  readonly code = 'cuda-unavailable';
  constructor(readonly gaps: CudaGap[], readonly detail?: string) {
    super(`CUDA training cannot work here: ${gaps.map((g) => wordGap(g, { useCpu: 'the CPU', setupCuda: 'setup-cuda', doctor: 'doctor' })).join('; ')}${detail ? ` (${detail})` : ''}`);
  }

  describe(words: DeviceWords): string {
    const lines = this.gaps.map((g) => `  - ${wordGap(g, words)}`);
    return `CUDA training cannot work here${this.detail ? ` (${this.detail})` : ''}:\n${lines.join('\n')}\nOr train on the CPU: ${words.useCpu}.`;
  }
}

export interface DeviceChoice {
  device: Device;
  request: DeviceRequest;
  /** One line: why this device (for auto: what CUDA lacks, or what it found). */
  reason: string;
}

function gpuLine(p: CudaProbe): string {
  const g = p.gpus[0];
  const mem = g?.memoryMiB ? ` (${Math.round(g.memoryMiB / 1024)} GiB)` : '';
  return `${g?.name ?? 'GPU'}${mem}${p.gpus.length > 1 ? ` and ${p.gpus.length - 1} more (GPU 0 is used)` : ''}, CUDA ${p.providerCudaMajor ?? '?'} provider`;
}

/**
 * The device for a request. probe: what the machine has (default: probed once per process; tests
 * inject one). Throws CudaUnavailableError for 'cuda' (asked for, or pinned by FTLAB_DEVICE) that cannot work.
 */
export function resolveDevice(request: DeviceRequest, o: { probe?: () => CudaProbe; env?: NodeJS.ProcessEnv } = {}): DeviceChoice {
  if (!DEVICE_REQUESTS.includes(request)) throw new RangeError(`device must be one of ${DEVICE_REQUESTS.join(', ')}, got '${request}'`);
  const env = o.env ?? process.env;
  const probe = o.probe ?? cudaProbeOnce;
  if (request === 'cpu') return { device: 'cpu', request, reason: 'the CPU, as asked' };
  const pinned = env.FTLAB_DEVICE?.trim();
  if (request === 'auto' && pinned) {
    if (pinned !== 'cpu' && pinned !== 'cuda' && pinned !== 'auto') throw new RangeError(`FTLAB_DEVICE must be cpu, cuda or auto, got '${pinned}'`);
    if (pinned === 'cpu') return { device: 'cpu', request, reason: 'the CPU (FTLAB_DEVICE=cpu)' };
    if (pinned === 'cuda') return { ...resolveDevice('cuda', { probe, env: {} }), request, reason: 'CUDA (FTLAB_DEVICE=cuda)' };
  }
  // An explicit request that fails lists every gap: the full probe, not auto's quick one.
  const p = request === 'cuda' && !o.probe ? probeCuda() : probe();
  const gaps = cudaGaps(p);
  if (request === 'cuda') {
    if (gaps.length) throw new CudaUnavailableError(gaps);
    return { device: 'cuda', request, reason: `CUDA, as asked: ${gpuLine(p)}` };
  }
  if (gaps.length) return { device: 'cpu', request, reason: `the CPU: ${gaps[0].problem}` };
  return { device: 'cuda', request, reason: `CUDA: ${gpuLine(p)}` };
}

/** ONNX Runtime could not start the CUDA provider although the files looked complete. */
export function cudaLoadGap(err: unknown): CudaGap {
  const msg = err instanceof Error ? err.message : String(err);
  const lib = /lib[\w.+-]+\.so[\d.]*/.exec(msg)?.[0];
  return lib
    ? { code: 'load', names: [lib], problem: `ONNX Runtime could not load ${lib} when it started the CUDA provider`, fix: 'see what is missing or mismatched with {{doctor}}' }
    : { code: 'load', problem: `ONNX Runtime could not start the CUDA provider (${msg.split('\n')[0]})`, fix: 'see what is missing or mismatched with {{doctor}}' };
}
