// End to end, in a real VS Code: code-server 4.100.3 (VS Code 1.100.3) driven by Chromium through
// playwright-core (recipe: ../shared/e2e/README.md). Packages the .vsix, installs it into a throw-away
// profile, and checks what a user sees: Fine-tune model with two strategies as one experiment (run in
// a child process), its dashboard (two loss curves, the grouped accuracy bars, the table) before and
// after a window reload, the Experiments view with the experiment's runs under it and "Compare runs"
// on both, prompt testing, export, Prepare Q&A data with its Problems-panel markers, the walkthrough,
// the settings under "Fine-Tune Lab", the status bar item during a run, Stop and Resume from the
// Experiments view (the run continues from its checkpoint), Export, Rename and Delete from its context menu,
// and the Restricted Mode explanation. Skips, saying why, until scripts/e2e-setup.sh has installed
// code-server and Chromium. Screenshots of each step go to out/e2e/.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import type { Frame, Page } from 'playwright-core';
import { repoRoot } from '../foundation/repoRoot';

const codeServer = join(repoRoot, '.e2e', 'node_modules', '.bin', 'code-server');
const chromiumPath = process.env.FTLAB_E2E_CHROMIUM ?? '/usr/bin/chromium';
const screenshots = join(repoRoot, 'out', 'e2e');

// Loaded at run time, not bundled: playwright-core finds its own files relative to itself.
const { chromium } = createRequire(join(repoRoot, 'package.json'))('playwright-core') as typeof import('playwright-core');

