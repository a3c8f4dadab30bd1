// The data half of the working surface: Prepare Q&A data (and its Problems-panel diagnostics), Run
// again with these settings, and the walkthrough's Copy the demo data.
import { dirname, join } from 'node:path';
import * as vscode from 'vscode';
import { copyDemoData } from './demoData';
import { isRunEntry } from './experimentsView';
import { pickDataset, startExperiment } from './fineTuneCommand';
import { DataProblems } from './prepareData';
import { experimentLike } from './runAgain';
import { ensureTrustedForTraining } from './workspaceTrust';

export function registerDataCommands(context: vscode.ExtensionContext, output: vscode.OutputChannel): vscode.Disposable[] {
  const problems = new DataProblems(context.workspaceState, output);
  const failed = (err: unknown) => void vscode.window.showErrorMessage(`Fine-Tune Lab: ${err instanceof Error ? err.message : String(err)}`);
  return [
    problems,
    ...problems.registrations,
    vscode.commands.registerCommand('finetuneLab.prepareData', async (uri?: unknown) => {
      if (!(await ensureTrustedForTraining())) return;
      await problems.prepare(uri instanceof vscode.Uri ? uri : undefined, () => pickDataset('Prepare Q&A data: choose a data file')).catch(failed);
    }),
    vscode.commands.registerCommand('finetuneLab.runAgain', async (node?: unknown) => {
      if (!(await ensureTrustedForTraining())) return;
      if (!isRunEntry(node)) {
        void vscode.window.showInformationMessage('Fine-Tune Lab: right-click a run in the Experiments view, then Run again with these settings.');
        return;
      }
      // New experiments go beside the run's own: <root>/experiments/<time>.
      const experimentsDir = node.experimentDir ? dirname(node.experimentDir) : join(dirname(dirname(node.dir)), 'experiments');
      const dir = join(experimentsDir, new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-'));
      try {
        await experimentLike(node.dir, node.experimentDir, dir);
      } catch (err) {
        failed(err);
        return;
      }
      await startExperiment(context.extensionUri, output, dir, { isNew: true });
    }),
    vscode.commands.registerCommand('finetuneLab.copyDemoData', async () => {
      const folder = vscode.workspace.workspaceFolders?.[0];
      if (!folder) {
        void vscode.window.showInformationMessage('Fine-Tune Lab: open a folder first; the demo data is copied into it.');
        return;
      }
      try {
        const { dataFile } = copyDemoData(folder.uri.fsPath);
        await vscode.window.showTextDocument(vscode.Uri.file(dataFile), { preview: false });
        void vscode.window.showInformationMessage(`Fine-Tune Lab: the demo data is in ${vscode.workspace.asRelativePath(dirname(dataFile))}/ (qa.jsonl, prompts.md). Next: Fine-tune model.`);
      } catch (err) {
        failed(err);
      }
    }),
  ];
}
