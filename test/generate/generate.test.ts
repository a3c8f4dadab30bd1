// Generation with the static KV cache against the no-cache oracle (greedy over the full forward,
// recomputed per token), and the generator's contract: seeds, top-k = 1, stop tokens and strings,
// batching, weight swaps, errors.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Decoder, generate } from '../../src/engine/generate/generator';
import { argmax } from '../../src/engine/generate/sampling';
import { FixtureModel, fixtureModel, fullForward } from './fixtureModels';

async function greedyOracle(m: FixtureModel, prompt: number[], n: number): Promise<number[]> {
  const f = await fullForward(m, prompt.length + n - 1);
  const seq = [...prompt];
  for (let i = 0; i < n; i++) seq.push(argmax(await f.lastLogits(seq)));
  await f.release();
  return seq.slice(prompt.length);
}

const CASES: [string, number[], number][] = [
  ['gpt2_tiny', [5, 17, 33, 2, 40], 11], // n_positions 16: fills the context exactly
  ['llama_gqa_tiny', [3, 9, 27, 50, 11, 7], 12],
  ['llama3_tied_tiny', [0, 44, 12, 33, 5], 12],
  ['qwen2_bias_tiny', [60, 8, 31], 12],
];

for (const [name, prompt, n] of CASES) {
  test(`${name}: greedy with the KV cache equals greedy over the full forward (one and several prefill chunks)`, async () => {
    const m = await fixtureModel(name);
    const want = await greedyOracle(m, prompt, n);
    for (const prefillChunks of [undefined, [2]]) {
      const d = new Decoder(m.lm, m.weights, { threads: 1, prefillChunks });
      const r = await generate(d, prompt, { greedy: true, maxNewTokens: n });
      assert.deepEqual(r.tokens[0], want, `prefill chunks ${prefillChunks ?? 'default'}`);
      assert.deepEqual(r.finishReasons, ['length']);
      await d.release();
    }
  });
}

test('batched prompts of different lengths give the same tokens as one by one (greedy and sampled)', async () => {
  const m = await fixtureModel('llama_gqa_tiny');
  const prompts = [[3, 9, 27], [14, 2, 8, 8, 30, 61, 5], [42]];
  const d = new Decoder(m.lm, m.weights, { threads: 1, prefillChunks: [4] });
  const greedy = await generate(d, prompts, { greedy: true, maxNewTokens: 9 });
  const sampled = await generate(d, prompts, { temperature: 1, topP: 0.95, seed: 7, maxNewTokens: 9 });
  for (let i = 0; i < prompts.length; i++) {
    assert.deepEqual(greedy.tokens[i], (await generate(d, prompts[i], { greedy: true, maxNewTokens: 9 })).tokens[0], `greedy row ${i}`);
    assert.deepEqual(greedy.tokens[i], await greedyOracle(m, prompts[i], 9), `greedy row ${i} vs oracle`);
  }
  // Row r samples from stream (seed, r): row 0 alone draws the same stream.
  assert.deepEqual(sampled.tokens[0], (await generate(d, prompts[0], { temperature: 1, topP: 0.95, seed: 7, maxNewTokens: 9 })).tokens[0]);
  await d.release();
});

test('sampling is reproducible from its seed, and top-k = 1 is greedy', async () => {
  const m = await fixtureModel('llama3_tied_tiny');
  const d = new Decoder(m.lm, m.weights, { threads: 1 });
  const prompt = [0, 44, 12];
  const o = { temperature: 1.2, topP: 1, maxNewTokens: 16 };
  const a = await generate(d, prompt, { ...o, seed: 1 });
  assert.deepEqual((await generate(d, prompt, { ...o, seed: 1 })).tokens, a.tokens);
  const others = await Promise.all([2, 3, 4].map(async (seed) => (await generate(d, prompt, { ...o, seed })).tokens[0].join()));
  assert.ok(others.some((t) => t !== a.tokens[0].join()), 'different seeds should give different samples');
  const greedy = await generate(d, prompt, { greedy: true, maxNewTokens: 16 });
  assert.deepEqual((await generate(d, prompt, { topK: 1, temperature: 0.7, topP: 0.9, seed: 5, maxNewTokens: 16 })).tokens, greedy.tokens);
  await d.release();
});

