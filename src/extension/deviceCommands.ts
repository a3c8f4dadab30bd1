// "Check training device" (`ftlab doctor`) and "Set up CUDA" (`ftlab setup-cuda`): each runs the CLI
// in a child process (cliRun.ts), its output in the Fine-Tune Lab output channel, and ends with a
// notification in VS Code's words. Setup installs the CUDA provider build that pairs with the
// extension's own onnxruntime-node (inside the extension's folder), so the setting finetuneLab.device
// 'auto' trains on the GPU where the CUDA libraries, a driver and a GPU are there too.
import * as vscode from 'vscode';
import { autoDeviceLine, lastMessage } from './cliOutput';
import { runCli } from './cliRun';

const SETUP_TITLE = 'Fine-Tune Lab: Set up CUDA';

async function checkDevice(extensionUri: vscode.Uri, output: vscode.OutputChannel): Promise<void> {
  const { code, lines } = await runCli(extensionUri, output, ['doctor'], 'Fine-Tune Lab: checking the training device');
  const auto = autoDeviceLine(lines.join('\n'));
  if (code !== 0 || !auto) {
    void vscode.window.showErrorMessage(`Fine-Tune Lab: the device check failed: ${lastMessage(lines, 'doctor') ?? `exit code ${code}`}`, 'Show output').then((a) => a && output.show());
    return;
  }
  const onCpu = auto.startsWith('the CPU');
  const actions = onCpu && process.platform === 'linux' && process.arch === 'x64' ? ['Show output', 'Set up CUDA'] : ['Show output'];
  const picked = await vscode.window.showInformationMessage(`Fine-Tune Lab: with the device setting "auto", training runs on ${auto}`, ...actions);
  if (picked === 'Show output') output.show();
  if (picked === 'Set up CUDA') void vscode.commands.executeCommand('finetuneLab.setupCuda');
}

async function setupCuda(extensionUri: vscode.Uri, output: vscode.OutputChannel): Promise<void> {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    void vscode.window.showInformationMessage(`${SETUP_TITLE}: the CUDA provider builds that pair with this ONNX Runtime are for Linux x64; here training runs on the CPU.`);
    return;
  }
  const build = await vscode.window.showQuickPick([
    { label: 'CUDA 13', description: 'from the npm registry (~160 MB); needs the CUDA 13 libraries, cuDNN 9 and an NVIDIA driver 580 or newer', cuda: '13' },
    { label: 'CUDA 12', description: "Microsoft's NuGet build (needs api.nuget.org); for CUDA 12 libraries and an older driver", cuda: '12' },
  ], { title: `${SETUP_TITLE}: which build of the ONNX Runtime CUDA provider` });
  if (!build) return;
  const { code, lines } = await runCli(extensionUri, output, ['setup-cuda', '--cuda', build.cuda], `${SETUP_TITLE}: installing the ${build.label} provider`);
  if (code === 0) {
    const picked = await vscode.window.showInformationMessage(`${SETUP_TITLE}: the ${build.label} provider is installed and pairs with ONNX Runtime. Check whether this machine's CUDA libraries, driver and GPU are there too.`, 'Check training device');
    if (picked) void vscode.commands.executeCommand('finetuneLab.checkDevice');
  } else {
    const picked = await vscode.window.showErrorMessage(`${SETUP_TITLE}: ${lastMessage(lines, 'setup-cuda') ?? `the setup ended with code ${code}`}`, 'Show output');
    if (picked) output.show();
  }
}

export function registerDeviceCommands(extensionUri: vscode.Uri, output: vscode.OutputChannel): vscode.Disposable[] {
  return [
    vscode.commands.registerCommand('finetuneLab.checkDevice', () => checkDevice(extensionUri, output)),
    vscode.commands.registerCommand('finetuneLab.setupCuda', () => setupCuda(extensionUri, output)),
  ];
}
