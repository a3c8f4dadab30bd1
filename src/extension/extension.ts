// Fine-Tune Lab's extension host entry: registers the commands, the Experiments view and the
// dashboard. Every registration goes into context.subscriptions so that deactivation undoes it.
import * as vscode from 'vscode';
import { isDashboardState, type DashboardSource } from '../protocol/messages';
import { DashboardPanel } from './dashboardPanel';
import { ExperimentsProvider, isExperimentEntry, isRunEntry, type ViewNode } from './experimentsView';
import { ExperimentProcess } from './experimentProcess';
import { fineTune, startExperiment, stopAllExperiments } from './fineTuneCommand';
import { registerRunActions } from './runActions';
import { RunFolderWatcher } from './runFolderWatcher';
import { TrainingStatusBar } from './trainingStatusBar';
import { listWorkspaceRuns } from './workspaceRuns';
import { runsFolderOf } from './labConfiguration';
import { PROMPT_SELECTOR, PromptLensProvider, PromptTester, answerDecoration } from './promptTester';
import { ensureTrustedForTraining } from './workspaceTrust';
import { registerDataCommands } from './dataCommands';
import { registerDeviceCommands } from './deviceCommands';

/** Changes come in bursts (a step a second per variant): redraw at most this often. */
const REFRESH_MS = 500;

export function activate(context: vscode.ExtensionContext): void {
  const experiments = new ExperimentsProvider();
  const tree = vscode.window.createTreeView('finetuneLab.experiments', { treeDataProvider: experiments, canSelectMany: true, showCollapseAll: true });
  const output = vscode.window.createOutputChannel('Fine-Tune Lab');
  const statusBar = new TrainingStatusBar(() => (vscode.workspace.workspaceFolders ?? []).map((f) => listWorkspaceRuns(f.uri.fsPath, runsFolderOf(f))));
  let pending: NodeJS.Timeout | undefined;
  const refresh = () => {
    if (pending) return;
    pending = setTimeout(() => {
      pending = undefined;
      experiments.refresh();
      DashboardPanel.refreshAll();
      statusBar.refresh();
    }, REFRESH_MS);
  };
  const watcher = new RunFolderWatcher(refresh);
  ExperimentProcess.activity.on('output', refresh);
  const answers = answerDecoration();
  const prompts = new PromptTester(context.extensionUri, answers, context.workspaceState);
  const openDashboard = (source?: DashboardSource) => DashboardPanel.createOrShow(context.extensionUri, source ?? newestExperiment(experiments));

  context.subscriptions.push(
    experiments,
    tree,
    output,
    watcher,
    statusBar,
    statusBar.item,
    ...registerRunActions(context.extensionUri, experiments, output),
    { dispose: () => pending && clearTimeout(pending) },
    { dispose: () => ExperimentProcess.activity.off('output', refresh) },
    vscode.commands.registerCommand('finetuneLab.fineTune', (uri?: unknown) => fineTune(context.extensionUri, output, uri instanceof vscode.Uri ? uri : undefined)),
    vscode.commands.registerCommand('finetuneLab.showDashboard', () => {
      openDashboard(DashboardPanel.currentPanel?.shown);
    }),
    vscode.commands.registerCommand('finetuneLab.openDashboard', (node?: unknown) => {
      if (isExperimentEntry(node)) openDashboard({ kind: 'experiment', dir: node.dir });
      else if (isRunEntry(node)) openDashboard({ kind: 'runs', runDirs: [node.dir] });
      else openDashboard();
    }),
    vscode.commands.registerCommand('finetuneLab.compareRuns', (clicked?: unknown, selected?: unknown) => {
      const runs = compareSelection(clicked, selected, tree.selection);
      if (runs.length < 2) {
        void vscode.window.showInformationMessage('Fine-Tune Lab: select two or more runs in the Experiments view (Ctrl/Cmd+click), then Compare runs.');
        return;
      }
      openDashboard({ kind: 'runs', runDirs: runs });
    }),
    vscode.commands.registerCommand('finetuneLab.resumeExperiment', async (node?: unknown) => {
      if (!(await ensureTrustedForTraining())) return;
      const dir = isExperimentEntry(node) ? node.dir : isRunEntry(node) ? node.experimentDir : DashboardPanel.currentPanel?.shown?.kind === 'experiment' ? DashboardPanel.currentPanel.shown.dir : undefined;
      if (!dir) {
        void vscode.window.showInformationMessage('Fine-Tune Lab: choose the experiment to resume in the Experiments view (right-click, Resume experiment).');
        return;
      }
      await startExperiment(context.extensionUri, output, dir, { isNew: false });
    }),
    vscode.commands.registerCommand('finetuneLab.refreshExperiments', () => experiments.refresh()),
    ...registerDataCommands(context, output),
    ...registerDeviceCommands(context.extensionUri, output),
    answers,
    prompts,
    vscode.languages.registerCodeLensProvider(PROMPT_SELECTOR, new PromptLensProvider()),
    vscode.commands.registerCommand('finetuneLab.choosePromptRuns', () => prompts.chooseRuns()),
    vscode.commands.registerCommand('finetuneLab.testPrompt', (line?: unknown) => prompts.test(typeof line === 'number' ? line : undefined)),
    vscode.window.registerWebviewPanelSerializer(DashboardPanel.viewType, {
      async deserializeWebviewPanel(panel: vscode.WebviewPanel, state: unknown) {
        // The webview's saved state comes back from disk: checked like any message.
        DashboardPanel.revive(panel, context.extensionUri, isDashboardState(state) ? state.source : undefined);
      },
    }),
    { dispose: () => DashboardPanel.disposeAll() },
    { dispose: stopAllExperiments },
  );
}

/** The run folders to compare: VS Code passes the clicked item and the whole multi-selection. */
function compareSelection(clicked: unknown, selected: unknown, treeSelection: readonly ViewNode[]): string[] {
  const nodes = Array.isArray(selected) && selected.length ? selected : treeSelection.length ? treeSelection : [clicked];
  return [...new Set(nodes.filter(isRunEntry).filter((r) => r.state !== 'pending' && !r.problem).map((r) => r.dir))];
}

/** The newest experiment of the workspace, for "Show dashboard" with nothing chosen. */
function newestExperiment(experiments: ExperimentsProvider): DashboardSource | undefined {
  const newest = experiments.getChildren().find(isExperimentEntry);
  return newest ? { kind: 'experiment', dir: newest.dir } : undefined;
}

export function deactivate(): void {
  // Everything is disposed through context.subscriptions.
}
