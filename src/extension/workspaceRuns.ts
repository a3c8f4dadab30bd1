// What the Experiments view lists, read from the folders alone (no vscode import, so it is tested
// without VS Code): every experiment under <workspace>/.ftlab/experiments/*/experiment.json with its
// variants' run folders, and every standalone run (`ftlab train`) under <workspace>/.ftlab/runs/*.
// Files are read through the engine's checked readers; a file that does not check becomes a
// `problem` on its item (what and where) instead of making the item disappear.

import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, sep } from 'node:path';
import {
  EXPERIMENT_FILE, OUTCOME_FILE, RUN_FILES, isStopRequested, readBaseline, readEvalMetrics, readExperiment, readMetrics, readOutcome, readRunConfig,
  describeFailure, readRunLabel, readRunStatus, type AccuracyResult, type RunConfig, type StepMetrics,
} from '../engine';
import { VSCODE_OPTION_WORDS } from './optionWords';

export const RUNS_DIR = ['.ftlab', 'runs'] as const;
export const EXPERIMENTS_DIR = ['.ftlab', 'experiments'] as const;

/** A run's state as the view shows it: the run's own status, plus 'pending' for a variant not
 *  started yet and 'evaluating' for a variant trained but not yet measured "after". */
export type RunNodeState = 'running' | 'evaluating' | 'finished' | 'stopped' | 'failed' | 'pending';

export interface RunNode {
  readonly kind: 'run';
  /** The variant's name in its experiment, or the run folder's name. */
  readonly name: string;
  /** The run folder, absolute. */
  readonly dir: string;
  /** The experiment folder it belongs to; absent for a standalone run. */
  readonly experimentDir?: string;
  /** Last change of config.json or status.json (ms since 1970); 0 for a pending variant. */
  readonly modified: number;
  /** "lora · built-in · step 120/300 · loss 1.234" from config.json and metrics.jsonl. */
  readonly summary?: string;
  readonly state?: RunNodeState;
  /** Why the state is what it is (a dead process, a stale heartbeat) or the error of a failed run. */
  readonly stateDetail?: string;
  readonly problem?: string;
  /** A name a person gave it (label.json); the folder keeps its name. */
  readonly label?: string;
  /** What its files say, for the item's description and tooltip (absent for a pending or broken run). */
  readonly details?: RunDetails;
}

/** An accuracy before and after training, as fractions (null: not measured). */
export interface AccuracyPair {
  readonly before: number | null;
  readonly after: number | null;
  readonly total: number;
}

export interface RunDetails {
  readonly strategy?: string;
  /** "built-in" or the model folder's name. */
  readonly baseModel?: string;
  readonly step: number;
  readonly totalSteps: number;
  /** The last logged training loss. */
  readonly loss?: number;
  readonly bestValidation?: { readonly step: number; readonly loss: number };
  /** Held-out task accuracy and general knowledge accuracy (an experiment's variant, once measured). */
  readonly task?: AccuracyPair;
  readonly general?: AccuracyPair;
  readonly lora: boolean;
  readonly hasCheckpoint: boolean;
  readonly device?: string;
  /** A stop was asked (stop-request.json) and the trainer has not reached a step boundary yet. */
  readonly stopRequested: boolean;
}

export interface ExperimentNode {
  readonly kind: 'experiment';
  readonly name: string;
  readonly dir: string;
  readonly modified: number;
  /** "full, lora · 1 of 2 finished" */
  readonly summary?: string;
  /** The most telling state of its runs: failed > running > evaluating > stopped > pending > finished. */
  readonly state?: RunNodeState;
  readonly runs: readonly RunNode[];
  readonly problem?: string;
  readonly label?: string;
  readonly stopRequested?: boolean;
}

export interface WorkspaceRuns {
  /** Newest first. */
  readonly experiments: ExperimentNode[];
  /** Standalone runs, newest first. */
  readonly runs: RunNode[];
}

