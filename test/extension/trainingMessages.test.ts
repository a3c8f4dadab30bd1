// Training errors a VS Code user can meet (out of memory, a diverged loss, a run with no steps left)
// carry a code and a fix template: status.json keeps both, the Experiments view, the dashboard and the
// failure notification word them with VS Code's pickers and settings, the CLI with its flags. No CLI
// flag reaches a VS Code message; the CLI still names its flags.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { NO_OPTION_WORDS, wordFix } from '../../src/engine/optionWords';
import { RunStatusRecorder, describeFailure, readRunStatus, writeRunStatus } from '../../src/engine/runs/runStatus';
import { explainStepError, lossDivergedError, stepsDoneError } from '../../src/engine/train/stepErrors';
import { OutOfMemoryError, TrainingError } from '../../src/engine/train/trainingError';
import { userMessage } from '../../src/cli/flags';
import { CLI_OPTION_WORDS } from '../../src/cli/optionWords';
import { dashboardReport } from '../../src/extension/dashboardReport';
import { VSCODE_OPTION_WORDS } from '../../src/extension/optionWords';
import { failureSummary, listWorkspaceRuns } from '../../src/extension/workspaceRuns';
import { scratchDir } from '../data/helpers';
import { repoRoot } from '../foundation/repoRoot';
import { makeWorkspace } from './workspaceFixture';

