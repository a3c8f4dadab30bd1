// GPT-2 family (HF GPT2LMHeadModel): learned positions, pre-LN blocks, Conv1D weights [in, out],
// c_attn columns [q | k | v], tied LM head. This file owns the family: its config (as config.json gives
// it, HfGpt2Config, and as the forward takes it, Gpt2Config), its parameter list with shapes, its forward
// and its init. gpt2Forward takes GPT2Model state_dict keys; the CausalLM (gpt2CausalLM) names parameters
// as GPT2LMHeadModel does (`transformer.` prefix). With a KvCacheStep the same blocks run one decoding step
// against a key/value cache (src/engine/generate/).

import { Value } from '../graph/graph';
import { CausalLM, DropoutRates, HfConfigCommon } from './causalLM';
import { initParams, layerOfName } from './init';
import { KvCacheStep, NnContext, ParamShape, block, causalAttention, dropout, gelu, layerNorm, linear, silu } from './nn';

/** tanh approximation of GELU (gelu_new, gelu_fast, gelu_pytorch_tanh), erf GELU, or others. */
export type Gpt2Activation = 'gelu_tanh' | 'gelu' | 'relu' | 'silu' | 'quick_gelu';

/** A GPT-2 config.json, parsed (checkpoint/hfConfig.ts). */
export interface HfGpt2Config extends HfConfigCommon {
  family: 'gpt2';
  nEmbd: number;
  nLayer: number;
  nHead: number;
  /** Rows of the position embedding: the longest sequence. */
  nPositions: number;
  /** MLP width (`n_inner`, default 4 * n_embd). */
  nInner: number;
  activation: Gpt2Activation;
  /** The name in config.json, e.g. "gelu_new". */
  activationFunction: string;
  layerNormEpsilon: number;
  residPdrop: number;
  embdPdrop: number;
  attnPdrop: number;
}

/** The forward pass's settings (gpt2ConfigFromHf makes them from a config.json). */
export interface Gpt2Config {
  vocabSize: number;
  nPositions: number;
  nEmbd: number;
  nLayer: number;
  nHead: number;
  layerNormEps: number;
  /** HF activation_function: gelu_new / gelu_pytorch_tanh (tanh), gelu (exact, 'none'), relu, silu, quick_gelu. */
  activation: 'tanh' | 'none' | 'relu' | 'silu' | 'quick_gelu';
  /** MLP width (HF n_inner); default 4 * nEmbd. */
  nInner?: number;
  /** LM head tied to wte (default true); false adds an `lm_head.weight` [V, C] parameter. */
  tiedHead?: boolean;
  embdDropout: number;
  attnDropout: number;
  residDropout: number;
}

export function gpt2Params(cfg: Gpt2Config): ParamShape[] {
  const C = cfg.nEmbd, I = cfg.nInner ?? 4 * C;
  const ps: ParamShape[] = [
    { name: 'wte.weight', shape: [cfg.vocabSize, C] },
    { name: 'wpe.weight', shape: [cfg.nPositions, C] },
  ];
  for (let l = 0; l < cfg.nLayer; l++) {
    const h = `h.${l}`;
    ps.push(
      { name: `${h}.ln_1.weight`, shape: [C] }, { name: `${h}.ln_1.bias`, shape: [C] },
      { name: `${h}.attn.c_attn.weight`, shape: [C, 3 * C] }, { name: `${h}.attn.c_attn.bias`, shape: [3 * C] },
      { name: `${h}.attn.c_proj.weight`, shape: [C, C] }, { name: `${h}.attn.c_proj.bias`, shape: [C] },
      { name: `${h}.ln_2.weight`, shape: [C] }, { name: `${h}.ln_2.bias`, shape: [C] },
      { name: `${h}.mlp.c_fc.weight`, shape: [C, I] }, { name: `${h}.mlp.c_fc.bias`, shape: [I] },
      { name: `${h}.mlp.c_proj.weight`, shape: [I, C] }, { name: `${h}.mlp.c_proj.bias`, shape: [C] },
    );
  }
  ps.push({ name: 'ln_f.weight', shape: [C] }, { name: 'ln_f.bias', shape: [C] });
  if (cfg.tiedHead === false) ps.push({ name: 'lm_head.weight', shape: [cfg.vocabSize, C] });
  return ps;
}

function mlpActivation(c: NnContext, x: Value, kind: Gpt2Config['activation']): Value {
  const { b } = c;
  switch (kind) {
    case 'tanh': case 'none': return gelu(c, x, kind);
    case 'relu': return b.relu(x);
    case 'silu': return silu(c, x);
    case 'quick_gelu': return b.mul(x, b.sigmoid(b.mul(x, b.scalar(1.702, x.dtype))));
  }
}

/**
 * Logits [B, T, V] for token ids [B, T] (int64). `p(name)` gives each parameter's value.
 * With `cache`, ids are the new tokens of a decoding step and the logits those `cache.select` keeps.
 */
