// Fine-Tune Lab's extension host entry: registers the commands, the Experiments view and the
// dashboard. Every registration goes into context.subscriptions so that deactivation undoes it.
import * as vscode from 'vscode';
import { DashboardPanel } from './dashboardPanel';
import { ExperimentsProvider, RUNS_DIR, type RunEntry } from './experimentsView';
import { fineTune } from './fineTuneCommand';
import { exportRun } from './exportRun';
import { PromptLensProvider, PromptTester, answerDecoration } from './promptTester';

export function activate(context: vscode.ExtensionContext): void {
  const experiments = new ExperimentsProvider();
  const watcher = vscode.workspace.createFileSystemWatcher(`**/${RUNS_DIR.join('/')}/{*,*/config.json}`);
  const refresh = () => experiments.refresh();
  const answers = answerDecoration();
  const prompts = new PromptTester(context.extensionUri, answers);
  // A run folder appearing or going away, or its config.json changing; not its checkpoints and logs.

  context.subscriptions.push(
    experiments,
    vscode.window.createTreeView('finetuneLab.experiments', { treeDataProvider: experiments }),
    watcher,
    watcher.onDidCreate(refresh),
    watcher.onDidChange(refresh),
    watcher.onDidDelete(refresh),
    vscode.workspace.onDidChangeWorkspaceFolders(refresh),
    vscode.commands.registerCommand('finetuneLab.fineTune', (uri?: unknown) => fineTune(context.extensionUri, uri instanceof vscode.Uri ? uri : undefined)),
    vscode.commands.registerCommand('finetuneLab.showDashboard', () => {
      DashboardPanel.createOrShow(context.extensionUri);
    }),
    vscode.commands.registerCommand('finetuneLab.refreshExperiments', refresh),
    vscode.commands.registerCommand('finetuneLab.exportRun', (entry?: unknown) => exportRun(experiments, isRunEntry(entry) ? entry : undefined)),
    answers,
    prompts,
    vscode.languages.registerCodeLensProvider({ scheme: 'file' }, new PromptLensProvider()),
    vscode.commands.registerCommand('finetuneLab.testPrompt', (line?: unknown) => prompts.test(typeof line === 'number' ? line : undefined)),
    vscode.window.registerWebviewPanelSerializer(DashboardPanel.viewType, {
      async deserializeWebviewPanel(panel: vscode.WebviewPanel) {
        DashboardPanel.revive(panel, context.extensionUri);
      },
    }),
    { dispose: () => DashboardPanel.disposeCurrent() },
  );
}

function isRunEntry(v: unknown): v is RunEntry {
  return typeof v === 'object' && v !== null && 'configUri' in v && 'name' in v;
}

export function deactivate(): void {
  // Everything is disposed through context.subscriptions.
}
