// The training loop: batches from a prepared dataset -> compiled step -> metrics and checkpoints
// in a run folder of plain files (config.json, metrics.jsonl, checkpoint/).

import { mkdirSync, writeFileSync, renameSync, appendFileSync, existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { CausalLM } from '../models/causalLM';
import { ParamShape } from '../models/nn';
import { Schedule, SchedulerType, learningRateAt } from '../optim/schedule';
import { OptimizerConfig, stateNames } from '../optim/optimizer';
import { stepKey } from '../random';
import { Device } from '../runtime/session';
import { ParamGroup, TrainStepConfig, buildTrainStep } from './trainStep';
import { TrainStepRunner } from './trainRunner';
import { PreparedDataset } from '../data/preparedDataset';
import { BatchCursor, CursorPosition } from './batchCursor';
import { LossEvaluator } from './evalLoss';
import { LoraConfig, initLora, loraParams, loraTargets, mergeLora } from './lora';
import { readSafetensors, writeSafetensors } from '../checkpoint/safetensors';
import { writeFileAtomic } from '../fsAtomic';
import { RunDescription, writeRunConfig } from '../runs/runConfig';
import { RunStatusRecorder, readRunStatus } from '../runs/runStatus';
import { truncateMetricsAfter } from '../runs/metricsLog';
import { readTrainerStateFile } from '../runs/trainerState';

export { writeFileAtomic };

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
  device: Device;
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
}

export const TRAINING_DEFAULTS: TrainingArguments = {
  learningRate: 5e-5, numTrainEpochs: 3, maxSteps: -1, perDeviceTrainBatchSize: 8, gradientAccumulationSteps: 1,
  weightDecay: 0, adamBeta1: 0.9, adamBeta2: 0.999, adamEpsilon: 1e-8, maxGradNorm: 1, lrSchedulerType: 'linear',
  warmupSteps: 0, loggingSteps: 1, seed: 42, dropout: null, optim: 'adamw', sgdMomentum: 0, shuffle: false,
  device: 'cpu', threads: 0, saveSteps: 500, evalSteps: 0, earlyStoppingPatience: 0, l2spWeight: 0,
};

export interface EvalMetrics {
  step: number;
  split: 'validation';
  loss: number;
  tokens: number;
  best: boolean;
}

export interface StepMetrics {
  step: number;
  epoch: number;
  /** Mean loss of the step's batch, computed before the step's update. */
  loss: number;
  learningRate: number;
  gradNorm: number;
  tokensPerSecond: number;
}

export interface TrainJob {
  model: CausalLM;
  /** Initial weights by HF name (every model parameter); also L2-SP's w0, so a resume passes the same pretrained weights. */
  weights: Map<string, Float32Array>;
  data: PreparedDataset;
  args: TrainingArguments;
  runDir: string;
  /** Parameters kept fixed (fed as inputs, never updated). */
  isFrozen?: (name: string) => boolean;
  /** Learning-rate multiplier per parameter (layer-wise learning rates). */
  lrScale?: (name: string) => number;
  /** Extra settings written to config.json (model source, data source, strategy...). */
  describe?: RunDescription & Record<string, unknown>;
  /** Called once the step is compiled, before the first step. */
  onStart?: (info: { startStep: number; totalSteps: number }) => void;
  onStep?: (m: StepMetrics) => void;
  onEval?: (m: EvalMetrics) => void;
  onLog?: (line: string) => void;
  signal?: AbortSignal;
  /** Replace a run already in runDir (default: refuse, so that no earlier run is lost). */
  overwrite?: boolean;
  /** Continue the run in runDir from its checkpoint (same arguments; maxSteps may grow). */
  resume?: boolean;
  /** LoRA: the model stays frozen; low-rank adapters on the target modules train. */
  lora?: LoraConfig;
  /** Mix general text into every batch (forgetting guard): a packed corpus whose sequences are sequenceLength(data) + 1 long, and the share of rows it takes. */
  replay?: { data: PreparedDataset; ratio: number };
}

export interface TrainResult {
  steps: number;
  finalLoss: number;
  device: string;
  /** The final weights, or the best ones by validation loss when early stopping ended the run. */
  weights: Map<string, Float32Array>;
  stopped: boolean;
  stoppedEarly: boolean;
  best: { step: number; loss: number } | null;
}

