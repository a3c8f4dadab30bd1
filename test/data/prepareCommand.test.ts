// `ftlab prepare` as a user runs it: exit codes, the summary, errors without stack traces, options.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { UsageError } from '../../src/cli/command';
import { commands } from '../../src/cli/commands/index';
import { parsePrepareArgs, prepare } from '../../src/cli/commands/prepare';
import { fixtureTokenizerDir } from '../tokenizer/fixtures';
import { put, scratchDir } from './helpers';

const dir = scratchDir('cli');
const gpt2 = fixtureTokenizerDir('gpt2');

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const log = console.log;
  const error = console.error;
  console.log = (...a: unknown[]) => void out.push(a.join(' '));
  console.error = (...a: unknown[]) => void err.push(a.join(' '));
  try {
    const code = await prepare.run(argv, { commands });
    return { code, out: out.join('\n'), err: err.join('\n') };
  } finally {
    console.log = log;
    console.error = error;
  }
}

test('prepare is in the command table', () => {
  assert.ok(commands.includes(prepare));
});

test('a good file: exit 0, a summary with the splits; run again: up to date; --json prints the manifest', async () => {
  const rows = Array.from({ length: 20 }, (_, i) => JSON.stringify({ question: `What is ${i} + ${i}?`, answer: String(2 * i) }));
  const data = put(dir, 'qa.jsonl', rows.join('\n'));
  const first = await run(data, '--tokenizer', gpt2, '--split', '0.8,0.1,0.1', '--seed', '3');
  assert.equal(first.code, 0, first.err);
  assert.match(first.out, /Prepared 20 examples from qa\.jsonl \(question -> answer\)/);
  assert.match(first.out, /train\s+16/);
  assert.match(first.out, /validation\s+2/);
  assert.ok(existsSync(join(dir, 'qa.prepared', 'manifest.json')));
  const again = await run(data, '--tokenizer', gpt2, '--split', '0.8,0.1,0.1', '--seed', '3');
  assert.match(again.out, /^Up to date/);
  const json = await run(data, '--tokenizer', gpt2, '--json', '--out', join(dir, 'j'), '--template', 'Question: {question}\\nAnswer: {answer}');
  const parsed = JSON.parse(json.out);
  assert.equal(parsed.manifest.template.text, 'Question: {question}\nAnswer: {answer}');
  assert.equal(parsed.manifest.counts.examples, 20);
});

test('invalid records: exit 1, every problem with its line and fix on stderr, nothing written', async () => {
  const data = put(dir, 'bad.jsonl', '{"question": "a", "answer": "b"}\n{"question": "a"\n{"question": "c", "answer": 3}\n');
  const r = await run(data, '--tokenizer', gpt2);
  assert.equal(r.code, 1);
  assert.match(r.err, /bad\.jsonl:2: invalid JSON/);
  assert.match(r.err, /bad\.jsonl:3: field "answer": is a number/);
  assert.match(r.err, /fix: /);
  assert.match(r.err, /or skip them with --skip-invalid/, 'the CLI words the fix with its flags');
  assert.doesNotMatch(r.err, /\s+at .+\.(c?js|ts):\d+/, 'no stack trace');
  assert.ok(!existsSync(join(dir, 'bad.prepared')));
  const skip = await run(data, '--tokenizer', gpt2, '--skip-invalid');
  assert.equal(skip.code, 0, skip.err);
  assert.match(skip.out, /2 invalid records skipped \(1 invalid-json, 1 wrong-type; listed in skipped.jsonl\)/);
  assert.equal(readFileSync(join(dir, 'bad.prepared', 'skipped.jsonl'), 'utf8').trim().split('\n').length, 2);
});

test('a missing tokenizer or data file is exit 1 with the path and a fix', async () => {
  const r = await run(join(dir, 'none.jsonl'), '--tokenizer', gpt2);
  assert.equal(r.code, 1);
  assert.match(r.err, /none\.jsonl: the file does not exist\n {2}fix: /);
  const t = await run(put(dir, 'x.jsonl', '{"question": "a", "answer": "b"}'), '--tokenizer', join(dir, 'no-model'));
  assert.equal(t.code, 1);
  assert.match(t.err, /no-model.tokenizer\.json: the model folder does not exist/);
});

test('without --tokenizer: the built-in model\'s tokenizer', async () => {
  const data = put(dir, 'builtin.jsonl', Array.from({ length: 10 }, (_, i) => JSON.stringify({ question: `What is ${i} + 1?`, answer: String(i + 1) })).join('\n'));
  const r = await run(data, '--json', '--out', join(dir, 'builtin-out'));
  assert.equal(r.code, 0, r.err);
  assert.match(JSON.parse(r.out).manifest.tokenizer.source, /base-model/);
  const long = put(dir, 'long.jsonl', JSON.stringify({ question: 'word '.repeat(40), answer: 'x' }));
  const t = await run(long, '--max-length', '8');
  assert.match(t.err, /long\.jsonl:1: \d+ tokens, more than the maximum length of 8\n.*raise the maximum length \(--max-length\), or truncate \(--truncate\) or drop \(--drop-long\)/);
});

test('a replay corpus: --corpus with --seq-length', async () => {
  const text = put(dir, 'corpus.txt', 'The cat sat on the mat. '.repeat(50) + '\n\n' + 'Another document here. '.repeat(40) + '\n');
  const r = await run('--corpus', text, '--seq-length', '33', '--tokenizer', gpt2);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /Packed \d+ sequences from corpus\.txt \(2 documents\)/);
});

test('usage errors', () => {
  const bad = (...argv: string[]) => assert.throws(() => parsePrepareArgs(argv), UsageError, argv.join(' '));
  bad();
  assert.equal(parsePrepareArgs(['a.jsonl']).tokenizer, undefined, 'no --tokenizer: the built-in model\'s');
  bad('a.jsonl', 'b.jsonl', '--tokenizer', 'm');
  bad('a.jsonl', '--tokenizer', 'm', '--split', '0.5,0.5');
  bad('a.jsonl', '--tokenizer', 'm', '--split', '0,0.5,0.5');
  bad('a.jsonl', '--tokenizer', 'm', '--max-length', 'x');
  bad('a.jsonl', '--tokenizer', 'm', '--format', 'xml');
  bad('a.jsonl', '--tokenizer', 'm', '--frobnicate');
  bad('--corpus', 'c.txt', '--tokenizer', 'm');
  bad('--validation', 'v.jsonl', '--tokenizer', 'm');
  bad('a.jsonl', '--tokenizer');
  assert.equal(parsePrepareArgs(['a.csv', '--tokenizer', 'm', '--template', 'X {question}\\t{answer}\\\\n']).template, 'X {question}\t{answer}\\n');
});
