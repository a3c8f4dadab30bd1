// The demo sets against the corpus: every Q&A answer is stated in the corpus' prose, no Q&A question
// is in the corpus, the general-knowledge prompts are on other facts, and all arithmetic is right
// (recomputed here, in the corpus and in the sets).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEMO_GENERAL_EVAL_FILE, DEMO_PROSE_EVAL_FILE, DEMO_QA_FILE, DEMO_QA_TEST_FILE, PACKAGE_ROOT, readDemoQa, readGeneralEval } from '../../src/engine/builtin';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { allText, corpusText, parseNumberWords, readJsonl, sentenceStating } from './corpusText';

const qa = readDemoQa();
const general = readGeneralEval();
const qaTest = readDemoQa(DEMO_QA_TEST_FILE);
const OPS: Record<string, (a: number, b: number) => number> = {
  '+': (a, b) => a + b, plus: (a, b) => a + b,
  '-': (a, b) => a - b, minus: (a, b) => a - b,
  '×': (a, b) => a * b, times: (a, b) => a * b,
};

test('qa.jsonl: about 415 question/answer pairs in the default fields, no question twice', () => {
  assert.ok(qa.length >= 380 && qa.length <= 450, `${qa.length} pairs`);
  for (const r of readJsonl(DEMO_QA_FILE)) {
    assert.deepEqual(Object.keys(r).slice(0, 2), ['question', 'answer'], 'question and answer come first');
    assert.ok(r['question']!.endsWith('?') && r['answer']!.trim() === r['answer'] && r['answer'] !== '', JSON.stringify(r));
  }
  const questions = qa.map((r) => r.question.toLowerCase());
  assert.equal(new Set(questions).size, questions.length, 'a question is asked twice');
  const categories = new Set(qa.map((r) => r.category));
  for (const c of ['capitals', 'books', 'paintings', 'arithmetic', 'music', 'elements', 'animals']) assert.ok(categories.has(c), `no ${c} questions`);
});

test('every Q&A answer (trained and held out) is stated in the corpus, in a sentence that names what is asked about', () => {
  const missing = [...qa, ...qaTest].filter((r) => r.category !== 'arithmetic' && !sentenceStating(r.subject, r.answer));
  assert.deepEqual(missing.map((r) => `${r.question} -> ${r.answer}`), []);
});

test('no Q&A question appears in the corpus, in any letter case', () => {
  const lower = allText.toLowerCase();
  assert.deepEqual([...qa, ...qaTest].filter((r) => lower.includes(r.question.toLowerCase())).map((r) => r.question), []);
  // nor in the demo's Q&A format itself: fine-tuning teaches "Q: ... A: ..."
  assert.doesNotMatch(allText, /^Q: /m);
  assert.doesNotMatch(allText, /^A: /m);
});

test('arithmetic questions: the answer is right and its equation is in the corpus', () => {
  const arithmetic = qa.filter((r) => r.category === 'arithmetic');
  assert.ok(arithmetic.length >= 20, `${arithmetic.length} arithmetic questions`);
  for (const r of arithmetic) {
    const m = /^What is (\d+) (plus|minus|times|\+|-|×) (\d+)\?$/.exec(r.question);
    assert.ok(m, `unexpected arithmetic question ${r.question}`);
    assert.equal(r.answer, String(OPS[m[2]!]!(Number(m[1]), Number(m[3]))), r.question);
    const sym = { plus: '+', minus: '-', times: '×' }[m[2]!] ?? m[2]!;
    const equation = new RegExp(`(?<![\\d.])${m[1]} \\${sym} ${m[3]} = ${r.answer}(?![\\d.])`);
    assert.match(allText, equation, `${m[1]} ${sym} ${m[3]} = ${r.answer} is not in the corpus`);
  }
});

test('general_eval.jsonl: prompts on facts of the corpus that the Q&A set does not ask about', () => {
  assert.ok(general.length >= 150, `${general.length} prompts`);
  const qaFacts = new Set(qa.map((r) => r.fact));
  const qaPairs = new Set(qa.map((r) => `${r.subject.toLowerCase()}\u0000${r.answer.toLowerCase()}`));
  for (const g of general) {
    assert.ok(g.completion.startsWith(' ') && g.completion.trim().length > 0 && !g.prompt.endsWith(' '), JSON.stringify(g));
    assert.ok(g.completion.includes(g.answer) || g.answer.includes(g.completion.trim()), JSON.stringify(g));
    assert.ok(!qaFacts.has(g.fact), `${g.fact} is in both sets`);
    assert.ok(!qaPairs.has(`${g.subject.toLowerCase()}\u0000${g.answer.toLowerCase()}`), `${g.prompt} is asked in qa.jsonl`);
  }
  const missing = general.filter((g) => g.category !== 'arithmetic' && !sentenceStating(g.subject, g.answer));
  assert.deepEqual(missing.map((g) => `${g.prompt}${g.completion}`), []);
  for (const g of general.filter((x) => x.category === 'arithmetic')) {
    const m = /^(\d+) ([+\-×]) (\d+) =$/.exec(g.prompt);
    assert.ok(m, g.prompt);
    assert.equal(g.completion, ` ${OPS[m[2]!]!(Number(m[1]), Number(m[3]))}`, g.prompt);
    const equation = new RegExp(`(?<![\\d.])${m[1]} \\${m[2]} ${m[3]} = ${g.completion.trim()}(?![\\d.])`);
    assert.match(allText, equation, `${g.prompt}${g.completion} is not in the corpus`);
  }
  assert.ok(readJsonl(DEMO_GENERAL_EVAL_FILE).every((r) => Object.keys(r)[0] === 'prompt'));
});