/** ONNX Runtime's allocation failures, in words that say what to change. */
export function explainStepError(err: unknown, batch: number, seqLen: number, accumulation: number): Error {
  const msg = err instanceof Error ? err.message : String(err);
  if (/bad_alloc|Failed to allocate|failed to allocate|out of memory|OOM/i.test(msg)) {
    return new OutOfMemoryError(`out of memory in a training step (batch ${batch} x ${seqLen} tokens${accumulation > 1 ? `, ${accumulation} micro-batches` : ''}): lower --per-device-train-batch-size (and raise --gradient-accumulation-steps to keep the effective batch), or --max-length; the last checkpoint is kept (--resume continues). ONNX Runtime said: ${msg.split('\n')[0]}`);
  }
  return err instanceof Error ? err : new Error(msg);
}

export class OutOfMemoryError extends Error {
  override readonly name = 'OutOfMemoryError';
}

/** The output folder already holds a run that would be replaced. */
export class RunExistsError extends Error {
  override readonly name = 'RunExistsError';
}

/**
 * Parameter groups as Hugging Face Trainer makes them: weight decay on tensors of rank >= 2 only
 * (not biases or norm weights); one group per distinct (decay, lr scale).
 */
export function parameterGroups(params: ParamShape[], weightDecay: number, lrScale: (name: string) => number = () => 1): ParamGroup[] {
  const groups = new Map<string, ParamGroup>();
  for (const p of params) {
    const wd = p.shape.length >= 2 ? weightDecay : 0;
    const scale = lrScale(p.name);
    const key = `${wd}|${scale}`;
    let g = groups.get(key);
    if (!g) {
      g = { name: `${wd ? 'decay' : 'no_decay'}${scale !== 1 ? `_x${scale}` : ''}`, params: [], weightDecay: wd, lrScale: scale };
      groups.set(key, g);
    }
    g.params.push(p);
  }
  return [...groups.values()];
}

/** Longest input a batch needs: the longest training or validation example minus one (inputs are tokens[:-1]). */
export function sequenceLength(ds: PreparedDataset, maxPositions: number): number {
  let longest = 2;
  for (const split of ['train', 'validation'] as const) for (const e of ds.indices(split)) longest = Math.max(longest, ds.exampleLength(e));
  if (longest - 1 > maxPositions) {
    throw new Error(`the longest training example has ${longest} tokens but the model takes at most ${maxPositions + 1}; prepare the data with --max-length ${maxPositions + 1}`);
  }
  return longest - 1;
}

/** Trains, keeping <runDir>/status.json current: running, then finished, stopped or failed (with the error). */
export async function train(job: TrainJob): Promise<TrainResult> {
  const status = new RunStatusRecorder(job.runDir);
  try {
    return await trainRun(job, status);
  } catch (err) {
    status.fail(err);
    throw err;
  }
}

