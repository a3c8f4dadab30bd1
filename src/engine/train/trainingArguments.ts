// The arguments of a training run, named as Hugging Face TrainingArguments (camelCase).

import { SchedulerType } from '../optim/schedule';
import { DeviceRequest } from '../runtime/device';

/** Hugging Face TrainingArguments names (camelCase), with their defaults below. */
export interface TrainingArguments {
  learningRate: number;
  numTrainEpochs: number;
  /** > 0 overrides numTrainEpochs. */
  maxSteps: number;
  perDeviceTrainBatchSize: number;
  gradientAccumulationSteps: number;
  weightDecay: number;
  adamBeta1: number;
  adamBeta2: number;
  adamEpsilon: number;
  maxGradNorm: number;
  lrSchedulerType: SchedulerType;
  warmupSteps: number;
  loggingSteps: number;
  seed: number;
  /** Overrides the model config's dropout rates when set. */
  dropout: number | null;
  optim: 'adamw' | 'sgd';
  sgdMomentum: number;
  shuffle: boolean;
  /** auto (CUDA when it can work here, else the CPU with a reason), cpu, or cuda (an error when it cannot work). */
  device: DeviceRequest;
  /** Threads for the CPU provider (0: ORT's default). */
  threads: number;
  /** Write a checkpoint every n steps (0: only at the end), so a killed run can be resumed. */
  saveSteps: number;
  /** Validation loss every n steps and at the end (0: never); needs a validation split. */
  evalSteps: number;
  /** Stop after this many evaluations without a better validation loss (0: never). */
  earlyStoppingPatience: number;
  /**
   * L2-SP (ours; not an HF argument): lambda of a decoupled pull of every trained weight toward its
   * pretrained value, w -= lr * lambda * (w - w0) per step (0: off). A forgetting guard without replay data.
   */
  l2spWeight: number;
  /**
   * Optimizer steps per ONNX Runtime run (ours): K > 1 runs K steps in one ONNX Loop, so parameters and
   * optimizer state come back to JS once per K steps instead of every step; results are bit-identical to
   * K = 1. Checkpoint and evaluation steps end a run early (the last run of a stretch is shorter); a
   * stop request is seen between runs; metrics of every step are logged.
   */
  stepsPerRun: number;
  /**
   * Hugging Face's gradient_checkpointing: the backward pass recomputes each transformer block from its
   * input instead of keeping its activations from the forward pass (TrainStepConfig.gradientCheckpointing).
   * Less memory at long sequences (the [B, H, T, T] attention scores of every layer are not kept), about
   * one more forward pass of time; the same results.
   */
  gradientCheckpointing: boolean;
}

export const TRAINING_DEFAULTS: TrainingArguments = {
  learningRate: 5e-5, numTrainEpochs: 3, maxSteps: -1, perDeviceTrainBatchSize: 8, gradientAccumulationSteps: 1,
  weightDecay: 0, adamBeta1: 0.9, adamBeta2: 0.999, adamEpsilon: 1e-8, maxGradNorm: 1, lrSchedulerType: 'linear',
  warmupSteps: 0, loggingSteps: 1, seed: 42, dropout: null, optim: 'adamw', sgdMomentum: 0, shuffle: false,
  device: 'auto', threads: 0, saveSteps: 500, evalSteps: 0, earlyStoppingPatience: 0, l2spWeight: 0,
  stepsPerRun: 1, gradientCheckpointing: false,
};
