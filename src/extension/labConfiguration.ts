// The settings as VS Code holds them now (labSettings.ts reads and checks them). A value that does
// not check is said once per distinct problem, naming the setting, and its default is used.
import * as vscode from 'vscode';
import { SETTINGS_SECTION, readLabSettings, runsRoot, type LabSettings } from './labSettings';

const said = new Set<string>();

export function currentSettings(scope?: vscode.ConfigurationScope): LabSettings {
  const config = vscode.workspace.getConfiguration(SETTINGS_SECTION, scope);
  const { settings, problems } = readLabSettings((key) => config.get(key));
  for (const p of problems.filter((x) => !said.has(x))) {
    said.add(p);
    void vscode.window.showWarningMessage(`Fine-Tune Lab: the setting ${p}.`, 'Open Settings').then((open) => {
      if (open) void vscode.commands.executeCommand('workbench.action.openSettings', p.split(' ')[0]);
    });
  }
  return settings;
}

/** The folder holding experiments/ and runs/ of a workspace folder (finetuneLab.runsFolder). */
export function runsFolderOf(folder: vscode.WorkspaceFolder): string {
  return runsRoot(folder.uri.fsPath, currentSettings(folder.uri));
}
