// Writes the built-in corpus (assets/corpus/*.txt) and the demo sets (assets/demo/*.jsonl).
//
//   node tools/corpus/build.mjs                       facts.txt, stories.txt, the demo sets
//   node tools/corpus/build.mjs --factbook DIR --wordnet DIR
//                                                     ...and factbook.txt, wordnet.txt from their sources
//                                                     (tools/corpus/fetch-sources.sh downloads them)
//
// Everything is deterministic: the same facts.json, sources and seed give byte-identical files.
// Corpus files are plain text, one document per paragraph, documents separated by a blank line (the
// format `ftlab prepare` reads for a .txt corpus).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { demoSets } from './demoSets.mjs';
import { factbookDocuments } from './factbookProse.mjs';
import { factDocuments } from './factProse.mjs';
import { arithmeticRecords, factRecords } from './factRecords.mjs';
import { SeededRandom } from './seededRandom.mjs';
import { storyDocuments } from './stories.mjs';
import { wordnetDocuments } from './wordnetProse.mjs';

export const SEED = 20250611;
const STORIES = 1000;
/** WordNet senses kept (a seeded sample of the eligible ones), so that WordNet does not outweigh the rest. */
const WORDNET_DOCS = 6000;

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const { values: args } = parseArgs({ options: { factbook: { type: 'string' }, wordnet: { type: 'string' }, seed: { type: 'string' } } });
const seed = args.seed ? Number(args.seed) : SEED;

function writeCorpus(name, docs) {
  const clean = docs.map((d) => d.replace(/\r\n?/g, '\n').replace(/\n\s*\n+/g, '\n').trim()).filter((d) => d.length > 0);
  const file = join(root, 'assets/corpus', name);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${clean.join('\n\n')}\n`);
  console.log(`${name}: ${clean.length} documents, ${Buffer.byteLength(clean.join('\n\n'))} bytes`);
}

function writeJsonl(name, rows) {
  const file = join(root, 'assets/demo', name);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  console.log(`${name}: ${rows.length} records`);
}

const facts = JSON.parse(readFileSync(join(root, 'tools/corpus/facts.json'), 'utf8'));
const records = factRecords(facts);
const arithmetic = arithmeticRecords(facts);
const factDocs = factDocuments(facts, records, arithmetic, seed);
const stories = storyDocuments(records, STORIES, seed, facts);
writeCorpus('facts.txt', factDocs);
writeCorpus('stories.txt', stories);
if (args.factbook) writeCorpus('factbook.txt', factbookDocuments(resolve(args.factbook)));
if (args.wordnet) {
  const senses = wordnetDocuments(resolve(args.wordnet));
  const rng = SeededRandom.forPart(seed, 'wordnet');
  const chosen = new Set(rng.shuffled(senses.map((_, i) => i)).slice(0, WORDNET_DOCS));
  writeCorpus('wordnet.txt', senses.filter((_, i) => chosen.has(i)).map((s) => s.text));
}

const { qa, general } = demoSets([...records, ...arithmetic], seed);
// The point of the demo: the corpus states every fact but never asks the question.
const generated = [...factDocs, ...stories].join('\n');
for (const q of qa) if (generated.includes(q.question)) throw new Error(`the corpus contains the Q&A question ${JSON.stringify(q.question)}`);
writeJsonl('qa.jsonl', qa);
writeJsonl('general_eval.jsonl', general);
