// Fine-tuning strategies as the trainer's two hooks: which parameters are frozen (fed as inputs,
// never updated) and each trained parameter's learning-rate multiplier. LoRA freezes the whole
// model and adds adapters: the trainer's `lora` option (train/lora.ts) does that part.

import { CausalLM } from '../models/causalLM';

export type StrategyKind = 'full' | 'frozen-embeddings' | 'layerwise-lr' | 'lora';
export const STRATEGIES: readonly StrategyKind[] = ['full', 'frozen-embeddings', 'layerwise-lr', 'lora'];

/** layerwise-lr groups: [token+position embeddings, transformer blocks, final norm + output head]. */
export type LayerLrMultipliers = readonly [embeddings: number, blocks: number, head: number];
export const DEFAULT_LAYER_LR_MULTIPLIERS: LayerLrMultipliers = [0.1, 0.5, 1.0];

export interface Strategy {
  kind: StrategyKind;
  /** layerwise-lr: learning-rate multipliers of the three groups (default DEFAULT_LAYER_LR_MULTIPLIERS). */
  layerLrMultipliers?: LayerLrMultipliers;
  /** layerwise-lr, instead of the three groups: each layer below the top gets this factor once more (ULMFiT / ELECTRA style). */
  layerLrDecay?: number;
}

export interface StrategyHooks {
  isFrozen: (name: string) => boolean;
  lrScale: (name: string) => number;
}

/**
 * A tied input/output embedding (GPT-2's `wte`, Llama's `embed_tokens` with tie_word_embeddings) is
 * one tensor, so it can take only one multiplier: it takes the embeddings'. It is the input
 * embedding first (every token's representation starts there, the head only reads it back), and
 * moving it least is what protects the general knowledge the strategy exists to keep; giving it the
 * head's 1x would make the embedding group's small rate a fiction on tied models.
 */
export const TIED_EMBEDDING_LR_RULE = 'a tied embedding/head tensor (GPT-2 wte, Llama embed_tokens with tie_word_embeddings) is one parameter and trains at the embeddings\' multiplier';

/** The layerwise-lr settings a strategy resolves to (defaults filled in), checked; for run records. */
export function layerwiseSettings(s: Strategy): { layerLrDecay: number } | { layerLrMultipliers: LayerLrMultipliers } {
  if (s.layerLrDecay !== undefined && s.layerLrMultipliers !== undefined) {
    throw new RangeError('give either layer learning-rate multipliers or a layer learning-rate decay, not both');
  }
  if (s.layerLrDecay !== undefined) {
    const decay = s.layerLrDecay;
    if (!(decay > 0 && decay <= 1)) throw new RangeError(`layer learning-rate decay must be in (0, 1], got ${decay}`);
    return { layerLrDecay: decay };
  }
  const m = s.layerLrMultipliers ?? DEFAULT_LAYER_LR_MULTIPLIERS;
  if (m.length !== 3 || !m.every((x) => Number.isFinite(x) && x > 0)) {
    throw new RangeError(`layer learning-rate multipliers must be three finite numbers > 0 (embeddings, blocks, head), got ${m.join(', ')}`);
  }
  return { layerLrMultipliers: m };
}

/** One line for help texts and pickers: the groups, their multipliers and where a tied tensor goes. */
export function layerwiseGroupsDescription(s: Strategy = { kind: 'layerwise-lr' }): string {
  const r = layerwiseSettings(s);
  const groups = 'layerLrDecay' in r
    ? `final norm and head 1x, block l ${r.layerLrDecay}^(L-l), embeddings ${r.layerLrDecay}^(L+1)`
    : `embeddings ${r.layerLrMultipliers[0]}x, blocks ${r.layerLrMultipliers[1]}x, final norm and head ${r.layerLrMultipliers[2]}x`;
  return `${groups}; ${TIED_EMBEDDING_LR_RULE}`;
}

/**
 * full: every parameter trains at the scheduled rate.
 * frozen-embeddings: token and position embeddings stay as they are (feature extraction below the
 *   blocks; with a tied head, the output projection stays too).
 * layerwise-lr: three groups, embeddings / blocks / final norm + head, at layerLrMultipliers (0.1, 0.5, 1
 *   by default); or, with layerLrDecay, head 1, block l decay^(L - l), embeddings decay^(L + 1). Either
 *   way lower layers, which hold general features, move least. layerOf gives embeddings -1 and the
 *   head L, and a tied head is named as the embedding, hence TIED_EMBEDDING_LR_RULE.
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
      const r = layerwiseSettings(s);
      if ('layerLrDecay' in r) return { isFrozen: () => false, lrScale: (n) => r.layerLrDecay ** (L - model.layerOf(n)) };
      const [embeddings, blocks, head] = r.layerLrMultipliers;
      return {
        isFrozen: () => false,
        lrScale: (n) => {
          const l = model.layerOf(n);
          return l < 0 ? embeddings : l < L ? blocks : head;
        },
      };
    }
  }
}
