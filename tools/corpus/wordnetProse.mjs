// Definitions and example sentences of WordNet 3.0 (Princeton University; WordNet 3.0 license, a
// permissive licence whose notice is in NOTICE), from the Debian package wordnet-base 1:3.0-37.
// One document per word sense, written as plain sentences:
//   "To run means to move fast by using one's feet, with one foot off the ground at any given time.
//    Don't run--you'll be out of breath. The children ran to the store."
// Only senses that are a word's first or second meaning, seen in WordNet's frequency counts, with at least
// one example sentence are used; proper nouns are left out (their glosses date from 2006 and could
// contradict facts.json), and so are senses whose gloss marks them as slurs or vulgar.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const POS = [['noun', 'n'], ['verb', 'v'], ['adj', 'a'], ['adv', 'r']];
const MARKED = /\b(slur|offensive|vulgar|obscene|disparaging|derogatory|contemptuous|ethnic)\b|\(slang\)/i;

/** Offsets of the everyday senses: a word's first two senses, if WordNet's frequency counts saw them. */
function taggedOffsets(dir, pos) {
  const tagged = new Set();
  for (const line of readFileSync(join(dir, `index.${pos}`), 'utf8').split('\n')) {
    if (!line || line.startsWith(' ')) continue;
    const f = line.trim().split(' ');
    const pCnt = Number(f[3]);
    const tagsenseCnt = Number(f[5 + pCnt]);
    const offsets = f.slice(6 + pCnt);
    // the first two senses of a word, when tagged: its everyday meanings
    for (const o of offsets.slice(0, Math.min(tagsenseCnt, 2))) tagged.add(o);
  }
  return tagged;
}

function sentence(s) {
  const t = s.trim().replace(/\s+/g, ' ');
  if (!t) return '';
  const c = t.charAt(0).toUpperCase() + t.slice(1);
  return /[.!?]$/.test(c) ? c : `${c}.`;
}

function definitionSentence(pos, lemma, def) {
  const d = def.replace(/\s+/g, ' ').trim().replace(/[.;:,]$/, '');
  if (pos === 'verb') return `To ${lemma} means to ${d}.`;
  if (pos === 'noun') {
    if (/^(a|an|the|any|one|someone|something|anything|somebody) /.test(d)) return sentence(`${/^[aeiou]/.test(lemma) ? 'an' : 'a'} ${lemma} is ${d}`);
    return `The word ${lemma} means ${d}.`;
  }
  return `${lemma.charAt(0).toUpperCase()}${lemma.slice(1)} means ${d}.`;
}

/**
 * @param {string} dir WordNet's dict folder (usr/share/wordnet of wordnet-base)
 * @returns {{ pos: string, lemma: string, text: string }[]} one per sense, in file order
 */
export function wordnetDocuments(dir) {
  const out = [];
  for (const [pos] of POS) {
    const tagged = taggedOffsets(dir, pos);
    for (const line of readFileSync(join(dir, `data.${pos}`), 'utf8').split('\n')) {
      if (!line || line.startsWith(' ')) continue;
      const bar = line.indexOf(' | ');
      if (bar < 0) continue;
      const head = line.slice(0, bar).split(' ');
      if (!tagged.has(head[0])) continue;
      const lemma = head[4].replace(/\(.*\)$/, '').replace(/_/g, ' ');
      if (/[A-Z0-9]/.test(lemma)) continue;
      const gloss = line.slice(bar + 3).trim();
      if (MARKED.test(gloss)) continue;
      const examples = [...gloss.matchAll(/"([^"]+)"/g)].map((m) => m[1].trim()).filter((e) => e.split(' ').length >= 4);
      if (examples.length === 0) continue;
      const def = gloss.split(';')[0].trim();
      if (def.startsWith('"') || def.length < 3) continue;
      const text = [definitionSentence(pos, lemma, def), ...examples.map(sentence)].join(' ');
      out.push({ pos, lemma, text });
    }
  }
  return out;
}
