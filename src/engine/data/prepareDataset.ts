// Q&A data -> a prepared dataset: read (streamed), validate, template, tokenize, mask, split, write.
//
// Every bad record becomes a DataError with file, line and field. By default any error stops the
// preparation and nothing is written (the output is built in a temporary folder that is removed); with
// skipInvalid the bad records are left out and listed in skipped.jsonl. A folder whose manifest has the
// same key (source hashes, tokenizer, template, settings) is reused as it is.
import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Tokenizer } from '../tokenizer';
import { chatFormatter, type ChatFormatter } from './chatTemplate';
import { DataError, DataValidationError, type DataErrorCode } from './dataError';
import { DatasetWriter } from './datasetWriter';
import { contentKey, KeyMap, promptKey } from './exampleKeys';
import { encodeExamples, runs, trainedTargets, type EncodedExample, type ExampleText } from './exampleEncoder';
import { lengthStats } from './lengthStats';
import { readChunks, SourceDigest } from './lineReader';
import { DEFAULT_PROMPT_TEMPLATE, parsePromptTemplate, promptPieces, type PromptTemplate } from './promptTemplate';
import { MANIFEST_FORMAT, MANIFEST_VERSION, readManifest, SPLITS, type DatasetManifest, type Split } from './preparedDataset';
import { checkSourceFile, detectFormat, readRecords, type DataFormat } from './recordReader';
import { describeMapping, detectFields, noFieldsError, toExample, type ChatMessage, type Example, type FieldMapping, type FieldNames } from './recordSchema';
import { assignSplits, type SplitFractions } from './splitAssignment';

export interface PrepareOptions {
  /** One file, split by `split` and `seed`; or one file per split. */
  source: string | { train: string; validation?: string; test?: string };
  tokenizer: Tokenizer;
  outDir: string;
  /** Default: from the file extension. */
  format?: DataFormat;
  /** Field names, when they are not detected. */
  fields?: FieldNames;
  /** A prompt template with {question} and {answer}; default DEFAULT_PROMPT_TEMPLATE. */
  template?: string;
  /**
   * true: the tokenizer's chat template for every example; false: the prompt template (single-turn
   * conversations become question/answer). Default: the chat template for chat data when the tokenizer
   * has one, else the prompt template.
   */
  chatTemplate?: boolean;
  /** 'answer' (default): only answer tokens count in the loss; 'all': the whole text. */
  trainOn?: 'answer' | 'all';
  /** End each templated example with the tokenizer's EOS (default true; chat templates have their own). */
  appendEos?: boolean;
  /** Longest example in tokens (default 1024). */
  maxLength?: number;
  /** Longer examples: 'error' (default), 'truncate' (keep the first maxLength tokens), 'drop'. */
  overLength?: 'error' | 'truncate' | 'drop';
  /** Shares of a single source for validation and test (default 0.1 each). */
  split?: SplitFractions;
  seed?: number;
  /** Leave bad records out (listed in skipped.jsonl) instead of stopping. */
  skipInvalid?: boolean;
  /** Prepare again even when the folder is up to date. */
  force?: boolean;
  /** Errors kept for the report (default 100); all are counted. */
  maxErrors?: number;
  onProgress?: (p: PrepareProgress) => void;
  /** Stops the preparation (it throws the signal's reason; nothing is written). */
  signal?: AbortSignal;
}

export interface PrepareProgress {
  file: string;
  bytesRead: number;
  totalBytes: number;
  examples: number;
}

export interface PrepareResult {
  dir: string;
  manifest: DatasetManifest;
  /** The folder was up to date and left as it was. */
  reused: boolean;
  /** The first skipped records (skipInvalid); all are in skipped.jsonl. */
  skipped: readonly DataError[];
}

export const DEFAULT_MAX_LENGTH = 1024;
const BATCH_RECORDS = 256;
const BATCH_CHARS = 1 << 20;

interface SourceFile { path: string; role: Split | 'all' }

