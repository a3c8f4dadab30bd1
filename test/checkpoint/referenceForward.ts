// Test oracle: a plain float64 forward pass over loaded HF tensors, to check that loading (names, layouts,
// dtype decoding, shard mapping, prefixes) reproduces the PyTorch golden logits of tools/reference/hf_ref.py.
// Deliberately naive loops; only for the tiny fixtures.
import type { HfModelConfig } from '../../src/engine/checkpoint/hfConfig';
import { ropeInvFreq } from '../../src/engine/checkpoint/hfConfig';
import type { FloatTensor } from '../../src/engine/checkpoint/safetensors';

type Vec = Float64Array;
type Tensors = ReadonlyMap<string, FloatTensor>;

function get(t: Tensors, name: string): Float32Array {
  const v = t.get(name);
  if (!v) throw new Error(`referenceForward: no tensor ${name}`);
  return v.data;
}

/** y[o] = sum_i x[i] * W[i, o] + b[o], W stored [in, out] (GPT-2 Conv1D). */
function conv1d(x: Vec, w: Float32Array, b: Float32Array, nOut: number): Vec {
  const y = new Float64Array(nOut);
  for (let o = 0; o < nOut; o++) y[o] = b[o]!;
  for (let i = 0; i < x.length; i++) for (let o = 0; o < nOut; o++) y[o]! += x[i]! * w[i * nOut + o]!;
  return y;
}

/** y[o] = sum_i W[o, i] x[i] (+ b[o]), W stored [out, in] (nn.Linear). */
function linear(x: Vec, w: Float32Array, nOut: number, b?: Float32Array): Vec {
  const y = new Float64Array(nOut);
  for (let o = 0; o < nOut; o++) {
    let s = b ? b[o]! : 0;
    for (let i = 0; i < x.length; i++) s += w[o * x.length + i]! * x[i]!;
    y[o] = s;
  }
  return y;
}

function layerNorm(x: Vec, w: Float32Array, b: Float32Array, eps: number): Vec {
  const mu = x.reduce((a, v) => a + v, 0) / x.length;
  const varc = x.reduce((a, v) => a + (v - mu) ** 2, 0) / x.length;
  return x.map((v, i) => ((v - mu) / Math.sqrt(varc + eps)) * w[i]! + b[i]!);
}

function rmsNorm(x: Vec, w: Float32Array, eps: number): Vec {
  const ms = x.reduce((a, v) => a + v * v, 0) / x.length;
  return x.map((v, i) => w[i]! * (v / Math.sqrt(ms + eps)));
}

/** Causal attention of one sequence: q[t][h] (head vectors), k/v[t][kvHead]; query head h reads kv head h / group. */
function attend(q: Vec[][], k: Vec[][], v: Vec[][], group: number): Vec[] {
  const H = q[0]!.length;
  const hd = q[0]![0]!.length;
  return q.map((qt, t) => {
    const out = new Float64Array(H * hd);
    for (let h = 0; h < H; h++) {
      const kvh = Math.floor(h / group);
      const scores = new Float64Array(t + 1);
      for (let s = 0; s <= t; s++) {
        let dot = 0;
        for (let d = 0; d < hd; d++) dot += qt[h]![d]! * k[s]![kvh]![d]!;
        scores[s] = dot / Math.sqrt(hd);
      }
      const max = Math.max(...scores);
      const e = scores.map((x) => Math.exp(x - max));
      const z = e.reduce((a, b) => a + b, 0);
      for (let s = 0; s <= t; s++) for (let d = 0; d < hd; d++) out[h * hd + d]! += (e[s]! / z) * v[s]![kvh]![d]!;
    }
    return out;
  });
}

function heads(x: Vec, n: number, hd: number): Vec[] {
  return Array.from({ length: n }, (_, h) => x.slice(h * hd, (h + 1) * hd));
}

