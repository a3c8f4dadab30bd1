// The contract between a model family and the rest of the engine (training step, generation,
// export): the parameter list by Hugging Face name, and a forward pass that builds logits. Each family's
// file (gpt2.ts, llama.ts) owns its config type, parameter list, forward and init, and makes its CausalLM.

import { Value } from '../graph/graph';
import { KvCacheStep, NnContext, ParamShape } from './nn';

export interface DropoutRates {
  embd: number;
  attn: number;
  resid: number;
}

export interface CausalLM {
  readonly family: 'gpt2' | 'llama';
  /** Every parameter, by its name in the Hugging Face checkpoint (e.g. `transformer.h.0.ln_1.weight`). */
  readonly params: ParamShape[];
  readonly vocabSize: number;
  readonly maxPositions: number;
  /** Names of parameters that are layer `l` (layer-wise learning rates, freezing); embeddings are -1, the head/final norm nLayers. */
  layerOf(name: string): number;
  readonly nLayers: number;
  /** Key/value heads and head width of each layer's attention (the shape of a generation cache). */
  readonly kvHeads: number;
  readonly headDim: number;
  /**
   * Logits [B, T, V] for ids [B, T] int64. `p(name)` returns a parameter's value by HF name.
   * `dropout` overrides the checkpoint's rates (used only when `c.dropoutKey` is set). With `cache`, ids are
   * the new tokens of a decoding step and the result is the logits of the positions `cache.select` keeps.
   */
  forward(c: NnContext, p: (name: string) => Value, ids: Value, dropout?: DropoutRates, cache?: KvCacheStep): Value;
}

/** The config.json fields every family has (checkpoint/hfConfig.ts parses them). */
export interface HfConfigCommon {
  modelType: string;
  vocabSize: number;
  /** lm_head shares the token embedding matrix (no `lm_head.weight` in the checkpoint). */
  tieWordEmbeddings: boolean;
  bosTokenId: number | null;
  /** Any of these ends generation (Llama 3 instruct configs list several). */
  eosTokenIds: number[];
  padTokenId: number | null;
  /** `torch_dtype` / `dtype` as saved ("float32", "bfloat16", ...), or null. */
  torchDtype: string | null;
  /** The parsed JSON as read, to write back on export. */
  raw: Record<string, unknown>;
}
