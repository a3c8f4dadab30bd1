// "Export run": a run's trained weights as a Hugging Face model folder (LoRA adapters merged, the
// best weights when early stopping ended it), written into <run>/exported-hf, through the engine's
// own export (the same as `ftlab export --format hf`).

import { join } from 'node:path';
import * as vscode from 'vscode';
import { loadTrainedRun, saveRunAsHf } from '../engine';
import { ExperimentsProvider, RunEntry } from './experimentsView';

export async function exportRun(experiments: ExperimentsProvider, entry?: RunEntry): Promise<void> {
  const run = entry ?? (await pickRun(experiments));
  if (!run) return;
  const runDir = run.dir;
  const out = join(runDir, 'exported-hf');
  try {
    await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Fine-Tune Lab: exporting ${run.name}` }, async () => {
      await saveRunAsHf(await loadTrainedRun(runDir), out);
    });
    const reveal = await vscode.window.showInformationMessage(`Fine-Tune Lab: exported ${run.name} as a Hugging Face model folder: ${vscode.workspace.asRelativePath(out)}`, 'Reveal');
    if (reveal) void vscode.commands.executeCommand('revealInExplorer', vscode.Uri.file(out));
  } catch (err) {
    void vscode.window.showErrorMessage(`Fine-Tune Lab: ${(err as Error).message}`);
  }
}

async function pickRun(experiments: ExperimentsProvider): Promise<RunEntry | undefined> {
  const runs = experiments.allRuns().filter((r) => !r.problem);
  if (!runs.length) {
    void vscode.window.showInformationMessage('Fine-Tune Lab: no runs yet in .ftlab (Fine-tune model makes one).');
    return undefined;
  }
  const label = (r: RunEntry) => (r.experimentDir ? `${r.experimentDir.split(/[\\/]/).pop()}/${r.name}` : r.name);
  const picked = await vscode.window.showQuickPick(runs.map((r) => ({ label: label(r), description: r.summary, run: r })), { title: 'Export run' });
  return picked?.run;
}
