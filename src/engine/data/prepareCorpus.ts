// General text for replay: a plain-text corpus tokenized and packed into sequences of seqLength tokens,
// every token trained, documents separated by EOS (and starting with BOS where the tokenizer adds one).
// Mixed into fine-tuning at a ratio, it keeps the model's general language ability while it learns the
// Q&A data. Same folder format as prepareDataset (kind 'packed', everything in train).
//
// Input: .txt (documents separated by blank lines) or .jsonl with a text field per line. Long documents
// are encoded in pieces of about 64 KB cut at line ends (the JS and Rust tokenizers are slow on one
// huge string), so a token can differ from a one-pass encode only at those cuts.
import { createHash } from 'node:crypto';
import { extname, resolve } from 'node:path';
import type { Tokenizer } from '../tokenizer';
import { DataError, DataValidationError, type DataErrorCode } from './dataError';
import { DatasetWriter } from './datasetWriter';
import { jsonError } from './jsonRecords';
import { lengthStats } from './lengthStats';
import { readChunks, readLines, SourceDigest } from './lineReader';
import { MANIFEST_FORMAT, MANIFEST_VERSION, readManifest, type DatasetManifest } from './preparedDataset';
import { checkSourceFile } from './recordReader';

export interface CorpusOptions {
  source: string;
  tokenizer: Tokenizer;
  outDir: string;
  /** Tokens per packed sequence (the trainer's sequence length + 1: inputs are tokens[:-1]). */
  seqLength: number;
  /** The field of a .jsonl corpus that holds the text (default "text"). */
  textField?: string;
  skipInvalid?: boolean;
  force?: boolean;
  onProgress?: (p: { file: string; bytesRead: number; totalBytes: number; examples: number }) => void;
}

const SEGMENT_CHARS = 64 << 10;
const BATCH_SEGMENTS = 256;

interface Segment { text: string; startsDocument: boolean; endsDocument: boolean }