async function trainRun(job: TrainJob, status: RunStatusRecorder): Promise<TrainResult> {
  const { model, args, runDir, data } = job;
  const log = job.onLog ?? (() => {});
  const loraTgts = job.lora ? loraTargets(model, job.lora) : [];
  const adapterShapes = job.lora ? loraParams(loraTgts, job.lora.rank) : [];
  const frozenFn = job.lora ? () => true : job.isFrozen ?? (() => false);
  const trainable = [...model.params.filter((p) => !frozenFn(p.name)), ...adapterShapes];
  const frozen = model.params.filter((p) => frozenFn(p.name));
  const allParams = [...model.params, ...adapterShapes];
  const initial = job.lora ? new Map([...job.weights, ...initLora(loraTgts, job.lora.rank, args.seed)]) : job.weights;
  const merged = (w: Map<string, Float32Array>) => (job.lora ? mergeLora(w, loraTgts, job.lora) : w);
  if (!trainable.length) throw new Error('every parameter is frozen: nothing to train');
  const l2sp = args.l2spWeight ?? 0;
  if (!(Number.isFinite(l2sp) && l2sp >= 0)) throw new RangeError(`the L2-SP weight must be a number >= 0, got ${l2sp}`);
  if (l2sp > 0 && job.lora) throw new RangeError('L2-SP pulls trained weights toward their pretrained values; with LoRA those weights are frozen and the adapters have none: set the L2-SP weight to 0 or use another strategy');
  const nTrain = data.indices('train').length;
  if (!nTrain) throw new Error(`the prepared dataset ${data.dir} has no training examples`);

  const B = args.perDeviceTrainBatchSize, A = args.gradientAccumulationSteps;
  const T = sequenceLength(data, model.maxPositions);
  // Replay: a share of every batch's rows comes from a general-text corpus (packed to T + 1 tokens).
  const ratio = job.replay?.ratio ?? 0;
  if (!(ratio >= 0 && ratio < 1)) throw new RangeError(`replay ratio must be in [0, 1), got ${ratio}`);
  const Br = job.replay && ratio > 0 ? Math.max(1, Math.round(B * ratio)) : 0;
  const Bt = B - Br;
  if (Bt < 1) throw new RangeError(`a replay ratio of ${ratio} leaves no task rows in a batch of ${B}`);
  const batchesPerEpoch = Math.ceil(nTrain / Bt);
  const stepsPerEpoch = Math.max(1, Math.ceil(batchesPerEpoch / A));
  const totalSteps = args.maxSteps > 0 ? args.maxSteps : Math.ceil(args.numTrainEpochs * stepsPerEpoch);
  const optimizer: OptimizerConfig = args.optim === 'sgd' ? { kind: 'sgd', momentum: args.sgdMomentum } : { kind: 'adamw', beta1: args.adamBeta1, beta2: args.adamBeta2, eps: args.adamEpsilon };
  const dropout = args.dropout;
  const cfg: TrainStepConfig = {
    dtype: 'float32', groups: parameterGroups(trainable, args.weightDecay, job.lrScale), frozen,
    batchSize: B, seqLen: T, microBatches: A, stepsPerRun: 1, optimizer, maxGradNorm: args.maxGradNorm,
    dropout: dropout === null || dropout > 0, layout: 'tensors', l2sp,
    forward: (c, p, ids) => model.forward(c, p, ids, dropout === null ? undefined : { embd: dropout, attn: dropout, resid: dropout }),
    ...(job.lora ? { lora: loraTgts.map((t) => ({ weight: t.weight, A: t.A, B: t.B, scale: job.lora!.alpha / job.lora!.rank })) } : {}),
  };
  const schedule: Schedule = { type: args.lrSchedulerType, learningRate: args.learningRate, warmupSteps: args.warmupSteps, totalSteps };

  const metricsPath = join(runDir, 'metrics.jsonl');
  const ckptDir = join(runDir, 'checkpoint');
  let resume: TrainerState | null = null;
  if (job.resume) {
    resume = readTrainerState(ckptDir);
    if (resume.step >= totalSteps) throw new Error(`${runDir} has already run ${resume.step} of ${totalSteps} steps; give a larger --max-steps to train on`);
    const now = readRunStatus(runDir);
    if (now.state === 'running') throw new RunExistsError(`${runDir} is still running (process ${now.recorded!.pid} on ${now.recorded!.hostname}, step ${now.step} of ${now.totalSteps}); stop it before resuming it`);
    // Metrics logged after the checkpoint belong to steps that will run again.
    truncateMetricsAfter(runDir, resume.step);
  } else {
    if (existsSync(join(runDir, 'config.json')) && !job.overwrite) {
      throw new RunExistsError(`${runDir} already holds a run (config.json); choose another output folder, resume it (--resume), or overwrite it explicitly (--overwrite)`);
    }
    mkdirSync(runDir, { recursive: true });
    if (existsSync(metricsPath)) rmSync(metricsPath);
  }
  const resolved = writeRunConfig(runDir, {
    ...job.describe,
    model: { family: model.family, parameters: model.params.reduce((n, p) => n + p.shape.reduce((a, b) => a * b, 1), 0), trainable: trainable.map((p) => p.name).length, frozen: frozen.map((p) => p.name) },
    ...(job.lora ? { lora: { ...job.lora, adapters: loraTgts.map((t) => t.module) } } : {}),
    training: { ...args, totalSteps, stepsPerEpoch, sequenceLength: T, trainExamples: nTrain, ...(Br ? { replay: { dir: job.replay!.data.dir, ratio, rowsPerBatch: Br } } : {}) },
    data: { dir: data.dir },
  }, { resume: job.resume });
  status.start(resume?.step ?? 0, resolved.training.totalSteps);

  const runner = await TrainStepRunner.create(cfg, buildTrainStep(cfg), initial, {
    device: args.device, threads: args.threads || undefined, onFallback: (m) => log(m),
  });
  if (resume) {
    const saved = await readCheckpoint(ckptDir, stateNames(optimizer));
    runner.load(saved.params, saved.optimizer);
    log(`resuming at step ${resume.step} (epoch ${resume.epoch}, batch ${resume.batchInEpoch} of it)`);
  }
  if (Br) {
    const n = job.replay!.data.indices('train').length;
    const len = n ? job.replay!.data.exampleLength(job.replay!.data.indices('train')[0]) : 0;
    if (len !== T + 1) throw new Error(`the replay corpus ${job.replay!.data.dir} is packed in sequences of ${len} tokens; this run needs ${T + 1} (prepare it with --seq-length ${T + 1})`);
    log(`replay: ${Br} of every ${B} rows from ${n} general-text sequences`);
  }
  log(`training ${trainable.length} tensors (${frozen.length} frozen) on ${runner.device}: ${totalSteps} steps, batch ${B}x${A}, sequence ${T}${l2sp ? `, L2-SP toward the pretrained weights (lambda ${l2sp})` : ''}`);

  const nVal = data.indices('validation').length;
  if (args.evalSteps > 0 && !nVal) log('no validation split: validation loss and early stopping are off');
  const evaluator = args.evalSteps > 0 && nVal ? await LossEvaluator.create(model, B, T, { device: args.device, threads: args.threads || undefined }) : null;
  const evalPath = join(runDir, 'eval_metrics.jsonl');
  if (!resume && existsSync(evalPath)) rmSync(evalPath);
  let best: { step: number; loss: number } | null = null, sinceBest = 0, stoppedEarly = false;
  const currentWeights = () => {
    const w = new Map(initial);
    for (const [n, v] of runner.params()) w.set(n, Float32Array.from(v));
    return w;
  };
  const evaluate = async () => {
    if (!evaluator) return;
    const weights = currentWeights();
    const r = await evaluator.evaluate(merged(weights), data, 'validation');
    const improved = best === null || r.loss < best.loss;
    if (improved) {
      best = { step, loss: r.loss };
      sinceBest = 0;
      await saveCheckpoint(join(runDir, 'best'), allParams, weights, { step, loss: r.loss, split: 'validation' });
    } else sinceBest++;
    const m: EvalMetrics = { step, split: 'validation', loss: r.loss, tokens: r.tokens, best: improved };
    appendFileSync(evalPath, JSON.stringify(m) + '\n');
    job.onEval?.(m);
    if (args.earlyStoppingPatience > 0 && sinceBest >= args.earlyStoppingPatience) stoppedEarly = true;
  };

  const Tn = B * T;
  const ids = new BigInt64Array(A * Tn), targets = new BigInt64Array(A * Tn);
  // Data order depends only on (seed, epoch), so a resumed run skips to the same batch.
  // Data order depends only on (seed, epoch), so a resumed run continues with the same batches.
  const task = new BatchCursor(data, 'train', { batchSize: Bt, seqLength: T, shuffle: args.shuffle, seed: args.seed }, resume ?? undefined);
  const replay = Br ? new BatchCursor(job.replay!.data, 'train', { batchSize: Br, seqLength: T, shuffle: true, seed: args.seed + 1 }, resume?.replay ?? undefined) : null;
  let step = resume?.step ?? 0, lastLoss = resume?.loss ?? NaN, stopped = false;
  job.onStart?.({ startStep: step, totalSteps });
  status.heartbeat(step); // compiling the step may have taken longer than a heartbeat
  const checkpoint = async () => {
    const weights = currentWeights();
    await saveCheckpoint(ckptDir, allParams, weights, { step, ...task.position(), replay: replay?.position(), loss: lastLoss, seed: args.seed, totalSteps, stoppedEarly, best }, runner.optimizerState(), stateNames(optimizer));
    return weights;
  };
  while (step < totalSteps) {
    if (job.signal?.aborted) { stopped = true; break; }
    for (let a = 0; a < A; a++) {
      // Rows 0..Bt-1: the task; rows Bt..B-1: general text replayed against forgetting.
      const parts = replay ? [task.next(), replay.next()] : [task.next()];
      let at = a * Tn;
      for (const bt of parts) {
        for (let k = 0; k < bt.inputIds.length; k++, at++) { ids[at] = BigInt(bt.inputIds[k]); targets[at] = BigInt(bt.targets[k]); }
      }
    }
    const lr = learningRateAt(schedule, step);
    const t0 = performance.now();
    const r = await runner.run({ inputIds: ids, targets }, [lr], [step + 1], [stepKey(args.seed, step)]).catch((err: unknown) => { throw explainStepError(err, B, T, A); });
    const ms = performance.now() - t0;
    step++;
    status.heartbeat(step);
    lastLoss = r.loss[0];
    if (!Number.isFinite(lastLoss)) {
      throw new Error(`the loss became ${lastLoss} at step ${step} (learning rate ${lr}); lower --learning-rate or set --max-grad-norm`);
    }
    const m: StepMetrics = { step, epoch: +(step / stepsPerEpoch).toFixed(4), loss: lastLoss, learningRate: lr, gradNorm: r.gradNorm[0], tokensPerSecond: Math.round((A * Tn) / (ms / 1000)) };
    if (step % args.loggingSteps === 0 || step === totalSteps) {
      appendFileSync(metricsPath, JSON.stringify(m) + '\n');
      job.onStep?.(m);
    }
    if (evaluator && step % args.evalSteps === 0 && step < totalSteps) await evaluate();
    if (stoppedEarly) {
      log(`early stopping at step ${step}: no better validation loss in ${args.earlyStoppingPatience} evaluations (best ${best!.loss.toFixed(4)} at step ${best!.step})`);
      break;
    }
    if (args.saveSteps > 0 && step % args.saveSteps === 0 && step < totalSteps) await checkpoint();
  }
  if (evaluator && !stoppedEarly && !stopped) await evaluate();
  let weights = await checkpoint();
  if (stoppedEarly && best) weights = (await readCheckpointWeights(join(runDir, 'best'))) ?? weights;
  await evaluator?.release();
  await runner.release();
  status.end(stopped ? 'stopped' : 'finished', step);
  // For LoRA the result is the merged model (what generation and export use); the checkpoint keeps the adapters.
  return { steps: step, finalLoss: lastLoss, device: runner.device, weights: merged(weights), stopped, stoppedEarly, best };
}

