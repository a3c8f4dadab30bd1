// Inline prompt testing: a CodeLens on `Q:` lines (and a command for a selection) answers the prompt
// with the base model and with the newest fine-tuned run of the workspace, shown after the line.
// Generation runs in the training worker (a worker_thread), never on the extension host's thread.

import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import * as vscode from 'vscode';
import { readRunConfig } from '../engine';
import { Generate, PROTOCOL_VERSION, Ready } from '../protocol/messages';
import { allRunNodes, listWorkspaceRuns } from './workspaceRuns';
import { ensureTrustedForTraining } from './workspaceTrust';

const Q_LINE = /^\s*Q:\s*\S/;

export class PromptLensProvider implements vscode.CodeLensProvider {
  provideCodeLenses(doc: vscode.TextDocument): vscode.CodeLens[] {
    const lenses: vscode.CodeLens[] = [];
    for (let i = 0; i < doc.lineCount; i++) {
      if (Q_LINE.test(doc.lineAt(i).text)) lenses.push(new vscode.CodeLens(doc.lineAt(i).range));
    }
    return lenses;
  }

  resolveCodeLens(lens: vscode.CodeLens): vscode.CodeLens {
    lens.command = { title: '$(beaker) Test prompt: base vs fine-tuned', command: 'finetuneLab.testPrompt', arguments: [lens.range.start.line] };
    return lens;
  }
}

interface RunRef { dir: string; name: string; baseModel: string; }

/** The newest run of the workspace (standalone or of an experiment) that has a checkpoint, with its base model. */
function newestRun(): RunRef | undefined {
  let best: (RunRef & { time: number }) | undefined;
  for (const folder of vscode.workspace.workspaceFolders ?? []) {
    for (const run of allRunNodes(listWorkspaceRuns(folder.uri.fsPath))) {
      const state = join(run.dir, 'checkpoint', 'trainer_state.json');
      if (run.problem || !existsSync(state)) continue;
      try {
        const cfg = readRunConfig(run.dir);
        const time = statSync(state).mtimeMs;
        const name = run.experimentDir ? `${run.experimentDir.split(/[\\/]/).pop()}/${run.name}` : run.name;
        if (cfg.baseModel && (!best || time > best.time)) best = { dir: run.dir, name, baseModel: cfg.baseModel.builtin ? 'builtin' : cfg.baseModel.dir, time };
      } catch {
        // not a fine-tuning run this release can read (the Experiments view shows why)
      }
    }
  }
  return best;
}

/** How answers show after the prompt's line. */
export function answerDecoration(): vscode.TextEditorDecorationType {
  return vscode.window.createTextEditorDecorationType({
    after: { color: new vscode.ThemeColor('editorCodeLens.foreground'), margin: '0 0 0 2em', fontStyle: 'italic' },
  });
}

export class PromptTester implements vscode.Disposable {
  private worker: Worker | undefined;
  private ready: Promise<void> | undefined;
  private nextId = 1;
  /** The decoration type belongs to the caller (it goes into context.subscriptions there). */
  constructor(private readonly extensionUri: vscode.Uri, private readonly decoration: vscode.TextEditorDecorationType) {}

  private start(): Promise<void> {
    if (!this.ready) {
      this.worker = new Worker(vscode.Uri.joinPath(this.extensionUri, 'dist', 'worker.js').fsPath);
      const w = this.worker;
      this.ready = new Promise((resolve, reject) => {
        w.once('error', reject);
        w.on('message', (m: unknown) => {
          if (Ready.is(m)) (m.params.protocol === PROTOCOL_VERSION ? resolve() : reject(new Error('the worker speaks another protocol version: reinstall the extension')));
        });
      });
    }
    return this.ready;
  }

  private async ask(model: string, run: string | undefined, prompt: string): Promise<string> {
    await this.start();
    const id = this.nextId++;
    const w = this.worker!;
    return new Promise((resolve, reject) => {
      const on = (m: unknown) => {
        if (!Generate.isResponse(m) || m.id !== id) return;
        w.off('message', on);
        if ('error' in m) reject(new Error(m.error.message)); else resolve(m.result.text);
      };
      w.on('message', on);
      w.postMessage(Generate.create(id, { model, run, prompt }));
    });
  }

  /** Answers the prompt on `line` (a CodeLens) or the selection / current line of the active editor. */
  async test(line?: number): Promise<void> {
    if (!(await ensureTrustedForTraining())) return;
    const editor = vscode.window.activeTextEditor;
    if (!editor) return;
    const doc = editor.document;
    const at = line ?? editor.selection.active.line;
    const text = line === undefined && !editor.selection.isEmpty ? doc.getText(editor.selection) : doc.lineAt(at).text;
    const question = text.trim();
    if (!question) return;
    // The template the runs trained on: "Q: {question}\nA: {answer}".
    const prompt = /^Q:/.test(question) ? `${question}\nA:` : question;
    const run = newestRun();
    const base = run?.baseModel ?? 'builtin';
    const endLine = line === undefined && !editor.selection.isEmpty ? editor.selection.end.line : at;
    const range = doc.lineAt(endLine).range;
    const show = (msg: string) => editor.setDecorations(this.decoration, [{ range, renderOptions: { after: { contentText: msg } } }]);
    show('  … generating');
    try {
      const answers = [`base: ${(await this.ask(base, undefined, prompt)).trim() || '(nothing)'}`];
      if (run) answers.push(`fine-tuned (${run.name}): ${(await this.ask(base, run.dir, prompt)).trim() || '(nothing)'}`);
      else answers.push('no fine-tuned run yet (Fine-tune model)');
      show(`  → ${answers.join('  ·  ')}`);
      // The inline text is CSS-rendered (screen readers miss it): say it in a notification too.
      void vscode.window.showInformationMessage(`Fine-Tune Lab: ${question} → ${answers.join(' · ')}`);
    } catch (err) {
      show('');
      void vscode.window.showErrorMessage(`Fine-Tune Lab: ${(err as Error).message}`);
    }
  }

  dispose(): void {
    void this.worker?.terminate();
  }
}
