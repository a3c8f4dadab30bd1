// The Experiments view: every experiment of the workspace (.ftlab/experiments/*/experiment.json) with
// its variants' runs under it, then the standalone runs (.ftlab/runs/*, `ftlab train`). Clicking an
// experiment or a run opens its dashboard; selecting two or more runs offers "Compare runs". The
// folders are read by workspaceRuns.ts (plain files, the engine's checked readers).
import * as vscode from 'vscode';
import { runsFolderOf } from './labConfiguration';
import { experimentItemParts, runItemParts } from './runItem';
import { listWorkspaceRuns, type ExperimentNode, type RunNode } from './workspaceRuns';

export type ViewNode = (ExperimentNode | RunNode) & { readonly folder: vscode.WorkspaceFolder };
export type RunEntry = RunNode & { readonly folder: vscode.WorkspaceFolder };
export type ExperimentEntry = ExperimentNode & { readonly folder: vscode.WorkspaceFolder };

export function isRunEntry(v: unknown): v is RunEntry {
  return typeof v === 'object' && v !== null && (v as { kind?: unknown }).kind === 'run' && typeof (v as { dir?: unknown }).dir === 'string';
}

export function isExperimentEntry(v: unknown): v is ExperimentEntry {
  return typeof v === 'object' && v !== null && (v as { kind?: unknown }).kind === 'experiment' && typeof (v as { dir?: unknown }).dir === 'string';
}

const REFRESH_MS = 1000;

export class ExperimentsProvider implements vscode.TreeDataProvider<ViewNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<ViewNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;

  private pending: ReturnType<typeof setTimeout> | undefined;
  private lastFired = 0;

  /** Redraws the view at most once per REFRESH_MS: a training run appends metrics many times a second,
   * and redrawing on each would reread every run folder and close a context menu the user opened. */
  refresh(): void {
    if (this.pending) return;
    const wait = Math.max(0, this.lastFired + REFRESH_MS - Date.now());
    this.pending = setTimeout(() => {
      this.pending = undefined;
      this.lastFired = Date.now();
      this.changed.fire(undefined);
    }, wait);
  }

  getChildren(element?: ViewNode): ViewNode[] {
    if (element) return element.kind === 'experiment' ? element.runs.map((r) => ({ ...r, folder: element.folder })) : [];
    const folders = vscode.workspace.workspaceFolders ?? [];
    const listed = folders.map((folder) => ({ folder, ...listWorkspaceRuns(folder.uri.fsPath, runsFolderOf(folder)) }));
    const experiments = listed.flatMap((l) => l.experiments.map((e) => ({ ...e, folder: l.folder }))).sort((a, b) => b.modified - a.modified);
    const runs = listed.flatMap((l) => l.runs.map((r) => ({ ...r, folder: l.folder }))).sort((a, b) => b.modified - a.modified);
    return [...experiments, ...runs];
  }

  /** Every run that has a folder with a config (standalone and of experiments), newest first. */
  allRuns(): RunEntry[] {
    const top = this.getChildren();
    const runs = top.flatMap((n) => (n.kind === 'experiment' ? this.getChildren(n) : [n])).filter(isRunEntry);
    return runs.filter((r) => r.state !== 'pending').sort((a, b) => b.modified - a.modified);
  }

  getTreeItem(node: ViewNode): vscode.TreeItem {
    const multiRoot = (vscode.workspace.workspaceFolders?.length ?? 0) > 1;
    const where = multiRoot && !(node.kind === 'run' && node.experimentDir) ? node.folder.name : undefined;
    const isExperiment = node.kind === 'experiment';
    const relative = vscode.workspace.asRelativePath(node.dir);
    const parts = node.kind === 'experiment' ? experimentItemParts(node, relative) : runItemParts(node, relative);
    const item = new vscode.TreeItem(parts.label, isExperiment ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.None);
    item.id = node.dir;
    item.description = [parts.description, where].filter(Boolean).join(' · ');
    item.iconPath = new vscode.ThemeIcon(parts.icon);
    const tooltip = new vscode.MarkdownString();
    const [title, ...lines] = parts.tooltip;
    tooltip.appendMarkdown(`**${title.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, '\\$&')}**\n\n`);
    tooltip.appendText(lines.join('\n'));
    if (node.modified) tooltip.appendText(`\nlast changed ${new Date(node.modified).toLocaleString()}`);
    item.tooltip = tooltip;
    item.contextValue = parts.contextValue;
    if (!node.problem && !(node.kind === 'run' && node.state === 'pending')) {
      item.command = { command: 'finetuneLab.openDashboard', title: 'Open dashboard', arguments: [node] };
    } else if (node.kind === 'run' && node.problem) {
      item.command = { command: 'vscode.open', title: 'Open run config', arguments: [vscode.Uri.joinPath(vscode.Uri.file(node.dir), 'config.json')] };
    }
    return item;
  }

  getParent(node: ViewNode): ViewNode | undefined {
    if (node.kind !== 'run' || !node.experimentDir) return undefined;
    return this.getChildren().find((n) => n.kind === 'experiment' && n.dir === node.experimentDir);
  }

  dispose(): void {
    if (this.pending) clearTimeout(this.pending);
    this.changed.dispose();
  }
}
