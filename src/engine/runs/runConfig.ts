// config.json of a run: the settings it was trained with, resolved (defaults filled in, step counts
// computed). train() writes it at the start of a run (and again on resume); export, generation, the
// CLI and the Experiments view read it back through readRunConfig, never with a cast.
//
// Versions: 1 has `format: "ftlab-run"` and `version: 1`. 0 is what the previous release wrote: the
// same fields without format/version; it reads as version 0. A training setting missing from the file
// (the run predates it) reads as its default, which is what that run trained with.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { CausalLM } from '../models/causalLM';
import { SCHEDULER_TYPES } from '../optim/schedule';
import type { LoraConfig } from '../train/lora';
import { TRAINING_DEFAULTS, type TrainingArguments } from '../train/trainer';
import { writeFileAtomic } from '../fsAtomic';
import {
  Mismatch, Rule, anyNumber, arrayOf, count, finite, flag, nonEmptyText, nullable, object, oneOf, optional, text, timestamp,
} from './jsonRule';
import { REWRITE_FIX, RUN_FILES, RunFolderError, mismatchError, readJsonFile } from './runFolder';

export const RUN_FORMAT = 'ftlab-run';
export const RUN_CONFIG_VERSION = 1;

export interface BaseModelRef {
  /** The Hugging Face model folder the run started from. */
  dir: string;
  family: string;
  /** The model that ships with Fine-Tune Lab (absent in runs of `ftlab demo` and older ones). */
  builtin?: boolean;
  /** Name, version and weights hash (checkpoint/modelIdentity.ts); absent in runs of older releases. */
  name?: string;
  version?: string | null;
  sha256?: string | null;
}

/** The experiment a run belongs to: its folder and the variant this run trains. */
export interface ExperimentLink {
  dir: string;
  variant: string;
}

/** What the caller of train() says about a run: where its model and data come from, how it trains. */
export interface RunDescription {
  /** Which surface started it: train, demo, pretrain, vscode. */
  command?: string;
  /** One of STRATEGIES when this release wrote it; a newer release may write others. */
  strategy?: string;
  preset?: string;
  baseModel?: BaseModelRef;
  /** The data file the user gave. */
  dataSource?: string;
  layerLrDecay?: number;
  /** Embeddings, blocks, head. */
  layerLrMultipliers?: readonly number[];
  /** A name a person gave the run. */
  label?: string;
  experiment?: ExperimentLink;
}

export interface RunModelInfo {
  family: CausalLM['family'];
  /** Parameter count of the model (adapters not included). */
  parameters: number;
  /** Number of trained tensors (LoRA adapters included). */
  trainable: number;
  /** Names of the tensors kept fixed. */
  frozen: string[];
}

export interface RunLora extends LoraConfig {
  /** Module paths that carry an adapter. */
  adapters: string[];
}

export interface RunReplay {
  /** The packed general-text corpus. */
  dir: string;
  ratio: number;
  rowsPerBatch: number;
}

export interface RunTraining extends TrainingArguments {
  totalSteps: number;
  stepsPerEpoch: number;
  sequenceLength: number;
  trainExamples: number;
  replay?: RunReplay;
}

export interface RunConfig extends RunDescription {
  format: typeof RUN_FORMAT;
  /** 1 for files this release writes; 0 for a config.json of the previous release (no format/version). */
  version: 0 | typeof RUN_CONFIG_VERSION;
  model: RunModelInfo;
  lora?: RunLora;
  training: RunTraining;
  /** The prepared dataset. */
  data: { dir: string };
  createdAt: string;
}

const trainingArguments: { [K in keyof TrainingArguments]-?: Rule<TrainingArguments[K]> } = {
  learningRate: finite, numTrainEpochs: finite, maxSteps: finite, perDeviceTrainBatchSize: count, gradientAccumulationSteps: count,
  weightDecay: finite, adamBeta1: finite, adamBeta2: finite, adamEpsilon: finite, maxGradNorm: finite,
  lrSchedulerType: oneOf(...SCHEDULER_TYPES), warmupSteps: count, loggingSteps: count, seed: finite, dropout: nullable(finite),
  optim: oneOf('adamw', 'sgd'), sgdMomentum: finite, shuffle: flag, device: oneOf('auto', 'cpu', 'cuda'), threads: count, saveSteps: count,
  evalSteps: count, earlyStoppingPatience: count, l2spWeight: finite, stepsPerRun: count, gradientCheckpointing: flag,
};