async function readCheckpointWeights(dir: string): Promise<Map<string, Float32Array> | null> {
  if (!existsSync(join(dir, 'model.safetensors'))) return null;
  const m = await readSafetensors(join(dir, 'model.safetensors'));
  return new Map([...m.tensors].map(([n, t]) => [n, t.data]));
}

/** Where a run stopped: enough to continue it exactly (same data order, dropout keys, schedule). */
export interface TrainerState {
  step: number;
  epoch: number;
  /** Batches of `epoch` already consumed. */
  batchInEpoch: number;
  /** Position in the replay corpus, when one is mixed in. */
  replay?: CursorPosition;
  loss: number;
  seed: number;
  totalSteps: number;
  /** Early stopping ended the run: the run's result is best/, not this checkpoint. */
  stoppedEarly?: boolean;
  best?: { step: number; loss: number } | null;
}

export function readTrainerState(ckptDir: string): TrainerState {
  const path = join(ckptDir, 'trainer_state.json');
  if (!existsSync(path)) throw new RunExistsError(`${ckptDir} has no trainer_state.json: there is no checkpoint to resume from`);
  return readTrainerStateFile(ckptDir);
}

/**
 * checkpoint/ = model.safetensors (HF names), optimizer.safetensors (<name>.<state> per trained
 * parameter) and trainer_state.json. Written into a temp folder which then replaces the old one, so
 * a crash leaves either the old checkpoint or the new one.
 */
