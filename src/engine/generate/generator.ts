// Text generation with a static key/value cache. A Decoder holds a model's weights (fed as session
// inputs, so a trainer's current weights are used as they are, without rebuilding anything) and the
// compiled decoding sessions, one per (batch, chunk, capacity). generate() prefills the prompts in
// chunks of a bucketed length, then decodes one token per row per run, choosing tokens on the host.
//
// Batched prompts are right-padded: row b's prompt fills cache slots 0..len_b-1 and its generated tokens
// follow at len_b, len_b+1, ...; every row has its own position, so rows never see each other's pads.
// The graphs return only each run's new keys/values (decodeGraph 'new' mode) and this file writes them
// into the cache buffers, which the sessions read in place.

import * as ort from 'onnxruntime-node';
import { toModelProto } from '../graph/serialize';
import { CausalLM } from '../models/causalLM';
import { CompiledSession, SessionOptions, createSession, tensor } from '../runtime/session';
import { stepKey, uniformRng } from '../random';
import { DecodeGraph, buildDecodeGraph } from './decodeGraph';
import { SamplingOptions, nextToken } from './sampling';

export interface GenerateOptions extends SamplingOptions {
  /** Tokens to generate per row at most; default 20. */
  maxNewTokens?: number;
  /** Seed of the sampling streams (row r draws from stepKey(seed, r)); default 0. */
  seed?: number;
  /** A row stops after generating any of these (EOS); the stop token is part of its output. */
  stopTokenIds?: readonly number[];
  /** A row stops once the text of its generated tokens contains one of these (needs `decode`). */
  stopStrings?: readonly string[];
  /** Token ids -> text, for stop strings (e.g. a tokenizer's decode). */
  decode?: (ids: number[]) => string | Promise<string>;
  /** Called with each generated token as it is chosen (streaming); a returned promise is awaited. */
  onToken?: (row: number, token: number) => void | Promise<void>;
}

export type FinishReason = 'stop_token' | 'stop_string' | 'length';

export interface GenerateResult {
  /** Generated tokens per row (prompt excluded). */
  tokens: number[][];
  finishReasons: FinishReason[];
}

export interface DecoderOptions extends SessionOptions {
  /** Longest sequence (prompt + generated) to allow; default the model's maximum. */
  maxContext?: number;
  /**
   * Prompt chunk lengths for prefill, ascending: the smallest that holds the longest prompt, else chunks
   * of the largest. Default 16, 64, 256 (a chunk costs a pass over all its slots, pads included).
   */
  prefillChunks?: readonly number[];
  /**
   * Build the weights into each session as initializers instead of feeding them: decoding steps were
   * 10-30% faster on CPU (ORT prepacks constant weights), but every compiled session holds its own copy
   * of the weights and setWeights recompiles. Default: baked for models up to 50 M parameters (the
   * built-in model: 0.74 -> 0.58 ms/token, 122 ms to compile), fed for larger ones (GPT-2 124M:
   * baking took 6.2 s to compile and a copy of the weights per session).
   */
  bakeWeights?: boolean;
}

const PREFILL_CHUNKS = [16, 64, 256];
const BAKE_MAX_PARAMS = 50_000_000;
/** Sessions kept compiled (least recently used ones are released). */
const MAX_SESSIONS = 6;

interface DecodeSession {
  key: string;
  graph: DecodeGraph;
  compiled: CompiledSession;
}

type Weights = ReadonlyMap<string, Float32Array | Float64Array>;

const roundUpPow2 = (n: number) => 2 ** Math.ceil(Math.log2(Math.max(1, n)));

export class Decoder {
  private weightFeeds: Record<string, ort.Tensor> = {};
  private weights = new Map<string, Float32Array>();
  private sessions: DecodeSession[] = [];
  readonly maxContext: number;
  readonly prefillChunks: readonly number[];

  constructor(readonly lm: CausalLM, weights: Weights, private readonly options: DecoderOptions = {}) {
    const params = lm.params.reduce((n, p) => n + p.shape.reduce((a, b) => a * b, 1), 0);
    this.options = { ...options, bakeWeights: options.bakeWeights ?? params <= BAKE_MAX_PARAMS };
    this.maxContext = Math.min(options.maxContext ?? lm.maxPositions, lm.maxPositions);
    this.prefillChunks = options.prefillChunks?.length ? [...options.prefillChunks].sort((a, b) => a - b) : PREFILL_CHUNKS;
    this.setWeights(weights);
  }

