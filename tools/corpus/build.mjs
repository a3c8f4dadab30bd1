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
import { demoSets, qaTextDocuments } from './demoSets.mjs';
import { factbookDocuments } from './factbookProse.mjs';
import { factDocuments } from './factProse.mjs';
import { arithmeticRecords, factRecords } from './factRecords.mjs';
import { SeededRandom } from './seededRandom.mjs';
import { storyDocuments } from './stories.mjs';
import { wordnetDocuments } from './wordnetProse.mjs';

export const SEED = 20250611;
const STORIES = 1000;
/** WordNet senses kept (a seeded sample of the eligible ones), so that WordNet does not outweigh the rest. */
const WORDNET_DOCS = 3000;
/**
 * General text held out of the corpus (assets/demo/general_text.txt): never pretrained on, never
 * replayed (replay reads assets/corpus), so next-token accuracy and perplexity on it measure general
 * language ability before and after fine-tuning. Stories and WordNet senses of the same generators,
 * and every FACTBOOK_HOLDOUT-th Factbook text.
 */
const HELD_OUT = { stories: 100, wordnet: 400 };
const FACTBOOK_HOLDOUT = 20;

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

function writeDemoText(name, docs) {
  const file = join(root, 'assets/demo', name);
  mkdirSync(dirname(file), { recursive: true });
  const clean = docs.map((d) => d.replace(/\r\n?/g, '\n').replace(/\n\s*\n+/g, '\n').trim()).filter((d) => d.length > 0);
  writeFileSync(file, `${clean.join('\n\n')}\n`);
  console.log(`${name}: ${clean.length} documents`);
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
const sets = demoSets([...records, ...arithmetic], seed);
const factDocs = factDocuments(facts, records, arithmetic, seed);
const allStories = storyDocuments(records, STORIES + HELD_OUT.stories, seed, facts);
const stories = allStories.slice(0, STORIES);
const qaText = qaTextDocuments(sets.pretrain, seed);
const heldOutText = [...allStories.slice(STORIES)];
writeCorpus('facts.txt', factDocs);
writeCorpus('stories.txt', stories);
writeCorpus('qa_text.txt', qaText);
if (args.factbook) {
  const docs = factbookDocuments(resolve(args.factbook));
  writeCorpus('factbook.txt', docs.filter((_, i) => i % FACTBOOK_HOLDOUT !== FACTBOOK_HOLDOUT - 1));
  heldOutText.push(...docs.filter((_, i) => i % FACTBOOK_HOLDOUT === FACTBOOK_HOLDOUT - 1));
}
if (args.wordnet) {
  const senses = wordnetDocuments(resolve(args.wordnet));
  const rng = SeededRandom.forPart(seed, 'wordnet');
  const order = rng.shuffled(senses.map((_, i) => i));
  const chosen = new Set(order.slice(0, WORDNET_DOCS));
  const heldOut = new Set(order.slice(WORDNET_DOCS, WORDNET_DOCS + HELD_OUT.wordnet));
  writeCorpus('wordnet.txt', senses.filter((_, i) => chosen.has(i)).map((s) => s.text));
  heldOutText.push(...senses.filter((_, i) => heldOut.has(i)).map((s) => s.text));
}

// The point of the demo: the corpus states every fact but never asks the demo's questions.
const generated = [...factDocs, ...stories, ...qaText].join('\n');
for (const q of [...sets.qa, ...sets.qaTest]) if (generated.includes(q.question)) throw new Error(`the corpus contains the Q&A question ${JSON.stringify(q.question)}`);
writeJsonl('qa.jsonl', sets.qa);
writeJsonl('qa_test.jsonl', sets.qaTest);
writeJsonl('general_eval.jsonl', sets.general);
writeJsonl('prose_eval.jsonl', sets.proseEval);
if (args.factbook && args.wordnet) writeDemoText('general_text.txt', heldOutText);
const splitFile = join(root, 'assets/demo/split.json');
writeFileSync(splitFile, JSON.stringify({ about: 'Fact ids (tools/corpus/factRecords.mjs) of each disjoint set; made by tools/corpus/build.mjs', seed, ...sets.split }, null, 1) + '\n');
console.log(`split.json: ${Object.entries(sets.split).map(([k, v]) => `${k} ${v.length}`).join(', ')}`);
