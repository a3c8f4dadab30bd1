// The training dashboard (runs inside the webview): live loss curves from `metrics` batches.
// Sends `ready` once its listener is installed; the host queues batches until then and replays the
// run so far after a reload.
import {
  CategoryScale,
  Chart,
  Decimation,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  LogarithmicScale,
  PointElement,
  Tooltip,
  type ChartDataset,
} from 'chart.js';
import { Metrics, PROTOCOL_VERSION, Ready, type MetricsParams, type StepMetricsParams } from '../src/protocol/messages';
import { isChecked, registerToolkit } from './toolkit';

declare function acquireVsCodeApi(): { postMessage(message: unknown): void };

Chart.register(LineController, LineElement, PointElement, LinearScale, LogarithmicScale, CategoryScale, Decimation, Legend, Tooltip);
registerToolkit();

type Point = { x: number; y: number };
type Series = ChartDataset<'line', Point[]>;

const vscode = acquireVsCodeApi();
const canvas = document.getElementById('loss-chart') as HTMLCanvasElement;
const waiting = document.getElementById('waiting') as HTMLElement;
const stats = document.getElementById('stats') as HTMLElement;
const accuracy = document.getElementById('accuracy') as HTMLTableElement;
const accuracyBody = accuracy.tBodies[0] ?? accuracy.createTBody();
const runLabel = document.getElementById('run') as HTMLElement;
const logScale = document.getElementById('log-scale') as HTMLElement;

/** Theme colours come from VS Code's CSS variables, re-read when the theme changes. */
function themeColor(name: string, fallback: string): string {
  return getComputedStyle(document.body).getPropertyValue(name).trim() || fallback;
}
const palette = () => [
  themeColor('--vscode-charts-blue', '#3794ff'),
  themeColor('--vscode-charts-orange', '#d18616'),
  themeColor('--vscode-charts-green', '#89d185'),
  themeColor('--vscode-charts-purple', '#b180d7'),
  themeColor('--vscode-charts-red', '#f14c4c'),
];

// Train loss is series 0; each eval split with a `loss` metric gets its own series.
const train: Series = { label: 'train loss', data: [], borderWidth: 1.5, pointRadius: 0 };
const evalSeries = new Map<string, Series>();

const chart = new Chart(canvas, {
  type: 'line',
  data: { datasets: [train] },
  options: {
    animation: false,
    parsing: false, // data is already {x, y}: required by the decimation plugin
    normalized: true,
    maintainAspectRatio: false,
    interaction: { mode: 'nearest', axis: 'x', intersect: false },
    scales: {
      x: { type: 'linear', title: { display: true, text: 'step' }, ticks: { precision: 0 } }, // steps are whole numbers
      y: { type: 'linear', title: { display: true, text: 'loss' } },
    },
    plugins: {
      decimation: { enabled: true, algorithm: 'lttb', samples: 1000 },
      legend: { display: true },
    },
  },
});

function applyTheme(): void {
  const colors = palette();
  const foreground = themeColor('--vscode-foreground', '#cccccc');
  const grid = themeColor('--vscode-editorWidget-border', 'rgba(128,128,128,0.3)');
  chart.data.datasets.forEach((d, i) => {
    d.borderColor = colors[i % colors.length];
    d.backgroundColor = colors[i % colors.length];
  });
  for (const axis of Object.values(chart.options.scales ?? {})) {
    if (!axis) continue;
    axis.ticks = { ...axis.ticks, color: foreground };
    axis.grid = { ...axis.grid, color: grid };
    if ('title' in axis && axis.title) axis.title.color = foreground;
  }
  if (chart.options.plugins?.legend?.labels) chart.options.plugins.legend.labels.color = foreground;
  chart.update('none');
}

let currentRun: string | undefined;
let last: StepMetricsParams | undefined;
let redrawPending = false;

function scheduleRedraw(): void {
  if (redrawPending) return;
  redrawPending = true;
  requestAnimationFrame(() => {
    redrawPending = false;
    chart.update('none');
    showStats();
  });
}

function showStats(): void {
  runLabel.textContent = currentRun ?? '';
  if (!last) {
    stats.textContent = '';
    return;
  }
  const parts = [
    `step ${last.step}`,
    `loss ${last.loss.toFixed(4)}`,
    `lr ${last.lr.toExponential(2)}`,
    `${Math.round(last.tokensPerSec).toLocaleString()} tokens/s`,
  ];
  if (last.gradNorm !== undefined) parts.push(`grad norm ${last.gradNorm.toFixed(3)}`);
  stats.textContent = parts.join('  ·  ');
}

const TASK_NAMES: Record<string, string> = { qa: 'Q&A (held out)', general: 'general knowledge' };

/** One row of the before/after table: accuracy measured on held-out data by the worker. */
function showAccuracy(task: string, before: number, after: number, count: number | undefined): void {
  accuracy.hidden = false;
  const id = `accuracy-${task}`;
  let row = document.getElementById(id) as HTMLTableRowElement | null;
  if (!row) {
    row = accuracyBody.insertRow();
    row.id = id;
    for (let k = 0; k < 4; k++) row.insertCell();
  }
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  row.cells[0].textContent = TASK_NAMES[task] ?? task;
  row.cells[1].textContent = pct(before);
  row.cells[2].textContent = pct(after);
  row.cells[3].textContent = count === undefined ? '' : `${count} items`;
}

function seriesFor(split: string): Series {
  let series = evalSeries.get(split);
  if (!series) {
    series = { label: `${split} loss`, data: [], borderWidth: 1.5, pointRadius: 2 };
    evalSeries.set(split, series);
    chart.data.datasets.push(series);
    applyTheme();
  }
  return series;
}

function onMetrics(batch: MetricsParams): void {
  if (batch.reset || batch.runId !== currentRun) {
    currentRun = batch.runId;
    last = undefined;
    train.data = [];
    evalSeries.clear();
    chart.data.datasets = [train];
    accuracyBody.replaceChildren();
    accuracy.hidden = true;
  }
  for (const s of batch.steps) train.data.push({ x: s.step, y: s.loss });
  for (const e of batch.evals) {
    const loss = e.metrics.loss;
    if (loss !== undefined) seriesFor(e.split).data.push({ x: e.step, y: loss });
    const before = e.metrics.accuracyBefore, after = e.metrics.accuracyAfter;
    if (before !== undefined && after !== undefined) showAccuracy(e.split, before, after, e.metrics.count);
  }
  last = batch.steps.at(-1) ?? last;
  waiting.hidden = train.data.length > 0 || evalSeries.size > 0;
  scheduleRedraw();
}

window.addEventListener('message', (event: MessageEvent<unknown>) => {
  if (Metrics.is(event.data)) onMetrics(event.data.params);
});

logScale.addEventListener('change', () => {
  const y = chart.options.scales?.y;
  if (y) y.type = isChecked(logScale) ? 'logarithmic' : 'linear';
  chart.update('none');
});

new MutationObserver(applyTheme).observe(document.body, { attributes: true, attributeFilter: ['class'] });
applyTheme();
vscode.postMessage(Ready.create({ protocol: PROTOCOL_VERSION }));
