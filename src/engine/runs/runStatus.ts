// status.json of a run: whether it is running, finished, stopped or failed. train() writes it at the
// start, every HEARTBEAT_MS of wall time at a step boundary, and at the end. A process that dies
// cannot write its own ending, so a reader judges a 'running' file: the process is gone (same host)
// or its heartbeat is stale -> the run is stopped (and can be resumed).

import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from '../fsAtomic';
import { OptionWords, wordFix } from '../optionWords';
import { TrainingError, joinFix } from '../train/trainingError';
import { Rule, count, object, oneOf, optional, text, timestamp, wholeNumber } from './jsonRule';
import { REWRITE_FIX, RUN_FILES, readJsonFile } from './runFolder';
import { readCheckpointSummary } from './trainerState';
import { readRunConfig } from './runConfig';

export const RUN_STATES = ['running', 'finished', 'stopped', 'failed'] as const;
export type RunState = (typeof RUN_STATES)[number];

export interface RunFailure {
  /** The error in the engine's words (no surface's flag or setting named): what a reader of any release shows. */
  message: string;
  /** The error's code or class name ('out-of-memory', ENOSPC, SIGKILL...), when it has one. */
  code?: string;
  /**
   * A training error's problem and its fix with `{{option}}` placeholders (TrainingError), for each
   * surface to word with its own flags or settings (describeFailure). Absent in files of earlier
   * releases and for other errors: `message` is then the whole text.
   */
  problem?: string;
  fix?: string;
}

/** A failure in a surface's words: the problem and the fix worded, else the message as recorded. */
export function describeFailure(f: RunFailure, words: OptionWords): string {
  return f.problem !== undefined && f.fix !== undefined ? joinFix(f.problem, wordFix(f.fix, words)) : f.message;
}

/** What status.json keeps of an error: its message, its code, and a training error's problem and fix template. */
export function runFailure(err: unknown): RunFailure {
  const e = err instanceof Error ? err : new Error(String(err));
  const code = typeof (e as NodeJS.ErrnoException).code === 'string' ? (e as NodeJS.ErrnoException).code : e.name !== 'Error' ? e.name : undefined;
  const worded = e instanceof TrainingError ? { problem: e.problem, fix: e.fixText } : {};
  return { message: e.message, ...(code ? { code } : {}), ...worded };
}

/** status.json as written. */
export interface RunStatus {
  state: RunState;
  pid: number;
  hostname: string;
  startedAt: string;
  heartbeatAt: string;
  endedAt?: string;
  step: number;
  totalSteps: number;
  error?: RunFailure;
}

/** A run's state as a reader should show it. */
export interface RunStatusReport {
  state: RunState;
  step: number;
  totalSteps: number;
  /** Why the state is not what status.json says (a dead process, a stale heartbeat), or how it was inferred. */
  reason?: string;
  error?: RunFailure;
  /** status.json as written; absent for a run of an older release (the state is inferred from its checkpoint). */
  recorded?: RunStatus;
}

/** How often a running trainer rewrites status.json (at the first step boundary after this much wall time). */
export const HEARTBEAT_MS = 10_000;
/** A 'running' status whose heartbeat is older than this is a run that stopped without saying so. */
export const STALE_HEARTBEAT_MS = 120_000;

export const runStatusRule: Rule<RunStatus> = object<RunStatus>({
  state: oneOf(...RUN_STATES), pid: wholeNumber, hostname: text, startedAt: timestamp, heartbeatAt: timestamp,
  endedAt: optional(timestamp), step: count, totalSteps: count,
  error: optional(object<RunFailure>({ message: text, code: optional(text), problem: optional(text), fix: optional(text) })),
});

export function writeRunStatus(runDir: string, status: RunStatus): void {
  writeFileAtomic(join(runDir, RUN_FILES.status), JSON.stringify(status, null, 2) + '\n');
}

/** Whether process `pid` of this machine exists (EPERM: it does, owned by someone else). */
function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/**
 * The run's effective state. A 'running' status.json is 'stopped' when its process is gone (same
 * host) or its heartbeat is older than STALE_HEARTBEAT_MS. Without status.json (a run of an older
 * release), the state comes from checkpoint/trainer_state.json: all steps done -> finished, else stopped.
 * Throws RunFolderError when status.json exists but does not check.
 */
