// The demo's sets, drawn from the fact records of the corpus. Every fact is stated in the corpus'
// prose (factProse.mjs); the facts are split into four disjoint sets, the same share of every group:
//   train     qa.jsonl         question/answer pairs the demo fine-tunes on
//   test      qa_test.jsonl    held-out question/answer pairs: never trained on, never seen by early
//                              stopping; the task figure of the demo
//   general   general_eval.jsonl  prose prompts ("The capital of France is") on other facts: what the
//                              base model knows and should still know after fine-tuning
//   pretrain  the facts asked in question form *in the pretraining corpus* (qa_text.txt, in the words
//             "Question: ... Answer: ...", not the demo's "Q: ... A: ..." template). Physics of Language
//             Models 3.1 (Allen-Zhu and Li 2023): Q&A text about other facts mixed into pretraining is
//             what makes facts extractable by questions later; without it held-out Q&A stays near 0%.
// prose_eval.jsonl holds prose prompts for the train and test facts: the base model must know the
// facts the demo asks about (as statements) for fine-tuning to be able to teach it to answer.
import { SeededRandom } from './seededRandom.mjs';

/** Share of each group's facts in each set; the rest of a group goes to `pretrain`. */
export const SHARES = { train: 0.24, test: 0.19, general: 0.30 };

/** Splits the records of each group by SHARES (rounded, at least one where the group allows). */
export function splitFacts(records, seed) {
  const rng = SeededRandom.forPart(seed, 'demo-split');
  const byGroup = new Map();
  for (const r of records) byGroup.set(r.group, [...(byGroup.get(r.group) ?? []), r]);
  const sets = { train: [], test: [], general: [], pretrain: [] };
  for (const [, list] of [...byGroup].sort(([a], [b]) => a.localeCompare(b))) {
    const shuffled = rng.shuffled(list);
    const n = shuffled.length;
    const k = { train: Math.round(n * SHARES.train), test: Math.round(n * SHARES.test), general: Math.round(n * SHARES.general) };
    let at = 0;
    for (const set of ['train', 'test', 'general']) {
      sets[set].push(...shuffled.slice(at, at + k[set]));
      at += k[set];
    }
    sets.pretrain.push(...shuffled.slice(at));
  }
  return sets;
}

const qaPair = (r, rng) => ({ question: rng.pick(r.questions), answer: r.answer, category: r.group, subject: r.subject, fact: r.id });
const prosePrompt = (r) => ({ prompt: r.prompt, completion: r.completion, answer: r.answer, category: r.group, subject: r.subject, fact: r.id });

export function demoSets(records, seed) {
  const sets = splitFacts(records, seed);
  const rng = SeededRandom.forPart(seed, 'demo');
  return {
    qa: rng.shuffled(sets.train.map((r) => qaPair(r, rng))),
    qaTest: rng.shuffled(sets.test.map((r) => qaPair(r, rng))),
    general: rng.shuffled(sets.general.map(prosePrompt)),
    proseEval: rng.shuffled([...sets.train, ...sets.test].map((r) => ({ ...prosePrompt(r), set: sets.train.includes(r) ? 'train' : 'test' }))),
    pretrain: sets.pretrain,
    split: Object.fromEntries(Object.entries(sets).map(([k, v]) => [k, v.map((r) => r.id).sort()])),
  };
}

/**
 * The pretraining corpus' question-form text: every question wording of every `pretrain` fact, once,
 * as "Question: ...\nAnswer: ..." lines, a few to a document, in a seeded order.
 */
export function qaTextDocuments(pretrain, seed) {
  const rng = SeededRandom.forPart(seed, 'qa-text');
  const lines = rng.shuffled(pretrain.flatMap((r) => r.questions.map((q) => `Question: ${q}\nAnswer: ${r.answer}`)));
  const docs = [];
  for (let i = 0; i < lines.length;) {
    const n = rng.int(2, 5);
    docs.push(lines.slice(i, i + n).join('\n'));
    i += n;
  }
  return docs;
}
