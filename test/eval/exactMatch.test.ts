// Exact match after SQuAD normalisation. The expected strings in NORMALIZED are the output of the
// official normalize_answer (SQuAD evaluate-v1.1.py, run under Python 3), not of this code.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { continuationMatch, exactMatch, matches, normalizeAnswer } from '../../src/engine/eval/exactMatch';

const NORMALIZED: [string, string][] = [
  [' Paris.', 'paris'],
  ['Paris is', 'paris is'],
  ['The Eiffel Tower', 'eiffel tower'], // article
  ['an apple a day', 'apple day'],
  ['THE END', 'end'], // case before articles
  ['Theater', 'theater'], // an article only as a whole word
  ['anthem', 'anthem'],
  ['A.D. 1066', 'ad 1066'], // punctuation is deleted, not spaced
  ['New-York', 'newyork'],
  ["it's", 'its'],
  ['Washington, D.C.', 'washington dc'],
  ['$5,000 (approx.)', '5000 approx'], // symbols of string.punctuation outside \p{P}
  ['x+y=z', 'xyz'],
  ['rock & roll', 'rock roll'],
  ['  Salvador \t Dali!  ', 'salvador dali'], // whitespace collapsed and trimmed
  ['the', ''],
  ['The  the A an', ''],
];

test('normalizeAnswer agrees with SQuAD normalize_answer', () => {
  for (const [raw, want] of NORMALIZED) assert.equal(normalizeAnswer(raw), want, JSON.stringify(raw));
});

test('Unicode punctuation is removed too (beyond SQuAD), so typographic quotes agree with ASCII ones', () => {
  assert.equal(normalizeAnswer('it’s “Dalí”…'), normalizeAnswer("it's \"Dalí\""));
  assert.equal(normalizeAnswer('it’s “Dalí”…'), 'its dalí');
});

test('exact match: the whole first line must be the answer', () => {
  const cases: [string, string, boolean][] = [
    [' Paris.', 'Paris', true],
    [' the Paris', 'Paris', true],
    [' PARIS!\nQ: next question', 'Paris', true], // only the first line counts
    [' New  Delhi', 'New Delhi', true],
    [' Paris is', 'Paris', false], // the prefix rule is gone
    [' paris is the capital', 'Paris', false],
    [' Parisian', 'Paris', false],
    [' Lyon\nParis', 'Paris', false],
    ['\nParis', 'Paris', false],
    ['', 'Paris', false],
    ['', '', false], // nothing to match
    [' the', 'The', false],
  ];
  for (const [output, answer, want] of cases) assert.equal(exactMatch(output, answer), want, `${JSON.stringify(output)} vs ${JSON.stringify(answer)}`);
});

test('prose prompts are scored as continuations: the answer, then a word boundary', () => {
  assert.equal(continuationMatch(' Europe. The capital of the United Kingdom', 'Europe'), true);
  assert.equal(continuationMatch(' Shanghai, but the capital', 'Shanghai'), true);
  assert.equal(continuationMatch(' Anna Sewell.', 'Anna Sewell'), true);
  assert.equal(continuationMatch(' Parisian food', 'Paris'), false);
  assert.equal(continuationMatch(' Charles Dickens. The author', 'Louisa May Alcott'), false);
  assert.equal(continuationMatch('\nEurope', 'Europe'), false, 'only the first line counts');
  // a question's answer must be all there is
  assert.equal(matches(' Paris is', 'Paris'), false);
  assert.equal(matches(' Paris is', 'Paris', 'continuation'), true);
});
