// Host-side token choice against hand-computed cases (HF generate's processors).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { argmax, nextToken } from '../../src/engine/generate/sampling';
import { uniformRng } from '../../src/engine/random';

const draws = (logits: number[], o: Parameters<typeof nextToken>[2], n = 4000, seen: number[] = []) => {
  const rng = uniformRng(3);
  const counts = new Array(logits.length).fill(0);
  for (let i = 0; i < n; i++) counts[nextToken(Float32Array.from(logits), seen, o, rng)]++;
  return counts.map((c) => c / n);
};

test('greedy is the first argmax; repetition penalty divides positive and multiplies negative logits', () => {
  assert.equal(argmax([1, 3, 3, 2]), 1);
  assert.equal(nextToken(Float32Array.from([2, 1, -1]), [], { greedy: true }, Math.random), 0);
  assert.equal(nextToken(Float32Array.from([2, 1, -1]), [0], { greedy: true, repetitionPenalty: 4 }, Math.random), 1); // 2/4 < 1
  assert.equal(nextToken(Float32Array.from([-0.5, -1]), [0, 0], { greedy: true, repetitionPenalty: 3 }, Math.random), 1); // -1.5 < -1
  assert.equal(nextToken(Float32Array.from([5, 1]), [], { temperature: 0 }, Math.random), 0);
});

test('temperature sampling follows the softmax; top-k and top-p keep the right tokens', () => {
  const probs = [0.5, 0.3, 0.15, 0.05];
  const logits = probs.map(Math.log);
  const f = draws(logits, { temperature: 1, topP: 1 }, 20000);
  probs.forEach((p, i) => assert.ok(Math.abs(f[i] - p) < 0.015, `token ${i}: ${f[i]} vs ${p}`));
  // temperature 0.5 squares the probabilities (renormalised).
  const sq = probs.map((p) => p * p), z = sq.reduce((a, b) => a + b);
  const f2 = draws(logits, { temperature: 0.5, topP: 1 }, 20000);
  sq.forEach((p, i) => assert.ok(Math.abs(f2[i] - p / z) < 0.015, `T=0.5 token ${i}`));
  // top-p 0.75: 0.5 + 0.3 reaches it, so tokens 0 and 1 only, in proportion 5:3.
  const f3 = draws(logits, { temperature: 1, topP: 0.75 });
  assert.equal(f3[2] + f3[3], 0);
  assert.ok(Math.abs(f3[0] - 0.625) < 0.03);
  assert.deepEqual(draws(logits, { temperature: 1, topP: 0.5 }).map((x) => x > 0), [true, false, false, false]);
  // top-k 3 drops the least likely token only; top-k 1 is greedy whatever the temperature.
  const f4 = draws(logits, { temperature: 1, topP: 1, topK: 3 });
  assert.equal(f4[3], 0);
  assert.ok(f4[2] > 0);
  assert.deepEqual(draws(logits, { temperature: 5, topP: 1, topK: 1 }, 200), [1, 0, 0, 0]);
});
