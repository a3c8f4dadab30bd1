// `ftlab generate` as a user runs it: a model folder (the gpt2_tiny fixture plus a word-level
// tokenizer of its 64-token vocabulary), streamed text equal to the engine's greedy tokens, errors.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { captureCli } from '../cli/captureCli';
import { commands } from '../../src/cli/commands/index';
import { generate as generateCommand, parseGenerateArgs } from '../../src/cli/commands/generate';
import { UsageError } from '../../src/cli/command';
import { Decoder, generate } from '../../src/engine/generate/generator';
import { scratchDir, tinyTokenizer } from '../data/helpers';
import { HF_FIXTURES } from '../checkpoint/fixturePaths';
import { fixtureModel } from './fixtureModels';

async function modelFolder() {
  // Word-level vocabulary: [UNK] = 0, w1..w60 = 1..60, then </s> <s> <pad> = 61..63 (the model's 64 ids).
  const tok = await tinyTokenizer(scratchDir('generate-cli'), Array.from({ length: 60 }, (_, i) => `w${i + 1}`));
  const dir = dirname(tok.source);
  for (const f of ['config.json', 'model.safetensors']) copyFileSync(join(HF_FIXTURES, 'gpt2_tiny', f), join(dir, f));
  return { dir, tok };
}

test('generate is in the command table; arguments are checked', () => {
  assert.ok(commands.includes(generateCommand));
  assert.throws(() => parseGenerateArgs(['--prompt', 'x']), UsageError);
  assert.throws(() => parseGenerateArgs(['--model', 'm', '--prompt', 'x', '--top-p', '2']), /at most 1/);
  assert.throws(() => parseGenerateArgs(['--model', 'm', '--prompt', 'x', '--max-new-tokens', '1.5']), /integer/);
  const a = parseGenerateArgs(['--model', 'm', '--prompt', 'x', '--stop', 'a', '--stop', 'b', '--top-k', '5']);
  assert.deepEqual([a.maxNewTokens, a.temperature, a.topP, a.topK, a.stop], [20, 0.7, 0.9, 5, ['a', 'b']]);
});

test('streams the text of the greedy tokens, which equal the engine\'s; a summary goes to stderr', async () => {
  const { dir, tok } = await modelFolder();
  const r = await captureCli(['generate', '--model', dir, '--prompt', 'w5 w17 w33', '--greedy', '--max-new-tokens', '8', '--threads', '1']);
  assert.equal(r.code, 0, r.err);
  const m = await fixtureModel('gpt2_tiny');
  const d = new Decoder(m.lm, m.weights, { threads: 1 });
  const want = await generate(d, await tok.encode('w5 w17 w33'), { greedy: true, maxNewTokens: 8, stopTokenIds: [63, tok.eosId!] });
  await d.release();
  assert.equal(r.out, `${await tok.decode(want.tokens[0], { skipSpecialTokens: true })}\n`);
  assert.match(r.err, new RegExp(`^${want.tokens[0].length} tokens in [\\d.]+ s`, 'm'));
  // Sampling with a seed is reproducible from the command line.
  const s1 = await captureCli(['generate', '--model', dir, '--prompt', 'w5 w17', '--seed', '3', '--temperature', '1.5', '--threads', '1']);
  const s2 = await captureCli(['generate', '--model', dir, '--prompt', 'w5 w17', '--seed', '3', '--temperature', '1.5', '--threads', '1']);
  assert.equal(s1.out, s2.out);
});

test('a folder without a model is an error in words, exit 1, no stack trace', async () => {
  const r = await captureCli(['generate', '--model', join(scratchDir('generate-cli'), 'nowhere'), '--prompt', 'hi']);
  assert.equal(r.code, 1);
  assert.match(r.err, /ftlab generate: .*nowhere/);
  assert.doesNotMatch(r.err, /\s+at .+\.(c?js|ts):\d+/);
  const usage = await captureCli(['generate', '--prompt', 'hi']);
  assert.equal(usage.code, 2);
  assert.match(usage.err, /--model <dir> is required/);
});
