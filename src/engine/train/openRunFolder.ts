// The run folder at the start of training: a new run (refusing to replace one unless asked) or the
// continuation of the run already there, then config.json and status 'running'.

import { mkdirSync, existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { RunSettings, writeRunConfig } from '../runs/runConfig';
import { RUN_FILES } from '../runs/runFolder';
import { RunStatusRecorder, readRunStatus } from '../runs/runStatus';
import { truncateMetricsAfter } from '../runs/metricsLog';
import { clearStopRequest } from '../runs/stopRequest';
import { TrainerState, readTrainerState } from './checkpoint';
import { RunExistsError } from './runExistsError';
import { stepsDoneError } from './stepErrors';
import { TrainedParameters } from './trainedParameters';
import { TrainingPlan } from './trainingPlan';
import { TrainJob } from './trainJob';

/** Returns the checkpoint's state when the job resumes, null for a new run. */
export function openRunFolder(job: TrainJob, params: TrainedParameters, plan: TrainingPlan, status: RunStatusRecorder): TrainerState | null {
  const { runDir } = job;
  const metricsPath = join(runDir, RUN_FILES.metrics);
  const ckptDir = join(runDir, RUN_FILES.checkpoint);
  let resume: TrainerState | null = null;
  if (job.resume) {
    resume = readTrainerState(ckptDir);
    if (resume.step >= plan.totalSteps) throw stepsDoneError(runDir, resume.step, plan.totalSteps);
    const now = readRunStatus(runDir);
    if (now.state === 'running') throw new RunExistsError(`${runDir} is still running (process ${now.recorded!.pid} on ${now.recorded!.hostname}, step ${now.step} of ${now.totalSteps}); stop it before resuming it`);
    // Metrics logged after the checkpoint belong to steps that will run again.
    truncateMetricsAfter(runDir, resume.step);
  } else {
    if (existsSync(join(runDir, RUN_FILES.config)) && !job.overwrite) {
      throw new RunExistsError(`${runDir} already holds a run (config.json); choose another output folder, resume it (--resume), or overwrite it explicitly (--overwrite)`);
    }
    mkdirSync(runDir, { recursive: true });
    if (existsSync(metricsPath)) rmSync(metricsPath);
  }
  // A stop asked of the run before this start is answered already (it stopped, or never ran): a
  // request made from now on, while the step compiles, is honoured at the first step boundary.
  clearStopRequest(runDir);
  const resolved = writeRunConfig(runDir, runSettings(job, params, plan), { resume: job.resume });
  status.start(resume?.step ?? 0, resolved.training.totalSteps);
  return resume;
}

function runSettings(job: TrainJob, params: TrainedParameters, plan: TrainingPlan): RunSettings {
  const { model, lora, replay } = job;
  const { trainable, frozen } = params;
  const { rows } = plan;
  return {
    ...job.describe,
    model: { family: model.family, parameters: model.params.reduce((n, p) => n + p.shape.reduce((a, b) => a * b, 1), 0), trainable: trainable.map((p) => p.name).length, frozen: frozen.map((p) => p.name) },
    ...(lora ? { lora: { ...lora, adapters: params.loraTargets.map((t) => t.module) } } : {}),
    training: { ...job.args, totalSteps: plan.totalSteps, stepsPerEpoch: plan.stepsPerEpoch, sequenceLength: plan.seqLen, trainExamples: plan.trainExamples, ...(rows.replay ? { replay: { dir: replay!.data.dir, ratio: rows.ratio, rowsPerBatch: rows.replay } } : {}) },
    data: { dir: job.data.dir },
  };
}