function missingTools(): string[] {
  const missing: string[] = [];
  if (!existsSync(codeServer)) missing.push('code-server (.e2e/)');
  if (!existsSync(chromiumPath)) missing.push(`Chromium (${chromiumPath})`);
  return missing;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

async function waitForHealth(base: string, server: ChildProcess, log: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (server.exitCode !== null) throw new Error(`code-server exited (${server.exitCode}):\n${readFileSync(log, 'utf8')}`);
    try {
      if ((await fetch(`${base}/healthz`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`code-server did not answer within 30 s:\n${readFileSync(log, 'utf8')}`);
}

async function shot(page: Page, name: string): Promise<void> {
  await page.waitForTimeout(300); // toasts fade in
  await page.screenshot({ path: join(screenshots, `${name}.png`) });
}

/** Runs a command from the palette. Right after load the extension may not have registered it yet
 *  and an open palette does not refresh, so reopen until it is listed. */
async function runCommand(page: Page, title: string): Promise<void> {
  const input = page.locator('.quick-input-widget input.input');
  const row = page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first();
  for (let attempt = 1; ; attempt++) {
    await page.keyboard.press('F1');
    await input.fill(`>${title}`);
    try {
      await row.waitFor({ timeout: 3_000 });
      break;
    } catch (error) {
      await page.keyboard.press('Escape');
      if (attempt === 5) throw error;
    }
  }
  await row.click();
}

async function answerTrustDialog(page: Page, trust: boolean): Promise<void> {
  const name = trust ? 'Yes, I trust the authors' : "No, I don't trust the authors";
  await page.getByRole('button', { name }).click({ timeout: 90_000 });
}

async function openFolder(page: Page, base: string, folder: string, trust: boolean): Promise<void> {
  await page.goto(`${base}/?folder=${encodeURIComponent(folder)}`);
  await answerTrustDialog(page, trust);
  await page.locator('.explorer-folders-view .monaco-list-row').first().waitFor({ timeout: 60_000 });
  // The extension contributes this icon: once it is there, the workbench has read the extension.
  await page.locator('.activitybar .action-item a[aria-label^="Fine-Tune Lab"]').waitFor({ timeout: 60_000 });
}

function toast(page: Page, text: string) {
  return page.locator('.notifications-toasts .notification-toast', { hasText: text }).first();
}

async function dashboardFrame(page: Page): Promise<Frame> {
  const inner = page.frameLocator('iframe.webview.ready').locator('iframe#active-frame');
  const frame = await (await inner.elementHandle({ timeout: 20_000 }))?.contentFrame();
  assert.ok(frame, 'the dashboard webview has no content frame');
  return frame;
}

test('Fine-Tune Lab in a real VS Code (code-server + Chromium)', { timeout: 900_000 }, async (t: TestContext) => {
  const missing = missingTools();
  if (missing.length) {
    // .ci/run installs the tools and sets this: there, a skip would hide a broken setup.
    if (process.env.FTLAB_E2E_REQUIRED) assert.fail(`FTLAB_E2E_REQUIRED is set but ${missing.join(', ')} is missing`);
    t.skip(`not installed: ${missing.join(', ')}. Run scripts/e2e-setup.sh (as root: apt-get + npm) to run this test.`);
    return;
  }
  const started = Date.now();
  const dir = mkdtempSync(join(tmpdir(), 'ftlab-e2e-'));
  // Undone last-first: close the browser, stop the server, then remove the profile they write into.
  const cleanups: (() => void | Promise<void>)[] = [() => rmSync(dir, { recursive: true, force: true })];
  t.after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });
  mkdirSync(screenshots, { recursive: true });

  // A workspace with a dataset and one run, and an empty one to open in Restricted Mode.
  const workspace = join(dir, 'workspace');
  mkdirSync(join(workspace, 'data'), { recursive: true });
  const qa = [['What is the capital of France?', 'Paris'], ['What is two plus two?', 'four'], ['Who wrote Hamlet?', 'William Shakespeare'],
    ['What color is the sky?', 'blue'], ['What is the opposite of hot?', 'cold'], ['How many days are in a week?', 'seven']];
  writeFileSync(join(workspace, 'prompts.txt'), 'Prompts to try:\nQ: What is the capital of France?\n');
  writeFileSync(join(workspace, 'data', 'train.jsonl'), qa.map(([question, answer]) => JSON.stringify({ question, answer })).join('\n') + '\n');
  // Three bad records (lines 2, 4, 5) among good ones, for Prepare Q&A data and the Problems panel.
  const good = qa.map(([question, answer]) => JSON.stringify({ question, answer }));
  const badLines = [good[0], '{"question": "What is 3 + 4?", "answer": 7}', good[1], '{"question": "Who painted the Mona Lisa?"', '{"question": "Where is Rome?"}', good[2]];
  writeFileSync(join(workspace, 'data', 'bad.jsonl'), badLines.join('\n') + '\n');
  // Small general sets (the extension's settings) keep the before/after evaluation to seconds.
  const generalPrompts = join(workspace, 'eval', 'general.jsonl');
  const generalText = join(workspace, 'eval', 'general.txt');
  mkdirSync(join(workspace, 'eval'));
  writeFileSync(generalPrompts, readFileSync(join(repoRoot, 'assets', 'demo', 'general_eval.jsonl'), 'utf8').split('\n').slice(0, 12).join('\n') + '\n');
  writeFileSync(generalText, readFileSync(join(repoRoot, 'assets', 'demo', 'general_text.txt'), 'utf8').split(/\n\s*\n/).slice(0, 2).join('\n\n') + '\n');
  mkdirSync(join(workspace, '.ftlab', 'runs', 'gpt2-sql-lora'), { recursive: true });
  writeFileSync(join(workspace, '.ftlab', 'runs', 'gpt2-sql-lora', 'config.json'), JSON.stringify({ model: 'gpt2' }));
  const untrusted = join(dir, 'untrusted');
  mkdirSync(untrusted);
  writeFileSync(join(untrusted, 'notes.md'), 'A folder from somewhere else.\n');

  // The profile: HOME and XDG_* inside it, so nothing is written to the real home.
  const home = join(dir, 'home');
  const userData = join(dir, 'user-data');
  const extensions = join(dir, 'extensions');
  mkdirSync(join(userData, 'User'), { recursive: true });
  mkdirSync(extensions);
  mkdirSync(home);
  writeFileSync(join(dir, 'config.yaml'), '');
  writeFileSync(
    join(userData, 'User', 'settings.json'),
    JSON.stringify({
      'telemetry.telemetryLevel': 'off',
      'workbench.startupEditor': 'none',
      'security.workspace.trust.enabled': true,
      'extensions.autoUpdate': false,
      'extensions.autoCheckUpdates': false,
      'update.mode': 'none',
      'workbench.tips.enabled': false,
      'finetuneLab.experiment.maxSteps': 2,
      'finetuneLab.evaluation.generalPrompts': generalPrompts,
      'finetuneLab.evaluation.generalText': generalText,
      // The runs' config.json records what the extension passed to the experiment process.
      'finetuneLab.cpuThreads': 1,
    }),
  );
  const env = {
    ...process.env,
    HOME: home,
    XDG_CONFIG_HOME: join(home, '.config'),
    XDG_DATA_HOME: join(home, '.local', 'share'),
    XDG_CACHE_HOME: join(home, '.cache'),
  };
  const common = ['--config', join(dir, 'config.yaml'), '--user-data-dir', userData, '--extensions-dir', extensions];

  const vsix = join(dir, 'finetune-lab.vsix');
  const packaged = spawnSync(process.execPath, [join(repoRoot, 'scripts', 'package.mjs'), '--out', vsix], { cwd: repoRoot, encoding: 'utf8' });
  assert.equal(packaged.status, 0, packaged.stdout + packaged.stderr);
  const installed = spawnSync(codeServer, [...common, '--install-extension', vsix, '--force'], { env, encoding: 'utf8' });
  assert.equal(installed.status, 0, installed.stdout + installed.stderr);
  assert.match(installed.stdout, /finetune-lab.*was successfully installed/);

  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const log = join(dir, 'server.log');
  const logFd = openSync(log, 'w');
  const server = spawn(
    codeServer,
    [...common, '--bind-addr', `127.0.0.1:${port}`, '--auth', 'none', '--disable-telemetry', '--disable-update-check',
      '--disable-getting-started-override', '--ignore-last-opened'],
    { env, detached: true, stdio: ['ignore', logFd, logFd] },
  );
  // The server keeps helper processes: stop the whole group.
  cleanups.push(() => {
    try {
      process.kill(-server.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  });
  await waitForHealth(base, server, log);

  const browser = await chromium.launchPersistentContext(join(dir, 'chromium'), {
    executablePath: chromiumPath,
    headless: true,
    viewport: { width: 1400, height: 900 },
    env,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  cleanups.push(() => browser.close());
  const page = browser.pages()[0] ?? (await browser.newPage());
  const cspViolations: string[] = [];
  page.on('console', (m) => {
    if (/Content[- ]Security[- ]Policy/i.test(m.text())) cspViolations.push(m.text());
  });

  /** A step; when it fails, a screenshot of what the page showed then (out/e2e/failed-<n>.png). */
  let steps = 0;
  const step = (name: string, fn: () => Promise<void> | void) => {
    const n = ++steps;
    return t.test(name, async () => {
      try {
        await fn();
      } catch (error) {
        await page.screenshot({ path: join(screenshots, `failed-${n}.png`) }).catch(() => {});
        throw error;
      }
    });
  };

  await step('opens a trusted workspace with the extension installed', async () => {
    await openFolder(page, base, workspace, true);
    await shot(page, '1-workbench');
  });

  await step('"Prepare Q&A data" puts each bad record in the Problems panel on its line; fixing the file clears them', async () => {
    await page.keyboard.press('Control+P');
    await page.locator('.quick-input-widget input.input').fill('bad.jsonl');
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'bad.jsonl' }).first().click();
    await page.locator('.tab.active', { hasText: 'bad.jsonl' }).waitFor({ timeout: 10_000 });
    await runCommand(page, 'Prepare Q&A data');
    const tokenizerRow = page.locator('.quick-input-list .monaco-list-row', { hasText: 'Built-in model\'s tokenizer' }).first();
    await tokenizerRow.waitFor({ timeout: 10_000 });
    await tokenizerRow.click();
    const invalid = toast(page, '3 invalid records in bad.jsonl');
    await invalid.waitFor({ timeout: 30_000 });
    await invalid.getByRole('button', { name: 'Show Problems' }).click();
    const markers = page.locator('.markers-panel .monaco-list-row');
    await markers.filter({ hasText: 'Ln 5' }).first().waitFor({ timeout: 10_000 });
    const rows = await markers.allInnerTexts();
    const at = (ln: number) => rows.find((r) => r.includes(`Ln ${ln},`)) ?? '';
    assert.match(at(2), /field "answer": is a number.*fix: /s, rows.join('\n'));
    assert.match(at(4), /invalid JSON/, rows.join('\n'));
    assert.match(at(5), /field "answer".*missing/s, rows.join('\n'));
    assert.equal(rows.filter((r) => /Ln \d+,/.test(r)).length, 3, rows.join('\n'));
    assert.doesNotMatch(rows.join('\n'), /(^|\s|\()--[a-z]/, 'no CLI flag in VS Code');
    await shot(page, '1b-problems');
    // Fix the file in the editor (delete the bad records, bottom up so the lines above keep their
    // numbers; typed text would be auto-closed) and save: the validation on save clears the markers.
    await page.locator('.monaco-editor .view-lines').first().click();
    for (const line of [5, 4, 2]) {
      await page.keyboard.press('Control+Home');
      for (let k = 1; k < line; k++) await page.keyboard.press('ArrowDown');
      await page.keyboard.press('Shift+ArrowDown');
      await page.keyboard.press('Backspace');
    }
    await page.keyboard.press('Control+S');
    await page.locator('.markers-panel', { hasText: 'No problems have been detected' }).waitFor({ timeout: 30_000 });
    assert.equal(readFileSync(join(workspace, 'data', 'bad.jsonl'), 'utf8').trim(), good.slice(0, 3).join('\n'));
    await shot(page, '1c-problems-fixed');
    // Good now: Prepare Q&A data shows the statistics and the examples with the trained part marked.
    await page.keyboard.press('Control+J'); // the panel away: the preview's examples are below its statistics
    await runCommand(page, 'Prepare Q&A data');
    await tokenizerRow.waitFor({ timeout: 10_000 });
    await tokenizerRow.click();
    const preview = page.locator('.editor-instance .view-lines', { hasText: 'Prepared 3 examples from bad.jsonl' }).first();
    await preview.waitFor({ timeout: 30_000 });
    assert.match(await preview.innerText(), /⟦.+⟧/);
    await shot(page, '1e-prepared-preview');
  });

  await step('the walkthrough opens, and its first step copies the demo data into the workspace', async () => {
    await runCommand(page, 'Welcome: Open Walkthrough...');
    const walkthrough = page.locator('.quick-input-list .monaco-list-row', { hasText: 'Fine-tune a model with Fine-Tune Lab' }).first();
    await walkthrough.waitFor({ timeout: 10_000 });
    await walkthrough.click();
    const container = page.locator('.gettingStartedContainer');
    for (const title of ['Copy the demo data', 'Check the data', 'Fine-tune the model', 'Watch the dashboard', 'Test a prompt']) {
      await container.locator('.getting-started-step', { hasText: title }).first().waitFor({ timeout: 20_000 });
    }
    await shot(page, '1d-walkthrough');
    await container.locator('button.getting-started-step[data-step-id*="copyDemoData"]').click();
    await container.locator('.step-description-container .button-container .monaco-button:visible', { hasText: 'Copy the demo data' }).first().click();
    await toast(page, 'the demo data is in fine-tune-lab-demo/').waitFor({ timeout: 20_000 });
    assert.ok(existsSync(join(workspace, 'fine-tune-lab-demo', 'qa.jsonl')) && existsSync(join(workspace, 'fine-tune-lab-demo', 'prompts.md')));
    await runCommand(page, 'View: Close All Editors');
  });

  const experimentsDir = join(workspace, '.ftlab', 'experiments');
  const sidebarRow = (label: string) =>
    page.locator('.part.sidebar .monaco-list-row').filter({ has: page.locator('.label-name', { hasText: new RegExp(`^${label}$`) }) }).first();

  /** What the dashboard draws, read from the webview's DOM (the charts describe their data on the canvas). */
  async function dashboardShows(frame: Frame, series: string): Promise<{ title: string; bars: string; rows: string[] }> {
    await frame.locator(`canvas#loss-chart[data-series="${series}"]`).waitFor({ timeout: 20_000 });
    const bars = (await frame.locator('canvas#accuracy-chart').getAttribute('data-bars')) ?? '';
    const rows = await frame.locator('#variants tbody tr').allInnerTexts();
    return { title: await frame.locator('#title').innerText(), bars, rows };
  }

  await step('"Fine-tune model" with two strategies runs one experiment in a child process; its dashboard draws both', async () => {
    await runCommand(page, 'Fine-tune model');
    const row = (text: string) => page.locator('.quick-input-list .monaco-list-row', { hasText: text }).first();
    await row('data/train.jsonl').waitFor({ timeout: 10_000 });
    await shot(page, '2-dataset-picker');
    await row('data/train.jsonl').click();
    await row('Built-in small GPT').waitFor({ timeout: 10_000 });
    await row('Built-in small GPT').click();
    // A multi-select: full fine-tuning is checked already; check LoRA too. Each item shows its preset.
    await row('LoRA').waitFor({ timeout: 10_000 });
    assert.match(await row('LoRA').innerText(), /lr 0\.002.*rank 8/);
    assert.match(await row('Layer-wise learning rates').innerText(), /tied embedding/);
    // A click on the item's label toggles its checkbox (VS Code 1.100's quick pick list).
    await row('LoRA').locator('.quick-input-list-rows').first().click();
    await shot(page, '2b-strategies');
    await page.keyboard.press('Enter');
    await row('Strategy presets').waitFor({ timeout: 10_000 });
    await row('Strategy presets').click();
    // 6 examples (one held out), 2 steps per variant (finetuneLab.experiment.maxSteps), each variant
    // in its own process, measured before (once) and after.
    await toast(page, 'Fine-Tune Lab: experiment').waitFor({ timeout: 20_000 });
    const finished = toast(page, 'finished; its report is in');
    await finished.waitFor({ timeout: 360_000 });
    await shot(page, '3-experiment-finished');
    const [experiment] = readdirSync(experimentsDir);
    const runs = join(experimentsDir, experiment, 'runs');
    assert.deepEqual(readdirSync(runs).sort(), ['full', 'lora']);
    for (const v of ['full', 'lora']) {
      assert.equal(readFileSync(join(runs, v, 'metrics.jsonl'), 'utf8').trim().split('\n').length, 2, `${v}: 2 steps`);
      assert.ok(existsSync(join(runs, v, 'outcome.json')), `${v} was measured after training`);
    }
    assert.ok(existsSync(join(experimentsDir, experiment, 'report.html')));

    const frame = await dashboardFrame(page);
    await frame.locator('body[data-report="ready"]').waitFor({ timeout: 10_000 });
    const shown = await dashboardShows(frame, 'full:2 lora:2');
    assert.equal(shown.title, `Experiment ${experiment}`);
    // Four bar series (general/task, before/after), one value per variant, all measured.
    assert.match(shown.bars, /^general-before:[\d.]+,[\d.]+ general-after:[\d.]+,[\d.]+ task-before:[\d.]+,[\d.]+ task-after:[\d.]+,[\d.]+$/);
    assert.equal(shown.rows.length, 2);
    // variant, status, steps, time, tokens/s, peak memory, trainable parameters, general and task before → after
    assert.match(shown.rows[0], /^full\s+finished\s+cpu\s+2\s+.+ s\s+[\d,]+\s+\d+ MiB\s+[\d,]+\s+[\d.]+% \(\d+\/12\) → [\d.]+% \(\d+\/12\)\s+[\d.]+% \(\d+\/1\) → [\d.]+% \(\d+\/1\)/);
    await shot(page, '4-dashboard-experiment');
  });

  await step('a CodeLens on a Q: line answers with the base model and the fine-tuned run, inline', async () => {
    await page.keyboard.press('Control+P');
    await page.locator('.quick-input-widget input.input').fill('prompts.txt');
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'prompts.txt' }).first().click();
    const lens = page.locator('.monaco-editor .codelens-decoration a', { hasText: 'Test prompt' }).first();
    await lens.waitFor({ timeout: 20_000 });
    await lens.click();
    // The answer's notification (the progress notification while testing names the run too).
    const answer = toast(page, '→ base:');
    await answer.waitFor({ timeout: 30_000 });
    assert.match(await answer.innerText(), /Q: What is the capital of France\? → base: .*fine-tuned \([\d-]+\/(full|lora)\)/s);
    await shot(page, '3b-prompt-test');
  });

  await step('"Export run" writes the fine-tuned model as a Hugging Face folder', async () => {
    await runCommand(page, 'Export run…');
    const row = page.locator('.quick-input-list .monaco-list-row', { hasText: '/full' }).first();
    await row.waitFor({ timeout: 10_000 });
    await row.click();
    const format = page.locator('.quick-input-list .monaco-list-row', { hasText: 'Hugging Face model folder' }).first();
    await format.waitFor({ timeout: 10_000 });
    await format.click();
    await toast(page, 'as a Hugging Face model folder: ').waitFor({ timeout: 60_000 }); // not the progress notification
    const [experiment] = readdirSync(experimentsDir);
    for (const f of ['config.json', 'model.safetensors', 'tokenizer.json']) assert.ok(existsSync(join(experimentsDir, experiment, 'runs', 'full', 'exported-hf', f)), f);
  });

  await step('after "Developer: Reload Window" the dashboard comes back with the same experiment', async () => {
    await runCommand(page, 'Developer: Reload Window');
    await page.locator('.activitybar .action-item a[aria-label^="Fine-Tune Lab"]').waitFor({ timeout: 60_000 });
    // Restored as it was: a background tab (prompts.txt was opened after it); shown when clicked.
    const tab = page.locator('.tab', { hasText: 'Experiment ' });
    await tab.waitFor({ timeout: 60_000 });
    await tab.click();
    const frame = await dashboardFrame(page);
    const shown = await dashboardShows(frame, 'full:2 lora:2');
    assert.match(shown.title, /^Experiment /);
    assert.match(shown.bars, /general-after:[\d.]+,[\d.]+/);
    await shot(page, '5-dashboard-after-reload');
  });

  await step('the Experiments view lists the experiment with both runs; "Compare runs" on both opens the comparison', async () => {
    await page.locator('.activitybar .action-item a[aria-label^="Fine-Tune Lab"]').click();
    const [experiment] = readdirSync(experimentsDir);
    await sidebarRow(experiment).waitFor({ timeout: 10_000 });
    assert.match(await sidebarRow(experiment).innerText(), /full, lora · 2 of 2 finished/);
    const full = sidebarRow('full'), lora = sidebarRow('lora');
    await full.waitFor({ timeout: 10_000 });
    assert.match(await lora.innerText(), /^lora\s*built-in · step 2\/2 · loss \d+\.\d{3}/);
    // The standalone run with a config no reader accepts is still listed, saying why.
    assert.match(await sidebarRow('gpt2-sql-lora').innerText(), /config\.json/);
    await shot(page, '6-experiments');
    await full.click();
    await lora.click({ modifiers: ['Control'] });
    await lora.click({ button: 'right' });
    const compare = page.locator('.context-view .action-item', { hasText: 'Compare runs' }).first();
    await compare.waitFor({ timeout: 10_000 });
    await shot(page, '6b-compare-menu');
    await compare.click();
    await page.locator('.tab', { hasText: 'Compare runs (2)' }).waitFor({ timeout: 10_000 });
    const frame = await dashboardFrame(page);
    await frame.locator('#title', { hasText: 'Compare runs (2)' }).waitFor({ timeout: 10_000 });
    const shown = await dashboardShows(frame, 'full:2 lora:2');
    assert.equal(shown.rows.length, 2);
    await shot(page, '7-compare-runs');
  });

  await step('the settings appear under "Fine-Tune Lab" in the Settings editor; runs record the threads set there', async () => {
    const [experiment] = readdirSync(experimentsDir);
    const config = JSON.parse(readFileSync(join(experimentsDir, experiment, 'runs', 'full', 'config.json'), 'utf8'));
    assert.equal(config.training.threads, 1, 'finetuneLab.cpuThreads reached the experiment process');
    await runCommand(page, 'Preferences: Open User Settings');
    const editor = page.locator('.settings-editor');
    const search = editor.locator('.suggest-input-container').first();
    await search.waitFor({ timeout: 20_000 });
    await search.click();
    await page.keyboard.type('@ext:finetune-lab.finetune-lab');
    // The first rows of the list (it renders what is in view): the rest are below the fold.
    for (const title of ['Device', 'Cpu Threads', 'Gradient Checkpointing', 'Runs Folder', 'Default Strategies', 'Replay Share']) {
      await editor.locator('.setting-item-title', { hasText: title }).first().waitFor({ timeout: 20_000 });
    }
    await editor.locator('.settings-group-title-label, .settings-toc-container .monaco-list-row', { hasText: 'Fine-Tune Lab' }).first().waitFor({ timeout: 10_000 });
    await shot(page, '9-settings');
    // One strategy, more steps for the next step: long enough to stop it from the view while it trains
    // (a step of the built-in model on this data takes about 0.1 s). Set here, in the Settings editor:
    // code-server does not reliably notice a settings file written behind its back.
    await search.click();
    await page.keyboard.press('Control+A');
    await page.keyboard.type('@ext:finetune-lab.finetune-lab max steps');
    const maxSteps = editor.locator('.setting-item', { has: page.locator('.setting-item-title', { hasText: 'Max Steps' }) }).locator('input').first();
    await maxSteps.waitFor({ timeout: 20_000 });
    // The Settings editor writes the user settings file after a delay, longer under load: wait for the
    // file to hold the value (a run started before would take the old 2 steps), typing it again if the
    // editor dropped it.
    const userSettings = join(userData, 'User', 'settings.json');
    const saved = () => /"finetuneLab\.experiment\.maxSteps":\s*400\b/.test(readFileSync(userSettings, 'utf8'));
    for (let attempt = 1; !saved(); attempt++) {
      await maxSteps.fill('400');
      await maxSteps.press('Tab');
      const deadline = Date.now() + 15_000;
      while (!saved() && Date.now() < deadline) await page.waitForTimeout(250);
      if (!saved() && attempt === 3) assert.fail(`the Settings editor did not write maxSteps 400 to ${userSettings}:\n${readFileSync(userSettings, 'utf8')}`);
    }
    await page.waitForTimeout(1_000); // the extension host reads the changed file
    await page.keyboard.press('Escape');
    await runCommand(page, 'View: Close All Editors').catch(() => {}); // tidiness only
  });

  // Stop / Resume / Export / Delete from the Experiments view. Under `npm test`'s load these once failed
  // because the run started before the Settings editor had written maxSteps 400 (a 2-step run never shows
  // "step n/400"): the settings step above now waits for the file. FTLAB_E2E_RUN_ACTIONS=0 leaves them out.
  const runActions = process.env.FTLAB_E2E_RUN_ACTIONS !== '0';
  let stoppedAt = 0;
  let second = '';
  if (runActions) await step('while a run trains, the status bar shows its step, loss and ETA; Stop in the Experiments view stops it at a step with its checkpoint', async () => {
    const before = new Set(readdirSync(experimentsDir));
    await runCommand(page, 'Fine-tune model');
    const row = (text: string) => page.locator('.quick-input-list .monaco-list-row', { hasText: text }).first();
    await row('data/train.jsonl').waitFor({ timeout: 10_000 });
    await row('data/train.jsonl').click();
    await row('Built-in small GPT').waitFor({ timeout: 10_000 });
    await row('Built-in small GPT').click();
    await row('LoRA').waitFor({ timeout: 10_000 });
    await page.keyboard.press('Enter'); // full fine-tuning alone (finetuneLab.defaultStrategies)
    await row('Strategy presets').waitFor({ timeout: 10_000 });
    await row('Strategy presets').click();
    const status = page.locator('.statusbar-item', { hasText: /step \d+\/400 · loss [\d.]+ · ETA/ }).first();
    await status.waitFor({ timeout: 120_000 });
    assert.match(await status.innerText(), /full 1\/1 · step \d+\/400 · loss \d+\.\d{3} · ETA (…|\d+:\d\d)/);
    await shot(page, '10-status-bar');
    // The experiment in training: the new folder whose run is running (in the second e2e run of
    // 2026-11-27 a second, 2-step experiment appeared beside it; see the closing note).
    const isRunning = (e: string) => { try { return JSON.parse(readFileSync(join(experimentsDir, e, 'runs', 'full', 'status.json'), 'utf8')).state === 'running'; } catch { return false; } };
    const added = readdirSync(experimentsDir).filter((e) => !before.has(e));
    assert.equal(added.length, 1, `one new experiment, not ${added.join(', ')}`);
    second = added.find(isRunning) ?? '';
    assert.ok(second, 'a second experiment folder, in training');
    await runCommand(page, 'Fine-Tune Lab: Focus on Experiments View');
    const item = sidebarRow(second);
    await item.waitFor({ timeout: 20_000 });
    // The row's inline Stop button (the same command is in its context menu).
    await item.hover();
    const stop = item.locator('.action-label[aria-label^="Stop"]').first();
    await stop.waitFor({ timeout: 10_000 });
    await shot(page, '11-stop-button');
    await stop.click();
    await toast(page, `experiment ${second} stopped`).waitFor({ timeout: 120_000 });
    const runDir = join(experimentsDir, second, 'runs', 'full');
    const st = JSON.parse(readFileSync(join(runDir, 'status.json'), 'utf8'));
    assert.equal(st.state, 'stopped');
    stoppedAt = st.step;
    assert.ok(stoppedAt > 0 && stoppedAt < 400, `stopped at step ${stoppedAt}`);
    assert.equal(JSON.parse(readFileSync(join(runDir, 'checkpoint', 'trainer_state.json'), 'utf8')).step, stoppedAt, 'the checkpoint is at the step it stopped at');
    await status.waitFor({ state: 'hidden', timeout: 20_000 });
    await shot(page, '12-stopped');
  });

  if (runActions) await step('Resume in the Experiments view continues the stopped run from its checkpoint to the end', async () => {
    const item = sidebarRow(second);
    // The row's inline Resume button (the same command is in its context menu).
    await item.hover();
    const resume = item.locator('.action-label[aria-label^="Resume"]').first();
    await resume.waitFor({ timeout: 10_000 });
    await resume.click();
    await toast(page, `experiment ${second} finished`).waitFor({ timeout: 300_000 });
    const runDir = join(experimentsDir, second, 'runs', 'full');
    const steps = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).step as number);
    assert.deepEqual(steps, Array.from({ length: 400 }, (_, i) => i + 1), 'every step once: none lost, none repeated');
    assert.equal(JSON.parse(readFileSync(join(runDir, 'outcome.json'), 'utf8')).training.resumedFromStep, stoppedAt);
    await sidebarRow('full').waitFor({ timeout: 10_000 });
    await shot(page, '13-resumed');
  });

  if (runActions) await step('Export (ONNX), Rename and Delete from the Experiments view\'s context menu', async () => {
    await runCommand(page, 'Fine-Tune Lab: Focus on Experiments View');
    const runRow = page.locator('.part.sidebar .monaco-list-row', { hasText: 'step 400/400' }).first();
    await runRow.waitFor({ timeout: 20_000 });
    // The two runs selected for "Compare runs" are still selected, and with several rows selected the
    // menu offers only what applies to a selection: Escape in the focused view clears the selection.
    await page.keyboard.press('Escape');
    // The view redraws once more after the resumed experiment's process ends: let it settle first.
    await page.waitForTimeout(2_000);
    await runRow.click({ button: 'right' });
    // A menu ignores a click that comes right after it opened (as "Compare runs" above: wait, then click).
    const exportItem = page.locator('.context-view .action-item', { hasText: 'Export run…' }).first();
    await exportItem.waitFor({ timeout: 10_000 });
    await page.waitForTimeout(500);
    await exportItem.click();
    const onnx = page.locator('.quick-input-list .monaco-list-row', { hasText: 'ONNX model' }).first();
    // When the view redrew between the right-click and the menu (seen once under load in 6 runs), the
    // command gets no row and asks for the run, as from the palette: answer that too.
    const runChoice = page.locator('.quick-input-list .monaco-list-row', { hasText: `${second}/full` }).first();
    await onnx.or(runChoice).first().waitFor({ timeout: 10_000 });
    if (await runChoice.isVisible()) await runChoice.click();
    await onnx.waitFor({ timeout: 10_000 });
    await onnx.click();
    await toast(page, 'as an ONNX model: ').waitFor({ timeout: 120_000 });
    assert.ok(existsSync(join(experimentsDir, second, 'runs', 'full', 'exported-onnx', 'model.onnx')));

    // Rename gives the run a label; its folder keeps its name.
    await runRow.click({ button: 'right' });
    const renameItem = page.locator('.context-view .action-item', { hasText: 'Rename…' }).first();
    await renameItem.waitFor({ timeout: 10_000 });
    await page.waitForTimeout(500);
    await renameItem.click();
    const input = page.locator('.quick-input-widget input.input');
    await input.waitFor({ timeout: 10_000 });
    await input.fill('stopped and resumed');
    await page.keyboard.press('Enter');
    await sidebarRow('stopped and resumed').waitFor({ timeout: 20_000 });
    assert.equal(JSON.parse(readFileSync(join(experimentsDir, second, 'runs', 'full', 'label.json'), 'utf8')).label, 'stopped and resumed');
    assert.ok(existsSync(join(experimentsDir, second, 'runs', 'full', 'config.json')), 'the folder keeps its name');
    await shot(page, '14-renamed');

    const item = sidebarRow(second);
    await item.click({ button: 'right' });
    const deleteItem = page.locator('.context-view .action-item', { hasText: /^Delete$/ }).first();
    await deleteItem.waitFor({ timeout: 10_000 });
    await page.waitForTimeout(500);
    await deleteItem.click();
    const dialog = page.locator('.monaco-dialog-box');
    await dialog.waitFor({ timeout: 10_000 });
    assert.match(await dialog.innerText(), new RegExp(`Delete the experiment ${second} with its 1 run\\?`));
    await shot(page, '15-delete-dialog');
    await dialog.locator('.monaco-button', { hasText: 'Move to Trash' }).click();
    // A server without a trash asks again before deleting for good.
    const forever = page.locator('.monaco-dialog-box .monaco-button', { hasText: 'Delete Permanently' });
    if (await forever.waitFor({ timeout: 5_000 }).then(() => true, () => false)) await forever.click();
    await toast(page, `deleted the experiment ${second}`).waitFor({ timeout: 20_000 });
    assert.equal(existsSync(join(experimentsDir, second)), false);
    await item.waitFor({ state: 'detached', timeout: 10_000 });
    await shot(page, '16-deleted');
  });

  await t.test('the dashboard webview reports no Content-Security-Policy violation', () => {
    assert.deepEqual(cspViolations, []);
  });

  await t.test('in Restricted Mode, "Fine-tune model" explains that training is off', async () => {
    const restricted = await browser.newPage();
    await openFolder(restricted, base, untrusted, false);
    await runCommand(restricted, 'Fine-tune model');
    await toast(restricted, 'training is off in Restricted Mode').waitFor({ timeout: 10_000 });
    await restricted.locator('.activitybar .action-item a[aria-label^="Fine-Tune Lab"]').click();
    await restricted.locator('.part.sidebar .welcome-view-content', { hasText: 'Training is off in Restricted Mode' }).waitFor({ timeout: 10_000 });
    await shot(restricted, '8-restricted-mode');
  });

  t.diagnostic(`e2e took ${((Date.now() - started) / 1000).toFixed(1)} s; screenshots in ${screenshots}`);
});
