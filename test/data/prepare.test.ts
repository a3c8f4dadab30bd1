// Splits, statistics, the manifest, reuse and rebuild, and the reader + batcher the trainer uses.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { batches, epochOrder } from '../../src/engine/data/batcher';
import { PreparedDataset, SPLITS } from '../../src/engine/data/preparedDataset';
import { prepareDataset } from '../../src/engine/data/prepareDataset';
import { put, scratchDir, tinyTokenizer } from './helpers';

const dir = scratchDir('prepare');
const NUMBERS = Array.from({ length: 60 }, (_, i) => `n${i}`);
const tokP = tinyTokenizer(dir, ['Q:', 'A:', 'what', 'is', 'yes', 'no', ...NUMBERS]);

/** 100 records over 80 questions: questions 0-19 have two answers each. */
function records(): string {
  const rows: string[] = [];
  for (let q = 0; q < 80; q++) {
    const words = Array.from({ length: 1 + (q % 7) }, (_, k) => NUMBERS[(q + k) % 60]).join(' ');
    rows.push(JSON.stringify({ question: `what is ${words} ${NUMBERS[q % 60]}`, answer: q % 2 ? 'yes' : 'no' }));
    if (q < 20) rows.push(JSON.stringify({ question: `what is ${words} ${NUMBERS[q % 60]}`, answer: `${NUMBERS[q]} yes` }));
  }
  return rows.join('\n') + '\n';
}

describe('split, stats, manifest', () => {
  test('a seeded split: deterministic, near the fractions, a question never in two splits', async () => {
    const tok = await tokP;
    const source = put(dir, 'data.jsonl', records());
    const a = await prepareDataset({ source, tokenizer: tok, outDir: join(dir, 'a'), seed: 7 });
    const b = await prepareDataset({ source, tokenizer: tok, outDir: join(dir, 'b'), seed: 7 });
    const c = await prepareDataset({ source, tokenizer: tok, outDir: join(dir, 'c'), seed: 8 });
    const splits = (d: string) => readFileSync(join(d, 'splits.bin'));
    assert.deepEqual(splits(a.dir), splits(b.dir), 'same seed, same split');
    assert.notDeepEqual(splits(a.dir), splits(c.dir), 'another seed, another split');
    const { counts } = a.manifest;
    assert.equal(counts.train + counts.validation + counts.test, 100);
    for (const n of [counts.validation, counts.test]) assert.ok(n >= 10 && n <= 11, `${n} is 10% (+1 when a 2-answer group crosses)`);
    const ds = PreparedDataset.open(a.dir);
    const splitOfQuestion = new Map<string, string>();
    for (const split of SPLITS) {
      for (const e of ds.iterate(split)) {
        const ids = Array.from(e.inputIds);
        const question = ids.slice(0, ids.indexOf(tok.tokenToId('A:')!)).join(',');
        assert.equal(splitOfQuestion.get(question) ?? split, split, 'a question with two answers stays in one split');
        splitOfQuestion.set(question, split);
      }
    }
    ds.close();
  });

  test('a file given as the training file is all training data (no split of it)', async () => {
    const tok = await tokP;
    const source = put(dir, 'train-only.jsonl', records());
    const r = await prepareDataset({ source: { train: source }, tokenizer: tok, outDir: join(dir, 'train-only.prepared') });
    const ds = PreparedDataset.open(r.dir);
    assert.equal(ds.size('train'), 100);
    assert.equal(ds.size('validation') + ds.size('test'), 0);
  });

  test('stats agree with the stored examples; the manifest records hashes, tokenizer and template', async () => {
    const tok = await tokP;
    const source = put(dir, 'data2.jsonl', records());
    const r = await prepareDataset({ source, tokenizer: tok, outDir: join(dir, 'stats') });
    const ds = PreparedDataset.open(r.dir);
    for (const split of ['all', ...SPLITS] as const) {
      const ex = split === 'all' ? SPLITS.flatMap((s) => [...ds.iterate(s)]) : [...ds.iterate(split)];
      const lengths = ex.map((e) => e.inputIds.length).sort((x, y) => x - y);
      const trained = ex.reduce((n, e) => n + e.labels.slice(1).filter((l) => l !== -100).length, 0);
      const tokens = lengths.reduce((x, y) => x + y, 0);
      const s = r.manifest.stats[split];
      assert.equal(s.examples, ex.length);
      assert.equal(s.tokens, tokens);
      assert.equal(s.trainedTokens, trained);
      assert.equal(s.max, lengths.at(-1));
      assert.equal(s.p50, lengths[Math.ceil(0.5 * lengths.length) - 1]);
      assert.equal(s.p95, lengths[Math.ceil(0.95 * lengths.length) - 1]);
      assert.equal(s.trainedShare, Math.round((trained / tokens) * 1e4) / 1e4);
    }
    const m = r.manifest;
    assert.equal(m.sources[0]!.sha256, createHash('sha256').update(readFileSync(source)).digest('hex'));
    assert.equal(m.sources[0]!.fields, 'question -> answer');
    assert.equal(m.tokenizer.fingerprint, tok.fingerprint);
    assert.deepEqual(m.template, { kind: 'prompt', text: 'Q: {question}\nA: {answer}' });
    assert.equal(m.tokenDtype, 'uint16');
    assert.equal(m.counts.records, 100);
    ds.close();
  });
});

