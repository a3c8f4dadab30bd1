// The experiment report as ONE self-contained HTML file (report.html beside report.json): it opens
// offline in any browser, with Chart.js inlined (esbuild bundles the library's text through the
// `with { type: 'text' }` import below, so every bundle that imports this file carries it: no file is
// read at run time and nothing is fetched). The tables and notes are rendered here as HTML and read
// without JavaScript; the two charts are drawn in the page from the report, embedded as JSON.
//
// Every string from the report (names, prompts, model output) is escaped; the embedded JSON escapes
// `<`, `>` and `&` so it cannot close its script tag; and a Content-Security-Policy lets only this
// page's own (nonce-tagged) scripts run and nothing load from anywhere.

import { randomBytes } from 'node:crypto';
// @ts-expect-error TS7016: TypeScript sees a JS module; esbuild's text loader makes this the file's text.
import chartJsText from '../../../node_modules/chart.js/dist/chart.umd.min.js' with { type: 'text' };
import { forgetting, type BeforeAfter, type ExperimentReport, type Proportion, type SettingValue, type VariantReport } from './report';
import {
  DASH, Footnotes, formatBytes, formatCount, formatDuration, formatInterval, formatCounts, formatPercent, formatPoints, formatRate,
  missingNote,
} from './reportTable';

const CHART_JS: string = chartJsText;

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** JSON that is safe inside a <script> element: no `</script>`, no `<!--`, no HTML entities. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

// ---- cells ---------------------------------------------------------------------------------------

/** "—" with a footnote number; the tooltip says which figure and why. */
function missingCell(note: string, detail: string, notes: Footnotes): string {
  const n = notes.add(note);
  return `<span class="missing" title="${escapeHtml(detail)}">${DASH}<sup><a href="#note-${n}">${n}</a></sup></span>`;
}

function proportionCell(p: Proportion): string {
  return (
    `<span class="pct">${formatPercent(p.fraction)}</span> <span class="count">(${formatCounts(p)})</span>` +
    `<br><span class="interval" title="95% Wilson interval">${formatInterval(p)}</span>`
  );
}

/** Two cells, before and after; flips (items gained and lost) under the after figure. */
function beforeAfterCells<T>(v: VariantReport, ba: BeforeAfter<T>, format: (x: T) => string, what: string, notes: Footnotes): string {
  const note = missingNote(v, ba);
  const side = (x: T | null, when: string) => (x === null ? missingCell(note, `${what} ${when}: ${note}`, notes) : format(x));
  const flips = ba.flips ? `<br><span class="flips" title="items wrong before and right after / right before and wrong after">+${ba.flips.gained} / −${ba.flips.lost} items</span>` : '';
  return `<td class="num">${side(ba.before, 'before')}</td><td class="num after">${side(ba.after, 'after')}${ba.after === null ? '' : flips}</td>`;
}

function forgettingCell(v: VariantReport, notes: Footnotes): string {
  const f = forgetting(v);
  if (f === null) {
    const note = missingNote(v, v.accuracy.general);
    return `<td class="num after">${missingCell(note, `forgetting: general accuracy is missing: ${note}`, notes)}</td>`;
  }
  const tone = f <= -0.0005 ? 'worse' : f >= 0.0005 ? 'better' : '';
  return `<td class="num after ${tone}">${formatPoints(f)}</td>`;
}

/** A single figure that may be null (no `missing` reason in the schema for these). */
function plainCell(v: VariantReport, value: number | null, format: (x: number) => string, what: string, notes: Footnotes): string {
  if (value !== null) return `<td class="num">${format(value)}</td>`;
  const note = missingNote(v, { missing: v.status === 'pending' ? undefined : `${what} not measured` });
  return `<td class="num">${missingCell(note, `${what}: ${note}`, notes)}</td>`;
}

