// What the dashboard shows, built from the folders on disk (no vscode import, so it is tested without
// VS Code): an experiment through the engine's buildReport, runs side by side through
// compareRunsReport. Runs that belong to no experiment (`ftlab train`) have no before/after figures;
// they are shown with their loss curve and training figures, and say why the rest is missing.

import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import {
  EXPERIMENT_FILE, buildReport, describeFailure, compareRunsReport, forgetting, readMetrics, readRunConfig, readRunStatus,
  type ExperimentReport, type VariantReport,
} from '../engine';
import { VSCODE_OPTION_WORDS } from './optionWords';
import type { DashboardSource, DashboardVariant, ShowReportParams } from '../protocol/messages';

const STANDALONE_MISSING = 'a standalone run (ftlab train) is not measured before and after; run strategies as an experiment (Fine-tune model) for these figures';

export function dashboardReport(source: DashboardSource): ShowReportParams {
  try {
    if (source.kind === 'experiment') return fromReport(source, buildReport(source.dir), `Experiment ${lastName(source.dir)}`);
    const inExperiment = source.runDirs.filter((d) => experimentOf(d) !== undefined);
    const standalone = source.runDirs.filter((d) => experimentOf(d) === undefined);
    const title = runsTitle(source.runDirs);
    const compared = inExperiment.length ? fromReport(source, compareRunsReport(inExperiment), title) : undefined;
    const variants = [...(compared?.variants ?? []), ...standalone.map(standaloneVariant)];
    return {
      source, title,
      subtitle: compared?.subtitle ?? 'standalone runs: loss curves and training figures only',
      variants, live: variants.some((v) => v.status === 'running'),
    };
  } catch (err) {
    return { source, title: source.kind === 'experiment' ? `Experiment ${lastName(source.dir)}` : runsTitle(source.runDirs), subtitle: '', variants: [], live: false, problem: (err as Error).message };
  }
}

/** The experiment folder a run belongs to: its config.json's link, else two levels up (<exp>/runs/<variant>). */
function experimentOf(runDir: string): string | undefined {
  try {
    const linked = readRunConfig(runDir).experiment?.dir;
    if (linked && existsSync(join(linked, EXPERIMENT_FILE))) return linked;
  } catch {
    // a pending variant has no config.json yet
  }
  const up = dirname(dirname(resolve(runDir)));
  return existsSync(join(up, EXPERIMENT_FILE)) ? up : undefined;
}

/** The evaluation sets in words: what each count counts. */
const SET_NAMES: Record<string, string> = {
  task: 'held-out questions', taskTrained: 'trained questions', general: 'general prompts', generalText: 'general text documents',
};

function fromReport(source: DashboardSource, report: ExperimentReport, title: string): ShowReportParams {
  const sets = Object.entries(report.evaluation.sets).map(([name, s]) => `${SET_NAMES[name] ?? name} ${s.count}`).join(', ');
  const subtitle = [
    `base model ${report.baseModel.name}`,
    `${report.data.trainExamples} training examples`,
    sets ? `evaluated on ${sets}` : 'base model not measured yet',
    report.evaluation.decoding.kind === 'greedy' ? 'greedy decoding, exact match' : 'sampled decoding, exact match',
  ].join(' · ');
  const variants = report.variants.map((v) => dashboardVariant(v, source.kind === 'experiment' ? join(source.dir, v.runDir) : undefined));
  return { source, title, subtitle, variants, live: variants.some((v) => v.status === 'running') };
}

/** `runDir`: the variant's folder, whose status.json words a failure in VS Code's words (the report's are the engine's). */
export function dashboardVariant(v: VariantReport, runDir?: string): DashboardVariant {
  const detail = (v.error !== undefined && runDir ? failureIn(runDir) : undefined) ?? v.error ?? v.accuracy.general.missing ?? v.accuracy.task.missing;
  return {
    name: v.name, strategy: v.strategy, status: v.status, ...(detail ? { detail } : {}), ...(v.device ? { device: v.device } : {}),
    lossCurve: v.lossCurve,
    general: pick(v.accuracy.general), task: pick(v.accuracy.task),
    steps: v.steps, seconds: v.seconds, tokensPerSecond: v.tokensPerSecond, peakMemoryBytes: v.peakMemoryBytes,
    trainableParameters: v.trainableParameters, forgetting: forgetting(v),
  };
}

function failureIn(runDir: string): string | undefined {
  try {
    const { error } = readRunStatus(runDir);
    return error ? describeFailure(error, VSCODE_OPTION_WORDS) : undefined;
  } catch {
    return undefined;
  }
}

function pick(ba: VariantReport['accuracy']['general']): DashboardVariant['general'] {
  return { before: ba.before, after: ba.after, ...(ba.missing ? { missing: ba.missing } : {}) };
}

function standaloneVariant(runDir: string): DashboardVariant {
  const none = { before: null, after: null, missing: STANDALONE_MISSING };
  const name = lastName(runDir);
  try {
    const config = readRunConfig(runDir);
    const status = readRunStatus(runDir);
    const metrics = readMetrics(runDir);
    const tps = metrics.map((m) => m.tokensPerSecond).sort((a, b) => a - b);
    return {
      name, strategy: config.strategy ?? 'unknown', status: status.state,
      detail: status.error ? describeFailure(status.error, VSCODE_OPTION_WORDS) : STANDALONE_MISSING,
      lossCurve: metrics.filter((m) => Number.isFinite(m.loss)).map((m) => ({ step: m.step, loss: m.loss })),
      general: none, task: none, steps: status.step, seconds: 0, tokensPerSecond: tps.length ? tps[Math.floor(tps.length / 2)] : 0,
      peakMemoryBytes: null, trainableParameters: 0, forgetting: null,
    };
  } catch (err) {
    return {
      name, strategy: 'unknown', status: 'failed', detail: (err as Error).message, lossCurve: [], general: none, task: none,
      steps: 0, seconds: 0, tokensPerSecond: 0, peakMemoryBytes: null, trainableParameters: 0, forgetting: null,
    };
  }
}

/** "Run full" for one run, "Compare runs (3)" for several. */
export function runsTitle(runDirs: readonly string[]): string {
  return runDirs.length === 1 ? `Run ${lastName(runDirs[0])}` : `Compare runs (${runDirs.length})`;
}

function lastName(dir: string): string {
  return dir.split(/[\\/]/).filter(Boolean).pop() ?? dir;
}
