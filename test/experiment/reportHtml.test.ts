// renderReportHtml: one self-contained page (Chart.js inlined, nothing fetched), every report string
// escaped; and, in headless Chromium, the page really draws the grouped bar chart and the loss curves
// (screenshots in out/experiment/, light and dark). The Chromium part skips, saying why, when
// Chromium is missing, unless FTLAB_E2E_REQUIRED is set (as CI does).

import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { renderReportHtml } from '../../src/engine/experiment/reportHtml';
import type { ExperimentReport } from '../../src/engine/experiment/report';
import { repoRoot } from '../foundation/repoRoot';
import { sampleReport } from './reportFixture';

const chromiumPath = process.env.FTLAB_E2E_CHROMIUM ?? '/usr/bin/chromium';
const outDir = join(repoRoot, 'out', 'experiment');

const HOSTILE_NAME = '<img src=x onerror="globalThis.pwned=1">';
const HOSTILE_SAMPLE = '</script><script>globalThis.pwned=2</script>';

function hostileReport(): ExperimentReport {
  const report = sampleReport();
  report.variants[1].name = HOSTILE_NAME;
  report.variants[0].samples[0].after = HOSTILE_SAMPLE;
  report.variants[0].settings['note "quoted"'] = '<b>bold</b>';
  report.name = 'A & B <test>';
  return report;
}

