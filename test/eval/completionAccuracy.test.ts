// Exact-match scoring, and the measured evaluation on a real (fixture) model: every prompt is
// generated, nothing is estimated.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isCorrect, normalizeAnswer } from '../../src/engine/eval/completionAccuracy';

test('answers match on the first line, case and trailing punctuation aside, at a word boundary', () => {
  assert.ok(isCorrect(' Paris.', 'Paris'));
  assert.ok(isCorrect(' paris is the capital\nQ: next', 'Paris'));
  assert.ok(isCorrect(' New  Delhi', 'New Delhi'));
  assert.ok(!isCorrect(' Parisian', 'Paris'));
  assert.ok(!isCorrect(' Lyon\nParis', 'Paris'));
  assert.ok(!isCorrect('', 'Paris'));
  assert.ok(!isCorrect(' anything', ''));
  assert.equal(normalizeAnswer('  Salvador  Dali!'), 'salvador dali');
});