const SETTING_LABELS: Record<string, string> = {
  learningRate: 'learning rate',
  numTrainEpochs: 'epochs',
  batch: 'batch',
  dropout: 'dropout',
  weightDecay: 'weight decay',
  loraRank: 'LoRA rank',
  loraAlpha: 'LoRA alpha',
  layerLrMultipliers: 'layer LR ×',
  replayRatio: 'replay ratio',
  l2spWeight: 'L2-SP weight',
};

function formatSetting(value: SettingValue): string {
  const one = (x: number | string) => (typeof x === 'number' && x !== 0 && Math.abs(x) < 1e-3 ? x.toExponential() : String(x));
  return Array.isArray(value) ? value.map(one).join(', ') : one(value as number | string);
}

/** The known settings first, in a fixed order, then any others; nulls left out. */
function settingsList(settings: Record<string, SettingValue>): string {
  const keys = [...Object.keys(SETTING_LABELS).filter((k) => k in settings), ...Object.keys(settings).filter((k) => !(k in SETTING_LABELS)).sort()];
  const items = keys
    .filter((k) => settings[k] !== null)
    .map((k) => `<span class="setting"><span class="key">${escapeHtml(SETTING_LABELS[k] ?? k)}</span> ${escapeHtml(formatSetting(settings[k]))}</span>`);
  return items.length ? items.join('') : DASH;
}

