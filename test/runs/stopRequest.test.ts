// stop-request.json: a run started elsewhere (a terminal) stops at the next step boundary when the
// file appears in its folder (or its experiment's), with its checkpoint at that step and status
// 'stopped'; resumed, it continues from that step exactly as an uninterrupted run would (same losses).
// The file's reader is checked like every run file; a stale request does not stop the next start.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gpt2Init } from '../../src/engine/models/gpt2';
import { TRAINING_DEFAULTS, TrainingArguments, train, readTrainerState } from '../../src/engine/train/trainer';
import { readRunStatus } from '../../src/engine/runs/runStatus';
import { readMetrics } from '../../src/engine/runs/metricsLog';
import { RunFolderError } from '../../src/engine/runs/runFolder';
import { isStopRequested, readStopRequest, requestStop } from '../../src/engine/runs/stopRequest';
import { tinyRun } from './tinyRun';

async function tinyJob(prefix: string) {
  const { dir, model, cfg, ds } = await tinyRun(prefix);
  return { dir, job: { model, weights: gpt2Init(cfg, 1), data: ds } };
}

const ARGS: TrainingArguments = { ...TRAINING_DEFAULTS, learningRate: 3e-3, maxSteps: 8, perDeviceTrainBatchSize: 2, shuffle: true, threads: 1, saveSteps: 0 };

test('a stop request written during step 3 ends the run at that boundary; resumed, it continues as if never stopped', async () => {
  const { dir, job } = await tinyJob('stop-request');
  const whole = join(dir, 'whole');
  await train({ ...job, runDir: whole, args: ARGS });

  const runDir = join(dir, 'stopped');
  const logs: string[] = [];
  // onStep runs after step 3's update: the request is seen before step 4 starts.
  const res = await train({ ...job, runDir, args: ARGS, onLog: (l) => logs.push(l), onStep: (m) => { if (m.step === 3) requestStop(runDir, 'a test'); } });
  assert.deepEqual([res.stopped, res.steps], [true, 3]);
  assert.deepEqual([readRunStatus(runDir).state, readRunStatus(runDir).step], ['stopped', 3]);
  assert.equal(readTrainerState(join(runDir, 'checkpoint')).step, 3, 'the checkpoint is at the step it stopped at');
  assert.ok(logs.some((l) => /stopping at step 3: a stop was asked by a test at /.test(l)), logs.join('\n'));
  assert.equal(isStopRequested(runDir), false, 'the request is answered: a resume does not stop at once');

  const resumed = await train({ ...job, runDir, args: ARGS, resume: true });
  assert.deepEqual([resumed.stopped, resumed.steps, readRunStatus(runDir).state], [false, 8, 'finished']);
  assert.deepEqual(readMetrics(runDir).map((m) => m.loss), readMetrics(whole).map((m) => m.loss), 'same losses as the uninterrupted run, step for step');
});

test("an experiment's stop request stops its variant's run; a request left from before a start is stale", async () => {
  const { dir, job } = await tinyJob('stop-experiment');
  const experimentDir = join(dir, 'experiment');
  const runDir = join(experimentDir, 'runs', 'full');
  mkdirSync(runDir, { recursive: true });
  requestStop(runDir, 'an earlier window'); // before the start: not a request to this run
  const res = await train({
    ...job, runDir, args: ARGS, describe: { experiment: { dir: experimentDir, variant: 'full' } },
    onStep: (m) => { if (m.step === 2) requestStop(experimentDir, 'VS Code'); },
  });
  assert.deepEqual([res.stopped, res.steps], [true, 2]);
  assert.equal(isStopRequested(experimentDir), true, "the experiment's request stays for runExperiment to see");
});

test('the checked reader names the file of a request that does not check; such a file still stops a run', async () => {
  const { dir, job } = await tinyJob('stop-garbled');
  const runDir = join(dir, 'run');
  assert.equal(readStopRequest(runDir), null);
  const res = await train({ ...job, runDir, args: ARGS, onStep: (m) => { if (m.step === 1) writeFileSync(join(runDir, 'stop-request.json'), '{"by": 3}'); } });
  assert.deepEqual([res.stopped, res.steps], [true, 1]);
  assert.equal(existsSync(join(runDir, 'stop-request.json')), false);
  writeFileSync(join(runDir, 'stop-request.json'), '{"format":"ftlab-stop-request","requestedAt":"yesterday","by":"me"}');
  assert.throws(() => readStopRequest(runDir), (e: unknown) => e instanceof RunFolderError && e.code === 'bad-field' && /stop-request\.json: "requestedAt" must be an ISO date-time/.test(e.message));
});
