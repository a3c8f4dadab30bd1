// 'Fine-tune model': dataset, base model, one or several strategies, preset and guards; then an
// experiment (one variant per strategy) under .ftlab/experiments/<time>, run to the end in a child
// process (`ftlab experiment --resume <dir>`, experimentProcess.ts) with a cancellable progress
// notification, its output in the "Fine-Tune Lab" channel, and its dashboard drawn from the folder.
// Before the process starts, each strategy's estimated peak memory; a modal warning when one exceeds
// the memory available (memoryWarning.ts).
import { basename, join } from 'node:path';
import * as vscode from 'vscode';
import { ensureTrustedForTraining } from './workspaceTrust';
import { DashboardPanel } from './dashboardPanel';
import { ExperimentProcess } from './experimentProcess';
import { EXPERIMENTS_DIR, failureSummary, readExperimentNode } from './workspaceRuns';
import { pickGuardsOrCustom } from './customSettings';
import { removeIfNothingTrained } from './emptyExperiment';
import { checkDataFirst, checkDataForModel } from './prepareData';
import { currentSettings, runsFolderOf } from './labConfiguration';
import { experimentArgs, type LabSettings } from './labSettings';
import { TRAIN_ANYWAY, confirmMemory, memoryLine } from './memoryWarning';
import { progressText } from './trainingProgress';
import { trainingMonitor } from './trainingStatusBar';
import {
  REPORT_HTML, STRATEGIES, TIED_EMBEDDING_LR_RULE, checkRepoId, createExperiment, estimateExperimentMemory, hfAccessToken, presetSummary, pullModel,
  type ExperimentMemory, type NewExperiment, type StrategyKind, type VariantSettings,
} from '../engine';

/** Dataset formats the prepare step reads (no Parquet reader yet). */
const DATASET_GLOB = '**/*.{jsonl,json,csv,tsv,txt}';
const EXCLUDE_GLOB = '**/{node_modules,.git,.ftlab,dist,out,*.prepared}/**'; // *.prepared: Prepare Q&A data's output
const MAX_LISTED = 500;

interface DatasetPick extends vscode.QuickPickItem {
  readonly uri?: vscode.Uri; // undefined: "Browse…"
}

interface Choice<T> extends vscode.QuickPickItem { readonly value: T; }

const STRATEGY_LABELS: Record<StrategyKind, { label: string; description: string }> = {
  full: { label: 'Full fine-tuning', description: 'every weight trains' },
  'frozen-embeddings': { label: 'Frozen embeddings', description: 'feature extraction: token and position embeddings stay fixed' },
  'layerwise-lr': { label: 'Layer-wise learning rates', description: 'embeddings 0.1x, blocks 0.5x, head 1x' },
  lora: { label: 'LoRA', description: 'the model stays frozen; rank-8 adapters train (exportable as PEFT)' },
};

/** One item per strategy; its detail is the strategy's preset (what the experiment will train with). */
export function strategyChoices(defaults: readonly StrategyKind[] = ['full']): Choice<StrategyKind>[] {
  return STRATEGIES.map((kind) => ({
    ...STRATEGY_LABELS[kind],
    detail: kind === 'layerwise-lr' ? `${presetSummary(kind)}; ${TIED_EMBEDDING_LR_RULE}` : presetSummary(kind),
    picked: defaults.includes(kind),
    value: kind,
  }));
}

type Guards = Pick<NewExperiment, 'validationSplit' | 'earlyStoppingPatience'> & { replayRatio: number };
/** The shares come from the settings finetuneLab.replayShare and finetuneLab.validationShare. */
function guardChoices(s: Pick<LabSettings, 'replayShare' | 'validationShare'>): Choice<Guards>[] {
  const pct = (x: number) => `${+(x * 100).toFixed(1)}%`;
  return [
    { label: 'Strategy presets', description: `each strategy's preset as shown before: ${pct(s.replayShare)} of every batch replays general text against forgetting`, value: { replayRatio: s.replayShare, validationSplit: 0, earlyStoppingPatience: 0 } },
    { label: 'Presets + early stopping', description: `the same, and ${pct(s.validationShare)} held out for validation; stop after 3 evaluations without a better validation loss`, value: { replayRatio: s.replayShare, validationSplit: s.validationShare, earlyStoppingPatience: 3 } },
    { label: 'Presets without general data', description: 'no replay: fewer steps (every batch is your data), more forgetting', value: { replayRatio: 0, validationSplit: 0, earlyStoppingPatience: 0 } },
  ];
}

/** Experiments this window is running, by folder: one process per experiment. */
const running = new Map<string, ExperimentProcess>();

