// A workspace as the extension finds it on disk: one experiment of three variants (finished with
// its evaluation, running in this very process, not started) and two standalone `ftlab train` runs
// (one good, one whose config.json no reader accepts). Written through the engine's own writers, so
// the files are the ones training writes.

import { mkdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { createExperiment } from '../../src/engine/experiment/runExperiment';
import { SAFE_SETTINGS } from '../../src/engine/experiment/strategyPresets';
import { writeRunConfig, type RunSettings } from '../../src/engine/runs/runConfig';
import { writeRunStatus, type RunState } from '../../src/engine/runs/runStatus';
import { TRAINING_DEFAULTS } from '../../src/engine/train/trainer';
import { HF_FIXTURES } from '../checkpoint/fixturePaths';
import { scratchDir } from '../data/helpers';

export interface Workspace {
  root: string;
  experimentDir: string;
  runDir(variant: string): string;
  standaloneDir: string;
  brokenDir: string;
}

function settings(strategy: string, experiment?: { dir: string; variant: string }): RunSettings {
  return {
    command: experiment ? 'experiment' : 'train', strategy, preset: 'safe', dataSource: '/data/qa.jsonl',
    baseModel: { dir: '/models/builtin', family: 'gpt2', builtin: true },
    model: { family: 'gpt2', parameters: 1000, trainable: 4, frozen: [] },
    training: { ...TRAINING_DEFAULTS, totalSteps: 6, stepsPerEpoch: 2, sequenceLength: 16, trainExamples: 30 },
    data: { dir: '/run/data' },
    ...(experiment ? { experiment } : {}),
  };
}

function writeRun(dir: string, s: RunSettings, state: RunState, losses: number[]): void {
  mkdirSync(dir, { recursive: true });
  writeRunConfig(dir, s);
  const at = new Date().toISOString();
  // pid: this process, alive, so a 'running' run reads as running.
  writeRunStatus(dir, { state, pid: process.pid, hostname: hostname(), startedAt: at, heartbeatAt: at, step: losses.length, totalSteps: 6 });
  writeFileSync(join(dir, 'metrics.jsonl'), losses.map((loss, i) => JSON.stringify({ step: i + 1, epoch: i / 2, loss, learningRate: 1e-4, gradNorm: 1, tokensPerSecond: 100 + i })).join('\n') + '\n');
}

export async function makeWorkspace(): Promise<Workspace> {
  const root = scratchDir('ws');
  const experimentDir = join(root, '.ftlab', 'experiments', '2026-01-01-10-00-00');
  mkdirSync(join(root, 'data'), { recursive: true });
  writeFileSync(join(root, 'data', 'qa.jsonl'), '{"question":"q","answer":"a"}\n');
  await createExperiment({
    dir: experimentDir, baseModel: join(HF_FIXTURES, 'gpt2_tiny'), dataFile: join(root, 'data', 'qa.jsonl'),
    variants: [{ strategy: 'full', name: 'full' }, { strategy: 'lora', name: 'lora' }, { strategy: 'frozen-embeddings', name: 'frozen-embeddings' }],
  });
  const runDir = (v: string) => join(experimentDir, 'runs', v);
  writeRun(runDir('full'), settings('full', { dir: experimentDir, variant: 'full' }), 'finished', [3, 2.5, 2, 1.8, 1.6, 1.5]);
  writeFileSync(join(runDir('full'), 'outcome.json'), JSON.stringify({
    format: 'ftlab-variant-outcome', version: 1, variant: 'full', settings: SAFE_SETTINGS,
    training: { steps: 6, seconds: 12.5, tokensPerSecond: 103, finalLoss: 1.5, trainableParameters: 1000, peakMemoryBytes: 300 * 2 ** 20, device: 'cpu', resumedFromStep: null },
    evaluation: { task: null, taskTrained: null, general: null, prose: null, generalText: null, seconds: 1 },
  }));
  writeRun(runDir('lora'), settings('lora', { dir: experimentDir, variant: 'lora' }), 'running', [3, 2.9, 2.7]);
  const standaloneDir = join(root, '.ftlab', 'runs', 'cli-full');
  writeRun(standaloneDir, settings('full'), 'finished', [4, 3, 2]);
  const brokenDir = join(root, '.ftlab', 'runs', 'gpt2-sql-lora');
  mkdirSync(brokenDir, { recursive: true });
  writeFileSync(join(brokenDir, 'config.json'), JSON.stringify({ model: 'gpt2' }));
  return { root, experimentDir, runDir, standaloneDir, brokenDir };
}
