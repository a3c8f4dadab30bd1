// parseReport: accepts a valid report unchanged; rejects each kind of bad field with the file and its
// JSON path; and every required field of the schema is checked (deleting any one is an error that
// names it), so a field added to the type without a check cannot pass unnoticed. Plus forgetting().

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { forgetting, parseReport, parseReportText, ReportError, type ExperimentReport } from '../../src/engine/experiment/report';
import { prop, sampleReport } from './reportFixture';

type Json = Record<string, unknown>;

/** Writes a field whatever its type, to make a report invalid. */
function poke(target: object | null, key: string, value: unknown): void {
  (target as Json)[key] = value;
}

test('a valid report is accepted and returned as it is, also through JSON text', () => {
  const report = sampleReport();
  assert.equal(parseReport(report, 'report.json'), report);
  assert.deepEqual(parseReportText(JSON.stringify(report), 'report.json'), report);
});

test('extra fields (from a newer writer) are allowed', () => {
  const report = sampleReport() as unknown as Json;
  report.comment = 'added by hand';
  (report.variants as Json[])[0].gpu = 'none';
  assert.doesNotThrow(() => parseReport(report, 'report.json'));
});

/** Each case: a change to a valid report, and the exact message parseReport must give. */
const BAD: [string, (r: ExperimentReport) => void, string][] = [
  ['a fractional count', (r) => poke(r.variants[2].accuracy.task.after, 'total', 301.5), 'variants[2].accuracy.task.after.total must be a whole number >= 0'],
  ['a negative count', (r) => poke(r.variants[0].accuracy.general.before, 'total', -1), 'variants[0].accuracy.general.before.total must be a whole number >= 0'],
  ['correct above total', (r) => (r.variants[1].accuracy.task.after = { ...prop(10, 20), correct: 21 }), 'variants[1].accuracy.task.after.correct must be <= total (20)'],
  ['a fraction that is not correct/total', (r) => (r.variants[0].accuracy.task.before = { ...prop(36, 301), fraction: 0.5 }), 'variants[0].accuracy.task.before.fraction must be correct / total (36/301 = 0.11960132890365449)'],
  ['an interval that misses the fraction', (r) => (r.variants[0].accuracy.task.before = { ...prop(36, 301), low: 0.2 }), 'variants[0].accuracy.task.before.low must be <= fraction (0.11960132890365449)'],
  ['a fraction above 1', (r) => (r.variants[0].nextTokenAccuracy.general.after = { ...prop(1, 2), high: 1.5 }), 'variants[0].nextTokenAccuracy.general.after.high must be a number from 0 to 1'],
  ['a category with a bad figure', (r) => poke(r.variants[0].categories['science & nature'].task, 'before', 0.3), 'variants[0].categories["science & nature"].task.before must be a JSON object'],
  ['flips that are not counts', (r) => (r.variants[0].accuracy.general.flips = { gained: 1.5, lost: 0 }), 'variants[0].accuracy.general.flips.gained must be a whole number >= 0'],
  ['a missing reason that is not text', (r) => poke(r.variants[3].accuracy.task, 'missing', 3), 'variants[3].accuracy.task.missing must be a string'],
  ['perplexity 0', (r) => (r.variants[0].perplexity.general.before = 0), 'variants[0].perplexity.general.before must be a number > 0'],
  ['an unknown strategy', (r) => poke(r.variants[1], 'strategy', 'adapters'), 'variants[1].strategy must be one of "full", "frozen-embeddings", "layerwise-lr", "lora"'],
  ['an unknown status', (r) => poke(r.variants[1], 'status', 'done'), 'variants[1].status must be one of "finished", "stopped", "failed", "running", "pending"'],
  ['an object as a setting', (r) => poke(r.variants[0].settings, 'scheduler', { kind: 'cosine' }), 'variants[0].settings.scheduler must be a number, a string, true/false, null, or a list of numbers or of strings'],
  ['a mixed list as a setting', (r) => poke(r.variants[0].settings, 'lr groups', [1, 'a']), 'variants[0].settings["lr groups"] must be a number, a string, true/false, null, or a list of numbers or of strings'],
  ['negative memory', (r) => (r.variants[0].peakMemoryBytes = -5), 'variants[0].peakMemoryBytes must be a whole number >= 0'],
  ['a loss as text', (r) => poke(r.variants[0], 'finalLoss', 'NaN'), 'variants[0].finalLoss must be a number'],
  ['a loss point without its loss', (r) => delete (r.variants[0].lossCurve[3] as Partial<{ loss: number }>).loss, 'variants[0].lossCurve[3].loss is missing (it must be a number)'],
  ['a sample that is not a list', (r) => poke(r.variants[0], 'samples', {}), 'variants[0].samples must be a list'],
  ['an absolute run folder', (r) => (r.variants[0].runDir = '/home/me/runs/full'), 'variants[0].runDir must be a path relative to the experiment folder'],
  ['an empty variant name', (r) => (r.variants[0].name = ' '), 'variants[0].name must not be empty'],
  ['two variants with one name', (r) => (r.variants[3].name = 'full'), 'variants[3].name must be unique ("full" is also variants[0].name)'],
  ['another format', (r) => poke(r, 'format', 'ftlab-run'), 'format must be "ftlab-experiment-report"'],
  ['a newer version', (r) => poke(r, 'version', 2), 'version is 2: this ftlab reads report version 1; update ftlab to read it'],
  ['version 0', (r) => poke(r, 'version', 0), 'version must be 1'],
  ['a date that is not ISO', (r) => (r.createdAt = 'yesterday'), 'createdAt must be an ISO 8601 date (e.g. 2025-01-31T12:00:00Z)'],
  ['no threads', (r) => (r.machine.threads = 0), 'machine.threads must be a whole number >= 1'],
  ['a short hash', (r) => (r.baseModel.sha256 = 'abc123'), 'baseModel.sha256 must be 64 lower-case hex digits (a SHA-256) or null'],
  ['an unknown decoding', (r) => poke(r.evaluation, 'decoding', { kind: 'beam' }), 'evaluation.decoding.kind must be one of "greedy", "sample"'],
  ['top-p above 1', (r) => (r.evaluation.decoding = { kind: 'sample', topP: 1.2, temperature: 0.7, maxNewTokens: 24, samples: 5, seed: 1 }), 'evaluation.decoding.topP must be a number > 0 and <= 1'],
  ['a sampled decoding without samples', (r) => poke(r.evaluation, 'decoding', { kind: 'sample', topP: 0.9, temperature: 0.7, maxNewTokens: 24, seed: 1 }), 'evaluation.decoding.samples is missing (it must be a whole number >= 1)'],
  ['a negative set size', (r) => (r.evaluation.sets.general.count = -1), 'evaluation.sets.general.count must be a whole number >= 0'],
  ['a fractional seed', (r) => (r.seed = 1.5), 'seed must be a whole number'],
  ['a note that is not text', (r) => poke(r.data, 'heldOutNote', 5), 'data.heldOutNote must be a string'],
  ['no variants list', (r) => delete (r as Partial<ExperimentReport>).variants, 'variants is missing (it must be a list)'],
];

