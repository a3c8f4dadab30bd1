// A prepared dataset: a folder that training reads, written once by prepareDataset/prepareCorpus.
//
//   manifest.json   what it was made from (source hashes, tokenizer, template, settings) and counts
//   tokens.bin      every example's token ids, concatenated (uint16 LE when the vocabulary allows, else uint32)
//   examples.bin    per example 7 x uint32 LE: token start (lo, hi), length, first range, range count,
//                   source line, source file index
//   ranges.bin      trained positions, uint32 [start, end) pairs relative to the example
//   splits.bin      per example one byte: 0 train, 1 validation, 2 test
//   skipped.jsonl   with --skip-invalid: one DataError per line for each record left out
import { closeSync, existsSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { DataError } from './dataError';
import { labelsFor } from './exampleEncoder';

export const MANIFEST_FORMAT = 'ftlab-prepared-dataset';
export const MANIFEST_VERSION = 1;
export const EXAMPLE_FIELDS = 7;
export const FILES = { manifest: 'manifest.json', tokens: 'tokens.bin', examples: 'examples.bin', ranges: 'ranges.bin', splits: 'splits.bin', skipped: 'skipped.jsonl' } as const;

export type Split = 'train' | 'validation' | 'test';
export const SPLITS: readonly Split[] = ['train', 'validation', 'test'];

export interface LengthStats {
  examples: number;
  tokens: number;
  /** Targets that count in the loss (trained positions after the first). */
  trainedTokens: number;
  /** trainedTokens / tokens: the answer-token share. */
  trainedShare: number;
  p50: number;
  p95: number;
  max: number;
  mean: number;
}

export interface DatasetManifest {
  format: typeof MANIFEST_FORMAT;
  version: number;
  kind: 'examples' | 'packed';
  createdAt: string;
  /** sha256 over everything that decides the content: equal keys, equal datasets. */
  key: string;
  sources: { path: string; role: Split | 'all'; format: string; sha256: string; bytes: number; fields?: string }[];
  tokenizer: { source: string; fingerprint: string; vocabSize: number; bosId: number | null; eosId: number | null; padId: number | null };
  template: { kind: 'prompt'; text: string } | { kind: 'chat'; sha256: string } | { kind: 'none' };
  settings: Record<string, unknown> & { maxLength: number };
  tokenDtype: 'uint16' | 'uint32';
  counts: {
    records: number;
    examples: number;
    train: number;
    validation: number;
    test: number;
    skipped: number;
    truncated: number;
    droppedTooLong: number;
    /** Packed corpora: tokens left over after the last full sequence. */
    droppedTailTokens?: number;
  };
  /** Skipped records by error code (with --skip-invalid). */
  skippedByCode: Record<string, number>;
  stats: Record<Split | 'all', LengthStats>;
}

export interface TrainingExample {
  /** Token ids. */
  inputIds: Int32Array;
  /** Aligned with inputIds; -100 = not trained (Hugging Face convention: the model shifts). */
  labels: Int32Array;
}

/** Reads a manifest, or returns null when the folder has none or another format. */
export function readManifest(dir: string): DatasetManifest | null {
  const file = join(dir, FILES.manifest);
  if (!existsSync(file)) return null;
  try {
    const m = JSON.parse(readFileSync(file, 'utf8')) as DatasetManifest;
    return m.format === MANIFEST_FORMAT && m.version === MANIFEST_VERSION ? m : null;
  } catch {
    return null;
  }
}

/** Token ids are read on demand from disk; small datasets are held in memory. */
const IN_MEMORY_BYTES = 256 << 20;

export class PreparedDataset {
  private readonly examples: Uint32Array;
  private readonly ranges: Uint32Array;
  private readonly bySplit: Record<Split, Uint32Array>;
  private readonly bytesPerToken: number;
  private tokens: Buffer | null = null;
  private fd: number | null = null;

  private constructor(readonly dir: string, readonly manifest: DatasetManifest, inMemoryBytes: number) {
    const read = (name: string) => {
      const b = readFileSync(join(dir, name));
      return new Uint32Array(b.buffer, b.byteOffset, b.byteLength >> 2);
    };
    this.examples = read(FILES.examples);
    this.ranges = read(FILES.ranges);
    const splits = readFileSync(join(dir, FILES.splits));
    const count = this.examples.length / EXAMPLE_FIELDS;
    if (splits.length !== count) throw broken(dir, `${FILES.splits} has ${splits.length} entries for ${count} examples`);
    const lists: number[][] = [[], [], []];
    for (let i = 0; i < count; i++) lists[splits[i]!]!.push(i);
    this.bySplit = { train: Uint32Array.from(lists[0]!), validation: Uint32Array.from(lists[1]!), test: Uint32Array.from(lists[2]!) };
    this.bytesPerToken = manifest.tokenDtype === 'uint16' ? 2 : 4;
    this.fd = openSync(join(dir, FILES.tokens), 'r');
    const size = fstatSync(this.fd).size;
    if (size <= inMemoryBytes) {
      this.tokens = readFileSync(join(dir, FILES.tokens));
      closeSync(this.fd);
      this.fd = null;
    }
  }

  /** Opens a folder written by prepareDataset or prepareCorpus; token files up to inMemoryBytes are read whole. */
  static open(dir: string, options: { inMemoryBytes?: number } = {}): PreparedDataset {
    const manifest = readManifest(dir);
    if (!manifest) throw broken(dir, `no ${FILES.manifest} of a prepared dataset (version ${MANIFEST_VERSION})`);
    for (const f of [FILES.tokens, FILES.examples, FILES.ranges, FILES.splits]) if (!existsSync(join(dir, f))) throw broken(dir, `${f} is missing`);
    return new PreparedDataset(dir, manifest, options.inMemoryBytes ?? IN_MEMORY_BYTES);
  }

  size(split: Split): number {
    return this.bySplit[split].length;
  }

  /** Example indices of a split, in file order. */
  indices(split: Split): Uint32Array {
    return this.bySplit[split];
  }

  /** The i-th example of a split. */
  get(split: Split, i: number): TrainingExample {
    const list = this.bySplit[split];
    if (!(i >= 0 && i < list.length)) throw new RangeError(`${split} has ${list.length} examples, no index ${i}`);
    return this.example(list[i]!);
  }

  *iterate(split: Split): Generator<TrainingExample> {
    for (const e of this.bySplit[split]) yield this.example(e);
  }

  /** Token count of an example, by global index (cheap: no token read). */
  exampleLength(index: number): number {
    return this.examples[index * EXAMPLE_FIELDS + 2]!;
  }

  /** The example with a global index (as stored). */
  example(index: number): TrainingExample {
    const o = index * EXAMPLE_FIELDS;
    const start = this.examples[o]! + this.examples[o + 1]! * 2 ** 32;
    const length = this.examples[o + 2]!;
    const inputIds = this.readTokens(start, length);
    const r = this.examples[o + 3]! * 2;
    const labels = labelsFor(inputIds, this.ranges.subarray(r, r + this.examples[o + 4]! * 2));
    return { inputIds, labels };
  }

  /** Where an example came from. */
  origin(index: number): { source: string; line: number } {
    const o = index * EXAMPLE_FIELDS;
    return { source: this.manifest.sources[this.examples[o + 6]!]?.path ?? '', line: this.examples[o + 5]! };
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
    this.tokens = null;
  }

  private readTokens(start: number, length: number): Int32Array {
    const bytes = length * this.bytesPerToken;
    let buf: Buffer;
    if (this.tokens) buf = this.tokens.subarray(start * this.bytesPerToken, start * this.bytesPerToken + bytes);
    else {
      if (this.fd === null) throw new Error('the dataset is closed');
      buf = Buffer.allocUnsafe(bytes);
      readSync(this.fd, buf, 0, bytes, start * this.bytesPerToken);
    }
    const out = new Int32Array(length);
    if (this.bytesPerToken === 2) for (let i = 0; i < length; i++) out[i] = buf.readUInt16LE(2 * i);
    else for (let i = 0; i < length; i++) out[i] = buf.readUInt32LE(4 * i);
    return out;
  }
}

function broken(dir: string, problem: string): DataError {
  return new DataError({ code: 'file', file: dir, problem: `is not a usable prepared dataset: ${problem}`, fix: 'prepare the data again[[ ({{force}})]]' });
}
