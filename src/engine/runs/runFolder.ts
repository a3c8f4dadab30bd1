// The run folder: the files one training run leaves behind, read by the engine (resume, export,
// generation), the CLI and the extension. Each file has a type and a checked reader:
//
//   config.json          the resolved settings (runConfig.ts), written once at the start
//   status.json          running / finished / stopped / failed, with a heartbeat (runStatus.ts)
//   metrics.jsonl        one StepMetrics line per logged step (metricsLog.ts)
//   eval_metrics.jsonl   one EvalMetrics line per validation pass (metricsLog.ts)
//   checkpoint/          model.safetensors, optimizer.safetensors, trainer_state.json (trainerState.ts)
//   best/                the best weights by validation loss, when evaluated
//   data/, replay/       the prepared dataset and replay corpus (fineTune)
//   eval.json            before/after accuracy (fineTune, when measured)
//   stop-request.json    asks the trainer to stop at its next step boundary (stopRequest.ts)
//   label.json           a name a person gave the run; the folder keeps its name (runLabel.ts)

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CheckpointError } from '../checkpoint/checkpointError';
import { Mismatch, Rule, describeMismatch } from './jsonRule';

export const RUN_FILES = {
  config: 'config.json',
  status: 'status.json',
  metrics: 'metrics.jsonl',
  evalMetrics: 'eval_metrics.jsonl',
  checkpoint: 'checkpoint',
  best: 'best',
  trainerState: 'trainer_state.json',
  stopRequest: 'stop-request.json',
  label: 'label.json',
} as const;

export type RunFolderProblem = 'missing' | 'unreadable' | 'not-json' | 'bad-field' | 'newer-version';

/**
 * A file of a run folder is missing or not what this release writes. A CheckpointError, so that
 * every surface that words checkpoint problems for the user (CLI commands, the training worker)
 * words this one too; `code`, `file`, `field`, `line` and `fix` let a surface say it its own way.
 */
export class RunFolderError extends CheckpointError {
  readonly code: RunFolderProblem;
  readonly field: string | undefined;
  readonly line: number | undefined;
  readonly fix: string;

  constructor(o: { code: RunFolderProblem; file: string; problem: string; fix: string; field?: string; line?: number }) {
    super(`${o.file}${o.line ? `:${o.line}` : ''}: ${o.problem}; ${o.fix}`, o.file);
    this.code = o.code;
    this.field = o.field;
    this.line = o.line;
    this.fix = o.fix;
  }
}

/** What to do about a run file that does not check: the files are written by training, not by hand. */
export const REWRITE_FIX = 'this file is written by ftlab train; restore it (or fix the field), or train the run again';

/** The first mismatch as a RunFolderError naming file, line and field. */
export function mismatchError(file: string, m: Mismatch, fix: string, line?: number): RunFolderError {
  return new RunFolderError({ code: 'bad-field', file, line, field: m.path, problem: describeMismatch(m), fix });
}

/** Parses a JSON file (optionally fixing it up with `upgrade` first) and checks it with `rule`. */
export function readJsonFile<T>(file: string, rule: Rule<T>, o: { fix: string; missingFix?: string; reviver?: (key: string, value: unknown) => unknown; upgrade?: (raw: unknown) => unknown }): T {
  if (!existsSync(file)) throw new RunFolderError({ code: 'missing', file, problem: 'the file is missing', fix: o.missingFix ?? o.fix });
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'), o.reviver);
  } catch (err) {
    const code = err instanceof SyntaxError ? 'not-json' : 'unreadable';
    throw new RunFolderError({ code, file, problem: `${code === 'not-json' ? 'not valid JSON' : 'cannot be read'} (${(err as Error).message})`, fix: o.fix });
  }
  const value = o.upgrade ? o.upgrade(raw) : raw;
  const found: Mismatch[] = [];
  if (!rule(value, '', found)) throw mismatchError(file, found[0] ?? { path: '(top level)', expected: 'valid', got: value }, o.fix);
  return value;
}

