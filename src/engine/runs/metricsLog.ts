// metrics.jsonl and eval_metrics.jsonl: one JSON object per line, appended while a run trains. A
// process killed mid-append leaves a last line without its newline; readers skip that line (it is
// the one being written), and resume cuts it away. Any other bad line is an error naming file:line.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EvalMetrics, StepMetrics } from '../train/trainer';
import { writeFileAtomic } from '../fsAtomic';
import { Mismatch, Rule, anyNumber, count, finite, flag, object, oneOf } from './jsonRule';
import { REWRITE_FIX, RUN_FILES, RunFolderError, mismatchError } from './runFolder';

export const stepMetricsRule: Rule<StepMetrics> = object<StepMetrics>({
  step: count, epoch: finite, loss: finite, learningRate: finite, gradNorm: anyNumber, tokensPerSecond: anyNumber,
});

export const evalMetricsRule: Rule<EvalMetrics> = object<EvalMetrics>({
  step: count, split: oneOf('validation'), loss: anyNumber, tokens: count, best: flag,
});

/** JSON has no NaN or Infinity: JSON.stringify wrote them as null (a gradient norm that overflowed, a step too fast to time). */
const NUMBERS = new Set(['gradNorm', 'tokensPerSecond', 'loss']);
const revive = (key: string, value: unknown): unknown => (value === null && NUMBERS.has(key) ? NaN : value);

interface Line<T> { value: T; text: string }

function readLines<T>(file: string, rule: Rule<T>): Line<T>[] {
  if (!existsSync(file)) return [];
  const content = readFileSync(file, 'utf8');
  const lines = content.split('\n');
  // After the last '\n' comes '' (a complete file) or a line still being written.
  const partial = lines.pop() ?? '';
  const out: Line<T>[] = [];
  const take = (text: string, n: number, isPartial: boolean) => {
    if (!text.trim()) return;
    let value: unknown;
    try {
      value = JSON.parse(text, revive);
    } catch (err) {
      if (isPartial) return; // half-written by a process that was stopped mid-append
      throw new RunFolderError({ code: 'not-json', file, line: n, problem: `not valid JSON (${(err as Error).message})`, fix: `${REWRITE_FIX}; or delete line ${n}` });
    }
    const found: Mismatch[] = [];
    if (!rule(value, '', found)) throw mismatchError(file, found[0], `${REWRITE_FIX}; or delete line ${n}`, n);
    out.push({ value, text });
  };
  lines.forEach((text, i) => take(text, i + 1, false));
  take(partial, lines.length + 1, true);
  return out;
}

/** The logged training steps, in file order ([] before the first one). */
export function readMetrics(runDir: string): StepMetrics[] {
  return readLines(join(runDir, RUN_FILES.metrics), stepMetricsRule).map((l) => l.value);
}

/** The validation passes, in file order ([] when the run does not evaluate). */
export function readEvalMetrics(runDir: string): EvalMetrics[] {
  return readLines(join(runDir, RUN_FILES.evalMetrics), evalMetricsRule).map((l) => l.value);
}

/**
 * Keeps the lines of steps <= `step` in metrics.jsonl and eval_metrics.jsonl (resume: later lines
 * belong to steps that will run again) and drops a half-written last line. Kept lines stay byte for byte.
 */
export function truncateMetricsAfter(runDir: string, step: number): void {
  for (const [name, rule] of [[RUN_FILES.metrics, stepMetricsRule], [RUN_FILES.evalMetrics, evalMetricsRule]] as const) {
    const file = join(runDir, name);
    if (!existsSync(file)) continue;
    const kept = readLines<{ step: number }>(file, rule).filter((l) => l.value.step <= step);
    writeFileAtomic(file, kept.map((l) => l.text + '\n').join(''));
  }
}
