// The training loop: batches from a prepared dataset -> compiled step -> metrics and checkpoints
// in a run folder of plain files (config.json, metrics.jsonl, checkpoint/).

import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { learningRateAt } from '../optim/schedule';
import { stateNames } from '../optim/optimizer';
import { stepKey } from '../random';
import { writeFileAtomic } from '../fsAtomic';
import { RUN_FILES } from '../runs/runFolder';
import { RunStatusRecorder } from '../runs/runStatus';
import { clearStopRequest, describeStopRequest, isStopRequested } from '../runs/stopRequest';
import { buildTrainStep } from './trainStep';
import { TrainStepRunner } from './trainRunner';
import { BatchSource, checkReplayCorpus } from './batchSource';
import { readCheckpoint, saveCheckpoint } from './checkpoint';
import { openRunFolder } from './openRunFolder';
import { explainStepError, lossDivergedError } from './stepErrors';
import { TrainedParameters } from './trainedParameters';
import { planTraining } from './trainingPlan';
import { trainStepConfig } from './trainStepConfig';
import { stepsInRun } from './stepsInRun';
import { resolveDevice } from '../runtime/device';
import { StepMetrics, TrainJob, TrainResult } from './trainJob';
import { Validation } from './validation';

export { writeFileAtomic };
export { TRAINING_DEFAULTS, type TrainingArguments } from './trainingArguments';
export type { EvalMetrics, StepMetrics, TrainJob, TrainResult } from './trainJob';
export { OutOfMemoryError, explainStepError } from './stepErrors';
export { RunExistsError } from './runExistsError';
export { parameterGroups } from './parameterGroups';
export { sequenceLength } from './sequenceLength';
export { readCheckpoint, readTrainerState, saveCheckpoint, type TrainerState } from './checkpoint';

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
  const { args, runDir, data } = job;
  const log = job.onLog ?? (() => {});
  const params = TrainedParameters.of(job);
  const plan = planTraining(job);
  const { batchSize: B, accumulation: A, seqLen: T, totalSteps, rows } = plan;
  const cfg = trainStepConfig(job, params, plan);
  if (!(Number.isInteger(cfg.stepsPerRun) && cfg.stepsPerRun >= 1)) throw new RangeError(`steps per run must be a whole number >= 1, got ${cfg.stepsPerRun}`);
  // Before the run folder exists: a 'cuda' that cannot work fails here, naming what is missing.
  const device = resolveDevice(args.device);
  if (device.request !== 'cpu') log(`device: ${device.reason}`);
  const resume = openRunFolder(job, params, plan, status);
  const ckptDir = join(runDir, RUN_FILES.checkpoint);

  const K = cfg.stepsPerRun;
  const runner = await TrainStepRunner.create(cfg, buildTrainStep(cfg), params.initial, {
    device: args.device, threads: args.threads || undefined, onFallback: (m) => log(m), adoptInitial: job.consumeWeights,
  });
  if (resume) {
    const saved = await readCheckpoint(ckptDir, stateNames(cfg.optimizer));
    runner.load(saved.params, saved.optimizer);
    log(`resuming at step ${resume.step} (epoch ${resume.epoch}, batch ${resume.batchInEpoch} of it)`);
  }
  if (rows.replay) checkReplayCorpus(job.replay!.data, rows, T, log);
  log(`training ${params.trainable.length} tensors (${params.frozen.length} frozen) on ${runner.device}: ${totalSteps} steps, batch ${B}x${A}, sequence ${T}${K > 1 ? `, ${K} steps per run` : ''}${plan.l2sp ? `, L2-SP toward the pretrained weights (lambda ${plan.l2sp})` : ''}${args.gradientCheckpointing ? ', gradient checkpointing' : ''}`);
  // Which ONNX Runtime path runs the step (ftlab doctor says why the addon is missing, when it is).
  const rt = runner.runtime;
  if (rt.name !== 'bound') log('runtime: onnxruntime-node\'s run(), which copies parameters and optimizer state every step (the IO-binding addon is not built or is off)');
  const validation = await Validation.create(job, params, plan, runner, resume !== null, log);
  const batches = new BatchSource(data, job.replay?.data, { rows, seqLen: T, accumulation: A, shuffle: args.shuffle, seed: args.seed }, resume ?? undefined);

  let step = resume?.step ?? 0, lastLoss = resume?.loss ?? NaN, stopped = false;
  job.onStart?.({ startStep: step, totalSteps });
  status.heartbeat(step); // compiling the step may have taken longer than a heartbeat
  const checkpoint = async () => {
    await runner.syncToHost();
    const weights = params.current(runner);
    const state = { step, ...batches.position(), loss: lastLoss, seed: args.seed, totalSteps, stoppedEarly: validation.stoppedEarly, best: validation.best };
    await saveCheckpoint(ckptDir, params.all, weights, state, runner.optimizerState(), stateNames(cfg.optimizer));
    return weights;
  };
  // A stop request in the run folder (or its experiment's) ends the run at this step boundary: a run
  // started in a terminal can be stopped from the extension, checkpoint included, resumable here.
  const stopDirs = [runDir, ...(job.describe?.experiment ? [job.describe.experiment.dir] : [])];
  while (step < totalSteps) {
    if (job.signal?.aborted) { stopped = true; break; }
    const asked = stopDirs.find(isStopRequested);
    if (asked) {
      log(`stopping at step ${step}: a stop was ${describeStopRequest(asked)}`);
      stopped = true;
      break;
    }
    // One run of k steps (k = 1 unless --steps-per-run; fewer before a checkpoint or evaluation).
    const k = stepsInRun(step, { stepsPerRun: K, totalSteps, saveSteps: args.saveSteps, evalSteps: validation.interval });
    const batch = batches.nextSteps(k, K);
    const lrs = Array.from({ length: k }, (_, j) => learningRateAt(plan.schedule, step + j));
    const t0 = performance.now();
    const r = await runner.run(batch, lrs, lrs.map((_, j) => step + j + 1), lrs.map((_, j) => stepKey(args.seed, step + j))).catch((err: unknown) => { throw explainStepError(err, B, T, A); });
    const ms = (performance.now() - t0) / k;
    for (let j = 0; j < k; j++) {
      step++;
      lastLoss = r.loss[j];
      if (!Number.isFinite(lastLoss)) throw lossDivergedError(lastLoss, step, lrs[j]);
      const m: StepMetrics = { step, epoch: +(step / plan.stepsPerEpoch).toFixed(4), loss: lastLoss, learningRate: lrs[j], gradNorm: r.gradNorm[j], tokensPerSecond: Math.round(batches.tokensPerStep / (ms / 1000)) };
      // The status holds the step before the callback runs: a callback that throws fails the run at it.
      status.heartbeat(step);
      if (step % args.loggingSteps === 0 || step === totalSteps) {
        appendFileSync(join(runDir, RUN_FILES.metrics), JSON.stringify(m) + '\n');
        job.onStep?.(m);
      }
    }
    if (validation.isDue(step, totalSteps)) {
      await runner.syncToHost();
      await validation.evaluate(step);
    }
    if (validation.stoppedEarly) {
      log(`early stopping at step ${step}: no better validation loss in ${args.earlyStoppingPatience} evaluations (best ${validation.best!.loss.toFixed(4)} at step ${validation.best!.step})`);
      break;
    }
    if (args.saveSteps > 0 && step % args.saveSteps === 0 && step < totalSteps) await checkpoint();
  }
  await runner.syncToHost();
  await validation.end(step, stopped);
  const last = await checkpoint();
  const weights = (await validation.bestWeightsIfStopped()) ?? last;
  await validation.release();
  await runner.release();
  status.end(stopped ? 'stopped' : 'finished', step);
  // The run's own request is answered (a resume must not stop at once); an experiment's stays until
  // the experiment has seen it (runExperiment starts no further variant, then clears it).
  clearStopRequest(runDir);
  // For LoRA the result is the merged model (what generation and export use); the checkpoint keeps the adapters.
  return { steps: step, finalLoss: lastLoss, device: runner.device, weights: params.merged(weights), stopped, stoppedEarly: validation.stoppedEarly, best: validation.best };
}
