// Every validation error: its code, its line (in the message too), its field, a fix; a failed
// preparation leaves nothing behind; --skip-invalid leaves the bad records out and lists them.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { DataError, DataValidationError, type DataErrorCode } from '../../src/engine/data/dataError';
import { PreparedDataset } from '../../src/engine/data/preparedDataset';
import { prepareDataset, type PrepareOptions } from '../../src/engine/data/prepareDataset';
import { put, scratchDir, tinyTokenizer } from './helpers';

const dir = scratchDir('validation');
const tokP = tinyTokenizer(dir, ['Q:', 'A:', 'what', 'is', 'two', 'four', 'five', 'yes', 'no', 'a', 'b', 'c', 'd']);
let outCount = 0;

/** Prepares `content` as `name`; expects exactly the listed [code, line, field?] errors, in order. */
async function expectErrors(name: string, content: string | Buffer, want: [DataErrorCode, number | undefined, string?][], extra: Partial<PrepareOptions> = {}) {
  const tok = await tokP;
  const file = put(dir, name, content);
  const outDir = join(dir, `out-${outCount++}`);
  await assert.rejects(prepareDataset({ source: file, tokenizer: tok, outDir, ...extra }), (e: unknown) => {
    const errors = e instanceof DataValidationError ? e.errors : e instanceof DataError ? [e] : null;
    assert.ok(errors, `expected data errors, got ${String(e)}`);
    assert.deepEqual(errors.map((x) => [x.code, x.line, ...(x.field === undefined ? [] : [x.field])]), want.map((w) => w.filter((v, i) => i < 2 || v !== undefined)), (e as Error).message);
    for (const x of errors) {
      assert.equal(x.file, file);
      if (x.line !== undefined) assert.ok(x.message.includes(`${name}:${x.line}:`), `line in the message: ${x.message}`);
      assert.ok(x.fix.length > 10, `a fix for ${x.code}`);
    }
    if (e instanceof DataValidationError) for (const x of errors.slice(0, 10)) assert.ok(e.message.includes(x.message), 'the summary lists the errors');
    return true;
  });
  assert.ok(!existsSync(outDir), 'nothing written');
  assert.deepEqual(readdirSync(dir).filter((f) => f.includes('.tmp-')), [], 'no temp folder left');
}

const J = (...rows: unknown[]) => rows.map((r) => (typeof r === 'string' ? r : JSON.stringify(r))).join('\n');
const ok = { question: 'what is two', answer: 'four' };

