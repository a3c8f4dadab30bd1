// Why a training step failed, in words a user can act on (TrainingError: each surface names the settings).

import { OutOfMemoryError, TrainingError } from './trainingError';

export { OutOfMemoryError } from './trainingError';

/** ONNX Runtime's allocation failures, in words that say what to change. */
export function explainStepError(err: unknown, batch: number, seqLen: number, accumulation: number): Error {
  const msg = err instanceof Error ? err.message : String(err);
  if (/bad_alloc|Failed to allocate|failed to allocate|out of memory|OOM/i.test(msg)) {
    return new OutOfMemoryError({
      code: 'out-of-memory',
      problem: `out of memory in a training step (batch ${batch} x ${seqLen} tokens${accumulation > 1 ? `, ${accumulation} micro-batches` : ''}; ONNX Runtime said: ${msg.split('\n')[0]})`,
      fix: 'lower the batch size[[ ({{batchSize}})]][[ and raise the gradient accumulation ({{gradientAccumulation}}) to keep the effective batch]], or the sequence length[[ ({{maxLength}})]]; ' +
        'the last checkpoint is kept[[ ({{resume}} continues from it)]]',
    });
  }
  return err instanceof Error ? err : new Error(msg);
}

export function lossDivergedError(loss: number, step: number, learningRate: number): Error {
  return new TrainingError({
    code: 'loss-diverged',
    problem: `the loss became ${loss} at step ${step} (learning rate ${learningRate})`,
    fix: 'lower the learning rate[[ ({{learningRate}})]][[, or clip the gradients ({{maxGradNorm}})]]',
  });
}

/** A resumed run whose checkpoint has done every step it is to train. */
export function stepsDoneError(runDir: string, step: number, totalSteps: number): Error {
  return new TrainingError({
    code: 'steps-done',
    problem: `${runDir} has already run ${step} of ${totalSteps} steps`,
    fix: 'train it for more steps[[ ({{maxSteps}})]], or start a new run',
  });
}
