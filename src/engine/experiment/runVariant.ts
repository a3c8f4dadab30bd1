// One variant of an experiment: train it (or resume it from its checkpoint), evaluate the result on
// the experiment's sets, and write <runDir>/outcome.json. Runs in a process of its own when the
// experiment is started from the CLI or the extension, so that its peak memory is its own.

import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { BUILTIN_CORPUS_DIR } from '../builtin';
import { readSafetensors } from '../checkpoint/safetensors';
import { writeFileAtomic } from '../fsAtomic';
import { readRunConfig } from '../runs/runConfig';
import { readCheckpointSummary } from '../runs/trainerState';
import { readRunStatus, runFailure, writeRunStatus } from '../runs/runStatus';
import { loadTrainedRun } from '../train/runFiles';
import { FineTuneCallbacks, FineTuneJob, fineTune } from '../train/fineTuneRun';
import { TRAINING_DEFAULTS, TrainingArguments } from '../train/trainer';
import { ExperimentContext, EXPERIMENT_DATA_DIR } from './experimentContext';
import { ModelEvaluation, evaluateModel } from './evalSets';
import { VariantSpec } from './experimentFile';
import { VariantSettings, effectiveSettings } from './strategyPresets';
import { readMetrics } from '../runs/metricsLog';

export const OUTCOME_FILE = 'outcome.json';

export interface VariantOutcome {
  format: 'ftlab-variant-outcome';
  version: 1;
  variant: string;
  settings: VariantSettings;
  training: {
    steps: number;
    /** Wall time of training (compile included) in the process that finished it. */
    seconds: number;
    /** Median over logged steps of the step's tokens per second. */
    tokensPerSecond: number;
    finalLoss: number | null;
    trainableParameters: number;
    /** Peak resident memory of the variant's own process; null when it shared a process. */
    peakMemoryBytes: number | null;
    device: string;
    resumedFromStep: number | null;
  };
  evaluation: ModelEvaluation;
}

/** The variant's training arguments: the experiment's seed, device and gradient checkpointing, the effective settings. */
export function variantArgs(ctx: Pick<ExperimentContext, 'spec' | 'data'>, s: VariantSettings): TrainingArguments {
  const { spec } = ctx;
  return {
    ...TRAINING_DEFAULTS,
    learningRate: s.learningRate, numTrainEpochs: s.numTrainEpochs, maxSteps: s.maxSteps, perDeviceTrainBatchSize: s.perDeviceTrainBatchSize,
    dropout: s.dropout, weightDecay: s.weightDecay, warmupSteps: s.warmupSteps, l2spWeight: s.l2spWeight,
    seed: spec.seed, shuffle: true, device: spec.device, threads: spec.threads, gradientCheckpointing: spec.gradientCheckpointing ?? false, loggingSteps: 1,
    // Checkpoints often enough that a killed variant loses little; each is a few MB for the built-in model.
    saveSteps: 25,
    evalSteps: ctx.data.indices('validation').length ? 10 : 0, earlyStoppingPatience: spec.earlyStoppingPatience,
  };
}

/** How the variant trains: its strategy, LoRA shape and training arguments (what its run and its memory estimate use). */
export function variantTraining(ctx: Pick<ExperimentContext, 'spec' | 'data'>, v: VariantSpec): Pick<FineTuneJob, 'strategy' | 'layerLrMultipliers' | 'lora' | 'args'> {
  const settings = effectiveSettings(v.strategy, v.overrides);
  return {
    strategy: v.strategy, ...(settings.layerLrMultipliers ? { layerLrMultipliers: settings.layerLrMultipliers } : {}),
    ...(v.strategy === 'lora' ? { lora: { rank: settings.loraRank ?? 8, alpha: settings.loraAlpha ?? 16 } } : {}),
    args: variantArgs(ctx, settings),
  };
}

/** Runs the variant; a failure before training started (no status.json yet) is recorded as failed too. */
export async function runVariant(ctx: ExperimentContext, v: VariantSpec, o: { ownProcess: boolean; cb?: FineTuneCallbacks }): Promise<VariantOutcome> {
  const runDir = join(ctx.dir, v.runDir);
  try {
    return await trainAndEvaluate(ctx, v, o);
  } catch (err) {
    if (!existsSync(join(runDir, 'status.json')) && !(err instanceof VariantStopped)) {
      mkdirSync(runDir, { recursive: true });
      const now = new Date().toISOString();
      writeRunStatus(runDir, { state: 'failed', pid: process.pid, hostname: hostname(), startedAt: now, heartbeatAt: now, endedAt: now, step: 0, totalSteps: 0, error: runFailure(err) });
    }
    throw err;
  }
}

