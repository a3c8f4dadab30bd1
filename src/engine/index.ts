// The engine's one public entry: what the CLI and the extension may use. Everything else under
// src/engine is internal (scripts/lint.mjs rejects deep imports from src/cli and src/extension).

// Models and checkpoints (Hugging Face layout)
export { loadHfModel, saveHfModel } from './checkpoint/hfModel';
export { readHfConfig } from './checkpoint/hfConfig';
export { readSafetensors } from './checkpoint/safetensors';
export { CheckpointError } from './checkpoint/checkpointError';
export {
  checkRepoId, describeCachedModels, hfAccessToken, hfHubCacheDir, listCachedModels, pullModel, type PullProgress,
} from './checkpoint/hub';
export { causalLMFromHf } from './models/hfCausalLM';
export { initWeights } from './models/init';
export { BUILTIN_CORPUS_DIR, BUILTIN_MODEL_DIR, readDemoQa, readGeneralEval, requireBuiltinModel } from './builtin';
export { loadTokenizer, TokenizerError } from './tokenizer';

// Data
export { DataError, DataValidationError } from './data/dataError';
export { DEFAULT_MAX_LENGTH, prepareDataset, type PrepareOptions, type PrepareProgress } from './data/prepareDataset';
export { prepareCorpus } from './data/prepareCorpus';
export { corpusSource } from './data/corpusSource';
export { PreparedDataset, type DatasetManifest, type LengthStats } from './data/preparedDataset';
export { DEFAULT_PROMPT_TEMPLATE } from './data/promptTemplate';
export { DATA_FORMATS, type DataFormat } from './data/recordReader';

// Training, generation, evaluation, export
export { OutOfMemoryError, RunExistsError, TRAINING_DEFAULTS, sequenceLength, train, writeFileAtomic, type TrainingArguments } from './train/trainer';
export { SCHEDULER_TYPES, type SchedulerType } from './optim/schedule';
export { STRATEGIES, strategyHooks, type StrategyKind, type LayerLrMultipliers, DEFAULT_LAYER_LR_MULTIPLIERS, TIED_EMBEDDING_LR_RULE, layerwiseGroupsDescription } from './train/strategies';
export { SAFE_PRESET, fineTune, type FineTuneJob } from './train/fineTuneRun';
export { loadTrainedRun, saveRunAsHf, type TrainedRun } from './train/runFiles';

// Run folders: config.json, status.json, metrics.jsonl (one schema, checked readers)
export { RUN_FILES, RunFolderError, type RunFolderProblem } from './runs/runFolder';
export { RUN_CONFIG_VERSION, RUN_FORMAT, readRunConfig, type BaseModelRef, type ExperimentLink, type RunConfig, type RunDescription } from './runs/runConfig';
export { RUN_STATES, readRunStatus, writeRunStatus, type RunState, type RunStatus, type RunStatusReport } from './runs/runStatus';
export { readEvalMetrics, readMetrics, truncateMetricsAfter } from './runs/metricsLog';
export type { EvalMetrics, StepMetrics } from './train/trainer';
export { LORA_DEFAULT_TARGETS, loraTargets, mergeLora, peftAdapterConfig, peftKey, type LoraConfig } from './train/lora';
export { writeSafetensors } from './checkpoint/safetensors';
export { Decoder, generate } from './generate/generator';
export { completionAccuracy, type AccuracyResult, type CompletionItem } from './eval/completionAccuracy';
export { exportOnnx } from './export/onnxExport';
export { uniformRng } from './random';