export function gpt2Forward(c: NnContext, cfg: Gpt2Config, p: (name: string) => Value, ids: Value, cache?: KvCacheStep): Value {
  const { b } = c;
  const [B, T] = ids.shape;
  const C = cfg.nEmbd, H = cfg.nHead, hd = C / H;
  if (!cache && T > cfg.nPositions) throw new Error(`sequence length ${T} exceeds the model's n_positions ${cfg.nPositions}`);
  const pos = cache ? b.gather(p('wpe.weight'), cache.positions) : b.slice(p('wpe.weight'), 0, 0, T); // [B, T, C] | [T, C]
  let x = dropout(c, b.add(b.gather(p('wte.weight'), ids), pos), cfg.embdDropout); // [B, T, C]
  for (let l = 0; l < cfg.nLayer; l++) {
    x = b.scope(`h.${l}`, () => block(c, x, (x) => {
      const w = (n: string) => p(`h.${l}.${n}`);
      const heads = (t: Value) => b.transpose(b.reshape(t, [B, T, H, hd]), [0, 2, 1, 3]); // [B, H, T, hd]
      const a = layerNorm(c, x, w('ln_1.weight'), w('ln_1.bias'), cfg.layerNormEps);
      const [q, k, v] = b.split(linear(c, a, w('attn.c_attn.weight'), w('attn.c_attn.bias')), -1, [C, C, C]);
      const att = cache ? cache.attend(c, l, heads(q), heads(k), heads(v)) : causalAttention(c, heads(q), heads(k), heads(v), cfg.attnDropout); // [B, T, C]
      const x1 = b.add(x, dropout(c, linear(c, att, w('attn.c_proj.weight'), w('attn.c_proj.bias')), cfg.residDropout));
      const m = layerNorm(c, x1, w('ln_2.weight'), w('ln_2.bias'), cfg.layerNormEps);
      const hidden = mlpActivation(c, linear(c, m, w('mlp.c_fc.weight'), w('mlp.c_fc.bias')), cfg.activation); // [B, T, 4C]
      return b.add(x1, dropout(c, linear(c, hidden, w('mlp.c_proj.weight'), w('mlp.c_proj.bias')), cfg.residDropout));
    }));
  }
  if (cache) x = cache.select(x); // [B, T', C]
  x = layerNorm(c, x, p('ln_f.weight'), p('ln_f.bias'), cfg.layerNormEps);
  // Head (tied: wte): logits = x @ W^T as one GEMM over all positions.
  const [Bo, To] = x.shape;
  const logits = b.gemm(b.reshape(x, [Bo * To, C]), p(cfg.tiedHead === false ? 'lm_head.weight' : 'wte.weight'), null, { transB: true });
  return b.reshape(logits, [Bo, To, cfg.vocabSize]);
}

/** GPT-2 / nanoGPT init: N(0, 0.02), residual projections N(0, 0.02/sqrt(2L)), LN 1/0, biases 0. */
export function gpt2Init(cfg: Gpt2Config, seed: number): Map<string, Float32Array> {
  return initParams(gpt2Params(cfg), cfg.nLayer, seed);
}

const ACTIVATION_FROM_HF: Record<Gpt2Activation, Gpt2Config['activation']> = {
  gelu_tanh: 'tanh', gelu: 'none', relu: 'relu', silu: 'silu', quick_gelu: 'quick_gelu',
};

/** The forward's settings from a parsed config.json. */
export function gpt2ConfigFromHf(h: HfGpt2Config): Gpt2Config {
  return {
    vocabSize: h.vocabSize, nPositions: h.nPositions, nEmbd: h.nEmbd, nLayer: h.nLayer, nHead: h.nHead,
    layerNormEps: h.layerNormEpsilon, activation: ACTIVATION_FROM_HF[h.activation], nInner: h.nInner,
    tiedHead: h.tieWordEmbeddings, embdDropout: h.embdPdrop, attnDropout: h.attnPdrop, residDropout: h.residPdrop,
  };
}

/** GPT2Model key -> GPT2LMHeadModel key (the checkpoint's): `transformer.` before all but lm_head. */
const hfName = (n: string) => (n === 'lm_head.weight' ? n : `transformer.${n}`);

/**
 * Every parameter of GPT2LMHeadModel, in named_parameters() order, with its shape. Linear layers are
 * Conv1D: weight [in, out], y = x @ W + b. A tied lm_head is not listed (it is the token embedding).
 */
export function gpt2HfParams(h: HfGpt2Config): ParamShape[] {
  return gpt2Params(gpt2ConfigFromHf(h)).map((p) => ({ name: hfName(p.name), shape: p.shape }));
}

/** The engine's model for a GPT-2 checkpoint, its parameters named as in the checkpoint. */
export function gpt2CausalLM(h: HfGpt2Config): CausalLM {
  const cfg = gpt2ConfigFromHf(h);
  return {
    family: 'gpt2',
    params: gpt2HfParams(h),
    vocabSize: h.vocabSize,
    maxPositions: h.nPositions,
    nLayers: h.nLayer,
    kvHeads: h.nHead,
    headDim: h.nEmbd / h.nHead,
    layerOf: (name) => layerOfName(name, /^transformer\.h\.(\d+)\./, /^transformer\.(wte|wpe)\./, h.nLayer),
    forward(c, p, ids, dropout?: DropoutRates, cache?) {
      const run = dropout ? { ...cfg, embdDropout: dropout.embd, attnDropout: dropout.attn, residDropout: dropout.resid } : cfg;
      return gpt2Forward(c, run, (n) => p(hfName(n)), ids, cache);
    },
  };
}
