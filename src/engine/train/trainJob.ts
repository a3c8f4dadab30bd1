// What train() takes (the model, its weights, the data, the arguments, the run folder) and what it
// reports: metrics per step and per evaluation, and the result.

import { CausalLM } from '../models/causalLM';
import { PreparedDataset } from '../data/preparedDataset';
import { RunDescription } from '../runs/runConfig';
import { LoraConfig } from './lora';
import { TrainingArguments } from './trainingArguments';

export interface EvalMetrics {
  step: number;
  split: 'validation';
  loss: number;
  tokens: number;
  best: boolean;
}

export interface StepMetrics {
  step: number;
  epoch: number;
  /** Mean loss of the step's batch, computed before the step's update. */
  loss: number;
  learningRate: number;
  gradNorm: number;
  tokensPerSecond: number;
}

export interface TrainJob {
  model: CausalLM;
  /** Initial weights by HF name (every model parameter); also L2-SP's w0, so a resume passes the same pretrained weights. */
  weights: Map<string, Float32Array>;
  /**
   * The caller does not read `weights` after train() starts: the run may train those arrays in place
   * (one copy of the trained parameters less; not with L2-SP, whose anchors they are).
   */
  consumeWeights?: boolean;
  data: PreparedDataset;
  args: TrainingArguments;
  runDir: string;
  /** Parameters kept fixed (fed as inputs, never updated). */
  isFrozen?: (name: string) => boolean;
  /** Learning-rate multiplier per parameter (layer-wise learning rates). */
  lrScale?: (name: string) => number;
  /** Extra settings written to config.json (model source, data source, strategy...). */
  describe?: RunDescription & Record<string, unknown>;
  /** Called once the step is compiled, before the first step. */
  onStart?: (info: { startStep: number; totalSteps: number }) => void;
  onStep?: (m: StepMetrics) => void;
  onEval?: (m: EvalMetrics) => void;
  onLog?: (line: string) => void;
  signal?: AbortSignal;
  /** Replace a run already in runDir (default: refuse, so that no earlier run is lost). */
  overwrite?: boolean;
  /** Continue the run in runDir from its checkpoint (same arguments; maxSteps may grow). */
  resume?: boolean;
  /** LoRA: the model stays frozen; low-rank adapters on the target modules train. */
  lora?: LoraConfig;
  /** Mix general text into every batch (forgetting guard): a packed corpus whose sequences are sequenceLength(data) + 1 long, and the share of rows it takes. */
  replay?: { data: PreparedDataset; ratio: number };
}

export interface TrainResult {
  steps: number;
  finalLoss: number;
  device: string;
  /** The final weights, or the best ones by validation loss when early stopping ended the run. */
  weights: Map<string, Float32Array>;
  stopped: boolean;
  stoppedEarly: boolean;
  best: { step: number; loss: number } | null;
}
