// Tokenizer folders as the Hugging Face Hub has them (issue 11):
//   - openai-community/gpt2: tokenizer_config.json holds only model_max_length; BOS/EOS come from
//     config.json's ids (then generation_config.json, then the tokenizer class's defaults), and
//     `ftlab prepare` (examples and a replay corpus) and generation's stop token use them;
//   - older GPT-2-family repos: vocab.json + merges.txt and no tokenizer.json, converted in memory as
//     transformers' GPT2TokenizerFast does, encoding exactly as the tokenizer.json of the same vocabulary.
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { commands } from '../../src/cli/commands/index';
import { prepare } from '../../src/cli/commands/prepare';
import { captureCli } from '../cli/captureCli';
import { PreparedDataset } from '../../src/engine/data/preparedDataset';
import { loadTokenizer, TokenizerError } from '../../src/engine/tokenizer';
import { HF_FIXTURES } from '../checkpoint/fixturePaths';
import { put, scratchDir, tinyTokenizer } from '../data/helpers';
import { expectedIds, fixtureTokenizerDir, fixturesDir } from './fixtures';

const dir = scratchDir('hub-layout');

/**
 * GPT-2's tokenizer cut to its first MERGES merges (a fast, small fixture): GPT-2's ids are the 256 byte
 * tokens, then merge i's result at 256 + i, so the cut keeps ids 0..255+MERGES, and <|endoftext|> moves to EOT.
 */
const MERGES = 1000;
const EOT = 256 + MERGES;
const small = (() => {
  const json = JSON.parse(readFileSync(join(fixtureTokenizerDir('gpt2'), 'tokenizer.json'), 'utf8')) as {
    added_tokens: { id: number }[]; model: { vocab: Record<string, number>; merges: string[] };
  };
  const { vocab, merges } = json.model;
  json.model.merges = merges.slice(0, MERGES);
  json.model.vocab = Object.fromEntries(Object.entries(vocab).filter(([, id]) => id < EOT));
  json.model.merges.forEach((m, i) => assert.equal(vocab[m.replace(' ', '')], 256 + i, `merge ${i} makes token ${256 + i}`));
  json.added_tokens[0]!.id = EOT;
  json.model.vocab['<|endoftext|>'] = EOT;
  return json;
})();

/** A folder with the small GPT-2 tokenizer.json (or vocab.json + merges.txt) and the given JSON side files. */
function gpt2Folder(name: string, files: Record<string, unknown>, layout: 'tokenizer.json' | 'vocab+merges' = 'tokenizer.json'): string {
  const folder = join(dir, name);
  mkdirSync(folder, { recursive: true });
  if (layout === 'tokenizer.json') writeFileSync(join(folder, 'tokenizer.json'), JSON.stringify(small));
  else {
    writeFileSync(join(folder, 'vocab.json'), JSON.stringify(small.model.vocab));
    writeFileSync(join(folder, 'merges.txt'), `#version: 0.2\n${small.model.merges.join('\n')}\n`);
  }
  for (const [f, content] of Object.entries(files)) writeFileSync(join(folder, f), JSON.stringify(content));
  return folder;
}

// openai-community/gpt2 as it is: config.json (ids 50256) and a tokenizer_config.json of one key.
const HUB_GPT2 = {
  'tokenizer_config.json': { model_max_length: 1024 },
  'config.json': { model_type: 'gpt2', vocab_size: EOT + 1, n_embd: 768, n_layer: 12, n_head: 12, bos_token_id: EOT, eos_token_id: EOT },
};

test('GPT-2 Hub layout: BOS/EOS from config.json; tokenization and fingerprint equal the explicit tokenizer_config.json', async () => {
  const hub = await loadTokenizer(gpt2Folder('hub', HUB_GPT2));
  // The tokenizer_config.json of test/fixtures/tokenizers/gpt2: transformers' GPT2Tokenizer defaults made explicit.
  const explicit = await loadTokenizer(gpt2Folder('explicit', { 'tokenizer_config.json': JSON.parse(readFileSync(join(fixturesDir, 'gpt2', 'tokenizer_config.json'), 'utf8')) }));
  assert.deepEqual([hub.bosId, hub.eosId, hub.padId, hub.eosToken], [EOT, EOT, undefined, '<|endoftext|>']);
  assert.deepEqual(hub.eosIds, [EOT]);
  assert.deepEqual([hub.prefixIds, hub.suffixIds], [[], []], 'GPT-2 adds nothing around a text');
  assert.equal(hub.modelMaxLength, 1024);
  assert.equal(hub.fingerprint, explicit.fingerprint, 'the same rules: datasets prepared with either are interchangeable');
  assert.deepEqual(await hub.encode('<|endoftext|>Hi', { parseSpecialTokens: true }), [EOT, 39, 72]);
});

