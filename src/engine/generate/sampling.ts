// Choosing the next token from one row of logits, on the host, in the order of Hugging Face's
// generate(): repetition penalty, then (sampling only) temperature, top-k, top-p, and a draw from a
// seeded stream. Greedy is the argmax after the repetition penalty.

export interface SamplingOptions {
  /** Argmax instead of a draw (also when temperature <= 0). */
  greedy?: boolean;
  /** Divides the logits before the softmax; default 0.7. */
  temperature?: number;
  /** Keeps the smallest set of most likely tokens whose probability reaches topP; default 0.9 (1 = off). */
  topP?: number;
  /** Keeps the K most likely tokens; 0 or absent = off. */
  topK?: number;
  /** CTRL's penalty on every token already in the sequence (prompt included): > 1 discourages repeats; default 1. */
  repetitionPenalty?: number;
}

/** Index of the largest value; the first one on ties. */
export function argmax(x: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < x.length; i++) if (x[i] > x[best]) best = i;
  return best;
}

/** HF RepetitionPenaltyLogitsProcessor: a seen token's logit is divided by the penalty (multiplied when negative). */
function penalize(logits: Float32Array, seen: Iterable<number>, penalty: number): Float32Array {
  const out = logits.slice();
  for (const t of new Set(seen)) out[t] = out[t] < 0 ? out[t] * penalty : out[t] / penalty;
  return out;
}

/**
 * The next token for one row. `seen` is the row's sequence so far (prompt and generated tokens),
 * `rng` a seeded uniform [0, 1) stream (src/engine/random.ts).
 */
export function nextToken(logits: Float32Array, seen: readonly number[], o: SamplingOptions, rng: () => number): number {
  const penalty = o.repetitionPenalty ?? 1;
  const scores = penalty !== 1 ? penalize(logits, seen, penalty) : logits;
  const temperature = o.temperature ?? 0.7;
  if (o.greedy || temperature <= 0) return argmax(scores);
  const V = scores.length;
  // top-k: keep logits >= the k-th largest.
  let floor = -Infinity;
  const k = o.topK ?? 0;
  if (k > 0 && k < V) floor = Float32Array.from(scores).sort()[V - k];
  // Softmax over the kept tokens at this temperature.
  let max = -Infinity;
  for (let i = 0; i < V; i++) if (scores[i] >= floor && scores[i] > max) max = scores[i];
  const probs = new Float64Array(V);
  let total = 0;
  for (let i = 0; i < V; i++) {
    if (scores[i] < floor) continue;
    probs[i] = Math.exp((scores[i] - max) / temperature);
    total += probs[i];
  }
  // top-p: the most likely tokens until their mass reaches topP; the cut is a probability value, so
  // tokens tied with the last kept one stay too.
  const topP = o.topP ?? 0.9;
  let cut = 0;
  if (topP < 1) {
    const sorted = probs.slice().sort();
    let mass = 0;
    for (let i = V - 1; i >= 0; i--) {
      mass += sorted[i] / total;
      cut = sorted[i];
      if (mass >= topP) break;
    }
  }
  let kept = 0;
  for (let i = 0; i < V; i++) if (probs[i] >= cut && probs[i] > 0) kept += probs[i];
  let u = rng() * kept;
  let last = -1;
  for (let i = 0; i < V; i++) {
    if (!(probs[i] >= cut && probs[i] > 0)) continue;
    last = i;
    u -= probs[i];
    if (u < 0) return i;
  }
  return last; // rounding left u at ~0: the last kept token
}