describe('JSON Lines and JSON arrays', () => {
  test('invalid JSON: the line and the column', async () => {
    await expectErrors('bad.jsonl', J(ok, '{"question": "a", "answer": "b"', { question: 'b', answer: 'c' }, "{'question': 'c'}"), [['invalid-json', 2], ['invalid-json', 4]]);
  });

  test('JSON array: a broken record reports the line inside it; trailing comma; empty record; text after ]; truncated', async () => {
    await expectErrors('bad.json', '[\n  {"question": "a", "answer": "b"},\n  {"question": "b",\n   "answer": c},\n  {"question": "c", "answer": "d"},\n]\n', [['invalid-json', 4], ['invalid-json', 6]]);
    await expectErrors('empty-el.json', '[{"question": "a", "answer": "b"},,{"question": "c", "answer": "d"}]', [['invalid-json', 1]]);
    await expectErrors('after.json', '[{"question": "a", "answer": "b"}]\n[1]', [['invalid-json', 2]]);
    await expectErrors('cut.json', '[{"question": "a", "answer": "b"},\n{"question": "c", "ans', [['invalid-json', 2]]);
    await expectErrors('object.json', '  \n{\n  "question": "a",\n  "answer": "b"\n}\n', [['file', 2]]);
    await expectErrors('number.json', '42', [['file', 1]]);
    await expectErrors('empty.json', '', [['file', undefined]]);
  });

  test('wrong types, missing, null and empty fields, a record that is not an object, lone surrogates', async () => {
    await expectErrors('types.jsonl', J(
      ok,
      { question: 'what', answer: 4 },
      { question: 'what' },
      { question: null, answer: 'b' },
      { question: '   ', answer: 'b' },
      [1, 2],
      '"just text"',
      '{"question": "a\\ud800", "answer": "b"}',
      { question: ['a'], answer: 'b' },
    ), [
      ['wrong-type', 2, 'answer'], ['missing-field', 3, 'answer'], ['missing-field', 4, 'question'], ['empty-field', 5, 'question'],
      ['wrong-type', 6], ['wrong-type', 7], ['wrong-type', 8, 'question'], ['wrong-type', 9, 'question'],
    ]);
  });

  test('fields that cannot be detected are one error for the file, naming what the first record has', async () => {
    await expectErrors('nofields.jsonl', J({ title: 'a', body: 'b' }, ok), [['file', 1]]);
  });

  test('chat records: empty list, bad message, unknown role, no assistant reply', async () => {
    await expectErrors('chat.jsonl', J(
      { messages: [{ role: 'user', content: 'a' }, { role: 'assistant', content: 'b' }] },
      { messages: [] },
      { messages: ['hi'] },
      { messages: [{ role: 'narrator', content: 'a' }] },
      { messages: [{ role: 'user', content: 'a' }] },
      { messages: [{ role: 'user', content: 'a' }, { role: 'assistant', content: '' }] },
      { messages: [{ role: 'user' }, { role: 'assistant', content: 'b' }] },
    ), [
      ['empty-field', 2, 'messages'], ['wrong-type', 3, 'messages[0]'], ['wrong-type', 4, 'messages[0].role'], ['missing-field', 5, 'messages'],
      ['empty-field', 6, 'messages[1].content'], ['missing-field', 7, 'messages[0].content'],
    ]);
  });

  test('pre-tokenized: ids outside the vocabulary, labels that are not -100 or the id, padding, mismatched lengths', async () => {
    const tok = await tokP;
    const v = tok.vocabSize;
    await expectErrors('tok.jsonl', J(
      { input_ids: [1, 2, 3] },
      { input_ids: [1, 2, v] },
      { input_ids: [1, 2, 3], labels: [-100, 5, 3] },
      { input_ids: [1, 2, 3], attention_mask: [1, 1, 0] },
      { input_ids: [1, 2, 3], labels: [-100, 2] },
      { input_ids: [1, 2, 3], labels: [1, -100, -100] },
      { input_ids: [1.5, 2] },
      { input_ids: [1] },
    ), [
      ['bad-tokens', 2, 'input_ids[2]'], ['bad-tokens', 3, 'labels[1]'], ['bad-tokens', 4, 'attention_mask'], ['bad-tokens', 5, 'labels'],
      ['bad-tokens', 6, 'labels'], ['bad-tokens', 7, 'input_ids[0]'], ['empty-field', 8, 'input_ids'],
    ]);
  });

  test('invalid UTF-8: the line, the byte, and the other lines still read', async () => {
    const bytes = Buffer.concat([Buffer.from(`${JSON.stringify(ok)}\n{"question": "caf`), Buffer.from([0xe9]), Buffer.from('", "answer": "b"}\n{"question": "a", "answer": "b"}\n')]);
    await expectErrors('latin1.jsonl', bytes, [['invalid-utf8', 2]]);
  });
});

