// 'Fine-tune model': pick a dataset in the workspace. Starting a run from here comes with the trainer;
// until then the command says so plainly and starts nothing.
import * as vscode from 'vscode';
import { ensureTrustedForTraining } from './workspaceTrust';

/** Dataset formats the prepare step reads (no Parquet reader yet). */
const DATASET_GLOB = '**/*.{jsonl,json,csv,tsv,txt}';
const EXCLUDE_GLOB = '**/{node_modules,.git,.ftlab,dist,out}/**';
const MAX_LISTED = 500;

interface DatasetPick extends vscode.QuickPickItem {
  readonly uri?: vscode.Uri; // undefined: "Browse…"
}

export async function fineTune(datasetArg?: vscode.Uri): Promise<void> {
  if (!(await ensureTrustedForTraining())) return;
  if (!vscode.workspace.workspaceFolders?.length) {
    void vscode.window.showInformationMessage('Fine-Tune Lab: open a folder first; runs are stored in it under .ftlab/runs/.');
    return;
  }
  const dataset = datasetArg ?? (await pickDataset());
  if (!dataset) return;
  void vscode.window.showInformationMessage(
    `Fine-Tune Lab: dataset ${vscode.workspace.asRelativePath(dataset)} selected. Starting training from VS Code is not available yet (it arrives with the trainer); nothing was started.`,
  );
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
