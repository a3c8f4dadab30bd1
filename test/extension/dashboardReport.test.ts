// What the dashboard is sent, built from the folders: an experiment's variants with their curves and
// figures (missing ones say why), runs compared across an experiment and a standalone run, a folder
// that cannot be read. Each result must pass the protocol's own guard (what the webview checks).

import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { test } from 'node:test';
import { dashboardReport, runsTitle } from '../../src/extension/dashboardReport';
import { ShowReport } from '../../src/protocol/messages';
import { makeWorkspace } from './workspaceFixture';

test('an experiment: every variant with its loss curve and status; live while one runs', async () => {
  const ws = await makeWorkspace();
  const r = dashboardReport({ kind: 'experiment', dir: ws.experimentDir });
  assert.ok(ShowReport.is(structuredClone(ShowReport.create(r))), 'the webview accepts it');
  assert.equal(r.problem, undefined);
  assert.equal(r.title, 'Experiment 2026-01-01-10-00-00');
  assert.deepEqual(r.variants.map((v) => [v.name, v.status, v.lossCurve.length]), [['full', 'finished', 6], ['lora', 'running', 3], ['frozen-embeddings', 'pending', 0]]);
  assert.equal(r.live, true);
  const full = r.variants[0];
  assert.deepEqual(full.lossCurve[5], { step: 6, loss: 1.5 });
  assert.equal(full.seconds, 12.5);
  assert.equal(full.peakMemoryBytes, 300 * 2 ** 20);
  assert.equal(full.trainableParameters, 1000);
  assert.equal(full.device, 'cpu', 'where it trained, from its outcome.json');
  assert.equal(r.variants[1].device, undefined, 'not known while it runs');
  // No baseline.json yet: nothing "before", and the reason travels with the figure.
  assert.equal(full.general.before, null);
  assert.match(full.general.missing ?? '', /base model is not measured yet/);
  assert.equal(full.forgetting, null);
});

test('compare runs: a variant of an experiment beside a standalone run, which says why it has no accuracy', async () => {
  const ws = await makeWorkspace();
  const r = dashboardReport({ kind: 'runs', runDirs: [ws.runDir('full'), ws.standaloneDir] });
  assert.ok(ShowReport.is(ShowReport.create(r)));
  assert.equal(r.title, 'Compare runs (2)');
  assert.deepEqual(r.variants.map((v) => [v.name, v.status, v.lossCurve.length]), [['full', 'finished', 6], ['cli-full', 'finished', 3]]);
  assert.match(r.variants[1].general.missing ?? '', /standalone run/);
  assert.equal(r.live, false);
  assert.equal(runsTitle([ws.standaloneDir]), 'Run cli-full');
});

test('a folder that is gone is a problem in words, not an exception', async () => {
  const ws = await makeWorkspace();
  rmSync(ws.experimentDir, { recursive: true });
  const r = dashboardReport({ kind: 'experiment', dir: ws.experimentDir });
  assert.ok(ShowReport.is(ShowReport.create(r)));
  assert.deepEqual(r.variants, []);
  assert.match(r.problem ?? '', /experiment/);
});
