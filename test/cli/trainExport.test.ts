// `ftlab train` and `ftlab export` as a user runs them: a Hugging Face model folder (written by the
// test: random GPT-2 weights and a tiny tokenizer), a data file, a run folder, an exported folder.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { loadHfModel, saveHfModel } from '../../src/engine/checkpoint/hfModel';
import { readSafetensors } from '../../src/engine/checkpoint/safetensors';
import { normalRng } from '../../src/engine/random';
import { put, scratchDir, tinyTokenizer } from '../data/helpers';
import { repoRoot } from '../foundation/repoRoot';

const bin = join(repoRoot, 'bin', 'ftlab.js');
const ftlab = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });
const PAIRS: [string, string][] = [['sky', 'blue'], ['grass', 'green'], ['snow', 'white'], ['coal', 'black']];

async function modelFolder(dir: string): Promise<{ modelDir: string; tokDir: string }> {
  const tok = await tinyTokenizer(dir, ['Q:', 'A:', 'what', 'color', 'is', ...PAIRS.flat()]);
  const tokDir = dirname(tok.source);
  const config = {
    architectures: ['GPT2LMHeadModel'], model_type: 'gpt2', vocab_size: tok.vocabSize, n_positions: 32, n_embd: 32, n_layer: 2, n_head: 2,
    activation_function: 'gelu_new', resid_pdrop: 0, embd_pdrop: 0, attn_pdrop: 0, layer_norm_epsilon: 1e-5, tie_word_embeddings: true,
    bos_token_id: tok.eosId, eos_token_id: tok.eosId,
  };
  const modelDir = join(dir, 'model');
  const randn = normalRng(5);
  const shapes: Record<string, number[]> = { 'transformer.wte.weight': [tok.vocabSize, 32], 'transformer.wpe.weight': [32, 32], 'transformer.ln_f.weight': [32], 'transformer.ln_f.bias': [32] };
  for (let l = 0; l < 2; l++) {
    const h = `transformer.h.${l}`;
    Object.assign(shapes, {
      [`${h}.ln_1.weight`]: [32], [`${h}.ln_1.bias`]: [32], [`${h}.attn.c_attn.weight`]: [32, 96], [`${h}.attn.c_attn.bias`]: [96],
      [`${h}.attn.c_proj.weight`]: [32, 32], [`${h}.attn.c_proj.bias`]: [32], [`${h}.ln_2.weight`]: [32], [`${h}.ln_2.bias`]: [32],
      [`${h}.mlp.c_fc.weight`]: [32, 128], [`${h}.mlp.c_fc.bias`]: [128], [`${h}.mlp.c_proj.weight`]: [128, 32], [`${h}.mlp.c_proj.bias`]: [32],
    });
  }
  const tensors = new Map(Object.entries(shapes).map(([n, shape]) => {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    if (/ln_.*weight$|ln_f\.weight$/.test(n)) data.fill(1); else if (shape.length === 2) for (let k = 0; k < data.length; k++) data[k] = 0.02 * randn();
    return [n, { shape, data }];
  }));
  await saveHfModel(modelDir, { config, tensors });
  for (const f of ['tokenizer.json', 'tokenizer_config.json']) cpSync(join(tokDir, f), join(modelDir, f));
  return { modelDir, tokDir };
}

