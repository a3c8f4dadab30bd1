// The Experiments view: one item per run folder, i.e. every <workspace folder>/.ftlab/runs/<run>/config.json.
// Runs are plain files so that they can be read without the extension; this view only reads them,
// through the engine's checked readers (config.json, status.json, metrics.jsonl).
import { sep } from 'node:path';
import * as vscode from 'vscode';
import { readMetrics, readRunConfig, readRunStatus, type RunConfig, type RunState, type StepMetrics } from '../engine';

export const RUNS_DIR = ['.ftlab', 'runs'] as const;

export interface RunEntry {
  readonly name: string;
  readonly folder: vscode.WorkspaceFolder;
  readonly configUri: vscode.Uri;
  readonly modified: number;
  /** What the run is: strategy, base model, progress and last loss (from config.json and metrics.jsonl). */
  readonly model?: string;
  /** Running, finished, stopped or failed (status.json, judged: a dead process is stopped). */
  readonly state?: RunState;
  /** Why the state is what it is (a dead process, a stale heartbeat) or the error of a failed run. */
  readonly stateDetail?: string;
  /** Set when a run file does not check: the item says what and where instead of disappearing. */
  readonly problem?: string;
}

const STATE_ICONS: Record<RunState, string> = { running: 'sync~spin', finished: 'check', stopped: 'debug-pause', failed: 'error' };

export class ExperimentsProvider implements vscode.TreeDataProvider<RunEntry>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<RunEntry | undefined>();
  readonly onDidChangeTreeData = this.changed.event;

  refresh(): void {
    this.changed.fire(undefined);
  }

  async getChildren(element?: RunEntry): Promise<RunEntry[]> {
    if (element) return [];
    const folders = vscode.workspace.workspaceFolders ?? [];
    const runs = (await Promise.all(folders.map(listRuns))).flat();
    return runs.sort((a, b) => b.modified - a.modified);
  }

  getTreeItem(run: RunEntry): vscode.TreeItem {
    const item = new vscode.TreeItem(run.name, vscode.TreeItemCollapsibleState.None);
    const multiRoot = (vscode.workspace.workspaceFolders?.length ?? 0) > 1;
    item.description = [run.problem ?? run.model, multiRoot ? run.folder.name : undefined].filter(Boolean).join(' · ');
    item.iconPath = new vscode.ThemeIcon(run.problem ? 'warning' : run.state ? STATE_ICONS[run.state] : 'beaker');
    const state = run.state ? `\n\n${run.state}${run.stateDetail ? `: ${run.stateDetail}` : ''}` : '';
    const tooltip = new vscode.MarkdownString();
    tooltip.appendMarkdown(`**${run.name}**\n\n${vscode.workspace.asRelativePath(run.configUri)}\n\nlast changed ${new Date(run.modified).toLocaleString()}`);
    tooltip.appendText(run.problem ? `\n\n${run.problem}` : state);
    item.tooltip = tooltip;
    item.resourceUri = run.configUri;
    item.contextValue = 'finetuneLab.run';
    item.command = { command: 'vscode.open', title: 'Open run config', arguments: [run.configUri] };
    return item;
  }

  dispose(): void {
    this.changed.dispose();
  }
}

async function listRuns(folder: vscode.WorkspaceFolder): Promise<RunEntry[]> {
  const runsDir = vscode.Uri.joinPath(folder.uri, ...RUNS_DIR);
  let entries: [string, vscode.FileType][];
  try {
    entries = await vscode.workspace.fs.readDirectory(runsDir);
  } catch {
    return []; // no .ftlab/runs yet
  }
  const runs = await Promise.all(
    entries
      .filter(([, type]) => (type & vscode.FileType.Directory) !== 0)
      .map(([name]) => readRun(folder, name, vscode.Uri.joinPath(runsDir, name, 'config.json'))),
  );
  return runs.filter((r): r is RunEntry => r !== undefined);
}

async function readRun(folder: vscode.WorkspaceFolder, name: string, configUri: vscode.Uri): Promise<RunEntry | undefined> {
  let modified: number;
  try {
    modified = (await vscode.workspace.fs.stat(configUri)).mtime;
  } catch {
    return undefined; // a folder without config.json is not a run
  }
  const runDir = vscode.Uri.joinPath(configUri, '..').fsPath;
  try {
    const config = readRunConfig(runDir);
    const status = readRunStatus(runDir);
    const detail = status.error?.message ?? status.reason;
    return { name, folder, configUri, modified, model: summarize(config, readMetrics(runDir).pop()), state: status.state, ...(detail ? { stateDetail: detail } : {}) };
  } catch (err) {
    // RunFolderError names the file (and line, field) and the fix; shown relative to the run.
    return { name, folder, configUri, modified, problem: (err as Error).message.split(runDir + sep).join('') };
  }
}

/** "lora · built-in · step 120/300 · loss 1.234" from what the run folder holds. */
export function summarize(config: RunConfig, last: StepMetrics | undefined): string | undefined {
  const parts: string[] = [];
  if (config.strategy) parts.push(config.strategy);
  const base = config.baseModel;
  if (base?.builtin === true) parts.push('built-in');
  else if (base) parts.push(base.dir.split(/[\\/]/).filter(Boolean).pop() ?? base.dir);
  if (last) parts.push(`step ${last.step}/${config.training.totalSteps}`, `loss ${last.loss.toFixed(3)}`);
  return parts.length ? parts.join(' · ') : undefined;
}
