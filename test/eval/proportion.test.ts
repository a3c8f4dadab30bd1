// Wilson score intervals against published values: 8/10 as quoted in the issue, and Newcombe (1998),
// "Two-sided confidence intervals for the single proportion", Stat. Med. 17:857, Table II, method 3
// (score interval without continuity correction), 4 decimals.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Z_95, proportion, wilsonInterval } from '../../src/engine/eval/proportion';

const PUBLISHED: [number, number, number, number][] = [
  [8, 10, 0.4902, 0.9433],
  [81, 263, 0.2553, 0.3662],
  [15, 148, 0.0624, 0.1605],
  [0, 20, 0, 0.1611],
  [1, 29, 0.0061, 0.1718],
];

test('Wilson intervals match published values to 4 decimals', () => {
  for (const [k, n, low, high] of PUBLISHED) {
    const p = proportion(k, n)!;
    assert.equal(p.correct, k);
    assert.equal(p.total, n);
    assert.equal(p.fraction, k / n);
    assert.ok(Math.abs(p.low - low) < 5e-5 && Math.abs(p.high - high) < 5e-5, `${k}/${n}: [${p.low}, ${p.high}], published [${low}, ${high}]`);
  }
});

test('the endpoints are the roots of the score equation (p - pi)^2 = z^2 pi (1 - pi) / n', () => {
  for (const [k, n] of [[3, 7], [2.6, 5], [49, 50], [1, 1]]) {
    const p = k / n;
    const { low, high } = wilsonInterval(k, n);
    for (const pi of [low, high]) {
      if (pi === 0 || pi === 1) continue; // clamped ends are checked below
      assert.ok(Math.abs((p - pi) ** 2 - (Z_95 ** 2 * pi * (1 - pi)) / n) < 1e-12, `${k}/${n} endpoint ${pi}`);
    }
  }
  assert.deepEqual([proportion(0, 5)!.low, proportion(5, 5)!.high], [0, 1]);
});

test('no items gives null, not 0%; impossible counts are errors', () => {
  assert.equal(proportion(0, 0), null);
  assert.throws(() => proportion(3, 2), /0 <= correct <= total/);
  assert.throws(() => proportion(-1, 2), /0 <= correct <= total/);
  assert.throws(() => proportion(1, 2.5), /whole number/);
});
