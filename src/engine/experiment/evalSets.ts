// The evaluation of an experiment: which items are asked, and one measured evaluation of a model
// (the base once, each variant after training). Nothing here is estimated: every figure is a
// generation or a forward pass on held-out items.
//
//   task         the test split of the Q&A data (never trained on, never seen by early stopping)
//   taskTrained  a seeded sample of the training questions, asked again (memorization)
//   general      prose prompts on general knowledge (exact match of the completion)
//   generalText  perplexity and next-token accuracy on general text neither pretrained on nor replayed
//   prose        prose prompts on the facts the Q&A data asks about (the built-in demo: does the base
//                model know them at all?)

import { existsSync, readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { PreparedDataset, Split } from '../data/preparedDataset';
import { AccuracyResult, CompletionItem, Decoding, completionAccuracy } from '../eval/completionAccuracy';
import { TextMetrics, textMetrics } from '../eval/textMetrics';
import { Decoder } from '../generate/generator';
import { CausalLM } from '../models/causalLM';
import { uniformRng } from '../random';
import { Tokenizer } from '../tokenizer';
import type { DeviceRequest } from '../runtime/session';

export interface EvalSets {
  task: CompletionItem[] | null;
  /** Why there is no task figure. */
  taskMissing?: string;
  taskTrained: CompletionItem[];
  general: CompletionItem[] | null;
  generalText: string[] | null;
  prose: CompletionItem[] | null;
}

export interface ModelEvaluation {
  task: AccuracyResult | null;
  taskTrained: AccuracyResult | null;
  general: AccuracyResult | null;
  prose: AccuracyResult | null;
  generalText: TextMetrics | null;
  seconds: number;
}

/** General text is cut to about this many characters (~12k tokens): enough for a perplexity to 1%. */
const GENERAL_TEXT_CHARS = 48_000;

/** A split's examples as (prompt, answer): the prompt is the part outside the loss, the answer the rest. */
export async function qaItems(data: PreparedDataset, split: Split, tokenizer: Tokenizer, limit = Infinity, seed = 0): Promise<CompletionItem[]> {
  let ids = [...data.indices(split)];
  if (ids.length > limit) {
    const next = uniformRng(seed);
    for (let i = ids.length - 1; i > 0; i--) { const j = Math.floor(next() * (i + 1)); [ids[i], ids[j]] = [ids[j], ids[i]]; }
    ids = ids.slice(0, limit).sort((a, b) => a - b);
  }
  const items: CompletionItem[] = [];
  for (const i of ids) {
    const e = data.example(i);
    let k = 0;
    while (k < e.labels.length && e.labels[k] === -100) k++;
    const answerIds = Array.from(e.inputIds.subarray(k)).filter((id) => id !== tokenizer.eosId);
    const prompt = await tokenizer.decode(Array.from(e.inputIds.subarray(0, k)), { skipSpecialTokens: true });
    const answer = (await tokenizer.decode(answerIds, { skipSpecialTokens: true })).trim();
    if (answer) items.push({ prompt: prompt.replace(/\s+$/, ''), answer });
  }
  return items;
}

/** Categories from a JSONL data file's `category` field, matched by the question text. */
export function attachCategories(items: CompletionItem[], files: (string | null)[]): CompletionItem[] {
  const byQuestion = new Map<string, string>();
  for (const f of files) {
    if (!f || !existsSync(f) || !['.jsonl', '.ndjson'].includes(extname(f).toLowerCase())) continue;
    for (const line of readFileSync(f, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      try {
        const r = JSON.parse(line) as { question?: unknown; category?: unknown };
        if (typeof r.question === 'string' && typeof r.category === 'string') byQuestion.set(r.question, r.category);
      } catch { /* the data was validated by prepare; a line it skipped has no item here */ }
    }
  }
  if (!byQuestion.size) return items;
  return items.map((it) => {
    for (const [q, c] of byQuestion) if (it.prompt.includes(q)) return { ...it, category: c };
    return it;
  });
}

/** prompt/completion JSONL (the format of assets/demo/general_eval.jsonl): prose prompts, scored as continuations. */
export function readPromptFile(file: string): CompletionItem[] {
  return readFileSync(file, 'utf8').split('\n').filter((l) => l.trim()).map((l, i) => {
    const r = JSON.parse(l) as { prompt?: unknown; answer?: unknown; completion?: unknown; category?: unknown };
    if (typeof r.prompt !== 'string' || (typeof r.answer !== 'string' && typeof r.completion !== 'string')) {
      throw new Error(`${file}:${i + 1}: a general prompt needs "prompt" and "answer" (or "completion")`);
    }
    const answer = typeof r.answer === 'string' ? r.answer : String(r.completion).trim();
    return { prompt: r.prompt, answer, match: 'continuation' as const, ...(typeof r.category === 'string' ? { category: r.category } : {}) };
  });
}

/** Documents (blank-line separated) up to GENERAL_TEXT_CHARS, in file order. */
export function readGeneralText(file: string): string[] {
  const out: string[] = [];
  let chars = 0;
  for (const d of readFileSync(file, 'utf8').split(/\n\s*\n/)) {
    const t = d.trim();
    if (!t) continue;
    if (chars + t.length > GENERAL_TEXT_CHARS && out.length) break;
    out.push(t);
    chars += t.length;
  }
  return out;
}

export async function evaluateModel(model: CausalLM, weights: Map<string, Float32Array>, tokenizer: Tokenizer, sets: EvalSets,
  o: { decoding: Decoding; device: DeviceRequest; threads?: number; onLog?: (s: string) => void }): Promise<ModelEvaluation> {
  const t0 = performance.now();
  const decoder = new Decoder(model, weights, { device: o.device, threads: o.threads || undefined });
  try {
    const ask = async (items: CompletionItem[] | null) => (items && items.length ? completionAccuracy(decoder, tokenizer, items, { decoding: o.decoding }) : null);
    const task = await ask(sets.task);
    const taskTrained = await ask(sets.taskTrained);
    const general = await ask(sets.general);
    const prose = await ask(sets.prose);
    const generalText = sets.generalText?.length
      ? await textMetrics(model, weights, tokenizer, sets.generalText, { seqLength: Math.min(128, model.maxPositions), batchSize: 8, device: o.device, threads: o.threads || undefined })
      : null;
    return { task, taskTrained, general, prose, generalText, seconds: (performance.now() - t0) / 1000 };
  } finally {
    await decoder.release();
  }
}
