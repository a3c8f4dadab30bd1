// The data surface of the extension without VS Code: engine errors on real files become Problems-panel
// ranges (the JSON column, the field's key and value, the CSV cell, else the line), worded for VS Code
// (no CLI flag in any message), and a good file's preview marks the part that counts in the loss.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { DataError, DataValidationError } from '../../src/engine/data/dataError';
import { FIX_OPTIONS, wordFix } from '../../src/engine/optionWords';
import { prepareDataset, type PrepareOptions } from '../../src/engine/data/prepareDataset';
import { CLI_OPTION_WORDS } from '../../src/cli/optionWords';
import { dataDiagnostics, diagnosticMessage } from '../../src/extension/dataDiagnostics';
import { VSCODE_OPTION_WORDS } from '../../src/extension/optionWords';
import { TRAINED_CLOSE, TRAINED_OPEN, markTrained, previewExamples, previewText } from '../../src/extension/preparedPreview';
import { put, scratchDir, tinyTokenizer } from '../data/helpers';
import { repoRoot } from '../foundation/repoRoot';

const dir = scratchDir('ext-data');
const tokP = tinyTokenizer(dir, ['Q:', 'A:', 'what', 'is', 'two', 'four', 'yes', 'no', 'a', 'b', 'c']);
const CLI_FLAG = /(^|[\s(])--[a-z]/;

async function errorsOf(file: string, extra: Partial<PrepareOptions> = {}): Promise<{ errors: readonly DataError[]; count: number; all: DataValidationError | DataError }> {
  try {
    await prepareDataset({ source: file, tokenizer: await tokP, outDir: join(dir, `out-${Math.random().toString(36).slice(2)}`), ...extra });
  } catch (e) {
    if (e instanceof DataValidationError) return { errors: e.errors, count: e.count, all: e };
    if (e instanceof DataError) return { errors: [e], count: 1, all: e };
    throw e;
  }
  throw new Error(`${file} prepared without errors`);
}

test('JSON Lines: each bad record on its line; the JSON column, the field\'s key and value, else the whole line', async () => {
  const lines = [
    '{"question": "what is two", "answer": "four"}',
    '{"question": "what is a", "answer": 3}',
    '  {"question": "what is b"}',
    '{"question": "what is c", "answer": "yes",}',
    '{"question": "what is two", "answer": "four"}',
    '{"question": "", "answer": "no"}',
  ];
  const text = lines.join('\n');
  const file = put(dir, 'bad.jsonl', text);
  const { errors, count } = await errorsOf(file);
  assert.deepEqual(errors.map((e) => [e.code, e.line]), [['wrong-type', 2], ['missing-field', 3], ['invalid-json', 4], ['duplicate', 5], ['empty-field', 6]]);
  const d = dataDiagnostics(errors, text, file, count - errors.length);
  const at = (i: number) => lines[d[i]!.line]!.slice(d[i]!.start, d[i]!.end);
  assert.deepEqual(d.map((x) => x.line), [1, 2, 3, 4, 5]);
  assert.equal(at(0), '"answer": 3', 'the field\'s key and value');
  assert.equal(at(1), '{"question": "what is b"}', 'a missing field: the record, without the indent');
  assert.equal(d[2]!.start, errors[2]!.column! - 1, 'the JSON error\'s column');
  assert.equal(at(2), '}');
  assert.equal(at(3), lines[4]);
  assert.equal(at(4), '"question": ""');
  assert.ok(d.every((x) => x.severity === 'error' && x.message.includes(' — fix: ')));
  assert.match(d[0]!.message, /^field "answer": .* — fix: /);
});

test('CSV: the field\'s cell; more errors than listed: one information line that says how many', async () => {
  const text = 'question,answer\nwhat is two,four\n"what is a",\nwhat is b,"yes"\n';
  const file = put(dir, 'bad.csv', text);
  const { errors } = await errorsOf(file);
  assert.deepEqual(errors.map((e) => [e.code, e.line, e.field]), [['empty-field', 3, 'answer']]);
  const d = dataDiagnostics(errors, text, file, 57);
  assert.deepEqual([d[0]!.line, d[0]!.start, d[0]!.end], [2, 12, 13], 'the empty answer cell after the comma');
  assert.equal(d[1]!.severity, 'information');
  assert.match(d[1]!.message, /^57 more invalid records are not listed here \(the first 1 are\)/);
  const q = dataDiagnostics([{ code: 'wrong-type', line: 4, column: undefined, field: 'answer', problem: 'x', fixIn: () => 'y' }], text, file);
  assert.equal(text.split('\n')[3]!.slice(q[0]!.start, q[0]!.end), '"yes"');
});

test('no message the extension shows names a CLI flag; the CLI\'s do', async () => {
  // A battery of real errors: bad records, too long, an unknown format, no usable fields, settings.
  const bad = put(dir, 'all.jsonl', ['{"question": "a", "answer": 1}', '{"q": "a"', '{"question": "' + 'a '.repeat(40) + '", "answer": "b"}'].join('\n'));
  const found: (DataError | DataValidationError)[] = [
    (await errorsOf(bad, { maxLength: 8 })).all,
    (await errorsOf(put(dir, 'x.xlsx', 'x'))).all,
    (await errorsOf(put(dir, 'nofields.jsonl', '{"foo": "a", "bar": "b"}'))).all,
    (await errorsOf(put(dir, 'ok.jsonl', '{"question": "a", "answer": "b"}'), { maxLength: 1 })).all,
    (await errorsOf(put(dir, 'ok2.jsonl', '{"question": "a", "answer": "b"}'), { seed: 0.5 })).all,
  ];
  const cliTexts: string[] = [];
  for (const e of found) {
    const errors = e instanceof DataValidationError ? e.errors : [e];
    for (const x of errors) {
      assert.doesNotMatch(diagnosticMessage(x), CLI_FLAG, diagnosticMessage(x));
      assert.doesNotMatch(x.fix, CLI_FLAG, 'the engine\'s own text names no flag');
      cliTexts.push(x.fixIn(CLI_OPTION_WORDS));
    }
    assert.doesNotMatch(e.describe(VSCODE_OPTION_WORDS), CLI_FLAG);
  }
  assert.ok(cliTexts.some((t) => /--max-length/.test(t)) && cliTexts.some((t) => /--format/.test(t)) && cliTexts.some((t) => /--question-field/.test(t)), cliTexts.join('\n'));
  // Every option: VS Code's words are no flag; every fix the engine writes is a template with no flag outside {{...}}.
  for (const o of FIX_OPTIONS) assert.doesNotMatch(VSCODE_OPTION_WORDS[o] ?? '', CLI_FLAG, o);
  const dataDir = join(repoRoot, 'src', 'engine', 'data');
  for (const f of readdirSync(dataDir)) {
    const source = readFileSync(join(dataDir, f), 'utf8').replace(/^\s*(\/\/|\*|\/\*\*).*$/gm, '');
    for (const m of source.matchAll(/(['"`])((?:\\.|(?!\1).)*)\1/g)) {
      assert.doesNotMatch(wordFix(m[2]!, VSCODE_OPTION_WORDS), CLI_FLAG, `${f}: ${m[2]}`);
    }
  }
});

test('wordFix: a mention is kept where the surface names every option in it, else left out', () => {
  const text = 'shorten the record[[, raise the maximum length ({{maxLength}})]][[, or skip it ({{skipInvalid}})]]';
  assert.equal(wordFix(text, CLI_OPTION_WORDS), 'shorten the record, raise the maximum length (--max-length), or skip it (--skip-invalid)');
  assert.equal(wordFix(text, VSCODE_OPTION_WORDS), 'shorten the record, raise the maximum length (Sequence length under Custom… in Fine-tune model)');
  assert.equal(wordFix('a {"question": [1]} b', VSCODE_OPTION_WORDS), 'a {"question": [1]} b', 'JSON in a fix is left alone');
});

test('the preview of a good file: statistics and the examples with the trained part marked', async () => {
  const tok = await tokP;
  const file = put(dir, 'good.jsonl', ['{"question": "what is two", "answer": "four"}', '{"question": "what is a", "answer": "yes"}'].join('\n'));
  const r = await prepareDataset({ source: file, tokenizer: tok, outDir: join(dir, 'good.prepared'), split: { validation: 0, test: 0 }, template: 'Q: {question} A: {answer}' });
  const examples = await previewExamples(r.dir, tok, 3);
  assert.equal(examples.length, 2);
  assert.equal(markTrained(examples[0]!), `Q:whatistwoA:${TRAINED_OPEN}four</s>${TRAINED_CLOSE}`);
  const text = previewText(r.manifest, r.dir, examples, false);
  assert.match(text, /^Prepared 2 examples from good\.jsonl/);
  assert.match(text, /train\s+2\s+\d+\s+[\d.]+%/);
  assert.match(text, /0 truncated to 1024 tokens/);
  assert.match(text, /--- good\.jsonl, line 2\n.*⟦yes<\/s>⟧/);
});
