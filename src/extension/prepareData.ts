// "Prepare Q&A data" and the data's place in the Problems panel. The command picks a tokenizer (the
// built-in model's, or a model folder's), runs the engine's prepare beside the file (<name>.prepared,
// as `ftlab prepare` does) and either puts every invalid record the engine reports in the Problems
// panel on its line, or shows the statistics and a few templated examples with the part that counts
// in the loss marked (a read-only document). A file prepared or checked once is checked again when it
// is saved (validation only, debounced and cancelled by a newer save, up to VALIDATE_ON_SAVE_MAX_BYTES);
// its diagnostics clear once it is fixed. "Fine-tune model" checks the picked file the same way first.

import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, extname, join } from 'node:path';
import * as vscode from 'vscode';
import {
  BUILTIN_MODEL_DIR, DEFAULT_MAX_LENGTH, DataError, DataValidationError, causalLMFromHf, loadTokenizer, prepareDataset, readHfConfig,
  type DatasetManifest,
} from '../engine';
import { dataDiagnostics, diagnosticMessage } from './dataDiagnostics';
import { DebouncedTasks } from './debouncedTasks';
import { previewExamples, previewText } from './preparedPreview';

/** The Q&A formats the engine reads. */
export const DATA_EXTENSIONS = ['.jsonl', '.json', '.csv', '.tsv'];

/**
 * Files up to this size are validated again on save. Measured: prepareDataset into a scratch folder
 * (what the pass does) on assets/demo/qa.jsonl's records repeated to size, built-in tokenizer,
 * maxLength 257, 3 runs each, 2 cores shared with a pretraining job (load average ~11): 16 KiB
 * 0.5-0.9 s, 64 KiB 1.2-1.5 s, 256 KiB 3.9-4.0 s, 1 MiB 16-17 s, 4 MiB 62-64 s (linear, ~15 s/MiB
 * there). Larger files keep their diagnostics until Prepare Q&A data runs again.
 */
export const VALIDATE_ON_SAVE_MAX_BYTES = 256 * 1024;
/** Quiet time after a save before validating (several saves in a row validate once). */
const VALIDATE_DELAY_MS = 300;
const PREVIEW_SCHEME = 'finetunelab-prepared';
const WATCHED_KEY = 'finetuneLab.dataFiles';
const BUILTIN = 'builtin';

type Tokenizer = Awaited<ReturnType<typeof loadTokenizer>>;

type Outcome =
  | { kind: 'ok'; dir: string; manifest: DatasetManifest; reused: boolean }
  | { kind: 'invalid'; errors: readonly DataError[]; count: number }
  | { kind: 'error'; error: DataError };

export class DataProblems implements vscode.Disposable {
  private static current: DataProblems | undefined;
  private readonly collection = vscode.languages.createDiagnosticCollection('finetuneLab.data');
  private readonly tasks = new DebouncedTasks<string>(VALIDATE_DELAY_MS, (file, err) => this.output.appendLine(`[validate] ${file}: ${(err as Error).message}`));
  private readonly tokenizers = new Map<string, Promise<Tokenizer>>();
  private readonly previews = new Map<string, string>();
  /** Examples the first check of Fine-tune model cut at the built-in model's length, by file. */
  private readonly cutWithBuiltin = new Map<string, number>();
  private readonly previewChanged = new vscode.EventEmitter<vscode.Uri>();
  /** What the constructor registered: the caller puts them in context.subscriptions. */
  readonly registrations: vscode.Disposable[];

  constructor(private readonly state: vscode.Memento, private readonly output: vscode.OutputChannel) {
    DataProblems.current = this;
    this.registrations = [
      this.collection,
      this.previewChanged,
      vscode.workspace.onDidSaveTextDocument((doc) => this.onSave(doc)),
      vscode.workspace.registerTextDocumentContentProvider(PREVIEW_SCHEME, {
        onDidChange: this.previewChanged.event,
        provideTextDocumentContent: (uri) => this.previews.get(uri.toString()) ?? 'Run "Fine-Tune Lab: Prepare Q&A data" again to see this preview.',
      }),
    ];
  }

