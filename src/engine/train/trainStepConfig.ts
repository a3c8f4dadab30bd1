import { OptimizerConfig } from '../optim/optimizer';
import { TrainStepConfig } from './trainStep';
import { parameterGroups } from './parameterGroups';
import { TrainedParameters } from './trainedParameters';
import { TrainingPlan } from './trainingPlan';
import { TrainJob } from './trainJob';

/** The compiled step of a run: args.stepsPerRun steps per ONNX Runtime run, its parameter groups, optimizer, dropout, LoRA, L2-SP and gradient checkpointing. */
export function trainStepConfig(
  job: Pick<TrainJob, 'model' | 'args' | 'lora' | 'lrScale'>,
  params: Pick<TrainedParameters, 'trainable' | 'frozen' | 'loraTargets'>,
  plan: Pick<TrainingPlan, 'batchSize' | 'seqLen' | 'accumulation' | 'l2sp'>,
): TrainStepConfig {
  const { model, args, lora } = job;
  const optimizer: OptimizerConfig = args.optim === 'sgd' ? { kind: 'sgd', momentum: args.sgdMomentum } : { kind: 'adamw', beta1: args.adamBeta1, beta2: args.adamBeta2, eps: args.adamEpsilon };
  const dropout = args.dropout;
  return {
    dtype: 'float32', groups: parameterGroups(params.trainable, args.weightDecay, job.lrScale), frozen: params.frozen,
    batchSize: plan.batchSize, seqLen: plan.seqLen, microBatches: plan.accumulation, stepsPerRun: args.stepsPerRun ?? 1, optimizer, maxGradNorm: args.maxGradNorm,
    dropout: dropout === null || dropout > 0, layout: 'tensors', l2sp: plan.l2sp,
    ...(args.gradientCheckpointing ? { gradientCheckpointing: true } : {}),
    forward: (c, p, ids) => model.forward(c, p, ids, dropout === null ? undefined : { embd: dropout, attn: dropout, resid: dropout }),
    ...(lora ? { lora: params.loraTargets.map((t) => ({ weight: t.weight, A: t.A, B: t.B, scale: lora.alpha / lora.rank })) } : {}),
  };
}
