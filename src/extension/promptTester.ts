// Inline prompt testing: a CodeLens on `Q:` lines and on the records of .jsonl data files (and a
// command for a selection or the current line) answers the prompt with the base model and with the
// runs chosen for prompt tests (by default the newest run), side by side after the line: streamed as
// tokens come, cancellable, with the evaluation decoding setting (greedy, or top-p 0.9 / temperature
// 0.7 / 20 tokens). Each tested line keeps its answers (a hover shows them whole) until its document
// changes its line count. Generation runs in a child process (workerProcess.ts): a crash there fails
// the test with what happened, and the next test starts a new process.

import * as vscode from 'vscode';
import { readRunConfig } from '../engine';
import { CancelGenerate, Generate, GenerateProgress, type GenerateDecoding } from '../protocol/messages';
import { currentSettings, runsFolderOf } from './labConfiguration';
import { promptOfLine, promptOfText, shortened } from './promptLine';
import { WorkerProcess } from './workerProcess';
import { allRunNodes, listWorkspaceRuns, type RunNode } from './workspaceRuns';
import { ensureTrustedForTraining } from './workspaceTrust';

export const PROMPT_SELECTOR: vscode.DocumentSelector = [{ scheme: 'file' }, { scheme: 'untitled' }];

export class PromptLensProvider implements vscode.CodeLensProvider {
  provideCodeLenses(doc: vscode.TextDocument): vscode.CodeLens[] {
    const lenses: vscode.CodeLens[] = [];
    // Data files can be long: a lens per record up to this many lines.
    const last = Math.min(doc.lineCount, 5_000);
    for (let i = 0; i < last; i++) {
      if (promptOfLine(doc.lineAt(i).text)) lenses.push(new vscode.CodeLens(doc.lineAt(i).range));
    }
    return lenses;
  }

  resolveCodeLens(lens: vscode.CodeLens): vscode.CodeLens {
    lens.command = { title: '$(beaker) Test prompt: base vs fine-tuned', command: 'finetuneLab.testPrompt', arguments: [lens.range.start.line] };
    return lens;
  }
}

interface RunRef { readonly dir: string; readonly name: string; readonly baseModel: string; }

function runRef(run: RunNode): RunRef | undefined {
  if (run.problem || !run.details?.hasCheckpoint) return undefined;
  try {
    const cfg = readRunConfig(run.dir);
    if (!cfg.baseModel) return undefined;
    const name = run.experimentDir ? `${run.experimentDir.split(/[\\/]/).pop()}/${run.label ?? run.name}` : run.label ?? run.name;
    return { dir: run.dir, name, baseModel: cfg.baseModel.builtin ? 'builtin' : cfg.baseModel.dir };
  } catch {
    return undefined; // not a run this release can read (the Experiments view shows why)
  }
}

/** Every run of the workspace with a checkpoint, newest first. */
function testableRuns(): (RunRef & { modified: number })[] {
  const runs: (RunRef & { modified: number })[] = [];
  for (const folder of vscode.workspace.workspaceFolders ?? []) {
    for (const run of allRunNodes(listWorkspaceRuns(folder.uri.fsPath, runsFolderOf(folder)))) {
      const ref = runRef(run);
      if (ref) runs.push({ ...ref, modified: run.modified });
    }
  }
  return runs.sort((a, b) => b.modified - a.modified);
}

/** How answers show after the prompt's line. */
export function answerDecoration(): vscode.TextEditorDecorationType {
  return vscode.window.createTextEditorDecorationType({
    after: { color: new vscode.ThemeColor('editorCodeLens.foreground'), margin: '0 0 0 2em', fontStyle: 'italic' },
  });
}

interface Answer { readonly who: string; text: string; state: 'waiting' | 'streaming' | 'done' | 'cancelled' | 'failed'; }
interface Shown { readonly line: number; readonly question: string; readonly answers: Answer[]; }

