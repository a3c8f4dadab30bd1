// textMetrics against PyTorch: test/golden/hf_gpt2_tiny.json holds the float64 logits of Hugging Face's
// GPT2LMHeadModel on the gpt2_tiny fixture for two 8-token sequences. The reference loss and top-1 hits
// are computed here from those logits (log-softmax and argmax in float64), independently of our graph.
// The random fixture gets none of those 14 tokens right, so top-1 hits are checked again on a sequence
// built to contain the model's own argmax tokens, by brute force over our no-cache forward.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { textMetrics } from '../../src/engine/eval/textMetrics';
import { loadHfModel } from '../../src/engine/checkpoint/hfModel';
import { causalLMFromHf } from '../../src/engine/models/hfCausalLM';
import { GOLDEN_DIR, HF_FIXTURES } from '../checkpoint/fixturePaths';
import { fixtureModel, fullForward } from '../generate/fixtureModels';
import { argmax } from '../../src/engine/generate/sampling';

const golden: { input_ids: number[][]; logits: number[][][] } = JSON.parse(readFileSync(join(GOLDEN_DIR, 'hf_gpt2_tiny.json'), 'utf8'));

/** Texts are names of token lists: "0" and "1" are the golden sequences. */
function listTokenizer(lists: Record<string, number[]>) {
  return { encode: async (text: string) => lists[text] };
}
const goldenTexts = listTokenizer({ 0: golden.input_ids[0], 1: golden.input_ids[1] });

async function fixture() {
  const hf = await loadHfModel(join(HF_FIXTURES, 'gpt2_tiny'));
  return { lm: causalLMFromHf(hf.config), weights: new Map([...hf.tensors].map(([n, t]) => [n, t.data])) };
}

/** Mean NLL and top-1 hits of tokens 1..7 of both sequences, from PyTorch's logits. */
function reference() {
  let nll = 0, hits = 0, tokens = 0, smallestGap = Infinity;
  golden.input_ids.forEach((ids, r) => {
    for (let t = 0; t + 1 < ids.length; t++) {
      const row = golden.logits[r][t];
      const max = Math.max(...row);
      const lse = max + Math.log(row.reduce((s, x) => s + Math.exp(x - max), 0));
      nll -= row[ids[t + 1]] - lse;
      const best = row.indexOf(max);
      if (best === ids[t + 1]) hits++;
      smallestGap = Math.min(smallestGap, max - Math.max(...row.filter((_, v) => v !== best)));
      tokens++;
    }
  });
  return { nll: nll / tokens, hits, tokens, smallestGap };
}

test('loss, perplexity and next-token accuracy equal those from PyTorch logits (one window per text, padded batches)', async () => {
  const { lm, weights } = await fixture();
  const ref = reference();
  assert.ok(ref.smallestGap > 1e-3, 'no near-tie for the top-1 token, so float32 cannot flip a hit');
  // seqLength 7: each text fills a window exactly; 8: a padded position; batch 3: an empty row.
  for (const [seqLength, batchSize] of [[7, 1], [7, 2], [8, 2], [8, 3], [16, 1]]) {
    const m = (await textMetrics(lm, weights, goldenTexts, ['0', '1'], { seqLength, batchSize, threads: 1 }))!;
    const at = `seqLength ${seqLength}, batch ${batchSize}`;
    assert.equal(m.tokens, ref.tokens, at);
    assert.ok(Math.abs(m.nll - ref.nll) < 1e-4, `${at}: nll ${m.nll}, PyTorch ${ref.nll}`);
    assert.ok(Math.abs(m.perplexity - Math.exp(ref.nll)) < 1e-4 * Math.exp(ref.nll), at);
    assert.deepEqual([m.nextTokenAccuracy.correct, m.nextTokenAccuracy.total], [ref.hits, ref.tokens], at);
  }
});

