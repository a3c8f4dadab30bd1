// A fine-tuning run as the extension starts it: a JSON run config (validated here, with messages a
// user can act on) -> prepared data -> trainer, reporting through callbacks. The training worker
// (src/engine/trainerWorker.ts) turns the callbacks into protocol messages.

import { join, resolve } from 'node:path';
import { HfModel, loadHfModel } from '../checkpoint/hfModel';
import { qaItems } from '../experiment/evalSets';
import { modelIdentity } from '../checkpoint/modelIdentity';
import { causalLMFromHf } from '../models/hfCausalLM';
import { loadTokenizer } from '../tokenizer';
import { prepareDataset } from '../data/prepareDataset';
import { prepareCorpus } from '../data/prepareCorpus';
import { PreparedDataset } from '../data/preparedDataset';
import { corpusSource } from '../data/corpusSource';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { readHfConfig } from '../checkpoint/hfConfig';
import { readRunConfig } from '../runs/runConfig';
import { CausalLM } from '../models/causalLM';
import { Tokenizer } from '../tokenizer';
import { AvailableMemory, availableMemory } from '../memory/availableMemory';
import { MemoryCheck, checkTrainingMemory } from '../memory/memoryCheck';
import { MemoryEstimate, MemoryEstimateInput, estimateTrainingMemory } from '../memory/memoryEstimate';
import { readGeneralEval, requireBuiltinModel } from '../builtin';
import { Decoder } from '../generate/generator';
import { CompletionItem, completionAccuracy } from '../eval/completionAccuracy';
import { LayerLrMultipliers, StrategyKind, layerwiseSettings, strategyHooks } from './strategies';
import { LORA_DEFAULT_TARGETS, LoraConfig } from './lora';
import { EvalMetrics, RunExistsError, StepMetrics, TRAINING_DEFAULTS, TrainResult, TrainingArguments, sequenceLength, train, writeFileAtomic } from './trainer';

/** The "safe" preset: lr 1e-4, 3 epochs, batch 16, dropout 0.1, weight decay 0.01. */
export const SAFE_PRESET = { learningRate: 1e-4, numTrainEpochs: 3, perDeviceTrainBatchSize: 16, dropout: 0.1, weightDecay: 0.01 } as const;
/** Held-out exact-match accuracy of one task, before and after fine-tuning (measured, greedy). */
export interface AccuracyReport {
  task: 'qa' | 'general';
  before: number;
  after: number;
  count: number;
}

export interface FineTuneCallbacks {
  onAccuracy?: (r: AccuracyReport) => void;
  onStart?: (info: { startStep: number; totalSteps: number }) => void;
  onStep?: (m: StepMetrics) => void;
  onEval?: (m: EvalMetrics) => void;
  onLog?: (line: string) => void;
  /** The memory estimate against what is available, before anything of the run is allocated. */
  onMemory?: (m: MemoryCheck) => void;
  signal?: AbortSignal;
}

/** Everything one fine-tuning run needs; `ftlab train` and the training worker both build one. */
export interface FineTuneJob {
  runDir: string;
  dataFile: string;
  /** A Hugging Face model folder, or 'builtin'. */
  baseModel: string;
  strategy: StrategyKind;
  layerLrDecay?: number;
  layerLrMultipliers?: LayerLrMultipliers;
  lora?: Partial<LoraConfig>;
  args: TrainingArguments;
  /** Share of the data file held out for validation (0: the whole file trains). */
  validationSplit: number;
  /** Train on this prepared data folder instead of preparing dataFile (an experiment's shared data). */
  preparedDir?: string;
  /** General text mixed into every batch: a file or a folder of .txt files, and its share of the rows. */
  replay?: { source: string; ratio: number };
  maxLength?: number;
  trainOnPrompt?: boolean;
  resume?: boolean;
  overwrite?: boolean;
  /** Extra fields for the run's config.json. */
  describe?: Record<string, unknown>;
  /**
   * Measure greedy exact-match accuracy before and after: Q&A on the validation examples (needs
   * validationSplit > 0), general knowledge on the built-in general prompts (built-in base model only).
   * Written to <runDir>/eval.json.
   */
  measureAccuracy?: boolean;
  /**
   * The run is refused (MemoryEstimateError) when its estimated peak exceeds the memory available:
   * `available` replaces what the system reports; `ignoreEstimate` runs it anyway.
   */
  memory?: { available?: AvailableMemory; ignoreEstimate?: boolean };
}

