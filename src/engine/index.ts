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
export { BUILTIN_CORPUS_DIR, BUILTIN_MODEL_DIR, DEMO_QA_FILE, DEMO_QA_TEST_FILE, DEMO_PROSE_EVAL_FILE, readDemoQa, readGeneralEval, requireBuiltinModel } from './builtin';
export { loadTokenizer, TokenizerError } from './tokenizer';

// Data
export { DataError, DataValidationError, type DataErrorCode } from './data/dataError';
export { FIX_OPTIONS, NO_OPTION_WORDS, wordFix, type FixOption, type OptionWords } from './optionWords';
export { DEFAULT_MAX_LENGTH, prepareDataset, type PrepareOptions, type PrepareProgress } from './data/prepareDataset';
export { prepareCorpus } from './data/prepareCorpus';
export { corpusSource, repackedCorpus } from './data/corpusSource';
export { PreparedDataset, type DatasetManifest, type LengthStats } from './data/preparedDataset';
export { DEFAULT_PROMPT_TEMPLATE } from './data/promptTemplate';
export { DATA_FORMATS, type DataFormat } from './data/recordReader';

// Training, generation, evaluation, export
export { TrainingError } from './train/trainingError';
export { OutOfMemoryError, RunExistsError, TRAINING_DEFAULTS, sequenceLength, train, writeFileAtomic, type TrainingArguments } from './train/trainer';
export { SCHEDULER_TYPES, type SchedulerType } from './optim/schedule';
export { CudaUnavailableError, DEVICE_REQUESTS, cudaGaps, resolveDevice, wordGap, type CudaGap, type Device, type DeviceChoice, type DeviceRequest, type DeviceWords } from './runtime/device';
export { probeCuda, type CudaProbe } from './runtime/cuda';
export { SetupCudaError, setupCuda, type SetupCudaOptions, type SetupCudaResult } from './runtime/setupCuda';
export { PROVIDER_BUILDS, PROVIDER_FILES, checkPairing, type Pairing, type ProviderBuild } from './runtime/cudaProvider';
export { MACHINE_REPORT_FORMAT, MACHINE_REPORT_VERSION, machineReport, type MachineReport } from './runtime/machineReport';
export { STRATEGIES, strategyHooks, type StrategyKind, type LayerLrMultipliers, DEFAULT_LAYER_LR_MULTIPLIERS, TIED_EMBEDDING_LR_RULE, layerwiseGroupsDescription } from './train/strategies';
export { SAFE_PRESET, estimateFineTuneMemory, fineTune, type FineTuneEstimateJob, type FineTuneJob } from './train/fineTuneRun';
export { estimateTrainingMemory, type MemoryEstimate, type MemoryEstimateInput, type MemoryParts } from './memory/memoryEstimate';
export { MemoryEstimateError, checkTrainingMemory, describeEstimate, formatBytes, type MemoryCheck, type MemorySuggestion } from './memory/memoryCheck';
export { availableMemory, type AvailableMemory } from './memory/availableMemory';
export { loadTrainedRun, saveRunAsHf, type TrainedRun } from './train/runFiles';

// Run folders: config.json, status.json, metrics.jsonl (one schema, checked readers)
export { RUN_FILES, RunFolderError, type RunFolderProblem } from './runs/runFolder';
export { RUN_CONFIG_VERSION, RUN_FORMAT, readRunConfig, type BaseModelRef, type ExperimentLink, type RunConfig, type RunDescription } from './runs/runConfig';
export { RUN_STATES, describeFailure, readRunStatus, recordProcessEnd, writeRunStatus, type RunFailure, type RunState, type RunStatus, type RunStatusReport } from './runs/runStatus';
export { readEvalMetrics, readMetrics, truncateMetricsAfter } from './runs/metricsLog';
export { clearStopRequest, isStopRequested, readStopRequest, requestStop, type StopRequest } from './runs/stopRequest';
export { labelProblem, readRunLabel, writeRunLabel } from './runs/runLabel';
export type { EvalMetrics, StepMetrics } from './train/trainer';
export { LORA_DEFAULT_TARGETS, loraTargets, mergeLora, peftAdapterConfig, peftKey, type LoraConfig } from './train/lora';
export { writeSafetensors } from './checkpoint/safetensors';
export { Decoder, generate } from './generate/generator';
export { completionAccuracy, SAMPLING_DEFAULTS, type AccuracyResult, type AccuracyOptions, type CompletionItem, type ScoredItem, type Decoding } from './eval/completionAccuracy';
export { exactMatch, normalizeAnswer } from './eval/exactMatch';
export { proportion, wilsonInterval, Z_95, type Proportion } from './eval/proportion';
export { flips, type Flips } from './eval/flips';
export { textMetrics, type TextMetrics, type TextMetricsOptions } from './eval/textMetrics';
export { exportOnnx } from './export/onnxExport';
export { uniformRng } from './random';

// Experiments: several strategies on one model and data set, measured before and after
export { STRATEGY_PRESETS, LORA_LEARNING_RATE, SAFE_REPLAY_RATIO, SAFE_SETTINGS, effectiveSettings, presetSummary, type VariantSettings } from './experiment/strategyPresets';
export { EXPERIMENT_FILE, ExperimentError, readExperiment, type ExperimentSpec, type VariantSpec, type EvalDecoding } from './experiment/experimentFile';
export { BASELINE_FILE, buildReport, compareRunsReport, readBaseline } from './experiment/experimentReport';
export {
  GENERAL_PROMPTS_FILE, GENERAL_TEXT_FILE, REPORT_HTML, REPORT_JSON, createExperiment, runExperiment, runVariantInProcess, writeReport,
  type ExperimentCallbacks, type NewExperiment, type VariantLauncher,
} from './experiment/runExperiment';
export { OUTCOME_FILE, readOutcome, type VariantOutcome } from './experiment/runVariant';
export type { ExperimentMachine } from './experiment/experimentContext';
export { estimateExperimentMemory, type ExperimentMemory, type VariantMemory } from './experiment/experimentMemory';
export { forgetting, parseReport, parseReportText, ReportError, type ExperimentReport, type VariantReport, type BeforeAfter } from './experiment/report';
export { renderReportHtml } from './experiment/reportHtml';
export { formatReportTable, formatProportion } from './experiment/reportTable';
