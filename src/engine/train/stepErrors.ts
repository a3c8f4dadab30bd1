// Why a training step failed, in words a user can act on.

export class OutOfMemoryError extends Error {
  override readonly name = 'OutOfMemoryError';
}

/** ONNX Runtime's allocation failures, in words that say what to change. */
export function explainStepError(err: unknown, batch: number, seqLen: number, accumulation: number): Error {
  const msg = err instanceof Error ? err.message : String(err);
  if (/bad_alloc|Failed to allocate|failed to allocate|out of memory|OOM/i.test(msg)) {
    return new OutOfMemoryError(`out of memory in a training step (batch ${batch} x ${seqLen} tokens${accumulation > 1 ? `, ${accumulation} micro-batches` : ''}): lower --per-device-train-batch-size (and raise --gradient-accumulation-steps to keep the effective batch), or --max-length; the last checkpoint is kept (--resume continues). ONNX Runtime said: ${msg.split('\n')[0]}`);
  }
  return err instanceof Error ? err : new Error(msg);
}

export function lossDivergedError(loss: number, step: number, learningRate: number): Error {
  return new Error(`the loss became ${loss} at step ${step} (learning rate ${learningRate}); lower --learning-rate or set --max-grad-norm`);
}