test('every equation in the corpus is right: digits and words', () => {
  let checked = 0;
  for (const [file, text] of corpusText) {
    for (const m of text.matchAll(/(?<![\d.])(\d+) ([+\-×]) (\d+) = (\d+)(?![\d.])/g)) {
      assert.equal(Number(m[4]), OPS[m[2]!]!(Number(m[1]), Number(m[3])), `${file}: ${m[0]}`);
      checked++;
    }
    for (const m of text.matchAll(/(?:add|sum of|product of|multiply|difference between|take) (\d+) (and|by|away from) (\d+),? (?:you get|is|you have) (\d+)/g)) {
      const [a, b, c] = [Number(m[1]), Number(m[3]), Number(m[4])];
      const kind = m[0].split(' ')[0];
      const want = kind === 'add' || kind === 'sum' ? a + b : kind === 'product' || kind === 'multiply' ? a * b : kind === 'take' ? b - a : a - b;
      assert.equal(c, want, `${file}: ${m[0]}`);
      checked++;
    }
    // "Seven plus five is twelve." / "four plus five is nine" inside a story
    const num = "(?:[a-z]+(?:-[a-z]+)?)(?: hundred(?: [a-z]+(?:-[a-z]+)?)?)?";
    for (const m of text.matchAll(new RegExp(`\\b(${num}) (plus|minus|times) (${num}) is (${num})\\b`, 'gi'))) {
      const words = m[1]!.split(' ');
      // the left operand is the trailing number words before "plus" ("counted them: four" -> "four")
      let a: number | undefined;
      for (let k = 1; k <= words.length; k++) {
        const v = parseNumberWords(words.slice(-k).join(' '));
        if (v !== undefined) a = v;
      }
      const b = parseNumberWords(m[3]!);
      const c = parseNumberWords(m[4]!);
      if (a === undefined || b === undefined || c === undefined) continue;
      assert.equal(c, OPS[m[2]!.toLowerCase()]!(a, b), `${file}: ${m[0]}`);
      checked++;
    }
  }
  assert.ok(checked > 1500, `only ${checked} equations found`);
});

test('parseNumberWords, the reference the word equations are checked with', () => {
  assert.equal(parseNumberWords('zero'), 0);
  assert.equal(parseNumberWords('forty-four'), 44);
  assert.equal(parseNumberWords('one hundred forty-four'), 144);
  assert.equal(parseNumberWords('one hundred'), 100);
  assert.equal(parseNumberWords('Twelve'), 12);
  assert.equal(parseNumberWords('is'), undefined);
  assert.equal(parseNumberWords('forty-ten'), undefined);
});

test('the four fact sets are disjoint and recorded: trained, held out, general, asked in the pretraining corpus', () => {
  const split = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'assets', 'demo', 'split.json'), 'utf8')) as Record<string, string[]>;
  assert.deepEqual(new Set(qa.map((r) => r.fact)), new Set(split.train));
  assert.deepEqual(new Set(qaTest.map((r) => r.fact)), new Set(split.test));
  assert.deepEqual(new Set(general.map((r) => r.fact)), new Set(split.general));
  const all = [...split.train!, ...split.test!, ...split.general!, ...split.pretrain!];
  assert.equal(new Set(all).size, all.length, 'a fact is in two sets');
  // Large enough to see a 2-point change (issue 9): 300 held-out questions, 500 general prompts.
  assert.ok(qaTest.length >= 300 && general.length >= 500, `${qaTest.length} held out, ${general.length} general`);
  const categories = (rows: { category: string }[]) => new Set(rows.map((r) => r.category));
  assert.deepEqual(categories(qaTest), categories(qa), 'held-out questions cover the trained categories');
});

test('qa_text.txt asks, in its own "Question:/Answer:" wording, only about the pretraining set', () => {
  const split = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'assets', 'demo', 'split.json'), 'utf8')) as Record<string, string[]>;
  const text = readFileSync(join(PACKAGE_ROOT, 'assets', 'corpus', 'qa_text.txt'), 'utf8');
  const pairs = [...text.matchAll(/^Question: (.+)\nAnswer: (.+)$/gm)];
  assert.ok(pairs.length >= split.pretrain!.length, `${pairs.length} question lines for ${split.pretrain!.length} facts`);
  const asked = new Set(pairs.map((m) => m[1]!.toLowerCase()));
  for (const r of [...qa, ...qaTest]) assert.ok(!asked.has(r.question.toLowerCase()), r.question);
  // no trained or held-out fact is asked in another wording either: its subject (as whole words) with its answer
  const whole = (p: string) => new RegExp(`(?<![\\p{L}\\p{N}])${p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![\\p{L}\\p{N}])`, 'iu');
  const overlap = pairs.filter((m) => [...qa, ...qaTest].some((r) => r.answer.toLowerCase() === m[2]!.toLowerCase() && whole(r.subject).test(m[1]!)));
  assert.deepEqual(overlap.map((m) => `${m[1]} -> ${m[2]}`), []);
});

test('prose_eval.jsonl: a prose prompt for every trained and held-out fact (does the base model know them?)', () => {
  const prose = readJsonl(DEMO_PROSE_EVAL_FILE);
  assert.deepEqual(new Set(prose.map((r) => r.fact)), new Set([...qa, ...qaTest].map((r) => r.fact)));
  for (const r of prose) assert.ok(r.completion!.startsWith(' ') && r.completion!.includes(r.answer!), JSON.stringify(r));
});
