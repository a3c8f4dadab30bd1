// Measured accuracy: completions of held-out prompts, generated and compared with the expected answer
// by exact match (exactMatch.ts). Used for "general-task vs Q&A-task accuracy, before and after"
// (never simulated). Every figure comes with its counts and a 95% interval (proportion.ts).

import { Decoder, generate } from '../generate/generator';
import { stepKey } from '../random';
import { Tokenizer } from '../tokenizer';
import { matches } from './exactMatch';
import { Proportion, proportion } from './proportion';

export interface CompletionItem {
  prompt: string;
  answer: string;
  /** Reported separately as well as in the total (e.g. "capitals", "arithmetic"). */
  category?: string;
  /** 'exact' (default): a question's answer; 'continuation': a prose prompt continued (exactMatch.ts). */
  match?: 'exact' | 'continuation';
}

export interface ScoredItem extends CompletionItem {
  /** The completion (with sampling: the first sample's). */
  output: string;
  /** Every sample's completion (sampling only). */
  outputs?: string[];
  /** 1 or 0 with greedy decoding; with sampling, the fraction of samples that match exactly. */
  score: number;
  /** Greedy: the exact match. Sampling: more than half of the samples match (used for flips). */
  correct: boolean;
}

/** The design's sampling settings; a sampled evaluation scores each item by the mean over `samples` draws. */
export const SAMPLING_DEFAULTS = { topP: 0.9, temperature: 0.7, maxNewTokens: 20 } as const;

export type Decoding =
  | { kind: 'greedy' }
  | { kind: 'sample'; samples: number; seed: number; topP?: number; temperature?: number; maxNewTokens?: number };

export interface AccuracyResult {
  total: number;
  /** Sum of item scores: a whole number with greedy decoding, fractional with sampling. */
  correct: number;
  /** correct / total, 0 when there are no items (kept for callers; `proportion` says "no items" as null). */
  accuracy: number;
  /** The figure to report: counts and the 95% interval; null when there were no items. */
  proportion: Proportion | null;
  /** Per category, for the items that have one (in order of first appearance). */
  byCategory: Record<string, Proportion>;
  decoding: Decoding;
  items: ScoredItem[];
}

export interface AccuracyOptions {
  /** Default: greedy, the answer's length + 3 (4 to 24); sampling: SAMPLING_DEFAULTS.maxNewTokens. */
  maxNewTokens?: number;
  /** Prompts per generation batch (greedy; a sampled item is one batch of its samples). */
  batchSize?: number;
  /** Default greedy. */
  decoding?: Decoding;
}

/**
 * Scores every item, then aggregates. With sampling, the Proportion's `correct` is the sum of item
 * scores and its interval is Wilson's at that (fractional) count: an item's mean over samples lies in
 * [0, 1] with the same mean as a right/wrong outcome, so its variance is at most p(1 - p), and the
 * interval over items is conservative rather than too narrow (pooling the n draws of every item as
 * independent trials would be too narrow: draws of one item are correlated).
 */
export async function completionAccuracy(decoder: Decoder, tokenizer: Tokenizer, items: readonly CompletionItem[], o: AccuracyOptions = {}): Promise<AccuracyResult> {
  const decoding = o.decoding ?? { kind: 'greedy' };
  const scored = decoding.kind === 'greedy' ? await scoreGreedy(decoder, tokenizer, items, o) : await scoreSampled(decoder, tokenizer, items, decoding, o);
  const sum = (xs: ScoredItem[]) => xs.reduce((s, x) => s + x.score, 0);
  const byCategory: Record<string, Proportion> = {};
  for (const c of new Set(scored.flatMap((s) => (s.category === undefined ? [] : [s.category])))) {
    const of = scored.filter((s) => s.category === c);
    byCategory[c] = proportion(sum(of), of.length)!;
  }
  const p = proportion(sum(scored), scored.length);
  return { total: scored.length, correct: sum(scored), accuracy: p?.fraction ?? 0, proportion: p, byCategory, decoding, items: scored };
}

const stopsOf = (tokenizer: Tokenizer) => ({
  stopTokenIds: [...tokenizer.eosIds],
  stopStrings: ['\n'],
  decode: (ids: number[]) => tokenizer.decode(ids, { skipSpecialTokens: true }),
});

async function scoreGreedy(decoder: Decoder, tokenizer: Tokenizer, items: readonly CompletionItem[], o: AccuracyOptions): Promise<ScoredItem[]> {
  const batchSize = o.batchSize ?? 16;
  const maxNewTokens = o.maxNewTokens ?? Math.min(24, Math.max(4, ...(await Promise.all(items.map(async (it) => (await tokenizer.encode(it.answer, { addSpecialTokens: false })).length + 3)))));
  const scored: ScoredItem[] = [];
  for (let start = 0; start < items.length; start += batchSize) {
    const chunk = items.slice(start, start + batchSize);
    const prompts = await Promise.all(chunk.map((it) => tokenizer.encode(it.prompt, { addSpecialTokens: true })));
    const res = await generate(decoder, prompts, { greedy: true, maxNewTokens, ...stopsOf(tokenizer) });
    for (let r = 0; r < chunk.length; r++) {
      const output = await tokenizer.decode(res.tokens[r], { skipSpecialTokens: true });
      const correct = matches(output, chunk[r].answer, chunk[r].match);
      scored.push({ ...chunk[r], output, score: correct ? 1 : 0, correct });
    }
  }
  return scored;
}

/**
 * Item i's samples are the rows of one generate() call seeded with stepKey(seed, i), so its draws
 * depend on the seed and its index only, not on batching or on the other items.
 */
async function scoreSampled(decoder: Decoder, tokenizer: Tokenizer, items: readonly CompletionItem[], d: Extract<Decoding, { kind: 'sample' }>, o: AccuracyOptions): Promise<ScoredItem[]> {
  if (!Number.isInteger(d.samples) || d.samples < 1) throw new Error(`sampled evaluation needs a whole number of samples >= 1, got ${d.samples}`);
  const settings = {
    topP: d.topP ?? SAMPLING_DEFAULTS.topP, temperature: d.temperature ?? SAMPLING_DEFAULTS.temperature,
    maxNewTokens: d.maxNewTokens ?? o.maxNewTokens ?? SAMPLING_DEFAULTS.maxNewTokens, ...stopsOf(tokenizer),
  };
  const scored: ScoredItem[] = [];
  for (const [i, it] of items.entries()) {
    const prompt = await tokenizer.encode(it.prompt, { addSpecialTokens: true });
    const res = await generate(decoder, Array.from({ length: d.samples }, () => prompt), { ...settings, seed: stepKey(d.seed, i) });
    const outputs = await Promise.all(res.tokens.map((t) => tokenizer.decode(t, { skipSpecialTokens: true })));
    const score = outputs.filter((out) => matches(out, it.answer, it.match)).length / d.samples;
    scored.push({ ...it, output: outputs[0], outputs, score, correct: score > 0.5 });
  }
  return scored;
}