  /** The instance of the running extension (for Fine-tune model's check). */
  static get instance(): DataProblems | undefined {
    return DataProblems.current;
  }

  dispose(): void {
    this.tasks.dispose();
    if (DataProblems.current === this) DataProblems.current = undefined;
  }

  /** Data files to check on save, with the tokenizer (model folder or 'builtin') each was prepared with. */
  private watched(): Record<string, string> {
    return this.state.get<Record<string, string>>(WATCHED_KEY, {});
  }

  private watch(file: string, tokenizer: string): void {
    void this.state.update(WATCHED_KEY, { ...this.watched(), [file]: tokenizer });
  }

  /** The command: `uri` from the explorer, else the active data file, else a pick. */
  async prepare(uri: vscode.Uri | undefined, pick: () => Promise<vscode.Uri | undefined>): Promise<void> {
    const active = vscode.window.activeTextEditor?.document.uri;
    const target = uri ?? (active?.scheme === 'file' && DATA_EXTENSIONS.includes(extname(active.fsPath).toLowerCase()) ? active : await pick());
    if (!target) return;
    const file = target.fsPath;
    const tokenizer = await this.pickTokenizer(file);
    if (!tokenizer) return;
    const doc = vscode.workspace.textDocuments.find((d) => d.uri.fsPath === file);
    if (doc?.isDirty) await doc.save();
    this.watch(file, tokenizer);
    this.tasks.cancel(file);
    const outDir = join(dirname(file), `${basename(file, extname(file))}.prepared`);
    const outcome = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Fine-Tune Lab: preparing ${basename(file)}`, cancellable: true },
      (progress, token) => {
        const abort = new AbortController();
        token.onCancellationRequested(() => abort.abort());
        return this.run(file, tokenizer, outDir, abort.signal, (p) => progress.report({ message: p.totalBytes ? `${Math.round((100 * p.bytesRead) / p.totalBytes)}% read` : undefined }));
      },
    ).then((o) => o, (err: unknown) => (isAbort(err) ? undefined : Promise.reject(err)));
    if (!outcome) return;
    this.show(file, outcome);
    if (outcome.kind === 'ok') {
      const tok = await this.tokenizer(tokenizer);
      const text = previewText(outcome.manifest, outcome.dir, await previewExamples(outcome.dir, tok, 3), outcome.reused);
      const previewUri = vscode.Uri.from({ scheme: PREVIEW_SCHEME, path: `/${basename(file)} (prepared).txt`, query: encodeURIComponent(file) });
      this.previews.set(previewUri.toString(), text);
      this.previewChanged.fire(previewUri);
      const previewDoc = await vscode.workspace.openTextDocument(previewUri);
      await vscode.window.showTextDocument(previewDoc, { viewColumn: vscode.ViewColumn.Beside, preview: true });
    } else {
      await this.report(file, outcome, 'Nothing was written.');
    }
  }

  /**
   * Fine-tune model's first step: is the picked file usable? Checked with the built-in tokenizer (the
   * base model is chosen after); long examples are not counted as errors here (their limit depends on
   * the model: checkForModel). Problems go to the Problems panel; false when there are any.
   */
  async checkFirst(uri: vscode.Uri): Promise<boolean> {
    const file = uri.fsPath;
    if (!DATA_EXTENSIONS.includes(extname(file).toLowerCase())) return true; // a .txt corpus or another kind of file: the experiment says what is wrong
    this.watch(file, this.watched()[file] ?? BUILTIN);
    const outcome = await this.check(file, BUILTIN, 'truncate');
    if (outcome?.kind === 'ok') this.cutWithBuiltin.set(file, outcome.manifest.counts.truncated);
    return outcome?.kind === 'ok';
  }

  /**
   * Once the base model (and maybe a sequence length) is chosen: no example too long for it, checked
   * with its tokenizer. Skipped when the first check already showed that none is (the built-in model at
   * its own length cut nothing).
   */
  async checkForModel(uri: vscode.Uri, baseModel: string, maxLength?: number): Promise<boolean> {
    const file = uri.fsPath;
    if (!DATA_EXTENSIONS.includes(extname(file).toLowerCase())) return true;
    if (baseModel === BUILTIN && maxLength === undefined && this.cutWithBuiltin.get(file) === 0) return true;
    const outcome = await this.check(file, baseModel, maxLength === undefined ? 'error' : 'truncate', maxLength);
    return outcome?.kind === 'ok';
  }

  /** A validation pass with a cancellable notification; problems to the panel and a message. undefined: cancelled. */
  private async check(file: string, tokenizer: string, overLength: 'error' | 'truncate', maxLength?: number): Promise<Outcome | undefined> {
    this.tasks.cancel(file);
    const outcome = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Fine-Tune Lab: checking ${basename(file)}`, cancellable: true },
      (_progress, token) => {
        const abort = new AbortController();
        token.onCancellationRequested(() => abort.abort());
        return this.validate(file, tokenizer, abort.signal, overLength, maxLength);
      },
    ).then((o) => o, (err: unknown) => (isAbort(err) ? undefined : Promise.reject(err)));
    if (!outcome) return undefined;
    this.show(file, outcome);
    if (outcome.kind !== 'ok') await this.report(file, outcome, 'Fix them, then run Fine-tune model again.');
    return outcome;
  }

  private onSave(doc: vscode.TextDocument): void {
    const file = doc.uri.fsPath;
    if (doc.uri.scheme !== 'file') return;
    const tokenizer = this.watched()[file];
    if (tokenizer === undefined && !this.collection.has(doc.uri)) return;
    let size: number;
    try { size = statSync(file).size; } catch { return; }
    if (size > VALIDATE_ON_SAVE_MAX_BYTES) return;
    this.tasks.schedule(file, (signal) => this.validate(file, tokenizer ?? BUILTIN, signal, 'error'), (outcome) => this.show(file, outcome));
  }

  /** A validation-only pass: prepared into a scratch folder that is removed after. */
  private async validate(file: string, tokenizer: string, signal: AbortSignal, overLength: 'error' | 'truncate', maxLength?: number): Promise<Outcome> {
    const scratch = mkdtempSync(join(tmpdir(), 'ftlab-validate-'));
    try {
      return await this.run(file, tokenizer, join(scratch, 'data'), signal, undefined, overLength, maxLength);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  }

  private async run(
    file: string, tokenizerChoice: string, outDir: string, signal: AbortSignal, onProgress?: Parameters<typeof prepareDataset>[0]['onProgress'],
    overLength: 'error' | 'truncate' = 'error', chosenLength?: number,
  ): Promise<Outcome> {
    const tokenizer = await this.tokenizer(tokenizerChoice);
    const modelLength = await maxLengthOf(tokenizerChoice === BUILTIN ? BUILTIN_MODEL_DIR : tokenizerChoice);
    const maxLength = Math.min(chosenLength ?? modelLength, modelLength);
    try {
      const r = await prepareDataset({ source: file, tokenizer, outDir, maxLength, overLength, signal, onProgress });
      return { kind: 'ok', dir: r.dir, manifest: r.manifest, reused: r.reused };
    } catch (err) {
      if (err instanceof DataValidationError) return { kind: 'invalid', errors: err.errors, count: err.count };
      if (err instanceof DataError) return { kind: 'error', error: err };
      throw err;
    }
  }

  private tokenizer(choice: string): Promise<Tokenizer> {
    let t = this.tokenizers.get(choice);
    if (!t) {
      t = loadTokenizer(choice === BUILTIN ? BUILTIN_MODEL_DIR : choice);
      t.catch(() => this.tokenizers.delete(choice));
      this.tokenizers.set(choice, t);
    }
    return t;
  }

  /** The outcome's diagnostics replace the file's (and clear them when it is good). */
  private show(file: string, outcome: Outcome): void {
    const uri = vscode.Uri.file(file);
    this.collection.delete(uri);
    if (outcome.kind === 'ok') return;
    const errors = outcome.kind === 'invalid' ? outcome.errors : [outcome.error];
    const notListed = outcome.kind === 'invalid' ? outcome.count - outcome.errors.length : 0;
    const byFile = new Map<string, DataError[]>();
    for (const e of errors) {
      const key = e.file === file || e.file === 'settings' || e.file === 'sources' ? file : e.file;
      byFile.set(key, [...(byFile.get(key) ?? []), e]);
    }
    let first = true;
    for (const [f, list] of byFile) {
      const found = dataDiagnostics(list, documentText(f), f, first ? notListed : 0);
      first = false;
      this.collection.set(vscode.Uri.file(f), found.map((d) => {
        const diagnostic = new vscode.Diagnostic(new vscode.Range(d.line, d.start, d.line, d.end), d.message, d.severity === 'error' ? vscode.DiagnosticSeverity.Error : vscode.DiagnosticSeverity.Information);
        diagnostic.source = 'Fine-Tune Lab';
        diagnostic.code = d.code;
        return diagnostic;
      }));
    }
  }

  private async report(file: string, outcome: Exclude<Outcome, { kind: 'ok' }>, then: string): Promise<void> {
    const text = outcome.kind === 'invalid'
      ? `Fine-Tune Lab: ${outcome.count} invalid record${outcome.count === 1 ? '' : 's'} in ${basename(file)}; ${outcome.count > outcome.errors.length ? `the first ${outcome.errors.length} are in the Problems panel on their lines` : `${outcome.count === 1 ? 'it' : 'each'} is in the Problems panel on its line`}. ${then}`
      : `Fine-Tune Lab: ${basename(outcome.error.file)}: ${diagnosticMessage(outcome.error)}`;
    const choice = await vscode.window.showErrorMessage(text, 'Show Problems');
    if (choice) await vscode.commands.executeCommand('workbench.actions.view.problems');
  }

  private async pickTokenizer(file: string): Promise<string | undefined> {
    interface Item extends vscode.QuickPickItem { value: string }
    const last = this.watched()[file];
    const items: Item[] = [
      { label: 'Built-in model\'s tokenizer', description: 'the model that ships with Fine-Tune Lab', value: BUILTIN },
      ...(last && last !== BUILTIN ? [{ label: basename(last), description: `used last time: ${last}`, value: last }] : []),
      { label: '$(folder-opened) Model folder…', description: 'a Hugging Face model folder with tokenizer.json', value: 'folder' },
    ];
    const chosen = await vscode.window.showQuickPick(items, { title: `Prepare Q&A data: ${basename(file)} — tokenizer`, ignoreFocusOut: true });
    if (!chosen || chosen.value !== 'folder') return chosen?.value;
    const dir = await vscode.window.showOpenDialog({ title: 'Choose a model folder (with tokenizer.json)', canSelectFiles: false, canSelectFolders: true, canSelectMany: false });
    return dir?.[0]?.fsPath;
  }
}

