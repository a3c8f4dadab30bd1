// What the Experiments view does with an experiment or a run (its context menu and inline icons):
// Stop, Export, Reveal in explorer, Rename, Delete. (Resume is "Resume experiment" in extension.ts:
// a run resumes as part of its experiment.) Each command takes the clicked item, or asks for one when
// run from the palette.
//
// Stop asks the trainer to stop at its next step boundary (stop-request.json in the folder; the
// checkpoint is saved there), for runs this window started and for `ftlab` runs started in a terminal
// alike; a child process of this window is also ended if it is still there after a grace period.
// Export runs `ftlab export` in a child process (cliRun.ts), so a crash cannot take the host down.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { labelProblem, requestStop, writeRunLabel } from '../engine';
import { lastMessage } from './cliOutput';
import { runCli } from './cliRun';
import { ExperimentsProvider, isExperimentEntry, isRunEntry, type RunEntry, type ViewNode } from './experimentsView';
import { STOPPED_BY, stopExperimentInWindow } from './fineTuneCommand';

export type ExportFormat = 'hf' | 'onnx' | 'peft';

interface FormatChoice extends vscode.QuickPickItem { readonly format: ExportFormat; }

/** Where each format is written, inside the run folder. */
export const EXPORT_FOLDERS: Record<ExportFormat, string> = { hf: 'exported-hf', onnx: 'exported-onnx', peft: 'exported-peft' };

const FORMAT_WORDS: Record<ExportFormat, string> = { hf: 'a Hugging Face model folder', onnx: 'an ONNX model', peft: 'a PEFT adapter' };

function isNode(v: unknown): v is ViewNode {
  return isRunEntry(v) || isExperimentEntry(v);
}

const shownName = (n: ViewNode) => n.label ?? n.name;

export function registerRunActions(extensionUri: vscode.Uri, experiments: ExperimentsProvider, output: vscode.OutputChannel): vscode.Disposable[] {
  const refresh = () => experiments.refresh();
  return [
    vscode.commands.registerCommand('finetuneLab.stopRun', (node?: unknown) => stop(isNode(node) ? node : undefined, refresh)),
    vscode.commands.registerCommand('finetuneLab.exportRun', (node?: unknown) => exportRun(extensionUri, experiments, output, isRunEntry(node) ? node : undefined)),
    vscode.commands.registerCommand('finetuneLab.revealRun', (node?: unknown) => {
      if (isNode(node)) void vscode.commands.executeCommand('revealInExplorer', vscode.Uri.file(node.dir));
    }),
    vscode.commands.registerCommand('finetuneLab.renameRun', (node?: unknown) => rename(isNode(node) ? node : undefined, refresh)),
    vscode.commands.registerCommand('finetuneLab.deleteRun', (node?: unknown) => remove(isNode(node) ? node : undefined, refresh)),
  ];
}

async function stop(node: ViewNode | undefined, refresh: () => void): Promise<void> {
  if (!node) {
    void vscode.window.showInformationMessage('Fine-Tune Lab: right-click a run in training in the Experiments view, then Stop.');
    return;
  }
  // A variant stops with its experiment (otherwise the experiment would go on to the next variant).
  const dir = node.kind === 'run' ? node.experimentDir ?? node.dir : node.dir;
  try {
    if (!stopExperimentInWindow(dir)) requestStop(dir, STOPPED_BY);
  } catch (err) {
    void vscode.window.showErrorMessage(`Fine-Tune Lab: could not ask ${shownName(node)} to stop: ${(err as Error).message}`);
    return;
  }
  refresh();
  void vscode.window.showInformationMessage(`Fine-Tune Lab: ${shownName(node)} stops at its next step boundary; its checkpoint is saved there, and Resume continues from it.`);
}

async function rename(node: ViewNode | undefined, refresh: () => void): Promise<void> {
  if (!node || (node.kind === 'run' && node.state === 'pending')) return;
  const value = await vscode.window.showInputBox({
    title: `Rename ${node.kind === 'experiment' ? 'experiment' : 'run'} ${shownName(node)}`,
    prompt: `A label shown in the Experiments view; the folder keeps its name (${node.name}). Empty: show the folder's name again.`,
    value: node.label ?? node.name,
    validateInput: labelProblem,
  });
  if (value === undefined) return;
  try {
    writeRunLabel(node.dir, value === node.name ? '' : value);
  } catch (err) {
    void vscode.window.showErrorMessage(`Fine-Tune Lab: could not rename ${shownName(node)}: ${(err as Error).message}`);
  }
  refresh();
}

