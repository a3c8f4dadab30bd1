// Measured accuracy: greedy completions of held-out prompts, compared with the expected answer.
// Used for "general-task vs Q&A-task accuracy, before and after" (never simulated).

import { Decoder, generate } from '../generate/generator';
import { Tokenizer } from '../tokenizer';

export interface CompletionItem {
  prompt: string;
  answer: string;
}

export interface ScoredItem extends CompletionItem {
  output: string;
  correct: boolean;
}

export interface AccuracyResult {
  total: number;
  correct: number;
  accuracy: number;
  items: ScoredItem[];
}

export interface AccuracyOptions {
  maxNewTokens?: number;
  batchSize?: number;
}

/** Lower case, single spaces, no surrounding spaces or trailing punctuation. */
export function normalizeAnswer(s: string): string {
  return s.toLowerCase().replace(/\s+/g, ' ').trim().replace(/[.,;:!?"')\]]+$/, '').trim();
}

/**
 * An output is correct when its first line, normalised, starts with the normalised answer and the
 * answer ends there (at a word boundary): "Paris." and "Paris is" count for "Paris", "Parisian" not.
 */
export function isCorrect(output: string, answer: string): boolean {
  const first = normalizeAnswer(output.split('\n')[0]);
  const want = normalizeAnswer(answer);
  if (!want) return false;
  return first === want || (first.startsWith(want) && /^[\s.,;:!?'")]/.test(first.slice(want.length)));
}

export async function completionAccuracy(decoder: Decoder, tokenizer: Tokenizer, items: readonly CompletionItem[], o: AccuracyOptions = {}): Promise<AccuracyResult> {
  const batchSize = o.batchSize ?? 16;
  const maxNewTokens = o.maxNewTokens ?? Math.min(24, Math.max(4, ...(await Promise.all(items.map(async (it) => (await tokenizer.encode(it.answer, { addSpecialTokens: false })).length + 3)))));
  const scored: ScoredItem[] = [];
  for (let start = 0; start < items.length; start += batchSize) {
    const chunk = items.slice(start, start + batchSize);
    const prompts = await Promise.all(chunk.map((it) => tokenizer.encode(it.prompt, { addSpecialTokens: true })));
    const res = await generate(decoder, prompts, {
      greedy: true, maxNewTokens, stopTokenIds: tokenizer.eosId === undefined ? [] : [tokenizer.eosId],
      stopStrings: ['\n'], decode: (ids) => tokenizer.decode(ids, { skipSpecialTokens: true }),
    });
    for (let r = 0; r < chunk.length; r++) {
      const output = await tokenizer.decode(res.tokens[r], { skipSpecialTokens: true });
      scored.push({ ...chunk[r], output, correct: isCorrect(output, chunk[r].answer) });
    }
  }
  const correct = scored.filter((s) => s.correct).length;
  return { total: scored.length, correct, accuracy: scored.length ? correct / scored.length : 0, items: scored };
}
