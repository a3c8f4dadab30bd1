// completionAccuracy: scoring and aggregation (counts, interval, categories) on scripted completions,
// and sampled decoding on a fixture model: reproducible from its seed, a mean over the samples.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CompletionItem, completionAccuracy } from '../../src/engine/eval/completionAccuracy';
import { exactMatch } from '../../src/engine/eval/exactMatch';
import { proportion } from '../../src/engine/eval/proportion';
import { Decoder, GenerateOptions } from '../../src/engine/generate/generator';
import { Tokenizer } from '../../src/engine/tokenizer';
import { fixtureModel } from '../generate/fixtureModels';
import { stepKey } from '../../src/engine/random';

// One token per character, so a script of completions can be written as text.
const charTokenizer = {
  eosId: undefined,
  eosIds: [],
  encode: async (s: string) => [...s].map((ch) => ch.charCodeAt(0)),
  decode: async (ids: readonly number[]) => String.fromCharCode(...ids),
} as unknown as Tokenizer;

/** A decoder that answers from a script: completion(prompt, row, call seed). Records each call's seed and rows. */
function scriptedDecoder(completion: (prompt: string, row: number, seed: number) => string) {
  const calls: { seed: number; rows: number }[] = [];
  const decoder = {
    async generate(prompts: number[][], o: GenerateOptions) {
      calls.push({ seed: o.seed ?? 0, rows: prompts.length });
      const tokens = prompts.map((p, r) => [...completion(String.fromCharCode(...p), r, o.seed ?? 0)].map((ch) => ch.charCodeAt(0)));
      return { tokens, finishReasons: tokens.map(() => 'length' as const) };
    },
  } as unknown as Decoder;
  return { decoder, calls };
}

const ITEMS: CompletionItem[] = [
  { prompt: 'Capital of France?', answer: 'Paris', category: 'capitals' },
  { prompt: 'Capital of Italy?', answer: 'Rome', category: 'capitals' },
  { prompt: '2 + 2 =', answer: '4', category: 'arithmetic' },
  { prompt: 'Colour of the sky?', answer: 'blue' },
];
const GREEDY: Record<string, string> = { 'Capital of France?': ' Paris.', 'Capital of Italy?': ' Rome is', '2 + 2 =': ' 4', 'Colour of the sky?': ' the blue' };

test('greedy: exact match per item, counts with an interval, per category (items without one only in the total)', async () => {
  const { decoder } = scriptedDecoder((p) => GREEDY[p]);
  const r = await completionAccuracy(decoder, charTokenizer, ITEMS, { batchSize: 3 });
  assert.deepEqual(r.items.map((it) => [it.output, it.score, it.correct]), [[' Paris.', 1, true], [' Rome is', 0, false], [' 4', 1, true], [' the blue', 1, true]]);
  assert.deepEqual([r.total, r.correct, r.accuracy], [4, 3, 0.75]);
  assert.deepEqual(r.proportion, proportion(3, 4));
  assert.deepEqual(Object.keys(r.byCategory), ['capitals', 'arithmetic']);
  assert.deepEqual(r.byCategory.capitals, proportion(1, 2));
  assert.deepEqual(r.byCategory.arithmetic, proportion(1, 1));
  assert.deepEqual(r.decoding, { kind: 'greedy' });
});

test('no items: the proportion is null, not 0%', async () => {
  const { decoder } = scriptedDecoder(() => '');
  const r = await completionAccuracy(decoder, charTokenizer, []);
  assert.deepEqual([r.proportion, r.total, r.byCategory], [null, 0, {}]);
});

test('sampling: an item scores the fraction of its samples that match; each item draws from stepKey(seed, index)', async () => {
  // Even rows answer right, odd rows wrong: 3 samples -> 2/3 (correct by majority), 2 samples -> 1/2 (not).
  const { decoder, calls } = scriptedDecoder((p, row) => (row % 2 === 0 ? GREEDY[p] : ' Lyon'));
  const r3 = await completionAccuracy(decoder, charTokenizer, ITEMS, { decoding: { kind: 'sample', samples: 3, seed: 11 } });
  assert.deepEqual(r3.items.map((it) => it.score), [2 / 3, 0, 2 / 3, 2 / 3]);
  assert.deepEqual(r3.items.map((it) => it.correct), [true, false, true, true]);
  assert.deepEqual(r3.items[0].outputs, [' Paris.', ' Lyon', ' Paris.']);
  assert.deepEqual(calls, ITEMS.map((_, i) => ({ seed: stepKey(11, i), rows: 3 })));
  // The sum of fractional scores is the count; the interval is Wilson's at that count.
  assert.ok(Math.abs(r3.correct - 2) < 1e-12);
  assert.deepEqual(r3.proportion, proportion(r3.correct, 4));
  assert.ok(Math.abs(r3.byCategory.capitals.correct - 2 / 3) < 1e-12);
  const r2 = await completionAccuracy(decoder, charTokenizer, ITEMS, { decoding: { kind: 'sample', samples: 2, seed: 11 } });
  assert.deepEqual(r2.items.map((it) => [it.score, it.correct]), [[0.5, false], [0, false], [0.5, false], [0.5, false]]);
  await assert.rejects(completionAccuracy(decoder, charTokenizer, ITEMS, { decoding: { kind: 'sample', samples: 0, seed: 1 } }), /whole number of samples/);
});

test('sampling on a fixture model: the same seed gives the same samples and score, another seed other samples', async () => {
  const m = await fixtureModel('llama3_tied_tiny'); // random weights, 64 tokens: one per character of ALPHABET
  const ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .';
  const tokenizer = {
    eosId: undefined,
    eosIds: [],
    encode: async (s: string) => [...s].map((ch) => ALPHABET.indexOf(ch)),
    decode: async (ids: readonly number[]) => ids.map((t) => ALPHABET[t]).join(''),
  } as unknown as Tokenizer;
  const decoder = new Decoder(m.lm, m.weights, { threads: 1 });
  const items: CompletionItem[] = ['The sky is', 'Two and two', 'Paris is in'].map((prompt) => ({ prompt, answer: 'x' }));
  const run = (its: CompletionItem[], seed: number) => completionAccuracy(decoder, tokenizer, its, { decoding: { kind: 'sample', samples: 4, seed, maxNewTokens: 3, temperature: 1.5, topP: 1 } });
  const a = await run(items, 1);
  // Answers that some samples produce, so that scores are neither all 0 nor all 1.
  const answered = items.map((it, i) => ({ ...it, answer: a.items[i].outputs![0] }));
  const b = await run(answered, 1), b2 = await run(answered, 1), c = await run(answered, 2);
  assert.deepEqual(b2, b);
  assert.deepEqual(b.items.map((it) => it.outputs), a.items.map((it) => it.outputs), 'the answers do not change the draws');
  for (const it of b.items) assert.equal(it.score, it.outputs!.filter((o) => exactMatch(o, it.answer)).length / 4);
  assert.ok(b.items.every((it) => it.score >= 0.25) && b.items.some((it) => it.score < 1), `scores ${b.items.map((it) => it.score)}`);
  assert.ok(Math.abs(b.correct - b.items.reduce((s, it) => s + it.score, 0)) < 1e-12);
  const all = (r: typeof a) => r.items.flatMap((it) => it.outputs!);
  assert.notDeepEqual(all(c), all(b));
  assert.ok(new Set(all(a)).size > items.length, 'the samples of an item differ from each other');
  await decoder.release();
});
