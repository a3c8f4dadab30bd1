// Fuzz: thousands of random and mutated records in every format. Preparation must finish (no hang),
// never crash, and every failure must be a DataError with a file, a line inside the file and a fix.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { DataError, DataValidationError } from '../../src/engine/data/dataError';
import { jsonSyntaxError } from '../../src/engine/data/jsonRecords';
import { prepareDataset } from '../../src/engine/data/prepareDataset';
import type { DataFormat } from '../../src/engine/data/recordReader';
import { uniformRng } from '../../src/engine/random';
import { loadTokenizer } from '../../src/engine/tokenizer';
import { fixtureTokenizerDir } from '../tokenizer/fixtures';
import { put, scratchDir } from './helpers';

const dir = scratchDir('fuzz');
const rand = uniformRng(20240611);
const pick = <T>(a: readonly T[]): T => a[Math.floor(rand() * a.length)]!;
const int = (n: number) => Math.floor(rand() * n);

const PIECES = ['what', ' is', 'the', '?', ',', '"', "'", '\\', '\t', '\n', '\r\n', '  ', '{', '}', '[', ']', ':', '<|endoftext|>', '<s>',
  'é', '日本', '🙂', '\u200b', '\uFEFF', '\uFDD0', '\uFFFD', '\u0000', '-100', 'null', 'Q:', 'A:'];
const text = () => Array.from({ length: int(12) }, () => pick(PIECES)).join('');
const KEYS = ['question', 'answer', 'q', 'a', 'prompt', 'completion', 'instruction', 'input', 'output', 'messages', 'input_ids', 'labels', 'x'];

function randomValue(depth = 0): unknown {
  switch (int(depth > 2 ? 4 : 7)) {
    case 0: return text();
    case 1: return int(3) ? text() : rand() * 1e6 - 5e5;
    case 2: return pick([null, true, false, -100, 0, 50256, 1e300]);
    case 3: return '';
    case 4: return Array.from({ length: int(4) }, () => randomValue(depth + 1));
    case 5: return Object.fromEntries(Array.from({ length: int(4) }, () => [pick([...KEYS, 'role', 'content', 'from', 'value']), randomValue(depth + 1)]));
    default: return { role: pick(['user', 'assistant', 'system', 'bot']), content: text() };
  }
}

function record(): Record<string, unknown> {
  const r = int(10);
  if (r < 5) return { question: text() || 'q', answer: text() || 'a' };
  if (r === 5) return { messages: [{ role: 'user', content: text() }, { role: pick(['assistant', 'user']), content: text() }] };
  if (r === 6) return { input_ids: Array.from({ length: int(6) }, () => pick([0, 1, 15496, 50256, 50257, -1, 2.5])), ...(int(2) ? { labels: [-100, 1] } : {}) };
  return Object.fromEntries(Array.from({ length: 1 + int(3) }, () => [pick(KEYS), randomValue()]));
}

const CSV_CELL = () => {
  const t = text().replace(/\r?\n/g, int(2) ? '\n' : ' ');
  return int(2) ? `"${t.replace(/"/g, '""')}"` : t;
};

function serialize(format: DataFormat, n: number): string {
  const rows = Array.from({ length: n }, record);
  switch (format) {
    case 'jsonl': return rows.map((r) => JSON.stringify(r)).join('\n');
    case 'json': return JSON.stringify(rows, null, int(2) ? 2 : undefined);
    case 'csv': return ['question,answer', ...rows.map(() => `${CSV_CELL()},${CSV_CELL()}`)].join(int(2) ? '\n' : '\r\n');
    case 'tsv': return ['question\tanswer', ...rows.map(() => `${text().replace(/[\t\n\r]/g, ' ')}\t${CSV_CELL()}`)].join('\n');
  }
}