describe('reuse and rebuild', () => {
  test('reused when nothing changed; rebuilt when the source, template, tokenizer or settings change', async () => {
    const tok = await tokP;
    const source = put(dir, 'reuse.jsonl', records());
    const outDir = join(dir, 'reuse');
    const first = await prepareDataset({ source, tokenizer: tok, outDir });
    assert.equal(first.reused, false);
    const again = await prepareDataset({ source, tokenizer: tok, outDir });
    assert.equal(again.reused, true);
    assert.equal(again.manifest.createdAt, first.manifest.createdAt);
    writeFileSync(source, records() + JSON.stringify({ question: 'what is n1 n2 n3', answer: 'yes' }) + '\n');
    const changed = await prepareDataset({ source, tokenizer: tok, outDir });
    assert.equal(changed.reused, false);
    assert.equal(changed.manifest.counts.examples, 101);
    const template = await prepareDataset({ source, tokenizer: tok, outDir, template: '{question} A: {answer}' });
    assert.equal(template.reused, false);
    const otherTok = await tinyTokenizer(dir, ['Q:', 'A:', 'what', 'is', 'yes', 'no', ...NUMBERS], { add_eos_token: true });
    assert.notEqual(otherTok.fingerprint, tok.fingerprint);
    assert.equal((await prepareDataset({ source, tokenizer: otherTok, outDir, template: '{question} A: {answer}' })).reused, false);
    assert.equal((await prepareDataset({ source, tokenizer: otherTok, outDir, template: '{question} A: {answer}' })).reused, true);
    assert.equal((await prepareDataset({ source, tokenizer: otherTok, outDir, template: '{question} A: {answer}', maxLength: 512 })).reused, false);
    assert.equal((await prepareDataset({ source, tokenizer: otherTok, outDir, template: '{question} A: {answer}', maxLength: 512, force: true })).reused, false);
  });
});

