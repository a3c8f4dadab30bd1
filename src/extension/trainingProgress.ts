// Where the runs in progress stand, for the status bar item and the progress notification: step of
// total, the last loss, and an ETA from the steps seen over the last minute of wall time. Read from
// the run folders (status.json, metrics.jsonl), so a run started in a terminal shows as well as one
// the extension started. No vscode import: tested without it.

import { EventEmitter } from 'node:events';
import type { ExperimentNode, RunNode, WorkspaceRuns } from './workspaceRuns';

export interface RunProgress {
  /** The run folder. */
  readonly dir: string;
  readonly name: string;
  readonly experimentDir?: string;
  /** "2/3": the variant's place in its experiment. */
  readonly variant?: { readonly index: number; readonly count: number };
  readonly state: 'running' | 'evaluating';
  readonly step: number;
  readonly totalSteps: number;
  readonly loss?: number;
  /** Seconds left for this run's training, once two step counts some time apart were seen. */
  readonly etaSeconds?: number;
  readonly stopRequested: boolean;
}

/** Steps per second from (time, step) observations within a window; robust to bursts and pauses. */
export class StepRate {
  private readonly seen: { t: number; step: number }[] = [];
  constructor(private readonly windowMs = 60_000) {}

  observe(t: number, step: number): void {
    const last = this.seen.at(-1);
    if (last && step < last.step) this.seen.length = 0; // a resume from an earlier checkpoint
    if (last && step === last.step) return; // the time of a step is when it was first seen
    this.seen.push({ t, step });
    while (this.seen.length > 2 && t - this.seen[1].t > this.windowMs) this.seen.shift();
  }

  /** Seconds for `remaining` steps at the observed rate; undefined before two observations. */
  eta(remaining: number): number | undefined {
    const first = this.seen[0], last = this.seen.at(-1);
    if (!first || !last || last.step === first.step || last.t === first.t) return undefined;
    const perStep = (last.t - first.t) / 1000 / (last.step - first.step);
    return Math.max(0, remaining * perStep);
  }
}

/** "0:42", "12:05", "1 h 03 min". */
export function formatEta(seconds: number): string {
  const s = Math.round(seconds);
  if (s >= 3600) return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

/** "full 1/2 · step 12/40 · loss 2.314 · ETA 0:35" (what the status bar and the notification say). */
export function progressText(p: RunProgress): string {
  const name = p.variant ? `${p.name} ${p.variant.index}/${p.variant.count}` : p.name;
  if (p.stopRequested) return `${name} · stopping at the next step…`;
  if (p.state === 'evaluating') return `${name} · trained; measuring it after training`;
  const parts = [name, `step ${p.step}/${p.totalSteps}`];
  if (p.loss !== undefined) parts.push(`loss ${p.loss.toFixed(3)}`);
  parts.push(p.etaSeconds === undefined ? 'ETA …' : `ETA ${formatEta(p.etaSeconds)}`);
  return parts.join(' · ');
}

function progressOf(r: RunNode, experiment: ExperimentNode | undefined, rate: StepRate | undefined): RunProgress | undefined {
  if ((r.state !== 'running' && r.state !== 'evaluating') || !r.details) return undefined;
  const index = experiment ? experiment.runs.indexOf(r) : -1;
  const remaining = r.details.totalSteps - r.details.step;
  const eta = r.state === 'running' ? rate?.eta(remaining) : undefined;
  return {
    dir: r.dir, name: r.label ?? r.name, state: r.state, step: r.details.step, totalSteps: r.details.totalSteps,
    stopRequested: r.details.stopRequested,
    ...(experiment ? { experimentDir: experiment.dir, variant: { index: index + 1, count: experiment.runs.length } } : {}),
    ...(r.details.loss !== undefined ? { loss: r.details.loss } : {}),
    ...(eta !== undefined ? { etaSeconds: eta } : {}),
  };
}

/**
 * Follows the runs in progress across refreshes: update() with what the folders hold now, then
 * `current` lists each run training or being measured, and 'change' fires with it.
 */
export class TrainingMonitor extends EventEmitter<{ change: [readonly RunProgress[]] }> {
  private readonly rates = new Map<string, StepRate>();
  current: readonly RunProgress[] = [];

  update(workspaces: readonly WorkspaceRuns[], now: number = Date.now()): readonly RunProgress[] {
    const found: RunProgress[] = [];
    const pairs = workspaces.flatMap((w) => [
      ...w.experiments.flatMap((e) => e.runs.map((r) => [r, e] as const)),
      ...w.runs.map((r) => [r, undefined] as const),
    ]);
    const live = new Set<string>();
    for (const [r, e] of pairs) {
      // Before its first logged step a run is compiling: that time says nothing about a step's.
      if (r.state !== 'running' || !r.details || r.details.loss === undefined) continue;
      live.add(r.dir);
      let rate = this.rates.get(r.dir);
      if (!rate) this.rates.set(r.dir, (rate = new StepRate()));
      rate.observe(now, r.details.step);
    }
    for (const dir of [...this.rates.keys()]) if (!live.has(dir)) this.rates.delete(dir);
    for (const [r, e] of pairs) {
      const p = progressOf(r, e, this.rates.get(r.dir));
      if (p) found.push(p);
    }
    this.current = found;
    this.emit('change', found);
    return found;
  }

  /** The run in progress of an experiment (or a standalone run folder). */
  of(dir: string): RunProgress | undefined {
    return this.current.find((p) => p.experimentDir === dir || p.dir === dir);
  }
}