export function readRunStatus(runDir: string, now: number = Date.now()): RunStatusReport {
  const file = join(runDir, RUN_FILES.status);
  if (!existsSync(file)) return inferredStatus(runDir);
  const s = readJsonFile(file, runStatusRule, { fix: REWRITE_FIX });
  const report: RunStatusReport = { state: s.state, step: s.step, totalSteps: s.totalSteps, ...(s.error ? { error: s.error } : {}), recorded: s };
  if (s.state !== 'running') return report;
  if (s.hostname === hostname() && !processExists(s.pid)) {
    return { ...report, state: 'stopped', reason: `the process ${s.pid} is gone: killed or crashed at step ${s.step}; resume it` };
  }
  const age = now - Date.parse(s.heartbeatAt);
  if (age > STALE_HEARTBEAT_MS) {
    const where = s.hostname === hostname() ? `process ${s.pid}` : `process ${s.pid} on ${s.hostname}`;
    return { ...report, state: 'stopped', reason: `no heartbeat from ${where} for ${Math.round(age / 60_000)} min (since ${s.heartbeatAt}): it hung or its machine stopped; resume it` };
  }
  return report;
}

function inferredStatus(runDir: string): RunStatusReport {
  if (!existsSync(join(runDir, RUN_FILES.checkpoint, RUN_FILES.trainerState))) {
    return { state: 'stopped', step: 0, totalSteps: 0, reason: 'no status.json and no checkpoint: the run stopped before saving one' };
  }
  const c = readCheckpointSummary(runDir);
  // The first release's checkpoints lack totalSteps; config.json has it (without either, the checkpoint was the end).
  const totalSteps = c.totalSteps ?? configuredSteps(runDir) ?? c.step;
  const finished = c.stoppedEarly === true || c.step >= totalSteps;
  return { state: finished ? 'finished' : 'stopped', step: c.step, totalSteps, reason: `inferred from the checkpoint at step ${c.step} (the run has no status.json)` };
}

function configuredSteps(runDir: string): number | undefined {
  try {
    return readRunConfig(runDir).training.totalSteps;
  } catch {
    return undefined;
  }
}

/**
 * The process of a run ended without writing its ending (killed by a signal, a native crash): its
 * status.json, still 'running' with that process's id, becomes 'failed' with what happened (the
 * parent that saw the process end says it). Returns false when the run had written its own ending.
 * The checkpoint stays: a failed run resumes like a stopped one.
 */
export function recordProcessEnd(runDir: string, pid: number, what: string, code?: string, now: Date = new Date()): boolean {
  const file = join(runDir, RUN_FILES.status);
  if (!existsSync(file)) return false;
  let s: RunStatus;
  try {
    s = readJsonFile(file, runStatusRule, { fix: REWRITE_FIX });
  } catch {
    return false; // not a file this release wrote: leave it for its reader to name
  }
  if (s.state !== 'running' || s.pid !== pid || s.hostname !== hostname()) return false;
  const at = now.toISOString();
  writeRunStatus(runDir, { ...s, state: 'failed', heartbeatAt: at, endedAt: at, error: { message: what, ...(code ? { code } : {}) } });
  return true;
}

/**
 * What train() uses to keep status.json current: start, a heartbeat at step boundaries (written at
 * most every HEARTBEAT_MS, so it costs nothing per step), and the ending. `fail` only writes once
 * `start` has: a run that refused to start (an existing run, a finished one) keeps its status.
 */
export class RunStatusRecorder {
  private status: RunStatus | undefined;
  private lastWrite = 0;
  /** The latest step boundary seen, written or not (a failure reports it). */
  private step = 0;

  constructor(private readonly runDir: string, private readonly clock: () => number = Date.now, private readonly heartbeatMs = HEARTBEAT_MS) {}

  start(step: number, totalSteps: number): void {
    const at = new Date(this.clock()).toISOString();
    this.step = step;
    this.status = { state: 'running', pid: process.pid, hostname: hostname(), startedAt: at, heartbeatAt: at, step, totalSteps };
    this.write();
  }

  /** At a step boundary (and after long phases): rewrites status.json when HEARTBEAT_MS have passed. */
  heartbeat(step: number): void {
    this.step = step;
    if (!this.status || this.status.state !== 'running' || this.clock() - this.lastWrite < this.heartbeatMs) return;
    this.status = { ...this.status, step, heartbeatAt: new Date(this.clock()).toISOString() };
    this.write();
  }

  end(state: 'finished' | 'stopped', step: number): void {
    if (!this.status) return;
    const at = new Date(this.clock()).toISOString();
    this.status = { ...this.status, state, step, heartbeatAt: at, endedAt: at };
    this.write();
  }

  /** Records the error; never throws (the caller rethrows the training error, not a status write's). */
  fail(err: unknown): void {
    if (!this.status || this.status.state !== 'running') return;
    const at = new Date(this.clock()).toISOString();
    this.status = { ...this.status, state: 'failed', step: this.step, heartbeatAt: at, endedAt: at, error: runFailure(err) };
    try {
      this.write();
    } catch {
      // the disk may be what failed; the error itself still reaches the caller
    }
  }

  private write(): void {
    writeRunStatus(this.runDir, this.status!);
    this.lastWrite = this.clock();
  }
}
