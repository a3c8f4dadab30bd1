// The report of an experiment, from its files alone (experiment.json, baseline.json, each run's
// config/status/metrics/outcome): no model is loaded, so the extension can redraw it at any time, while
// variants are still training, and the CLI can print it. Also the comparison of any runs, from
// different experiments too ("Compare runs").

import { existsSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { AccuracyResult } from '../eval/completionAccuracy';
import { flips } from '../eval/flips';
import { readMetrics } from '../runs/metricsLog';
import { readRunConfig } from '../runs/runConfig';
import { readRunStatus } from '../runs/runStatus';
import { ModelEvaluation } from './evalSets';
import { ExperimentSpec, VariantSpec, readExperiment } from './experimentFile';
import { BeforeAfter, ExperimentReport, Proportion, REPORT_FORMAT, REPORT_VERSION, VariantReport, VariantStatus, parseReport } from './report';
import { readOutcome } from './runVariant';
import { effectiveSettings } from './strategyPresets';

export const BASELINE_FILE = 'baseline.json';

/** baseline.json: the base model's evaluation and the sizes of the sets it was measured on. */
export interface Baseline {
  sha256: string | null;
  modelDir: string;
  counts: { train: number; validation: number; test: number };
  sets: { task: number | null; taskMissing: string | null; taskTrained: number; general: number | null; generalText: number | null };
  evaluation: ModelEvaluation;
}

export function readBaseline(dir: string): Baseline | null {
  const file = join(dir, BASELINE_FILE);
  if (!existsSync(file)) return null;
  const b = JSON.parse(readFileSync(file, 'utf8')) as Partial<Baseline>;
  if (!b.evaluation || !b.counts || !b.sets || typeof b.modelDir !== 'string') return null; // an older layout: measured again
  return b as Baseline;
}

/** Report figures from two evaluations of the same items. */
function accuracyPair(before: AccuracyResult | null, after: AccuracyResult | null, missing: string): BeforeAfter<Proportion> {
  const b = before?.proportion ?? null, a = after?.proportion ?? null;
  const out: BeforeAfter<Proportion> = { before: b, after: a };
  if (!b || !a) out.missing = missing;
  if (before && after && before.items.length === after.items.length && before.items.every((it, i) => it.prompt === after.items[i].prompt)) {
    const f = flips(before.items, after.items);
    out.flips = { gained: f.wrongToRight.length, lost: f.rightToWrong.length };
  }
  return out;
}

const EMPTY: ModelEvaluation = { task: null, taskTrained: null, general: null, prose: null, generalText: null, seconds: 0 };

/** One variant's entry: its run folder's files against its experiment's baseline. */
function variantReport(expDir: string, spec: ExperimentSpec, v: VariantSpec, baseline: Baseline | null, name = v.name): VariantReport {
  const runDir = join(expDir, v.runDir);
  const outcome = readOutcome(runDir);
  const started = existsSync(join(runDir, 'config.json'));
  const st = started || existsSync(join(runDir, 'status.json')) ? readRunStatus(runDir) : null;
  const status: VariantStatus = outcome ? 'finished' : st ? (st.state === 'finished' ? 'running' : st.state) : 'pending';
  const before = baseline?.evaluation ?? EMPTY;
  const after = outcome?.evaluation ?? null;
  const why = !baseline ? 'the base model is not measured yet'
    : outcome ? ''
      : status === 'pending' ? 'not run yet'
        : status === 'failed' ? `the run failed: ${st?.error?.message ?? st?.reason ?? 'see its status.json'}`
          : status === 'running' ? 'still training or being evaluated' : `the run is ${status}${st?.reason ? ` (${st.reason})` : ''}; resume the experiment`;
  const settings = outcome?.settings ?? effectiveSettings(v.strategy, v.overrides);
  const categories: VariantReport['categories'] = {};
  const cats = new Set([...Object.keys(before.task?.byCategory ?? {}), ...Object.keys(after?.task?.byCategory ?? {})]);
  for (const c of [...cats].sort()) {
    const b = before.task?.byCategory[c] ?? null, a = after?.task?.byCategory[c] ?? null;
    categories[c] = { task: { before: b, after: a, ...(!a || !b ? { missing: why || 'no item of this category' } : {}) } };
  }
  const textB = before.generalText, textA = after?.generalText ?? null;
  const textMissing = !spec.evaluation.generalText ? 'no general text set' : why;
  const perplexity: BeforeAfter<number> = { before: textB?.perplexity ?? null, after: textA?.perplexity ?? null };
  if (!textB || !textA) perplexity.missing = textMissing;
  const nextToken: BeforeAfter<Proportion> = { before: textB?.nextTokenAccuracy ?? null, after: textA?.nextTokenAccuracy ?? null };
  if (!textB || !textA) nextToken.missing = textMissing;
  return {
    name, strategy: v.strategy, runDir: v.runDir, status,
    ...(status === 'failed' && st?.error ? { error: st.error.message } : {}),
    ...(outcome?.training.device ? { device: outcome.training.device } : {}),
    settings: Object.fromEntries(Object.entries(settings).map(([k, x]) => [k, Array.isArray(x) ? [...x] : x])) as VariantReport['settings'],
    trainableParameters: outcome?.training.trainableParameters ?? 0,
    steps: outcome?.training.steps ?? st?.step ?? 0,
    seconds: outcome?.training.seconds ?? 0,
    tokensPerSecond: outcome?.training.tokensPerSecond ?? 0,
    peakMemoryBytes: outcome?.training.peakMemoryBytes ?? null,
    finalLoss: outcome?.training.finalLoss ?? null,
    accuracy: {
      task: accuracyPair(before.task, after?.task ?? null, baseline?.sets.taskMissing ?? why),
      taskTrained: accuracyPair(before.taskTrained, after?.taskTrained ?? null, why),
      general: accuracyPair(before.general, after?.general ?? null, spec.evaluation.generalPrompts ? why : 'no general prompt set'),
    },
    perplexity: { general: perplexity },
    nextTokenAccuracy: { general: nextToken },
    categories,
    samples: (before.task?.items ?? []).slice(0, 6).map((b, i) => ({ prompt: b.prompt, answer: b.answer, before: b.output, after: after?.task?.items[i]?.output ?? '' })),
    lossCurve: started ? readMetrics(runDir).filter((m) => Number.isFinite(m.loss)).map((m) => ({ step: m.step, loss: m.loss })) : [],
  };
}

function header(spec: ExperimentSpec, baseline: Baseline | null): Omit<ExperimentReport, 'variants' | 'finishedAt'> {
  const sets: ExperimentReport['evaluation']['sets'] = {};
  const b = baseline?.sets;
  if (b?.task) sets.task = { count: b.task, source: spec.testFile ?? `${Math.round(spec.testSplit * 100)}% of ${spec.dataFile}, held out (seed ${spec.seed})` };
  if (b) sets.taskTrained = { count: b.taskTrained, source: `a seeded sample of the training questions (at most ${spec.evaluation.trainedSample})` };
  if (b?.general && spec.evaluation.generalPrompts) sets.general = { count: b.general, source: spec.evaluation.generalPrompts };
  if (b?.generalText && spec.evaluation.generalText) sets.generalText = { count: b.generalText, source: `${spec.evaluation.generalText} (documents)` };
  const dec = spec.evaluation.decoding;
  return {
    format: REPORT_FORMAT, version: REPORT_VERSION, name: spec.name, createdAt: spec.createdAt,
    machine: { cpu: cpus()[0]?.model ?? 'unknown', threads: spec.threads || cpus().length, device: spec.device },
    baseModel: { name: spec.baseModelId.name, dir: baseline?.modelDir ?? spec.baseModel, sha256: spec.baseModelId.sha256 },
    data: {
      file: spec.dataFile, trainExamples: baseline?.counts.train ?? 0, testExamples: baseline?.counts.test ?? 0,
      ...(b && !b.task ? { heldOutNote: b.taskMissing ?? 'no held-out data' } : {}),
    },
    evaluation: {
      metric: 'questions: exact match of the first line of the answer after normalization (lower case, no punctuation, no articles, single spaces); general prose prompts: the normalized continuation is the answer or begins with it as whole words',
      decoding: dec.kind === 'greedy' ? { kind: 'greedy' } : dec, sets,
    },
    seed: spec.seed,
  };
}

/** The experiment's report as its files stand now (variants may be unfinished, the baseline missing). */
export function buildReport(dirIn: string): ExperimentReport {
  const dir = resolve(dirIn);
  const spec = readExperiment(dir);
  const baseline = readBaseline(dir);
  const variants = spec.variants.map((v) => variantReport(dir, spec, v, baseline));
  const report: ExperimentReport = { ...header(spec, baseline), finishedAt: variants.every((v) => v.status === 'finished') ? new Date().toISOString() : null, variants };
  // The same checks a reader applies: a report this code writes must read back.
  return parseReport(JSON.parse(JSON.stringify(report)), join(dir, 'report.json'));
}

/**
 * Any runs side by side, from one experiment or several: each run is found in its experiment (the
 * run's config.json links it), measured against that experiment's baseline. Runs of different base
 * models or data are compared as they are; the header names the first run's experiment and says so.
 */
export function compareRunsReport(runDirs: string[]): ExperimentReport {
  if (runDirs.length < 1) throw new Error('choose at least one run to compare');
  const entries = runDirs.map((r) => {
    const runDir = resolve(r);
    const cfg = readRunConfig(runDir);
    const expDir = cfg.experiment?.dir ?? dirname(dirname(runDir));
    if (!existsSync(join(expDir, 'experiment.json'))) throw new Error(`${runDir} is not part of an experiment (no experiment.json above it): only runs of \`ftlab experiment\`, \`ftlab demo\` or the extension carry before/after figures`);
    const spec = readExperiment(expDir);
    const v = spec.variants.find((x) => resolve(expDir, x.runDir) === runDir);
    if (!v) throw new Error(`${runDir} is not a variant of ${expDir}/experiment.json`);
    return { expDir, spec, v };
  });
  const first = entries[0];
  const several = new Set(entries.map((e) => e.expDir)).size > 1;
  const variants = entries.map((e) => {
    const name = several ? `${basename(e.expDir)}/${e.v.name}` : e.v.name;
    const r = variantReport(e.expDir, e.spec, e.v, readBaseline(e.expDir), name);
    return { ...r, runDir: relative(first.expDir, join(e.expDir, e.v.runDir)).split('\\').join('/') };
  });
  const baseline = readBaseline(first.expDir);
  const h = header(first.spec, baseline);
  const report: ExperimentReport = {
    ...h, name: several ? `Compared runs (${entries.length}, from ${new Set(entries.map((e) => e.expDir)).size} experiments)` : `${first.spec.name}: ${entries.length} runs compared`,
    finishedAt: null, variants,
  };
  return parseReport(JSON.parse(JSON.stringify(report)), join(first.expDir, 'comparison'));
}