describe('CSV and TSV', () => {
  test('text after a closing quote; a wrong number of fields', async () => {
    await expectErrors('q.csv', 'question,answer\nwhat is two,four\n"what" is two,four\nyes,no,maybe\na,b\n', [['csv-quote', 3, 'question'], ['csv-columns', 4]]);
  });

  test('an unclosed quote is reported where it opens, and the lines after it are still read', async () => {
    await expectErrors('open.csv', 'question,answer\n"what is two,four\na,b\nc,d,e\n', [['csv-quote', 2], ['csv-columns', 4]]);
  });

  test('TSV: wrong field count; invalid UTF-8; empty file; nameless and duplicate header columns', async () => {
    await expectErrors('t.tsv', 'question\tanswer\na\tb\nc\n', [['csv-columns', 3]]);
    await expectErrors('u.tsv', Buffer.concat([Buffer.from('question\tanswer\na\t'), Buffer.from([0xff, 0xfe]), Buffer.from('\nc\td\n')]), [['invalid-utf8', 2]]);
    await expectErrors('e.csv', '', [['file', undefined]]);
    await expectErrors('h.csv', 'question,\na,b\n', [['file', 1]]);
    await expectErrors('d.csv', 'question,question\na,b\n', [['file', 1]]);
    await expectErrors('empty-answer.csv', 'question,answer\na,\n', [['empty-field', 2, 'answer']]);
  });
});

