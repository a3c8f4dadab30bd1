// The Experiments view: one item per run folder, i.e. every <workspace folder>/.ftlab/runs/<run>/config.json.
// Runs are plain files so that they can be read without the extension; this view only reads them.
import * as vscode from 'vscode';

export const RUNS_DIR = ['.ftlab', 'runs'] as const;

export interface RunEntry {
  readonly name: string;
  readonly folder: vscode.WorkspaceFolder;
  readonly configUri: vscode.Uri;
  readonly modified: number;
  /** What the run is: strategy, base model, progress and last loss (from config.json and metrics.jsonl). */
  readonly model?: string;
  /** Set when config.json is not valid JSON: the item says so instead of disappearing. */
  readonly problem?: string;
}

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
    item.iconPath = new vscode.ThemeIcon(run.problem ? 'warning' : 'beaker');
    item.tooltip = new vscode.MarkdownString(
      `**${run.name}**\n\n${vscode.workspace.asRelativePath(run.configUri)}\n\nlast changed ${new Date(run.modified).toLocaleString()}`,
    );
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
  let text: string;
  try {
    modified = (await vscode.workspace.fs.stat(configUri)).mtime;
    text = new TextDecoder().decode(await vscode.workspace.fs.readFile(configUri));
  } catch {
    return undefined; // a folder without config.json is not a run
  }
  try {
    const config: unknown = JSON.parse(text);
    let metrics = '';
    try {
      metrics = new TextDecoder().decode(await vscode.workspace.fs.readFile(vscode.Uri.joinPath(configUri, '..', 'metrics.jsonl')));
    } catch {
      // not started yet
    }
    return { name, folder, configUri, modified, model: summarize(config, metrics) };
  } catch {
    return { name, folder, configUri, modified, problem: 'config.json is not valid JSON' };
  }
}

interface RunConfigView {
  model?: unknown;
  strategy?: unknown;
  baseModel?: { dir?: unknown; builtin?: unknown; family?: unknown };
  training?: { totalSteps?: unknown };
}

/** "lora · built-in · step 120/300 · loss 1.234" from what the run folder holds. */
export function summarize(config: unknown, metricsJsonl: string): string | undefined {
  if (typeof config !== 'object' || config === null) return undefined;
  const c = config as RunConfigView;
  if (typeof c.model === 'string') return c.model;
  const parts: string[] = [];
  if (typeof c.strategy === 'string') parts.push(c.strategy);
  const base = c.baseModel;
  if (base?.builtin === true) parts.push('built-in');
  else if (typeof base?.dir === 'string') parts.push(base.dir.split(/[\\/]/).filter(Boolean).pop() ?? base.dir);
  const last = metricsJsonl.trim().split('\n').pop();
  if (last) {
    try {
      const m = JSON.parse(last) as { step?: unknown; loss?: unknown };
      if (typeof m.step === 'number') parts.push(`step ${m.step}${typeof c.training?.totalSteps === 'number' ? `/${c.training.totalSteps}` : ''}`);
      if (typeof m.loss === 'number') parts.push(`loss ${m.loss.toFixed(3)}`);
    } catch {
      // a line being written
    }
  }
  return parts.length ? parts.join(' · ') : undefined;
}