export async function prepareDataset(o: PrepareOptions): Promise<PrepareResult> {
  const tokenizer = o.tokenizer;
  const settings = {
    format: o.format ?? null,
    fields: o.fields ?? {},
    template: o.template ?? null,
    chatTemplate: o.chatTemplate ?? null,
    trainOn: o.trainOn ?? 'answer',
    appendEos: o.appendEos ?? true,
    maxLength: o.maxLength ?? DEFAULT_MAX_LENGTH,
    overLength: o.overLength ?? 'error',
    split: o.split ?? { validation: 0.1, test: 0.1 },
    seed: o.seed ?? 0,
    skipInvalid: o.skipInvalid ?? false,
  };
  checkSettings(settings, tokenizer);
  const prompt = parsePromptTemplate(settings.template ?? DEFAULT_PROMPT_TEMPLATE, settings.template === null ? 'the default template' : 'the template');
  const given = o.source;
  const sources: SourceFile[] = typeof given === 'string'
    ? [{ path: given, role: 'all' }]
    : SPLITS.filter((r) => given[r]).map((r) => ({ path: given[r]!, role: r }));
  if (!sources.some((s) => s.role === 'all' || s.role === 'train')) {
    throw new DataError({ code: 'settings', file: 'sources', problem: 'no training file', fix: 'give the training data file' });
  }
  const formats: DataFormat[] = [];
  for (const s of sources) {
    await checkSourceFile(s.path);
    formats.push(o.format ?? (await detectFormat(s.path)));
  }
  const outDir = resolve(o.outDir);
  const keyOf = (hashes: string[]) => createHash('sha256').update(JSON.stringify({
    version: MANIFEST_VERSION, sources: sources.map((s, i) => ({ role: s.role, sha256: hashes[i], format: formats[i] })),
    tokenizer: tokenizer.fingerprint, settings: { ...settings, format: undefined },
  })).digest('hex');

  const existing = readManifest(outDir);
  if (existing && !o.force && existing.kind === 'examples') {
    const hashes = await Promise.all(sources.map((s) => hashFile(s.path)));
    if (existing.key === keyOf(hashes)) return { dir: outDir, manifest: existing, reused: true, skipped: [] };
  }

  const writer = DatasetWriter.open(outDir, tokenizer.vocabSize);
  try {
    const run = new Preparation(o, settings, tokenizer, prompt, writer);
    const digests: SourceDigest[] = [];
    const mappings: string[] = [];
    for (let f = 0; f < sources.length; f++) {
      const digest = new SourceDigest();
      digests.push(digest);
      mappings.push(await run.readSource(sources[f]!.path, formats[f]!, f, sources.length > 1, digest));
    }
    await run.flush();
    const order = (e: DataError) => sources.findIndex((s) => s.path === e.file) * 2 ** 32 + (e.line ?? 0);
    run.errors.sort((a, b) => order(a) - order(b));
    if (run.errorCount > 0 && !settings.skipInvalid) throw new DataValidationError(run.errors, run.errorCount, run.errorsByCode);
    const n = writer.count;
    if (n === 0) {
      throw new DataError({ code: 'file', file: sources[0]!.path, problem: 'no usable examples', fix: 'check that the file holds records with a question and an answer' });
    }
    const lengths = run.lengths.view();
    const trained = run.trained.view();
    // One file with no role is split by fractions; files given per split keep their role (a lone
    // training file is all training data).
    const splits = sources.length === 1 && sources[0]!.role === 'all'
      ? assignSplits(run.promptKeys.view(), settings.split, settings.seed)
      : Uint8Array.from(run.sourceOf.view(), (f) => SPLITS.indexOf(sources[f]!.role as Split));
    const stats = {
      all: lengthStats(lengths, trained),
      train: lengthStats(lengths, trained, (i) => splits[i] === 0),
      validation: lengthStats(lengths, trained, (i) => splits[i] === 1),
      test: lengthStats(lengths, trained, (i) => splits[i] === 2),
    };
    const manifest: DatasetManifest = {
      format: MANIFEST_FORMAT,
      version: MANIFEST_VERSION,
      kind: 'examples',
      createdAt: new Date().toISOString(),
      key: keyOf(digests.map((d) => d.sha256())),
      sources: sources.map((s, i) => ({ path: resolve(s.path), role: s.role, format: formats[i]!, sha256: digests[i]!.sha256(), bytes: digests[i]!.bytes, fields: mappings[i] })),
      tokenizer: { source: tokenizer.source, fingerprint: tokenizer.fingerprint, vocabSize: tokenizer.vocabSize, bosId: tokenizer.bosId ?? null, eosId: tokenizer.eosId ?? null, padId: tokenizer.padId ?? null },
      template: run.usedChat
        ? { kind: 'chat', sha256: createHash('sha256').update(tokenizer.chatTemplate ?? '').digest('hex') }
        : run.usedPrompt ? { kind: 'prompt', text: prompt.text } : { kind: 'none' },
      settings: { ...settings },
      tokenDtype: writer.tokenDtype,
      counts: {
        records: run.records,
        examples: n,
        train: stats.train.examples,
        validation: stats.validation.examples,
        test: stats.test.examples,
        skipped: run.errorCount,
        truncated: run.truncated,
        droppedTooLong: run.droppedTooLong,
      },
      skippedByCode: run.errorsByCode,
      stats,
    };
    writer.commit(splits, manifest);
    return { dir: outDir, manifest, reused: false, skipped: run.errors };
  } catch (error) {
    writer.abort();
    throw error;
  }
}