const CHOSEN_KEY = 'finetuneLab.promptRuns';

export class PromptTester implements vscode.Disposable {
  private worker: WorkerProcess | undefined;
  private readonly progress = new Map<number, (text: string) => void>();
  /** Tested lines per document (uri), each with its answers. */
  private readonly shown = new Map<string, Map<number, Shown>>();
  private readonly subscriptions: vscode.Disposable[];

  /** The decoration type belongs to the caller (it goes into context.subscriptions there). */
  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly decoration: vscode.TextEditorDecorationType,
    private readonly state?: vscode.Memento,
  ) {
    this.subscriptions = [
      vscode.window.onDidChangeVisibleTextEditors((editors) => editors.forEach((e) => this.draw(e))),
      vscode.workspace.onDidChangeTextDocument((e) => {
        // Lines moved: the answers would sit on the wrong lines.
        if (e.contentChanges.some((c) => c.range.start.line !== c.range.end.line || c.text.includes('\n'))) {
          this.shown.delete(e.document.uri.toString());
          vscode.window.visibleTextEditors.filter((ed) => ed.document === e.document).forEach((ed) => this.draw(ed));
        }
      }),
    ];
  }

  private client(): WorkerProcess {
    if (!this.worker?.alive) {
      this.worker = new WorkerProcess(vscode.Uri.joinPath(this.extensionUri, 'dist', 'worker.js').fsPath, {
        name: 'the generation process',
        onNotification: (m) => { if (GenerateProgress.is(m)) this.progress.get(m.params.id)?.(m.params.text); },
      });
    }
    return this.worker;
  }

  /** The runs answers come from: chosen with "Choose runs for prompt tests", else the newest. */
  private chosenRuns(): RunRef[] {
    const all = testableRuns();
    const chosen = this.state?.get<string[]>(CHOSEN_KEY, []) ?? [];
    const picked = all.filter((r) => chosen.includes(r.dir));
    return picked.length ? picked : all.slice(0, 1);
  }

  async chooseRuns(): Promise<void> {
    const all = testableRuns();
    if (!all.length) {
      void vscode.window.showInformationMessage('Fine-Tune Lab: no runs with a checkpoint yet (Fine-tune model makes one).');
      return;
    }
    const chosen = new Set(this.chosenRuns().map((r) => r.dir));
    const picked = await vscode.window.showQuickPick(all.map((r) => ({ label: r.name, description: vscode.workspace.asRelativePath(r.dir), picked: chosen.has(r.dir), run: r })), {
      title: 'Runs whose answers prompt tests show beside the base model', canPickMany: true,
    });
    if (picked) await this.state?.update(CHOSEN_KEY, picked.map((p) => p.run.dir));
  }

  private draw(editor: vscode.TextEditor): void {
    const lines = this.shown.get(editor.document.uri.toString());
    const options: vscode.DecorationOptions[] = [];
    for (const s of lines?.values() ?? []) {
      if (s.line >= editor.document.lineCount) continue;
      const empty = (a: Answer) => (a.state === 'waiting' || a.state === 'streaming' ? '…' : a.state === 'failed' ? '(failed: see the message)' : '(nothing)');
      const inline = s.answers.map((a) => `${a.who}: ${shortened(a.text || empty(a))}${a.state === 'cancelled' ? ' (stopped)' : ''}`).join('  ·  ');
      const hover = new vscode.MarkdownString();
      hover.appendMarkdown(`**${s.question.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, '\\$&')}**\n\n`);
      for (const a of s.answers) {
        hover.appendMarkdown(`- *${a.who.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, '\\$&')}*: `);
        hover.appendText(`${a.text || empty(a)}${a.state === 'cancelled' ? ' (stopped)' : ''}`);
        hover.appendMarkdown('\n');
      }
      options.push({ range: editor.document.lineAt(s.line).range, hoverMessage: hover, renderOptions: { after: { contentText: `  → ${inline}` } } });
    }
    editor.setDecorations(this.decoration, options);
  }

  private redraw(doc: vscode.TextDocument): void {
    for (const e of vscode.window.visibleTextEditors) if (e.document === doc) this.draw(e);
  }

  /** Answers the prompt on `line` (a CodeLens) or the selection / current line of the active editor. */
  async test(line?: number): Promise<void> {
    if (!(await ensureTrustedForTraining())) return;
    const editor = vscode.window.activeTextEditor;
    if (!editor) return;
    const doc = editor.document;
    const at = line ?? editor.selection.active.line;
    const selected = line === undefined && !editor.selection.isEmpty;
    const p = selected ? promptOfText(doc.getText(editor.selection)) : promptOfLine(doc.lineAt(at).text) ?? promptOfText(doc.lineAt(at).text);
    if (!p) return;
    const runs = this.chosenRuns();
    const base = runs[0]?.baseModel ?? 'builtin';
    const s = currentSettings();
    const decoding: GenerateDecoding = s.decoding.kind === 'sample' ? { kind: 'sample', topP: s.decoding.topP, temperature: s.decoding.temperature, seed: s.decoding.seed } : { kind: 'greedy' };
    const maxNewTokens = s.decoding.kind === 'sample' ? s.decoding.maxNewTokens : 24;
    const endLine = selected ? editor.selection.end.line : at;
    const shown: Shown = {
      line: endLine, question: p.question,
      answers: [{ who: 'base', text: '', state: 'waiting' }, ...runs.map((r): Answer => ({ who: `fine-tuned (${r.name})`, text: '', state: 'waiting' }))],
    };
    const key = doc.uri.toString();
    if (!this.shown.has(key)) this.shown.set(key, new Map());
    this.shown.get(key)!.set(endLine, shown);
    this.redraw(doc);
    const asks = [{ model: base, run: undefined as string | undefined }, ...runs.map((r) => ({ model: r.baseModel, run: r.dir }))];
    try {
      await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Fine-Tune Lab: testing "${shortened(p.question, 50)}"`, cancellable: true }, async (progress, token) => {
        for (const [i, ask] of asks.entries()) {
          const answer = shown.answers[i];
          if (token.isCancellationRequested) { answer.state = 'cancelled'; continue; }
          progress.report({ message: answer.who });
          let id = 0;
          const stop = token.onCancellationRequested(() => this.worker?.notify(CancelGenerate.create({ id })));
          try {
            const result = await this.client().requestWithId(Generate, { model: ask.model, ...(ask.run ? { run: ask.run } : {}), prompt: p.prompt, maxNewTokens, decoding }, (requestId) => {
              id = requestId;
              this.progress.set(requestId, (text) => {
                answer.text = text.trim();
                answer.state = 'streaming';
                this.redraw(doc);
              });
            });
            answer.text = result.text.trim();
            answer.state = result.finish === 'cancelled' ? 'cancelled' : 'done';
          } finally {
            stop.dispose();
            this.progress.delete(id);
          }
          this.redraw(doc);
        }
      });
      if (!runs.length) shown.answers.push({ who: 'no fine-tuned run yet (Fine-tune model)', text: '', state: 'done' });
      this.redraw(doc);
      // The inline text is CSS-rendered (screen readers miss it): say it in a notification too.
      void vscode.window.showInformationMessage(`Fine-Tune Lab: ${p.question} → ${shown.answers.map((a) => `${a.who}: ${a.text || '(nothing)'}`).join(' · ')}`);
    } catch (err) {
      for (const a of shown.answers) if (a.state === 'waiting' || a.state === 'streaming') a.state = 'failed';
      this.redraw(doc);
      void vscode.window.showErrorMessage(`Fine-Tune Lab: could not answer the prompt: ${(err as Error).message}`);
    }
  }

  dispose(): void {
    for (const d of this.subscriptions) d.dispose();
    this.worker?.dispose();
  }
}
