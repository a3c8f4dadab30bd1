// The dashboard (runs inside the webview): an experiment, or runs compared, from `showReport`
// messages: the loss curves of every variant overlaid, the grouped accuracy bars (general and task,
// before and after, per variant; counts and 95% intervals in the tooltips) and the table. Each
// message carries the whole report; the page redraws in place, so live updates do not flicker.
// Sends `ready` once its listener is installed; saves the source in its state for the serializer.
import {
  BarController,
  BarElement,
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
import {
  PROTOCOL_VERSION, Ready, ShowReport, type BeforeAfterParams, type DashboardState, type DashboardVariant, type ShareParams, type ShowReportParams,
} from '../src/protocol/messages';
import { isChecked, registerToolkit } from './toolkit';

declare function acquireVsCodeApi(): { postMessage(message: unknown): void; setState(state: DashboardState): void };

Chart.register(LineController, LineElement, PointElement, BarController, BarElement, LinearScale, LogarithmicScale, CategoryScale, Decimation, Legend, Tooltip);
registerToolkit();

type Point = { x: number; y: number };
type LineSeries = ChartDataset<'line', Point[]>;
type BarSeries = ChartDataset<'bar', (number | null)[]> & { shares: (ShareParams | null)[]; missing: (string | undefined)[] };

const vscode = acquireVsCodeApi();
const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const title = $('title'), subtitle = $('subtitle'), problem = $('problem'), waiting = $('waiting'), live = $('live');
const charts = $('charts'), notes = $('notes'), logScale = $('log-scale');
const table = $<HTMLTableElement>('variants');
const tableBody = table.tBodies[0] ?? table.createTBody();
const lossCanvas = $<HTMLCanvasElement>('loss-chart');
const accuracyCanvas = $<HTMLCanvasElement>('accuracy-chart');

/** Theme colours come from VS Code's CSS variables, re-read when the theme changes. */
function themeColor(name: string, fallback: string): string {
  return getComputedStyle(document.body).getPropertyValue(name).trim() || fallback;
}
const variantColors = () => [
  themeColor('--vscode-charts-blue', '#3794ff'),
  themeColor('--vscode-charts-orange', '#d18616'),
  themeColor('--vscode-charts-green', '#89d185'),
  themeColor('--vscode-charts-purple', '#b180d7'),
  themeColor('--vscode-charts-red', '#f14c4c'),
  themeColor('--vscode-charts-yellow', '#cca700'),
];

/** The four bars of each variant: before is the lighter shade of its measure. */
const BAR_SERIES = [
  { measure: 'general', side: 'before', label: 'General, before', color: '--vscode-charts-blue', fallback: '#3794ff', alpha: 0.4 },
  { measure: 'general', side: 'after', label: 'General, after', color: '--vscode-charts-blue', fallback: '#3794ff', alpha: 1 },
  { measure: 'task', side: 'before', label: 'Task, before', color: '--vscode-charts-orange', fallback: '#d18616', alpha: 0.4 },
  { measure: 'task', side: 'after', label: 'Task, after', color: '--vscode-charts-orange', fallback: '#d18616', alpha: 1 },
] as const;

function withAlpha(color: string, alpha: number): string {
  if (alpha >= 1) return color;
  const hex = /^#([0-9a-f]{6})$/i.exec(color);
  if (hex) return `#${hex[1]}${Math.round(alpha * 255).toString(16).padStart(2, '0')}`;
  return color.replace(/^rgb\(([^)]+)\)$/, `rgba($1, ${alpha})`);
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const count = (x: number) => (Number.isInteger(x) ? String(x) : x.toFixed(1));

const lossChart = new Chart<'line', Point[]>(lossCanvas, {
  type: 'line',
  data: { datasets: [] as LineSeries[] },
  options: {
    animation: false,
    parsing: false, // data is already {x, y}: required by the decimation plugin
    normalized: true,
    maintainAspectRatio: false,
    interaction: { mode: 'nearest', axis: 'x', intersect: false },
    scales: {
      x: { type: 'linear', title: { display: true, text: 'step' }, ticks: { precision: 0 } },
      y: { type: 'linear', title: { display: true, text: 'training loss' } },
    },
    plugins: {
      decimation: { enabled: true, algorithm: 'lttb', samples: 500 },
      legend: { display: true, labels: { boxWidth: 14, boxHeight: 2 } },
    },
  },
});

/** Whiskers for each bar's 95% interval and its value above it ('n/a' where not measured), so a
 *  reader sees what is noise and a 0% bar is still visible as a figure. */
const intervals = {
  id: 'intervals',
  afterDatasetsDraw(chart: Chart<'bar', (number | null)[], string>): void {
    const { ctx, chartArea: area } = chart;
    const y = chart.scales.y;
    ctx.save();
    ctx.lineWidth = 1.25;
    ctx.strokeStyle = themeColor('--vscode-foreground', '#cccccc');
    ctx.fillStyle = themeColor('--vscode-descriptionForeground', '#9d9d9d');
    ctx.font = '10px system-ui, sans-serif';
    ctx.textAlign = 'center';
    chart.data.datasets.forEach((ds, i) => {
      if (!chart.isDatasetVisible(i)) return;
      const shares = (ds as BarSeries).shares;
      chart.getDatasetMeta(i).data.forEach((bar, j) => {
        if (!Number.isFinite(bar.x)) return;
        const p = shares[j];
        if (!p) {
          ctx.fillText('n/a', bar.x, area.bottom - 4);
          return;
        }
        const top = y.getPixelForValue(100 * p.high), bottom = y.getPixelForValue(100 * p.low);
        const width = (bar as unknown as { width: number }).width;
        const cap = Math.max(2, Math.min(5, width / 4));
        ctx.beginPath();
        ctx.moveTo(bar.x, top); ctx.lineTo(bar.x, bottom);
        ctx.moveTo(bar.x - cap, top); ctx.lineTo(bar.x + cap, top);
        ctx.moveTo(bar.x - cap, bottom); ctx.lineTo(bar.x + cap, bottom);
        ctx.stroke();
        if (width >= 22) ctx.fillText(`${(100 * p.fraction).toFixed(0)}%`, bar.x, Math.min(top, bar.y) - 6);
      });
    });
    ctx.restore();
  },
};

const accuracyChart = new Chart<'bar', (number | null)[], string>(accuracyCanvas, {
  type: 'bar',
  data: { labels: [] as string[], datasets: [] as BarSeries[] },
  options: {
    animation: false,
    maintainAspectRatio: false,
    layout: { padding: { top: 14 } },
    scales: {
      x: { grid: { display: false } },
      y: { min: 0, max: 100, title: { display: true, text: 'answered correctly' }, ticks: { callback: (v) => `${v}%` } },
    },
    plugins: {
      legend: { display: true, labels: { boxWidth: 14, boxHeight: 14 } },
      tooltip: {
        callbacks: {
          label: (c) => {
            const ds = c.dataset as BarSeries;
            const p = ds.shares[c.dataIndex];
            return p
              ? `${ds.label}: ${pct(p.fraction)} (${count(p.correct)}/${p.total}), 95% interval ${pct(p.low)} to ${pct(p.high)}`
              : `${ds.label}: not measured${ds.missing[c.dataIndex] ? ` (${ds.missing[c.dataIndex]})` : ''}`;
          },
        },
      },
    },
  },
  plugins: [intervals],
});

function applyTheme(): void {
  const foreground = themeColor('--vscode-foreground', '#cccccc');
  const grid = themeColor('--vscode-editorWidget-border', 'rgba(128,128,128,0.3)');
  const colors = variantColors();
  lossChart.data.datasets.forEach((d, i) => {
    d.borderColor = colors[i % colors.length];
    d.backgroundColor = colors[i % colors.length];
  });
  accuracyChart.data.datasets.forEach((d, i) => {
    const s = BAR_SERIES[i];
    if (!s) return;
    d.backgroundColor = withAlpha(themeColor(s.color, s.fallback), s.alpha);
    d.borderColor = themeColor(s.color, s.fallback);
  });
  for (const chart of [lossChart, accuracyChart] as Chart[]) {
    for (const axis of Object.values(chart.options.scales ?? {})) {
      if (!axis) continue;
      axis.ticks = { ...axis.ticks, color: foreground };
      axis.grid = { ...axis.grid, color: grid };
      if ('title' in axis && axis.title) axis.title.color = foreground;
    }
    if (chart.options.plugins?.legend?.labels) chart.options.plugins.legend.labels.color = foreground;
    chart.update('none');
  }
}

function drawLoss(variants: readonly DashboardVariant[]): void {
  // Keep each dataset object (matched by name) so hidden-by-legend series stay hidden across updates.
  const old = new Map(lossChart.data.datasets.map((d) => [d.label, d]));
  lossChart.data.datasets = variants.map((v) => {
    const d: LineSeries = old.get(v.name) ?? { label: v.name, data: [], borderWidth: 1.75, pointRadius: 0, pointHoverRadius: 3 };
    d.data = v.lossCurve.map((p) => ({ x: p.step, y: p.loss }));
    // A curve of a few steps is easier to read with its points marked.
    d.pointRadius = v.lossCurve.length <= 20 ? 3 : 0;
    return d;
  });
  lossCanvas.dataset.series = variants.map((v) => `${v.name}:${v.lossCurve.length}`).join(' ');
}

function drawAccuracy(variants: readonly DashboardVariant[]): void {
  accuracyChart.data.labels = variants.map((v) => v.name);
  accuracyChart.data.datasets = BAR_SERIES.map((s) => {
    const pairs: BeforeAfterParams[] = variants.map((v) => v[s.measure]);
    const shares = pairs.map((p) => p[s.side]);
    return {
      label: s.label, shares, missing: pairs.map((p) => (p[s.side] ? undefined : p.missing)),
      data: shares.map((p) => (p ? 100 * p.fraction : null)),
      borderWidth: 1, borderRadius: 2, categoryPercentage: 0.8, barPercentage: 0.9,
    };
  });
  // Leave room above the highest interval; a scale of 0-100% makes small figures unreadable.
  const highest = Math.max(0, ...variants.flatMap((v) => [v.general.before, v.general.after, v.task.before, v.task.after]).map((p) => p?.high ?? 0));
  const y = accuracyChart.options.scales?.y;
  if (y) y.max = Math.min(100, Math.max(10, Math.ceil(highest * 10 + 0.5) * 10));
  accuracyCanvas.dataset.bars = BAR_SERIES.map((s, i) => `${s.measure}-${s.side}:${accuracyChart.data.datasets[i].data.map((x) => (x === null ? 'n/a' : (x as number).toFixed(1))).join(',')}`).join(' ');
}

function share(p: ShareParams | null): string {
  return p ? `${pct(p.fraction)} (${count(p.correct)}/${p.total})` : '—';
}

function beforeAfter(p: BeforeAfterParams): string {
  return p.before || p.after ? `${share(p.before)} → ${share(p.after)}` : '—';
}

function duration(seconds: number): string {
  if (!seconds) return '—';
  return seconds < 90 ? `${seconds.toFixed(1)} s` : `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
}

function bytes(n: number | null): string {
  return n === null ? '—' : `${(n / 2 ** 20).toFixed(0)} MiB`;
}

function drawTable(variants: readonly DashboardVariant[]): void {
  tableBody.replaceChildren();
  const footnotes = new Map<string, number>();
  for (const v of variants) {
    const row = tableBody.insertRow();
    row.dataset.variant = v.name;
    const cells = [
      v.name,
      v.status,
      v.device ?? '—',
      String(v.steps),
      duration(v.seconds),
      v.tokensPerSecond ? Math.round(v.tokensPerSecond).toLocaleString() : '—',
      bytes(v.peakMemoryBytes),
      v.trainableParameters ? v.trainableParameters.toLocaleString() : '—',
      beforeAfter(v.general),
      beforeAfter(v.task),
      v.forgetting === null ? '—' : `${v.forgetting >= 0 ? '+' : '−'}${(100 * Math.abs(v.forgetting)).toFixed(1)} pts`,
    ];
    cells.forEach((text, i) => {
      const cell = row.insertCell();
      cell.textContent = text;
      if (i >= 3) cell.className = 'num';
    });
    row.cells[1].className = `status ${v.status}`;
    // Forgetting is a difference of counts: only a change of at least one item is coloured.
    if (v.forgetting !== null && Math.abs(v.forgetting) > 1e-9) row.cells[10].classList.add(v.forgetting < 0 ? 'worse' : 'better');
    row.cells[0].title = v.strategy;
    if (v.detail && v.status !== 'finished') {
      let n = footnotes.get(v.detail);
      if (n === undefined) footnotes.set(v.detail, (n = footnotes.size + 1));
      const mark = document.createElement('sup');
      mark.textContent = String(n);
      row.cells[1].append(' ', mark);
      row.cells[1].title = v.detail;
    }
  }
  notes.replaceChildren(...[...footnotes].map(([text, n]) => {
    const line = document.createElement('div');
    line.textContent = `${n}. ${text}`;
    return line;
  }));
}

function onReport(r: ShowReportParams): void {
  vscode.setState({ source: r.source });
  title.textContent = r.title;
  subtitle.textContent = r.subtitle;
  problem.hidden = !r.problem;
  problem.textContent = r.problem ?? '';
  live.hidden = !r.live;
  const any = r.variants.length > 0;
  waiting.hidden = any || !!r.problem;
  charts.hidden = !any;
  table.hidden = !any;
  drawLoss(r.variants);
  drawAccuracy(r.variants);
  drawTable(r.variants);
  applyTheme();
  document.body.dataset.report = r.live ? 'live' : 'ready';
}

window.addEventListener('message', (event: MessageEvent<unknown>) => {
  if (ShowReport.is(event.data)) onReport(event.data.params);
});

logScale.addEventListener('change', () => {
  const y = lossChart.options.scales?.y;
  if (y) y.type = isChecked(logScale) ? 'logarithmic' : 'linear';
  lossChart.update('none');
});

new MutationObserver(applyTheme).observe(document.body, { attributes: true, attributeFilter: ['class'] });
applyTheme();
vscode.postMessage(Ready.create({ protocol: PROTOCOL_VERSION }));
