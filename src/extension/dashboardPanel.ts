// The dashboard: one webview panel (createOrShow) showing an experiment, or runs compared, drawn from
// the run folders on disk (dashboardReport.ts), so closing and reopening it, or reloading the window,
// shows the same. While a variant runs, the host rebuilds the report every POLL_MS and posts it when
// it changed (the file watcher in extension.ts also asks for a refresh when a run file changes).
// The webview sends `ready` each time it loads (first open, and again after being hidden, since the
// panel does not keep its context); until then nothing is posted. It saves the source in its state,
// which the serializer reads back (checked) after a reload.
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import { PROTOCOL_VERSION, Ready, ShowReport, type DashboardSource, type ShowReportParams } from '../protocol/messages';
import { dashboardReport, runsTitle } from './dashboardReport';

/** How often a live dashboard rereads the folders (a report from files is cheap: no model loaded). */
const POLL_MS = 1000;

export class DashboardPanel {
  static readonly viewType = 'finetuneLab.dashboard';
  /** The panel commands show things in: the last one created, revived or focused. */
  private static current: DashboardPanel | undefined;
  /** Every open panel. After a reload VS Code revives a background tab only when it is shown, so a
   *  restored panel may join one opened since; both stay, both follow the folders. */
  private static readonly open = new Set<DashboardPanel>();

  private readonly disposables: vscode.Disposable[] = [];
  private ready = false;
  private lastPosted = '';
  private timer: NodeJS.Timeout | undefined;

  /** Shows `source` (or, without one, what the panel shows already) in the one dashboard panel. */
  static createOrShow(extensionUri: vscode.Uri, source?: DashboardSource): DashboardPanel {
    const current = DashboardPanel.current;
    if (current) {
      current.panel.reveal();
      if (source) current.show(source);
      return current;
    }
    const panel = vscode.window.createWebviewPanel(DashboardPanel.viewType, 'Fine-Tune Lab dashboard', vscode.ViewColumn.Active, webviewOptions(extensionUri));
    return (DashboardPanel.current = new DashboardPanel(panel, extensionUri, source));
  }

  /** Called by the serializer when VS Code restores a panel that was open before a reload. */
  static revive(panel: vscode.WebviewPanel, extensionUri: vscode.Uri, source: DashboardSource | undefined): void {
    panel.webview.options = webviewOptions(extensionUri);
    DashboardPanel.current = new DashboardPanel(panel, extensionUri, source);
  }

  /** The panel commands show things in, if any. */
  static get currentPanel(): DashboardPanel | undefined {
    return DashboardPanel.current;
  }

  /** A run file changed: every open panel rereads its folders. */
  static refreshAll(): void {
    for (const p of DashboardPanel.open) p.refresh();
  }

  static disposeAll(): void {
    for (const p of [...DashboardPanel.open]) p.dispose();
  }

  private constructor(
    private readonly panel: vscode.WebviewPanel,
    extensionUri: vscode.Uri,
    private source: DashboardSource | undefined,
  ) {
    panel.iconPath = vscode.Uri.joinPath(extensionUri, 'media', 'icon.svg');
    panel.webview.html = dashboardHtml(panel.webview, extensionUri);
    DashboardPanel.open.add(this);
    this.disposables.push(
      panel.onDidDispose(() => this.dispose()),
      panel.onDidChangeViewState(() => {
        if (!panel.visible) this.ready = false; // its document is discarded; it says `ready` again when shown
        if (panel.active) DashboardPanel.current = this;
      }),
      panel.webview.onDidReceiveMessage((message: unknown) => this.onMessage(message)),
    );
    this.setTitle();
  }

  get shown(): DashboardSource | undefined {
    return this.source;
  }

  show(source: DashboardSource): void {
    this.source = source;
    this.lastPosted = '';
    this.setTitle();
    this.refresh();
  }

  /** Rebuilds the report from the folders; posts it when it changed; keeps polling while live. */
  refresh(): void {
    if (!this.source || !this.ready) return;
    const report = dashboardReport(this.source);
    const text = JSON.stringify(report);
    if (text !== this.lastPosted) {
      this.lastPosted = text;
      void this.panel.webview.postMessage(ShowReport.create(report));
    }
    this.poll(report);
  }

  private poll(report: ShowReportParams): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = report.live ? setTimeout(() => this.refresh(), POLL_MS) : undefined;
  }

  private setTitle(): void {
    const s = this.source;
    this.panel.title = !s ? 'Fine-Tune Lab dashboard' : s.kind === 'experiment' ? `Experiment ${s.dir.split(/[\\/]/).pop()}` : runsTitle(s.runDirs);
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
    this.lastPosted = ''; // a new document: it has nothing yet
    this.refresh();
  }

  dispose(): void {
    DashboardPanel.open.delete(this);
    if (DashboardPanel.current === this) DashboardPanel.current = [...DashboardPanel.open].pop();
    if (this.timer) clearTimeout(this.timer);
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
  <title>Fine-Tune Lab dashboard</title>
</head>
<body>
  <header>
    <h1 id="title">Fine-Tune Lab dashboard</h1>
    <span id="live" class="live" hidden><vscode-progress-ring></vscode-progress-ring>live</span>
    <span class="spacer"></span>
    <vscode-checkbox id="log-scale">Log scale</vscode-checkbox>
  </header>
  <p id="subtitle" class="subtitle"></p>
  <p id="problem" class="problem" role="alert" hidden></p>
  <p id="waiting" class="waiting">Nothing to show yet. Run <b>Fine-tune model</b>, or click an experiment or a run in the Experiments view.</p>
  <div id="charts" class="charts" hidden>
    <section>
      <h2>Training loss</h2>
      <div class="chart"><canvas id="loss-chart" role="img" aria-label="Training loss by step, one line per variant"></canvas></div>
    </section>
    <section>
      <h2>Accuracy before and after</h2>
      <div class="chart"><canvas id="accuracy-chart" role="img" aria-label="Grouped bars: general and task accuracy before and after, per variant"></canvas></div>
    </section>
  </div>
  <div class="table-scroll"><table id="variants" class="variants" hidden>
    <thead><tr>
      <th>variant</th><th>status</th><th>device</th><th class="num">steps</th><th class="num">time</th><th class="num">tokens/s</th><th class="num">peak memory</th>
      <th class="num">trainable parameters</th><th class="num">general before → after</th><th class="num">task before → after</th><th class="num">forgetting</th>
    </tr></thead>
    <tbody></tbody>
  </table></div>
  <p id="notes" class="notes"></p>
  <script nonce="${nonce}" src="${script}"></script>
</body>
</html>`;
}

function makeNonce(): string {
  return randomBytes(16).toString('base64');
}
