// The Experiments view's tree, built from the folders alone: experiments with their variants' runs
// (finished, running, evaluating, not started), standalone runs, and a broken run that says what is
// wrong instead of disappearing.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { allRunNodes, listWorkspaceRuns } from '../../src/extension/workspaceRuns';
import { scratchDir } from '../data/helpers';
import { makeWorkspace } from './workspaceFixture';

test('an experiment lists its variants in order with their states; standalone runs follow', async () => {
  const ws = await makeWorkspace();
  const { experiments, runs } = listWorkspaceRuns(ws.root);
  assert.equal(experiments.length, 1);
  const [e] = experiments;
  assert.equal(e.name, '2026-01-01-10-00-00');
  assert.equal(e.problem, undefined);
  assert.deepEqual(e.runs.map((r) => [r.name, r.state]), [['full', 'finished'], ['lora', 'running'], ['frozen-embeddings', 'pending']]);
  assert.equal(e.state, 'running', 'a running variant makes the experiment running');
  assert.equal(e.summary, 'full, lora, frozen-embeddings · 1 of 3 finished');
  assert.match(e.runs[0].summary ?? '', /^built-in · step 6\/6 · loss 1\.500$/, 'the variant is named after its strategy already');
  assert.ok(e.runs.every((r) => r.experimentDir === ws.experimentDir));
  assert.equal(e.runs[2].dir, ws.runDir('frozen-embeddings'));

  assert.deepEqual(runs.map((r) => r.name).sort(), ['cli-full', 'gpt2-sql-lora']);
  const good = runs.find((r) => r.name === 'cli-full')!;
  assert.equal(good.state, 'finished');
  assert.equal(good.experimentDir, undefined);
  const broken = runs.find((r) => r.name === 'gpt2-sql-lora')!;
  assert.match(broken.problem ?? '', /config\.json/);
  assert.ok(!broken.problem!.includes(ws.brokenDir), 'the message is relative to the run');

  assert.deepEqual(allRunNodes({ experiments, runs }).map((r) => r.name).sort(), ['cli-full', 'frozen-embeddings', 'full', 'gpt2-sql-lora', 'lora']);
});

test('a variant trained but not yet measured reads as evaluating; one whose process died as stopped', async () => {
  const ws = await makeWorkspace();
  rmSync(join(ws.runDir('full'), 'outcome.json'));
  const status = JSON.parse(readFileSync(join(ws.runDir('lora'), 'status.json'), 'utf8'));
  const dead = spawnSync(process.execPath, ['-e', '0']).pid; // has exited by now
  writeFileSync(join(ws.runDir('lora'), 'status.json'), JSON.stringify({ ...status, pid: dead }));
  const e = listWorkspaceRuns(ws.root).experiments[0];
  assert.deepEqual(e.runs.map((r) => r.state), ['evaluating', 'stopped', 'pending']);
  assert.match(e.runs[1].stateDetail ?? '', /is gone/);
  assert.equal(e.state, 'evaluating');
  assert.equal(e.summary, 'full, lora, frozen-embeddings · 0 of 3 finished');
});

test('an experiment.json that does not check is shown with its problem; no .ftlab is an empty tree', async () => {
  const ws = await makeWorkspace();
  writeFileSync(join(ws.experimentDir, 'experiment.json'), '{"format":"ftlab-experiment"}');
  const e = listWorkspaceRuns(ws.root).experiments[0];
  assert.match(e.problem ?? '', /experiment\.json/);
  assert.deepEqual(e.runs, []);
  assert.deepEqual(listWorkspaceRuns(scratchDir('empty')), { experiments: [], runs: [] });
});
