import { test } from 'node:test';
import assert from 'node:assert/strict';
import { flips } from '../../src/engine/eval/flips';

const items = (prompts: string, correct: string) => [...prompts].map((p, i) => ({ prompt: p, correct: correct[i] === '1' }));

test('flips counts each way by index; unchanged items are in neither list', () => {
  const f = flips(items('abcdef', '100110'), items('abcdef', '011100'));
  assert.deepEqual(f, { wrongToRight: [1, 2], rightToWrong: [0, 4], total: 6 });
});

test('flips refuses to compare different lists', () => {
  assert.throws(() => flips(items('abc', '000'), items('ab', '00')), /3 and 2 items/);
  assert.throws(() => flips(items('abc', '000'), items('abd', '000')), /item 2 differs/);
});