async function remove(node: ViewNode | undefined, refresh: () => void): Promise<void> {
  if (!node) return;
  if (node.state === 'running' || node.state === 'evaluating') {
    void vscode.window.showInformationMessage(`Fine-Tune Lab: ${shownName(node)} is in training; stop it first, then delete it.`);
    return;
  }
  const what = node.kind === 'experiment'
    ? `the experiment ${shownName(node)} with its ${node.runs.length} run${node.runs.length === 1 ? '' : 's'}`
    : `the run ${shownName(node)}`;
  const detail = node.kind === 'run' && node.experimentDir
    ? `Its folder ${vscode.workspace.asRelativePath(node.dir)} goes to the trash; resuming the experiment trains this variant again from the start.`
    : `Its folder ${vscode.workspace.asRelativePath(node.dir)} goes to the trash.`;
  const ok = await vscode.window.showWarningMessage(`Delete ${what}?`, { modal: true, detail }, 'Move to Trash');
  if (ok !== 'Move to Trash') return;
  const uri = vscode.Uri.file(node.dir);
  try {
    await vscode.workspace.fs.delete(uri, { recursive: true, useTrash: true });
  } catch (err) {
    // A remote or web file system may have no trash: say so and ask again.
    const forever = await vscode.window.showWarningMessage(
      `The trash cannot take ${what} (${(err as Error).message}). Delete it permanently?`, { modal: true }, 'Delete Permanently');
    if (forever !== 'Delete Permanently') return;
    try {
      await vscode.workspace.fs.delete(uri, { recursive: true, useTrash: false });
    } catch (err2) {
      void vscode.window.showErrorMessage(`Fine-Tune Lab: could not delete ${vscode.workspace.asRelativePath(node.dir)}: ${(err2 as Error).message}`);
      return;
    }
  }
  refresh();
  void vscode.window.showInformationMessage(`Fine-Tune Lab: deleted ${what}.`);
}

async function pickRun(experiments: ExperimentsProvider): Promise<RunEntry | undefined> {
  const runs = experiments.allRuns().filter((r) => !r.problem);
  if (!runs.length) {
    void vscode.window.showInformationMessage('Fine-Tune Lab: no runs yet (Fine-tune model makes one).');
    return undefined;
  }
  const label = (r: RunEntry) => (r.experimentDir ? `${r.experimentDir.split(/[\\/]/).pop()}/${shownName(r)}` : shownName(r));
  const picked = await vscode.window.showQuickPick(runs.map((r) => ({ label: label(r), description: r.summary, run: r })), { title: 'Export run' });
  return picked?.run;
}

/** Exports a run through `ftlab export` in a child process; the format is picked (PEFT for LoRA runs). */
export async function exportRun(extensionUri: vscode.Uri, experiments: ExperimentsProvider, output: vscode.OutputChannel, entry?: RunEntry): Promise<void> {
  const run = entry ?? (await pickRun(experiments));
  if (!run) return;
  const formats: FormatChoice[] = [
    { format: 'hf', label: 'Hugging Face model folder', description: 'config.json, model.safetensors, tokenizer: transformers loads it', detail: `into ${EXPORT_FOLDERS.hf}/ (LoRA adapters merged)` },
    { format: 'onnx', label: 'ONNX model', description: 'an inference model with a KV cache for plain ONNX Runtime', detail: `into ${EXPORT_FOLDERS.onnx}/model.onnx` },
  ];
  if (run.details?.lora) formats.push({ format: 'peft', label: 'PEFT adapter', description: 'the LoRA adapters alone (adapter_config.json, adapter_model.safetensors)', detail: `into ${EXPORT_FOLDERS.peft}/` });
  const picked = await vscode.window.showQuickPick(formats, { title: `Export ${shownName(run)} as` });
  if (!picked) return;
  const out = join(run.dir, EXPORT_FOLDERS[picked.format]);
  const { code, lines } = await runCli(extensionUri, output, ['export', '--run', run.dir, '--format', picked.format, '--out', out],
    `Fine-Tune Lab: exporting ${shownName(run)} as ${FORMAT_WORDS[picked.format]}`, run.dir);
  if (code === 0 && existsSync(out)) {
    const reveal = await vscode.window.showInformationMessage(`Fine-Tune Lab: exported ${shownName(run)} as ${FORMAT_WORDS[picked.format]}: ${vscode.workspace.asRelativePath(out)}`, 'Reveal');
    if (reveal) void vscode.commands.executeCommand('revealInExplorer', vscode.Uri.file(out));
  } else {
    // `ftlab export: <what is wrong>` is the last line the CLI writes on an error.
    const last = lastMessage(lines, 'export') ?? `the export process ended with code ${code}`;
    void vscode.window.showErrorMessage(`Fine-Tune Lab: could not export ${shownName(run)}: ${last}`);
  }
}
