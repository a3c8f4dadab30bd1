// formatReportTable: the CLI's comparison table: aligned columns, percentages with counts, forgetting
// in signed points, "—" with a numbered reason for a missing figure; and the number formats it shares
// with the HTML report.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  formatBytes, formatCount, formatDuration, formatPoints, formatProportion, formatReportTable,
} from '../../src/engine/experiment/reportTable';
import { prop, sampleReport } from './reportFixture';

test('number formats', () => {
  assert.equal(formatProportion(prop(190, 301)), '63.1% (190/301)');
  assert.equal(formatProportion(prop(2.4, 5)), '48.0% (2.4/5)');
  assert.equal(formatPoints(0.04), '+4.0 pt');
  assert.equal(formatPoints(-0.055), '−5.5 pt');
  assert.equal(formatPoints(-0.0001), '0.0 pt');
  assert.equal(formatDuration(45.4), '45 s');
  assert.equal(formatDuration(200), '3 min 20 s');
  assert.equal(formatDuration(3725), '1 h 02 min');
  assert.equal(formatBytes(512), '512 B');
  assert.equal(formatBytes(3_412_000_000), '3.41 GB');
  assert.equal(formatBytes(48_500_000), '48.5 MB');
  assert.equal(formatCount(812), '812');
  assert.equal(formatCount(294_912), '294.9 k');
  assert.equal(formatCount(124_439_808), '124.4 M');
});

test('the table has one aligned row per variant, with counts, forgetting and notes', () => {
  const text = formatReportTable(sampleReport());
  const lines = text.split('\n');
  const header = lines.findIndex((l) => l.startsWith('variant'));
  assert.ok(header > 0, text);
  const table = lines.slice(header, header + 2 + 5);
  // The last column is right-aligned, so every line of an aligned table has the same length.
  assert.deepEqual(new Set(table.map((l) => l.length)).size, 1, table.join('\n'));
  // Each header title starts where its column starts in every row.
  const columnStart = table[0].indexOf('general before');
  assert.equal(table[1][columnStart - 1], ' ');
  assert.equal(table[1][columnStart], '-');

  const full = table.find((l) => l.startsWith('full '))!;
  assert.match(full, /12\.0% \(36\/301\) → 63\.1% \(190\/301\)/);
  assert.match(full, /41\.0% \(82\/200\) → 35\.5% \(71\/200\)/);
  assert.match(full, /−5\.5 pt/);
  assert.match(full, /30 min 34 s/);
  assert.match(full, /3\.41 GB/);
  assert.match(full, /124\.4 M$/);

  const lora = table.find((l) => l.startsWith('lora r=8'))!;
  assert.match(lora, /\+0\.5 pt/);
  assert.match(lora, /  —  /); // peak memory not measured

  const failed = table.find((l) => l.startsWith('full lr=1e-4 (failed)'))!;
  assert.match(failed, /12\.0% \(36\/301\) → — \[(\d)\]/);
  const note = failed.match(/→ — \[(\d)\]/)![1];
  assert.ok(lines.includes(`[${note}] full lr=1e-4: training failed (out of memory)`), text);
  // One note per variant and reason: the failed variant's two missing figures share it.
  assert.match(failed, new RegExp(`→ — \\[${note}\\].*→ — \\[${note}\\]`));
  assert.ok(lines.includes('full lr=1e-4 failed: Out of memory at step 212: try --batch 4'), text);
  assert.ok(table.some((l) => l.startsWith('layerwise (pending)') && /— → — \[\d\]/.test(l)));
});

test('an experiment without variants says so', () => {
  const report = { ...sampleReport(), variants: [] };
  assert.match(formatReportTable(report), /\(no variants\)/);
});
