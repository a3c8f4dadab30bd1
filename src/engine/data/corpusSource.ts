// A corpus given as a folder: its *.txt files joined, in name order, into one file (documents stay
// separated by blank lines), which prepareCorpus then packs.

import { readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
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
