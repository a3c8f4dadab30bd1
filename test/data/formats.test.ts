// Every input format and field naming gives the same examples; the stored tokens read back as written.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { all, prepareAndOpen, put, scratchDir, tinyTokenizer, trainedWords, words } from './helpers';

const dir = scratchDir('formats');
const VOCAB = ['Q:', 'A:', 'what', 'is', 'two', 'plus', 'three', 'four', 'five', 'say', 'hi', 'hello', 'there', 'and', 'more', 'sys', 'be', 'kind', 'ok'];
const tokP = tinyTokenizer(dir, VOCAB);

const QA = [
  { question: 'what is two plus two', answer: 'four' },
  { question: 'what is two plus three', answer: 'five' },
  { question: 'say hi', answer: 'hello there' },
];
const WANT = [
  ['Q:', 'what', 'is', 'two', 'plus', 'two', 'A:', 'four', '</s>'],
  ['Q:', 'what', 'is', 'two', 'plus', 'three', 'A:', 'five', '</s>'],
  ['Q:', 'say', 'hi', 'A:', 'hello', 'there', '</s>'],
];

async function check(file: string, extra: object = {}) {
  const tok = await tokP;
  const ds = await prepareAndOpen(dir, { source: file, tokenizer: tok, ...extra });
  const got = all(ds).map((e) => words(tok, e.inputIds));
  ds.close();
  return got;
}

test('JSONL, JSON array (pretty and one-line), CSV and TSV give the same examples', async () => {
  const jsonl = put(dir, 'a.jsonl', QA.map((r) => JSON.stringify(r)).join('\n') + '\n');
  const pretty = put(dir, 'a.json', JSON.stringify(QA, null, 2));
  const oneLine = put(dir, 'b.json', JSON.stringify(QA));
  const csv = put(dir, 'a.csv', 'question,answer\n' + QA.map((r) => `${r.question},"${r.answer}"`).join('\n'));
  const tsv = put(dir, 'a.tsv', 'question\tanswer\r\n' + QA.map((r) => `${r.question}\t${r.answer}`).join('\r\n') + '\r\n');
  for (const f of [jsonl, pretty, oneLine, csv, tsv]) assert.deepEqual(await check(f), WANT, f);
});

test('field names: q/a, prompt/completion, Question/Answer headers, given names; BOM and blank lines', async () => {
  const rows = (q: string, a: string) => QA.map((r) => JSON.stringify({ [q]: r.question, [a]: r.answer, other: 1 })).join('\n\n');
  assert.deepEqual(await check(put(dir, 'qa.jsonl', rows('q', 'a'))), WANT);
  assert.deepEqual(await check(put(dir, 'pc.jsonl', '\uFEFF' + rows('prompt', 'completion'))), WANT);
  assert.deepEqual(await check(put(dir, 'h.csv', 'Question,Answer\n' + QA.map((r) => `${r.question},${r.answer}`).join('\n'))), WANT);
  assert.deepEqual(await check(put(dir, 'given.jsonl', rows('ask', 'reply')), { fields: { question: 'ask', answer: 'reply' } }), WANT);
});

test('alpaca: instruction + input (after a blank line) -> output', async () => {
  const file = put(dir, 'alpaca.json', JSON.stringify([
    { instruction: 'say hi', input: '', output: 'hello' },
    { instruction: 'say', input: 'hi and more', output: 'ok' },
    { instruction: 'what is two plus two', output: 'four' },
  ]));
  assert.deepEqual(await check(file), [
    ['Q:', 'say', 'hi', 'A:', 'hello', '</s>'],
    ['Q:', 'say', 'hi', 'and', 'more', 'A:', 'ok', '</s>'],
    ['Q:', 'what', 'is', 'two', 'plus', 'two', 'A:', 'four', '</s>'],
  ]);
});

test('chat messages (role/content) and ShareGPT (from/value): single turns use the Q/A template', async () => {
  const messages = put(dir, 'chat.jsonl', [
    { messages: [{ role: 'user', content: 'say hi' }, { role: 'assistant', content: 'hello' }] },
    { messages: [{ role: 'system', content: 'be kind' }, { role: 'user', content: 'say hi' }, { role: 'assistant', content: [{ type: 'text', text: 'hello there' }] }] },
  ].map((r) => JSON.stringify(r)).join('\n'));
  const want = [['Q:', 'say', 'hi', 'A:', 'hello', '</s>'], ['Q:', 'be', 'kind', 'say', 'hi', 'A:', 'hello', 'there', '</s>']];
  assert.deepEqual(await check(messages), want);
  const share = put(dir, 'share.json', JSON.stringify([
    { conversations: [{ from: 'human', value: 'say hi' }, { from: 'gpt', value: 'hello' }] },
    { conversations: [{ from: 'system', value: 'be kind' }, { from: 'human', value: 'say hi' }, { from: 'gpt', value: 'hello there' }] },
  ]));
  assert.deepEqual(await check(share), want);
});

test('pre-tokenized JSONL: input_ids as given, labels -100 not trained, no labels = all trained', async () => {
  const tok = await tokP;
  const id = (w: string) => tok.tokenToId(w)!;
  const ids = ['Q:', 'say', 'hi', 'A:', 'hello'].map(id);
  const file = put(dir, 'tok.jsonl', [
    { input_ids: ids, labels: [-100, -100, -100, -100, id('hello')] },
    { input_ids: ids.slice(0, 3) },
    { input_ids: ids, attention_mask: [1, 1, 1, 1, 1] },
  ].map((r) => JSON.stringify(r)).join('\n'));
  const ds = await prepareAndOpen(dir, { source: file, tokenizer: tok });
  const ex = all(ds);
  assert.deepEqual(words(tok, ex[0]!.inputIds), ['Q:', 'say', 'hi', 'A:', 'hello'], 'no template, no EOS added');
  assert.deepEqual(Array.from(ex[0]!.labels), [-100, -100, -100, -100, id('hello')]);
  assert.deepEqual(Array.from(ex[1]!.labels), Array.from(ex[1]!.inputIds));
  assert.equal(ds.manifest.template.kind, 'none');
  ds.close();
});

test('CSV quoting: commas, doubled quotes and line breaks inside quoted fields', async () => {
  const tok = await tokP;
  const file = put(dir, 'q.csv', 'question,answer\n"what is two, plus two","four ""and"" more"\n"say\nhi","hello"\n');
  const ds = await prepareAndOpen(dir, { source: file, tokenizer: tok });
  const ex = all(ds);
  // "two," and '"and"' are unknown words to the word-level vocabulary: [UNK]
  assert.deepEqual(words(tok, ex[0]!.inputIds), ['Q:', 'what', 'is', '[UNK]', 'plus', 'two', 'A:', 'four', '[UNK]', 'more', '</s>']);
  assert.deepEqual(words(tok, ex[1]!.inputIds), ['Q:', 'say', 'hi', 'A:', 'hello', '</s>']);
  assert.deepEqual(trainedWords(tok, ex[1]!.labels), ['hello', '</s>']);
  assert.equal(ds.origin(ds.indices('train')[1]!).line, 3, 'a record starts on the line where its first field does');
  ds.close();
});
