// An experiment, end to end: write experiment.json, measure the base model once ("before"), train and
// evaluate each variant not yet finished ("after"), then write report.json and report.html. Run again
// on the same folder, it continues: finished variants are kept, a stopped one resumes from its
// checkpoint, the rest start.

import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PACKAGE_ROOT } from '../builtin';
import { writeFileAtomic } from '../fsAtomic';
import { FineTuneCallbacks } from '../train/fineTuneRun';
import { StrategyKind } from '../train/strategies';
import { ExperimentContext, ExperimentMachine, loadExperimentContext } from './experimentContext';
import { modelIdentity } from '../checkpoint/modelIdentity';
import { EvalDecoding, EXPERIMENT_FORMAT, EXPERIMENT_VERSION, ExperimentSpec, VariantSpec, ExperimentError, variantName, writeExperiment } from './experimentFile';
import { ModelEvaluation, evaluateModel } from './evalSets';
import { ExperimentReport } from './report';
import { BASELINE_FILE, Baseline, buildReport, readBaseline } from './experimentReport';
import { renderReportHtml } from './reportHtml';
import { clearStopRequest, describeStopRequest, isStopRequested } from '../runs/stopRequest';
import { VariantOutcome, readOutcome, runVariant } from './runVariant';
import { VariantSettings, effectiveSettings } from './strategyPresets';

export const REPORT_JSON = 'report.json';
export const REPORT_HTML = 'report.html';

export interface NewExperiment {
  dir: string;
  name?: string;
  baseModel: string;
  dataFile: string;
  testFile?: string | null;
  /** Held out for the task figure when no test file is given (default 0.1; 0 allowed). */
  testSplit?: number;
  validationSplit?: number;
  earlyStoppingPatience?: number;
  seed?: number;
  /** Longest example in tokens; longer ones are cut (default: the model's context, longer ones are errors). */
  maxLength?: number;
  variants: { strategy: StrategyKind; overrides?: Partial<VariantSettings>; name?: string }[];
  decoding?: EvalDecoding;
  generalPrompts?: string | null;
  generalText?: string | null;
  prosePrompts?: string | null;
  trainedSample?: number;
  device?: ExperimentSpec['device'];
  threads?: number;
  gradientCheckpointing?: boolean;
}

/** The general sets shipped with Fine-Tune Lab (assets/demo): used for every base model. */
export const GENERAL_PROMPTS_FILE = join(PACKAGE_ROOT, 'assets', 'demo', 'general_eval.jsonl');
export const GENERAL_TEXT_FILE = join(PACKAGE_ROOT, 'assets', 'demo', 'general_text.txt');

/** Writes experiment.json for a new experiment (refuses a folder that holds another one). */
export async function createExperiment(n: NewExperiment): Promise<ExperimentSpec> {
  const dir = resolve(n.dir);
  if (existsSync(join(dir, 'experiment.json'))) throw new ExperimentError(`${dir} already holds an experiment; continue it (ftlab experiment --resume ${dir}) or choose another folder`);
  if (!n.variants.length) throw new ExperimentError('an experiment needs at least one variant (strategy)');
  mkdirSync(dir, { recursive: true });
  const taken = new Set<string>();
  const variants: VariantSpec[] = n.variants.map((v) => {
    const overrides = Object.fromEntries(Object.entries(v.overrides ?? {}).filter(([, x]) => x !== undefined)) as Partial<VariantSettings>;
    effectiveSettings(v.strategy, overrides); // fails early on a bad combination
    const name = v.name ?? variantName(v.strategy, overrides, taken);
    if (taken.has(name)) throw new ExperimentError(`two variants are named "${name}"`);
    taken.add(name);
    return { name, strategy: v.strategy, overrides, runDir: join('runs', name) };
  });
  const modelDir = n.baseModel === 'builtin' ? null : resolve(n.baseModel);
  const spec: ExperimentSpec = {
    format: EXPERIMENT_FORMAT, version: EXPERIMENT_VERSION, name: n.name ?? dir.split(/[\\/]/).pop()!, createdAt: new Date().toISOString(),
    baseModel: modelDir ?? 'builtin',
    baseModelId: await modelIdentity(modelDir ?? 'builtin'),
    dataFile: resolve(n.dataFile), testFile: n.testFile ? resolve(n.testFile) : null, testSplit: n.testSplit ?? 0.1,
    validationSplit: n.validationSplit ?? 0, earlyStoppingPatience: n.earlyStoppingPatience ?? 0, seed: n.seed ?? 0,
    ...(n.maxLength !== undefined ? { maxLength: n.maxLength } : {}),
    evaluation: {
      decoding: n.decoding ?? { kind: 'greedy' },
      generalPrompts: n.generalPrompts === undefined ? GENERAL_PROMPTS_FILE : n.generalPrompts,
      generalText: n.generalText === undefined ? GENERAL_TEXT_FILE : n.generalText,
      trainedSample: n.trainedSample ?? 200,
      prosePrompts: n.prosePrompts ?? null,
    },
    device: n.device ?? 'auto', threads: n.threads ?? 0, ...(n.gradientCheckpointing ? { gradientCheckpointing: true } : {}), variants,
  };
  writeExperiment(dir, spec);
  return spec;
}