export async function saveCheckpoint(dir: string, params: ParamShape[], weights: Map<string, Float32Array>, state: TrainerState | Record<string, unknown>,
  optimizer?: Map<string, (Float32Array | Float64Array)[]>, names: string[] = []): Promise<void> {
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const p of params) tensors.set(p.name, { shape: p.shape, data: weights.get(p.name)! });
  await writeSafetensors(join(tmp, 'model.safetensors'), tensors, { metadata: { format: 'pt' } });
  if (optimizer) {
    const shapes = new Map(params.map((p) => [p.name, p.shape]));
    const opt = new Map<string, { shape: number[]; data: Float32Array }>();
    for (const [n, bufs] of optimizer) bufs.forEach((b, k) => opt.set(`${n}.${names[k]}`, { shape: shapes.get(n)!, data: Float32Array.from(b) }));
    await writeSafetensors(join(tmp, 'optimizer.safetensors'), opt, { metadata: { state: names.join(',') } });
  }
  writeFileSync(join(tmp, 'trainer_state.json'), JSON.stringify(state, null, 2) + '\n');
  const old = `${dir}.old-${process.pid}`;
  if (existsSync(dir)) renameSync(dir, old);
  renameSync(tmp, dir);
  rmSync(old, { recursive: true, force: true });
}

export async function readCheckpoint(dir: string, names: string[]): Promise<{ params: Map<string, Float32Array>; optimizer: Map<string, Float32Array[]> }> {
  const model = await readSafetensors(join(dir, 'model.safetensors'));
  const optPath = join(dir, 'optimizer.safetensors');
  if (!existsSync(optPath)) throw new RunExistsError(`${dir} has no optimizer.safetensors: this checkpoint cannot be resumed exactly`);
  const opt = await readSafetensors(optPath);
  const params = new Map([...model.tensors].map(([n, t]) => [n, t.data]));
  const optimizer = new Map<string, Float32Array[]>();
  for (const n of params.keys()) {
    const bufs = names.map((s) => opt.tensors.get(`${n}.${s}`)?.data);
    if (bufs.every((b) => b)) optimizer.set(n, bufs as Float32Array[]);
  }
  return { params, optimizer };
}
