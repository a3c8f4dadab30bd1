// A corpus given as a folder: its *.txt files joined, in name order, into one file (documents stay
// separated by blank lines), which prepareCorpus then packs.

import { closeSync, openSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { uniformRng } from '../random';
import { join } from 'node:path';

/** `path` itself when it is a file; else the joined *.txt files of the folder, written to `joinedFile`. */
export function corpusSource(path: string, joinedFile: string): { file: string; parts: string[] } {
  if (!statSync(path).isDirectory()) return { file: path, parts: [path] };
  const files = readdirSync(path).filter((n) => n.endsWith('.txt')).sort();
  if (!files.length) throw new Error(`${path} has no .txt files to use as a corpus`);
  const tmp = `${joinedFile}.tmp-${process.pid}`;
  writeFileSync(tmp, files.map((n) => readFileSync(join(path, n), 'utf8').trim()).join('\n\n') + '\n');
  renameSync(tmp, joinedFile);
  return { file: joinedFile, parts: files.map((n) => join(path, n)) };
}

/**
 * The corpus' documents written `epochs` times, each time in a new seeded order, into `outFile`:
 * packed into sequences afterwards, every pass puts a document in a new context (other neighbours,
 * another offset in its sequence). Packed once, a fact always sits in the same context, and a small
 * model memorizes it in place but cannot recall it from a fresh prompt.
 */
export function repackedCorpus(file: string, outFile: string, epochs: number, seed: number): { file: string; documents: number } {
  if (!Number.isInteger(epochs) || epochs < 1) throw new RangeError(`epochs must be a whole number >= 1, got ${epochs}`);
  const docs = readFileSync(file, 'utf8').split(/\n\s*\n/).map((d) => d.trim()).filter((d) => d.length > 0);
  const tmp = `${outFile}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w');
  try {
    for (let e = 0; e < epochs; e++) {
      const next = uniformRng(seed * 1000 + e);
      const order = docs.map((_, i) => i);
      for (let i = order.length - 1; i > 0; i--) { const j = Math.floor(next() * (i + 1)); [order[i], order[j]] = [order[j], order[i]]; }
      writeSync(fd, order.map((i) => docs[i]).join('\n\n') + '\n\n');
    }
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, outFile);
  return { file: outFile, documents: docs.length };
}
