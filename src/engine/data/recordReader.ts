// One stream of records for every input format: JSON Lines, JSON array, CSV, TSV.
import { open, stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { DataError } from './dataError';
import { readDelimited } from './delimitedRecords';
import { readJsonArray, readJsonLines } from './jsonRecords';
import type { SourceDigest } from './lineReader';

export type DataFormat = 'jsonl' | 'json' | 'csv' | 'tsv';
export const DATA_FORMATS: readonly DataFormat[] = ['jsonl', 'json', 'csv', 'tsv'];

/** A parsed record and where it starts. CSV/TSV values are objects of strings keyed by the header. */
export interface SourceRecord {
  file: string;
  line: number;
  value: unknown;
}

/** The format from the extension; a .json file that starts with { is read as JSON Lines. */
export async function detectFormat(file: string): Promise<DataFormat> {
  const ext = extname(file).toLowerCase();
  if (ext === '.jsonl' || ext === '.ndjson') return 'jsonl';
  if (ext === '.csv') return 'csv';
  if (ext === '.tsv' || ext === '.tab') return 'tsv';
  if (ext === '.json') {
    const handle = await open(file, 'r');
    try {
      const buf = Buffer.alloc(1 << 16);
      const { bytesRead } = await handle.read(buf, 0, buf.length, 0);
      const head = buf.subarray(0, bytesRead).toString('utf8').replace(/^\uFEFF/, '').trimStart();
      if (!head.startsWith('{')) return 'json';
      // one object per line (JSON Lines), or one object spread over lines (reported as not an array)
      const first = head.split('\n', 1)[0]!;
      if (first.length === head.length && bytesRead === buf.length) return 'jsonl'; // a first line longer than the sample
      try {
        JSON.parse(first);
        return 'jsonl';
      } catch {
        return 'json';
      }
    } finally {
      await handle.close();
    }
  }
  throw new DataError({
    code: 'file', file,
    problem: `cannot tell the format from the extension "${ext || '(none)'}"`,
    fix: 'name the file .jsonl, .json, .csv or .tsv[[, or give the format ({{format}})]]',
  });
}

/** Checks that `file` is a readable file, with a DataError saying what to do otherwise. */
export async function checkSourceFile(file: string): Promise<void> {
  let s;
  try {
    s = await stat(file);
  } catch {
    throw new DataError({ code: 'file', file, problem: 'the file does not exist', fix: 'check the path (relative paths start at the current folder)' });
  }
  if (!s.isFile()) throw new DataError({ code: 'file', file, problem: 'is not a file', fix: 'give the path of a data file (.jsonl, .json, .csv, .tsv)' });
}

export function readRecords(file: string, format: DataFormat, digest?: SourceDigest): AsyncGenerator<SourceRecord | DataError> {
  switch (format) {
    case 'jsonl': return readJsonLines(file, digest);
    case 'json': return readJsonArray(file, digest);
    case 'csv': return readDelimited(file, ',', digest);
    case 'tsv': return readDelimited(file, '\t', digest);
  }
}
