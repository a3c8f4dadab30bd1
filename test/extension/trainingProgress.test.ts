// The status bar's and the progress notification's text while a run trains: step of total, the last
// loss and an ETA from the steps seen over time, read from the run folders (a run started anywhere).

import assert from 'node:assert/strict';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { StepRate, TrainingMonitor, formatEta, progressText } from '../../src/extension/trainingProgress';
import { listWorkspaceRuns } from '../../src/extension/workspaceRuns';
import { makeWorkspace } from './workspaceFixture';

test('StepRate: seconds per step over the window; a resume from an earlier step starts over', () => {
  const r = new StepRate(60_000);
  assert.equal(r.eta(10), undefined);
  r.observe(0, 3);
  r.observe(500, 3); // the same step seen again: its time is when it was first seen
  assert.equal(r.eta(10), undefined);
  r.observe(4_000, 5); // 2 steps in 4 s
  assert.equal(r.eta(10), 20);
  r.observe(100_000, 6); // the window drops the oldest sample
  assert.equal(r.eta(1), 96);
  r.observe(101_000, 2);
  assert.equal(r.eta(5), undefined);
  assert.deepEqual([formatEta(0), formatEta(65.4), formatEta(3 * 3600 + 125)], ['0:00', '1:05', '3 h 02 min']);
});

test('the monitor finds the running variant in its experiment, with step, loss and an ETA after two looks', async () => {
  const ws = await makeWorkspace();
  const monitor = new TrainingMonitor();
  const changes: number[] = [];
  monitor.on('change', (runs) => changes.push(runs.length));
  let [p] = monitor.update([listWorkspaceRuns(ws.root)], 1_000);
  assert.deepEqual([p.name, p.variant, p.step, p.totalSteps, p.loss, p.etaSeconds, p.experimentDir], ['lora', { index: 2, count: 3 }, 3, 6, 2.7, undefined, ws.experimentDir]);
  assert.equal(progressText(p), 'lora 2/3 · step 3/6 · loss 2.700 · ETA …');
  // One more step logged 2 s later: 2 s a step, 2 steps left.
  appendFileSync(join(ws.runDir('lora'), 'metrics.jsonl'), JSON.stringify({ step: 4, epoch: 2, loss: 2.5, learningRate: 1e-4, gradNorm: 1, tokensPerSecond: 100 }) + '\n');
  [p] = monitor.update([listWorkspaceRuns(ws.root)], 3_000);
  assert.equal(progressText(p), 'lora 2/3 · step 4/6 · loss 2.500 · ETA 0:04');
  assert.equal(monitor.of(ws.experimentDir)?.dir, ws.runDir('lora'));
  assert.deepEqual(changes, [1, 1]);

  // A run still compiling (no step logged yet) gives no ETA from that wait.
  const fresh = new TrainingMonitor();
  writeFileSync(join(ws.runDir('lora'), 'metrics.jsonl'), '');
  const compiling = JSON.parse(readFileSync(join(ws.runDir('lora'), 'status.json'), 'utf8'));
  writeFileSync(join(ws.runDir('lora'), 'status.json'), JSON.stringify({ ...compiling, state: 'running', step: 0 }));
  fresh.update([listWorkspaceRuns(ws.root)], 0);
  appendFileSync(join(ws.runDir('lora'), 'metrics.jsonl'), JSON.stringify({ step: 1, epoch: 0.5, loss: 3, learningRate: 1e-4, gradNorm: 1, tokensPerSecond: 100 }) + '\n');
  assert.equal(fresh.update([listWorkspaceRuns(ws.root)], 60_000)[0].etaSeconds, undefined, 'one look at a logged step: no rate yet');
  appendFileSync(join(ws.runDir('lora'), 'metrics.jsonl'), JSON.stringify({ step: 2, epoch: 1, loss: 2.9, learningRate: 1e-4, gradNorm: 1, tokensPerSecond: 100 }) + '\n');
  assert.equal(fresh.update([listWorkspaceRuns(ws.root)], 61_000)[0].etaSeconds, 4, '1 s a step, 4 steps left');

  // Finished: nothing in progress, the status bar hides.
  const status = JSON.parse(readFileSync(join(ws.runDir('lora'), 'status.json'), 'utf8'));
  writeFileSync(join(ws.runDir('lora'), 'status.json'), JSON.stringify({ ...status, state: 'finished' }));
  writeFileSync(join(ws.runDir('lora'), 'outcome.json'), readFileSync(join(ws.runDir('full'), 'outcome.json')));
  assert.deepEqual(monitor.update([listWorkspaceRuns(ws.root)], 5_000), []);
  assert.equal(monitor.of(ws.experimentDir), undefined);
});