/** What estimateFineTuneMemory needs of a job: the model, the data and the training settings. */
export type FineTuneEstimateJob = Pick<FineTuneJob, 'dataFile' | 'baseModel' | 'strategy' | 'layerLrDecay' | 'layerLrMultipliers' | 'lora' | 'args' | 'validationSplit' | 'maxLength' | 'trainOnPrompt'>;

function loraOf(job: Pick<FineTuneJob, 'strategy' | 'lora'>, model: CausalLM): LoraConfig | undefined {
  return job.strategy === 'lora'
    ? { rank: job.lora?.rank ?? 8, alpha: job.lora?.alpha ?? 16, targetModules: job.lora?.targetModules?.length ? job.lora.targetModules : LORA_DEFAULT_TARGETS[model.family] }
    : undefined;
}

/** What the memory estimate of a run reads: the model, the strategy, the training settings and the data's sequence length. */
export function memoryInput(job: Pick<FineTuneJob, 'strategy' | 'layerLrDecay' | 'layerLrMultipliers' | 'lora' | 'args'>, model: CausalLM, data: PreparedDataset): MemoryEstimateInput {
  return {
    model, strategy: { kind: job.strategy, layerLrDecay: job.layerLrDecay, layerLrMultipliers: job.layerLrMultipliers }, lora: loraOf(job, model),
    args: job.args, seqLen: sequenceLength(data, model.maxPositions),
    validation: job.args.evalSteps > 0 && data.indices('validation').length > 0,
  };
}

/** The data file prepared as fineTune prepares it (into outDir). */
function prepareRunData(job: FineTuneEstimateJob, tokenizer: Tokenizer, model: CausalLM, outDir: string) {
  return prepareDataset({
    ...(job.validationSplit > 0 ? { source: job.dataFile, split: { validation: job.validationSplit, test: 0 }, seed: job.args.seed } : { source: { train: job.dataFile } }),
    tokenizer, outDir, maxLength: job.maxLength ?? model.maxPositions + 1, trainOn: job.trainOnPrompt ? 'all' : 'answer',
  });
}

/**
 * A run's memory estimate without running it (`ftlab estimate`): the model's config.json (no weights
 * are read) and the data prepared into a temporary folder for its sequence length.
 */