test('the fallbacks in order: config.json, then generation_config.json, then the tokenizer class by model_type; tokenizer_config.json first', async () => {
  const only = (files: Record<string, unknown>) => loadTokenizer(gpt2Folder(`f-${Math.random().toString(36).slice(2)}`, { 'tokenizer_config.json': { model_max_length: 1024 }, ...files }));
  // Ids that name other tokens, to tell the sources apart ("!" = 0, '"' = 1, "#" = 2).
  const c = await only({ 'config.json': { model_type: 'gpt2', eos_token_id: 0, bos_token_id: 1 }, 'generation_config.json': { eos_token_id: [2, 0] } });
  assert.deepEqual([c.eosToken, c.bosToken], ['!', '"']);
  assert.deepEqual(c.eosIds, [0, 2], 'generation_config.json\'s ids also stop generation');
  const g = await only({ 'generation_config.json': { eos_token_id: 2 } });
  assert.deepEqual([g.eosToken, g.bosToken], ['#', undefined]);
  const d = await only({ 'config.json': { model_type: 'gpt2' } });
  assert.deepEqual([d.eosId, d.bosId], [EOT, EOT], "GPT2Tokenizer's defaults");
  const none = await only({});
  assert.deepEqual([none.eosId, none.eosIds], [undefined, []], 'nothing says which token ends a text');
  const first = await only({ 'tokenizer_config.json': { eos_token: '#' }, 'config.json': { model_type: 'gpt2', eos_token_id: 0 } });
  assert.equal(first.eosId, 2);
  const no = await only({ 'tokenizer_config.json': { bos_token: null }, 'config.json': { model_type: 'gpt2', bos_token_id: 0 } });
  assert.equal(no.bosId, undefined, '"bos_token": null means none, as in Qwen2.5\'s tokenizer_config.json');
  await assert.rejects(only({ 'config.json': { model_type: 'gpt2', eos_token_id: 'x' } }), (e: unknown) => e instanceof TokenizerError && /config\.json/.test(e.file) && /eos_token_id/.test(e.message));
});

async function prepareCli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [], err: string[] = [];
  const log = console.log, error = console.error;
  console.log = (...a: unknown[]) => void out.push(a.join(' '));
  console.error = (...a: unknown[]) => void err.push(a.join(' '));
  try {
    return { code: await prepare.run(argv, { commands }), out: out.join('\n'), err: err.join('\n') };
  } finally {
    console.log = log;
    console.error = error;
  }
}

test('ftlab prepare on the GPT-2 Hub layout: examples end with EOS, and a replay corpus separates documents with it', async () => {
  const hub = gpt2Folder('hub-prepare', HUB_GPT2);
  const rows = Array.from({ length: 6 }, (_, i) => JSON.stringify({ question: `What is ${i} + ${i}?`, answer: String(2 * i) }));
  const r = await prepareCli(put(dir, 'qa.jsonl', rows.join('\n')), '--tokenizer', hub, '--out', join(dir, 'qa.prepared'), '--split', '1,0,0');
  assert.equal(r.code, 0, r.err);
  const ds = PreparedDataset.open(join(dir, 'qa.prepared'));
  const examples = [...ds.iterate('train')];
  assert.equal(examples.length, 6);
  for (const e of examples) assert.equal(e.inputIds[e.inputIds.length - 1], EOT);
  assert.equal(ds.manifest.tokenizer.eosId, EOT);
  ds.close();

  const corpus = put(dir, 'corpus.txt', 'The first document.\n\nA second one, a little longer than the first.\n\nThird.\n');
  const c = await prepareCli('--corpus', corpus, '--tokenizer', hub, '--seq-length', '5', '--out', join(dir, 'corpus.prepared'));
  assert.equal(c.code, 0, c.err);
  const packed = PreparedDataset.open(join(dir, 'corpus.prepared'));
  const stream = [...packed.iterate('train')].flatMap((e) => [...e.inputIds]);
  packed.close();
  assert.ok(stream.filter((t) => t === EOT).length >= 2, `documents separated by ${EOT}: ${stream}`);
});

