// An experiment's report (report.json in the experiment folder): one base model, one Q&A data set,
// several variants each trained in its own run folder and evaluated before and after. The experiment
// runner writes it; the CLI table, the HTML report and the extension read it, so it has one schema
// and one checked reader, like src/protocol/messages.ts: `shape<T>` below makes a checker that
// forgets a field a compile error, and every checker names the JSON path of what it rejects.
//
// Extra fields are allowed everywhere (a newer writer may add optional ones); `version` changes when
// a field changes meaning or a required one is added.

import { STRATEGIES, type StrategyKind } from '../train/strategies';
import type { Proportion } from '../eval/proportion';

/** A measured share with its counts and 95% Wilson interval: the type eval/proportion.ts computes. */
export type { Proportion };

export const REPORT_FORMAT = 'ftlab-experiment-report';
export const REPORT_VERSION = 1;

/** A figure measured before and after training. A null side says it was not measured; `missing`
 *  says why (shown to the user). `flips`: items wrong before and right after (gained), and the
 *  reverse (lost), when both sides were scored on the same items. */
export interface BeforeAfter<T> {
  before: T | null;
  after: T | null;
  missing?: string;
  flips?: { gained: number; lost: number };
}

export type VariantStatus = 'finished' | 'stopped' | 'failed' | 'running' | 'pending';
export const VARIANT_STATUSES: readonly VariantStatus[] = ['finished', 'stopped', 'failed', 'running', 'pending'];

export type SettingValue = number | string | boolean | null | number[] | string[];

export interface VariantReport {
  name: string;
  strategy: StrategyKind;
  /** Relative to the experiment folder. */
  runDir: string;
  status: VariantStatus;
  error?: string;
  /** Where it trained ('cpu' or 'cuda'), once it has; absent before. */
  device?: string;
  /** The effective settings: learningRate, numTrainEpochs, batch, dropout, weightDecay, loraRank,
   *  loraAlpha, layerLrMultipliers, replayRatio, l2spWeight, ... */
  settings: Record<string, SettingValue>;
  trainableParameters: number;
  steps: number;
  seconds: number;
  tokensPerSecond: number;
  peakMemoryBytes: number | null;
  finalLoss: number | null;
  accuracy: { task: BeforeAfter<Proportion>; taskTrained: BeforeAfter<Proportion>; general: BeforeAfter<Proportion> };
  perplexity: { general: BeforeAfter<number> };
  nextTokenAccuracy: { general: BeforeAfter<Proportion> };
  categories: Record<string, { task: BeforeAfter<Proportion> }>;
  samples: { prompt: string; answer: string; before: string; after: string }[];
  /** From the run's metrics.jsonl, for the overlaid curves. */
  lossCurve: { step: number; loss: number }[];
}

export type Decoding =
  | { kind: 'greedy'; maxNewTokens?: number }
  | { kind: 'sample'; topP: number; temperature: number; maxNewTokens: number; samples: number; seed: number };

export interface ExperimentReport {
  format: typeof REPORT_FORMAT;
  version: typeof REPORT_VERSION;
  name: string;
  /** ISO 8601. */
  createdAt: string;
  finishedAt: string | null;
  machine: { cpu: string; threads: number; device: string };
  baseModel: { name: string; dir: string; sha256: string | null };
  data: { file: string; trainExamples: number; testExamples: number; heldOutNote?: string };
  evaluation: { metric: string; decoding: Decoding; sets: Record<string, { count: number; source: string }> };
  seed: number;
  variants: VariantReport[];
}

/** Forgetting, as a fraction: general accuracy after minus before (negative = forgot); null when
 *  either side was not measured. */
export function forgetting(v: VariantReport): number | null {
  const { before, after } = v.accuracy.general;
  return before && after ? after.fraction - before.fraction : null;
}

// ---- the checked reader --------------------------------------------------------------------------

/** A report.json that does not match the schema: `path` is the JSON path of the first bad field
 *  ('' for the whole file), `problem` what it must be. */
