// The replay corpus: documents tokenized, separated by EOS (BOS where the tokenizer adds it), packed
// into full sequences of seqLength tokens, every token trained.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { DataError, DataValidationError } from '../../src/engine/data/dataError';
import { PreparedDataset } from '../../src/engine/data/preparedDataset';
import { prepareCorpus } from '../../src/engine/data/prepareCorpus';
import { loadTokenizer } from '../../src/engine/tokenizer';
import { fixtureTokenizerDir } from '../tokenizer/fixtures';
import { put, scratchDir } from './helpers';

const dir = scratchDir('corpus');
const gpt2 = loadTokenizer(fixtureTokenizerDir('gpt2'));
const DOCS = ['The first document.\nIt has two lines.', 'A second one, short.', 'Third: with numbers 1234 and   spaces.'];

function packedTokens(ds: PreparedDataset): number[] {
  const out: number[] = [];
  for (const e of ds.iterate('train')) {
    assert.deepEqual(Array.from(e.labels), Array.from(e.inputIds), 'every token trained');
    out.push(...e.inputIds);
  }
  return out;
}

test('.txt: blank lines separate documents; sequences are the EOS-joined stream cut every seqLength tokens', async () => {
  const tok = await gpt2;
  const source = put(dir, 'c.txt', `${DOCS[0]}\n\n\n${DOCS[1]}\n\n${DOCS[2]}\n`);
  const r = await prepareCorpus({ source, tokenizer: tok, outDir: join(dir, 'txt'), seqLength: 8 });
  const stream = (await Promise.all(DOCS.map((d) => tok.encode(d, { addSpecialTokens: false })))).flatMap((ids) => [...ids, 50256]);
  const ds = PreparedDataset.open(r.dir);
  const full = Math.floor(stream.length / 8) * 8;
  assert.deepEqual(packedTokens(ds), stream.slice(0, full));
  assert.equal(r.manifest.counts.droppedTailTokens, stream.length - full);
  assert.equal(r.manifest.kind, 'packed');
  assert.equal(r.manifest.sources[0]!.fields, '3 documents');
  assert.equal(ds.size('validation'), 0);
  ds.close();
  assert.equal((await prepareCorpus({ source, tokenizer: tok, outDir: join(dir, 'txt'), seqLength: 8 })).reused, true);
  assert.equal((await prepareCorpus({ source, tokenizer: tok, outDir: join(dir, 'txt'), seqLength: 9 })).reused, false);
});

test('.jsonl with a text field; a long document is encoded in pieces cut at line ends, same ids for GPT-2', async () => {
  const tok = await gpt2;
  const long = Array.from({ length: 4000 }, (_, i) => `Line ${i} of a long document, with some words.`).join('\n');
  const source = put(dir, 'c.jsonl', [{ text: DOCS[0] }, { text: long }, { text: '   ' }, { text: DOCS[1] }].map((r) => JSON.stringify(r)).join('\n'));
  const r = await prepareCorpus({ source, tokenizer: tok, outDir: join(dir, 'jsonl'), seqLength: 64 });
  const stream = (await Promise.all([DOCS[0]!, long, DOCS[1]!].map((d) => tok.encode(d, { addSpecialTokens: false })))).flatMap((ids) => [...ids, 50256]);
  const ds = PreparedDataset.open(r.dir);
  assert.deepEqual(packedTokens(ds), stream.slice(0, Math.floor(stream.length / 64) * 64));
  ds.close();
});

test('Mistral: each document starts with BOS', async () => {
  const tok = await loadTokenizer(fixtureTokenizerDir('mistral'));
  const r = await prepareCorpus({ source: put(dir, 'm.txt', 'Hello world\n\nGood night moon\n'), tokenizer: tok, outDir: join(dir, 'mistral'), seqLength: 4 });
  const ds = PreparedDataset.open(r.dir);
  const ids = packedTokens(ds);
  ds.close();
  assert.deepEqual(ids.slice(0, 4), [1, 22557, 1526, 2]);
  assert.equal(ids[4], 1);
});

test('errors: bad JSON lines and a missing text field are DataErrors with lines; too little text', async () => {
  const tok = await gpt2;
  const source = put(dir, 'bad.jsonl', `${JSON.stringify({ text: 'ok' })}\n{oops\n${JSON.stringify({ body: 'x' })}\n`);
  await assert.rejects(prepareCorpus({ source, tokenizer: tok, outDir: join(dir, 'bad'), seqLength: 4 }), (e: unknown) =>
    e instanceof DataValidationError && e.errors.map((x) => `${x.code}:${x.line}`).join(' ') === 'invalid-json:2 missing-field:3');
  await assert.rejects(prepareCorpus({ source: put(dir, 'tiny.txt', 'Hi'), tokenizer: tok, outDir: join(dir, 'tiny'), seqLength: 64 }), (e: unknown) =>
    e instanceof DataError && /not enough text/.test(e.message));
});