type Settings = {
  template: string | null; chatTemplate: boolean | null; trainOn: 'answer' | 'all'; appendEos: boolean; maxLength: number;
  overLength: 'error' | 'truncate' | 'drop'; split: SplitFractions; seed: number; skipInvalid: boolean; fields: FieldNames;
};

function checkSettings(s: Settings, tokenizer: Tokenizer): void {
  const bad = (problem: string, fix: string) => new DataError({ code: 'settings', file: 'settings', problem, fix });
  if (!Number.isInteger(s.maxLength) || s.maxLength < 2) throw bad(`the maximum length ${s.maxLength} is not a whole number >= 2`, 'give the maximum length in tokens, e.g. 1024[[ ({{maxLength}})]]');
  const { validation, test } = s.split;
  if (!(validation >= 0 && test >= 0 && validation + test < 1)) throw bad(`the split fractions validation ${validation} and test ${test} must be >= 0 and leave some data for training`, 'give train, validation and test shares that add up to 1, e.g. 0.8, 0.1, 0.1[[ ({{split}})]]');
  if (!Number.isInteger(s.seed)) throw bad(`the seed ${s.seed} is not a whole number`, 'give a whole number as the seed[[ ({{seed}})]]');
  if (s.chatTemplate === true && !tokenizer.chatTemplate) throw bad(`the tokenizer (${tokenizer.source}) has no chat template`, 'use a prompt template[[ ({{template}})]] or a model whose tokenizer_config.json has chat_template');
}

function noEos(tokenizer: Tokenizer): DataError {
  return new DataError({
    code: 'settings', file: 'settings',
    problem: `the tokenizer (${tokenizer.source}) has no EOS token to end the examples (a model that never learns EOS never stops)`,
    fix: 'set eos_token in tokenizer_config.json[[, or turn off the end token ({{noEos}})]]',
  });
}

async function hashFile(path: string): Promise<string> {
  const digest = new SourceDigest();
  for await (const chunk of readChunks(path, digest)) void chunk;
  return digest.sha256();
}

