// A fine-tuning run as the extension starts it: a JSON run config (validated here, with messages a
// user can act on) -> prepared data -> trainer, reporting through callbacks. The training worker
// (src/engine/trainerWorker.ts) turns the callbacks into protocol messages.

import { join, resolve } from 'node:path';
import { loadHfModel } from '../checkpoint/hfModel';
import { causalLMFromHf } from '../models/hfCausalLM';
import { loadTokenizer } from '../tokenizer';
import { prepareDataset } from '../data/prepareDataset';
import { prepareCorpus } from '../data/prepareCorpus';
import { PreparedDataset } from '../data/preparedDataset';
import { corpusSource } from '../data/corpusSource';
import { BUILTIN_CORPUS_DIR, BUILTIN_MODEL_DIR, requireBuiltinModel } from '../builtin';
import { STRATEGIES, StrategyKind, strategyHooks } from './strategies';
import { LORA_DEFAULT_TARGETS } from './lora';
import { EvalMetrics, StepMetrics, TRAINING_DEFAULTS, TrainResult, TrainingArguments, sequenceLength, train } from './trainer';

/** The "safe" preset: lr 1e-4, 3 epochs, batch 16, dropout 0.1, weight decay 0.01. */
export const SAFE_PRESET = { learningRate: 1e-4, numTrainEpochs: 3, perDeviceTrainBatchSize: 16, dropout: 0.1, weightDecay: 0.01 } as const;
export const PRESETS = { safe: SAFE_PRESET } as const;
export type PresetName = keyof typeof PRESETS;

export interface FineTuneRunConfig {
  runDir: string;
  dataFile: string;
  /** 'builtin' or a Hugging Face model folder. */
  baseModel: string;
  strategy: StrategyKind;
  layerLrDecay?: number;
  preset: PresetName;
  /** Share of each batch from the built-in general corpus (0: none). */
  replayRatio: number;
  /** Hold out this share of the data for validation loss and early stopping (0: none). */
  validationSplit: number;
  earlyStoppingPatience: number;
  maxSteps?: number;
  device: 'cpu' | 'cuda';
}

export class RunConfigError extends Error {
  override readonly name = 'RunConfigError';
}

function field<T>(o: Record<string, unknown>, k: string, check: (v: unknown) => v is T, what: string, dflt?: T): T {
  const v = o[k];
  if (v === undefined && dflt !== undefined) return dflt;
  if (!check(v)) throw new RunConfigError(`run config: "${k}" must be ${what}${v === undefined ? ' (it is missing)' : `, got ${JSON.stringify(v)}`}`);
  return v;
}
const isStr = (v: unknown): v is string => typeof v === 'string' && v.length > 0;
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isShare = (v: unknown): v is number => isNum(v) && v >= 0 && v < 1;

export function parseRunConfig(json: unknown): FineTuneRunConfig {
  if (typeof json !== 'object' || json === null) throw new RunConfigError('run config: expected an object');
  const o = json as Record<string, unknown>;
  const strategy = field(o, 'strategy', (v): v is StrategyKind => STRATEGIES.includes(v as StrategyKind), STRATEGIES.join(' | '), 'full');
  const preset = field(o, 'preset', (v): v is PresetName => typeof v === 'string' && v in PRESETS, Object.keys(PRESETS).join(' | '), 'safe');
  const device = field(o, 'device', (v): v is 'cpu' | 'cuda' => v === 'cpu' || v === 'cuda', 'cpu | cuda', 'cpu');
  const cfg: FineTuneRunConfig = {
    runDir: resolve(field(o, 'runDir', isStr, 'a folder path')),
    dataFile: resolve(field(o, 'dataFile', isStr, 'a data file path')),
    baseModel: field(o, 'baseModel', isStr, "'builtin' or a model folder", 'builtin'),
    strategy, preset, device,
    replayRatio: field(o, 'replayRatio', isShare, 'a number in [0, 1)', 0),
    validationSplit: field(o, 'validationSplit', isShare, 'a number in [0, 1)', 0),
    earlyStoppingPatience: field(o, 'earlyStoppingPatience', (v): v is number => Number.isInteger(v) && (v as number) >= 0, 'a whole number >= 0', 0),
  };
  if (o.layerLrDecay !== undefined) cfg.layerLrDecay = field(o, 'layerLrDecay', (v): v is number => isNum(v) && v > 0 && v <= 1, 'a number in (0, 1]');
  if (o.maxSteps !== undefined) cfg.maxSteps = field(o, 'maxSteps', (v): v is number => Number.isInteger(v) && (v as number) > 0, 'a whole number > 0');
  return cfg;
}

export interface FineTuneCallbacks {
  onStart?: (info: { startStep: number; totalSteps: number }) => void;
  onStep?: (m: StepMetrics) => void;
  onEval?: (m: EvalMetrics) => void;
  onLog?: (line: string) => void;
  signal?: AbortSignal;
}

export async function fineTuneRun(cfg: FineTuneRunConfig, cb: FineTuneCallbacks = {}): Promise<TrainResult> {
  const modelDir = cfg.baseModel === 'builtin' ? requireBuiltinModel() : resolve(cfg.baseModel);
  const hf = await loadHfModel(modelDir);
  const model = causalLMFromHf(hf.config);
  const tokenizer = await loadTokenizer(modelDir);
  const prepared = await prepareDataset({
    ...(cfg.validationSplit > 0 ? { source: cfg.dataFile, split: { validation: cfg.validationSplit, test: 0 } } : { source: { train: cfg.dataFile } }),
    tokenizer, outDir: join(cfg.runDir, 'data'), maxLength: model.maxPositions + 1,
  });
  const data = PreparedDataset.open(prepared.dir);
  let replay;
  if (cfg.replayRatio > 0) {
    const { file } = corpusSource(BUILTIN_CORPUS_DIR, join(cfg.runDir, 'replay.txt'));
    const packed = await prepareCorpus({ source: file, tokenizer, outDir: join(cfg.runDir, 'replay'), seqLength: sequenceLength(data, model.maxPositions) + 1 });
    replay = { data: PreparedDataset.open(packed.dir), ratio: cfg.replayRatio };
  }
  const args: TrainingArguments = {
    ...TRAINING_DEFAULTS, ...PRESETS[cfg.preset], shuffle: true, device: cfg.device, saveSteps: 100,
    evalSteps: cfg.validationSplit > 0 ? 10 : 0, earlyStoppingPatience: cfg.earlyStoppingPatience,
    ...(cfg.maxSteps ? { maxSteps: cfg.maxSteps } : {}),
  };
  const hooks = strategyHooks(model, { kind: cfg.strategy, layerLrDecay: cfg.layerLrDecay });
  return train({
    model, weights: new Map([...hf.tensors].map(([n, t]) => [n, t.data])), data, args, runDir: cfg.runDir, replay,
    ...(cfg.strategy === 'lora' ? { lora: { rank: 8, alpha: 16, targetModules: LORA_DEFAULT_TARGETS[model.family] } } : {}),
    isFrozen: hooks.isFrozen, lrScale: hooks.lrScale,
    describe: {
      command: 'vscode', strategy: cfg.strategy, preset: cfg.preset, ...(cfg.layerLrDecay ? { layerLrDecay: cfg.layerLrDecay } : {}),
      baseModel: { dir: cfg.baseModel === 'builtin' ? BUILTIN_MODEL_DIR : modelDir, family: hf.family, builtin: cfg.baseModel === 'builtin' },
      dataSource: cfg.dataFile,
    },
    onStart: cb.onStart, onStep: cb.onStep, onEval: cb.onEval, onLog: cb.onLog, signal: cb.signal,
  });
}