test('next-token accuracy equals argmax on the host, on a text where about half the tokens are the argmax', async () => {
  const m = await fixtureModel('gpt2_tiny');
  const f = await fullForward(m, 16);
  // Even positions continue with the model's argmax, odd ones with an arbitrary token.
  const seq = [5, 17, 33];
  while (seq.length < 16) seq.push(seq.length % 2 === 0 ? argmax(await f.lastLogits(seq)) : (seq[seq.length - 1] * 7 + 3) % 64);
  let nll = 0, smallestGap = Infinity;
  const hit: number[] = [];
  for (let t = 0; t + 1 < seq.length; t++) {
    const row = Array.from(await f.lastLogits(seq.slice(0, t + 1)));
    const max = Math.max(...row), best = row.indexOf(max);
    nll -= row[seq[t + 1]] - (max + Math.log(row.reduce((s, x) => s + Math.exp(x - max), 0)));
    hit.push(best === seq[t + 1] ? 1 : 0);
    smallestGap = Math.min(smallestGap, max - Math.max(...row.filter((_, v) => v !== best)));
  }
  await f.release();
  const hits = hit.reduce((a, b) => a + b, 0);
  assert.ok(smallestGap > 1e-4, 'no near-tie for the top-1 token');
  assert.ok(hits >= 6 && hits < 15, `hits ${hits} of 15`);
  // 'short' holds the first 4 predictions of 'seq' again (same tokens, same positions).
  const tok = listTokenizer({ seq, short: seq.slice(0, 5) });
  for (const batchSize of [1, 2, 3]) {
    const alone = (await textMetrics(m.lm, m.weights, tok, ['seq'], { seqLength: 15, batchSize, threads: 1 }))!;
    assert.deepEqual([alone.nextTokenAccuracy.correct, alone.tokens], [hits, 15], `batch ${batchSize}`);
    assert.ok(Math.abs(alone.nll - nll / 15) < 1e-5, `nll ${alone.nll}, host ${nll / 15}`);
    const both = (await textMetrics(m.lm, m.weights, tok, ['seq', 'short'], { seqLength: 15, batchSize, threads: 1 }))!;
    assert.deepEqual([both.nextTokenAccuracy.correct, both.tokens], [hits + hit.slice(0, 4).reduce((a, b) => a + b, 0), 19], `batch ${batchSize}`);
  }
});

test('a long text is cut into windows: the same as giving the windows (overlapping by one token) as texts', async () => {
  const { lm, weights } = await fixture();
  const ids = golden.input_ids[1];
  const tok = listTokenizer({ whole: ids, w0: ids.slice(0, 4), w1: ids.slice(3, 7), w2: ids.slice(6, 8) });
  const cut = (await textMetrics(lm, weights, tok, ['whole'], { seqLength: 3, batchSize: 2, threads: 1 }))!;
  const given = (await textMetrics(lm, weights, tok, ['w0', 'w1', 'w2'], { seqLength: 8, batchSize: 1, threads: 1 }))!;
  assert.equal(cut.tokens, 7);
  assert.equal(given.tokens, 7);
  assert.ok(Math.abs(cut.nll - given.nll) < 1e-5, `${cut.nll} vs ${given.nll}`);
  assert.equal(cut.nextTokenAccuracy.correct, given.nextTokenAccuracy.correct);
});

test('texts with nothing to predict give null; impossible settings are errors', async () => {
  const { lm, weights } = await fixture();
  const tok = listTokenizer({ empty: [], one: [5] });
  assert.equal(await textMetrics(lm, weights, tok, ['empty', 'one'], { seqLength: 4, batchSize: 1 }), null);
  assert.equal(await textMetrics(lm, weights, tok, [], { seqLength: 4, batchSize: 1 }), null);
  await assert.rejects(textMetrics(lm, weights, tok, ['one'], { seqLength: 17, batchSize: 1 }), /from 1 to the model's context \(16\)/);
  await assert.rejects(textMetrics(lm, weights, tok, ['one'], { seqLength: 4, batchSize: 0 }), /batch size 0/);
});
