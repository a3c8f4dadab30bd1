// ONNX Runtime sessions for compiled graphs: the device a request resolves to (runtime/device.ts),
// and conversion between our typed arrays and ort.Tensor.

import * as ort from 'onnxruntime-node';
import { DType, Shape, TypedArray } from '../graph/graph';
import { CudaUnavailableError, Device, DeviceRequest, cudaLoadGap, resolveDevice, wordGap } from './device';

export type { Device, DeviceRequest };

export interface SessionOptions {
  /** 'auto' takes CUDA when it can work here, else the CPU; 'cuda' throws CudaUnavailableError when it cannot. Default 'cpu'. */
  device?: DeviceRequest;
  /** Intra-op threads (CPU). Defaults to ORT's choice. */
  threads?: number;
  /** Called with a human-readable reason when 'auto' found CUDA but ONNX Runtime could not start it, and the CPU is used. */
  onFallback?: (reason: string) => void;
}

export interface CompiledSession {
  readonly session: ort.InferenceSession;
  readonly device: Device;
}

const ORT_TYPE: Record<DType, ort.Tensor.Type> = {
  float32: 'float32', float64: 'float64', float16: 'float16', int64: 'int64', int32: 'int32', uint32: 'uint32', bool: 'bool',
};

export function tensor(dtype: DType, shape: Shape, data: TypedArray): ort.Tensor {
  return new ort.Tensor(ORT_TYPE[dtype], data as never, [...shape]);
}

/**
 * The environment's say over ORT sessions, read in one place for both runtimes (onnxruntime-node's
 * sessions here, bound sessions in boundSession.ts).
 */
export function sessionSettings(env: NodeJS.ProcessEnv = process.env): {
  arena: boolean; logLevel: number; spin: boolean; memPattern: boolean | null; profilePrefix: string | null; optimizedModelPath: string | null;
} {
  return {
    arena: env.FTLAB_ORT_ARENA !== '0',
    // FTLAB_ORT_LOG=0..4 shows ORT's own log (0: verbose, incl. node placement per provider).
    logLevel: Number(env.FTLAB_ORT_LOG ?? 4),
    // FTLAB_ORT_SPIN=0: intra-op threads sleep instead of spinning between ops. On a machine whose
    // cores other processes share, spinning threads that get descheduled slowed a 2-thread step 3-5x.
    spin: env.FTLAB_ORT_SPIN !== '0',
    // ORT's memory pattern pre-plans one block for all activations. On the CPU it held 2.0 GB for a
    // training step where per-tensor arena allocation holds 1.3 GB (size b), at the same speed; on
    // CUDA (memory is plentiful) the H200 run without it was slower, so CUDA keeps ORT's default.
    // FTLAB_ORT_MEMPATTERN=0|1 overrides both (null: the device's default).
    memPattern: env.FTLAB_ORT_MEMPATTERN ? env.FTLAB_ORT_MEMPATTERN === '1' : null,
    // FTLAB_ORT_PROFILE=prefix writes ORT's per-node profile (JSON) when the session is released.
    profilePrefix: env.FTLAB_ORT_PROFILE || null,
    // FTLAB_ORT_OPTIMIZED=file.onnx writes the graph as ORT optimized it (bound sessions).
    optimizedModelPath: env.FTLAB_ORT_OPTIMIZED || null,
  };
}

export async function createSession(model: Uint8Array, o: SessionOptions = {}): Promise<CompiledSession> {
  const s = sessionSettings();
  const base: ort.InferenceSession.SessionOptions = {
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    ...(s.arena ? {} : { enableCpuMemArena: false }),
    logSeverityLevel: s.logLevel as 0 | 1 | 2 | 3 | 4,
    ...(o.threads ? { intraOpNumThreads: o.threads, interOpNumThreads: 1 } : {}),
    ...(s.spin ? {} : { extra: { session: { intra_op: { allow_spinning: '0' } } } }),
    ...(s.optimizedModelPath ? { optimizedModelFilePath: s.optimizedModelPath } : {}),
  };
  const memPattern = (dflt: boolean) => s.memPattern ?? dflt;
  const prof = s.profilePrefix ? { enableProfiling: true, profileFilePrefix: s.profilePrefix } : {};
  const choice = resolveDevice(o.device ?? 'cpu');
  if (choice.device === 'cuda') {
    try {
      const session = await ort.InferenceSession.create(model, { ...base, ...prof, enableMemPattern: memPattern(true), executionProviders: [{ name: 'cuda' }, 'cpu'] });
      return { session, device: 'cuda' };
    } catch (err) {
      const gap = cudaLoadGap(err);
      if (o.device === 'cuda') throw new CudaUnavailableError([gap]);
      (o.onFallback ?? (() => {}))(`CUDA not usable, training on the CPU: ${wordGap(gap, { useCpu: 'cpu', setupCuda: 'setup-cuda', doctor: 'ftlab doctor' })}`);
    }
  }
  const session = await ort.InferenceSession.create(model, { ...base, ...prof, enableMemPattern: memPattern(false), executionProviders: ['cpu'] });
  return { session, device: 'cpu' };
}
