// One `ftlab` command run to its end in a child process of the extension host (dist/cli.js, the same
// code as in a terminal) under a progress notification, its output in the Fine-Tune Lab channel:
// Export, Check training device, Set up CUDA. Experiments have their own runner (fineTuneCommand.ts):
// they are cancellable and followed by the dashboard.
import * as vscode from 'vscode';
import { ExperimentProcess } from './experimentProcess';

/** `folder`: the run or experiment folder the command works on (where a stop request would go). */
export function runCli(extensionUri: vscode.Uri, output: vscode.OutputChannel, args: string[], title: string, folder = extensionUri.fsPath): Thenable<{ code: number | null; lines: string[] }> {
  const cli = vscode.Uri.joinPath(extensionUri, 'dist', 'cli.js').fsPath;
  const lines: string[] = [];
  output.appendLine(`$ ftlab ${args.join(' ')}`);
  return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title }, () =>
    new Promise<{ code: number | null; lines: string[] }>((resolve) => {
      new ExperimentProcess(cli, folder, {
        line: (text) => {
          lines.push(text);
          output.appendLine(text);
        },
        exit: (code) => resolve({ code, lines }),
      }, args);
    }));
}
