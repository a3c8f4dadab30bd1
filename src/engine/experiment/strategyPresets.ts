// Each strategy's default settings in an experiment (`ftlab experiment`, `ftlab demo`, the extension).
// `ftlab train` keeps Hugging Face's TrainingArguments defaults instead.
//
// full, frozen-embeddings and layerwise-lr: the design's safe preset (lr 1e-4, 3 epochs, batch 16,
// dropout 0.1, weight decay 0.01) with two guards against forgetting, each measured on the demo
// (BENCHMARKS.md, "The demo experiment"):
// - replay: half of every batch is general text from the built-in corpus (SAFE_REPLAY_RATIO); the
//   steps double (each batch holds half as many task examples);
// - L2-SP (SAFE_L2SP_WEIGHT): a decoupled pull toward the pretrained weights, the "weight decay toward
//   the starting point" that Li et al. (2018) argue fits fine-tuning better than decay toward zero.
// On the built-in model full fine-tuning with replay alone lost 5.2 points of general knowledge at
// 71.6% task accuracy; with L2-SP 300 as well 2.1 points at 67.3%, with 1000 1.0 at 58.1%. The weight
// trades task accuracy for what the model keeps; `l2sp=0` / `replay=0` turn a guard off.
//
// LoRA trains far fewer parameters from a zero-initialised B, so its
// updates start tiny: at 1e-4 the built-in model's loss stayed flat (7.9-8.1 over 78 steps) while full
// fine-tuning went from 9 to 2.5. Its learning rate is LORA_LEARNING_RATE, chosen by measurement
// (BENCHMARKS.md, "LoRA learning rate").

import type { StrategyKind } from '../train/strategies';

/** Every setting a variant may override; the report shows each variant's effective values. */
export interface VariantSettings {
  learningRate: number;
  numTrainEpochs: number;
  /** > 0 overrides numTrainEpochs. */
  maxSteps: number;
  perDeviceTrainBatchSize: number;
  dropout: number;
  weightDecay: number;
  warmupSteps: number;
  /** Share of each batch taken from the built-in general corpus (0: none). */
  replayRatio: number;
  /** L2-SP: pull toward the pretrained weights (0: off). */
  l2spWeight: number;
  /** layerwise-lr: embeddings, blocks, head. */
  layerLrMultipliers: [number, number, number] | null;
  loraRank: number | null;
  loraAlpha: number | null;
}

/** The safe preset's share of general text in every batch (see the header). */
export const SAFE_REPLAY_RATIO = 0.5;
/** The safe preset's L2-SP weight (see the header); LoRA has none (its pretrained weights are frozen). */
export const SAFE_L2SP_WEIGHT = 500;

export const SAFE_SETTINGS: VariantSettings = {
  learningRate: 1e-4, numTrainEpochs: 3, maxSteps: -1, perDeviceTrainBatchSize: 16, dropout: 0.1, weightDecay: 0.01,
  warmupSteps: 0, replayRatio: SAFE_REPLAY_RATIO, l2spWeight: SAFE_L2SP_WEIGHT, layerLrMultipliers: null, loraRank: null, loraAlpha: null,
};

/** LoRA's learning rate in its default preset (measured; see the header). */
export const LORA_LEARNING_RATE = 2e-3;

export const STRATEGY_PRESETS: Record<StrategyKind, VariantSettings> = {
  full: SAFE_SETTINGS,
  'frozen-embeddings': SAFE_SETTINGS,
  'layerwise-lr': { ...SAFE_SETTINGS, layerLrMultipliers: [0.1, 0.5, 1.0] },
  lora: { ...SAFE_SETTINGS, learningRate: LORA_LEARNING_RATE, l2spWeight: 0, loraRank: 8, loraAlpha: 16 },
};

/** One line per strategy for help texts and pickers. */
export function presetSummary(kind: StrategyKind): string {
  const p = STRATEGY_PRESETS[kind];
  // The guards first: a picker's detail line is cut at its end.
  const guards = [p.replayRatio > 0 ? `replay ${+(p.replayRatio * 100).toFixed(1)}% general text` : '', p.l2spWeight > 0 ? `L2-SP ${p.l2spWeight}` : ''].filter(Boolean);
  const base = `${guards.length ? `${guards.join(', ')}; ` : ''}lr ${p.learningRate}, ${p.numTrainEpochs} epochs, batch ${p.perDeviceTrainBatchSize}, dropout ${p.dropout}, weight decay ${p.weightDecay}`;
  if (kind === 'lora') return `${base}, rank ${p.loraRank}, alpha ${p.loraAlpha} (LoRA needs a higher learning rate than the safe preset's 1e-4)`;
  if (kind === 'layerwise-lr') return `${base}, multipliers ${p.layerLrMultipliers!.join('/')} (embeddings/blocks/head)`;
  return base;
}

/** The preset of `kind` with the given overrides (unknown keys are rejected by the spec reader). */
export function effectiveSettings(kind: StrategyKind, overrides: Partial<VariantSettings> = {}): VariantSettings {
  const s: VariantSettings = { ...STRATEGY_PRESETS[kind], ...overrides };
  if (kind !== 'lora') { s.loraRank = null; s.loraAlpha = null; }
  if (kind !== 'layerwise-lr') s.layerLrMultipliers = null;
  return s;
}