describe('length, duplicates, leakage', () => {
  test('longer than the maximum: an error by default (with the line), or truncated, or dropped, and counted', async () => {
    const rows = J(ok, { question: 'a b c d a b c d', answer: 'yes' }, { question: 'a', answer: 'a b c d a b c d' });
    await expectErrors('long.jsonl', rows, [['too-long', 2], ['too-long', 3]], { maxLength: 8 });
    const tok = await tokP;
    const cut = await prepareDataset({ source: put(dir, 'long2.jsonl', rows), tokenizer: tok, outDir: join(dir, 'cut'), maxLength: 8, overLength: 'truncate', skipInvalid: true, split: { validation: 0, test: 0 } });
    assert.equal(cut.manifest.counts.truncated, 1, 'the long answer is cut, its first words kept');
    assert.equal(cut.manifest.counts.skipped, 1, 'the long question leaves no answer within 8 tokens');
    assert.equal(cut.skipped[0]!.code, 'no-answer');
    assert.equal(cut.skipped[0]!.line, 2);
    assert.equal(cut.manifest.stats.all.max, 8);
    const drop = await prepareDataset({ source: put(dir, 'long3.jsonl', rows), tokenizer: tok, outDir: join(dir, 'drop'), maxLength: 8, overLength: 'drop', split: { validation: 0, test: 0 } });
    assert.equal(drop.manifest.counts.droppedTooLong, 2);
    assert.equal(drop.manifest.counts.examples, 1);
  });

  test('a duplicate names the line of the first copy', async () => {
    await expectErrors('dup.jsonl', J(ok, { question: 'a', answer: 'b' }, ok), [['duplicate', 3]]);
    const tok = await tokP;
    await assert.rejects(prepareDataset({ source: put(dir, 'dup2.jsonl', J(ok, ok)), tokenizer: tok, outDir: join(dir, 'dup2') }), /dup2\.jsonl:2: the same record as line 1/);
  });

  test('leakage: the same question (up to case and spaces) in the training and test files', async () => {
    const tok = await tokP;
    const train = put(dir, 'train.jsonl', J(ok, { question: 'a', answer: 'b' }));
    const test = put(dir, 'test.jsonl', J({ question: 'c', answer: 'd' }, { question: '  What  is two ', answer: 'five' }));
    await assert.rejects(prepareDataset({ source: { train, test }, tokenizer: tok, outDir: join(dir, 'leak') }), (e: unknown) => {
      assert.ok(e instanceof DataValidationError);
      assert.deepEqual(e.errors.map((x) => [x.code, x.file, x.line]), [['leakage', test, 2]]);
      assert.match(e.errors[0]!.message, /test\.jsonl:2: the same question is in another split's file \(line 1\)/);
      return true;
    });
    const skipped = await prepareDataset({ source: { train, test }, tokenizer: tok, outDir: join(dir, 'leak'), skipInvalid: true });
    assert.deepEqual([skipped.manifest.counts.train, skipped.manifest.counts.test], [2, 1]);
  });
});

describe('files and settings', () => {
  test('a missing file, a folder, an unknown extension', async () => {
    const tok = await tokP;
    const run = (source: string) => prepareDataset({ source, tokenizer: tok, outDir: join(dir, 'x') });
    await assert.rejects(run(join(dir, 'missing.jsonl')), (e: unknown) => e instanceof DataError && e.code === 'file' && /does not exist/.test(e.message));
    await assert.rejects(run(dir), (e: unknown) => e instanceof DataError && /not a file/.test(e.message));
    await assert.rejects(run(put(dir, 'data.xlsx', 'x')), (e: unknown) => e instanceof DataError && /\{\{format\}\}/.test(e.fixText) && !/--/.test(e.fix));
  });

  test('settings: max length, split fractions, a non-dataset output folder', async () => {
    const tok = await tokP;
    const source = put(dir, 's.jsonl', J(ok));
    const settings = (o: Partial<PrepareOptions>) => assert.rejects(prepareDataset({ source, tokenizer: tok, outDir: join(dir, 's-out'), ...o }), (e: unknown) => e instanceof DataError && e.code === 'settings');
    await settings({ maxLength: 1 });
    await settings({ split: { validation: 0.6, test: 0.5 } });
    await settings({ split: { validation: -0.1, test: 0 } });
    const noEos = await tinyTokenizer(dir, ['a', 'b'], { eos_token: null });
    await assert.rejects(prepareDataset({ source, tokenizer: noEos, outDir: join(dir, 's-out') }), (e: unknown) => e instanceof DataError && e.code === 'settings' && /no EOS/.test(e.message) && /\{\{noEos\}\}/.test(e.fixText));
    assert.equal((await prepareDataset({ source, tokenizer: noEos, outDir: join(dir, 's-out'), appendEos: false, split: { validation: 0, test: 0 } })).manifest.counts.examples, 1);
    put(dir, 'precious.txt', 'keep me');
    await settings({ outDir: dir });
    await settings({ outDir: join(dir, 'precious.txt') });
    assert.equal(readFileSync(join(dir, 'precious.txt'), 'utf8'), 'keep me');
  });
});

describe('a failed preparation keeps the previous dataset; --skip-invalid writes a report', () => {
  test('previous output stays intact when a new preparation fails', async () => {
    const tok = await tokP;
    const outDir = join(dir, 'keep');
    const good = put(dir, 'good.jsonl', J(ok, { question: 'a', answer: 'b' }));
    await prepareDataset({ source: good, tokenizer: tok, outDir, split: { validation: 0, test: 0 } });
    const before = readFileSync(join(outDir, 'manifest.json'), 'utf8');
    put(dir, 'good.jsonl', J(ok, '{broken'));
    await assert.rejects(prepareDataset({ source: good, tokenizer: tok, outDir, split: { validation: 0, test: 0 } }), DataValidationError);
    assert.equal(readFileSync(join(outDir, 'manifest.json'), 'utf8'), before);
    assert.equal(PreparedDataset.open(outDir).size('train'), 2);
    assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith('keep.')), []);
  });

  test('skipInvalid: the good records are prepared, the bad ones are in skipped.jsonl with line, message and fix', async () => {
    const tok = await tokP;
    const source = put(dir, 'mixed.jsonl', J(ok, '{oops', { question: 'a', answer: '' }, { question: 'a', answer: 'b' }, ok));
    const r = await prepareDataset({ source, tokenizer: tok, outDir: join(dir, 'mixed'), skipInvalid: true, split: { validation: 0, test: 0 } });
    assert.equal(r.manifest.counts.examples, 2);
    assert.equal(r.manifest.counts.skipped, 3);
    assert.deepEqual(r.manifest.skippedByCode, { 'invalid-json': 1, 'empty-field': 1, duplicate: 1 });
    const report = readFileSync(join(r.dir, 'skipped.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(report.map((x) => [x.code, x.line, x.field]), [['invalid-json', 2, undefined], ['empty-field', 3, 'answer'], ['duplicate', 5, undefined]]);
    for (const x of report) assert.ok(x.file === source && x.message && x.fix);
  });
});