export interface ExperimentCallbacks {
  onLog?: (line: string) => void;
  onVariantStart?: (v: VariantSpec, index: number, total: number) => void;
  onVariantEnd?: (v: VariantSpec, outcome: VariantOutcome | null, error: string | null) => void;
  /** Step metrics of a variant trained in this process. */
  training?: (v: VariantSpec) => FineTuneCallbacks;
  signal?: AbortSignal;
  /** Device and threads for this run of it, over experiment.json's (a launcher passes them on). */
  machine?: ExperimentMachine;
}

/**
 * How a variant is run. 'inline': in this process (the extension's worker; peak memory is then not the
 * variant's own and is reported as missing). Otherwise a function that runs the variant in a process of
 * its own and resolves when it exits (the CLI re-invokes itself).
 */
export type VariantLauncher = 'inline' | ((dir: string, variant: VariantSpec, machine: ExperimentMachine) => Promise<void>);

export async function runExperiment(dirIn: string, launch: VariantLauncher, cb: ExperimentCallbacks = {}): Promise<ExperimentReport> {
  const dir = resolve(dirIn);
  const log = cb.onLog ?? (() => {});
  // Running it again is the answer to an earlier stop request (stop-request.json): it is stale now.
  clearStopRequest(dir);
  const ctx = await loadExperimentContext(dir, log, cb.machine);
  await measureBaseline(ctx, log);
  const { variants } = ctx.spec;
  for (const [i, v] of variants.entries()) {
    if (cb.signal?.aborted) break;
    if (isStopRequested(dir)) {
      // The running variant stopped at its step boundary (it polls this folder too); start no other.
      log(`experiment stopped before ${v.name}: a stop was ${describeStopRequest(dir)}; resuming it continues from here`);
      break;
    }
    const runDir = join(dir, v.runDir);
    if (readOutcome(runDir)) { log(`${v.name}: finished earlier (kept)`); continue; }
    cb.onVariantStart?.(v, i, variants.length);
    log(`variant ${i + 1}/${variants.length}: ${v.name}`);
    try {
      if (launch === 'inline') await runVariant(ctx, v, { ownProcess: false, cb: { ...cb.training?.(v), onLog: log, signal: cb.signal } });
      else await launch(dir, v, cb.machine ?? {});
      cb.onVariantEnd?.(v, readOutcome(runDir), null);
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      log(`${v.name}: ${msg}`);
      cb.onVariantEnd?.(v, null, msg);
    }
  }
  clearStopRequest(dir); // answered: the variants it concerned have stopped or ended
  const report = buildReport(dir);
  writeReport(dir, report);
  return report;
}

/** The base model's evaluation, measured once per experiment and kept in baseline.json. */
async function measureBaseline(ctx: ExperimentContext, log: (s: string) => void): Promise<ModelEvaluation> {
  const file = join(ctx.dir, BASELINE_FILE);
  const saved = readBaseline(ctx.dir);
  if (saved && saved.sha256 === ctx.spec.baseModelId.sha256) return saved.evaluation;
  log('measuring the base model (before)');
  const weights = new Map([...ctx.hf.tensors].map(([n, t]) => [n, t.data]));
  const evaluation = await evaluateModel(ctx.lm, weights, ctx.tokenizer, ctx.sets, { decoding: ctx.spec.evaluation.decoding, device: ctx.spec.device, threads: ctx.spec.threads });
  const baseline: Baseline = {
    sha256: ctx.spec.baseModelId.sha256, modelDir: ctx.modelDir, counts: ctx.data.manifest.counts,
    sets: {
      task: ctx.sets.task?.length ?? null, taskMissing: ctx.sets.taskMissing ?? null, taskTrained: ctx.sets.taskTrained.length,
      general: ctx.sets.general?.length ?? null, generalText: ctx.sets.generalText?.length ?? null,
    },
    evaluation,
  };
  writeFileAtomic(file, JSON.stringify(baseline) + '\n');
  return evaluation;
}

export function writeReport(dir: string, report: ExperimentReport): void {
  writeFileAtomic(join(dir, REPORT_JSON), JSON.stringify(report, null, 2) + '\n');
  writeFileAtomic(join(dir, REPORT_HTML), renderReportHtml(report));
}

/** The variant of `dir` named `name` run in this process (the child side of a launcher). */
export async function runVariantInProcess(dirIn: string, name: string, cb: FineTuneCallbacks = {}, machine: ExperimentMachine = {}): Promise<VariantOutcome> {
  const dir = resolve(dirIn);
  const ctx = await loadExperimentContext(dir, cb.onLog, machine);
  const v = ctx.spec.variants.find((x) => x.name === name);
  if (!v) throw new ExperimentError(`${dir}: no variant named "${name}" (it has ${ctx.spec.variants.map((x) => x.name).join(', ')})`);
  return runVariant(ctx, v, { ownProcess: true, cb });
}