describe('reader and batcher', async () => {
  const tok = await tokP;
  const source = put(dir, 'batch.jsonl', records());
  const r = await prepareDataset({ source, tokenizer: tok, outDir: join(dir, 'batch'), split: { validation: 0, test: 0 } });
  const pad = tok.padId!;

  test('file order: rows are tokens[:-1] padded, targets are labels[1:] with -100, mask marks real inputs', () => {
    const ds = PreparedDataset.open(r.dir);
    const rows = [...ds.iterate('train')];
    let k = 0;
    let seen = 0;
    for (const b of batches(ds, 'train', { batchSize: 8 })) {
      const T = b.seqLength;
      let counted = 0;
      for (let i = 0; i < b.batchSize; i++) {
        const ex = rows[k];
        const row = (a: ArrayLike<number>) => Array.from(a).slice(i * T, (i + 1) * T);
        if (!ex) { assert.equal(b.examples[i], -1); assert.deepEqual(row(b.targets), Array(T).fill(-100)); continue; }
        const n = ex.inputIds.length - 1;
        assert.deepEqual(row(b.inputIds), [...Array.from(ex.inputIds).slice(0, n), ...Array(T - n).fill(pad)]);
        assert.deepEqual(row(b.targets), [...Array.from(ex.labels).slice(1), ...Array(T - n).fill(-100)]);
        assert.deepEqual(row(b.attentionMask), [...Array(n).fill(1), ...Array(T - n).fill(0)]);
        counted += Array.from(ex.labels).slice(1).filter((l) => l !== -100).length;
        k++;
        seen++;
      }
      assert.equal(b.countedTargets, counted);
      assert.equal(T, Math.max(...Array.from(b.examples).filter((e) => e >= 0).map((e) => ds.exampleLength(e) - 1)));
    }
    assert.equal(seen, 100);
    ds.close();
  });

  test('seeded shuffle: each example once per epoch, same seed and epoch same order, epochs differ', () => {
    const ds = PreparedDataset.open(r.dir);
    const o1 = epochOrder(ds, 'train', { shuffle: true, seed: 3, epoch: 0 });
    assert.deepEqual(o1, epochOrder(ds, 'train', { shuffle: true, seed: 3, epoch: 0 }));
    assert.notDeepEqual(o1, epochOrder(ds, 'train', { shuffle: true, seed: 3, epoch: 1 }));
    assert.deepEqual(Array.from(o1).sort((a, b) => a - b), Array.from(ds.indices('train')));
    const shuffled = [...batches(ds, 'train', { batchSize: 32, shuffle: true, seed: 3, epoch: 0, dropLast: true })];
    assert.equal(shuffled.length, 3, 'dropLast leaves out the short last batch');
    assert.deepEqual(Array.from(shuffled[0]!.examples), Array.from(o1.subarray(0, 32)));
    ds.close();
  });

  test('a fixed sequence length pads to it and refuses longer examples; reading from disk gives the same examples', () => {
    const ds = PreparedDataset.open(r.dir);
    const max = r.manifest.stats.all.max;
    const [b] = batches(ds, 'train', { batchSize: 4, seqLength: max - 1 + 5 });
    assert.equal(b!.inputIds.length, 4 * (max + 4));
    assert.throws(() => [...batches(ds, 'train', { batchSize: 4, seqLength: 2 })], /more than seqLength \+ 1 = 3; prepare the data with a maximum length <= 3/);
    const disk = PreparedDataset.open(r.dir, { inMemoryBytes: 0 });
    for (let i = 0; i < ds.size('train'); i++) assert.deepEqual(disk.get('train', i), ds.get('train', i));
    assert.throws(() => ds.get('train', 100), RangeError);
    ds.close();
    disk.close();
  });

  test('vocabularies over 65536 tokens are stored as uint32', async () => {
    const big = await tinyTokenizer(dir, Array.from({ length: 70000 }, (_, i) => `w${i}`).concat(['Q:', 'A:']));
    const r2 = await prepareDataset({ source: put(dir, 'big.jsonl', JSON.stringify({ question: 'w69999 w1', answer: 'w65536' })), tokenizer: big, outDir: join(dir, 'big'), split: { validation: 0, test: 0 } });
    assert.equal(r2.manifest.tokenDtype, 'uint32');
    const ds = PreparedDataset.open(r2.dir, { inMemoryBytes: 0 });
    assert.deepEqual(Array.from(ds.get('train', 0).inputIds, (i) => big.idToToken(i)), ['Q:', 'w69999', 'w1', 'A:', 'w65536', '</s>']);
    ds.close();
  });
});
