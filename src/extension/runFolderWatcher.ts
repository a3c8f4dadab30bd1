// Watches the files of the runs folders (finetuneLab.runsFolder of each workspace folder) whose
// changes the view, the dashboard and the status bar show: an experiment or a run appearing, its
// status, each logged step and evaluation, a label, a stop request; not checkpoints. The watchers are
// made again when the setting or the workspace folders change.
import { isAbsolute, relative, sep } from 'node:path';
import * as vscode from 'vscode';
import { runsFolderOf } from './labConfiguration';

const FILES = '{experiment.json,baseline.json,report.json,config.json,status.json,metrics.jsonl,eval_metrics.jsonl,outcome.json,label.json,stop-request.json}';

export class RunFolderWatcher implements vscode.Disposable {
  private watchers: vscode.Disposable[] = [];
  private readonly subscriptions: vscode.Disposable[];

  constructor(private readonly onChange: () => void) {
    this.subscriptions = [
      vscode.workspace.onDidChangeWorkspaceFolders(() => this.watch()),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('finetuneLab.runsFolder')) this.watch();
      }),
    ];
    this.watch();
  }

  private watch(): void {
    for (const w of this.watchers) w.dispose();
    this.watchers = (vscode.workspace.workspaceFolders ?? []).flatMap((folder) => {
      // Inside the workspace folder: a pattern relative to it, served by the workspace's own watcher
      // (the runs folder may not exist yet); outside it, a watcher of that folder.
      const runs = runsFolderOf(folder);
      const inside = relative(folder.uri.fsPath, runs);
      const pattern = inside.startsWith('..') || isAbsolute(inside)
        ? new vscode.RelativePattern(vscode.Uri.file(runs), `**/${FILES}`)
        : new vscode.RelativePattern(folder, `${inside.split(sep).join('/')}/**/${FILES}`);
      const watcher = vscode.workspace.createFileSystemWatcher(pattern);
      return [watcher, watcher.onDidCreate(this.onChange), watcher.onDidChange(this.onChange), watcher.onDidDelete(this.onChange)];
    });
    this.onChange();
  }

  dispose(): void {
    for (const d of [...this.watchers, ...this.subscriptions]) d.dispose();
  }
}