test('generation stops at a stop token and at a stop string; streaming reports every token', async () => {
  const m = await fixtureModel('llama_gqa_tiny');
  const d = new Decoder(m.lm, m.weights, { threads: 1 });
  const prompt = [3, 9, 27, 50];
  const full = (await generate(d, prompt, { greedy: true, maxNewTokens: 12 })).tokens[0];
  const at = 4; // stop at the first occurrence of the 5th token
  const stopTok = full[at], first = full.indexOf(stopTok);
  const streamed: number[] = [];
  const r = await generate(d, prompt, { greedy: true, maxNewTokens: 12, stopTokenIds: [stopTok], onToken: (row, t) => { assert.equal(row, 0); streamed.push(t); } });
  assert.deepEqual(r.tokens[0], full.slice(0, first + 1));
  assert.deepEqual(r.finishReasons, ['stop_token']);
  assert.deepEqual(streamed, r.tokens[0]);
  const text = (ids: number[]) => ids.map((t) => `<${t}>`).join('');
  const s = await generate(d, prompt, { greedy: true, maxNewTokens: 12, decode: text, stopStrings: [`<${full[2]}><${full[3]}>`] });
  assert.ok(s.tokens[0].length <= 4 && text(s.tokens[0]).endsWith(`<${full[2]}><${full[3]}>`), `stopped after ${text(s.tokens[0])}`);
  assert.deepEqual(s.finishReasons, ['stop_string']);
  // In a batch, a stopped row ends while the other goes on.
  const both = await generate(d, [prompt, [7, 7, 1]], { greedy: true, maxNewTokens: 12, stopTokenIds: [stopTok] });
  assert.deepEqual(both.tokens[0], r.tokens[0]);
  assert.deepEqual(both.tokens[1], (await generate(d, [7, 7, 1], { greedy: true, maxNewTokens: 12, stopTokenIds: [stopTok] })).tokens[0]);
  await d.release();
});

test('new weights (e.g. a trainer\'s float64 parameters) are used without rebuilding, or baked in; bad prompts are clear errors', async () => {
  const m = await fixtureModel('gpt2_tiny');
  const d = new Decoder(m.lm, m.weights, { threads: 1, bakeWeights: false });
  const prompt = [5, 17, 33];
  const before = await generate(d, prompt, { greedy: true, maxNewTokens: 8 });
  const changed = new Map([...m.weights].map(([k, v]) => [k, Float64Array.from(v, (x, i) => (k.endsWith('wte.weight') ? x + 0.5 * Math.sin(0.37 * i) : x))]));
  d.setWeights(changed);
  const after = await generate(d, prompt, { greedy: true, maxNewTokens: 8 });
  assert.notDeepEqual(after.tokens, before.tokens);
  const oracle = await greedyOracle({ ...m, weights: new Map([...changed].map(([k, v]) => [k, Float32Array.from(v)])) }, prompt, 8);
  assert.deepEqual(after.tokens[0], oracle);
  // Weights baked into the sessions as initializers: the same tokens; setWeights recompiles.
  const baked = new Decoder(m.lm, m.weights, { threads: 1, bakeWeights: true });
  assert.deepEqual((await generate(baked, prompt, { greedy: true, maxNewTokens: 8 })).tokens, before.tokens);
  baked.setWeights(changed);
  assert.deepEqual((await generate(baked, prompt, { greedy: true, maxNewTokens: 8 })).tokens, after.tokens);
  await baked.release();
  await assert.rejects(generate(d, [], {}), /empty/);
  await assert.rejects(generate(d, [1, 99], {}), /token id 99, outside the model's vocabulary/);
  await assert.rejects(generate(d, new Array(16).fill(1), {}), /context is 16/);
  await d.release();
});
