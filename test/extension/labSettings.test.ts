// The extension's settings -> what they become: the experiment child process's command line (device,
// threads), the evaluation decoding, the runs folder; hand-edited values of the wrong kind fall back
// to their defaults and are reported naming the setting. package.json declares every setting read.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { SAMPLED_DECODING, SETTING_DEFAULTS, experimentArgs, readLabSettings, runsRoot } from '../../src/extension/labSettings';
import { repoRoot } from '../foundation/repoRoot';

const from = (values: Record<string, unknown>) => readLabSettings((key) => values[key]);

test('nothing set: the defaults; the command line resumes the experiment with the engine choosing the device', () => {
  const { settings, problems } = from({});
  assert.deepEqual(problems, []);
  assert.deepEqual(settings, SETTING_DEFAULTS);
  assert.deepEqual(experimentArgs('/w/.ftlab/experiments/e1', settings), ['experiment', '--resume', '/w/.ftlab/experiments/e1', '--device', 'auto', '--threads', '0']);
});

test('device, threads, decoding, strategies and shares as set reach the command line and the experiment', () => {
  const { settings, problems } = from({
    device: 'cuda', cpuThreads: 3, 'evaluation.decoding': 'sample', defaultStrategies: ['lora', 'full', 'lora'], replayShare: 0.3, validationShare: 0.2,
    runsFolder: 'experiments-here', 'experiment.maxSteps': 4, 'evaluation.generalPrompts': ' /g.jsonl ', 'evaluation.generalText': '',
  });
  assert.deepEqual(problems, []);
  assert.deepEqual(experimentArgs('/e', settings), ['experiment', '--resume', '/e', '--device', 'cuda', '--threads', '3']);
  assert.deepEqual(experimentArgs('/e', { ...settings, device: 'cpu' }).slice(3), ['--device', 'cpu', '--threads', '3']);
  assert.deepEqual(settings.decoding, SAMPLED_DECODING);
  assert.deepEqual([SAMPLED_DECODING.kind === 'sample' && [SAMPLED_DECODING.topP, SAMPLED_DECODING.temperature, SAMPLED_DECODING.maxNewTokens]], [[0.9, 0.7, 20]]);
  assert.deepEqual(settings.defaultStrategies, ['lora', 'full']);
  assert.deepEqual([settings.replayShare, settings.validationShare, settings.maxSteps, settings.generalPrompts, settings.generalText], [0.3, 0.2, 4, '/g.jsonl', undefined]);
  assert.equal(runsRoot('/w', settings), join('/w', 'experiments-here'));
  assert.equal(runsRoot('/w', { runsFolder: '/elsewhere/runs' }), '/elsewhere/runs');
});

test('gradient checkpointing on reaches the command line (off leaves what experiment.json says); a value that is not true or false is reported', () => {
  const { settings, problems } = from({ gradientCheckpointing: true, cpuThreads: 2 });
  assert.deepEqual(problems, []);
  assert.deepEqual(experimentArgs('/e', settings).slice(3), ['--device', 'auto', '--threads', '2', '--gradient-checkpointing']);
  assert.deepEqual(experimentArgs('/e', settings, { ignoreMemoryEstimate: true }).slice(7), ['--gradient-checkpointing', '--ignore-memory-estimate']);
  const bad = from({ gradientCheckpointing: 'yes' });
  assert.equal(bad.settings.gradientCheckpointing, false);
  assert.match(bad.problems[0], /^finetuneLab\.gradientCheckpointing is "yes": it takes true or false; using false$/);
});

test('values of the wrong kind fall back to their defaults, each reported with the setting it came from', () => {
  const { settings, problems } = from({ device: 'gpu', cpuThreads: -2, defaultStrategies: ['full', 'qlora'], replayShare: 1, runsFolder: '  ', 'evaluation.decoding': 'beam' });
  assert.equal(settings.device, 'auto');
  assert.equal(settings.cpuThreads, 0);
  assert.deepEqual(settings.defaultStrategies, ['full']);
  assert.equal(settings.replayShare, 0.5, "the safe preset's replay share");
  assert.equal(settings.runsFolder, '.ftlab');
  assert.deepEqual(settings.decoding, { kind: 'greedy' });
  assert.deepEqual(problems.map((p) => p.split(' ')[0]), [
    'finetuneLab.device', 'finetuneLab.defaultStrategies', 'finetuneLab.runsFolder', 'finetuneLab.evaluation.decoding', 'finetuneLab.cpuThreads', 'finetuneLab.replayShare',
  ]);
  assert.match(problems[0], /^finetuneLab\.device is "gpu": it takes auto, cpu, cuda; using "auto"$/);
});

test('package.json declares every setting the extension reads, under the title "Fine-Tune Lab"', () => {
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'));
  const config = pkg.contributes.configuration;
  assert.equal(config.title, 'Fine-Tune Lab');
  const read = new Set<string>();
  readLabSettings((key) => { read.add(`finetuneLab.${key}`); return undefined; });
  for (const key of read) assert.ok(config.properties[key], `${key} is read but not declared`);
  assert.deepEqual(config.properties['finetuneLab.device'].enum, ['auto', 'cpu', 'cuda']);
  assert.deepEqual(config.properties['finetuneLab.defaultStrategies'].items.enum, ['full', 'frozen-embeddings', 'layerwise-lr', 'lora']);
});
