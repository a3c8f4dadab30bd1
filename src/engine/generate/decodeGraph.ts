// One decoding graph with a static key/value cache: S new tokens per row (S = 1 for a decoding step, a
// prompt chunk for prefill) attend to the cache and to each other; shapes are static, so a session is
// compiled per (batch, chunk, capacity).
//
// Inputs:   input_ids [B, S] int64; positions [B] int64 (tokens already cached per row: the chunk of row b
//           sits at positions[b] + 0..S-1); logits_index [B] int64 (prefill: which chunk token's logits come
//           back); past_key.<l>, past_value.<l> [B, Hkv, capacity, hd]; the parameters by HF name (inputs,
//           or initializers when `weights` is given).
// Outputs:  logits [B, V]; per layer either
//           'new':  key.<l>, value.<l> [B, Hkv, S, hd], the chunk's keys/values: the host writes them into
//                   its cache buffers, so the cache is never copied by the graph (fastest in process), or
//           'full': present_key.<l>, present_value.<l> [B, Hkv, capacity, hd], the cache with the chunk
//                   written at its positions (ScatterND): self-contained, for export.
// Row b's cache slot j holds position j. A slot j >= positions[b] is never read by row b's chunk except
// the chunk's own keys ('full' mode), so right-padded prompts need no padding mask: a pad's slot is
// rewritten by the real token at that position before anything attends to it.

import { GraphBuilder } from '../graph/builder';
import { Graph, Value } from '../graph/graph';
import { CausalLM } from '../models/causalLM';
import { KvCacheStep, NnContext } from '../models/nn';

export type CacheOutput = 'new' | 'full';

export interface DecodeGraphOptions {
  batch: number;
  /** New tokens per row per run: 1 for a decoding step, the prompt chunk length for prefill. */
  chunk: number;
  /** Cache slots (positions) per row. */
  capacity: number;
  cacheOutput: CacheOutput;
  /** Which chunk token's logits come back: per row from the `logits_index` input, or always the last. */
  logitsOf: 'index' | 'last';
  /** Bake these weights in as initializers (export); otherwise every parameter is an input named by HF name. */
  weights?: ReadonlyMap<string, Float32Array>;
}

export interface DecodeGraph {
  graph: Graph;
  inputs: { ids: Value; positions: Value; logitsIndex: Value | null; pastKeys: Value[]; pastValues: Value[]; params: Map<string, Value> };
  /** keys/values: the chunk's ('new') or the whole updated cache ('full'), per layer. */
  outputs: { logits: Value; keys: Value[]; values: Value[] };
}

/** Additive mask value: exp(-1e9 - max) is exactly 0 in float32, and a row always sees at least its own key. */
const MASKED = -1e9;

/** Gives a graph output a stable, readable name (the producing node's output is renamed; no Identity). */
function nameOutput(g: Graph, v: Value, name: string): Value {
  const unique = g.uniqueName(name);
  if (unique !== name) throw new Error(`decode graph: output name '${name}' is taken`);
  v.name = name;
  return v;
}