  /** Uses these weights from the next run on (e.g. a trainer's runner.params() merged with frozen ones). */
  setWeights(weights: Weights): void {
    const feeds: Record<string, ort.Tensor> = {};
    const f32 = new Map<string, Float32Array>();
    for (const p of this.lm.params) {
      const w = weights.get(p.name);
      const n = p.shape.reduce((a, b) => a * b, 1);
      if (!w) throw new Error(`no weights for parameter '${p.name}'`);
      if (w.length !== n) throw new Error(`parameter '${p.name}' has ${w.length} values, expected ${n} for shape [${p.shape}]`);
      f32.set(p.name, w instanceof Float32Array ? w : Float32Array.from(w));
      feeds[p.name] = tensor('float32', p.shape, f32.get(p.name)!);
    }
    this.weights = f32;
    this.weightFeeds = this.options.bakeWeights ? {} : feeds;
    if (this.options.bakeWeights) void this.release(); // sessions hold the old weights
  }

  /** The compiled session for (batch, chunk, capacity), built on first use. */
  private async session(batch: number, chunk: number, capacity: number): Promise<DecodeSession> {
    const key = `${batch}x${chunk}x${capacity}`;
    const at = this.sessions.findIndex((s) => s.key === key);
    if (at >= 0) {
      const [hit] = this.sessions.splice(at, 1);
      this.sessions.push(hit);
      return hit;
    }
    const graph = buildDecodeGraph(this.lm, { batch, chunk, capacity, cacheOutput: 'new', logitsOf: 'index', weights: this.options.bakeWeights ? this.weights : undefined });
    const compiled = await createSession(toModelProto(graph.graph), this.options);
    const s = { key, graph, compiled };
    this.sessions.push(s);
    if (this.sessions.length > MAX_SESSIONS) await this.sessions.shift()!.compiled.session.release();
    return s;
  }

  /** Runs one chunk: returns logits [B, V] and the chunk's keys/values per layer ([B, Hkv, S, hd]). */
  private async run(s: DecodeSession, ids: BigInt64Array, positions: BigInt64Array, logitsIndex: BigInt64Array, cache: KvCache): Promise<{ logits: Float32Array; keys: Float32Array[]; values: Float32Array[] }> {
    const { inputs, outputs } = s.graph;
    const feeds: Record<string, ort.Tensor> = { ...this.weightFeeds };
    feeds[inputs.ids.name] = tensor('int64', inputs.ids.shape, ids);
    feeds[inputs.positions.name] = tensor('int64', inputs.positions.shape, positions);
    if (inputs.logitsIndex) feeds[inputs.logitsIndex.name] = tensor('int64', inputs.logitsIndex.shape, logitsIndex);
    inputs.pastKeys.forEach((v, l) => { feeds[v.name] = cache.keyTensors[l]; });
    inputs.pastValues.forEach((v, l) => { feeds[v.name] = cache.valueTensors[l]; });
    const out = await s.compiled.session.run(feeds);
    const data = (v: { name: string }) => out[v.name].data as Float32Array;
    return { logits: data(outputs.logits), keys: outputs.keys.map(data), values: outputs.values.map(data) };
  }