/** On deactivation (window closed or reloaded): the experiments stop, and can be resumed. */
export function stopAllExperiments(): void {
  for (const child of running.values()) child.stop();
}

/** Stops an experiment this window runs at its next step boundary; false when it runs elsewhere. */
export function stopExperimentInWindow(dir: string): boolean {
  const child = running.get(dir);
  child?.stopAtStepBoundary(STOPPED_BY);
  return child !== undefined;
}

/** Who asked, as stop-request.json and the run's log say it. */
export const STOPPED_BY = `VS Code (extension host pid ${process.pid})`;

async function pick<T>(items: Choice<T>[], title: string): Promise<T | undefined> {
  return (await vscode.window.showQuickPick(items, { title, ignoreFocusOut: true }))?.value;
}

async function pickBaseModel(): Promise<string | undefined> {
  const builtin: Choice<string> = { label: 'Built-in small GPT', description: '4.3 M parameters, ships with Fine-Tune Lab', value: 'builtin' };
  const folder: Choice<string> = { label: '$(folder-opened) Hugging Face model folder…', description: 'GPT-2 or Llama family: config.json, model.safetensors, tokenizer.json', value: 'folder' };
  const hub: Choice<string> = { label: '$(cloud-download) Download from the Hugging Face Hub…', description: 'e.g. openai-community/gpt2, HuggingFaceTB/SmolLM2-135M', value: 'hub' };
  const chosen = await pick([builtin, folder, hub], 'Fine-tune model: base model');
  if (chosen === 'builtin' || chosen === undefined) return chosen;
  if (chosen === 'folder') {
    const dir = await vscode.window.showOpenDialog({ title: 'Choose a model folder', canSelectFiles: false, canSelectFolders: true, canSelectMany: false });
    return dir?.[0]?.fsPath;
  }
  const repoId = await vscode.window.showInputBox({
    title: 'Hugging Face model id', placeHolder: 'org/name', ignoreFocusOut: true,
    validateInput: (v) => { try { checkRepoId(v.trim()); return undefined; } catch (e) { return (e as Error).message; } },
  });
  if (!repoId) return undefined;
  try {
    const token = await hfAccessToken();
    const res = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Fine-Tune Lab: downloading ${repoId}`, cancellable: false }, (progress) =>
      pullModel(repoId.trim(), { accessToken: token, onProgress: (p) => progress.report({ message: `${p.file} (${p.fileIndex + 1}/${p.fileCount}) ${(p.fileBytes / 2 ** 20).toFixed(1)}/${(p.fileTotal / 2 ** 20).toFixed(1)} MiB` }) }));
    return res.snapshotDir;
  } catch (err) {
    void vscode.window.showErrorMessage(`Fine-Tune Lab: ${(err as Error).message}`);
    return undefined;
  }
}

async function pickStrategies(): Promise<StrategyKind[] | undefined> {
  const picked = await vscode.window.showQuickPick(strategyChoices(currentSettings().defaultStrategies), {
    title: 'Fine-tune model: strategies (several make an experiment that compares them)',
    placeHolder: 'Check one or more strategies, then press Enter',
    canPickMany: true, ignoreFocusOut: true, matchOnDetail: true,
  });
  if (!picked) return undefined;
  if (!picked.length) {
    void vscode.window.showInformationMessage('Fine-Tune Lab: check at least one strategy.');
    return undefined;
  }
  return picked.map((p) => p.value);
}

/** The settings that shape every experiment the extension starts (package.json, "finetuneLab.*"). */
function experimentSettings(): Pick<NewExperiment, 'generalPrompts' | 'generalText' | 'decoding' | 'device' | 'threads' | 'gradientCheckpointing'> & { maxSteps: number } {
  const s = currentSettings();
  return {
    generalPrompts: s.generalPrompts, generalText: s.generalText, decoding: s.decoding, maxSteps: s.maxSteps,
    device: s.device, threads: s.cpuThreads, gradientCheckpointing: s.gradientCheckpointing,
  };
}

export async function fineTune(extensionUri: vscode.Uri, output: vscode.OutputChannel, datasetArg?: vscode.Uri): Promise<void> {
  if (!(await ensureTrustedForTraining())) return;
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (!folder) {
    void vscode.window.showInformationMessage('Fine-Tune Lab: open a folder first; experiments are stored in it under .ftlab/experiments/.');
    return;
  }
  const dataset = datasetArg ?? (await pickDataset());
  if (!dataset) return;
  if (!(await checkDataFirst(dataset))) return;
  const baseModel = await pickBaseModel();
  if (!baseModel) return;
  const strategies = await pickStrategies();
  if (!strategies) return;
  const guards = await pickGuardsOrCustom(guardChoices(currentSettings()), strategies, baseModel);
  if (!guards) return;
  if (!(await checkDataForModel(dataset, baseModel, guards.maxLength))) return;
  const { maxSteps, ...evaluation } = experimentSettings();
  const overrides: Partial<VariantSettings> = { replayRatio: guards.replayRatio, ...guards.overrides, ...(maxSteps > 0 ? { maxSteps } : {}) };
  const time = new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-');
  const dir = join(runsFolderOf(folder), EXPERIMENTS_DIR[1], time);
  try {
    await createExperiment({
      dir, name: `${basename(dataset.fsPath)}: ${strategies.join(', ')}`, baseModel, dataFile: dataset.fsPath,
      validationSplit: guards.validationSplit, earlyStoppingPatience: guards.earlyStoppingPatience,
      ...(guards.maxLength !== undefined ? { maxLength: guards.maxLength } : {}),
      variants: strategies.map((strategy) => ({ strategy, name: strategy, overrides })),
      ...evaluation,
    });
  } catch (err) {
    void vscode.window.showErrorMessage(`Fine-Tune Lab: ${(err as Error).message}`);
    return;
  }
  await startExperiment(extensionUri, output, dir, { isNew: true });
}

/**
 * Starts (isNew) or continues an experiment after the memory check: Fine-tune model, Run again and
 * Resume experiment alike. Cancelled at the check, a new experiment's folder goes (nothing ran in it),
 * a resumed one stays as it was.
 */
export async function startExperiment(extensionUri: vscode.Uri, output: vscode.OutputChannel, dir: string, o: { isNew: boolean }): Promise<void> {
  const memory = await checkMemory(dir, output, !o.isNew);
  if (!memory.start) {
    if (o.isNew) removeIfNothingTrained(dir); // as for a failure before the first step
    return;
  }
  if (o.isNew) void vscode.commands.executeCommand('finetuneLab.refreshExperiments');
  await runExperimentInChild(extensionUri, output, dir, { removeIfNothingTrained: o.isNew, ignoreMemoryEstimate: memory.ignoreMemoryEstimate, firstLine: memory.line });
}

/**
 * Each strategy's estimated peak memory (the output and the progress notification say it); a modal
 * warning when one exceeds the memory available. An estimate that cannot be made does not stop the
 * experiment: its process then says what is wrong (data, model) in its own run.
 */
async function checkMemory(dir: string, output: vscode.OutputChannel, unfinishedOnly = false): Promise<{ start: boolean; ignoreMemoryEstimate: boolean; line?: string }> {
  let memory: ExperimentMemory;
  try {
    memory = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'Fine-Tune Lab: estimating the memory each strategy needs…' }, () => estimateExperimentMemory(dir));
  } catch (err) {
    output.appendLine(`memory estimate: not made (${(err as Error).message})`);
    return { start: true, ignoreMemoryEstimate: false };
  }
  // Resuming: a finished variant does not train again.
  if (unfinishedOnly) memory = { ...memory, variants: memory.variants.filter((v) => !v.finished) };
  if (!memory.variants.length) return { start: true, ignoreMemoryEstimate: false };
  const line = memoryLine(memory);
  output.appendLine(line);
  const answer = await confirmMemory(memory, (message, options, ...items) => vscode.window.showWarningMessage(message, options, ...items));
  if (answer.ignoreMemoryEstimate) output.appendLine(`${TRAIN_ANYWAY}: the variants train although their estimate exceeds the memory available`);
  return { ...answer, line };
}

/**
 * Runs (or continues) the experiment in `dir` in a child process: its output in the channel, a
 * cancellable progress notification (cancel ends the processes; the experiment can be resumed), the
 * dashboard following the folder, and a message at the end.
 */
export async function runExperimentInChild(
  extensionUri: vscode.Uri, output: vscode.OutputChannel, dir: string,
  options: { removeIfNothingTrained?: boolean; ignoreMemoryEstimate?: boolean; firstLine?: string } = {},
): Promise<void> {
  const busy = readExperimentNode(dir).runs.find((r) => r.state === 'running');
  if (running.has(dir) || busy) {
    DashboardPanel.createOrShow(extensionUri, { kind: 'experiment', dir });
    if (busy) void vscode.window.showInformationMessage(`Fine-Tune Lab: ${busy.name} of this experiment is still training (another window or a terminal); its dashboard follows it.`);
    return;
  }
  const name = basename(dir);
  DashboardPanel.createOrShow(extensionUri, { kind: 'experiment', dir });
  output.appendLine(`[${new Date().toLocaleTimeString()}] experiment ${dir}`);
  const cli = vscode.Uri.joinPath(extensionUri, 'dist', 'cli.js').fsPath;
  const settings = currentSettings();
  output.appendLine(`device ${settings.device}, CPU threads ${settings.cpuThreads || 'one per core'}${settings.gradientCheckpointing ? ', gradient checkpointing' : ''} (settings finetuneLab.device, finetuneLab.cpuThreads, finetuneLab.gradientCheckpointing)`);
  const result = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Fine-Tune Lab: experiment ${name}`, cancellable: true },
    (progress, token) => new Promise<{ code: number | null; stopped: boolean }>((resolve) => {
      // The notification says where the variant in training stands (from its folder: step, loss,
      // ETA); between variants and while measuring, the child's last line.
      let lastLine = options.firstLine ?? '';
      const report = () => {
        const now = trainingMonitor.of(dir);
        const message = now ? progressText(now) : lastLine;
        if (message) progress.report({ message });
      };
      report();
      const onChange = () => report();
      trainingMonitor.on('change', onChange);
      const child = new ExperimentProcess(cli, dir, {
        line: (text, stream) => {
          output.appendLine(text);
          // Progress lines ("variant 1/2: full", "  step 10  loss 2.1", "measuring ...") on stderr.
          if (stream === 'stderr' && text.trim()) {
            lastLine = text.trim();
            report();
          }
          DashboardPanel.refreshAll();
        },
        exit: (code, stopped) => {
          running.delete(dir);
          trainingMonitor.off('change', onChange);
          resolve({ code, stopped });
        },
      }, experimentArgs(dir, settings, { ignoreMemoryEstimate: options.ignoreMemoryEstimate }));
      running.set(dir, child);
      token.onCancellationRequested(() => {
        child.stopAtStepBoundary(STOPPED_BY);
        progress.report({ message: 'stopping at the next step boundary (the checkpoint is saved there)…' });
      });
    }),
  );
  void vscode.commands.executeCommand('finetuneLab.refreshExperiments');
  DashboardPanel.refreshAll();
  if (result.code === 0) {
    const open = await vscode.window.showInformationMessage(`Fine-Tune Lab: experiment ${name} finished; its report is in ${vscode.workspace.asRelativePath(join(dir, REPORT_HTML))}.`, 'Show dashboard', 'Open report.html');
    if (open === 'Show dashboard') DashboardPanel.createOrShow(extensionUri, { kind: 'experiment', dir });
    if (open === 'Open report.html') void vscode.env.openExternal(vscode.Uri.file(join(dir, REPORT_HTML)));
  } else if (result.stopped) {
    void vscode.window.showInformationMessage(`Fine-Tune Lab: experiment ${name} stopped. Resume it from the Experiments view (Resume experiment): finished variants are kept, the stopped one continues from its checkpoint.`);
  } else {
    // What the failed variant's status.json says, in VS Code's words (the output has the CLI's).
    const why = failureSummary(readExperimentNode(dir));
    if (why) output.appendLine(why);
    // A new experiment that failed before its first step holds nothing worth keeping.
    const removed = options.removeIfNothingTrained === true && removeIfNothingTrained(dir);
    if (removed) void vscode.commands.executeCommand('finetuneLab.refreshExperiments');
    const show = await vscode.window.showErrorMessage(`Fine-Tune Lab: experiment ${name} ended with an error (exit code ${result.code})${removed ? ' before its first step; its folder was removed' : ''}${why ? `. ${why}` : '; the "Fine-Tune Lab" output says what happened.'}`, 'Show output');
    if (show) output.show();
  }
}

export async function pickDataset(title = 'Fine-tune model: choose a dataset'): Promise<vscode.Uri | undefined> {
  const files = await vscode.workspace.findFiles(DATASET_GLOB, EXCLUDE_GLOB, MAX_LISTED);
  files.sort((a, b) => a.path.localeCompare(b.path));
  const browse: DatasetPick = { label: '$(folder-opened) Browse…', description: 'choose a file anywhere', alwaysShow: true };
  const items: DatasetPick[] = [
    ...files.map((uri) => ({ label: vscode.workspace.asRelativePath(uri), uri })),
    browse,
  ];
  const picked = await vscode.window.showQuickPick(items, {
    title,
    placeHolder: files.length ? 'JSONL, JSON, CSV, TSV or text file' : 'No dataset files found in the workspace: browse for one',
    matchOnDescription: true,
  });
  if (!picked) return undefined;
  if (picked.uri) return picked.uri;
  const chosen = await vscode.window.showOpenDialog({
    title: 'Choose a dataset',
    canSelectMany: false,
    defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri,
    filters: { Datasets: ['jsonl', 'json', 'csv', 'tsv', 'txt'], 'All files': ['*'] },
  });
  return chosen?.[0];
}