function formatDate(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

// ---- sections ------------------------------------------------------------------------------------

const VARIANT_COLORS = ['#4e79a7', '#f28e2b', '#e15759', '#59a14f', '#b07aa1', '#76b7b2', '#edc948', '#ff9da7', '#9c755f', '#bab0ac'];

function variantName(v: VariantReport, i: number): string {
  const status = v.status === 'finished' ? '' : ` <span class="status status-${escapeHtml(v.status)}">${escapeHtml(v.status)}</span>`;
  return `<span class="swatch" style="background:${VARIANT_COLORS[i % VARIANT_COLORS.length]}"></span>${escapeHtml(v.name)}${status}`;
}

function variantCell(v: VariantReport, i: number, withRunDir = false): string {
  const run = withRunDir ? `<br><code class="run" title="run folder, relative to the experiment folder">${escapeHtml(v.runDir)}</code>` : '';
  return `<th scope="row">${variantName(v, i)}${run}</th>`;
}

function table(className: string, head: string, rows: string[]): string {
  return `<div class="wide"><table class="${className}">\n<thead>${head}</thead>\n<tbody>${rows.join('\n')}</tbody>\n</table></div>`;
}

const BEFORE_AFTER = '<th scope="col" class="num">before</th><th scope="col" class="num">after</th>';

function resultsTable(r: ExperimentReport, notes: Footnotes): string {
  const rows = r.variants.map(
    (v, i) =>
      `<tr>${variantCell(v, i)}` +
      beforeAfterCells(v, v.accuracy.task, proportionCell, 'task accuracy', notes) +
      beforeAfterCells(v, v.accuracy.general, proportionCell, 'general accuracy', notes) +
      forgettingCell(v, notes) +
      beforeAfterCells(v, v.perplexity.general, (x) => x.toFixed(2), 'general perplexity', notes) +
      '</tr>',
  );
  const head =
    '<tr><th rowspan="2" scope="col">Variant</th><th colspan="2" scope="colgroup">Task accuracy (test questions)</th><th colspan="2" scope="colgroup">General accuracy</th>' +
    '<th rowspan="2" scope="col" class="num" title="general accuracy after minus before, in percentage points">Forgetting</th><th colspan="2" scope="colgroup">General perplexity</th></tr>' +
    `<tr>${BEFORE_AFTER.repeat(3)}</tr>`;
  return table('results', head, rows);
}

function otherMeasurementsTable(r: ExperimentReport, notes: Footnotes): string {
  const rows = r.variants.map(
    (v, i) =>
      `<tr>${variantCell(v, i)}` +
      beforeAfterCells(v, v.accuracy.taskTrained, proportionCell, 'accuracy on trained questions', notes) +
      beforeAfterCells(v, v.nextTokenAccuracy.general, proportionCell, 'general next-token accuracy', notes) +
      plainCell(v, v.finalLoss, (x) => x.toFixed(3), 'final training loss', notes) +
      '</tr>',
  );
  const head =
    '<tr><th rowspan="2" scope="col">Variant</th><th colspan="2" scope="colgroup" title="questions the model was trained on: memorization, not generalization">Trained questions</th>' +
    '<th colspan="2" scope="colgroup">General next-token accuracy</th><th rowspan="2" scope="col" class="num">Final loss</th></tr>' +
    `<tr>${BEFORE_AFTER.repeat(2)}</tr>`;
  return table('other', head, rows);
}

function trainingTable(r: ExperimentReport, notes: Footnotes): string {
  const rows = r.variants.map(
    (v, i) =>
      `<tr>${variantCell(v, i, true)}<td>${escapeHtml(v.strategy)}</td><td class="settings">${settingsList(v.settings)}</td>` +
      `<td class="num">${v.steps}</td><td class="num">${formatDuration(v.seconds)}</td><td class="num">${formatRate(v.tokensPerSecond)}</td>` +
      plainCell(v, v.peakMemoryBytes, formatBytes, 'peak memory', notes) +
      `<td class="num">${formatCount(v.trainableParameters)}</td></tr>`,
  );
  const head =
    '<tr><th scope="col">Variant and run folder</th><th scope="col">Strategy</th><th scope="col">Settings</th><th scope="col" class="num">Steps</th><th scope="col" class="num">Time</th>' +
    '<th scope="col" class="num">Tokens/s</th><th scope="col" class="num">Peak memory</th><th scope="col" class="num">Trainable params</th></tr>';
  return table('training', head, rows);
}

function categoriesTable(r: ExperimentReport, notes: Footnotes): string {
  const names = [...new Set(r.variants.flatMap((v) => Object.keys(v.categories)))].sort();
  if (!names.length) return '';
  const rows = names.map((c) => {
    const cells = r.variants.map((v) => {
      const ba = v.categories[c]?.task;
      if (!ba) return `<td class="num"><span class="missing" title="no figures for this category">${DASH}</span></td>`;
      const note = missingNote(v, ba);
      const side = (p: Proportion | null) => (p === null ? missingCell(note, `category ${c}: ${note}`, notes) : `${formatPercent(p.fraction)} <span class="count">(${p.total})</span>`);
      return `<td class="num">${side(ba.before)} → ${side(ba.after)}</td>`;
    });
    return `<tr><th scope="row">${escapeHtml(c)}</th>${cells.join('')}</tr>`;
  });
  const head = `<tr><th scope="col">Category</th>${r.variants.map((v, i) => `<th scope="col" class="num">${variantName(v, i)}</th>`).join('')}</tr>`;
  return `<h2>Task accuracy by category</h2>\n<p class="caption">Before → after, with the number of test questions in brackets.</p>\n${table('categories', head, rows)}`;
}

function samplesSection(r: ExperimentReport): string {
  const withSamples = r.variants.filter((v) => v.samples.length);
  if (!withSamples.length) return '';
  const blocks = withSamples.map((v) => {
    const rows = v.samples.map(
      (s) => `<tr><td><pre>${escapeHtml(s.prompt)}</pre></td><td><pre>${escapeHtml(s.answer)}</pre></td><td><pre>${escapeHtml(s.before)}</pre></td><td><pre>${escapeHtml(s.after)}</pre></td></tr>`,
    );
    return `<details><summary>${escapeHtml(v.name)}: ${v.samples.length} sample${v.samples.length === 1 ? '' : 's'}</summary>
<table class="samples"><thead><tr><th scope="col">Prompt</th><th scope="col">Expected</th><th scope="col">Before</th><th scope="col">After</th></tr></thead>
<tbody>${rows.join('\n')}</tbody></table></details>`;
  });
  return `<h2>Sample answers</h2>\n${blocks.join('\n')}`;
}

function failuresSection(r: ExperimentReport): string {
  const failed = r.variants.filter((v) => v.error);
  if (!failed.length) return '';
  return `<h2>Problems</h2><ul class="problems">${failed.map((v) => `<li><b>${escapeHtml(v.name)}</b> (${v.status}): ${escapeHtml(v.error ?? '')}</li>`).join('')}</ul>`;
}

function decodingText(r: ExperimentReport): string {
  const d = r.evaluation.decoding;
  if (d.kind === 'greedy') return `greedy decoding${d.maxNewTokens ? `, at most ${d.maxNewTokens} new tokens` : ''}`;
  return `sampling (top-p ${d.topP}, temperature ${d.temperature}, at most ${d.maxNewTokens} new tokens, ${d.samples} sample${d.samples === 1 ? '' : 's'} per question, seed ${d.seed}); a count can be fractional: the mean over samples`;
}

function notesSection(r: ExperimentReport, notes: Footnotes): string {
  const sets = Object.entries(r.evaluation.sets).map(([name, s]) => `<li><b>${escapeHtml(name)}</b>: ${s.count} items, ${escapeHtml(s.source)}</li>`);
  const footnotes = notes.reasons.map((reason, i) => `<li id="note-${i + 1}">${escapeHtml(reason)}</li>`);
  return `<h2>How it was measured</h2>
<p><b>Metric:</b> ${escapeHtml(r.evaluation.metric)}. <b>Decoding:</b> ${escapeHtml(decodingText(r))}. Seed ${r.seed}.</p>
${sets.length ? `<ul class="sets">${sets.join('')}</ul>` : ''}
${r.data.heldOutNote ? `<p>${escapeHtml(r.data.heldOutNote)}</p>` : ''}
<p class="meaning"><b>What the numbers mean:</b> each percentage is the share of items answered correctly, with correct/total in brackets.
The range under it (and the whisker on each bar) is the 95% Wilson interval: with this many items the measured share can easily move within it by chance,
so two figures whose intervals overlap may not differ at all. Forgetting is general accuracy after minus before, in percentage points: below zero, the model got worse at general text.
Perplexity: lower is better. Trained questions: accuracy on questions the model was trained on (memorization, not generalization).</p>
${footnotes.length ? `<h3>Missing figures</h3><ol class="footnotes">${footnotes.join('')}</ol>` : ''}`;
}

// ---- the page ------------------------------------------------------------------------------------

const STYLE = `
:root { color-scheme: light dark; --bg: #ffffff; --fg: #1f2328; --muted: #59636e; --grid: #d8dee4; --row: #f6f8fa; --accent: #0969da;
  --worse: #cf222e; --better: #1a7f37;
  --general-before: #a8c8e8; --general-after: #2f6db5; --task-before: #f5c89a; --task-after: #d9600f; }
@media (prefers-color-scheme: dark) {
  :root { --bg: #0d1117; --fg: #e6edf3; --muted: #9198a1; --grid: #30363d; --row: #161b22; --accent: #4493f8;
    --worse: #ff7b72; --better: #3fb950;
    --general-before: #3b5f86; --general-after: #79b8ff; --task-before: #8a5a2e; --task-after: #ffa657; }
}
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1200px; padding: 24px 28px 48px; background: var(--bg); color: var(--fg);
  font: 14px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 32px 0 10px; padding-bottom: 4px; border-bottom: 1px solid var(--grid); }
h3 { font-size: 14px; margin: 16px 0 6px; }
.sub { color: var(--muted); margin: 0 0 4px; }
.sub b { color: var(--fg); font-weight: 600; }
.chart { position: relative; height: 380px; }
.chart.loss { height: 320px; }
.caption { color: var(--muted); font-size: 13px; margin: 6px 0 0; }
.wide { overflow-x: auto; margin-bottom: 8px; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { padding: 6px 8px; border-bottom: 1px solid var(--grid); text-align: left; vertical-align: top; }
thead th { font-weight: 600; color: var(--muted); font-size: 12px; border-bottom: 1px solid var(--grid); white-space: nowrap; }
thead tr:first-child th[colspan] { text-align: center; border-bottom: 1px solid var(--grid); color: var(--fg); }
tbody tr:nth-child(even) { background: var(--row); }
tbody th { font-weight: 600; min-width: 11em; max-width: 260px; overflow-wrap: anywhere; }
table.categories tbody th { white-space: nowrap; overflow-wrap: normal; min-width: 0; }
th.num { text-align: right; }
td.num { text-align: right; white-space: nowrap; }
td.after { border-right: 1px solid var(--grid); }
.pct { font-weight: 600; }
.count, .interval, .flips { color: var(--muted); font-size: 12px; }
.worse { color: var(--worse); font-weight: 600; }
.better { color: var(--better); font-weight: 600; }
.missing { color: var(--fg); cursor: help; }
.missing sup { vertical-align: baseline; position: relative; top: -0.6em; font-size: 10px; margin-left: 2px; }
.missing sup a { color: var(--accent); text-decoration: none; }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 7px; }
.status { font-size: 11px; font-weight: 600; padding: 1px 6px; border-radius: 8px; background: var(--grid); margin-left: 4px; }
.status-failed { background: var(--worse); color: var(--bg); }
td.settings { min-width: 220px; }
.setting { display: inline-block; margin: 0 10px 2px 0; white-space: nowrap; font-size: 12px; }
.setting .key { color: var(--muted); }
code.run { font-size: 11px; font-weight: 400; color: var(--muted); }
pre { margin: 0; white-space: pre-wrap; word-break: break-word; font: 12px/1.45 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
details { margin: 6px 0; }
summary { cursor: pointer; font-weight: 600; }
table.samples td { width: 25%; }
.meaning { background: var(--row); border-left: 3px solid var(--accent); padding: 8px 12px; }
.footnotes { color: var(--muted); font-size: 13px; }
.chart-error { color: var(--worse); }
`;

// In-page code: it runs in the browser that opens the report, never in Node. It reaches the page's
// globals through `globalThis` because scripts/lint.mjs rejects DOM globals in src/engine by text.
const PAGE_SCRIPT = `
(function () {
  'use strict';
  var doc = globalThis.document;
  var report = JSON.parse(doc.getElementById('report-data').textContent);
  var variantColors = ${JSON.stringify(VARIANT_COLORS)};
  var series = [
    { metric: 'general', side: 'before', label: 'General, before', color: '--general-before' },
    { metric: 'general', side: 'after', label: 'General, after', color: '--general-after' },
    { metric: 'task', side: 'before', label: 'Task, before', color: '--task-before' },
    { metric: 'task', side: 'after', label: 'Task, after', color: '--task-after' }
  ];
  var charts = [];
  function css(name) { return getComputedStyle(doc.documentElement).getPropertyValue(name).trim(); }
  function pct(x) { return (x * 100).toFixed(1) + '%'; }
  function count(x) { return Number.isInteger(x) ? String(x) : x.toFixed(1); }
  // Axis labels: at most two lines of about 20 characters, unrotated; the tooltip shows the whole name.
  function wrap(name) {
    var lines = [''];
    name.split(/\\s+/).forEach(function (word) {
      var last = lines.length - 1;
      if (lines[last] && (lines[last] + ' ' + word).length > 20) lines.push(word);
      else lines[last] = lines[last] ? lines[last] + ' ' + word : word;
    });
    lines = lines.map(function (l) { return l.length > 22 ? l.slice(0, 21) + '…' : l; });
    return lines.length > 2 ? [lines[0], lines[1].slice(0, 19) + '…'] : lines;
  }

  // Whiskers for the 95% interval, and the value above each bar.
  var intervals = {
    id: 'intervals',
    afterDatasetsDraw: function (chart) {
      var ctx = chart.ctx, y = chart.scales.y, area = chart.chartArea;
      ctx.save();
      ctx.lineWidth = 1.25;
      ctx.strokeStyle = css('--fg');
      ctx.fillStyle = css('--muted');
      ctx.font = '10px system-ui, sans-serif';
      ctx.textAlign = 'center';
      chart.data.datasets.forEach(function (ds, i) {
        if (!chart.isDatasetVisible(i)) return;
        chart.getDatasetMeta(i).data.forEach(function (bar, j) {
          var p = ds.proportions[j];
          if (!Number.isFinite(bar.x)) return;
          if (!p) { ctx.fillText('n/a', bar.x, area.bottom - 4); return; }
          var top = y.getPixelForValue(p.high * 100), bottom = y.getPixelForValue(p.low * 100);
          var cap = Math.max(2, Math.min(5, bar.width / 4));
          ctx.beginPath();
          ctx.moveTo(bar.x, top); ctx.lineTo(bar.x, bottom);
          ctx.moveTo(bar.x - cap, top); ctx.lineTo(bar.x + cap, top);
          ctx.moveTo(bar.x - cap, bottom); ctx.lineTo(bar.x + cap, bottom);
          ctx.stroke();
          if (bar.width >= 22) ctx.fillText((p.fraction * 100).toFixed(0) + '%', bar.x, Math.min(top, bar.y) - 6);
        });
      });
      ctx.restore();
    }
  };

  function accuracyChart(canvas) {
    var variants = report.variants;
    var highest = 0;
    var datasets = series.map(function (s) {
      var props = variants.map(function (v) { return v.accuracy[s.metric][s.side]; });
      props.forEach(function (p) { if (p) highest = Math.max(highest, p.high); });
      return {
        label: s.label, proportions: props,
        data: props.map(function (p) { return p ? p.fraction * 100 : null; }),
        backgroundColor: css(s.color), borderColor: css(s.color), borderWidth: 0, borderRadius: 2,
        categoryPercentage: 0.8, barPercentage: 0.9
      };
    });
    return new Chart(canvas, {
      type: 'bar',
      data: { labels: variants.map(function (v) { return v.name; }), datasets: datasets },
      options: {
        animation: false, responsive: true, maintainAspectRatio: false,
        layout: { padding: { top: 8 } },
        scales: {
          x: { grid: { display: false }, ticks: { color: css('--fg'), font: { size: 13, weight: '600' }, maxRotation: 0, autoSkip: false, callback: function (i) { return wrap(variants[i].name); } } },
          y: { min: 0, max: Math.min(100, Math.max(10, Math.ceil(highest * 10 + 0.5) * 10)),
               title: { display: true, text: 'answered correctly' },
               ticks: { callback: function (v) { return v + '%'; } } }
        },
        plugins: {
          legend: { position: 'top', labels: { boxWidth: 14, boxHeight: 14 } },
          tooltip: { callbacks: { label: function (c) {
            var p = c.dataset.proportions[c.dataIndex];
            return p ? c.dataset.label + ': ' + pct(p.fraction) + ' (' + count(p.correct) + '/' + p.total + '), 95% interval ' + pct(p.low) + ' to ' + pct(p.high)
                     : c.dataset.label + ': not measured';
          } } }
        }
      },
      plugins: [intervals]
    });
  }

  function lossChart(canvas) {
    var datasets = [];
    report.variants.forEach(function (v, i) {
      if (!v.lossCurve.length) return;
      var color = variantColors[i % variantColors.length];
      datasets.push({
        label: v.name, borderColor: color, backgroundColor: color, borderWidth: 1.75, pointRadius: 0, pointHoverRadius: 3, tension: 0,
        data: v.lossCurve.map(function (p) { return { x: p.step, y: p.loss }; })
      });
    });
    return new Chart(canvas, {
      type: 'line',
      data: { datasets: datasets },
      options: {
        animation: false, responsive: true, maintainAspectRatio: false, parsing: false, normalized: true,
        interaction: { mode: 'nearest', axis: 'x', intersect: false },
        scales: {
          x: { type: 'linear', title: { display: true, text: 'step' } },
          y: { title: { display: true, text: 'training loss' } }
        },
        plugins: {
          legend: { position: 'top', labels: { boxWidth: 14, boxHeight: 2 } },
          decimation: { enabled: true, algorithm: 'lttb', samples: 400 }
        }
      }
    });
  }

  function draw() {
    charts.forEach(function (c) { c.destroy(); });
    Chart.defaults.color = css('--muted');
    Chart.defaults.borderColor = css('--grid');
    Chart.defaults.font.family = 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
    charts = [accuracyChart(doc.getElementById('accuracy-chart')), lossChart(doc.getElementById('loss-chart'))];
  }

  try {
    draw();
    matchMedia('(prefers-color-scheme: dark)').addEventListener('change', draw);
    doc.body.setAttribute('data-charts', 'ready');
  } catch (e) {
    doc.querySelectorAll('.chart').forEach(function (el) {
      var p = doc.createElement('p');
      p.className = 'chart-error';
      p.textContent = 'The chart could not be drawn: ' + e;
      el.replaceWith(p);
    });
    doc.body.setAttribute('data-charts', 'failed');
  }
})();
`;

/** The report as one self-contained HTML page (no network access, no other file). */
export function renderReportHtml(report: ExperimentReport): string {
  // Inlined in a <script> element, the library must not end it early (true of Chart.js 4.6.1).
  if (/<\/script|<!--/i.test(CHART_JS)) throw new Error('chart.umd.min.js contains "</script" or "<!--": it cannot be inlined as it is');
  const nonce = randomBytes(16).toString('base64');
  const notes = new Footnotes();
  const r = report;
  const results = resultsTable(r, notes);
  const training = trainingTable(r, notes);
  const other = otherMeasurementsTable(r, notes);
  const categories = categoriesTable(r, notes);
  const noLoss = r.variants.filter((v) => !v.lossCurve.length).map((v) => escapeHtml(v.name));
  const finished = r.finishedAt ? `finished ${formatDate(r.finishedAt)}` : 'not finished';
  const sha = r.baseModel.sha256 ? ` <span class="count" title="SHA-256 of the weights: ${escapeHtml(r.baseModel.sha256)}">${escapeHtml(r.baseModel.sha256.slice(0, 12))}</span>` : '';
  const body = `
<header>
<h1>${escapeHtml(r.name)}</h1>
<p class="sub">Base model <b>${escapeHtml(r.baseModel.name)}</b>${sha} · data <b>${escapeHtml(r.data.file)}</b> (${r.data.trainExamples} training, ${r.data.testExamples} test examples)</p>
<p class="sub">Started ${escapeHtml(formatDate(r.createdAt))}, ${escapeHtml(finished)} · ${escapeHtml(r.machine.cpu)}, ${r.machine.threads} threads, ${escapeHtml(r.machine.device)}</p>
</header>
<main>
<h2>Accuracy before and after fine-tuning</h2>
${r.variants.length ? '' : '<p>No variants yet.</p>'}
<div class="chart"><canvas id="accuracy-chart" role="img" aria-label="Grouped bars: general and task accuracy before and after, per variant"></canvas></div>
<p class="caption">Bars: share of items answered correctly. Whiskers: 95% interval. General: questions outside the fine-tuning data (forgetting shows here). Task: the data set's held-out test questions.</p>
${results}
<h2>Training loss</h2>
<div class="chart loss"><canvas id="loss-chart" role="img" aria-label="Training loss per step, one line per variant"></canvas></div>
${noLoss.length ? `<p class="caption">No loss recorded for ${noLoss.join(', ')}.</p>` : ''}
<h2>Training</h2>
${training}
<h3>Trained questions, next-token accuracy and final loss</h3>
${other}
${categories}
${failuresSection(r)}
${samplesSection(r)}
${notesSection(r, notes)}
</main>`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'nonce-${nonce}'; style-src 'unsafe-inline'; img-src data:">
<meta name="generator" content="Fine-Tune Lab">
<title>${escapeHtml(r.name)}: experiment report</title>
<style>${STYLE}</style>
</head>
<body>
${body}
<script type="application/json" id="report-data">${scriptJson(report)}</script>
<script nonce="${nonce}">${CHART_JS}</script>
<script nonce="${nonce}">${PAGE_SCRIPT}</script>
</body>
</html>
`;
}