export function buildDecodeGraph(lm: CausalLM, o: DecodeGraphOptions): DecodeGraph {
  const { batch: B, chunk: S, capacity: cap } = o;
  if (S > cap) throw new Error(`decode graph: chunk ${S} is longer than the cache capacity ${cap}`);
  const b = new GraphBuilder(new Graph(`decode_b${B}_s${S}_c${cap}`));
  const Hkv = lm.kvHeads, hd = lm.headDim;
  const ids = b.input('input_ids', 'int64', [B, S]);
  const positions = b.input('positions', 'int64', [B]);
  const logitsIndex = o.logitsOf === 'index' && S > 1 ? b.input('logits_index', 'int64', [B]) : null;
  const pastKeys: Value[] = [], pastValues: Value[] = [];
  for (let l = 0; l < lm.nLayers; l++) {
    pastKeys.push(b.input(`past_key.${l}`, 'float32', [B, Hkv, cap, hd]));
    pastValues.push(b.input(`past_value.${l}`, 'float32', [B, Hkv, cap, hd]));
  }
  const params = new Map<string, Value>();
  for (const p of lm.params) {
    if (o.weights) {
      const data = o.weights.get(p.name);
      if (!data) throw new Error(`decode graph: no weights for parameter '${p.name}'`);
      if (data.length !== p.shape.reduce((x, y) => x * y, 1)) throw new Error(`decode graph: '${p.name}' has ${data.length} values, expected shape [${p.shape}]`);
      params.set(p.name, b.tensor('float32', p.shape, data, p.name));
    } else {
      params.set(p.name, b.input(p.name, 'float32', p.shape));
    }
  }

  // Position of chunk token s of row b: positions[b] + s, clamped so that pads past the capacity still
  // index the position tables (their keys are never written or read).
  const offsets = b.constant('int64', [1, S], Array.from({ length: S }, (_, s) => s));
  const pos2d = b.min(b.add(b.unsqueeze(positions, [1]), offsets), b.scalar(cap - 1, 'int64')); // [B, S]
  const slots = b.constant('int64', [1, cap], Array.from({ length: cap }, (_, j) => j));
  const zero = b.scalar(0, 'float32'), masked = b.scalar(MASKED, 'float32');

  const keys: Value[] = [], values: Value[] = [];
  let pastMask: Value | null = null, fullMask: Value | null = null, chunkMask: Value | null = null, scatterIdx: Value | null = null;
  const cache: KvCacheStep = {
    positions: pos2d,
    capacity: cap,
    attend(c: NnContext, layer: number, q: Value, k: Value, v: Value): Value {
      const H = q.shape[1], rep = H / Hkv;
      // Query head h reads kv head h / rep: grouping the queries by kv head is a reshape, so the cache
      // is never repeated. [B, Hkv, rep*S, hd]
      const qg = b.reshape(b.mul(q, b.scalar(1 / Math.sqrt(hd), 'float32')), [B, Hkv, rep * S, hd]);
      let y: Value;
      if (o.cacheOutput === 'new') {
        // Cached slots j < positions[b], then the chunk itself, causally.
        pastMask ??= b.reshape(b.where(b.less(slots, b.unsqueeze(positions, [1])), zero, masked), [B, 1, 1, cap]);
        if (!chunkMask) { // one constant shared by the layers
          const causal = new Float32Array(rep * S * S);
          for (let r = 0; r < rep; r++) for (let s = 0; s < S; s++) for (let t = s + 1; t < S; t++) causal[(r * S + s) * S + t] = MASKED;
          chunkMask = b.tensor('float32', [rep * S, S], causal, 'chunk_causal_mask');
        }
        const sPast = b.add(b.matmul(qg, b.transpose(pastKeys[layer], [0, 1, 3, 2])), pastMask); // [B, Hkv, rep*S, cap]
        const sNew = b.add(b.matmul(qg, b.transpose(k, [0, 1, 3, 2])), chunkMask); // [B, Hkv, rep*S, S]
        const [pPast, pNew] = b.split(b.softmax(b.concat([sPast, sNew], -1), -1), -1, [cap, S]);
        y = b.add(b.matmul(pPast, pastValues[layer]), b.matmul(pNew, v)); // [B, Hkv, rep*S, hd]
        keys.push(nameOutput(b.graph, k, `key.${layer}`));
        values.push(nameOutput(b.graph, v, `value.${layer}`));
      } else {
        // Write the chunk at its positions, then attend to slots j <= position of the query.
        scatterIdx ??= b.concat([
          b.expand(b.constant('int64', [B, 1, 1, 1], Array.from({ length: B }, (_, i) => i)), [B, Hkv, S, 1]),
          b.expand(b.constant('int64', [1, Hkv, 1, 1], Array.from({ length: Hkv }, (_, i) => i)), [B, Hkv, S, 1]),
          b.expand(b.reshape(pos2d, [B, 1, S, 1]), [B, Hkv, S, 1]),
        ], -1); // [B, Hkv, S, 3]: (row, kv head, slot)
        fullMask ??= b.reshape(b.expand(b.reshape(
          b.where(b.greater(b.unsqueeze(slots, [0]), b.unsqueeze(pos2d, [2])), masked, zero), [B, 1, 1, S, cap]), [B, 1, rep, S, cap]), [B, 1, rep * S, cap]);
        const presentK = b.scatterND(pastKeys[layer], scatterIdx, k);
        const presentV = b.scatterND(pastValues[layer], scatterIdx, v);
        const scores = b.add(b.matmul(qg, b.transpose(presentK, [0, 1, 3, 2])), fullMask); // [B, Hkv, rep*S, cap]
        y = b.matmul(b.softmax(scores, -1), presentV);
        keys.push(nameOutput(b.graph, presentK, `present_key.${layer}`));
        values.push(nameOutput(b.graph, presentV, `present_value.${layer}`));
      }
      return b.reshape(b.transpose(b.reshape(y, [B, H, S, hd]), [0, 2, 1, 3]), [B, S, H * hd]);
    },
    select(x: Value): Value {
      if (S === 1) return x;
      const C = x.shape[2];
      if (!logitsIndex) return b.slice(x, 1, S - 1, S);
      const rowStart = b.constant('int64', [B], Array.from({ length: B }, (_, i) => i * S));
      return b.reshape(b.gather(b.reshape(x, [B * S, C]), b.add(rowStart, logitsIndex)), [B, 1, C]);
    },
  };

  const c: NnContext = { b, dtype: 'float32', decompose: false, dropoutKey: null, dropoutSites: 0 };
  const logits = nameOutput(b.graph, b.reshape(lm.forward(c, (n) => {
    const v = params.get(n);
    if (!v) throw new Error(`model asks for parameter '${n}', which it does not list`);
    return v;
  }, ids, undefined, cache), [B, lm.vocabSize]), 'logits');
  b.graph.outputs = [logits, ...keys.flatMap((k, l) => [k, values[l]])];
  return { graph: b.graph, inputs: { ids, positions, logitsIndex, pastKeys, pastValues, params }, outputs: { logits, keys, values } };
}
