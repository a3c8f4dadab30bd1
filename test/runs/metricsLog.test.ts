// metrics.jsonl / eval_metrics.jsonl: a half-written last line is skipped; any other bad line is an
// error naming file:line; resume's truncation keeps earlier lines byte for byte.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RunFolderError } from '../../src/engine/runs/runFolder';
import { readEvalMetrics, readMetrics, truncateMetricsAfter } from '../../src/engine/runs/metricsLog';
import { scratchDir } from '../data/helpers';

const line = (step: number, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ step, epoch: step / 4, loss: 2 - step / 10, learningRate: 1e-3, gradNorm: 0.5, tokensPerSecond: 1000, ...extra });
const evalLine = (step: number) => JSON.stringify({ step, split: 'validation', loss: 1.5 - step / 100, tokens: 40, best: true });

function runWith(metrics: string, evalMetrics?: string): string {
  const dir = scratchDir('metrics');
  writeFileSync(join(dir, 'metrics.jsonl'), metrics);
  if (evalMetrics !== undefined) writeFileSync(join(dir, 'eval_metrics.jsonl'), evalMetrics);
  return dir;
}

test('metrics lines read as StepMetrics; no file is no metrics', () => {
  const m = readMetrics(runWith(`${line(1)}\n${line(2)}\n`));
  assert.deepEqual(m.map((x) => x.step), [1, 2]);
  assert.equal(m[1].loss, 1.8);
  assert.deepEqual(readMetrics(scratchDir('metrics')), []);
  assert.deepEqual(readEvalMetrics(scratchDir('metrics')), []);
});

test('a half-written last line (no newline, not JSON) is skipped', () => {
  const m = readMetrics(runWith(`${line(1)}\n${line(2)}\n{"step":3,"epo`));
  assert.deepEqual(m.map((x) => x.step), [1, 2]);
  const e = readEvalMetrics(runWith('', `${evalLine(10)}\n{"step":20,"spl`));
  assert.deepEqual(e.map((x) => x.step), [10]);
});

test('a complete last line without its newline still counts', () => {
  assert.deepEqual(readMetrics(runWith(`${line(1)}\n${line(2)}`)).map((x) => x.step), [1, 2]);
});

test('a bad line in the middle is an error naming file:line', () => {
  const dir = runWith(`${line(1)}\n{"step":2,"epo\n${line(3)}\n`);
  assert.throws(() => readMetrics(dir), (e: unknown) => {
    assert.ok(e instanceof RunFolderError);
    assert.equal(e.code, 'not-json');
    assert.equal(e.line, 2);
    assert.ok(e.message.startsWith(`${join(dir, 'metrics.jsonl')}:2: not valid JSON`), e.message);
    assert.match(e.message, /delete line 2/);
    return true;
  });
});

test('a complete last line that is not JSON is an error too (it ends with a newline: it was finished)', () => {
  assert.throws(() => readMetrics(runWith(`${line(1)}\nnot json\n`)), (e: unknown) => e instanceof RunFolderError && e.line === 2);
});

test('a line of the wrong shape names file:line and the field', () => {
  const dir = runWith(`${line(1)}\n${line(2)}\n${line(3, { loss: 'low' })}\n`);
  assert.throws(() => readMetrics(dir), (e: unknown) => {
    assert.ok(e instanceof RunFolderError);
    assert.deepEqual([e.code, e.line, e.field], ['bad-field', 3, 'loss']);
    assert.ok(e.message.startsWith(`${join(dir, 'metrics.jsonl')}:3: "loss" must be a finite number, got "low"`), e.message);
    return true;
  });
  assert.throws(() => readEvalMetrics(runWith('', `${evalLine(1).replace('"validation"', '"test"')}\n`)), (e: unknown) => e instanceof RunFolderError && e.field === 'split' && e.line === 1);
});

test('null where JSON could not write NaN or Infinity (gradNorm, tokensPerSecond) reads as NaN', () => {
  const [m] = readMetrics(runWith(`${line(1, { gradNorm: null, tokensPerSecond: null })}\n`));
  assert.ok(Number.isNaN(m.gradNorm) && Number.isNaN(m.tokensPerSecond));
});

test('truncateMetricsAfter keeps steps <= n byte for byte, in both files, and drops a half-written line', () => {
  const kept = `${line(1)}\n${line(2, { note: 'extra field kept' })}\n`;
  const dir = runWith(`${kept}${line(3)}\n${line(4)}\n{"step":5,"lo`, `${evalLine(2)}\n${evalLine(4)}\n`);
  truncateMetricsAfter(dir, 2);
  assert.equal(readFileSync(join(dir, 'metrics.jsonl'), 'utf8'), kept);
  assert.equal(readFileSync(join(dir, 'eval_metrics.jsonl'), 'utf8'), `${evalLine(2)}\n`);
  const partialOnly = runWith(`${line(1)}\n{"st`);
  truncateMetricsAfter(partialOnly, 10);
  assert.equal(readFileSync(join(partialOnly, 'metrics.jsonl'), 'utf8'), `${line(1)}\n`);
});