export async function prepareCorpus(o: CorpusOptions): Promise<{ dir: string; manifest: DatasetManifest; reused: boolean }> {
  const { tokenizer, source } = o;
  await checkSourceFile(source);
  if (!Number.isInteger(o.seqLength) || o.seqLength < 2) {
    throw new DataError({ code: 'settings', file: 'settings', problem: `the sequence length ${o.seqLength} is not a whole number >= 2`, fix: 'give the packed sequence length in tokens, e.g. 257' });
  }
  if (tokenizer.eosId === undefined) {
    throw new DataError({ code: 'settings', file: 'settings', problem: `the tokenizer (${tokenizer.source}) has no EOS token to separate documents`, fix: 'set eos_token in tokenizer_config.json, or eos_token_id in config.json' });
  }
  const jsonl = ['.jsonl', '.ndjson'].includes(extname(source).toLowerCase());
  const textField = o.textField ?? 'text';
  const settings = { seqLength: o.seqLength, textField: jsonl ? textField : null, skipInvalid: o.skipInvalid ?? false, maxLength: o.seqLength };
  const keyOf = (sha: string) => createHash('sha256').update(JSON.stringify({ version: MANIFEST_VERSION, kind: 'packed', sha, tokenizer: tokenizer.fingerprint, settings })).digest('hex');
  const outDir = resolve(o.outDir);
  const existing = readManifest(outDir);
  if (existing && !o.force && existing.kind === 'packed') {
    const d = new SourceDigest();
    for await (const c of readChunks(source, d)) void c;
    if (existing.key === keyOf(d.sha256())) return { dir: outDir, manifest: existing, reused: true };
  }

  const writer = DatasetWriter.open(outDir, tokenizer.vocabSize);
  try {
    const digest = new SourceDigest();
    const errors: DataError[] = [];
    const byCode: Partial<Record<DataErrorCode, number>> = {};
    let errorCount = 0;
    const reject = (e: DataError) => {
      errorCount++;
      byCode[e.code] = (byCode[e.code] ?? 0) + 1;
      if (errors.length < 100) errors.push(e);
      if (settings.skipInvalid) writer.reportSkipped(e);
    };
    const seq = o.seqLength;
    const pack = new Int32Array(seq);
    let packed = 0;
    let documents = 0;
    const ranges = [0, seq];
    const emit = (ids: readonly number[]) => {
      for (const id of ids) {
        pack[packed++] = id;
        if (packed === seq) { writer.add(pack, ranges, 0, 0); packed = 0; }
      }
    };
    let batch: Segment[] = [];
    const flush = async () => {
      if (!batch.length) return;
      const encoded = await tokenizer.encodeBatch(batch.map((s) => s.text), { addSpecialTokens: false });
      for (let i = 0; i < batch.length; i++) {
        if (batch[i]!.startsDocument) emit(tokenizer.prefixIds);
        emit(encoded[i]!);
        if (batch[i]!.endsDocument) { emit([tokenizer.eosId!]); documents++; }
      }
      batch = [];
    };
    const push = async (s: Segment) => {
      batch.push(s);
      if (batch.length >= BATCH_SEGMENTS) await flush();
    };
    // a document arrives in pieces of whole lines
    let doc = '';
    let docStarted = false;
    const addText = async (text: string, end: boolean) => {
      if (doc.length && doc.length + text.length > SEGMENT_CHARS) {
        await push({ text: doc, startsDocument: !docStarted, endsDocument: false });
        docStarted = true;
        doc = '';
      }
      doc += text;
      if (end && (doc.length || docStarted)) {
        await push({ text: doc, startsDocument: !docStarted, endsDocument: true });
        doc = '';
        docStarted = false;
      }
    };
    for await (const item of readLines(source, digest)) {
      if (item instanceof DataError) { reject(item); continue; }
      if (jsonl) {
        if (item.text.trim() === '') continue;
        let value: unknown;
        try { value = JSON.parse(item.text); } catch (e) { reject(jsonError(source, item.line, item.text, e)); continue; }
        const text = typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[textField] : undefined;
        if (typeof text !== 'string') {
          reject(new DataError({ code: text === undefined ? 'missing-field' : 'wrong-type', file: source, line: item.line, field: textField, problem: text === undefined ? 'is missing' : 'is not a string', fix: `give every line a "${textField}" string[[ (or name the field: {{textField}})]]` }));
          continue;
        }
        if (text.trim() === '') continue;
        // cut long documents at line ends
        const lines = text.split('\n');
        for (let i = 0; i < lines.length; i++) await addText(i < lines.length - 1 ? `${lines[i]}\n` : lines[i]!, i === lines.length - 1);
      } else if (item.text.trim() === '') {
        if (doc.length || docStarted) await addText('', true);
      } else {
        await addText(doc.length || docStarted ? `\n${item.text}` : item.text, false);
      }
      if (item.line % 4096 === 0) o.onProgress?.({ file: source, bytesRead: digest.bytes, totalBytes: 0, examples: writer.count });
    }
    if (doc.length || docStarted) await addText('', true);
    await flush();
    if (errorCount && !settings.skipInvalid) throw new DataValidationError(errors, errorCount, byCode);
    if (writer.count === 0) {
      throw new DataError({ code: 'file', file: source, problem: `not enough text for one sequence of ${seq} tokens (${packed} tokens)`, fix: 'use a larger corpus or a shorter sequence length' });
    }
    const n = writer.count;
    const lengths = new Uint32Array(n).fill(seq);
    const trained = new Uint32Array(n).fill(seq - 1);
    const all = lengthStats(lengths, trained);
    const none = lengthStats(new Uint32Array(0), new Uint32Array(0));
    const manifest: DatasetManifest = {
      format: MANIFEST_FORMAT, version: MANIFEST_VERSION, kind: 'packed', createdAt: new Date().toISOString(),
      key: keyOf(digest.sha256()),
      sources: [{ path: resolve(source), role: 'train', format: jsonl ? 'jsonl' : 'text', sha256: digest.sha256(), bytes: digest.bytes, fields: `${documents} documents` }],
      tokenizer: { source: tokenizer.source, fingerprint: tokenizer.fingerprint, vocabSize: tokenizer.vocabSize, bosId: tokenizer.bosId ?? null, eosId: tokenizer.eosId ?? null, padId: tokenizer.padId ?? null },
      template: { kind: 'none' },
      settings,
      tokenDtype: writer.tokenDtype,
      counts: { records: documents, examples: n, train: n, validation: 0, test: 0, skipped: errorCount, truncated: 0, droppedTooLong: 0, droppedTailTokens: packed },
      skippedByCode: byCode,
      stats: { all, train: all, validation: none, test: none },
    };
    writer.commit(new Uint8Array(n), manifest);
    return { dir: outDir, manifest, reused: false };
  } catch (error) {
    writer.abort();
    throw error;
  }
}