/** A typed array that grows. */
class Growable<T extends Uint32Array | Float64Array | Uint8Array> {
  length = 0;
  constructor(private data: T) {}
  push(v: number): void {
    if (this.length === this.data.length) {
      const next = new (this.data.constructor as new (n: number) => T)(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = v;
  }
  view(): T {
    return this.data.subarray(0, this.length) as T;
  }
}

interface PendingExample {
  file: string;
  line: number;
  source: number;
  promptKey: number;
  text?: ExampleText;
  tokens?: EncodedExample;
}

/** The state of one preparation: counters, keys, and the batch being encoded. */
class Preparation {
  records = 0;
  errorCount = 0;
  readonly errors: DataError[] = [];
  readonly errorsByCode: Partial<Record<DataErrorCode, number>> = {};
  truncated = 0;
  droppedTooLong = 0;
  usedChat = false;
  usedPrompt = false;
  readonly lengths = new Growable(new Uint32Array(1024));
  readonly trained = new Growable(new Uint32Array(1024));
  readonly promptKeys = new Growable(new Float64Array(1024));
  readonly sourceOf = new Growable(new Uint8Array(1024));
  private readonly contents = new KeyMap();
  private readonly prompts = new KeyMap();
  private batch: PendingExample[] = [];
  private batchChars = 0;
  private inFlight: Promise<void> = Promise.resolve();
  private chat: ChatFormatter | null = null;
  private readonly eos: number[];

  constructor(
    private readonly o: PrepareOptions,
    private readonly s: Settings,
    private readonly tokenizer: Tokenizer,
    private readonly prompt: PromptTemplate,
    private readonly writer: DatasetWriter,
  ) {
    const suffix = [...tokenizer.suffixIds];
    if (s.appendEos && tokenizer.eosId !== undefined && !suffix.includes(tokenizer.eosId)) suffix.push(tokenizer.eosId);
    this.eos = suffix;
  }

  /** Reads one file; returns how its fields were mapped. */
  async readSource(path: string, format: DataFormat, index: number, checkLeakage: boolean, digest: SourceDigest): Promise<string> {
    let mapping: FieldMapping | null = null;
    const totalBytes = statSync(path).size;
    let sinceProgress = 0;
    for await (const item of readRecords(path, format, digest)) {
      this.o.signal?.throwIfAborted();
      if (item instanceof DataError) {
        if (item.code === 'file') throw item;
        this.records++;
        this.reject(item);
        continue;
      }
      this.records++;
      if (mapping === null) {
        const v = item.value;
        if (typeof v !== 'object' || v === null || Array.isArray(v)) {
          this.reject(toExample(v, { kind: 'qa', question: 'question', answer: 'answer' }, item, this.tokenizer.vocabSize) as DataError);
          continue;
        }
        mapping = detectFields(Object.keys(v), this.s.fields);
        if (mapping === null) throw noFieldsError(path, item.line, Object.keys(v));
      }
      const example = toExample(item.value, mapping, item, this.tokenizer.vocabSize);
      if (example instanceof DataError) { this.reject(example); continue; }
      this.admit(example, item.file, item.line, index, checkLeakage);
      if (this.batch.length >= BATCH_RECORDS || this.batchChars >= BATCH_CHARS) {
        await this.dispatch();
        if (++sinceProgress % 8 === 0) this.o.onProgress?.({ file: path, bytesRead: digest.bytes, totalBytes, examples: this.writer.count });
      }
    }
    this.o.onProgress?.({ file: path, bytesRead: digest.bytes, totalBytes, examples: this.writer.count });
    return mapping ? describeMapping(mapping) : 'none';
  }

  /** Encodes what is batched and writes it. */
  async flush(): Promise<void> {
    await this.dispatch();
    await this.inFlight;
  }

  private reject(e: DataError): void {
    this.errorCount++;
    this.errorsByCode[e.code] = (this.errorsByCode[e.code] ?? 0) + 1;
    if (this.errors.length < (this.o.maxErrors ?? 100)) this.errors.push(e);
    if (this.s.skipInvalid) this.writer.reportSkipped(e);
  }

  private admit(example: Example, file: string, line: number, source: number, checkLeakage: boolean): void {
    const where = source * 2 ** 30 + Math.min(line, 2 ** 30 - 1);
    const first = this.contents.setIfAbsent(contentKey(example), where);
    if (first !== undefined) {
      const sameFile = Math.floor(first / 2 ** 30) === source;
      this.reject(new DataError({
        code: 'duplicate', file, line,
        problem: `the same record as line ${first % 2 ** 30}${sameFile ? '' : ' of another file'}`,
        fix: 'remove the copy (duplicates weigh an example twice and leak between splits)',
      }));
      return;
    }
    const pk = promptKey(example);
    if (checkLeakage) {
      const seen = this.prompts.setIfAbsent(pk, where);
      if (seen !== undefined && Math.floor(seen / 2 ** 30) !== source) {
        this.reject(new DataError({
          code: 'leakage', file, line,
          problem: `the same question is in another split's file (line ${seen % 2 ** 30}): evaluation would measure memorization`,
          fix: 'keep each question in one file only (remove it here or there)',
        }));
        return;
      }
    }
    const pending: PendingExample = { file, line, source, promptKey: pk };
    if (example.kind === 'tokens') {
      const flags = example.labels ? example.labels.map((l) => (l === -100 ? 0 : 1)) : example.inputIds.map(() => 1);
      pending.tokens = { ids: example.inputIds, ranges: runs(flags) };
    } else {
      const text = this.textOf(example, file, line);
      if (text instanceof DataError) { this.reject(text); return; }
      pending.text = text;
      for (const p of text.pieces) this.batchChars += p.text.length;
    }
    this.batch.push(pending);
  }

  private textOf(e: Exclude<Example, { kind: 'tokens' }>, file: string, line: number): ExampleText | DataError {
    const all = this.s.trainOn === 'all';
    const useChat = this.s.chatTemplate === true || (this.s.chatTemplate === null && e.kind === 'chat' && !!this.tokenizer.chatTemplate);
    if (useChat) {
      this.chat ??= chatFormatter(this.tokenizer, this.tokenizer.chatTemplate!, `${this.tokenizer.source} (chat_template)`);
      const messages: ChatMessage[] = e.kind === 'chat' ? e.messages : [{ role: 'user', content: e.question }, { role: 'assistant', content: e.answer }];
      const pieces = this.chat.pieces(messages, { file, line }, all);
      if (pieces instanceof DataError) return pieces;
      this.usedChat = true;
      return { pieces, prefix: [], suffix: [] };
    }
    let qa: { question: string; answer: string } | null = e.kind === 'qa' ? e : singleTurn(e.messages);
    if (qa === null) {
      return new DataError({
        code: 'template', file, line,
        problem: 'a multi-turn conversation cannot use the question/answer template',
        fix: this.tokenizer.chatTemplate ? 'use the model\'s chat template[[ ({{chatTemplate}})]]' : 'keep one user message and one assistant reply per record, or use a model with a chat template',
      });
    }
    if (this.s.appendEos && this.tokenizer.eosId === undefined) throw noEos(this.tokenizer);
    this.usedPrompt = true;
    const pieces = promptPieces(this.prompt, qa.question, qa.answer);
    if (all) for (const p of pieces) p.train = true;
    return { pieces, prefix: this.tokenizer.prefixIds, suffix: this.eos };
  }

  /** Starts encoding the current batch; the previous one is written first (one batch in flight). */
  private async dispatch(): Promise<void> {
    const batch = this.batch;
    this.batch = [];
    this.batchChars = 0;
    await this.inFlight;
    if (batch.length === 0) return;
    const texts = batch.filter((b) => b.text).map((b) => b.text!);
    const encoding = texts.length ? encodeExamples(this.tokenizer, texts) : Promise.resolve([]);
    this.inFlight = encoding.then((encoded) => {
      let k = 0;
      for (const b of batch) this.accept(b, b.tokens ?? encoded[k++]!);
    });
    // keep an encoding failure from being an unhandled rejection before it is awaited
    this.inFlight.catch(() => undefined);
  }

  private accept(b: PendingExample, e: EncodedExample): void {
    let { ids, ranges } = e;
    const max = this.s.maxLength;
    let cut = false;
    if (ids.length > max) {
      if (this.s.overLength === 'drop') { this.droppedTooLong++; return; }
      if (this.s.overLength === 'error') {
        this.reject(new DataError({
          code: 'too-long', file: b.file, line: b.line,
          problem: `${ids.length} tokens, more than the maximum length of ${max}`,
          fix: 'shorten the record[[, raise the maximum length ({{maxLength}})]][[, or truncate ({{truncate}}) or drop ({{dropLong}}) long examples]]',
        }));
        return;
      }
      ids = ids.slice(0, max);
      const clipped: number[] = [];
      for (let r = 0; r < ranges.length; r += 2) if (ranges[r]! < max) clipped.push(ranges[r]!, Math.min(ranges[r + 1]!, max));
      ranges = clipped;
      cut = true;
    }
    const targets = trainedTargets(ranges);
    if (targets === 0) {
      this.reject(new DataError({
        code: 'no-answer', file: b.file, line: b.line,
        problem: cut ? `the answer starts after the first ${max} tokens: nothing left to learn after truncation` : 'the answer has no tokens to learn',
        fix: cut ? 'shorten the question[[, or raise the maximum length ({{maxLength}})]]' : 'write a non-empty answer',
      }));
      return;
    }
    if (cut) this.truncated++;
    this.writer.add(ids, ranges, b.line, b.source);
    this.lengths.push(ids.length);
    this.trained.push(targets);
    this.promptKeys.push(b.promptKey);
    this.sourceOf.push(b.source);
  }
}

function singleTurn(messages: readonly ChatMessage[]): { question: string; answer: string } | null {
  const rest = messages[0]?.role === 'system' ? messages.slice(1) : messages;
  if (rest.length !== 2 || rest[0]!.role !== 'user' || rest[1]!.role !== 'assistant') return null;
  const system = messages[0]?.role === 'system' && messages[0].content.trim() ? `${messages[0].content}\n\n` : '';
  return { question: system + rest[0]!.content, answer: rest[1]!.content };
}
