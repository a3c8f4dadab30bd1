// The experiment's comparison table as plain text (what `ftlab experiment` prints), and the number
// formats the HTML report shares with it, so a figure reads the same in the terminal and the browser.
//
//   variant  task before → after                    general before → after   forgetting  steps ...
//   full     12.0% (36/301) → 63.2% (190/301)       41.0% (82/200) → 38.5% (77/200)   −2.5 pt   600 ...

import { forgetting, type BeforeAfter, type ExperimentReport, type Proportion, type VariantReport } from './report';

export const DASH = '—';

/** `correct` may be fractional (a mean over samples): shown with one decimal then. */
function formatCorrect(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(1);
}

/** `63.2%`. */
export function formatPercent(fraction: number): string {
  return `${(fraction * 100).toFixed(1)}%`;
}

/** `190/301`. */
export function formatCounts(p: Proportion): string {
  return `${formatCorrect(p.correct)}/${p.total}`;
}

/** `63.2% (190/301)`. */
export function formatProportion(p: Proportion): string {
  return `${formatPercent(p.fraction)} (${formatCounts(p)})`;
}

/** `57.6–68.4%`: the 95% interval. */
export function formatInterval(p: Proportion): string {
  return `${(p.low * 100).toFixed(1)}–${(p.high * 100).toFixed(1)}%`;
}

/** A difference of two fractions in percentage points, signed: `+4.0 pt`, `−2.5 pt`, `0.0 pt`. */
export function formatPoints(delta: number): string {
  const pt = delta * 100;
  const text = Math.abs(pt).toFixed(1);
  if (text === '0.0') return '0.0 pt';
  return `${pt > 0 ? '+' : '−'}${text} pt`;
}

/** `45 s`, `3 min 20 s`, `1 h 02 min`. */
export function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
}

/** `512 B`, `3.4 MB`, `1.21 GB` (powers of 1000, like the OS's memory tools). */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = bytes;
  let u = -1;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : v.toFixed(0)} ${units[u]}`;
}

/** `812`, `12.3 k`, `124.4 M`, `1.24 B`. */
export function formatCount(n: number): string {
  if (n < 1000) return String(n);
  const [v, unit] = n < 1e6 ? [n / 1e3, 'k'] : n < 1e9 ? [n / 1e6, 'M'] : [n / 1e9, 'B'];
  return `${v < 10 ? v.toFixed(2) : v.toFixed(1)} ${unit}`;
}

/** `1,234` */
export function formatRate(perSecond: number): string {
  return Math.round(perSecond).toLocaleString('en-US');
}

/** The variant's name with its status when it did not finish: `lora (failed)`. */
export function variantLabel(v: VariantReport): string {
  return v.status === 'finished' ? v.name : `${v.name} (${v.status})`;
}

/** Numbers the reasons for missing figures, one number per distinct reason. */
export class Footnotes {
  readonly reasons: string[] = [];

  /** The note's number (1-based). */
  add(reason: string): number {
    const i = this.reasons.indexOf(reason);
    if (i >= 0) return i + 1;
    this.reasons.push(reason);
    return this.reasons.length;
  }
}

/** The footnote for a null figure of variant `v`: its name and why (one note per variant and reason,
 *  so a variant that never ran has one note, not one per figure). */
export function missingNote(v: VariantReport, ba: Pick<BeforeAfter<unknown>, 'missing'>): string {
  return `${v.name}: ${ba.missing ?? (v.status === 'pending' ? 'not run yet' : 'not measured (no reason recorded)')}`;
}

function beforeAfterText<T>(v: VariantReport, ba: BeforeAfter<T>, format: (x: T) => string, notes: Footnotes): string {
  const side = (x: T | null) => (x === null ? DASH : format(x));
  const text = `${side(ba.before)} → ${side(ba.after)}`;
  return ba.before === null || ba.after === null ? `${text} [${notes.add(missingNote(v, ba))}]` : text;
}

type Align = 'left' | 'right';
interface Column {
  title: string;
  align: Align;
  cell: (v: VariantReport, notes: Footnotes) => string;
}

const COLUMNS: Column[] = [
  { title: 'variant', align: 'left', cell: (v) => variantLabel(v) },
  { title: 'task before → after', align: 'left', cell: (v, n) => beforeAfterText(v, v.accuracy.task, formatProportion, n) },
  { title: 'general before → after', align: 'left', cell: (v, n) => beforeAfterText(v, v.accuracy.general, formatProportion, n) },
  { title: 'forgetting', align: 'right', cell: (v) => { const f = forgetting(v); return f === null ? DASH : formatPoints(f); } },
  { title: 'steps', align: 'right', cell: (v) => String(v.steps) },
  { title: 'time', align: 'right', cell: (v) => formatDuration(v.seconds) },
  { title: 'tokens/s', align: 'right', cell: (v) => formatRate(v.tokensPerSecond) },
  { title: 'peak memory', align: 'right', cell: (v) => (v.peakMemoryBytes === null ? DASH : formatBytes(v.peakMemoryBytes)) },
  { title: 'trainable params', align: 'right', cell: (v) => formatCount(v.trainableParameters) },
];

function pad(text: string, width: number, align: Align): string {
  return align === 'left' ? text.padEnd(width) : text.padStart(width);
}

/** The plain-text comparison table the CLI prints: a heading, one row per variant, then the notes
 *  (missing figures, failed variants) and what the percentages mean. */
export function formatReportTable(report: ExperimentReport): string {
  const notes = new Footnotes();
  const rows = report.variants.map((v) => COLUMNS.map((c) => c.cell(v, notes)));
  const header = COLUMNS.map((c) => c.title);
  const widths = COLUMNS.map((c, i) => Math.max(header[i].length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((t, i) => pad(t, widths[i], COLUMNS[i].align)).join('  ').trimEnd();

  const out = [
    `Experiment ${report.name}: ${report.baseModel.name} on ${report.data.file} (${report.data.trainExamples} train, ${report.data.testExamples} test examples)`,
    '',
    line(header),
    line(widths.map((w) => '-'.repeat(w))),
    ...(rows.length ? rows.map(line) : ['(no variants)']),
  ];
  const failures = report.variants.filter((v) => v.error);
  if (notes.reasons.length || failures.length) out.push('');
  notes.reasons.forEach((r, i) => out.push(`[${i + 1}] ${r}`));
  for (const v of failures) out.push(`${v.name} ${v.status}: ${v.error}`);
  out.push(
    '',
    `Accuracy: ${report.evaluation.metric}; correct/total in brackets. Forgetting: general accuracy after minus before, in percentage points.`,
  );
  return out.join('\n') + '\n';
}
