// Trains the built-in model's tokenizer on the corpus and writes it in Hugging Face's format:
//   assets/base-model/tokenizer.json         byte-level BPE, GPT-2's pre-tokenizer regex and decoder
//   assets/base-model/tokenizer_config.json  <|endoftext|> as BOS, EOS, PAD and UNK; model_max_length
//
//   node tools/corpus/trainTokenizer.mjs      (after build.mjs; reads assets/corpus/*.txt)
//
// The merges are learned by Hugging Face's own BPE trainer (the `tokenizers` npm package, the Rust
// library). Its Node binding exposes `Tokenizer.train(files)` but not the trainer's settings, so it
// runs with the default trainer (no vocabulary limit) and the first merges are kept: BPE training is
// greedy, so the first N merges are exactly what a trainer stopped at N merges would have produced.
// The vocabulary is then laid out as:
//   id 0          <|endoftext|> (BOS = EOS = PAD)
//   ids 1..256    the 256 bytes, in byte order (GPT-2's byte-to-character map), so any text encodes
//   ids 257..     the merges, in the order they were learned
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const VOCAB_SIZE = 4096;
export const MODEL_MAX_LENGTH = 256;
export const SPECIAL = '<|endoftext|>';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const require = createRequire(join(root, 'package.json'));
const { Tokenizer, BPE, byteLevelPreTokenizer } = require('tokenizers');

/** GPT-2's map from bytes to printable characters (bytes_to_unicode in OpenAI's encoder.py). */
function byteAlphabet() {
  const printable = [];
  for (let b = 33; b <= 126; b++) printable.push(b);
  for (let b = 161; b <= 172; b++) printable.push(b);
  for (let b = 174; b <= 255; b++) printable.push(b);
  const chars = new Array(256);
  let extra = 0;
  for (let b = 0; b < 256; b++) chars[b] = String.fromCodePoint(printable.includes(b) ? b : 256 + extra++);
  return chars;
}

const corpusDir = join(root, 'assets/corpus');
const files = readdirSync(corpusDir).filter((f) => f.endsWith('.txt')).sort().map((f) => join(corpusDir, f));
if (files.length === 0) throw new Error(`no corpus in ${corpusDir}: run tools/corpus/build.mjs first`);

const trainer = new Tokenizer(BPE.empty());
trainer.setPreTokenizer(byteLevelPreTokenizer(false, true));
trainer.train(files);
const work = mkdtempSync(join(tmpdir(), 'ftlab-bpe-'));
trainer.save(join(work, 'trained.json'), false);
const trained = JSON.parse(readFileSync(join(work, 'trained.json'), 'utf8'));
rmSync(work, { recursive: true, force: true });

const vocab = { [SPECIAL]: 0 };
for (const c of byteAlphabet()) vocab[c] = Object.keys(vocab).length;
const merges = [];
for (const m of trained.model.merges) {
  if (Object.keys(vocab).length >= VOCAB_SIZE) break;
  const [a, b] = Array.isArray(m) ? m : m.split(' ');
  if (!(a in vocab) || !(b in vocab)) throw new Error(`merge ${a} ${b} uses a token that is not in the vocabulary`);
  merges.push([a, b]);
  if (!(a + b in vocab)) vocab[a + b] = Object.keys(vocab).length;
}
if (Object.keys(vocab).length !== VOCAB_SIZE) throw new Error(`the corpus gave only ${Object.keys(vocab).length} tokens, fewer than ${VOCAB_SIZE}`);

const byteLevel = (addPrefixSpace, trimOffsets) => ({ type: 'ByteLevel', add_prefix_space: addPrefixSpace, trim_offsets: trimOffsets, use_regex: true });
const tokenizerJson = {
  version: '1.0',
  truncation: null,
  padding: null,
  added_tokens: [{ id: 0, content: SPECIAL, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }],
  normalizer: null,
  pre_tokenizer: byteLevel(false, true),
  post_processor: byteLevel(true, false),
  decoder: byteLevel(true, true),
  model: {
    type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null,
    fuse_unk: false, byte_fallback: false, ignore_merges: false, vocab, merges,
  },
};
const out = join(root, 'assets/base-model');
writeFileSync(join(out, 'tokenizer.json'), JSON.stringify(tokenizerJson) + '\n');
writeFileSync(join(out, 'tokenizer_config.json'), JSON.stringify({
  add_bos_token: false,
  add_eos_token: false,
  add_prefix_space: false,
  bos_token: SPECIAL,
  eos_token: SPECIAL,
  pad_token: SPECIAL,
  unk_token: SPECIAL,
  clean_up_tokenization_spaces: false,
  model_max_length: MODEL_MAX_LENGTH,
  tokenizer_class: 'GPT2Tokenizer',
  added_tokens_decoder: { 0: { content: SPECIAL, lstrip: false, normalized: false, rstrip: false, single_word: false, special: true } },
}, null, 2) + '\n');

// The file must load in the library and give back every corpus line unchanged.
const tok = Tokenizer.fromFile(join(out, 'tokenizer.json'));
let tokens = 0;
for (const f of files) {
  const lines = readFileSync(f, 'utf8').split('\n').filter((l) => l.length > 0);
  let fileTokens = 0;
  for (let i = 0; i < lines.length; i += 512) {
    const batch = lines.slice(i, i + 512);
    const enc = await tok.encodeBatch(batch);
    const ids = enc.map((e) => e.getIds());
    const back = await tok.decodeBatch(ids, false);
    back.forEach((t, k) => { if (t !== batch[k]) throw new Error(`${f}: line ${i + k + 1} does not round-trip`); });
    fileTokens += ids.reduce((s, x) => s + x.length, 0);
  }
  tokens += fileTokens;
  console.log(`${f.slice(root.length + 1)}: ${fileTokens} tokens`);
}
console.log(`tokenizer: ${tok.getVocabSize()} tokens in the vocabulary, ${merges.length} merges; corpus ${tokens} tokens`);