test('ftlab train fine-tunes a model folder on Q&A data; ftlab export writes a loadable HF folder', async () => {
  const dir = scratchDir('cli-train');
  const { modelDir } = await modelFolder(dir);
  const data = put(dir, 'qa.jsonl', PAIRS.map(([q, a]) => JSON.stringify({ question: `what color is ${q}`, answer: a })).join('\n') + '\n');
  const runDir = join(dir, 'run');
  const r = ftlab('train', '--model', modelDir, '--data', data, '--out', runDir, '--max-steps', '40', '--learning-rate', '3e-3',
    '--per-device-train-batch-size', '4', '--lr-scheduler-type', 'constant', '--threads', '1');
  assert.equal(r.status, 0, r.stderr);
  const metrics = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(metrics.length, 40);
  assert.ok(metrics[39].loss < 0.3 * metrics[0].loss, `loss ${metrics[0].loss} -> ${metrics[39].loss}`);
  const config = JSON.parse(readFileSync(join(runDir, 'config.json'), 'utf8'));
  assert.equal(config.training.learningRate, 3e-3);
  assert.equal(config.baseModel.dir, modelDir);

  const out = join(dir, 'exported');
  const e = ftlab('export', '--run', runDir, '--format', 'hf', '--out', out);
  assert.equal(e.status, 0, e.stderr);
  assert.ok(existsSync(join(out, 'tokenizer.json')), 'tokenizer files are copied from the base model');
  const reloaded = await loadHfModel(out);
  const trained = await readSafetensors(join(runDir, 'checkpoint', 'model.safetensors'));
  const base = await loadHfModel(modelDir);
  let moved = 0;
  for (const [n, t] of reloaded.tensors) {
    assert.deepEqual(Array.from(t.data), Array.from(trained.tensors.get(n)!.data), n);
    if (Array.from(t.data).some((v, k) => v !== base.tensors.get(n)!.data[k])) moved++;
  }
  assert.equal(moved, reloaded.tensors.size, 'full fine-tuning moves every tensor');

  const onnxOut = join(dir, 'onnx');
  const o = ftlab('export', '--run', runDir, '--format', 'onnx', '--out', onnxOut);
  assert.equal(o.status, 0, o.stderr);
  const ort = await import('onnxruntime-node');
  const s = await ort.InferenceSession.create(join(onnxOut, 'model.onnx'));
  assert.ok(s.inputNames.includes('input_ids') && s.outputNames.includes('logits'));
  await s.release();
});

test('ftlab train takes pre-tokenized JSONL (input_ids, labels with -100)', async () => {
  const dir = scratchDir('cli-pretok');
  const { modelDir } = await modelFolder(dir);
  const rows = [[5, 6, 7, 8, 9], [6, 7, 8, 9, 10], [7, 8, 9, 10, 11]].map((ids) => JSON.stringify({ input_ids: ids, labels: [-100, -100, ...ids.slice(2)] }));
  const data = put(dir, 'tok.jsonl', rows.join('\n') + '\n');
  const runDir = join(dir, 'run');
  const r = ftlab('train', '--model', modelDir, '--data', data, '--out', runDir, '--max-steps', '3', '--logging-steps', '1', '--threads', '1');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(readFileSync(join(runDir, 'metrics.jsonl'), 'utf8').trim().split('\n').length, 3);
  // A second run into the same folder is refused (nothing the user had is lost) unless asked for.
  const before = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8');
  const again = ftlab('train', '--model', modelDir, '--data', data, '--out', runDir, '--max-steps', '2', '--threads', '1');
  assert.equal(again.status, 1);
  assert.match(again.stderr, /already holds a run/);
  assert.equal(readFileSync(join(runDir, 'metrics.jsonl'), 'utf8'), before);
  const forced = ftlab('train', '--model', modelDir, '--data', data, '--out', runDir, '--max-steps', '2', '--threads', '1', '--overwrite');
  assert.equal(forced.status, 0, forced.stderr);
  assert.equal(readFileSync(join(runDir, 'metrics.jsonl'), 'utf8').trim().split('\n').length, 2);
  // --resume continues from the checkpoint; a larger --max-steps extends the run.
  const resumed = ftlab('train', '--model', modelDir, '--data', data, '--out', runDir, '--max-steps', '4', '--threads', '1', '--resume');
  assert.equal(resumed.status, 0, resumed.stderr);
  assert.match(resumed.stderr, /resuming at step 2/);
  assert.deepEqual(readFileSync(join(runDir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).step), [1, 2, 3, 4]);
  const nothing = ftlab('train', '--model', modelDir, '--data', data, '--out', join(dir, 'fresh'), '--resume');
  assert.equal(nothing.status, 1);
  assert.match(nothing.stderr, /no checkpoint to resume from|no trainer_state/);
});