export async function estimateFineTuneMemory(job: FineTuneEstimateJob): Promise<{ estimate: MemoryEstimate; available: AvailableMemory | null }> {
  const modelDir = job.baseModel === 'builtin' ? requireBuiltinModel() : resolve(job.baseModel);
  const model = causalLMFromHf(await readHfConfig(modelDir));
  const tokenizer = await loadTokenizer(modelDir);
  const tmp = mkdtempSync(join(tmpdir(), 'ftlab-estimate-'));
  try {
    const prepared = await prepareRunData(job, tokenizer, model, join(tmp, 'data'));
    return { estimate: estimateTrainingMemory(memoryInput(job, model, PreparedDataset.open(prepared.dir))), available: availableMemory() };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** Gradient checkpointing as the run in `runDir` was started with (false when its config.json says nothing or cannot be read). */
function startedWithCheckpointing(runDir: string): boolean {
  try {
    return readRunConfig(runDir).training.gradientCheckpointing;
  } catch {
    return false; // train() reports a folder it cannot resume
  }
}

export async function fineTune(jobIn: FineTuneJob, cb: FineTuneCallbacks = {}): Promise<TrainResult> {
  let job = jobIn;
  // Refuse before preparing anything into the folder: an earlier run there stays as it was.
  if (!job.resume && !job.overwrite && existsSync(join(job.runDir, 'config.json'))) {
    throw new RunExistsError(`${job.runDir} already holds a run (config.json); choose another output folder, resume it (--resume), or overwrite it explicitly (--overwrite)`);
  }
  // A resumed run keeps gradient checkpointing without the flag given again: the results are the same
  // either way, and a run that fitted in memory only with it must still fit.
  if (job.resume && !job.args.gradientCheckpointing && startedWithCheckpointing(job.runDir)) job = { ...job, args: { ...job.args, gradientCheckpointing: true } };
  const builtin = job.baseModel === 'builtin';
  const modelDir = builtin ? requireBuiltinModel() : resolve(job.baseModel);
  // The memory check needs only config.json and the data: the weights are read after it.
  const model = causalLMFromHf(await readHfConfig(modelDir));
  const tokenizer = await loadTokenizer(modelDir);
  // An experiment prepares its data once; every variant trains on the same prepared folder. A new
  // run's data is prepared beside its folder first: a run refused for memory, or whose weights do
  // not load, leaves no folder.
  const staged = !job.preparedDir && !existsSync(job.runDir) ? `${job.runDir}.data-${process.pid}` : null;
  const dataDir = job.preparedDir ?? join(job.runDir, 'data');
  let hf: HfModel;
  try {
    const prepared = job.preparedDir ? { dir: job.preparedDir, manifest: PreparedDataset.open(job.preparedDir).manifest, reused: true } : await prepareRunData(job, tokenizer, model, staged ?? dataDir);
    const memory = checkTrainingMemory(memoryInput(job, model, PreparedDataset.open(prepared.dir)), job.memory?.available ?? availableMemory(), job.memory?.ignoreEstimate);
    cb.onMemory?.(memory);
    hf = await loadHfModel(modelDir, { onWarning: (w) => cb.onLog?.(`warning: ${w}`) });
    if (staged) {
      mkdirSync(job.runDir, { recursive: true });
      renameSync(staged, dataDir);
    }
    cb.onLog?.(`data: ${prepared.manifest.counts.train} training examples, ${prepared.manifest.counts.validation} for validation (${prepared.reused ? 'reused' : 'prepared'} ${dataDir})`);
  } finally {
    if (staged) rmSync(staged, { recursive: true, force: true });
  }
  const data = PreparedDataset.open(dataDir);
  let replay;
  if (job.replay && job.replay.ratio > 0) {
    mkdirSync(job.runDir, { recursive: true }); // a run on an experiment's prepared data has no folder yet
    const { file } = corpusSource(resolve(job.replay.source), join(job.runDir, 'replay.txt'));
    const packed = await prepareCorpus({ source: file, tokenizer, outDir: join(job.runDir, 'replay'), seqLength: sequenceLength(data, model.maxPositions) + 1 });
    replay = { data: PreparedDataset.open(packed.dir), ratio: job.replay.ratio };
  }
  const strategy = { kind: job.strategy, layerLrDecay: job.layerLrDecay, layerLrMultipliers: job.layerLrMultipliers };
  const hooks = strategyHooks(model, strategy);
  const lora = loraOf(job, model);
  const baseWeights = new Map([...hf.tensors].map(([n, t]) => [n, t.data]));
  // Before/after accuracy, measured by generation on held-out items (never estimated).
  const tasks: { task: 'qa' | 'general'; items: CompletionItem[] }[] = [];
  if (job.measureAccuracy) {
    if (data.indices('validation').length) tasks.push({ task: 'qa', items: await qaItems(data, 'validation', tokenizer) });
    if (builtin) tasks.push({ task: 'general', items: readGeneralEval().map((g) => ({ prompt: g.prompt, answer: g.answer })) });
  }
  const decoder = tasks.length ? new Decoder(model, baseWeights, { device: job.args.device }) : null;
  const before = new Map<string, number>();
  for (const t of tasks) before.set(t.task, (await completionAccuracy(decoder!, tokenizer, t.items)).accuracy);
  const res = await train({
    // The loaded weights are the run's to train in place: the decoder measured "before" already and is
    // given the trained weights after.
    model, weights: baseWeights, consumeWeights: true, data, args: job.args, runDir: job.runDir, replay, lora,
    isFrozen: hooks.isFrozen, lrScale: hooks.lrScale, resume: job.resume, overwrite: job.overwrite,
    describe: {
      ...job.describe, strategy: job.strategy, ...(job.strategy === 'layerwise-lr' ? layerwiseSettings(strategy) : {}),
      baseModel: { dir: modelDir, family: hf.family, builtin, ...(await modelIdentity(modelDir)) }, dataSource: job.dataFile,
    },
    onStart: cb.onStart, onStep: cb.onStep, onEval: cb.onEval, onLog: cb.onLog, signal: cb.signal,
  });
  if (decoder) {
    decoder.setWeights(res.weights);
    const reports: AccuracyReport[] = [];
    for (const t of tasks) {
      const r: AccuracyReport = { task: t.task, before: before.get(t.task)!, after: (await completionAccuracy(decoder, tokenizer, t.items)).accuracy, count: t.items.length };
      reports.push(r);
      cb.onAccuracy?.(r);
    }
    await decoder.release();
    writeFileAtomic(join(job.runDir, 'eval.json'), JSON.stringify({ measuredOn: 'held-out data, greedy decoding, exact match of the first line', accuracy: reports }, null, 2) + '\n');
  }
  return res;
}
