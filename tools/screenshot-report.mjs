// Screenshot of an experiment's report.html in headless Chromium (for the README):
//   node tools/screenshot-report.mjs <experiment dir>/report.html media/demo-report.png
// Needs Chromium (scripts/e2e-setup.sh installs it) and playwright-core (a devDependency).
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [html, out] = process.argv.slice(2);
if (!html || !out) throw new Error('usage: node tools/screenshot-report.mjs <report.html> <out.png>');
const { chromium } = createRequire(import.meta.url)('playwright-core');
const browser = await chromium.launch({ executablePath: process.env.FTLAB_E2E_CHROMIUM ?? '/usr/bin/chromium', args: ['--no-sandbox'] });
const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
await page.goto(pathToFileURL(resolve(html)).href);
await page.waitForTimeout(1500); // charts animate in
await page.screenshot({ path: out, fullPage: false });
await browser.close();
console.log(out);
