// What an Experiments view item shows, from the run files the engine writes: strategy, base model,
// step and loss, best validation loss, task and general accuracy before -> after (baseline.json and
// outcome.json), a label (label.json), a stop request; and the context value the menus match.

import { REPO_ROOT } from '../checkpoint/fixturePaths';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { requestStop } from '../../src/engine/runs/stopRequest';
import { writeRunLabel } from '../../src/engine/runs/runLabel';
import { contextValue, experimentItemParts, runItemParts } from '../../src/extension/runItem';
import { listWorkspaceRuns } from '../../src/extension/workspaceRuns';
import { makeWorkspace } from './workspaceFixture';

const share = (correct: number, total: number) => ({ correct, total, fraction: correct / total, low: 0, high: 1 });
const accuracy = (correct: number, total: number) => ({ total, correct, accuracy: correct / total, proportion: share(correct, total), byCategory: {}, decoding: { kind: 'greedy' }, items: [] });

test("a measured variant shows strategy, base model, loss, best validation loss and both accuracies", async () => {
  const ws = await makeWorkspace();
  // The evaluations as an experiment writes them: the base once (baseline.json), the variant after (outcome.json).
  const evaluation = (task: number, general: number) => ({ task: accuracy(task, 10), taskTrained: null, general: accuracy(general, 20), prose: null, generalText: null, seconds: 1 });
  writeFileSync(join(ws.experimentDir, 'baseline.json'), JSON.stringify({
    sha256: null, modelDir: '/m', counts: { train: 30, validation: 3, test: 10 },
    sets: { task: 10, taskMissing: null, taskTrained: 0, general: 20, generalText: null }, evaluation: evaluation(2, 15),
  }));
  const outcomeFile = join(ws.runDir('full'), 'outcome.json');
  writeFileSync(outcomeFile, JSON.stringify({ ...JSON.parse(readFileSync(outcomeFile, 'utf8')), evaluation: evaluation(6, 14) }));
  writeFileSync(join(ws.runDir('full'), 'eval_metrics.jsonl'), [[2, 2.4], [4, 1.9], [6, 2.0]].map(([step, loss]) => JSON.stringify({ step, split: 'validation', loss, tokens: 50, best: false })).join('\n') + '\n');

  const full = listWorkspaceRuns(ws.root).experiments[0].runs[0];
  const parts = runItemParts(full, '.ftlab/experiments/e/runs/full');
  assert.equal(parts.label, 'full');
  assert.equal(parts.description, 'built-in · step 6/6 · loss 1.500 · val 1.900 · task 20% → 60% · general 75% → 70%');
  assert.equal(parts.icon, 'check');
  assert.equal(parts.contextValue, 'finetuneLab.run.finished');
  assert.match(parts.tooltip[6], /^step 6 of 6, training loss 1\.5000( on cpu)?$/);
  assert.deepEqual(parts.tooltip.slice(2).filter((_, i) => i !== 4), [
    '', 'finished', 'strategy: full', 'base model: built-in', 'best validation loss 1.9000 at step 4',
    'task accuracy: 20% before → 60% after (10 items)', 'general accuracy: 75% before → 70% after (20 items)',
    'no checkpoint: nothing to resume or export',
  ]);
});

test('a running LoRA variant: no figures yet, a spinning icon, Stop in its menu; a stop request says "stopping…"', async () => {
  const ws = await makeWorkspace();
  let lora = listWorkspaceRuns(ws.root).experiments[0].runs[1];
  const config = JSON.parse(readFileSync(join(ws.runDir('lora'), 'config.json'), 'utf8'));
  writeFileSync(join(ws.runDir('lora'), 'config.json'), JSON.stringify({ ...config, lora: { rank: 8, alpha: 16, targetModules: ['c_attn'], adapters: ['h.0.attn.c_attn'] } }));
  lora = listWorkspaceRuns(ws.root).experiments[0].runs[1];
  let parts = runItemParts(lora, 'r');
  assert.equal(parts.contextValue, 'finetuneLab.run.running.lora');
  assert.equal(parts.icon, 'sync~spin');
  assert.equal(parts.description, 'built-in · step 3/6 · loss 2.700');
  assert.ok(parts.tooltip.includes('task accuracy: not measured yet'));

  requestStop(ws.experimentDir, 'a test');
  const e = listWorkspaceRuns(ws.root).experiments[0];
  parts = runItemParts(e.runs[1], 'r');
  assert.match(parts.description, /^stopping… · built-in · step 3\/6/);
  assert.match(experimentItemParts(e, 'e').description, /^stopping… · full, lora, frozen-embeddings · 1 of 3 finished$/);
  assert.equal(experimentItemParts(e, 'e').contextValue, 'finetuneLab.experiment.running');
});

test('a label replaces the name and the folder is named in the tooltip; standalone and broken runs say so in their context value', async () => {
  const ws = await makeWorkspace();
  writeRunLabel(ws.standaloneDir, '  first try  ');
  writeRunLabel(ws.experimentDir, 'lr sweep');
  const listed = listWorkspaceRuns(ws.root);
  const standalone = listed.runs.find((r) => r.name === 'cli-full')!;
  const parts = runItemParts(standalone, '.ftlab/runs/cli-full');
  assert.equal(parts.label, 'first try');
  assert.equal(parts.tooltip[1], '.ftlab/runs/cli-full (renamed from cli-full)');
  assert.equal(parts.contextValue, 'finetuneLab.run.finished.standalone');
  assert.equal(experimentItemParts(listed.experiments[0], 'e').label, 'lr sweep');
  const broken = listed.runs.find((r) => r.name === 'gpt2-sql-lora')!;
  assert.equal(contextValue(broken), 'finetuneLab.run.problem.standalone');
  assert.equal(runItemParts(broken, 'b').icon, 'warning');
  assert.equal(contextValue(listed.experiments[0].runs[2]), 'finetuneLab.run.pending');
  writeRunLabel(ws.standaloneDir, '');
  assert.equal(listWorkspaceRuns(ws.root).runs.find((r) => r.name === 'cli-full')!.label, undefined, 'an empty label removes it');
});

const MINE = new Set(['openDashboard', 'stopRun', 'resumeExperiment', 'exportRun', 'revealRun', 'renameRun', 'deleteRun', 'compareRuns']);

test("package.json's menus offer each action on the items the context values name", () => {
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8'));
  const menus: { command: string; when: string; group: string }[] = pkg.contributes.menus['view/item/context'];
  const offered = (value: string) => menus.filter((m) => {
    if (m.when.includes('listMultiSelection') && !m.when.includes('!listMultiSelection')) return false;
    const re = m.when.match(/viewItem =~ \/(.*?)\/(?= |$)/);
    return re !== null && new RegExp(re[1]).test(value) && !m.group.startsWith('inline');
  }).map((m) => m.command.replace('finetuneLab.', '')).filter((c) => MINE.has(c));
  assert.deepEqual(offered('finetuneLab.run.running.lora'), ['openDashboard', 'stopRun', 'revealRun', 'renameRun']);
  assert.deepEqual(offered('finetuneLab.run.stopped'), ['openDashboard', 'resumeExperiment', 'exportRun', 'revealRun', 'renameRun', 'deleteRun']);
  assert.deepEqual(offered('finetuneLab.run.stopped.standalone'), ['openDashboard', 'exportRun', 'revealRun', 'renameRun', 'deleteRun']);
  assert.deepEqual(offered('finetuneLab.experiment.finished'), ['openDashboard', 'revealRun', 'renameRun', 'deleteRun']);
  assert.deepEqual(offered('finetuneLab.run.pending'), []);
});
