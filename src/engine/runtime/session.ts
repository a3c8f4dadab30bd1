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

export async function createSession(model: Uint8Array, o: SessionOptions = {}): Promise<CompiledSession> {
  const base: ort.InferenceSession.SessionOptions = {
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    ...(process.env.FTLAB_ORT_ARENA === '0' ? { enableCpuMemArena: false } : {}),
    // FTLAB_ORT_LOG=0..4 shows ORT's own log (0: verbose, incl. node placement per provider).
    logSeverityLevel: Number(process.env.FTLAB_ORT_LOG ?? 4) as 0 | 1 | 2 | 3 | 4,
    ...(o.threads ? { intraOpNumThreads: o.threads, interOpNumThreads: 1 } : {}),
    // FTLAB_ORT_SPIN=0: intra-op threads sleep instead of spinning between ops. On a machine whose
    // cores other processes share, spinning threads that get descheduled slowed a 2-thread step 3-5x.
    ...(process.env.FTLAB_ORT_SPIN === '0' ? { extra: { session: { intra_op: { allow_spinning: '0' } } } } : {}),
  };
  // ORT's memory pattern pre-plans one block for all activations. On the CPU it held 2.0 GB for a
  // training step where per-tensor arena allocation holds 1.3 GB (size b), at the same speed; on
  // CUDA (memory is plentiful) the H200 run without it was slower, so CUDA keeps ORT's default.
  const memPattern = (dflt: boolean) => (process.env.FTLAB_ORT_MEMPATTERN ? process.env.FTLAB_ORT_MEMPATTERN === '1' : dflt);
  // FTLAB_ORT_PROFILE=prefix writes ORT's per-node profile (JSON) when the session is released.
  const prof = process.env.FTLAB_ORT_PROFILE ? { enableProfiling: true, profileFilePrefix: process.env.FTLAB_ORT_PROFILE } : {};
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
