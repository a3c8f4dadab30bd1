// Strategies on real HF-layout models (the GPT-2 and Llama fixtures): what is frozen and at what
// rate each parameter trains; then one AdamW step of real training that shows the layer-wise groups
// move at 0.1 : 0.5 : 1, on untied GPT-2 and Llama models and, for the shared tensor, on a tied one.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadHfModel } from '../../src/engine/checkpoint/hfModel';
import { HfModelConfig } from '../../src/engine/checkpoint/hfConfig';
import { causalLMFromHf } from '../../src/engine/models/hfCausalLM';
import { CausalLM } from '../../src/engine/models/causalLM';
import { Strategy, TIED_EMBEDDING_LR_RULE, layerwiseGroupsDescription, layerwiseSettings, strategyHooks } from '../../src/engine/train/strategies';
import { TRAINING_DEFAULTS, parameterGroups, train } from '../../src/engine/train/trainer';
import { prepareDataset } from '../../src/engine/data/prepareDataset';
import { PreparedDataset } from '../../src/engine/data/preparedDataset';
import { put, scratchDir, tinyTokenizer } from '../data/helpers';

const fixture = (name: string) => join(__dirname, '..', '..', '..', 'test', 'fixtures', 'hf', name);
const gpt2Fixture = fixture('gpt2_tiny');

test('frozen-embeddings freezes exactly the token and position embeddings', async () => {
  const hf = await loadHfModel(gpt2Fixture);
  const lm = causalLMFromHf(hf.config);
  const h = strategyHooks(lm, { kind: 'frozen-embeddings' });
  assert.deepEqual(lm.params.filter((p) => h.isFrozen(p.name)).map((p) => p.name), ['transformer.wte.weight', 'transformer.wpe.weight']);
});

test('layerwise-lr with a decay: head 1, top block decay, each lower block once more, embeddings lowest', async () => {
  const hf = await loadHfModel(gpt2Fixture);
  const lm = causalLMFromHf(hf.config); // 2 layers
  const h = strategyHooks(lm, { kind: 'layerwise-lr', layerLrDecay: 0.5 });
  assert.equal(h.lrScale('transformer.ln_f.weight'), 1);
  assert.equal(h.lrScale('transformer.h.1.mlp.c_fc.weight'), 0.5);
  assert.equal(h.lrScale('transformer.h.0.attn.c_attn.weight'), 0.25);
  assert.equal(h.lrScale('transformer.wte.weight'), 0.125);
  const groups = parameterGroups(lm.params, 0.01, h.lrScale);
  assert.deepEqual([...new Set(groups.map((g) => g.lrScale))].sort(), [0.125, 0.25, 0.5, 1]);
  assert.throws(() => strategyHooks(lm, { kind: 'layerwise-lr', layerLrDecay: 0 }), /decay/);
});

// The default three groups, named by hand per fixture: [embeddings], [final norm + head]; the rest are blocks.
const DEFAULT_GROUPS: { fixture: string; embeddings: string[]; head: string[] }[] = [
  { fixture: 'gpt2_tiny', embeddings: ['transformer.wte.weight', 'transformer.wpe.weight'], head: ['transformer.ln_f.weight', 'transformer.ln_f.bias'] },
  { fixture: 'llama_gqa_tiny', embeddings: ['model.embed_tokens.weight'], head: ['model.norm.weight', 'lm_head.weight'] },
  { fixture: 'llama3_tied_tiny', embeddings: ['model.embed_tokens.weight'], head: ['model.norm.weight'] },
];
for (const g of DEFAULT_GROUPS) {
  test(`layerwise-lr default on ${g.fixture}: embeddings 0.1, every block parameter 0.5, final norm and head 1`, async () => {
    const lm = causalLMFromHf((await loadHfModel(fixture(g.fixture))).config);
    const h = strategyHooks(lm, { kind: 'layerwise-lr' });
    const scale = Object.fromEntries(lm.params.map((p) => [p.name, h.lrScale(p.name)]));
    const blocks = lm.params.map((p) => p.name).filter((n) => !g.embeddings.includes(n) && !g.head.includes(n));
    assert.ok(blocks.length > 0 && blocks.every((n) => /\.(h|layers)\.\d+\./.test(n)), `not block parameters: ${blocks.filter((n) => !/\.(h|layers)\.\d+\./.test(n))}`);
    assert.deepEqual(scale, Object.fromEntries(lm.params.map((p) => [p.name, g.embeddings.includes(p.name) ? 0.1 : g.head.includes(p.name) ? 1 : 0.5])));
  });
}

