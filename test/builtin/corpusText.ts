// The built-in corpus and demo sets as the tests read them: files, documents, sentences.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BUILTIN_CORPUS_FILES, PACKAGE_ROOT } from '../../src/engine/builtin';

export const CORPUS_DIR = join(PACKAGE_ROOT, 'assets', 'corpus');

/** Every .txt file of assets/corpus (whether or not builtin.ts lists it). */
export function corpusTxtFiles(): string[] {
  return readdirSync(CORPUS_DIR).filter((f) => f.endsWith('.txt')).sort();
}

export const corpusText: ReadonlyMap<string, string> = new Map(BUILTIN_CORPUS_FILES.map((f) => [f, readFileSync(f, 'utf8')]));

export const allText = [...corpusText.values()].join('\n\n');

// not after an initial ("J. R. R. Tolkien", "Washington, D.C.")
const rawSentences: readonly string[] = allText.split(/\n+|(?<=(?<![A-Z])[.!?]["”]?)\s+/).map((s) => s.trim()).filter((s) => s.length > 0);
/** Sentences (split after . ! ? and at line ends), lower-cased, for "is this fact stated" checks. */
export const sentences: readonly string[] = rawSentences.map((s) => s.toLowerCase());

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A sentence of the corpus that contains both phrases as whole words (case-insensitive; 1-2 letter phrases keep their case). */
export function sentenceStating(subject: string, answer: string): string | undefined {
  const word = (p: string) => new RegExp(`(?<![\\p{L}\\p{N}])${escape(p)}(?![\\p{L}\\p{N}])`, p.length <= 2 ? 'u' : 'iu');
  const a = word(answer);
  const s = word(subject);
  return (answer.length <= 2 ? rawSentences : sentences).find((x) => a.test(x) && s.test(x));
}

export function readJsonl(file: string): Record<string, string>[] {
  return readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as Record<string, string>);
}

const SMALL = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten', 'eleven', 'twelve', 'thirteen',
  'fourteen', 'fifteen', 'sixteen', 'seventeen', 'eighteen', 'nineteen'];
const TENS = ['', '', 'twenty', 'thirty', 'forty', 'fifty', 'sixty', 'seventy', 'eighty', 'ninety'];

/** "one hundred forty-four" -> 144; undefined when the words are not a number. */
export function parseNumberWords(text: string): number | undefined {
  let total = 0;
  let seen = false;
  for (const w of text.toLowerCase().split(/\s+/)) {
    if (w === 'hundred') {
      if (!seen || total === 0 || total > 9) return undefined;
      total *= 100;
      continue;
    }
    const [t, o] = w.split('-');
    if (o !== undefined) {
      const tv = TENS.indexOf(t!);
      const ov = SMALL.indexOf(o);
      if (tv < 2 || ov < 1 || ov > 9) return undefined;
      total += tv * 10 + ov;
    } else if (SMALL.includes(w)) {
      total += SMALL.indexOf(w);
    } else if (TENS.indexOf(w) >= 2) {
      total += TENS.indexOf(w) * 10;
    } else {
      return undefined;
    }
    seen = true;
  }
  return seen ? total : undefined;
}
