// The built-in model folder: a real Hugging Face tokenizer.json that loads in Hugging Face's library and
// gives back every corpus line unchanged, configs that agree with it and with the engine's parsers, a
// model of a few million parameters, and (once `ftlab pretrain` has made them) weights under 10 MB.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Tokenizer as RustTokenizer } from 'tokenizers';
import { BUILTIN_MODEL_DIR, BUILTIN_WEIGHTS_FILE } from '../../src/engine/builtin';
import { parseGenerationConfig, parseHfConfig, type Gpt2Config } from '../../src/engine/checkpoint/hfConfig';
import { loadTokenizer } from '../../src/engine/tokenizer';
import { corpusText } from './corpusText';

const json = (f: string) => JSON.parse(readFileSync(join(BUILTIN_MODEL_DIR, f), 'utf8')) as Record<string, unknown>;
const SPECIAL = '<|endoftext|>';
const rust = RustTokenizer.fromFile(join(BUILTIN_MODEL_DIR, 'tokenizer.json'));

test('tokenizer.json: byte-level BPE of 4096 tokens, <|endoftext|> = 0, the 256 bytes next', () => {
  const t = json('tokenizer.json') as { model: { type: string; vocab: Record<string, number>; merges: unknown[] }; pre_tokenizer: { type: string }; decoder: { type: string } };
  assert.equal(t.model.type, 'BPE');
  assert.equal(t.pre_tokenizer.type, 'ByteLevel');
  assert.equal(t.decoder.type, 'ByteLevel');
  assert.equal(rust.getVocabSize(true), 4096);
  assert.equal(rust.tokenToId(SPECIAL), 0);
  assert.equal(t.model.merges.length, 4096 - 257);
  const ids = new Set(Object.values(t.model.vocab));
  assert.equal(ids.size, 4096, 'ids are unique');
  assert.ok([...ids].every((i) => i >= 0 && i < 4096), 'ids are 0..4095');
});

test('every line of the corpus round-trips through the tokenizer (encode, then decode)', async () => {
  let tokens = 0;
  for (const [file, text] of corpusText) {
    const lines = text.split('\n').filter((l) => l.length > 0);
    for (let i = 0; i < lines.length; i += 1024) {
      const batch = lines.slice(i, i + 1024);
      const ids = (await rust.encodeBatch(batch)).map((e) => e.getIds());
      const back = await rust.decodeBatch(ids, false);
      back.forEach((line, k) => assert.equal(line, batch[k], `${file}:${i + k + 1}`));
      tokens += ids.reduce((s, x) => s + x.length, 0);
    }
  }
  assert.ok(tokens > 300_000 && tokens < 2_000_000, `${tokens} tokens`);
});

test('text outside the corpus round-trips too: every byte has a token', async () => {
  const samples = ['naïve café – “quotes” — 日本語 🙂👩‍👩‍👧', 'tabs\tand\r\nwindows lines', '\u0000\u0001 control', '    indented\n\n\ncode()'];
  for (const s of samples) {
    const e = await rust.encode(s);
    assert.equal(await rust.decode(e.getIds(), false), s);
    assert.ok(!e.getIds().includes(0), 'no special token from plain text');
  }
});

test("the engine's tokenizer loader reads it: <|endoftext|> is BOS, EOS and PAD, nothing is added to texts", async () => {
  const tok = await loadTokenizer(BUILTIN_MODEL_DIR);
  assert.equal(tok.vocabSize, 4096);
  assert.equal(tok.eosId, 0);
  assert.equal(tok.bosId, 0);
  assert.equal(tok.padId, 0);
  assert.deepEqual(tok.prefixIds, []);
  assert.equal(tok.modelMaxLength, 256);
  const ids = await tok.encode('The capital of France is Paris.');
  assert.equal(await tok.decode(ids), 'The capital of France is Paris.');
  assert.ok(ids.length <= 8, `${ids.length} tokens for a sentence of the corpus`);
  // a user's "<|endoftext|>" stays text
  assert.ok(!(await tok.encode(`a ${SPECIAL} b`)).includes(0));
});

test('config.json: GPT-2, 6 layers x 256, tied embeddings, 256 positions, ids matching the tokenizer', () => {
  const c = parseHfConfig(json('config.json')) as Gpt2Config;
  assert.equal(c.modelType, 'gpt2');
  assert.equal(c.vocabSize, rust.getVocabSize(true));
  assert.equal(c.nLayer, 6);
  assert.equal(c.nHead, 4);
  assert.equal(c.nEmbd, 256);
  assert.equal(c.nPositions, 256);
  assert.equal(c.tieWordEmbeddings, true);
  assert.equal(c.bosTokenId, 0);
  assert.deepEqual(c.eosTokenIds, [0]);
  assert.equal(c.padTokenId, 0);
  const tc = json('tokenizer_config.json');
  assert.equal(tc['model_max_length'], c.nPositions);
  for (const k of ['bos_token', 'eos_token', 'pad_token']) assert.equal(tc[k], SPECIAL);
  const g = parseGenerationConfig(json('generation_config.json'));
  assert.deepEqual(g.eosTokenIds, [0]);
});

/** GPT-2's parameters with a tied head: embeddings, then per block 2 norms, qkv, attention out, MLP in and out. */
function gpt2Params(c: Gpt2Config): number {
  const C = c.nEmbd;
  const block = 2 * 2 * C + (C * 3 * C + 3 * C) + (C * C + C) + (C * c.nInner + c.nInner) + (c.nInner * C + C);
  return c.vocabSize * C + c.nPositions * C + c.nLayer * block + 2 * C;
}

test('a few million parameters: float16 weights fit in 12 MB', () => {
  const c = parseHfConfig(json('config.json')) as Gpt2Config;
  const n = gpt2Params(c);
  assert.equal(n, 5_853_184);
  assert.ok(n * 2 < 12_000_000, `${n} parameters`);
});

test('model.safetensors, once pretrained: under 12 MB, every tensor of the config', { skip: !existsSync(BUILTIN_WEIGHTS_FILE) && 'no weights yet (ftlab pretrain makes them)' }, () => {
  assert.ok(statSync(BUILTIN_WEIGHTS_FILE).size < 12_000_000, `${statSync(BUILTIN_WEIGHTS_FILE).size} bytes`);
  const buf = readFileSync(BUILTIN_WEIGHTS_FILE);
  const header = JSON.parse(buf.subarray(8, 8 + Number(buf.readBigUInt64LE(0))).toString('utf8')) as Record<string, { shape?: number[] }>;
  const c = parseHfConfig(json('config.json')) as Gpt2Config;
  const count = Object.entries(header).filter(([k]) => k !== '__metadata__' && !/\.attn\.(masked_)?bias$/.test(k))
    .reduce((s, [, v]) => s + (v.shape ?? []).reduce((a, b) => a * b, 1), 0);
  assert.equal(count, gpt2Params(c));
});