/** `runsDir`: the folder holding experiments/ and runs/ (the setting finetuneLab.runsFolder; default <root>/.ftlab). */
export function listWorkspaceRuns(root: string, runsDir: string = join(root, RUNS_DIR[0])): WorkspaceRuns {
  const experiments = subfolders(join(runsDir, EXPERIMENTS_DIR[1]))
    .filter((dir) => existsSync(join(dir, EXPERIMENT_FILE)))
    .map(readExperimentNode)
    .sort((a, b) => b.modified - a.modified);
  const runs = subfolders(join(runsDir, RUNS_DIR[1]))
    .filter((dir) => existsSync(join(dir, RUN_FILES.config)))
    .map((dir) => readRunNode(dir, lastName(dir)))
    .sort((a, b) => b.modified - a.modified);
  return { experiments, runs };
}

/** Every run folder of the workspace (standalone and of experiments), e.g. for "the newest run". */
export function allRunNodes(w: WorkspaceRuns): RunNode[] {
  return [...w.experiments.flatMap((e) => e.runs), ...w.runs];
}

function subfolders(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => join(dir, d.name));
  } catch {
    return []; // not there yet
  }
}

function lastName(dir: string): string {
  return dir.split(/[\\/]/).filter(Boolean).pop() ?? dir;
}

function mtime(file: string): number {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return 0;
  }
}

const STATE_RANK: RunNodeState[] = ['failed', 'running', 'evaluating', 'stopped', 'pending', 'finished'];

export function readExperimentNode(dir: string): ExperimentNode {
  const name = lastName(dir);
  const modified = mtime(join(dir, EXPERIMENT_FILE));
  try {
    const spec = readExperiment(dir);
    const runs = spec.variants.map((v) => readRunNode(join(dir, v.runDir), v.name, dir));
    const finished = runs.filter((r) => r.state === 'finished').length;
    const state = STATE_RANK.find((s) => runs.some((r) => r.state === s));
    const strategies = [...new Set(spec.variants.map((v) => v.strategy))].join(', ');
    const label = labelOf(dir);
    return {
      kind: 'experiment', name, dir, runs, ...(state ? { state } : {}), ...(label ? { label } : {}),
      modified: Math.max(modified, ...runs.map((r) => r.modified)),
      summary: `${strategies} · ${finished} of ${runs.length} finished`,
      stopRequested: isStopRequested(dir),
    };
  } catch (err) {
    return { kind: 'experiment', name, dir, modified, runs: [], problem: relativeMessage(err, dir) };
  }
}

/** "lora failed: <why>" for the first failed variant of an experiment, in VS Code's words; undefined when none failed. */
export function failureSummary(e: ExperimentNode): string | undefined {
  const failed = e.runs.find((r) => r.state === 'failed');
  return failed ? `${failed.name} failed: ${failed.stateDetail ?? 'see its status.json'}` : undefined;
}

export function readRunNode(dir: string, name: string, experimentDir?: string): RunNode {
  const base = { kind: 'run' as const, name, dir, ...(experimentDir ? { experimentDir } : {}) };
  const configFile = join(dir, RUN_FILES.config);
  if (!existsSync(configFile)) return { ...base, modified: 0, state: 'pending', stateDetail: 'not started yet' };
  const modified = Math.max(mtime(configFile), mtime(join(dir, RUN_FILES.status)));
  try {
    const config = readRunConfig(dir);
    const status = readRunStatus(dir);
    let state: RunNodeState = status.state;
    // A training error's fix in VS Code's words (its pickers and settings), not the CLI's flags.
    let detail = status.error ? describeFailure(status.error, VSCODE_OPTION_WORDS) : status.reason;
    // A variant's "after" evaluation runs once training is finished; until outcome.json is written,
    // it is not done (the same rule as the engine's report).
    if (experimentDir && status.state === 'finished' && !existsSync(join(dir, OUTCOME_FILE))) {
      state = 'evaluating';
      detail = 'trained; measuring it after training';
    }
    // In an experiment the item is named after its variant; repeating the strategy says nothing.
    const last = readMetrics(dir).pop();
    const summary = summarize(config, last, experimentDir !== undefined && config.strategy === name);
    const label = labelOf(dir);
    const details = runDetails(dir, config, last, status.step, experimentDir);
    return { ...base, modified, state, ...(summary ? { summary } : {}), ...(detail ? { stateDetail: detail } : {}), ...(label ? { label } : {}), details };
  } catch (err) {
    return { ...base, modified, problem: relativeMessage(err, dir) };
  }
}

