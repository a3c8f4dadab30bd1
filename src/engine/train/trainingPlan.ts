// The numbers a run is built from, checked before anything is written: batch layout, sequence
// length, steps and the learning-rate schedule.

import { Schedule } from '../optim/schedule';
import { BatchRows, batchRows } from './batchSource';
import { sequenceLength } from './sequenceLength';
import { TrainJob } from './trainJob';

export interface TrainingPlan {
  /** L2-SP lambda (0: off). */
  l2sp: number;
  trainExamples: number;
  /** B: rows of a micro-batch, task and replay together. */
  batchSize: number;
  /** A: micro-batches of a step. */
  accumulation: number;
  /** T: input tokens of a row. */
  seqLen: number;
  rows: BatchRows;
  stepsPerEpoch: number;
  totalSteps: number;
  schedule: Schedule;
}

export function planTraining(job: TrainJob): TrainingPlan {
  const { model, args, data } = job;
  const l2sp = args.l2spWeight ?? 0;
  if (!(Number.isFinite(l2sp) && l2sp >= 0)) throw new RangeError(`the L2-SP weight must be a number >= 0, got ${l2sp}`);
  if (l2sp > 0 && job.lora) throw new RangeError('L2-SP pulls trained weights toward their pretrained values; with LoRA those weights are frozen and the adapters have none: set the L2-SP weight to 0 or use another strategy');
  const nTrain = data.indices('train').length;
  if (!nTrain) throw new Error(`the prepared dataset ${data.dir} has no training examples`);

  const B = args.perDeviceTrainBatchSize, A = args.gradientAccumulationSteps;
  const T = sequenceLength(data, model.maxPositions);
  const rows = batchRows(B, job.replay);
  const batchesPerEpoch = Math.ceil(nTrain / rows.task);
  const stepsPerEpoch = Math.max(1, Math.ceil(batchesPerEpoch / A));
  const totalSteps = args.maxSteps > 0 ? args.maxSteps : Math.ceil(args.numTrainEpochs * stepsPerEpoch);
  const schedule: Schedule = { type: args.lrSchedulerType, learningRate: args.learningRate, warmupSteps: args.warmupSteps, totalSteps };
  return { l2sp, trainExamples: nTrain, batchSize: B, accumulation: A, seqLen: T, rows, stepsPerEpoch, totalSteps, schedule };
}
