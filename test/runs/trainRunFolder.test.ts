// train() and the run folder: status.json goes running -> finished (or stopped when the signal
// aborts, failed with the message when training throws); config.json reads back through the checked
// reader; resume survives a half-written last metrics line and refuses a run that is still running.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { hostname } from 'node:os';
import { gpt2Init } from '../../src/engine/models/gpt2';
import { TRAINING_DEFAULTS, TrainingArguments, train } from '../../src/engine/train/trainer';
import { readRunConfig } from '../../src/engine/runs/runConfig';
import { RunStatus, readRunStatus, writeRunStatus } from '../../src/engine/runs/runStatus';
import { readMetrics } from '../../src/engine/runs/metricsLog';
import { tinyRun } from './tinyRun';


const ARGS: TrainingArguments = { ...TRAINING_DEFAULTS, learningRate: 3e-3, maxSteps: 8, perDeviceTrainBatchSize: 2, shuffle: true, threads: 1, saveSteps: 0 };
const statusFile = (runDir: string) => JSON.parse(readFileSync(join(runDir, 'status.json'), 'utf8')) as RunStatus;

test('train() writes status.json: running while it trains, finished at the end; config.json reads back', async () => {
  const { dir, model, cfg, ds } = await tinyRun('status-run');
  const runDir = join(dir, 'run');
  const during: string[] = [];
  await train({
    model, weights: gpt2Init(cfg, 1), data: ds, runDir, args: ARGS,
    describe: { command: 'test', strategy: 'full', label: 'tiny', baseModel: { dir: '/m', family: 'gpt2' } },
    onStep: () => during.push(readRunStatus(runDir).state),
  });
  assert.deepEqual([...new Set(during)], ['running']);
  const s = statusFile(runDir);
  assert.deepEqual([s.state, s.step, s.totalSteps, s.pid, s.hostname], ['finished', 8, 8, process.pid, hostname()]);
  assert.ok(s.endedAt && Date.parse(s.endedAt) >= Date.parse(s.startedAt));
  const c = readRunConfig(runDir);
  assert.deepEqual([c.format, c.version, c.label, c.command, c.training.totalSteps, c.model.family], ['ftlab-run', 1, 'tiny', 'test', 8, 'gpt2']);
  assert.deepEqual(readMetrics(runDir).map((m) => m.step), [1, 2, 3, 4, 5, 6, 7, 8]);
});

test('an aborted signal leaves status stopped; an error after the start leaves failed with its message', async () => {
  const { dir, model, cfg, ds } = await tinyRun('status-stop');
  const ctl = new AbortController();
  const stoppedDir = join(dir, 'stopped');
  await train({ model, weights: gpt2Init(cfg, 1), data: ds, runDir: stoppedDir, args: ARGS, signal: ctl.signal, onStep: (m) => { if (m.step === 3) ctl.abort(); } });
  assert.deepEqual([statusFile(stoppedDir).state, statusFile(stoppedDir).step], ['stopped', 3]);
  assert.equal(readRunStatus(stoppedDir).state, 'stopped');

  const failedDir = join(dir, 'failed');
  await assert.rejects(train({ model, weights: gpt2Init(cfg, 1), data: ds, runDir: failedDir, args: ARGS, onStep: (m) => { if (m.step === 2) throw new RangeError('the callback broke'); } }), /the callback broke/);
  const f = statusFile(failedDir);
  assert.deepEqual([f.state, f.step, f.error], ['failed', 2, { message: 'the callback broke', code: 'RangeError' }]);
  assert.ok(f.endedAt);

  // Refusing to start (a run is already there) leaves that run's status as it was.
  await assert.rejects(train({ model, weights: gpt2Init(cfg, 1), data: ds, runDir: failedDir, args: ARGS }), /already holds a run/);
  assert.equal(statusFile(failedDir).state, 'failed');
});

test('resume after a half-written last metrics line: no crash, the line is cut, metrics continue to the end', async () => {
  const { dir, model, cfg, ds } = await tinyRun('status-resume');
  const runDir = join(dir, 'run');
  const ctl = new AbortController();
  await train({ model, weights: gpt2Init(cfg, 1), data: ds, runDir, args: ARGS, signal: ctl.signal, onStep: (m) => { if (m.step === 4) ctl.abort(); } });
  appendFileSync(join(runDir, 'metrics.jsonl'), '{"step":5,"epoch":1.2,"lo'); // a process killed mid-append
  assert.deepEqual(readMetrics(runDir).map((m) => m.step), [1, 2, 3, 4]);
  const res = await train({ model, weights: gpt2Init(cfg, 1), data: ds, runDir, args: ARGS, resume: true });
  assert.equal(res.steps, 8);
  assert.deepEqual(readMetrics(runDir).map((m) => m.step), [1, 2, 3, 4, 5, 6, 7, 8]);
  assert.ok(readFileSync(join(runDir, 'metrics.jsonl'), 'utf8').endsWith('}\n'));
  assert.equal(statusFile(runDir).state, 'finished');
});

test('resume refuses a run whose status says running with a live process, and leaves its status alone', async () => {
  const { dir, model, cfg, ds } = await tinyRun('status-busy');
  const runDir = join(dir, 'run');
  const ctl = new AbortController();
  await train({ model, weights: gpt2Init(cfg, 1), data: ds, runDir, args: ARGS, signal: ctl.signal, onStep: (m) => { if (m.step === 2) ctl.abort(); } });
  const now = new Date().toISOString();
  const busy: RunStatus = { state: 'running', pid: process.pid, hostname: hostname(), startedAt: now, heartbeatAt: now, step: 2, totalSteps: 8 };
  writeRunStatus(runDir, busy);
  await assert.rejects(train({ model, weights: gpt2Init(cfg, 1), data: ds, runDir, args: ARGS, resume: true }), /is still running \(process \d+ on .*, step 2 of 8\); stop it before resuming it/);
  assert.deepEqual(statusFile(runDir), busy);
});
