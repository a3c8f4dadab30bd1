// General-text ability of a model: mean next-token loss (nats), perplexity and top-1 next-token
// accuracy over plain texts. Measured before and after fine-tuning, it shows what the model lost
// outside the task.
//
// Each text is encoded on its own (with the tokenizer's BOS where it adds one, no EOS appended) and
// cut into windows of seqLength predictions: window k feeds tokens kT..kT+T-1 and predicts kT+1..kT+T,
// so every token after a text's first is predicted exactly once, with the context of its window only
// (no sliding overlap: perplexity is somewhat higher than with a strided window over long texts).
// Windows go into batches of batchSize rows, of a length bucket that holds them (see byBucket); the
// unused positions have target -100 and are not counted.
//
// The graph reduces the logits on the device to two numbers per position, its loss and whether the
// target is the top-1 token, so only 2 floats per token come back instead of a row of V logits.

import * as ort from 'onnxruntime-node';
import { Graph } from '../graph/graph';
import { GraphBuilder } from '../graph/builder';
import { toModelProto } from '../graph/serialize';
import { CausalLM } from '../models/causalLM';
import { NnContext } from '../models/nn';
import { DeviceRequest, createSession, tensor } from '../runtime/session';
import { Tokenizer } from '../tokenizer';
import { Proportion, proportion } from './proportion';

export interface TextMetricsOptions {
  /** Predictions per window (at most the model's context). */
  seqLength: number;
  /** Windows per run. */
  batchSize: number;
  device?: DeviceRequest;
  threads?: number;
}

export interface TextMetrics {
  /** Tokens predicted (and counted). */
  tokens: number;
  /** Mean negative log-likelihood of the next token, in nats. */
  nll: number;
  /** exp(nll). */
  perplexity: number;
  /**
   * Positions where the target has the largest logit. A target tied with another token for the largest
   * logit counts as right (argmax would pick either); with float32 logits ties are vanishingly rare.
   */
  nextTokenAccuracy: Proportion;
}

/** The metrics over `texts`; null when they hold no token to predict (every text shorter than 2 tokens). */
export async function textMetrics(
  model: CausalLM, weights: ReadonlyMap<string, Float32Array | Float64Array>, tokenizer: Pick<Tokenizer, 'encode'>,
  texts: readonly string[], o: TextMetricsOptions,
): Promise<TextMetrics | null> {
  const T = o.seqLength, B = o.batchSize;
  if (!Number.isInteger(T) || T < 1 || T > model.maxPositions) throw new Error(`text metrics: the sequence length ${T} must be a whole number from 1 to the model's context (${model.maxPositions})`);
  if (!Number.isInteger(B) || B < 1) throw new Error(`text metrics: the batch size ${B} must be a whole number >= 1`);
  const windows: number[][] = []; // up to T + 1 tokens each: inputs w[0..-2], targets w[1..]
  for (const text of texts) {
    const ids = await tokenizer.encode(text, { addSpecialTokens: true });
    for (let k = 0; k + 1 < ids.length; k += T) windows.push(ids.slice(k, k + T + 1));
  }
  if (windows.length === 0) return null;

  const feeds: Record<string, ort.Tensor> = {};
  for (const p of model.params) {
    const w = weights.get(p.name);
    if (!w) throw new Error(`no weights for parameter '${p.name}'`);
    feeds[p.name] = tensor('float32', p.shape, w instanceof Float32Array ? w : Float32Array.from(w));
  }
  let nllSum = 0, hits = 0, tokens = 0;
  for (const [L, group] of byBucket(windows, T)) {
    const g = await buildGraph(model, B, L, o);
    try {
      for (let start = 0; start < group.length; start += B) {
        const x = new BigInt64Array(B * L), y = new BigInt64Array(B * L).fill(-100n);
        group.slice(start, start + B).forEach((w, r) => {
          for (let s = 0; s + 1 < w.length; s++) { x[r * L + s] = BigInt(w[s]); y[r * L + s] = BigInt(w[s + 1]); }
        });
        feeds[g.ids] = tensor('int64', [B, L], x);
        feeds[g.targets] = tensor('int64', [B, L], y);
        const out = await g.compiled.session.run(feeds);
        const loss = out[g.loss].data as Float32Array, top1 = out[g.top1].data as Float32Array;
        for (let n = 0; n < B * L; n++) {
          if (y[n] < 0n) continue;
          nllSum += loss[n];
          hits += top1[n];
          tokens++;
        }
      }
    } finally {
      await g.compiled.session.release();
    }
  }
  const nll = nllSum / tokens;
  return { tokens, nll, perplexity: Math.exp(nll), nextTokenAccuracy: proportion(hits, tokens)! };
}

/**
 * Windows grouped by the smallest length of 16, 32, 64, ... (up to T) that holds their predictions:
 * a short text in a window of T would be mostly padding (stories of ~100 tokens in windows of 256 took
 * 2.5 times the positions). Padding is at the end, which causal attention makes harmless.
 */
function byBucket(windows: number[][], T: number): Map<number, number[][]> {
  const groups = new Map<number, number[][]>();
  for (const w of windows) {
    let L = 16;
    while (L < w.length - 1) L *= 2;
    L = Math.min(L, T);
    if (!groups.has(L)) groups.set(L, []);
    groups.get(L)!.push(w);
  }
  return groups;
}

/** Forward pass of [B, L] tokens reduced to per-position loss and top-1 hit ([B * L] each). */
async function buildGraph(model: CausalLM, B: number, L: number, o: TextMetricsOptions) {
  const b = new GraphBuilder(new Graph('text_metrics'));
  const params = new Map(model.params.map((p) => [p.name, b.input(p.name, 'float32', p.shape)]));
  const ids = b.input('input_ids', 'int64', [B, L]);
  const targets = b.input('targets', 'int64', [B, L]);
  const c: NnContext = { b, dtype: 'float32', decompose: false, dropoutKey: null, dropoutSites: 0 };
  const V = model.vocabSize, N = B * L;
  const logits = b.reshape(model.forward(c, (n) => params.get(n)!, ids), [N, V]); // [N, V]
  const t = b.reshape(targets, [N]);
  const [loss] = b.softmaxCrossEntropy(logits, t, -100); // [N], 0 where ignored
  // Top-1: the target's logit is the row's maximum (ignored positions gather column 0, masked on the host).
  const safe = b.where(b.less(t, b.scalar(0, 'int64')), b.scalar(0, 'int64'), t);
  const targetLogit = b.gatherElements(logits, b.reshape(safe, [N, 1]), 1); // [N, 1]
  const top1 = b.cast(b.not(b.less(targetLogit, b.reduceMax(logits, [1], true))), 'float32'); // [N, 1]
  b.graph.outputs = [loss, top1];
  const compiled = await createSession(toModelProto(b.graph), { device: o.device, threads: o.threads });
  return { compiled, ids: ids.name, targets: targets.name, loss: loss.name, top1: top1.name };
}
