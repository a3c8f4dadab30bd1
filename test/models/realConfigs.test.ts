// The models people fine-tune (issue 11), from their real config.json (test/fixtures/configs/, see
// SOURCES.md), reduced for the CPU test suite: fewer layers (2; 1 for the 2048-wide TinyLlama and
// Llama 3.2 1B) and a 512-token vocabulary instead of 49k-152k (the real embedding and LM head would make
// each step and file seconds longer); every other size is the real one. For each: seeded random weights
// written as safetensors (bf16, f16 or f32), loaded, one training step at a short sequence on the CPU
// (full fine-tuning and LoRA; LoRA only for the two 1B models, as they are fine-tuned), exported to a
// Hugging Face folder with the export code (saveRunAsHf) and loaded back. Full sizes: `npm run bench:models`.
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { parseHfConfig } from '../../src/engine/checkpoint/hfConfig';
import { expectedParams, loadHfModel, saveHfModel } from '../../src/engine/checkpoint/hfModel';
import { PreparedDataset } from '../../src/engine/data/preparedDataset';
import { prepareDataset } from '../../src/engine/data/prepareDataset';
import { causalLMFromHf } from '../../src/engine/models/hfCausalLM';
import { initWeights } from '../../src/engine/models/init';
import { loadTrainedRun, saveRunAsHf } from '../../src/engine/train/runFiles';
import { train } from '../../src/engine/train/trainer';
import { TRAINING_DEFAULTS } from '../../src/engine/train/trainingArguments';
import { REPO_ROOT } from '../checkpoint/fixturePaths';
import { put, scratchDir, tinyTokenizer } from '../data/helpers';

const CONFIGS = join(REPO_ROOT, 'test', 'fixtures', 'configs');
const VOCAB = 512;

interface Case { name: string; params: number; layers: number; dtype: 'F32' | 'F16' | 'BF16'; full: boolean }
const CASES: Case[] = [
  { name: 'gpt2', params: 124_439_808, layers: 2, dtype: 'F32', full: true },
  { name: 'SmolLM2-135M', params: 134_515_008, layers: 2, dtype: 'BF16', full: true },
  { name: 'SmolLM2-360M', params: 361_821_120, layers: 2, dtype: 'F16', full: true },
  { name: 'Qwen2.5-0.5B', params: 494_032_768, layers: 2, dtype: 'BF16', full: true },
  { name: 'TinyLlama-1.1B-Chat-v1.0', params: 1_100_048_384, layers: 1, dtype: 'F16', full: false },
  { name: 'Llama-3.2-1B', params: 1_235_814_400, layers: 1, dtype: 'BF16', full: false },
];

const realConfig = (name: string) => JSON.parse(readFileSync(join(CONFIGS, name, 'config.json'), 'utf8')) as Record<string, unknown>;
const count = (config: Record<string, unknown>) => expectedParams(parseHfConfig(config)).reduce((s, p) => s + p.shape.reduce((a, b) => a * b, 1), 0);

/** The real config with fewer layers and a smaller vocabulary (every other key as published). */
function reduced(name: string, layers: number): Record<string, unknown> {
  const c = realConfig(name);
  const layerKey = c['model_type'] === 'gpt2' ? 'n_layer' : 'num_hidden_layers';
  const ids = (v: unknown) => (typeof v === 'number' && v >= VOCAB ? VOCAB - 1 : v);
  return { ...c, [layerKey]: layers, vocab_size: VOCAB, bos_token_id: ids(c['bos_token_id']), eos_token_id: ids(c['eos_token_id']) };
}

/** Equal within a relative rounding step (a bf16/f16 file holds rounded float32 values). */
const close = (a: Float32Array, b: Float32Array, rel: number) => a.every((v, i) => Math.abs(v - b[i]!) <= rel * Math.abs(b[i]!) + 1e-7);

test('the real configs parse, as families the engine builds, with the published parameter counts', () => {
  for (const c of CASES) {
    const config = realConfig(c.name);
    assert.equal(count(config), c.params, c.name);
    assert.doesNotThrow(() => causalLMFromHf(parseHfConfig(config)), c.name);
  }
});

