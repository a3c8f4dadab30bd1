// Training loads tokenizer and model files from the workspace and runs native code (ONNX Runtime,
// tokenizers) on them, so it is off in Restricted Mode. package.json declares limited support:
// the extension still activates there, lists runs, and says why training is off.
import * as vscode from 'vscode';

export const RESTRICTED_MODE_MESSAGE =
  'Fine-Tune Lab: training is off in Restricted Mode. It reads tokenizer and model files from this workspace and runs native code (ONNX Runtime) on them, so it needs a trusted workspace. Trust the workspace to train; the Experiments view still lists runs.';

/** Returns true when training may start; otherwise explains why not and offers to manage trust. */
export async function ensureTrustedForTraining(): Promise<boolean> {
  if (vscode.workspace.isTrusted) return true;
  const manage = 'Manage Workspace Trust';
  const choice = await vscode.window.showWarningMessage(RESTRICTED_MODE_MESSAGE, manage);
  if (choice === manage) await vscode.commands.executeCommand('workbench.trust.manage');
  return false;
}