const CLI_FLAG = /(^|[\s(])--[a-z]/;
const dir = scratchDir('ext-training-messages');

function errors(): TrainingError[] {
  const oom = explainStepError(new Error('Failed to allocate memory for requested buffer of size 1073741824\nstack...'), 16, 256, 2);
  return [oom, lossDivergedError(NaN, 7, 0.1), stepsDoneError('/runs/a', 10, 10)] as TrainingError[];
}

test('each training error: a code, a message with no flag, the CLI\'s words name its flags, VS Code\'s name its pickers and settings', () => {
  const [oom, diverged, done] = errors();
  assert.ok(oom instanceof OutOfMemoryError && oom instanceof TrainingError);
  assert.deepEqual([oom!.code, diverged!.code, done!.code], ['out-of-memory', 'loss-diverged', 'steps-done']);
  for (const e of errors()) {
    assert.doesNotMatch(e.message, CLI_FLAG, e.message);
    assert.doesNotMatch(e.describe(VSCODE_OPTION_WORDS), CLI_FLAG, e.describe(VSCODE_OPTION_WORDS));
  }
  assert.equal(oom!.describe(CLI_OPTION_WORDS),
    'out of memory in a training step (batch 16 x 256 tokens, 2 micro-batches; ONNX Runtime said: Failed to allocate memory for requested buffer of size 1073741824); ' +
    'lower the batch size (--per-device-train-batch-size) and raise the gradient accumulation (--gradient-accumulation-steps) to keep the effective batch, or the sequence length (--max-length); ' +
    'the last checkpoint is kept (--resume continues from it)');
  assert.match(oom!.describe(VSCODE_OPTION_WORDS), /lower the batch size \(Batch size under Custom… in Fine-tune model\), or the sequence length \(Sequence length under Custom… in Fine-tune model\); the last checkpoint is kept \("Resume \(continue from the checkpoint\)" in the Experiments view continues from it\)$/);
  assert.doesNotMatch(oom!.describe(VSCODE_OPTION_WORDS), /accumulation/, 'VS Code has no gradient accumulation setting: not mentioned');
  assert.match(diverged!.describe(CLI_OPTION_WORDS), /lower the learning rate \(--learning-rate\), or clip the gradients \(--max-grad-norm\)$/);
  assert.match(diverged!.describe(VSCODE_OPTION_WORDS), /^the loss became NaN at step 7 \(learning rate 0\.1\); lower the learning rate \(Learning rate under Custom… in Fine-tune model\)$/);
  assert.match(done!.describe(CLI_OPTION_WORDS), /train it for more steps \(--max-steps\)/);
  assert.match(done!.describe(VSCODE_OPTION_WORDS), /finetuneLab\.experiment\.maxSteps/);
  // The CLI's one path for user errors words them with its flags.
  assert.match(userMessage(diverged, [TrainingError])!, /--learning-rate/);
  assert.match(userMessage(oom, [TrainingError])!, /--per-device-train-batch-size/);
});

test('status.json keeps the code, the problem and the fix template; a reader words them; an older file without them still reads', () => {
  const runDir = join(dir, 'failed');
  mkdirSync(runDir, { recursive: true });
  const rec = new RunStatusRecorder(runDir);
  rec.start(0, 10);
  rec.heartbeat(3);
  rec.fail(errors()[0]);
  const written = JSON.parse(readFileSync(join(runDir, 'status.json'), 'utf8'));
  assert.equal(written.error.code, 'out-of-memory');
  assert.match(written.error.fix, /\{\{batchSize\}\}/);
  assert.doesNotMatch(written.error.message, CLI_FLAG, 'what an earlier release shows names no flag either');
  const { error } = readRunStatus(runDir);
  assert.ok(error);
  assert.match(describeFailure(error, CLI_OPTION_WORDS), /--per-device-train-batch-size/);
  assert.match(describeFailure(error, VSCODE_OPTION_WORDS), /Batch size under Custom…/);
  assert.doesNotMatch(describeFailure(error, VSCODE_OPTION_WORDS), CLI_FLAG);

  // A status.json of an earlier release: message and code only.
  const old = join(dir, 'old');
  mkdirSync(old, { recursive: true });
  const at = new Date().toISOString();
  writeRunStatus(old, { state: 'failed', pid: 1, hostname: hostname(), startedAt: at, heartbeatAt: at, endedAt: at, step: 2, totalSteps: 6, error: { message: 'disk full', code: 'ENOSPC' } });
  const r = readRunStatus(old);
  assert.deepEqual(r.error, { message: 'disk full', code: 'ENOSPC' });
  assert.equal(describeFailure(r.error!, VSCODE_OPTION_WORDS), 'disk full');
});

test('a variant that ran out of memory: the Experiments view, the failure notification and the dashboard say it in VS Code\'s words', async () => {
  const ws = await makeWorkspace();
  const runDir = ws.runDir('lora');
  const rec = new RunStatusRecorder(runDir);
  rec.start(3, 6);
  rec.fail(errors()[0]);
  const experiment = listWorkspaceRuns(ws.root).experiments[0]!;
  const lora = experiment.runs.find((r) => r.name === 'lora')!;
  assert.equal(lora.state, 'failed');
  assert.match(lora.stateDetail!, /^out of memory in a training step .*Batch size under Custom… in Fine-tune model/);
  const summary = failureSummary(experiment)!;
  assert.match(summary, /^lora failed: out of memory/);
  assert.doesNotMatch(summary, CLI_FLAG);
  const shown = dashboardReport({ kind: 'experiment', dir: ws.experimentDir }).variants.find((v) => v.name === 'lora');
  assert.ok(shown?.detail, JSON.stringify(shown));
  assert.doesNotMatch(shown.detail, CLI_FLAG);
  assert.match(shown.detail, /Batch size under Custom…/);
});

/**
 * Strings under src/engine that name a CLI flag and a VS Code user cannot meet: the CLI's own
 * commands (ftlab train's run folder, ftlab pretrain, ftlab experiment's folder, setup-cuda, the Hub
 * download), each named here so that a new one is a decision.
 */
const CLI_ONLY: { file: string; flag: RegExp }[] = [
  { file: 'train/fineTuneRun.ts', flag: /--resume\), or overwrite it explicitly \(--overwrite/ }, // the extension never starts over a run folder
  { file: 'train/openRunFolder.ts', flag: /--resume\), or overwrite it explicitly \(--overwrite/ },
  { file: 'train/runFiles.ts', flag: /ftlab pretrain --out/ }, // a pretraining run: the CLI's only
];

test('no string in the training and run-folder code names a CLI flag outside a {{option}}, but the CLI-only ones listed', () => {
  for (const sub of ['train', 'runs', 'memory']) {
    const folder = join(repoRoot, 'src', 'engine', sub);
    for (const f of readdirSync(folder)) {
      const source = readFileSync(join(folder, f), 'utf8').replace(/^\s*(\/\/|\*|\/\*\*).*$/gm, '');
      for (const m of source.matchAll(/(['"`])((?:\\.|(?!\1).)*)\1/g)) {
        const text = wordFix(m[2]!, VSCODE_OPTION_WORDS);
        if (!CLI_FLAG.test(text)) continue;
        assert.ok(CLI_ONLY.some((c) => c.file === `${sub}/${f}` && c.flag.test(m[2]!)), `${sub}/${f}: ${m[2]}`);
      }
    }
  }
  assert.doesNotMatch(wordFix('a[[ ({{batchSize}})]] b', NO_OPTION_WORDS), /\{\{/);
});