for (const c of CASES) {
  test(`${c.name} (${c.layers} layer${c.layers > 1 ? 's' : ''}, vocabulary ${VOCAB}, ${c.dtype} file): load, ${c.full ? 'full and LoRA steps' : 'a LoRA step'} on the CPU, export and load back`, async () => {
    const dir = scratchDir(`real-${c.name}`);
    // Data: question/answer pairs over a word-level tokenizer (ids < VOCAB), copied into the model folder.
    const pairs = [['sky', 'blue'], ['grass', 'green'], ['snow', 'white'], ['coal', 'black']];
    const tok = await tinyTokenizer(dir, ['Q:', 'A:', 'what', 'color', 'is', ...pairs.flat()]);
    const data = PreparedDataset.open((await prepareDataset({
      source: { train: put(dir, 'qa.jsonl', pairs.map(([q, a]) => JSON.stringify({ question: `what color is ${q}`, answer: a })).join('\n')) },
      tokenizer: tok, outDir: join(dir, 'prepared'),
    })).dir);

    const raw = reduced(c.name, c.layers);
    const config = parseHfConfig(raw);
    const lm = causalLMFromHf(config);
    const init = initWeights(lm, 7);
    const modelDir = join(dir, 'model');
    await saveHfModel(modelDir, { config: raw, tensors: new Map(lm.params.map((p) => [p.name, { shape: p.shape, data: init.get(p.name)! }])), dtype: c.dtype });
    for (const f of ['tokenizer.json', 'tokenizer_config.json']) copyFileSync(join(dirname(tok.source), f), join(modelDir, f));

    const hf = await loadHfModel(modelDir);
    assert.equal(hf.config.family, lm.family);
    const rel = { F32: 0, F16: 2 ** -11, BF16: 2 ** -8 }[c.dtype];
    for (const p of lm.params) assert.ok(close(hf.tensors.get(p.name)!.data, init.get(p.name)!, rel), `${p.name} read back from the ${c.dtype} file`);
    const weights = new Map([...hf.tensors].map(([n, t]) => [n, t.data]));

    const args = { ...TRAINING_DEFAULTS, maxSteps: 1, perDeviceTrainBatchSize: 2, learningRate: 1e-3, lrSchedulerType: 'constant' as const, threads: 2, saveSteps: 1 };
    const describe = { baseModel: { dir: modelDir, family: lm.family, builtin: false } };
    for (const strategy of c.full ? ['full', 'lora'] as const : ['lora'] as const) {
      const runDir = join(dir, `run-${strategy}`);
      const lora = strategy === 'lora' ? { rank: 4, alpha: 8, targetModules: lm.family === 'gpt2' ? ['c_attn'] : ['q_proj', 'v_proj'] } : undefined;
      const res = await train({ model: lm, weights, data, runDir, args, describe, lora });
      assert.equal(res.steps, 1);
      assert.ok(res.finalLoss > 0.5 * Math.log(VOCAB) && res.finalLoss < 2 * Math.log(VOCAB), `${strategy}: loss ${res.finalLoss}, about ln ${VOCAB} for a random model`);

      const run = await loadTrainedRun(runDir);
      const out = join(dir, `exported-${strategy}`);
      await saveRunAsHf(run, out, 'F32');
      const back = await loadHfModel(out);
      assert.deepEqual(back.config.raw['vocab_size'], VOCAB);
      let moved = 0;
      for (const p of lm.params) {
        const t = back.tensors.get(p.name)!.data;
        assert.deepEqual(t, run.weights.get(p.name)!, `${strategy}: ${p.name} exported as trained`);
        if (t.some((v, i) => v !== weights.get(p.name)![i])) moved++;
      }
      if (strategy === 'full') assert.ok(moved > lm.params.length / 2, `full: ${moved} of ${lm.params.length} tensors moved`);
      else assert.equal(moved, lm.nLayers * lora!.targetModules.length, 'LoRA (merged) moves exactly the adapted projections');
    }
    data.close();
  });
}
