// Schedules against values worked out by hand from transformers' lambdas
// (get_linear_schedule_with_warmup, get_cosine_schedule_with_warmup, ...).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { learningRateAt } from '../../src/engine/optim/schedule';

const close = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-15, `${a} != ${b}`);

test('linear with warmup: 0 at step 0, peak after warmup, 0 at the end', () => {
  const s = { type: 'linear' as const, learningRate: 1e-3, warmupSteps: 4, totalSteps: 20 };
  close(learningRateAt(s, 0), 0);
  close(learningRateAt(s, 2), 5e-4);
  close(learningRateAt(s, 4), 1e-3);
  close(learningRateAt(s, 12), 1e-3 * 8 / 16);
  close(learningRateAt(s, 20), 0);
  close(learningRateAt(s, 25), 0);
});

test('cosine: half at the midpoint after warmup', () => {
  const s = { type: 'cosine' as const, learningRate: 2e-4, warmupSteps: 10, totalSteps: 110 };
  close(learningRateAt(s, 5), 1e-4);
  close(learningRateAt(s, 10), 2e-4);
  close(learningRateAt(s, 60), 1e-4);
  assert.ok(learningRateAt(s, 110) < 1e-20);
});

test('constant ignores warmup; constant_with_warmup ramps', () => {
  close(learningRateAt({ type: 'constant', learningRate: 3e-4, warmupSteps: 10, totalSteps: 100 }, 0), 3e-4);
  const w = { type: 'constant_with_warmup' as const, learningRate: 3e-4, warmupSteps: 10, totalSteps: 100 };
  close(learningRateAt(w, 5), 1.5e-4);
  close(learningRateAt(w, 99), 3e-4);
});
