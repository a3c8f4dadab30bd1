// ONNX Runtime sessions for compiled graphs: provider choice with a clear CPU fallback, and
// conversion between our typed arrays and ort.Tensor.

import * as ort from 'onnxruntime-node';
import { DType, Shape, TypedArray } from '../graph/graph';
import { checkCuda } from './cuda';

export type Device = 'cpu' | 'cuda';

export interface SessionOptions {
  device?: Device;
  /** Intra-op threads (CPU). Defaults to ORT's choice. */
  threads?: number;
  /** Called with a human-readable reason when the requested device is unavailable and CPU is used. */
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

/** Explains a CUDA provider load failure in words a user can act on. */
export function explainCudaFailure(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  const lib = /lib[\w.+-]+\.so[\d.]*/.exec(msg)?.[0];
  if (lib) {
    return `CUDA is not usable: ${lib} could not be loaded. Install the CUDA 13 runtime and cuDNN 9 (or point LD_LIBRARY_PATH at them, e.g. a PyTorch cu130 environment's nvidia/*/lib), and place libonnxruntime_providers_cuda.so beside libonnxruntime.so. Training continues on the CPU.`;
  }
  return `CUDA is not usable (${msg.split('\n')[0]}). Training continues on the CPU.`;
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
  const preflight = o.device === 'cuda' ? checkCuda() : null;
  if (preflight && !preflight.ok) (o.onFallback ?? (() => {}))(preflight.message);
  if (preflight?.ok) {
    try {
      const session = await ort.InferenceSession.create(model, { ...base, ...prof, enableMemPattern: memPattern(true), executionProviders: [{ name: 'cuda' }, 'cpu'] });
      return { session, device: 'cuda' };
    } catch (err) {
      (o.onFallback ?? (() => {}))(explainCudaFailure(err));
    }
  }
  const session = await ort.InferenceSession.create(model, { ...base, ...prof, enableMemPattern: memPattern(false), executionProviders: ['cpu'] });
  return { session, device: 'cpu' };
}
