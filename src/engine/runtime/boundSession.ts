// Sessions run through an IO binding (native/ftlab_ort.cc): the caller's typed arrays are bound as
// inputs and outputs and ONNX Runtime reads and writes them where they are, so a training step can
// update its parameters and optimizer state in place instead of returning new copies of them (what
// onnxruntime-node's run() does). On CUDA, tensors can also live in the GPU's memory between runs.
//
// The addon is optional: built by scripts/build-native.mjs where a C++ compiler is present, shipped
// prebuilt (linux-x64) in the package. Without it the trainer runs on onnxruntime-node as before
// (boundSessionUnavailable says why). FTLAB_ORT_ADDON=0 turns it off; =<path> names the file.

import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DType, Shape, TypedArray } from '../graph/graph';
import { ortBinaryDir } from './cudaProvider';
import { CudaUnavailableError, Device, cudaLoadGap, resolveDevice, wordGap } from './device';
import { SessionOptions, sessionSettings } from './session';

interface NativeSession {
  bindInput(name: string, data: TypedArray, shape: number[], dtype: string): void;
  bindOutput(name: string, data: TypedArray, shape: number[], dtype: string): void;
  deviceTensor(shape: number[], dtype: string): number;
  bindInputTensor(name: string, id: number): void;
  bindOutputTensor(name: string, id: number): void;
  releaseTensor(id: number): void;
  bindOutputToCpu(name: string): void;
  run(): Promise<Record<string, TypedArray>>;
  endProfiling(): string;
  release(): void;
}

interface Addon {
  init(libraryPath: string): string;
  Session: new (model: Uint8Array, options: object) => NativeSession;
}

const ADDON_FILE = 'ftlab_ort.node';

/** Where the built addon is: dist/native/<platform>-<arch>/ beside the bundles, found from the bundle (dist/) or a test (out/test/..). */
export function addonPath(env: NodeJS.ProcessEnv = process.env): string | null {
  const override = env.FTLAB_ORT_ADDON;
  if (override === '0') return null;
  if (override) return override;
  for (let dir = __dirname, up = 0; up < 6; up++, dir = dirname(dir)) {
    const plat = `${process.platform}-${process.arch}`;
    for (const p of [join(dir, 'native', plat, ADDON_FILE), join(dir, 'dist', 'native', plat, ADDON_FILE)]) if (existsSync(p)) return p;
  }
  return null;
}

let loaded: { addon: Addon; version: string } | { reason: string } | null = null;

function load(): { addon: Addon; version: string } | { reason: string } {
  if (loaded) return loaded;
  const path = addonPath();
  if (!path) {
    loaded = { reason: process.env.FTLAB_ORT_ADDON === '0' ? 'FTLAB_ORT_ADDON=0' : `${ADDON_FILE} was not built (a C++ compiler is needed: npm run build)` };
    return loaded;
  }
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const addon = require(path) as Addon;
    const version = addon.init(join(ortBinaryDir(), 'libonnxruntime.so.1'));
    loaded = { addon, version };
  } catch (err) {
    loaded = { reason: `${path} did not load: ${(err as Error).message}` };
  }
  return loaded;
}

/** Why the bound sessions cannot be used here (null when they can). */
export function boundSessionUnavailable(): string | null {
  const l = load();
  return 'reason' in l ? l.reason : null;
}

export class BoundSession {
  private constructor(private readonly native: NativeSession, readonly device: Device) {}

  /** Binds `data` itself (no copy); it must stay unchanged while a run is in flight. */
  bindInput(name: string, dtype: DType, shape: Shape, data: TypedArray): void { this.native.bindInput(name, data, [...shape], dtype); }
  /** ORT writes this output into `data` (which may be an input's array: an in-place update, see trainRunner). */
  bindOutput(name: string, dtype: DType, shape: Shape, data: TypedArray): void { this.native.bindOutput(name, data, [...shape], dtype); }
  /** A tensor in the session's device memory (GPU on CUDA), bound by id, kept until releaseTensor. */
  deviceTensor(dtype: DType, shape: Shape): number { return this.native.deviceTensor([...shape], dtype); }
  bindInputTensor(name: string, id: number): void { this.native.bindInputTensor(name, id); }
  bindOutputTensor(name: string, id: number): void { this.native.bindOutputTensor(name, id); }
  releaseTensor(id: number): void { this.native.releaseTensor(id); }
  /** ORT allocates this output in CPU memory (any shape); run() returns a copy of it by name. Small outputs only. */
  bindOutputToCpu(name: string): void { this.native.bindOutputToCpu(name); }
  /** Runs the session on the bound values; resolves to the outputs bound with bindOutputToCpu. */
  run(): Promise<Record<string, TypedArray>> { return this.native.run(); }
  endProfiling(): string { return this.native.endProfiling(); }
  release(): void { this.native.release(); }

  /** A session over the addon, or null when the addon is not there (boundSessionUnavailable() says why). */
  static create(model: Uint8Array, o: SessionOptions = {}): BoundSession | null {
    const l = load();
    if ('reason' in l) return null;
    const s = sessionSettings();
    const base = {
      logLevel: s.logLevel, memPattern: false, ...(s.arena ? {} : { arena: false }),
      ...(o.threads ? { threads: o.threads, interThreads: 1 } : {}),
      ...(s.spin ? {} : { config: { 'session.intra_op.allow_spinning': '0' } }),
      ...(s.profilePrefix ? { profilePrefix: s.profilePrefix } : {}),
      ...(s.optimizedModelPath ? { optimizedModelPath: s.optimizedModelPath } : {}),
    };
    const choice = resolveDevice(o.device ?? 'cpu');
    if (choice.device === 'cuda') {
      try {
        // FTLAB_CUDA_TF32=0|1: ORT's use_tf32 (its default is on; PyTorch's matmuls default to off).
        const tf32 = process.env.FTLAB_CUDA_TF32 === '0' || process.env.FTLAB_CUDA_TF32 === '1' ? { use_tf32: process.env.FTLAB_CUDA_TF32 } : {};
        return new BoundSession(new l.addon.Session(model, { ...base, memPattern: s.memPattern ?? true, cuda: { options: { device_id: '0', ...tf32 } } }), 'cuda');
      } catch (err) {
        const gap = cudaLoadGap(err);
        if (o.device === 'cuda') throw new CudaUnavailableError([gap]);
        (o.onFallback ?? (() => {}))(`CUDA not usable, training on the CPU: ${wordGap(gap, { useCpu: 'cpu', setupCuda: 'setup-cuda', doctor: 'ftlab doctor' })}`);
      }
    }
    return new BoundSession(new l.addon.Session(model, { ...base, memPattern: s.memPattern ?? false }), 'cpu');
  }
}
