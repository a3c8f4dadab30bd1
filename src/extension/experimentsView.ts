// The Experiments view: one item per run folder, i.e. every <workspace folder>/.ftlab/runs/<run>/config.json.
// Runs are plain files so that they can be read without the extension; this view only reads them.
import * as vscode from 'vscode';

export const RUNS_DIR = ['.ftlab', 'runs'] as const;

export interface RunEntry {
  readonly name: string;
  readonly folder: vscode.WorkspaceFolder;
  readonly configUri: vscode.Uri;
  readonly modified: number;
  /** The config's `model` field when it is a string; undefined when the config cannot be read. */
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
    const model = typeof config === 'object' && config !== null ? (config as { model?: unknown }).model : undefined;
    return { name, folder, configUri, modified, model: typeof model === 'string' ? model : undefined };
  } catch {
    return { name, folder, configUri, modified, problem: 'config.json is not valid JSON' };
  }
}