test('layerwise-lr settings: multipliers or decay, not both; multipliers are three finite numbers > 0', async () => {
  const lm = causalLMFromHf((await loadHfModel(gpt2Fixture)).config);
  const lw = (s: Omit<Strategy, 'kind'>): Strategy => ({ kind: 'layerwise-lr', ...s });
  assert.deepEqual(layerwiseSettings(lw({})), { layerLrMultipliers: [0.1, 0.5, 1] });
  assert.deepEqual(layerwiseSettings(lw({ layerLrDecay: 0.7 })), { layerLrDecay: 0.7 });
  assert.throws(() => strategyHooks(lm, lw({ layerLrDecay: 0.8, layerLrMultipliers: [0.1, 0.5, 1] })), /not both/);
  for (const bad of [[0.1, 0.5], [0, 0.5, 1], [0.1, -0.5, 1], [0.1, NaN, 1], [0.1, 0.5, Infinity], [0.1, 0.5, 1, 1]]) {
    assert.throws(() => strategyHooks(lm, lw({ layerLrMultipliers: bad as unknown as [number, number, number] })), RangeError, `${bad}`);
  }
  const h = strategyHooks(lm, lw({ layerLrMultipliers: [0.2, 0.3, 0.7] }));
  assert.deepEqual(['transformer.wpe.weight', 'transformer.h.1.ln_2.bias', 'transformer.ln_f.bias'].map(h.lrScale), [0.2, 0.3, 0.7]);
  assert.equal(layerwiseGroupsDescription(), `embeddings 0.1x, blocks 0.5x, final norm and head 1x; ${TIED_EMBEDDING_LR_RULE}`);
  assert.match(TIED_EMBEDDING_LR_RULE, /embeddings' multiplier/);
});

// ------------------------------------------------------------------ update sizes, by training one step

async function toyData(dir: string): Promise<PreparedDataset> {
  const pairs = [['sky', 'blue'], ['grass', 'green'], ['snow', 'white'], ['coal', 'black'], ['blood', 'red'], ['sun', 'yellow']];
  const tok = await tinyTokenizer(dir, ['Q:', 'A:', 'what', 'color', 'is', ...pairs.flat()]); // ids < 64, the fixtures' vocabulary
  const src = put(dir, 'colors.jsonl', pairs.map(([q, a]) => JSON.stringify({ question: `what color is ${q}`, answer: a })).join('\n') + '\n');
  return PreparedDataset.open((await prepareDataset({ source: { train: src }, tokenizer: tok, outDir: join(dir, 'prepared') })).dir);
}

/** A fixture as a model, untied when asked: a separate lm_head.weight, initialised as a copy of the embedding. */
async function fixtureModel(name: string, untie: boolean): Promise<{ lm: CausalLM; weights: Map<string, Float32Array> }> {
  const hf = await loadHfModel(fixture(name));
  const weights = new Map([...hf.tensors].map(([n, t]) => [n, t.data]));
  if (!untie || !hf.config.tieWordEmbeddings) return { lm: causalLMFromHf(hf.config), weights };
  const config: HfModelConfig = { ...hf.config, tieWordEmbeddings: false };
  weights.set('lm_head.weight', Float32Array.from(weights.get(hf.family === 'gpt2' ? 'transformer.wte.weight' : 'model.embed_tokens.weight')!));
  return { lm: causalLMFromHf(config), weights };
}

const LR = 1e-2;

/**
 * Mean |Δw| per group after one AdamW step at LR. With no weight decay, warmup, clipping or schedule,
 * bias-corrected Adam's first step is lr * g / (|g| + eps) = lr * sign(g) for |g| >> eps: every
 * element with a gradient moves by lr * its multiplier, whatever the gradient's size. Elements that
 * got no gradient (embedding rows of unseen tokens and positions) do not move and are left out.
 */
async function meanStepPerGroup(dir: string, lm: CausalLM, weights: Map<string, Float32Array>, group: (name: string) => string): Promise<Map<string, number>> {
  const hooks = strategyHooks(lm, { kind: 'layerwise-lr' });
  const res = await train({
    model: lm, weights, data: await toyData(dir), runDir: join(dir, 'run'), isFrozen: hooks.isFrozen, lrScale: hooks.lrScale,
    args: { ...TRAINING_DEFAULTS, learningRate: LR, maxSteps: 1, perDeviceTrainBatchSize: 6, weightDecay: 0, warmupSteps: 0, maxGradNorm: 0, lrSchedulerType: 'constant', threads: 1 },
  });
  const sums = new Map<string, { s: number; n: number }>();
  for (const p of lm.params) {
    const before = weights.get(p.name)!, after = res.weights.get(p.name)!;
    const acc = sums.get(group(p.name)) ?? { s: 0, n: 0 };
    for (let i = 0; i < before.length; i++) {
      const d = Math.abs(after[i] - before[i]);
      if (d > 0) { acc.s += d; acc.n++; }
    }
    sums.set(group(p.name), acc);
  }
  return new Map([...sums].map(([g, { s, n }]) => [g, n ? s / n : 0]));
}

const groupOf = (lm: CausalLM) => (name: string) => {
  const l = lm.layerOf(name);
  return l < 0 ? 'embeddings' : l < lm.nLayers ? 'blocks' : 'head';
};

function assertNear(actual: number, expected: number, what: string): void {
  assert.ok(Math.abs(actual / expected - 1) < 0.03, `${what}: ${actual} vs ${expected}`);
}

for (const name of ['gpt2_tiny', 'llama_gqa_tiny']) {
  test(`layerwise-lr default, one AdamW step on untied ${name}: mean |Δw| of embeddings : blocks : head is 0.1 : 0.5 : 1`, async () => {
    const { lm, weights } = await fixtureModel(name, true);
    assert.ok(lm.params.some((p) => p.name === 'lm_head.weight'), 'the model is untied');
    const step = await meanStepPerGroup(scratchDir(`layerwise-${name}`), lm, weights, groupOf(lm));
    assertNear(step.get('head')!, LR, 'head step');
    assertNear(step.get('blocks')! / step.get('head')!, 0.5, 'blocks : head');
    assertNear(step.get('embeddings')! / step.get('head')!, 0.1, 'embeddings : head');
  });
}

test('layerwise-lr default, one AdamW step on the tied GPT-2: the shared wte/head tensor moves at the embeddings\' 0.1x', async () => {
  const { lm, weights } = await fixtureModel('gpt2_tiny', false);
  assert.ok(!lm.params.some((p) => p.name === 'lm_head.weight'), 'the model is tied');
  const step = await meanStepPerGroup(scratchDir('layerwise-tied'), lm, weights, (n) => (n === 'transformer.wte.weight' ? 'shared' : groupOf(lm)(n)));
  assertNear(step.get('head')!, LR, 'final norm step');
  assertNear(step.get('shared')! / step.get('head')!, 0.1, 'shared wte/head : final norm');
});