/** The longest example the model takes (its context + 1, the shifted target); a folder without config.json: the default. */
async function maxLengthOf(modelDir: string): Promise<number> {
  try {
    return causalLMFromHf(await readHfConfig(modelDir)).maxPositions + 1;
  } catch {
    return DEFAULT_MAX_LENGTH;
  }
}

/** The file's text as open in an editor, else from disk (empty for a very large file: whole-line ranges then). */
function documentText(file: string): string {
  const doc = vscode.workspace.textDocuments.find((d) => d.uri.fsPath === file);
  if (doc) return doc.getText();
  try {
    return statSync(file).size <= 32 * 2 ** 20 ? readFileSync(file, 'utf8') : '';
  } catch {
    return '';
  }
}

function isAbort(err: unknown): boolean {
  return err instanceof Error && err.name === 'AbortError';
}

/** For Fine-tune model: true when the file can be used (or the extension has no data checker). */
export function checkDataFirst(uri: vscode.Uri): Promise<boolean> {
  return DataProblems.instance?.checkFirst(uri) ?? Promise.resolve(true);
}

/** For Fine-tune model, once the base model is chosen: true when no example is too long for it. */
export function checkDataForModel(uri: vscode.Uri, baseModel: string, maxLength?: number): Promise<boolean> {
  return DataProblems.instance?.checkForModel(uri, baseModel, maxLength) ?? Promise.resolve(true);
}
