// The training dashboard: one webview panel (createOrShow), restored after a reload by a serializer.
// The webview's script sends `ready` each time it loads (first open, and again after being hidden,
// since the panel does not keep its context); until then nothing is posted, and on `ready` it gets
// the current run so far in one `reset` batch.
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import { Metrics, PROTOCOL_VERSION, Ready, type MetricsParams } from '../protocol/messages';

interface RunSoFar {
  runId: string;
  steps: MetricsParams['steps'][number][];
  evals: MetricsParams['evals'][number][];
}

export class DashboardPanel {
  static readonly viewType = 'finetuneLab.dashboard';
  private static current: DashboardPanel | undefined;

  private readonly disposables: vscode.Disposable[] = [];
  private ready = false;
  private run: RunSoFar | undefined;

  static createOrShow(extensionUri: vscode.Uri): DashboardPanel {
    if (DashboardPanel.current) {
      DashboardPanel.current.panel.reveal();
      return DashboardPanel.current;
    }
    const panel = vscode.window.createWebviewPanel(
      DashboardPanel.viewType,
      'Training dashboard',
      vscode.ViewColumn.Active,
      webviewOptions(extensionUri),
    );
    return (DashboardPanel.current = new DashboardPanel(panel, extensionUri));
  }

  /** Called by the serializer when VS Code restores a panel that was open before a reload. */
  static revive(panel: vscode.WebviewPanel, extensionUri: vscode.Uri): void {
    DashboardPanel.current?.dispose();
    panel.webview.options = webviewOptions(extensionUri);
    DashboardPanel.current = new DashboardPanel(panel, extensionUri);
  }

  /** The open panel, if any: where a running training's metrics go. */
  static get currentPanel(): DashboardPanel | undefined {
    return DashboardPanel.current;
  }

  static disposeCurrent(): void {
    DashboardPanel.current?.dispose();
  }

  private constructor(
    private readonly panel: vscode.WebviewPanel,
    extensionUri: vscode.Uri,
  ) {
    panel.iconPath = vscode.Uri.joinPath(extensionUri, 'media', 'icon.svg');
    panel.webview.html = dashboardHtml(panel.webview, extensionUri);
    this.disposables.push(
      panel.onDidDispose(() => this.dispose()),
      panel.onDidChangeViewState(() => {
        if (!panel.visible) this.ready = false; // its document is discarded; it says `ready` again when shown
      }),
      panel.webview.onDidReceiveMessage((message: unknown) => this.onMessage(message)),
    );
  }

  /** Shows a batch of a run's metrics; a new runId (or reset) starts the curves over. */
  showMetrics(batch: MetricsParams): void {
    if (batch.reset || batch.runId !== this.run?.runId) this.run = { runId: batch.runId, steps: [], evals: [] };
    this.run.steps.push(...batch.steps);
    this.run.evals.push(...batch.evals);
    if (this.ready) void this.panel.webview.postMessage(Metrics.create(batch));
  }

  private onMessage(message: unknown): void {
    if (!Ready.is(message)) return;
    if (message.params.protocol !== PROTOCOL_VERSION) {
      void vscode.window.showErrorMessage(
        `Fine-Tune Lab: the dashboard speaks protocol ${message.params.protocol}, the extension ${PROTOCOL_VERSION}. Rebuild (npm run build) or reinstall the extension.`,
      );
      return;
    }
    this.ready = true;
    if (this.run) void this.panel.webview.postMessage(Metrics.create({ ...this.run, reset: true }));
  }

  dispose(): void {
    if (DashboardPanel.current === this) DashboardPanel.current = undefined;
    this.panel.dispose();
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}

function webviewOptions(extensionUri: vscode.Uri): vscode.WebviewOptions {
  return {
    enableScripts: true,
    localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist', 'webview'), vscode.Uri.joinPath(extensionUri, 'media')],
  };
}

function dashboardHtml(webview: vscode.Webview, extensionUri: vscode.Uri): string {
  const script = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', 'webview', 'dashboard.js'));
  const style = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'media', 'dashboard.css'));
  const nonce = makeNonce();
  const csp = [
    "default-src 'none'",
    `img-src ${webview.cspSource} data:`,
    // The nonce lets the UI toolkit's one probe <style> element in (FAST's focus-visible check,
    // which reads the nonce from the csp-nonce meta tag); everything else is our stylesheet.
    `style-src ${webview.cspSource} 'nonce-${nonce}'`,
    `font-src ${webview.cspSource}`,
    `script-src 'nonce-${nonce}'`,
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="UTF-8">
  <meta http-equiv="Content-Security-Policy" content="${csp}">
  <meta property="csp-nonce" content="${nonce}">
  <meta name="viewport" content="width=device-width, initial-scale=1.0">
  <link rel="stylesheet" href="${style}">
  <title>Training dashboard</title>
</head>
<body>
  <header>
    <h1>Training dashboard</h1>
    <span id="run" class="run"></span>
    <vscode-checkbox id="log-scale">Log scale</vscode-checkbox>
  </header>
  <p id="stats" class="stats" role="status" aria-live="polite"></p>
  <table id="accuracy" class="accuracy" hidden>
    <caption>Accuracy on held-out data, measured by generation (greedy, exact match)</caption>
    <thead><tr><th>task</th><th>before</th><th>after</th><th></th></tr></thead>
    <tbody></tbody>
  </table>
  <p id="waiting" class="waiting">No run is reporting yet: loss curves appear here while a run trains.</p>
  <div class="chart"><canvas id="loss-chart" role="img" aria-label="Loss by training step"></canvas></div>
  <script nonce="${nonce}" src="${script}"></script>
</body>
</html>`;
}

function makeNonce(): string {
  return randomBytes(16).toString('base64');
}
