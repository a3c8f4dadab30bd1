// Llama family (HF LlamaForCausalLM; MistralForCausalLM and Qwen2ForCausalLM are the same computation
// with other bias settings): token embedding, pre-norm blocks
//   x += o_proj(attention(rope(q_proj(rms(x))), rope(k_proj(rms(x))), v_proj(rms(x))))
//   x += down_proj(silu(gate_proj(rms(x))) * up_proj(rms(x)))
// final RMSNorm, LM head tied to the embedding or not. Linear weights are nn.Linear's [out, in].
// Grouped-query attention: query head h reads kv head h / (H / Hkv). Rotary embeddings in HF's
// rotate-half layout. Parameter names are the full HF state_dict keys (`model.layers.0.mlp.up_proj.weight`).
// With a KvCacheStep the same blocks run one decoding step against a key/value cache.
// This file owns the family: its config (as config.json gives it), parameter list with shapes, rotary
// tables, forward, init and CausalLM.

import { Value } from '../graph/graph';
import { CausalLM, DropoutRates, HfConfigCommon } from './causalLM';
import { initParams, layerOfName } from './init';
import { KvCacheStep, NnContext, ParamShape, block, causalAttention, linearOutIn, rmsNorm, silu } from './nn';

export type RopeScaling =
  | { kind: 'linear'; factor: number }
  | { kind: 'llama3'; factor: number; lowFreqFactor: number; highFreqFactor: number; originalMaxPositionEmbeddings: number };

/** A Llama / Mistral / Qwen2 config.json, parsed (checkpoint/hfConfig.ts). */
export interface LlamaConfig extends HfConfigCommon {
  family: 'llama';
  hiddenSize: number;
  intermediateSize: number;
  numHiddenLayers: number;
  numAttentionHeads: number;
  numKeyValueHeads: number;
  /** Per-head width (`head_dim`, default hidden_size / num_attention_heads). */
  headDim: number;
  rmsNormEps: number;
  ropeTheta: number;
  ropeScaling: RopeScaling | null;
  maxPositionEmbeddings: number;
  /** Bias on q_proj, k_proj, v_proj (Llama attention_bias, always for Qwen2). */
  qkvBias: boolean;
  /** Bias on o_proj (Llama attention_bias; never for Qwen2). */
  oBias: boolean;
  /** Bias on gate_proj, up_proj, down_proj. */
  mlpBias: boolean;
  hiddenAct: 'silu';
  attentionDropout: number;
  /** Mistral: attention looks back at most this many tokens; null = full causal attention. */
  slidingWindow: number | null;
}

/**
 * Every parameter of LlamaForCausalLM, in named_parameters() order, with its shape. Linear layers are
 * nn.Linear: weight [out, in], y = x @ W^T + b. A tied lm_head is not listed (it is the token embedding).
 */
export function llamaParams(config: LlamaConfig): ParamShape[] {
  const out: ParamShape[] = [];
  const p = (name: string, ...shape: number[]) => out.push({ name, shape });
  const { vocabSize: V, hiddenSize: H, intermediateSize: I, headDim: D } = config;
  const q = config.numAttentionHeads * D;
  const kv = config.numKeyValueHeads * D;
  p('model.embed_tokens.weight', V, H);
  for (let l = 0; l < config.numHiddenLayers; l++) {
    const a = `model.layers.${l}.self_attn`;
    p(`${a}.q_proj.weight`, q, H);
    if (config.qkvBias) p(`${a}.q_proj.bias`, q);
    p(`${a}.k_proj.weight`, kv, H);
    if (config.qkvBias) p(`${a}.k_proj.bias`, kv);
    p(`${a}.v_proj.weight`, kv, H);
    if (config.qkvBias) p(`${a}.v_proj.bias`, kv);
    p(`${a}.o_proj.weight`, H, q);
    if (config.oBias) p(`${a}.o_proj.bias`, H);
    const m = `model.layers.${l}.mlp`;
    p(`${m}.gate_proj.weight`, I, H);
    if (config.mlpBias) p(`${m}.gate_proj.bias`, I);
    p(`${m}.up_proj.weight`, I, H);
    if (config.mlpBias) p(`${m}.up_proj.bias`, I);
    p(`${m}.down_proj.weight`, H, I);
    if (config.mlpBias) p(`${m}.down_proj.bias`, H);
    p(`model.layers.${l}.input_layernorm.weight`, H);
    p(`model.layers.${l}.post_attention_layernorm.weight`, H);
  }
  p('model.norm.weight', H);
  if (!config.tieWordEmbeddings) p('lm_head.weight', V, H);
  return out;
}