for (const [what, change, message] of BAD) {
  test(`rejects ${what}: "${message}"`, () => {
    const report = sampleReport();
    change(report);
    assert.throws(() => parseReport(report, 'report.json'), (e: unknown) => {
      assert.ok(e instanceof ReportError);
      assert.equal(e.message, `report.json: ${message}`);
      assert.equal(e.file, 'report.json');
      return true;
    });
  });
}

test('a file that is not an object, or not JSON, is named as such', () => {
  assert.throws(() => parseReport([], 'exp/report.json'), { message: 'exp/report.json: the file must be a JSON object' });
  assert.throws(() => parseReportText('{"format": ', 'exp/report.json'), (e: unknown) => e instanceof ReportError && /^exp\/report\.json: the file is not valid JSON \(/.test(e.message));
});

// Optional fields (`?` in the schema) and entries of open records (settings, categories, sets) may
// be absent; every other field must be checked.
const MAY_BE_ABSENT = [
  /\.missing$/, /\.flips$/, /^data\.heldOutNote$/, /\.error$/, /^evaluation\.decoding\.maxNewTokens$/,
  /\.settings(\.\w+|\[.*\])$/, /\.categories(\.\w+|\[.*\])$/, /^evaluation\.sets\.\w+$/,
];

/** Every object field of `value`, as [JSON path, parent object, key]. */
function fields(value: unknown, path = ''): [string, Record<string, unknown>, string][] {
  if (Array.isArray(value)) return value.flatMap((x, i) => fields(x, `${path}[${i}]`));
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([k, x]) => {
    const p = /^[A-Za-z_$][\w$]*$/.test(k) ? (path ? `${path}.${k}` : k) : `${path}[${JSON.stringify(k)}]`;
    return [[p, value as Record<string, unknown>, k] as [string, Record<string, unknown>, string], ...fields(x, p)];
  });
}

test('deleting any required field is an error that names its path', () => {
  const paths = fields(sampleReport()).map(([p]) => p);
  assert.ok(paths.length > 300, `the fixture has ${paths.length} fields`);
  let required = 0;
  for (const path of paths) {
    const report = sampleReport();
    const [, parent, key] = fields(report).find(([p]) => p === path)!;
    delete parent[key];
    if (MAY_BE_ABSENT.some((re) => re.test(path))) {
      assert.doesNotThrow(() => parseReport(report, 'r.json'), `${path} may be absent`);
      continue;
    }
    required++;
    assert.throws(() => parseReport(report, 'r.json'), (e: unknown) => e instanceof ReportError && e.path === path && /is missing/.test(e.message), `deleting ${path}`);
  }
  assert.ok(required > 250);
});

test('forgetting is general accuracy after minus before, null when a side is missing', () => {
  const [full, frozen, lora, failed, pending] = sampleReport().variants;
  assert.ok(Math.abs(forgetting(full)! - (71 / 200 - 82 / 200)) < 1e-12);
  assert.ok(Math.abs(forgetting(frozen)! - (78 / 200 - 82 / 200)) < 1e-12);
  assert.ok(Math.abs(forgetting(lora)! - 1 / 200) < 1e-12);
  assert.equal(forgetting(failed), null);
  assert.equal(forgetting(pending), null);
});