test('a run started with --gradient-checkpointing keeps it when resumed without the flag', async () => {
  const dir = scratchDir('cli-checkpointing');
  const { modelDir } = await modelFolder(dir);
  const rows = [[5, 6, 7, 8, 9], [6, 7, 8, 9, 10], [7, 8, 9, 10, 11]].map((ids) => JSON.stringify({ input_ids: ids, labels: ids }));
  const data = put(dir, 'tok.jsonl', rows.join('\n') + '\n');
  const runDir = join(dir, 'run');
  const first = ftlab('train', '--model', modelDir, '--data', data, '--out', runDir, '--max-steps', '2', '--threads', '1', '--gradient-checkpointing');
  assert.equal(first.status, 0, first.stderr);
  assert.match(first.stderr, /training .* gradient checkpointing/);
  const resumed = ftlab('train', '--model', modelDir, '--data', data, '--out', runDir, '--max-steps', '3', '--threads', '1', '--resume');
  assert.equal(resumed.status, 0, resumed.stderr);
  assert.match(resumed.stderr, /resuming at step 2/);
  assert.match(resumed.stderr, /training .* gradient checkpointing/);
  assert.equal(JSON.parse(readFileSync(join(runDir, 'config.json'), 'utf8')).training.gradientCheckpointing, true);
  // A run started without it resumes without it.
  const plain = join(dir, 'plain');
  assert.equal(ftlab('train', '--model', modelDir, '--data', data, '--out', plain, '--max-steps', '2', '--threads', '1').status, 0);
  const again = ftlab('train', '--model', modelDir, '--data', data, '--out', plain, '--max-steps', '3', '--threads', '1', '--resume');
  assert.equal(again.status, 0, again.stderr);
  assert.doesNotMatch(again.stderr, /gradient checkpointing/);
});

test('ftlab train explains bad input instead of a stack trace', async () => {
  const dir = scratchDir('cli-bad');
  const { modelDir } = await modelFolder(dir);
  const bad = put(dir, 'bad.jsonl', '{"question": "what color is sky", "answer": "blue"}\n{"question": "oops"\n');
  const r = ftlab('train', '--model', modelDir, '--data', bad, '--out', join(dir, 'run'), '--max-steps', '1');
  assert.equal(r.status, 1);
  assert.match(r.stderr, /bad\.jsonl:2/);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  const missing = ftlab('train', '--model', join(dir, 'nope'), '--data', bad, '--out', join(dir, 'run2'));
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /nope/);
  const usage = ftlab('train', '--model', modelDir);
  assert.equal(usage.status, 2);
  writeFileSync(join(dir, 'x'), '');
});

test('ftlab train --strategy frozen-embeddings keeps the embeddings; layerwise-lr is recorded in config.json', async () => {
  const dir = scratchDir('cli-strategy');
  const { modelDir } = await modelFolder(dir);
  const data = put(dir, 'qa.jsonl', PAIRS.map(([q, a]) => JSON.stringify({ question: `what color is ${q}`, answer: a })).join('\n') + '\n');
  const runDir = join(dir, 'frozen');
  const r = ftlab('train', '--model', modelDir, '--data', data, '--out', runDir, '--max-steps', '3', '--learning-rate', '1e-2', '--strategy', 'frozen-embeddings', '--threads', '1');
  assert.equal(r.status, 0, r.stderr);
  const base = await loadHfModel(modelDir);
  const trained = await readSafetensors(join(runDir, 'checkpoint', 'model.safetensors'));
  for (const [n, t] of trained.tensors) {
    const same = Array.from(t.data).every((v, k) => v === base.tensors.get(n)!.data[k]);
    assert.equal(same, n === 'transformer.wte.weight' || n === 'transformer.wpe.weight', n);
  }
  const lw = join(dir, 'layerwise');
  const r2 = ftlab('train', '--model', modelDir, '--data', data, '--out', lw, '--max-steps', '2', '--strategy', 'layerwise-lr', '--layer-lr-decay', '0.7', '--threads', '1');
  assert.equal(r2.status, 0, r2.stderr);
  const cfg = JSON.parse(readFileSync(join(lw, 'config.json'), 'utf8'));
  assert.equal(cfg.strategy, 'layerwise-lr');
  assert.equal(cfg.layerLrDecay, 0.7);
  assert.equal(ftlab('train', '--model', modelDir, '--data', data, '--out', join(dir, 'x'), '--strategy', 'qlora').status, 2);
});