/** RunFolderError names the file (and line, field) and the fix; shown relative to the folder. */
function relativeMessage(err: unknown, dir: string): string {
  return (err instanceof Error ? err.message : String(err)).split(dir + sep).join('');
}

/** "lora · built-in · step 120/300 · loss 1.234" from what the run folder holds. */
export function summarize(config: RunConfig, last: StepMetrics | undefined, omitStrategy = false): string | undefined {
  const parts: string[] = [];
  if (config.strategy && !omitStrategy) parts.push(config.strategy);
  const base = baseModelName(config);
  if (base) parts.push(base);
  if (last) parts.push(`step ${last.step}/${config.training.totalSteps}`, `loss ${last.loss.toFixed(3)}`);
  return parts.length ? parts.join(' · ') : undefined;
}

/** A label that does not check is not worth hiding the run for: the item shows the folder's name. */
function labelOf(dir: string): string | undefined {
  try {
    return readRunLabel(dir);
  } catch {
    return undefined;
  }
}

function baseModelName(config: RunConfig): string | undefined {
  const base = config.baseModel;
  if (base?.builtin === true) return 'built-in';
  return base ? base.dir.split(/[\\/]/).filter(Boolean).pop() ?? base.dir : undefined;
}

function pair(before: AccuracyResult | null | undefined, after: AccuracyResult | null | undefined): AccuracyPair | undefined {
  const b = before?.proportion ?? null, a = after?.proportion ?? null;
  if (!b && !a) return undefined;
  return { before: b?.fraction ?? null, after: a?.fraction ?? null, total: (a ?? b)!.total };
}

/** Everything the item shows beyond its state, from config.json, the metrics logs and the evaluations. */
export function runDetails(dir: string, config: RunConfig, last: StepMetrics | undefined, statusStep: number, experimentDir?: string): RunDetails {
  let bestValidation: RunDetails['bestValidation'];
  for (const e of readEvalMetrics(dir)) if (Number.isFinite(e.loss) && (!bestValidation || e.loss < bestValidation.loss)) bestValidation = { step: e.step, loss: e.loss };
  let task: AccuracyPair | undefined, general: AccuracyPair | undefined;
  if (experimentDir) {
    // The evaluations are the experiment's own files; one that cannot be read leaves the figure out
    // (the dashboard, which reads them too, says what is wrong).
    try {
      const after = readOutcome(dir)?.evaluation;
      const before = readBaseline(experimentDir)?.evaluation;
      task = pair(before?.task, after?.task);
      general = pair(before?.general, after?.general);
    } catch {
      // left out
    }
  }
  return {
    ...(config.strategy ? { strategy: config.strategy } : {}),
    ...(baseModelName(config) ? { baseModel: baseModelName(config) } : {}),
    step: last?.step ?? statusStep, totalSteps: config.training.totalSteps,
    ...(last ? { loss: last.loss } : {}),
    ...(bestValidation ? { bestValidation } : {}),
    ...(task ? { task } : {}), ...(general ? { general } : {}),
    lora: config.lora !== undefined || config.strategy === 'lora',
    hasCheckpoint: existsSync(join(dir, RUN_FILES.checkpoint, RUN_FILES.trainerState)),
    device: config.training.device,
    stopRequested: isStopRequested(dir) || (experimentDir !== undefined && isStopRequested(experimentDir)),
  };
}