/**
 * RoPE inverse frequencies, [headDim / 2]: theta^(-2i/headDim), then the config's scaling (as the
 * transformers rope initialisers compute them, in float64 here). Angle of pair i at position p = p * invFreq[i];
 * HF applies it in the rotate-half layout: x * cat(cos, cos) + rotate_half(x) * cat(sin, sin).
 */
export function ropeInvFreq(c: LlamaConfig): Float64Array {
  const half = c.headDim / 2;
  const inv = new Float64Array(half);
  for (let i = 0; i < half; i++) inv[i] = 1 / c.ropeTheta ** ((2 * i) / c.headDim);
  const s = c.ropeScaling;
  if (!s) return inv;
  if (s.kind === 'linear') return inv.map((v) => v / s.factor);
  // llama3: long wavelengths are slowed by `factor`, short ones kept, the band between interpolated.
  const lowFreqWavelen = s.originalMaxPositionEmbeddings / s.lowFreqFactor;
  const highFreqWavelen = s.originalMaxPositionEmbeddings / s.highFreqFactor;
  return inv.map((v) => {
    const wavelen = (2 * Math.PI) / v;
    if (wavelen < highFreqWavelen) return v;
    if (wavelen > lowFreqWavelen) return v / s.factor;
    const smooth = (s.originalMaxPositionEmbeddings / wavelen - s.lowFreqFactor) / (s.highFreqFactor - s.lowFreqFactor);
    return (1 - smooth) * (v / s.factor) + smooth * v;
  });
}


/**
 * Rotary tables [P, hd] for positions 0..P-1, in float64: cos(p * invFreq) over both halves, and
 * sin(p * invFreq) with the first half negated, so that rope(x) = x * cos + swapHalves(x) * sin
 * equals HF's x * cos + rotate_half(x) * sin (rotate_half(x) = [-x2, x1]).
 */
export function ropeTables(cfg: LlamaConfig, P: number): { cos: Float64Array; sin: Float64Array } {
  const inv = ropeInvFreq(cfg);
  const hd = cfg.headDim, half = hd / 2;
  const cos = new Float64Array(P * hd), sin = new Float64Array(P * hd);
  for (let p = 0; p < P; p++) {
    for (let i = 0; i < half; i++) {
      const ang = p * inv[i];
      cos[p * hd + i] = cos[p * hd + half + i] = Math.cos(ang);
      sin[p * hd + i] = -Math.sin(ang);
      sin[p * hd + half + i] = Math.sin(ang);
    }
  }
  return { cos, sin };
}

/** cos/sin that broadcast against [B, heads, T, hd]: [T, hd] for positions 0..T-1, or [B, 1, S, hd] gathered at cache positions. */
function rotary(c: NnContext, cfg: LlamaConfig, T: number, cache?: KvCacheStep): { cos: Value; sin: Value } {
  const { b } = c;
  const P = cache ? cache.capacity : T;
  const t = ropeTables(cfg, P);
  const Arr = c.dtype === 'float64' ? Float64Array : Float32Array;
  const cos = b.tensor(c.dtype, [P, cfg.headDim], Arr.from(t.cos), 'rope_cos');
  const sin = b.tensor(c.dtype, [P, cfg.headDim], Arr.from(t.sin), 'rope_sin');
  if (!cache) return { cos, sin };
  const at = (table: Value) => b.unsqueeze(b.gather(table, cache.positions), [1]); // [B, 1, S, hd]
  return { cos: at(cos), sin: at(sin) };
}

function applyRope(c: NnContext, x: Value, r: { cos: Value; sin: Value }): Value {
  const { b } = c;
  const half = x.shape[x.shape.length - 1] / 2;
  const [x1, x2] = b.split(x, -1, [half, half]);
  return b.add(b.mul(x, r.cos), b.mul(b.concat([x2, x1], -1), r.sin));
}

export interface LlamaForwardOptions {
  /** Attention-probability dropout (HF attention_dropout), applied only when c.dropoutKey is set. */
  attnDropout?: number;
  cache?: KvCacheStep;
}