test('ftlab train --validation-split --eval-steps logs validation loss and keeps the best weights', async () => {
  const dir = scratchDir('cli-eval');
  const { modelDir } = await modelFolder(dir);
  const rows = Array.from({ length: 12 }, (_, i) => ({ question: `what color is ${PAIRS[i % 4][0]} ${'is '.repeat(i % 3)}`.trim(), answer: PAIRS[i % 4][1] }));
  const data = put(dir, 'qa.jsonl', rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  const runDir = join(dir, 'run');
  const r = ftlab('train', '--model', modelDir, '--data', data, '--out', runDir, '--max-steps', '4', '--validation-split', '0.25', '--eval-steps', '2', '--threads', '1');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /eval at step 2: validation loss/);
  const evals = readFileSync(join(runDir, 'eval_metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(evals.map((e) => e.step), [2, 4]);
  assert.ok(existsSync(join(runDir, 'best', 'model.safetensors')));
});

test('ftlab train --replay-corpus mixes general text into the batches', async () => {
  const dir = scratchDir('cli-replay');
  const { modelDir } = await modelFolder(dir);
  const data = put(dir, 'qa.jsonl', PAIRS.map(([q, a]) => JSON.stringify({ question: `what color is ${q}`, answer: a })).join('\n') + '\n');
  const corpus = put(dir, 'general.txt', Array.from({ length: 20 }, (_, i) => `what color is ${PAIRS[i % 4][0]} ${PAIRS[i % 4][1]} is ${PAIRS[(i + 1) % 4][0]}`).join('\n\n') + '\n');
  const runDir = join(dir, 'run');
  const r = ftlab('train', '--model', modelDir, '--data', data, '--out', runDir, '--max-steps', '2', '--per-device-train-batch-size', '4', '--replay-corpus', corpus, '--replay-ratio', '0.5', '--threads', '1');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /replay: 2 of every 4 rows/);
  assert.equal(JSON.parse(readFileSync(join(runDir, 'config.json'), 'utf8')).training.replay.rowsPerBatch, 2);
});

test('ftlab train --strategy lora; export --format peft writes PEFT adapters, --format hf the merged model', async () => {
  const dir = scratchDir('cli-lora');
  const { modelDir } = await modelFolder(dir);
  const data = put(dir, 'qa.jsonl', PAIRS.map(([q, a]) => JSON.stringify({ question: `what color is ${q}`, answer: a })).join('\n') + '\n');
  const runDir = join(dir, 'run');
  const r = ftlab('train', '--model', modelDir, '--data', data, '--out', runDir, '--max-steps', '4', '--learning-rate', '1e-2', '--strategy', 'lora', '--lora-r', '4', '--threads', '1');
  assert.equal(r.status, 0, r.stderr);
  const peft = join(dir, 'adapter');
  const p = ftlab('export', '--run', runDir, '--format', 'peft', '--out', peft);
  assert.equal(p.status, 0, p.stderr);
  const adapterConfig = JSON.parse(readFileSync(join(peft, 'adapter_config.json'), 'utf8'));
  assert.deepEqual([adapterConfig.peft_type, adapterConfig.r, adapterConfig.lora_alpha, adapterConfig.fan_in_fan_out], ['LORA', 4, 16, true]);
  assert.deepEqual(adapterConfig.target_modules, ['c_attn']);
  const adapters = await readSafetensors(join(peft, 'adapter_model.safetensors'));
  assert.deepEqual(adapters.tensors.get('base_model.model.transformer.h.0.attn.c_attn.lora_A.weight')!.shape, [4, 32]);
  assert.deepEqual(adapters.tensors.get('base_model.model.transformer.h.1.attn.c_attn.lora_B.weight')!.shape, [96, 4]);
  const hf = join(dir, 'merged');
  const e = ftlab('export', '--run', runDir, '--format', 'hf', '--out', hf);
  assert.equal(e.status, 0, e.stderr);
  const merged = await loadHfModel(hf);
  const base = await loadHfModel(modelDir);
  for (const [n, t] of merged.tensors) {
    const same = Array.from(t.data).every((v, k) => v === base.tensors.get(n)!.data[k]);
    assert.equal(same, !n.endsWith('c_attn.weight'), `${n}: only adapted weights change`);
  }
});
