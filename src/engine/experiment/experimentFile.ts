// experiment.json: what an experiment is — one base model, one data file, one seed, a list of
// variants — and where each variant's run folder is. Written once when the experiment starts and read
// back (checked) to continue it, by the CLI, the training process and the extension.
//
// <experiment>/experiment.json    this file
// <experiment>/data/              the prepared data every variant trains on (same split, same order)
// <experiment>/baseline.json      the base model's evaluation ("before"), measured once
// <experiment>/runs/<variant>/    one run folder per variant (config.json, status.json, metrics.jsonl,
//                                 checkpoint/, evaluation.json: the evaluation "after")
// <experiment>/report.json, report.html

import type { DeviceRequest } from '../runtime/device';
import { join } from 'node:path';
import { writeFileAtomic } from '../fsAtomic';
import { STRATEGIES, StrategyKind } from '../train/strategies';
import { Rule, arrayOf, count, finite, flag, nonEmptyText, nullable, object, oneOf, optional, text, timestamp } from '../runs/jsonRule';
import { readJsonFile } from '../runs/runFolder';
import type { VariantSettings } from './strategyPresets';

export const EXPERIMENT_FORMAT = 'ftlab-experiment';
/** 2: the strategy presets replay general text and pull toward the pretrained weights (SAFE_REPLAY_RATIO,
 *  SAFE_L2SP_WEIGHT); a version-1 variant ran the presets of then, without either: a replayRatio or
 *  l2spWeight it does not set is read as 0. */
export const EXPERIMENT_VERSION = 2;
export const EXPERIMENT_FILE = 'experiment.json';

export interface VariantSpec {
  /** Unique in the experiment, safe as a folder name: [a-z0-9._-]. */
  name: string;
  strategy: StrategyKind;
  /** Settings that differ from the strategy's preset. */
  overrides: Partial<VariantSettings>;
  /** The run folder, relative to the experiment folder. */
  runDir: string;
}

export type EvalDecoding =
  | { kind: 'greedy' }
  | { kind: 'sample'; samples: number; seed: number; topP: number; temperature: number; maxNewTokens: number };

export interface ExperimentSpec {
  format: typeof EXPERIMENT_FORMAT;
  version: number;
  name: string;
  createdAt: string;
  /** 'builtin' or a Hugging Face model folder. */
  baseModel: string;
  /** Name, version and hash of the base weights, so a replaced model does not orphan the experiment. */
  baseModelId: { name: string; version: string | null; sha256: string | null };
  dataFile: string;
  /** Held-out Q&A for the task figure; null: `testSplit` of dataFile is held out. */
  testFile: string | null;
  testSplit: number;
  /** Share held out for validation loss and early stopping (never the test split). */
  validationSplit: number;
  earlyStoppingPatience: number;
  seed: number;
  /** Longest example in tokens, longer ones cut (a user's choice); absent: the model's context, longer ones are errors. */
  maxLength?: number;
  evaluation: {
    decoding: EvalDecoding;
    /** prompt/completion JSONL of general knowledge (exact match); null: none. */
    generalPrompts: string | null;
    /** Plain text (documents separated by blank lines) for perplexity and next-token accuracy; null: none. */
    generalText: string | null;
    /** At most this many training questions are asked again (memorization). */
    trainedSample: number;
    /** Optional prose prompts on the facts the Q&A data asks about (the built-in demo only). */
    prosePrompts: string | null;
  };
  /** auto, cpu or cuda (runtime/device.ts): what was asked, not what ran (each run's outcome has that). */
  device: DeviceRequest;
  threads: number;
  /** Every variant recomputes its blocks in the backward pass (TrainingArguments.gradientCheckpointing); absent: off. */
  gradientCheckpointing?: boolean;
  variants: VariantSpec[];
}