async function trainAndEvaluate(ctx: ExperimentContext, v: VariantSpec, o: { ownProcess: boolean; cb?: FineTuneCallbacks }): Promise<VariantOutcome> {
  const runDir = join(ctx.dir, v.runDir);
  const settings = effectiveSettings(v.strategy, v.overrides);
  const status = existsSync(join(runDir, 'config.json')) ? readRunStatus(runDir) : null;
  const canResume = status !== null && status.state !== 'finished' && existsSync(join(runDir, 'checkpoint', 'trainer_state.json'));
  const log = o.cb?.onLog ?? (() => {});
  // The checkpoint's step, not status.json's (whose heartbeat may be older than the last checkpoint).
  const resumeStep = canResume ? readCheckpointSummary(runDir).step : null;
  if (canResume) log(`${v.name}: resuming from the checkpoint of step ${resumeStep}`);
  const t0 = performance.now();
  let weights: Map<string, Float32Array>;
  let steps: number, finalLoss: number | null, device: string;
  if (status?.state === 'finished') {
    // Trained, but its evaluation was not written (killed in between): evaluate the saved result.
    const run = await loadTrainedRun(runDir);
    weights = run.weights;
    steps = status.step; finalLoss = readMetrics(runDir).at(-1)?.loss ?? null; device = ctx.spec.device;
  } else {
    const res = await fineTune({
      runDir, dataFile: ctx.spec.dataFile, preparedDir: join(ctx.dir, EXPERIMENT_DATA_DIR), baseModel: ctx.spec.baseModel,
      ...variantTraining(ctx, v), validationSplit: 0,
      replay: settings.replayRatio > 0 ? { source: BUILTIN_CORPUS_DIR, ratio: settings.replayRatio } : undefined,
      resume: canResume, overwrite: !canResume, memory: { ignoreEstimate: ctx.ignoreMemoryEstimate },
      describe: { command: 'experiment', preset: `${v.strategy} default`, experiment: { dir: ctx.dir, variant: v.name } },
    }, o.cb ?? {});
    if (res.stopped) throw new VariantStopped(`${v.name} was stopped at step ${res.steps}`);
    weights = res.weights; steps = res.steps; finalLoss = Number.isFinite(res.finalLoss) ? res.finalLoss : null; device = res.device;
  }
  const seconds = (performance.now() - t0) / 1000;
  log(`${v.name}: evaluating after training`);
  const evaluation = await evaluateModel(ctx.lm, weights, ctx.tokenizer, ctx.sets, { decoding: ctx.spec.evaluation.decoding, device: ctx.spec.device, threads: ctx.spec.threads });
  const tps = readMetrics(runDir).map((m) => m.tokensPerSecond).sort((a, b) => a - b);
  const outcome: VariantOutcome = {
    format: 'ftlab-variant-outcome', version: 1, variant: v.name, settings,
    training: {
      steps, seconds, tokensPerSecond: tps.length ? tps[Math.floor(tps.length / 2)] : 0, finalLoss,
      trainableParameters: await trainableParameters(runDir),
      peakMemoryBytes: o.ownProcess ? process.resourceUsage().maxRSS * 1024 : null,
      device, resumedFromStep: resumeStep,
    },
    evaluation,
  };
  writeFileAtomic(join(runDir, OUTCOME_FILE), JSON.stringify(outcome) + '\n');
  return outcome;
}

export class VariantStopped extends Error {
  override readonly name = 'VariantStopped';
}

/** Elements of the tensors the run trained: the checkpoint's tensors minus the frozen ones. */
async function trainableParameters(runDir: string): Promise<number> {
  const frozen = new Set(readRunConfig(runDir).model.frozen);
  const ckpt = await readSafetensors(join(runDir, 'checkpoint', 'model.safetensors'));
  let n = 0;
  for (const [name, t] of ckpt.tensors) if (!frozen.has(name)) n += t.data.length;
  return n;
}

export function readOutcome(runDir: string): VariantOutcome | null {
  const file = join(runDir, OUTCOME_FILE);
  if (!existsSync(file)) return null;
  const o = JSON.parse(readFileSync(file, 'utf8')) as VariantOutcome;
  if (o.format !== 'ftlab-variant-outcome' || typeof o.training?.steps !== 'number' || typeof o.evaluation !== 'object') {
    throw new Error(`${file} is not a variant outcome written by this release; delete it to evaluate the run again`);
  }
  return o;
}
