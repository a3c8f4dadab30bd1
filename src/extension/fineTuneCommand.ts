// 'Fine-tune model': dataset, base model, strategy, preset and guards, then a run in the training
// worker with live progress, the dashboard's curves, and the run folder under .ftlab/runs/.
import { basename } from 'node:path';
import * as vscode from 'vscode';
import { ensureTrustedForTraining } from './workspaceTrust';
import { DashboardPanel } from './dashboardPanel';
import { TrainingSession } from './trainingSession';
import { EvalMetricsParams, JsonObject, StepMetricsParams } from '../protocol/messages';
import { checkRepoId, hfAccessToken, pullModel } from '../engine';

/** Dataset formats the prepare step reads (no Parquet reader yet). */
const DATASET_GLOB = '**/*.{jsonl,json,csv,tsv,txt}';
const EXCLUDE_GLOB = '**/{node_modules,.git,.ftlab,dist,out}/**';
const MAX_LISTED = 500;

interface DatasetPick extends vscode.QuickPickItem {
  readonly uri?: vscode.Uri; // undefined: "Browse…"
}

interface Choice<T> extends vscode.QuickPickItem { readonly value: T; }

const STRATEGY_CHOICES: Choice<{ strategy: string; layerLrDecay?: number }>[] = [
  { label: 'Full fine-tuning', description: 'every weight trains', value: { strategy: 'full' } },
  { label: 'Frozen embeddings', description: 'feature extraction: token and position embeddings stay fixed', value: { strategy: 'frozen-embeddings' } },
  { label: 'Layer-wise learning rates', description: 'lower layers move less (x0.8 per layer)', value: { strategy: 'layerwise-lr', layerLrDecay: 0.8 } },
  { label: 'LoRA', description: 'the model stays frozen; rank-8 adapters train (exportable as PEFT)', value: { strategy: 'lora' } },
];
const GUARD_CHOICES: Choice<{ replayRatio: number; validationSplit: number; earlyStoppingPatience: number }>[] = [
  { label: 'Safe preset', description: 'lr 1e-4, 3 epochs, batch 16, dropout 0.1, weight decay 0.01', value: { replayRatio: 0, validationSplit: 0, earlyStoppingPatience: 0 } },
  { label: 'Safe preset + general data', description: '25% of every batch replays general text against forgetting', value: { replayRatio: 0.25, validationSplit: 0, earlyStoppingPatience: 0 } },
  { label: 'Safe preset + general data + early stopping', description: '10% held out; stop after 3 evaluations without a better validation loss', value: { replayRatio: 0.25, validationSplit: 0.1, earlyStoppingPatience: 3 } },
];

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

export async function fineTune(extensionUri: vscode.Uri, datasetArg?: vscode.Uri): Promise<void> {
  if (!(await ensureTrustedForTraining())) return;
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (!folder) {
    void vscode.window.showInformationMessage('Fine-Tune Lab: open a folder first; runs are stored in it under .ftlab/runs/.');
    return;
  }
  const dataset = datasetArg ?? (await pickDataset());
  if (!dataset) return;
  const baseModel = await pickBaseModel();
  if (!baseModel) return;
  const strategy = await pick(STRATEGY_CHOICES, 'Fine-tune model: strategy');
  if (!strategy) return;
  const guards = await pick(GUARD_CHOICES, 'Fine-tune model: preset and guards against forgetting');
  if (!guards) return;
  const name = `${basename(dataset.fsPath).replace(/\.[^.]+$/, '')}-${strategy.strategy}-${new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-')}`;
  const runDir = vscode.Uri.joinPath(folder.uri, '.ftlab', 'runs', name).fsPath;
  await runTraining(extensionUri, { runDir, dataFile: dataset.fsPath, baseModel, preset: 'safe', ...strategy, ...guards });
}

/** Runs one training in a worker: progress notification (cancellable), live dashboard, final message. */
async function runTraining(extensionUri: vscode.Uri, config: JsonObject): Promise<void> {
  const dashboard = DashboardPanel.createOrShow(extensionUri);
  await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'Fine-Tune Lab: training', cancellable: true }, (progress, token) =>
    new Promise<void>((resolve) => {
      let total = 0, done = 0, first = true;
      let pending: { steps: StepMetricsParams[]; evals: EvalMetricsParams[] } = { steps: [], evals: [] };
      let runId = '';
      // Coalesce step events: the webview redraws a few times a second at most.
      const flush = () => {
        if (!runId || (!pending.steps.length && !pending.evals.length)) return;
        dashboard.showMetrics({ runId, reset: first, ...pending });
        first = false;
        pending = { steps: [], evals: [] };
      };
      const timer = setInterval(flush, 250);
      const end = () => { flush(); clearInterval(timer); session.dispose(); resolve(); };
      const session = new TrainingSession(extensionUri, {
        started: (p) => { total = p.totalSteps; progress.report({ message: `step ${p.startStep} of ${total}` }); },
        step: (p) => {
          pending.steps.push(p);
          progress.report({ increment: total ? (100 * (p.step - done)) / total : 0, message: `step ${p.step} of ${total} · loss ${p.loss.toFixed(3)}` });
          done = p.step;
        },
        eval: (p) => pending.evals.push(p),
        finished: (p) => {
          end();
          void vscode.commands.executeCommand('finetuneLab.refreshExperiments');
          void vscode.window.showInformationMessage(`Fine-Tune Lab: fine-tuning ${p.reason === 'completed' ? 'finished' : 'stopped'} after ${p.step} steps; run ${p.runId} is in .ftlab/runs.`);
        },
        failed: (p) => {
          end();
          const where = p.file ? ` (${p.file}${p.line ? `:${p.line}` : ''})` : '';
          void vscode.window.showErrorMessage(`Fine-Tune Lab: ${p.message}${where}${p.fix ? ` ${p.fix}` : ''}`, ...(p.file ? ['Open file'] : [])).then((a) => {
            if (a && p.file) void vscode.window.showTextDocument(vscode.Uri.file(p.file), { selection: new vscode.Range((p.line ?? 1) - 1, 0, (p.line ?? 1) - 1, 0) });
          });
        },
      });
      token.onCancellationRequested(() => session.stop());
      session.start(config).then((id) => { runId = id; }, (err: Error) => {
        end();
        void vscode.window.showErrorMessage(`Fine-Tune Lab: ${err.message}`);
      });
    }));
}

async function pickDataset(): Promise<vscode.Uri | undefined> {
  const files = await vscode.workspace.findFiles(DATASET_GLOB, EXCLUDE_GLOB, MAX_LISTED);
  files.sort((a, b) => a.path.localeCompare(b.path));
  const browse: DatasetPick = { label: '$(folder-opened) Browse…', description: 'choose a file anywhere', alwaysShow: true };
  const items: DatasetPick[] = [
    ...files.map((uri) => ({ label: vscode.workspace.asRelativePath(uri), uri })),
    browse,
  ];
  const picked = await vscode.window.showQuickPick(items, {
    title: 'Fine-tune model: choose a dataset',
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