export class ReportError extends Error {
  constructor(
    readonly file: string,
    readonly path: string,
    readonly problem: string,
  ) {
    super(`${file}: ${path || 'the file'} ${problem}`);
    this.name = 'ReportError';
  }
}

/** Thrown by a checker, caught by parseReport, which adds the file. */
class FieldError extends Error {
  constructor(
    readonly path: string,
    readonly problem: string,
  ) {
    super(`${path} ${problem}`);
  }
}

/** Checks a value at a JSON path: returns true when it is a T, throws a FieldError naming the path
 *  otherwise (so the first bad field is reported, not just "invalid report"). */
type Check<T> = (value: unknown, path: string) => value is T;

function check<T>(test: (v: unknown) => boolean, problem: string): Check<T> {
  return (v, path): v is T => {
    if (!test(v)) throw new FieldError(path, problem);
    return true;
  };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const isString = check<string>((v) => typeof v === 'string', 'must be a string');
const isFiniteNumber = check<number>((v) => typeof v === 'number' && Number.isFinite(v), 'must be a number');
const isNonNegative = check<number>((v) => typeof v === 'number' && Number.isFinite(v) && v >= 0, 'must be a number >= 0');
const isPositive = check<number>((v) => typeof v === 'number' && Number.isFinite(v) && v > 0, 'must be a number > 0');
const isCount = check<number>((v) => Number.isSafeInteger(v) && (v as number) >= 0, 'must be a whole number >= 0');
const isPositiveCount = check<number>((v) => Number.isSafeInteger(v) && (v as number) >= 1, 'must be a whole number >= 1');
const isInteger = check<number>((v) => Number.isSafeInteger(v), 'must be a whole number');
const isUnitInterval = check<number>((v) => typeof v === 'number' && v >= 0 && v <= 1, 'must be a number from 0 to 1');
const isDate = check<string>((v) => typeof v === 'string' && /^\d{4}-\d\d-\d\d/.test(v) && !Number.isNaN(Date.parse(v)), 'must be an ISO 8601 date (e.g. 2025-01-31T12:00:00Z)');
const isSha256 = check<string>((v) => typeof v === 'string' && /^[0-9a-f]{64}$/.test(v), 'must be 64 lower-case hex digits (a SHA-256) or null');
const isRelativePath = check<string>(
  (v) => typeof v === 'string' && v !== '' && !/^([/\\]|[A-Za-z]:)/.test(v),
  'must be a path relative to the experiment folder',
);

function literal<const T extends string | number>(value: T): Check<T> {
  return check<T>((v) => v === value, `must be ${JSON.stringify(value)}`);
}

function oneOf<const T extends string>(values: readonly T[]): Check<T> {
  return check<T>((v) => typeof v === 'string' && (values as readonly string[]).includes(v), `must be one of ${values.map((s) => JSON.stringify(s)).join(', ')}`);
}

function nullable<T>(inner: Check<T>): Check<T | null> {
  return (v, path): v is T | null => v === null || inner(v, path);
}

function optional<T>(inner: Check<T>): Check<T | undefined> {
  return (v, path): v is T | undefined => v === undefined || inner(v, path);
}

/** A union told apart by its `kind`; a checker that forgets a member does not compile. */
function byKind<T extends { kind: string }>(members: { [K in T['kind']]: Check<Extract<T, { kind: K }>> }): Check<T> {
  const kinds = Object.keys(members) as T['kind'][];
  return (v, path): v is T => {
    if (!isRecord(v)) throw new FieldError(path, 'must be a JSON object');
    const kind = v.kind as T['kind'];
    const expected = `must be one of ${kinds.map((k) => JSON.stringify(k)).join(', ')}`;
    if (!('kind' in v)) throw new FieldError(keyPath(path, 'kind'), `is missing (it ${expected})`);
    if (!kinds.includes(kind)) throw new FieldError(keyPath(path, 'kind'), expected);
    return members[kind](v, path);
  };
}

function arrayOf<T>(item: Check<T>): Check<T[]> {
  return (v, path): v is T[] => {
    if (!Array.isArray(v)) throw new FieldError(path, 'must be a list');
    return v.every((x, i) => item(x, `${path}[${i}]`));
  };
}

/** `a.b` for a plain key, `a["odd key"]` otherwise. */
function keyPath(path: string, key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? (path ? `${path}.${key}` : key) : `${path}[${JSON.stringify(key)}]`;
}

function recordOf<T>(value: Check<T>): Check<Record<string, T>> {
  return (v, path): v is Record<string, T> => {
    if (!isRecord(v)) throw new FieldError(path, 'must be an object');
    return Object.entries(v).every(([k, x]) => value(x, keyPath(path, k)));
  };
}

/** Checks an object field by field; a checker that forgets a field of T does not compile. */
function shape<T extends object>(fields: { [K in keyof T]-?: Check<T[K]> }): Check<T> {
  return (v, path): v is T => {
    if (!isRecord(v)) throw new FieldError(path, 'must be a JSON object');
    return (Object.keys(fields) as (keyof T & string)[]).every((k) => {
      try {
        return fields[k](v[k], keyPath(path, k));
      } catch (e) {
        // "is missing" says more than "must be a string" when the field is not there at all.
        if (e instanceof FieldError && !(k in v) && e.path === keyPath(path, k)) throw new FieldError(e.path, `is missing (it ${e.problem})`);
        throw e;
      }
    });
  };
}

/** Runs `cross` after `base` has accepted the value, for rules between fields. */
function refine<T>(base: Check<T>, cross: (v: T, path: string) => void): Check<T> {
  return (v, path): v is T => {
    base(v, path);
    cross(v as T, path);
    return true;
  };
}

// Rounding in the writer (or a hand-edited file) must not make a figure unreadable.
const SLACK = 1e-6;

const isProportion: Check<Proportion> = refine(
  shape<Proportion>({ correct: isNonNegative, total: isCount, fraction: isUnitInterval, low: isUnitInterval, high: isUnitInterval }),
  (p, path) => {
    if (p.correct > p.total) throw new FieldError(keyPath(path, 'correct'), `must be <= total (${p.total})`);
    if (p.total > 0 && Math.abs(p.fraction - p.correct / p.total) > SLACK) {
      throw new FieldError(keyPath(path, 'fraction'), `must be correct / total (${p.correct}/${p.total} = ${p.correct / p.total})`);
    }
    if (p.low > p.fraction + SLACK) throw new FieldError(keyPath(path, 'low'), `must be <= fraction (${p.fraction})`);
    if (p.high < p.fraction - SLACK) throw new FieldError(keyPath(path, 'high'), `must be >= fraction (${p.fraction})`);
  },
);

function beforeAfter<T>(value: Check<T>): Check<BeforeAfter<T>> {
  return shape<BeforeAfter<T>>({
    before: nullable(value),
    after: nullable(value),
    missing: optional(isString),
    flips: optional(shape<{ gained: number; lost: number }>({ gained: isCount, lost: isCount })),
  });
}

const isSettingValue = check<SettingValue>(
  (v) =>
    v === null ||
    typeof v === 'string' ||
    typeof v === 'boolean' ||
    (typeof v === 'number' && Number.isFinite(v)) ||
    (Array.isArray(v) && (v.every((x) => typeof x === 'number' && Number.isFinite(x)) || v.every((x) => typeof x === 'string'))),
  'must be a number, a string, true/false, null, or a list of numbers or of strings',
);

const isVariant: Check<VariantReport> = shape<VariantReport>({
  name: refine(isString, (s, path) => {
    if (!s.trim()) throw new FieldError(path, 'must not be empty');
  }),
  strategy: oneOf(STRATEGIES),
  runDir: isRelativePath,
  status: oneOf(VARIANT_STATUSES),
  error: optional(isString),
  device: optional(isString),
  settings: recordOf(isSettingValue),
  trainableParameters: isCount,
  steps: isCount,
  seconds: isNonNegative,
  tokensPerSecond: isNonNegative,
  peakMemoryBytes: nullable(isCount),
  finalLoss: nullable(isFiniteNumber),
  accuracy: shape<VariantReport['accuracy']>({
    task: beforeAfter(isProportion),
    taskTrained: beforeAfter(isProportion),
    general: beforeAfter(isProportion),
  }),
  perplexity: shape<VariantReport['perplexity']>({ general: beforeAfter(isPositive) }),
  nextTokenAccuracy: shape<VariantReport['nextTokenAccuracy']>({ general: beforeAfter(isProportion) }),
  categories: recordOf(shape<{ task: BeforeAfter<Proportion> }>({ task: beforeAfter(isProportion) })),
  samples: arrayOf(shape<VariantReport['samples'][number]>({ prompt: isString, answer: isString, before: isString, after: isString })),
  lossCurve: arrayOf(shape<VariantReport['lossCurve'][number]>({ step: isCount, loss: isFiniteNumber })),
});

const isDecoding: Check<Decoding> = byKind<Decoding>({
  greedy: shape<Extract<Decoding, { kind: 'greedy' }>>({ kind: literal('greedy'), maxNewTokens: optional(isPositiveCount) }),
  sample: shape<Extract<Decoding, { kind: 'sample' }>>({
    kind: literal('sample'),
    topP: check<number>((v) => typeof v === 'number' && v > 0 && v <= 1, 'must be a number > 0 and <= 1'),
    temperature: isPositive,
    maxNewTokens: isPositiveCount,
    samples: isPositiveCount,
    seed: isInteger,
  }),
});

const isReportBody: Check<ExperimentReport> = shape<ExperimentReport>({
  format: literal(REPORT_FORMAT),
  version: literal(REPORT_VERSION),
  name: isString,
  createdAt: isDate,
  finishedAt: nullable(isDate),
  machine: shape<ExperimentReport['machine']>({ cpu: isString, threads: isPositiveCount, device: isString }),
  baseModel: shape<ExperimentReport['baseModel']>({ name: isString, dir: isString, sha256: nullable(isSha256) }),
  data: shape<ExperimentReport['data']>({ file: isString, trainExamples: isCount, testExamples: isCount, heldOutNote: optional(isString) }),
  evaluation: shape<ExperimentReport['evaluation']>({
    metric: isString,
    decoding: isDecoding,
    sets: recordOf(shape<{ count: number; source: string }>({ count: isCount, source: isString })),
  }),
  seed: isInteger,
  variants: refine(arrayOf(isVariant), (variants, path) => {
    const seen = new Map<string, number>();
    variants.forEach((v, i) => {
      const first = seen.get(v.name);
      if (first !== undefined) throw new FieldError(`${path}[${i}].name`, `must be unique ("${v.name}" is also variants[${first}].name)`);
      seen.set(v.name, i);
    });
  }),
});

/** Checks a parsed report.json field by field; throws a ReportError naming `file` and the JSON path
 *  of the first bad field. Returns the same object, typed. */
export function parseReport(json: unknown, file: string): ExperimentReport {
  if (isRecord(json) && json.format === REPORT_FORMAT && typeof json.version === 'number' && json.version > REPORT_VERSION) {
    throw new ReportError(file, 'version', `is ${json.version}: this ftlab reads report version ${REPORT_VERSION}; update ftlab to read it`);
  }
  try {
    isReportBody(json, '');
  } catch (e) {
    if (e instanceof FieldError) throw new ReportError(file, e.path, e.problem);
    throw e;
  }
  return json as ExperimentReport;
}

/** Reads the JSON text of a report file (as parseReport, plus a clear message for broken JSON). */
export function parseReportText(text: string, file: string): ExperimentReport {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ReportError(file, '', `is not valid JSON (${(e as Error).message})`);
  }
  return parseReport(json, file);
}