export const runConfigRule: Rule<RunConfig> = object<RunConfig>({
  format: oneOf(RUN_FORMAT),
  version: oneOf(0, RUN_CONFIG_VERSION),
  command: optional(text),
  strategy: optional(text),
  preset: optional(text),
  baseModel: optional(object<BaseModelRef>({ dir: nonEmptyText, family: text, builtin: optional(flag), name: optional(text), version: optional(nullable(text)), sha256: optional(nullable(text)) })),
  dataSource: optional(text),
  layerLrDecay: optional(finite),
  layerLrMultipliers: optional(arrayOf(finite)),
  label: optional(text),
  experiment: optional(object<ExperimentLink>({ dir: nonEmptyText, variant: text })),
  model: object<RunModelInfo>({ family: oneOf('gpt2', 'llama'), parameters: count, trainable: count, frozen: arrayOf(text) }),
  lora: optional(object<RunLora>({ rank: count, alpha: finite, targetModules: arrayOf(text), adapters: arrayOf(text) })),
  training: object<RunTraining>({
    ...trainingArguments,
    totalSteps: count, stepsPerEpoch: count, sequenceLength: count, trainExamples: count,
    replay: optional(object<RunReplay>({ dir: nonEmptyText, ratio: anyNumber, rowsPerBatch: count })),
  }),
  data: object<{ dir: string }>({ dir: nonEmptyText }),
  createdAt: timestamp,
});

/** A newer release's file is refused by version, before its fields are judged by this release's rules. */
function upgrade(raw: unknown, file: string): unknown {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return raw;
  const o = { ...(raw as Record<string, unknown>) };
  if (typeof o.version === 'number' && o.version > RUN_CONFIG_VERSION) {
    throw new RunFolderError({
      code: 'newer-version', file, field: 'version',
      problem: `written by a newer Fine-Tune Lab (run folder version ${o.version}; this one reads up to ${RUN_CONFIG_VERSION})`,
      fix: 'update Fine-Tune Lab (the extension or the ftlab CLI) to read this run',
    });
  }
  if (o.format === undefined && o.version === undefined) Object.assign(o, { format: RUN_FORMAT, version: 0 });
  if (typeof o.training === 'object' && o.training !== null && !Array.isArray(o.training)) o.training = { ...TRAINING_DEFAULTS, ...o.training };
  return o;
}

/** <runDir>/config.json, checked: a RunFolderError names the file, the field and what to do. */
export function readRunConfig(runDir: string): RunConfig {
  const file = join(runDir, RUN_FILES.config);
  if (!existsSync(file)) {
    throw new RunFolderError({ code: 'missing', file, problem: `${runDir} is not a run folder: it has no ${RUN_FILES.config}`, fix: 'give the folder of a run (ftlab train writes one), or train one first' });
  }
  return readJsonFile(file, runConfigRule, { fix: REWRITE_FIX, upgrade: (raw) => upgrade(raw, file) });
}

/** What train() knows about a run; writeRunConfig adds format, version and createdAt. */
export type RunSettings = Omit<RunConfig, 'format' | 'version' | 'createdAt'>;

/**
 * Writes <runDir>/config.json atomically, after checking it with the readers' rules (a file they would
 * refuse is never written). On resume, the earlier file's createdAt, label and experiment link are
 * kept unless the settings give new ones: a resuming caller (ftlab train --resume) may not know them.
 */
export function writeRunConfig(runDir: string, settings: RunSettings, o: { resume?: boolean } = {}): RunConfig {
  const file = join(runDir, RUN_FILES.config);
  let earlier: RunConfig | undefined;
  if (o.resume) {
    try {
      earlier = readRunConfig(runDir);
    } catch {
      // an unreadable earlier config is replaced
    }
  }
  const config: RunConfig = {
    format: RUN_FORMAT, version: RUN_CONFIG_VERSION,
    ...(earlier?.label !== undefined ? { label: earlier.label } : {}),
    ...(earlier?.experiment ? { experiment: earlier.experiment } : {}),
    ...settings,
    createdAt: earlier?.createdAt ?? new Date().toISOString(),
  };
  const found: Mismatch[] = [];
  if (!runConfigRule(config, '', found)) throw mismatchError(file, found[0], 'the run description given to train() has a field of the wrong type (a bug in its caller)');
  writeFileAtomic(file, JSON.stringify(config, null, 2) + '\n');
  return config;
}