function gpt2Sequence(c: Extract<HfModelConfig, { family: 'gpt2' }>, t: Tensors, ids: number[]): Vec[] {
  const C = c.nEmbd;
  const hd = C / c.nHead;
  const wte = get(t, 'transformer.wte.weight');
  const wpe = get(t, 'transformer.wpe.weight');
  let x: Vec[] = ids.map((id, pos) => Float64Array.from({ length: C }, (_, i) => wte[id * C + i]! + wpe[pos * C + i]!));
  const gelu = (v: number) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)));
  for (let l = 0; l < c.nLayer; l++) {
    const p = (n: string) => get(t, `transformer.h.${l}.${n}`);
    const qkv = x.map((xt) => conv1d(layerNorm(xt, p('ln_1.weight'), p('ln_1.bias'), c.layerNormEpsilon), p('attn.c_attn.weight'), p('attn.c_attn.bias'), 3 * C));
    const q = qkv.map((r) => heads(r.slice(0, C), c.nHead, hd));
    const k = qkv.map((r) => heads(r.slice(C, 2 * C), c.nHead, hd));
    const v = qkv.map((r) => heads(r.slice(2 * C), c.nHead, hd));
    const y = attend(q, k, v, 1);
    x = x.map((xt, i) => {
      const a = conv1d(y[i]!, p('attn.c_proj.weight'), p('attn.c_proj.bias'), C);
      const r = xt.map((val, j) => val + a[j]!);
      const m = conv1d(layerNorm(r, p('ln_2.weight'), p('ln_2.bias'), c.layerNormEpsilon), p('mlp.c_fc.weight'), p('mlp.c_fc.bias'), c.nInner).map(gelu);
      const o = conv1d(m, p('mlp.c_proj.weight'), p('mlp.c_proj.bias'), C);
      return r.map((val, j) => val + o[j]!);
    });
  }
  const head = t.get('lm_head.weight')?.data ?? wte;
  return x.map((xt) => linear(layerNorm(xt, get(t, 'transformer.ln_f.weight'), get(t, 'transformer.ln_f.bias'), c.layerNormEpsilon), head, c.vocabSize));
}

function llamaSequence(c: Extract<HfModelConfig, { family: 'llama' }>, t: Tensors, ids: number[]): Vec[] {
  const H = c.hiddenSize;
  const hd = c.headDim;
  const inv = ropeInvFreq(c);
  const emb = get(t, 'model.embed_tokens.weight');
  const rope = (vec: Vec, pos: number): Vec => {
    const half = hd / 2;
    const out = new Float64Array(hd);
    for (let i = 0; i < half; i++) {
      const cos = Math.cos(pos * inv[i]!);
      const sin = Math.sin(pos * inv[i]!);
      out[i] = vec[i]! * cos - vec[i + half]! * sin; // x * cos + rotate_half(x) * sin, rotate_half = [-x2, x1]
      out[i + half] = vec[i + half]! * cos + vec[i]! * sin;
    }
    return out;
  };
  let x: Vec[] = ids.map((id) => Float64Array.from(emb.subarray(id * H, (id + 1) * H)));
  for (let l = 0; l < c.numHiddenLayers; l++) {
    const w = (n: string) => get(t, `model.layers.${l}.${n}.weight`);
    const b = (n: string) => t.get(`model.layers.${l}.${n}.bias`)?.data;
    const a = x.map((xt) => rmsNorm(xt, w('input_layernorm'), c.rmsNormEps));
    const q = a.map((r, pos) => heads(linear(r, w('self_attn.q_proj'), c.numAttentionHeads * hd, b('self_attn.q_proj')), c.numAttentionHeads, hd).map((h) => rope(h, pos)));
    const k = a.map((r, pos) => heads(linear(r, w('self_attn.k_proj'), c.numKeyValueHeads * hd, b('self_attn.k_proj')), c.numKeyValueHeads, hd).map((h) => rope(h, pos)));
    const v = a.map((r) => heads(linear(r, w('self_attn.v_proj'), c.numKeyValueHeads * hd, b('self_attn.v_proj')), c.numKeyValueHeads, hd));
    const y = attend(q, k, v, c.numAttentionHeads / c.numKeyValueHeads);
    x = x.map((xt, i) => {
      const o = linear(y[i]!, w('self_attn.o_proj'), H, b('self_attn.o_proj'));
      const r = xt.map((val, j) => val + o[j]!);
      const m = rmsNorm(r, w('post_attention_layernorm'), c.rmsNormEps);
      const gate = linear(m, w('mlp.gate_proj'), c.intermediateSize, b('mlp.gate_proj'));
      const up = linear(m, w('mlp.up_proj'), c.intermediateSize, b('mlp.up_proj'));
      const d = linear(gate.map((g, j) => (g / (1 + Math.exp(-g))) * up[j]!), w('mlp.down_proj'), H, b('mlp.down_proj'));
      return r.map((val, j) => val + d[j]!);
    });
  }
  const head = t.get('lm_head.weight')?.data ?? emb;
  return x.map((xt) => linear(rmsNorm(xt, get(t, 'model.norm.weight'), c.rmsNormEps), head, c.vocabSize));
}

/** Logits [B][T][V] of the HF model for a batch of token ids. */
export function referenceLogits(config: HfModelConfig, tensors: Tensors, ids: number[][]): number[][][] {
  return ids.map((row) => (config.family === 'gpt2' ? gpt2Sequence(config, tensors, row) : llamaSequence(config, tensors, row)).map((v) => [...v]));
}