test('the page is self-contained: Chart.js inlined, no external URL, a CSP that allows no network', () => {
  const html = renderReportHtml(sampleReport());
  assert.match(html, /^<!doctype html>/);
  assert.ok(html.includes('Chart.js v4.6.1'), 'Chart.js is inlined (with its license header)');
  assert.ok(html.length > 200_000);
  assert.doesNotMatch(html, /<link\b/i);
  assert.doesNotMatch(html, /\b(?:src|href)\s*=\s*["']?(?:https?:)?\/\//i);
  assert.doesNotMatch(html, /url\(\s*["']?(?:https?:)?\/\//i);
  assert.doesNotMatch(html, /@import/i);
  assert.doesNotMatch(html, /cdn\.|jsdelivr|unpkg|googleapis/i);
  assert.match(html, /<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'nonce-[^']+';/);
  const scripts = [...html.matchAll(/<script\b[^>]*>/g)].map((m) => m[0]);
  assert.equal(scripts.length, 3);
  assert.match(scripts[0], /type="application\/json"/);
  for (const s of scripts.slice(1)) assert.match(s, /nonce="[^"]+"/);
});

test('every string from the report is escaped, in the markup and in the embedded JSON', () => {
  const html = renderReportHtml(hostileReport());
  assert.ok(!html.includes('<img'), 'no <img> element from a variant name');
  assert.ok(html.includes('&#60;img src=x onerror=&#34;globalThis.pwned=1&#34;&#62;'));
  assert.ok(!html.includes('<b>bold</b>'));
  assert.ok(!html.includes(HOSTILE_SAMPLE));
  assert.ok(html.includes('<title>A &#38; B &#60;test&#62;: experiment report</title>'));
  // The embedded JSON cannot end its script element and still parses back to the report.
  const json = html.match(/<script type="application\/json" id="report-data">([^<]*)<\/script>/);
  assert.ok(json, 'the JSON script holds no "<"');
  assert.deepEqual(JSON.parse(json[1]), hostileReport());
});

test('a missing figure shows "—" with its reason as a tooltip and a footnote', () => {
  const html = renderReportHtml(sampleReport());
  const m = html.match(/<span class="missing" title="task accuracy after: full lr=1e-4: training failed \(out of memory\)">—<sup><a href="#note-(\d+)">\1<\/a><\/sup><\/span>/);
  assert.ok(m, 'the failed variant\'s task-after cell');
  assert.ok(html.includes(`<li id="note-${m[1]}">full lr=1e-4: training failed (out of memory)</li>`));
  // One note per variant and reason, not one per figure.
  assert.equal(html.match(/<li id="note-\d+">full lr=1e-4: /g)?.length, 1);
  assert.equal(html.match(/<li id="note-\d+">layerwise: not run yet<\/li>/g)?.length, 1);
  assert.ok(html.includes('<span class="missing" title="peak memory: lora r=8: peak memory not measured">'));
});

// ---- in a browser ------------------------------------------------------------------------------

interface CanvasCheck {
  datasets: number;
  points: number;
  colors: number;
  inkShare: number;
}

async function checkInChromium(t: TestContext, report: ExperimentReport, name: string, colorScheme: 'light' | 'dark') {
  // Loaded at run time, not bundled: playwright-core finds its own files relative to itself.
  const { chromium } = createRequire(join(repoRoot, 'package.json'))('playwright-core') as typeof import('playwright-core');
  mkdirSync(outDir, { recursive: true });
  const file = join(outDir, `${name}.html`);
  writeFileSync(file, renderReportHtml(report));
  const browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox'] });
  t.after(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, colorScheme });
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`); });
  page.on('request', (r) => { if (!r.url().startsWith('file:')) problems.push(`request: ${r.url()}`); });
  await page.goto(pathToFileURL(file).href);
  await page.waitForSelector('body[data-charts]', { timeout: 15_000 });
  assert.equal(await page.getAttribute('body', 'data-charts'), 'ready', problems.join('\n'));

  const canvases = await page.evaluate((): Record<string, CanvasCheck> => {
    const out: Record<string, CanvasCheck> = {};
    for (const id of ['accuracy-chart', 'loss-chart']) {
      const canvas = document.getElementById(id) as HTMLCanvasElement;
      const chart = (globalThis as unknown as { Chart: { getChart(c: HTMLCanvasElement): { data: { datasets: { data: unknown[] }[] } } } }).Chart.getChart(canvas)!;
      const { data } = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height);
      const colors = new Set<number>();
      let ink = 0;
      for (let i = 0; i < data.length; i += 4) {
        if (data[i + 3] > 0) ink++;
        colors.add(((data[i] << 16) | (data[i + 1] << 8) | data[i + 2]) * 256 + data[i + 3]);
      }
      out[id] = {
        datasets: chart.data.datasets.length,
        points: chart.data.datasets.reduce((n, d) => n + d.data.filter((x) => x !== null).length, 0),
        colors: colors.size,
        inkShare: ink / (data.length / 4),
      };
    }
    return out;
  });
  // 4 series (general/task, before/after) over 5 variants, 4 + 4 + 4 + 2 + 0 bars measured.
  assert.equal(canvases['accuracy-chart'].datasets, 4);
  assert.equal(canvases['accuracy-chart'].points, 14);
  // One curve per variant that has a loss curve (the pending one has none).
  assert.equal(canvases['loss-chart'].datasets, 4);
  for (const [id, c] of Object.entries(canvases)) {
    assert.ok(c.colors > 20, `${id} is drawn (${c.colors} colours)`);
    assert.ok(c.inkShare > 0.02, `${id} has ink on ${(c.inkShare * 100).toFixed(1)}% of its pixels`);
  }
  assert.equal(await page.evaluate(() => (globalThis as { pwned?: number }).pwned), undefined, 'injected markup ran');
  assert.deepEqual(problems, []);
  await page.screenshot({ path: join(outDir, `${name}.png`), fullPage: true });
  return page;
}

test('report.html in headless Chromium draws the bar chart and the loss curves (light and dark)', async (t) => {
  if (!existsSync(chromiumPath)) {
    if (process.env.FTLAB_E2E_REQUIRED) assert.fail(`FTLAB_E2E_REQUIRED is set but Chromium (${chromiumPath}) is missing`);
    t.skip(`not installed: Chromium (${chromiumPath}). Run scripts/e2e-setup.sh (as root: apt-get + npm) to run this test.`);
    return;
  }
  const light = await checkInChromium(t, hostileReport(), 'report', 'light');
  // The header and the table show the escaped text as text.
  assert.equal(await light.textContent('h1'), 'A & B <test>');
  assert.ok((await light.locator('table.results tbody th').allTextContents()).includes(HOSTILE_NAME));
  await checkInChromium(t, sampleReport(), 'report-dark', 'dark');
});