test("generation stops at the EOS config.json names when tokenizer_config.json names none", async () => {
  // Word-level vocabulary of the gpt2_tiny fixture's 64 ids; tokenizer_config.json without bos/eos_token.
  const tok = await tinyTokenizer(scratchDir('hub-generate'), Array.from({ length: 60 }, (_, i) => `w${i + 1}`), { eos_token: undefined, bos_token: undefined });
  const folder = dirname(tok.source);
  assert.equal(tok.eosId, undefined);
  copyFileSync(join(HF_FIXTURES, 'gpt2_tiny', 'model.safetensors'), join(folder, 'model.safetensors'));
  const config = JSON.parse(readFileSync(join(HF_FIXTURES, 'gpt2_tiny', 'config.json'), 'utf8')) as Record<string, unknown>;
  const withEos = (id: number | null) => writeFileSync(join(folder, 'config.json'), JSON.stringify({ ...config, bos_token_id: null, eos_token_id: id }));
  const argv = ['--model', folder, '--prompt', 'w5 w17 w33', '--greedy', '--max-new-tokens', '8', '--threads', '1'];
  withEos(null);
  const free = await captureCli(['generate', ...argv]);
  assert.equal(free.code, 0, free.err);
  assert.match(free.err, /^8 tokens .*limit of 8 tokens/m);
  // The word-level decoder fuses words ("w42w42..."): the first generated word becomes the EOS.
  const first = /^w\d+/.exec(free.out)?.[0];
  assert.ok(first, free.out);
  const stop = (await loadTokenizer(folder)).tokenToId(first)!;
  withEos(stop);
  const reloaded = await loadTokenizer(folder);
  assert.deepEqual([reloaded.eosId, reloaded.eosIds], [stop, [stop]]);
  const stopped = await captureCli(['generate', ...argv]);
  assert.equal(stopped.code, 0, stopped.err);
  assert.match(stopped.err, /^1 tokens .*stopped at the end-of-text token/m, 'the first token is the EOS');
});

test('vocab.json + merges.txt (no tokenizer.json) encode and decode exactly as the tokenizer.json of the same vocabulary', async () => {
  const folder = gpt2Folder('vocab-merges', HUB_GPT2, 'vocab+merges');
  const converted = await loadTokenizer(folder);
  const reference = await loadTokenizer(gpt2Folder('vocab-merges-reference', HUB_GPT2));
  assert.equal(converted.source, join(folder, 'vocab.json'));
  assert.deepEqual([converted.vocabSize, converted.eosId, converted.bosId], [reference.vocabSize, EOT, EOT]);
  const samples = [...expectedIds.samples, 'user text <|endoftext|> stays text'];
  assert.deepEqual(await converted.encodeBatch(samples), await reference.encodeBatch(samples));
  assert.ok((await converted.encode(samples[2]!)).some((id) => id >= 256), 'merges are applied');
  assert.deepEqual(await converted.encode('a<|endoftext|>b', { parseSpecialTokens: true }), await reference.encode('a<|endoftext|>b', { parseSpecialTokens: true }));
  const ids = await reference.encode(samples.join('<|endoftext|>'), { parseSpecialTokens: true });
  assert.equal(await converted.decode(ids), await reference.decode(ids));
  assert.equal(await converted.decode(ids, { skipSpecialTokens: true }), await reference.decode(ids, { skipSpecialTokens: true }));
  assert.deepEqual(converted.specialTokens, reference.specialTokens);
});

test('folders that cannot be converted say how to convert them', async () => {
  const qwen = gpt2Folder('qwen-vocab', { 'tokenizer_config.json': { tokenizer_class: 'Qwen2Tokenizer' } }, 'vocab+merges');
  await assert.rejects(loadTokenizer(qwen), (e: unknown) => e instanceof TokenizerError && /Qwen2Tokenizer/.test(e.problem) && /AutoTokenizer.*save_pretrained/.test(e.fix));
  const sp = join(dir, 'sentencepiece');
  mkdirSync(sp);
  writeFileSync(join(sp, 'tokenizer.model'), Buffer.from([0x0a, 0x01]));
  await assert.rejects(loadTokenizer(sp), (e: unknown) => e instanceof TokenizerError && /tokenizer\.model/.test(e.problem) && /save_pretrained/.test(e.fix));
  const broken = gpt2Folder('bad-merges', {}, 'vocab+merges');
  writeFileSync(join(broken, 'merges.txt'), '#version: 0.2\nĠ t\nnot-a-merge\n');
  await assert.rejects(loadTokenizer(broken), (e: unknown) => e instanceof TokenizerError && /merges\.txt:3$/.test(e.file));
});