  /** See generate(). */
  async generate(prompts: readonly number[] | readonly (readonly number[])[], o: GenerateOptions = {}): Promise<GenerateResult> {
    const rows: number[][] = (prompts.length > 0 && Array.isArray(prompts[0]) ? (prompts as number[][]) : [prompts as number[]]).map((r) => [...r]);
    const { lm } = this;
    const B = rows.length;
    rows.forEach((r, i) => {
      if (r.length === 0) throw new Error(`prompt ${i} is empty: give at least one token (e.g. the BOS token)`);
      const bad = r.find((t) => !Number.isInteger(t) || t < 0 || t >= lm.vocabSize);
      if (bad !== undefined) throw new Error(`prompt ${i} has token id ${bad}, outside the model's vocabulary (0..${lm.vocabSize - 1})`);
    });
    const maxNew = o.maxNewTokens ?? 20;
    const maxLen = Math.max(...rows.map((r) => r.length));
    if (maxLen >= this.maxContext) throw new Error(`the prompt has ${maxLen} tokens, but the model's context is ${this.maxContext}: shorten it to leave room for generated tokens`);
    if ((o.stopStrings?.length ?? 0) > 0 && !o.decode) throw new Error('stop strings need a decode callback (token ids -> text)');
    // Capacity: a power of two (few distinct sessions), at most the context.
    const capacity = Math.min(this.maxContext, roundUpPow2(Math.max(maxLen + maxNew, 16)));
    const buckets = this.prefillChunks;
    const S = Math.min(buckets.find((s) => s >= maxLen) ?? buckets[buckets.length - 1], capacity);
    const cache = new KvCache(lm, B, capacity);

    // Prefill in chunks of S; each row's logits come from the chunk holding its last prompt token.
    const prefill = await this.session(B, S, capacity);
    const lastLogits: Float32Array[] = new Array(B);
    const V = lm.vocabSize;
    for (let start = 0; start < maxLen; start += S) {
      const ids = new BigInt64Array(B * S), positions = new BigInt64Array(B), index = new BigInt64Array(B);
      rows.forEach((r, b) => {
        for (let s = 0; s < S && start + s < r.length; s++) ids[b * S + s] = BigInt(r[start + s]);
        positions[b] = BigInt(start);
        const last = r.length - 1 - start;
        index[b] = BigInt(last >= 0 && last < S ? last : 0);
      });
      const out = await this.run(prefill, ids, positions, index, cache);
      rows.forEach((r, b) => {
        const count = Math.min(S, r.length - start);
        if (count <= 0) return;
        cache.write(out.keys, out.values, S, b, start, count);
        if (start + count === r.length) lastLogits[b] = out.logits.slice(b * V, (b + 1) * V);
      });
    }

    const seed = o.seed ?? 0;
    const rngs = rows.map((_, b) => uniformRng(stepKey(seed, b)));
    const stops = new Set(o.stopTokenIds ?? []);
    const generated: number[][] = rows.map(() => []);
    const finish: (FinishReason | null)[] = rows.map(() => null);
    const length = rows.map((r) => r.length); // tokens in the cache per row
    const decodeStep = maxNew > 1 ? await this.session(B, 1, capacity) : null;
    for (let step = 0; step < maxNew; step++) {
      for (let b = 0; b < B; b++) {
        if (finish[b]) continue;
        const t = nextToken(lastLogits[b], [...rows[b], ...generated[b]], o, rngs[b]);
        generated[b].push(t);
        await o.onToken?.(b, t);
        if (stops.has(t)) finish[b] = 'stop_token';
        else if (o.stopStrings?.length) {
          const text = await o.decode!(generated[b]);
          if (o.stopStrings.some((s) => text.includes(s))) finish[b] = 'stop_string';
        }
        if (!finish[b] && (generated[b].length >= maxNew || length[b] >= capacity)) finish[b] = 'length';
      }
      if (finish.every((f) => f) || !decodeStep) break;
      // Feed each unfinished row's new token at its next position (finished rows idle at their last slot).
      const ids = new BigInt64Array(B), positions = new BigInt64Array(B);
      for (let b = 0; b < B; b++) {
        ids[b] = BigInt(generated[b][generated[b].length - 1]);
        positions[b] = BigInt(Math.min(length[b], capacity - 1));
      }
      const out = await this.run(decodeStep, ids, positions, new BigInt64Array(B), cache);
      for (let b = 0; b < B; b++) {
        if (finish[b]) continue;
        cache.write(out.keys, out.values, 1, b, length[b], 1);
        length[b]++;
        lastLogits[b] = out.logits.slice(b * V, (b + 1) * V);
      }
    }
    return { tokens: generated, finishReasons: finish.map((f) => f ?? 'length') };
  }

  async release(): Promise<void> {
    for (const s of this.sessions.splice(0)) await s.compiled.session.release();
  }
}

/** Cache buffers [B, Hkv, capacity, hd] per layer, wrapped once as session inputs and written in place. */
class KvCache {
  readonly keys: Float32Array[] = [];
  readonly values: Float32Array[] = [];
  readonly keyTensors: ort.Tensor[];
  readonly valueTensors: ort.Tensor[];

  constructor(readonly lm: CausalLM, readonly batch: number, readonly capacity: number) {
    const n = batch * lm.kvHeads * capacity * lm.headDim;
    for (let l = 0; l < lm.nLayers; l++) {
      this.keys.push(new Float32Array(n));
      this.values.push(new Float32Array(n));
    }
    const shape = [batch, lm.kvHeads, capacity, lm.headDim];
    this.keyTensors = this.keys.map((k) => tensor('float32', shape, k));
    this.valueTensors = this.values.map((v) => tensor('float32', shape, v));
  }

  /** Copies chunk tokens 0..count-1 of row b (chunk length S) into slots start.. of the cache. */
  write(newKeys: Float32Array[], newValues: Float32Array[], S: number, b: number, start: number, count: number): void {
    const { kvHeads: Hkv, headDim: hd } = this.lm;
    for (let l = 0; l < this.keys.length; l++) {
      for (let h = 0; h < Hkv; h++) {
        const from = (b * Hkv + h) * S * hd, to = ((b * Hkv + h) * this.capacity + start) * hd;
        this.keys[l].set(newKeys[l].subarray(from, from + count * hd), to);
        this.values[l].set(newValues[l].subarray(from, from + count * hd), to);
      }
    }
  }
}


/**
 * Generates up to `maxNewTokens` tokens after each prompt (token ids; one prompt or a batch).
 * Rows finish on a stop token, a stop string or the length limit; the others go on.
 */
export function generate(decoder: Decoder, prompts: readonly number[] | readonly (readonly number[])[], o: GenerateOptions = {}): Promise<GenerateResult> {
  return decoder.generate(prompts, o);
}