const MUTANTS = [0x22, 0x7b, 0x7d, 0x5b, 0x5d, 0x2c, 0x0a, 0x09, 0x5c, 0xff, 0xc3, 0xe2, 0x00, 0x3a];
function mutate(bytes: Buffer): Buffer {
  const b = [...bytes];
  for (let m = 0, n = 1 + int(20); m < n && b.length; m++) {
    const at = int(b.length);
    switch (int(5)) {
      case 0: b.splice(at, 1); break;
      case 1: b.splice(at, 0, pick(MUTANTS)); break;
      case 2: b[at] = int(256); break;
      case 3: b.splice(at, 0, ...b.slice(int(b.length), int(b.length) + int(40))); break;
      default: if (int(4) === 0) b.length = at; break;
    }
  }
  return Buffer.from(b);
}

function check(error: unknown, file: string, lines: number): void {
  const errors = error instanceof DataValidationError ? error.errors : error instanceof DataError ? [error] : null;
  assert.ok(errors, `not a data error: ${error instanceof Error ? error.stack : String(error)}`);
  for (const e of errors) {
    assert.equal(e.file, file);
    if (e.code !== 'file') assert.ok(e.line !== undefined && e.line >= 1 && e.line <= lines + 1, `line ${e.line} of ${lines}: ${e.message}`);
    assert.ok(e.problem.length > 3 && e.fix.length > 10, e.message);
  }
}

const withTimeout = <T>(p: Promise<T>, ms: number) => Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`no answer within ${ms} ms: a hang`)), ms).unref())]);

test('random and mutated records in every format: only clear DataErrors, no crash, no hang', async () => {
  const tok = await loadTokenizer(fixtureTokenizerDir('gpt2'));
  let records = 0;
  let runs = 0;
  for (const format of ['jsonl', 'json', 'csv', 'tsv'] as const) {
    for (let round = 0; round < 12; round++) {
      const n = 50 + int(300);
      records += n;
      const clean = Buffer.from(serialize(format, n));
      const bytes = round === 0 ? clean : mutate(clean);
      const file = put(dir, `f${runs}.${format}`, bytes);
      const lines = readFileSync(file, 'utf8').split('\n').length;
      for (const skipInvalid of [false, true]) {
        runs++;
        try {
          const r = await withTimeout(prepareDataset({ source: file, tokenizer: tok, outDir: join(dir, `out${runs}`), format, skipInvalid, maxLength: 64, overLength: pick(['error', 'truncate', 'drop'] as const) }), 20_000);
          assert.ok(r.manifest.counts.examples > 0);
          assert.ok(skipInvalid || r.manifest.counts.skipped === 0);
        } catch (error) {
          check(error, file, lines);
        }
      }
    }
  }
  assert.ok(records >= 5000, `${records} records`);
});

test('the JSON error locator agrees with JSON.parse on 20000 random strings', () => {
  const alphabet = '{}[]":,0123 -.etruflnsa\\\n\t\'';
  for (let k = 0; k < 20_000; k++) {
    const s = Array.from({ length: int(14) }, () => pick([...alphabet])).join('');
    let valid = true;
    try { JSON.parse(s); } catch { valid = false; }
    const found = jsonSyntaxError(s);
    assert.equal(found === null, valid, JSON.stringify(s));
    if (found) assert.ok(found.at >= 0 && found.at <= s.length);
  }
});

test('a CSV quote that never closes: one error where it opens, the following lines read again, in linear time', async () => {
  const tok = await loadTokenizer(fixtureTokenizerDir('gpt2'));
  const lines = ['question,answer', '"an open quote,x', ...Array.from({ length: 25_000 }, (_, i) => `q${i},a${i}`)];
  const file = put(dir, 'open.csv', lines.join('\n'));
  const t0 = performance.now();
  const r = await withTimeout(prepareDataset({ source: file, tokenizer: tok, outDir: join(dir, 'open-out'), skipInvalid: true }), 30_000);
  assert.deepEqual(r.skipped.map((e) => [e.code, e.line]), [['csv-quote', 2]]);
  assert.equal(r.manifest.counts.examples, 25_000);
  assert.ok(performance.now() - t0 < 20_000);
});