/** Logits [B, T, V] for token ids [B, T] (int64); `p(name)` gives each parameter by HF name. */
export function llamaForward(c: NnContext, cfg: LlamaConfig, p: (name: string) => Value, ids: Value, o: LlamaForwardOptions = {}): Value {
  const { b } = c;
  const [B, T] = ids.shape;
  const H = cfg.numAttentionHeads, Hkv = cfg.numKeyValueHeads, hd = cfg.headDim, eps = cfg.rmsNormEps;
  const { cache } = o;
  if (!cache && T > cfg.maxPositionEmbeddings) throw new Error(`sequence length ${T} exceeds the model's max_position_embeddings ${cfg.maxPositionEmbeddings}`);
  const window = cfg.slidingWindow;
  if (window !== null && (cache ? cache.capacity : T) > window) {
    throw new Error(`sequence length ${cache ? cache.capacity : T} exceeds the sliding window (${window}); sliding-window attention is not supported, use sequences of at most ${window} tokens`);
  }
  const rope = rotary(c, cfg, T, cache);
  let x = b.gather(p('model.embed_tokens.weight'), ids); // [B, T, C]
  for (let l = 0; l < cfg.numHiddenLayers; l++) {
    x = b.scope(`layers.${l}`, () => block(c, x, (x) => {
      const w = (n: string) => p(`model.layers.${l}.${n}`);
      const lin = (t: Value, n: string, bias: boolean) => linearOutIn(c, t, w(`${n}.weight`), bias ? w(`${n}.bias`) : null);
      const heads = (t: Value, n: number) => b.transpose(b.reshape(t, [B, T, n, hd]), [0, 2, 1, 3]); // [B, n, T, hd]
      const a = rmsNorm(c, x, w('input_layernorm.weight'), eps);
      const q = applyRope(c, heads(lin(a, 'self_attn.q_proj', cfg.qkvBias), H), rope); // [B, H, T, hd]
      const k = applyRope(c, heads(lin(a, 'self_attn.k_proj', cfg.qkvBias), Hkv), rope); // [B, Hkv, T, hd]
      const v = heads(lin(a, 'self_attn.v_proj', cfg.qkvBias), Hkv);
      const att = cache ? cache.attend(c, l, q, k, v) : causalAttention(c, q, k, v, o.attnDropout ?? 0); // [B, T, H*hd]
      const x1 = b.add(x, lin(att, 'self_attn.o_proj', cfg.oBias));
      const m = rmsNorm(c, x1, w('post_attention_layernorm.weight'), eps);
      const hidden = b.mul(silu(c, lin(m, 'mlp.gate_proj', cfg.mlpBias)), lin(m, 'mlp.up_proj', cfg.mlpBias)); // [B, T, I]
      return b.add(x1, lin(hidden, 'mlp.down_proj', cfg.mlpBias));
    }));
  }
  if (cache) x = cache.select(x); // [B, T', C]
  x = rmsNorm(c, x, p('model.norm.weight'), eps);
  return linearOutIn(c, x, p(cfg.tieWordEmbeddings ? 'model.embed_tokens.weight' : 'lm_head.weight'), null); // [B, T', V]
}

/** N(0, std) matrices, residual projections (o_proj, down_proj) N(0, std/sqrt(2L)), norms 1, biases 0. */
export function llamaInit(cfg: LlamaConfig, seed: number, std = 0.02): Map<string, Float32Array> {
  return initParams(llamaParams(cfg), cfg.numHiddenLayers, seed, std);
}

/** The engine's model for a Llama-family checkpoint, its parameters named as in the checkpoint. */
export function llamaCausalLM(h: LlamaConfig): CausalLM {
  return {
    family: 'llama',
    params: llamaParams(h),
    vocabSize: h.vocabSize,
    maxPositions: h.maxPositionEmbeddings,
    nLayers: h.numHiddenLayers,
    kvHeads: h.numKeyValueHeads,
    headDim: h.headDim,
    layerOf: (name) => layerOfName(name, /^model\.layers\.(\d+)\./, /^model\.embed_tokens\./, h.numHiddenLayers),
    // Llama has attention dropout only (HF attention_dropout); embd/resid rates do not apply.
    forward: (c, p, ids, dropout?: DropoutRates, cache?) => llamaForward(c, h, p, ids, { attnDropout: dropout?.attn ?? h.attentionDropout, cache }),
  };
}