const share: Rule<number> = (v, p, f): v is number => finite(v, p, f) && ((v >= 0 && v < 1) || (f.push({ path: p, expected: 'a share in [0, 1)', got: v }), false));
const settingsRule: Rule<Partial<VariantSettings>> = object<Partial<VariantSettings>>({
  learningRate: optional(finite), numTrainEpochs: optional(finite), maxSteps: optional(finite), perDeviceTrainBatchSize: optional(count),
  dropout: optional(finite), weightDecay: optional(finite), warmupSteps: optional(count), replayRatio: optional(share), l2spWeight: optional(finite),
  layerLrMultipliers: optional(nullable(arrayOf(finite) as unknown as Rule<[number, number, number]>)), loraRank: optional(nullable(count)), loraAlpha: optional(nullable(finite)),
});
const decodingRule: Rule<EvalDecoding> = (v, p, f): v is EvalDecoding => {
  if (typeof v === 'object' && v !== null && (v as { kind?: unknown }).kind === 'greedy') return true;
  return object<Extract<EvalDecoding, { kind: 'sample' }>>({ kind: oneOf('sample'), samples: count, seed: count, topP: finite, temperature: finite, maxNewTokens: count })(v, p, f);
};
export const experimentRule: Rule<ExperimentSpec> = object<ExperimentSpec>({
  format: oneOf(EXPERIMENT_FORMAT), version: count, name: nonEmptyText, createdAt: timestamp, baseModel: nonEmptyText,
  baseModelId: object({ name: nonEmptyText, version: nullable(text), sha256: nullable(text) }),
  dataFile: nonEmptyText, testFile: nullable(nonEmptyText), testSplit: share, validationSplit: share, earlyStoppingPatience: count, seed: count, maxLength: optional(count),
  evaluation: object<ExperimentSpec['evaluation']>({
    decoding: decodingRule, generalPrompts: nullable(nonEmptyText), generalText: nullable(nonEmptyText), trainedSample: count, prosePrompts: nullable(nonEmptyText),
  }),
  device: oneOf('auto', 'cpu', 'cuda'), threads: count, gradientCheckpointing: optional(flag),
  variants: arrayOf(object<VariantSpec>({ name: nonEmptyText, strategy: oneOf(...STRATEGIES), overrides: settingsRule, runDir: nonEmptyText })),
});

/** A user-caused problem with an experiment (a folder, a variant list). */
export class ExperimentError extends Error {
  override readonly name = 'ExperimentError';
}

const FIX = 'experiment.json is written by `ftlab experiment` and the extension; fix the field or start the experiment again in a new folder';

export function readExperiment(dir: string): ExperimentSpec {
  const spec = readJsonFile(join(dir, EXPERIMENT_FILE), experimentRule, { fix: FIX, missingFix: `${dir} is not an experiment folder (no experiment.json)` });
  const names = new Set<string>();
  for (const v of spec.variants) {
    if (names.has(v.name)) throw new ExperimentError(`${join(dir, EXPERIMENT_FILE)}: the variant name "${v.name}" is used twice; ${FIX}`);
    names.add(v.name);
  }
  if (spec.version < 2) {
    for (const v of spec.variants) {
      v.overrides.replayRatio ??= 0;
      v.overrides.l2spWeight ??= 0;
    }
  }
  return spec;
}

export function writeExperiment(dir: string, spec: ExperimentSpec): void {
  writeFileAtomic(join(dir, EXPERIMENT_FILE), JSON.stringify(spec, null, 2) + '\n');
}

/** A folder-safe variant name from a strategy and its overrides: "full", "full-lr0.001", "lora-r16". */
export function variantName(strategy: StrategyKind, overrides: Partial<VariantSettings>, taken: ReadonlySet<string>): string {
  const short: Record<string, string> = { learningRate: 'lr', numTrainEpochs: 'ep', weightDecay: 'wd', replayRatio: 'replay', l2spWeight: 'l2sp', loraRank: 'r', perDeviceTrainBatchSize: 'bs', maxSteps: 'steps', dropout: 'do' };
  const parts = Object.entries(overrides).filter(([, v]) => v !== undefined && v !== null).map(([k, v]) => `${short[k] ?? k}${Array.isArray(v) ? v.join('_') : v}`);
  const base = [strategy, ...parts].join('-').replace(/[^a-zA-Z0-9._-]/g, '_').toLowerCase();
  let name = base;
  for (let i = 2; taken.has(name); i++) name = `${base}-${i}`;
  return name;
}
