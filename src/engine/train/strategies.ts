// Fine-tuning strategies as the trainer's two hooks: which parameters are frozen (fed as inputs,
// never updated) and each trained parameter's learning-rate multiplier. LoRA freezes the whole
// model and adds adapters: the trainer's `lora` option (train/lora.ts) does that part.

import { CausalLM } from '../models/causalLM';

export type StrategyKind = 'full' | 'frozen-embeddings' | 'layerwise-lr' | 'lora';
export const STRATEGIES: readonly StrategyKind[] = ['full', 'frozen-embeddings', 'layerwise-lr', 'lora'];

export interface Strategy {
  kind: StrategyKind;
  /** layerwise-lr: each layer below the top gets this factor once more (ULMFiT / ELECTRA style). */
  layerLrDecay?: number;
}

export interface StrategyHooks {
  isFrozen: (name: string) => boolean;
  lrScale: (name: string) => number;
}

/**
 * full: every parameter trains at the scheduled rate.
 * frozen-embeddings: token and position embeddings stay as they are (feature extraction below the
 *   blocks; with a tied head, the output projection stays too).
 * layerwise-lr: the final norm / head train at the full rate, block l at decay^(L - l), the
 *   embeddings at decay^(L + 1): lower layers, which hold general features, move least.
 */
export function strategyHooks(model: CausalLM, s: Strategy): StrategyHooks {
  const L = model.nLayers;
  switch (s.kind) {
    case 'full':
      return { isFrozen: () => false, lrScale: () => 1 };
    case 'lora':
      return { isFrozen: () => true, lrScale: () => 1 };
    case 'frozen-embeddings':
      return { isFrozen: (n) => model.layerOf(n) === -1, lrScale: () => 1 };
    case 'layerwise-lr': {
      const decay = s.layerLrDecay ?? 0.8;
      if (!(decay > 0 && decay <= 1)) throw new RangeError(`layer learning-rate decay must be in (0, 1], got ${decay}`);
      return { isFrozen: () => false, lrScale: (n) => decay ** (L - model.layerOf(n)) };
    }
  }
}
