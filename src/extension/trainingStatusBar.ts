// The status bar item while a run trains: "$(sync~spin) full 1/2 · step 12/40 · loss 2.314 · ETA 0:35";
// a click opens the run's dashboard. It follows every run in progress in the workspace's folders
// (started here, in another window or in a terminal), read from the run folders on each refresh (the
// file watcher) and every POLL_MS while something trains (a watcher may miss events).
import * as vscode from 'vscode';
import { TrainingMonitor, formatEta, progressText, type RunProgress } from './trainingProgress';
import type { WorkspaceRuns } from './workspaceRuns';

/** One per extension host: the status bar, the progress notifications and the view read it. */
export const trainingMonitor = new TrainingMonitor();

const POLL_MS = 2_000;

export class TrainingStatusBar implements vscode.Disposable {
  /** Disposed with this object; also in context.subscriptions (the manifest test checks every created item is). */
  readonly item = vscode.window.createStatusBarItem('finetuneLab.training', vscode.StatusBarAlignment.Left, 50);
  private timer: NodeJS.Timeout | undefined;
  private readonly onChange = (runs: readonly RunProgress[]) => this.show(runs);

  constructor(private readonly listRuns: () => WorkspaceRuns[]) {
    this.item.name = 'Fine-Tune Lab: training';
    trainingMonitor.on('change', this.onChange);
  }

  /** Reads the folders again; polls while a run is in progress. */
  refresh(): void {
    let runs: readonly RunProgress[] = [];
    try {
      runs = trainingMonitor.update(this.listRuns());
    } catch {
      // a folder being deleted under us: the next refresh reads it again
    }
    if (runs.length && !this.timer) this.timer = setInterval(() => this.refresh(), POLL_MS);
    if (!runs.length && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  private show(runs: readonly RunProgress[]): void {
    const first = runs[0];
    if (!first) {
      this.item.hide();
      return;
    }
    const more = runs.length > 1 ? ` (+${runs.length - 1} more)` : '';
    this.item.text = `$(sync~spin) ${progressText(first)}${more}`;
    const tooltip = new vscode.MarkdownString();
    tooltip.appendMarkdown('**Fine-Tune Lab: training**\n\n');
    tooltip.appendText(runs.map((r) => {
      const where = vscode.workspace.asRelativePath(r.dir);
      const eta = r.etaSeconds !== undefined ? `, about ${formatEta(r.etaSeconds)} left` : '';
      return `${where}: ${r.state === 'evaluating' ? 'measuring after training' : `step ${r.step} of ${r.totalSteps}${eta}`}`;
    }).join('\n'));
    tooltip.appendMarkdown('\n\nClick to open its dashboard.');
    this.item.tooltip = tooltip;
    this.item.command = {
      command: 'finetuneLab.openDashboard', title: 'Open dashboard',
      arguments: [first.experimentDir ? { kind: 'experiment', dir: first.experimentDir } : { kind: 'run', dir: first.dir }],
    };
    this.item.show();
  }

  dispose(): void {
    trainingMonitor.off('change', this.onChange);
    if (this.timer) clearInterval(this.timer);
    this.item.dispose();
  }
}
