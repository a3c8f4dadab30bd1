// Shared by the data tests: scratch folders, a tiny word-level tokenizer written by the test, and a
// prepare-then-read shortcut.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { loadTokenizer, type Tokenizer } from '../../src/engine/tokenizer';
import { PreparedDataset, type Split } from '../../src/engine/data/preparedDataset';
import { prepareDataset, type PrepareOptions } from '../../src/engine/data/prepareDataset';

/** A scratch folder removed after the test file. */
export function scratchDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `ftlab-${prefix}-`));
  after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export function put(dir: string, name: string, content: string | Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

export const TINY_SPECIALS = { unk: '[UNK]', eos: '</s>', bos: '<s>', pad: '<pad>' };

/**
 * A WordLevel tokenizer over whitespace-separated words: [UNK]=0, then `words` from 1 in order, then the
 * added special tokens </s>, <s>, <pad> (ids after the words; not words of the model vocabulary, so a
 * user's "</s>" is an unknown word). Token i of an encoding is the i-th word: readable expectations.
 */
export async function tinyTokenizer(dir: string, words: readonly string[], config: Record<string, unknown> = {}, chatTemplate?: string): Promise<Tokenizer> {
  const vocab: Record<string, number> = { '[UNK]': 0 };
  let next = 1;
  for (const w of words) if (!(w in vocab)) vocab[w] = next++;
  const added = ['</s>', '<s>', '<pad>'].map((content, i) => ({ id: next + i, content, special: true, single_word: false, lstrip: false, rstrip: false, normalized: false }));
  const folder = join(dir, `tiny-${Object.keys(config).join('-')}-${chatTemplate ? 'chat' : 'plain'}-${words.length}-${Math.random().toString(36).slice(2, 8)}`);
  mkdirSync(folder, { recursive: true });
  writeFileSync(join(folder, 'tokenizer.json'), JSON.stringify({
    version: '1.0', truncation: null, padding: null, added_tokens: added,
    normalizer: null, pre_tokenizer: { type: 'WhitespaceSplit' }, post_processor: null,
    decoder: { type: 'Fuse' },
    model: { type: 'WordLevel', vocab, unk_token: '[UNK]' },
  }));
  writeFileSync(join(folder, 'tokenizer_config.json'), JSON.stringify({
    bos_token: '<s>', eos_token: '</s>', pad_token: '<pad>', unk_token: '[UNK]', add_bos_token: false, ...config,
    ...(chatTemplate ? { chat_template: chatTemplate } : {}),
  }));
  return loadTokenizer(folder);
}

/** Words of an id sequence, for readable assertions. */
export function words(tok: Tokenizer, ids: ArrayLike<number>): string[] {
  return Array.from(ids, (id) => tok.idToToken(id) ?? `#${id}`);
}

/** The trained words: a label that is not -100, as its token. */
export function trainedWords(tok: Tokenizer, labels: ArrayLike<number>): string[] {
  return Array.from(labels).filter((l) => l !== -100).map((l) => tok.idToToken(l) ?? `#${l}`);
}

/** Prepares into a fresh folder and opens it. */
export async function prepareAndOpen(dir: string, o: Omit<PrepareOptions, 'outDir'> & { outDir?: string }): Promise<PreparedDataset> {
  const out = o.outDir ?? join(dir, `out-${Math.random().toString(36).slice(2)}`);
  const r = await prepareDataset({ split: { validation: 0, test: 0 }, ...o, outDir: out });
  return PreparedDataset.open(r.dir);
}

/** Every example of a split (all of them, by default in the train split). */
export function all(ds: PreparedDataset, split: Split = 'train') {
  return [...ds.iterate(split)];
}
