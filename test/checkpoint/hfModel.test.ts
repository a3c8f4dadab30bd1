import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { CheckpointError } from '../../src/engine/checkpoint/checkpointError';
import { parseHfConfig } from '../../src/engine/checkpoint/hfConfig';
import { expectedParams, loadHfModel, saveHfModel, type HfModel } from '../../src/engine/checkpoint/hfModel';
import { SafetensorsFile, writeSafetensors, type FloatTensor } from '../../src/engine/checkpoint/safetensors';
import { GOLDEN_DIR, HF_FIXTURE_NAMES, HF_FIXTURES } from './fixturePaths';
import { referenceLogits } from './referenceForward';

interface Golden {
  param_names: string[];
  param_shapes: Record<string, number[]>;
  input_ids: number[][];
  labels: number[][];
  n_loss_tokens: number;
  loss: number;
  logits: number[][][];
  fixture_sha256: Record<string, string>;
  config: Record<string, unknown>;
}

const golden = (name: string): Golden => JSON.parse(readFileSync(join(GOLDEN_DIR, `hf_${name}.json`), 'utf8')) as Golden;

let tmp: string;
before(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'ftlab-hfmodel-'));
});
after(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** A fresh folder with the given config and tensors (a single model.safetensors). */
async function folder(name: string, config: unknown, tensors: ReadonlyMap<string, FloatTensor> | Record<string, FloatTensor>): Promise<string> {
  const d = join(tmp, name);
  await mkdir(d, { recursive: true });
  await writeFile(join(d, 'config.json'), JSON.stringify(config));
  await writeSafetensors(join(d, 'model.safetensors'), tensors instanceof Map ? tensors : new Map(Object.entries(tensors)));
  return d;
}

function sameTensors(a: ReadonlyMap<string, FloatTensor>, b: ReadonlyMap<string, FloatTensor>): void {
  assert.deepEqual([...a.keys()], [...b.keys()]);
  for (const [name, t] of a) {
    const u = b.get(name)!;
    assert.deepEqual(u.shape, t.shape, name);
    assert.ok(Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength).equals(Buffer.from(u.data.buffer, u.data.byteOffset, u.data.byteLength)), `${name} bitwise equal`);
  }
}

const loaded = new Map<string, HfModel>();
async function fixture(name: string): Promise<HfModel> {
  if (!loaded.has(name)) loaded.set(name, await loadHfModel(join(HF_FIXTURES, name)));
  return loaded.get(name)!;
}

test('fixtures load with exactly the golden parameter names and shapes, and reproduce the PyTorch logits', async (t) => {
  for (const name of HF_FIXTURE_NAMES) {
    await t.test(name, async () => {
      const g = golden(name);
      for (const [file, sha] of Object.entries(g.fixture_sha256)) {
        const actual = createHash('sha256').update(await readFile(join(HF_FIXTURES, name, file))).digest('hex');
        assert.equal(actual, sha, `${file} is the file the golden was computed from (rerun tools/reference/hf_ref.py)`);
      }
      const m = await fixture(name);
      assert.deepEqual(m.warnings, []);
      assert.deepEqual([...m.tensors.keys()], g.param_names);
      assert.deepEqual(expectedParams(m.config).map((p) => p.name), g.param_names);
      for (const [n, tensor] of m.tensors) assert.deepEqual(tensor.shape, g.param_shapes[n], n);
      assert.deepEqual(expectedParams(m.config).map((p) => p.shape), g.param_names.map((n) => g.param_shapes[n]));
      const logits = referenceLogits(m.config, m.tensors, g.input_ids);
      let maxErr = 0;
      logits.forEach((row, b) => row.forEach((v, ti) => v.forEach((x, k) => (maxErr = Math.max(maxErr, Math.abs(x - g.logits[b]![ti]![k]!))))));
      assert.ok(maxErr < 1e-9, `max |logit - golden| = ${maxErr}`);
      // HF loss convention: logits[:, t] predicts labels[:, t + 1]; mean over labels != -100.
      let sum = 0;
      let count = 0;
      logits.forEach((row, b) => row.slice(0, -1).forEach((v, ti) => {
        const label = g.labels[b]![ti + 1]!;
        if (label === -100) return;
        const max = Math.max(...v);
        sum += max + Math.log(v.reduce((a, x) => a + Math.exp(x - max), 0)) - v[label]!;
        count++;
      }));
      assert.equal(count, g.n_loss_tokens);
      assert.ok(Math.abs(sum / count - g.loss) < 1e-9, `loss ${sum / count} vs golden ${g.loss}`);
    });
  }
});

test('loadHfModel reports the files read and the family; sharded fixture reads index + both shards', async () => {
  const m = await fixture('llama_gqa_tiny');
  assert.equal(m.family, 'llama');
  assert.deepEqual(m.files.map((f) => f.split('/').pop()), ['model.safetensors.index.json', 'model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors']);
  assert.equal(m.generation, null);
  assert.equal(m.tokenizer, null);
  const q = await fixture('qwen2_bias_tiny'); // stored as BF16: every value must be bf16-exact after loading
  for (const [n, t] of q.tensors) assert.ok(new Uint32Array(t.data.buffer, t.data.byteOffset, t.data.length).every((bits) => (bits & 0xffff) === 0), `${n} is bf16-exact`);
  assert.equal((await fixture('gpt2_tiny')).family, 'gpt2');
});

test('expectedParams gives the published parameter counts of real models', () => {
  const count = (config: unknown) => expectedParams(parseHfConfig(config)).reduce((s, p) => s + p.shape.reduce((a, b) => a * b, 1), 0);
  // GPT-2 small: 124,439,808 parameters (lm_head tied).
  assert.equal(count({ model_type: 'gpt2', vocab_size: 50257, n_positions: 1024, n_embd: 768, n_layer: 12, n_head: 12 }), 124_439_808);
  // Qwen2.5-0.5B: 494,032,768.
  assert.equal(count({ model_type: 'qwen2', vocab_size: 151936, hidden_size: 896, intermediate_size: 4864, num_hidden_layers: 24, num_attention_heads: 14, num_key_value_heads: 2, tie_word_embeddings: true }), 494_032_768);
  // Llama 3.2 1B: 1,235,814,400.
  assert.equal(count({ model_type: 'llama', vocab_size: 128256, hidden_size: 2048, intermediate_size: 8192, num_hidden_layers: 16, num_attention_heads: 32, num_key_value_heads: 8, head_dim: 64, tie_word_embeddings: true }), 1_235_814_400);
  const llama = expectedParams(parseHfConfig({ model_type: 'llama', vocab_size: 10, hidden_size: 8, intermediate_size: 12, num_hidden_layers: 1, num_attention_heads: 4, num_key_value_heads: 2 }));
  assert.deepEqual(llama.find((p) => p.name === 'model.layers.0.self_attn.k_proj.weight')!.shape, [4, 8]); // [kv heads * head_dim, hidden]
  assert.deepEqual(llama.at(-1), { name: 'lm_head.weight', shape: [10, 8] });
  const gpt2 = expectedParams(parseHfConfig({ model_type: 'gpt2', vocab_size: 10, n_positions: 4, n_embd: 8, n_layer: 1, n_head: 2 }));
  assert.deepEqual(gpt2.find((p) => p.name === 'transformer.h.0.mlp.c_fc.weight')!.shape, [8, 32]); // Conv1D [in, out]
});

test('checkpoints without the base-model prefix, with buffers and a duplicate tied lm_head, load the same', async () => {
  const gpt2 = await fixture('gpt2_tiny');
  const legacy = new Map<string, FloatTensor>();
  for (const [n, t] of gpt2.tensors) legacy.set(n.replace(/^transformer\./, ''), t); // the layout of openai-community/gpt2
  legacy.set('h.0.attn.bias', { shape: [1, 1, 16, 16], data: new Float32Array(256).fill(1) });
  legacy.set('h.1.attn.masked_bias', { shape: [], data: Float32Array.from([-1e4]) });
  legacy.set('lm_head.weight', gpt2.tensors.get('transformer.wte.weight')!);
  const d = await folder('gpt2-legacy', gpt2.config.raw, legacy);
  const m = await loadHfModel(d);
  assert.deepEqual(m.warnings, []);
  sameTensors(gpt2.tensors, m.tensors);

  const llama = await fixture('llama_gqa_tiny');
  const base = new Map<string, FloatTensor>();
  for (const [n, t] of llama.tensors) base.set(n.replace(/^model\./, ''), t);
  base.set('layers.0.self_attn.rotary_emb.inv_freq', { shape: [4], data: new Float32Array(4) });
  const m2 = await loadHfModel(await folder('llama-noprefix', llama.config.raw, base));
  assert.deepEqual(m2.warnings, []);
  sameTensors(llama.tensors, m2.tensors);
});

test('extra tensors and a tied lm_head that differs are warnings, not errors', async () => {
  const llama = await fixture('llama3_tied_tiny');
  const tensors = new Map(llama.tensors);
  tensors.set('model.layers.0.self_attn.q_norm.weight', { shape: [16], data: new Float32Array(16) });
  tensors.set('lm_head.weight', { shape: [64, 32], data: new Float32Array(64 * 32) });
  const seen: string[] = [];
  const m = await loadHfModel(await folder('llama-extra', llama.config.raw, tensors), { onWarning: (w) => seen.push(w) });
  assert.equal(m.warnings.length, 2);
  assert.deepEqual(seen, m.warnings);
  assert.match(m.warnings[0]!, /ignored 1 tensor that a llama: .* does not use: model\.layers\.0\.self_attn\.q_norm\.weight/);
  assert.match(m.warnings[1]!, /lm_head\.weight differs from model\.embed_tokens\.weight, but config\.json ties them/);
  sameTensors(llama.tensors, m.tensors);
});

test('missing and mis-shaped tensors: the message names the tensor and both shapes', async () => {
  const llama = await fixture('llama_gqa_tiny');
  const missing = new Map(llama.tensors);
  missing.delete('model.layers.1.mlp.up_proj.weight');
  missing.delete('lm_head.weight');
  const d1 = await folder('llama-missing', llama.config.raw, missing);
  await assert.rejects(loadHfModel(d1), (e: unknown) => {
    assert.ok(e instanceof CheckpointError);
    assert.match(e.message, /missing 2 tensors of a llama: 2 layers, hidden 32, 4 heads \(2 kv, dim 8\), mlp 48, vocab 64, untied lm_head: model\.layers\.1\.mlp\.up_proj\.weight, lm_head\.weight/);
    assert.equal(e.file, d1);
    return true;
  });
  const shaped = new Map(llama.tensors);
  shaped.set('model.layers.0.self_attn.k_proj.weight', { shape: [32, 32], data: new Float32Array(32 * 32) });
  await assert.rejects(loadHfModel(await folder('llama-shape', llama.config.raw, shaped)),
    /tensor "model\.layers\.0\.self_attn\.k_proj\.weight" in model\.safetensors has shape \[32, 32\] but config\.json expects \[16, 32\]/);
  // A config that does not belong to the weights at all.
  const gpt2 = await fixture('gpt2_tiny');
  await assert.rejects(loadHfModel(await folder('mismatch', llama.config.raw, gpt2.tensors)), /None of the expected names is present: does config\.json belong to these weights\?/);
  // vocab_size disagreeing with the embedding.
  await assert.rejects(loadHfModel(await folder('vocab', { ...gpt2.config.raw, vocab_size: 65 }, gpt2.tensors)),
    /tensor "transformer\.wte\.weight" in model\.safetensors has shape \[64, 32\] but config\.json expects \[65, 32\]/);
});

test('folders without safetensors weights: pickle refused with conversion commands, adapters, other formats', async () => {
  const cfg = (await fixture('gpt2_tiny')).config.raw;
  const make = async (name: string, files: Record<string, string>) => {
    const d = join(tmp, name);
    await mkdir(d, { recursive: true });
    await writeFile(join(d, 'config.json'), JSON.stringify(cfg));
    for (const [f, text] of Object.entries(files)) await writeFile(join(d, f), text);
    return d;
  };
  const pickle = await make('pickle', { 'pytorch_model.bin': 'PK...' });
  await assert.rejects(loadHfModel(pickle), (e: unknown) => {
    assert.ok(e instanceof CheckpointError);
    assert.match(e.message, /PyTorch pickle weights only \(pytorch_model\.bin\)/);
    assert.match(e.message, /does not load pickle files/);
    assert.match(e.message, /save_pretrained\('.*pickle', safe_serialization=True\)/);
    assert.match(e.message, /safetensors\.torch import save_file/);
    assert.match(e.message, /weights_only=True/);
    return true;
  });
  await assert.rejects(loadHfModel(await make('adapter', { 'adapter_config.json': '{"base_model_name_or_path": "org/base"}', 'adapter_model.safetensors': '' })),
    /is a PEFT\/LoRA adapter, not a full model: load its base model \(its base model: org\/base\) instead/);
  await assert.rejects(loadHfModel(await make('tf', { 'tf_model.h5': '' })), /has weights only as tf_model\.h5; Fine-Tune Lab reads safetensors/);
  await assert.rejects(loadHfModel(await make('loose', { 'model-00001-of-00002.safetensors': '' })), /but neither model\.safetensors nor model\.safetensors\.index\.json/);
  await assert.rejects(loadHfModel(await make('none', {})), /has no model weights/);
  await assert.rejects(loadHfModel(join(tmp, 'does-not-exist')), /cannot read the model folder/);
  await assert.rejects(loadHfModel(join(HF_FIXTURES, 'gpt2_tiny', 'config.json')), /is not a folder/);
  const noConfig = join(tmp, 'no-config');
  await mkdir(noConfig);
  await assert.rejects(loadHfModel(noConfig), /has no config\.json/);
});

test('export -> reload is exact (F32), copies tokenizer files, and writes metadata transformers accepts', async () => {
  const base = join(tmp, 'base');
  await cp(join(HF_FIXTURES, 'llama_gqa_tiny'), base, { recursive: true });
  await writeFile(join(base, 'tokenizer.json'), '{"model": {}}');
  await writeFile(join(base, 'tokenizer_config.json'), JSON.stringify({ eos_token: '</s>', added_tokens_decoder: { 2: { content: '</s>' } } }));
  await writeFile(join(base, 'generation_config.json'), JSON.stringify({ eos_token_id: 2 }));
  const m = await loadHfModel(base);
  assert.equal(m.tokenizer!.eos!.id, 2);
  assert.deepEqual(m.generation!.eosTokenIds, [2]);
  const out = join(tmp, 'exports', 'run1');
  const { files } = await saveHfModel(out, { config: m.config, tensors: m.tensors, copyFrom: base, extraFiles: { 'README.md': '# tuned\n' } });
  assert.deepEqual(files.sort(), ['README.md', 'config.json', 'generation_config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json']);
  assert.deepEqual((await readdir(join(tmp, 'exports'))), ['run1'], 'no temporary folders left');
  const back = await loadHfModel(out);
  sameTensors(m.tensors, back.tensors);
  assert.deepEqual(back.config.raw, { ...m.config.raw, torch_dtype: 'float32' });
  const f = await SafetensorsFile.open(join(out, 'model.safetensors'));
  assert.deepEqual(f.metadata, { format: 'pt' });
  await f.close();
  assert.equal(await readFile(join(out, 'tokenizer.json'), 'utf8'), '{"model": {}}');
});

test('export as BF16 and sharded; re-export replaces the previous folder completely', async () => {
  const q = await fixture('qwen2_bias_tiny'); // bf16-exact values: a BF16 export is lossless
  const out = join(tmp, 'qwen-export');
  await saveHfModel(out, { config: q.config, tensors: q.tensors, dtype: 'BF16', maxShardBytes: 20_000 });
  const names = await readdir(out);
  const shards = names.filter((n) => /^model-\d{5}-of-\d{5}\.safetensors$/.test(n));
  assert.ok(shards.length >= 2, `sharded: ${names.join(', ')}`);
  const index = JSON.parse(await readFile(join(out, 'model.safetensors.index.json'), 'utf8')) as { metadata: { total_size: number }; weight_map: Record<string, string> };
  assert.equal(index.metadata.total_size, [...q.tensors.values()].reduce((s, t) => s + 2 * t.data.length, 0));
  assert.deepEqual(Object.keys(index.weight_map), [...q.tensors.keys()]);
  const first = await SafetensorsFile.open(join(out, shards[0]!));
  assert.ok([...first.entries.values()].every((e) => e.dtype === 'BF16'));
  await first.close();
  const back = await loadHfModel(out);
  sameTensors(q.tensors, back.tensors);
  assert.equal(back.config.torchDtype, 'bfloat16');
  // Re-export as one F32 file: stale shards must not survive next to the new file.
  await saveHfModel(out, { config: q.config.raw, tensors: q.tensors });
  assert.deepEqual((await readdir(out)).sort(), ['config.json', 'model.safetensors']);
  sameTensors(q.tensors, (await loadHfModel(out)).tensors);
});

test('export refuses bad tensors and foreign folders, leaving nothing behind', async () => {
  const g = await fixture('gpt2_tiny');
  const out = join(tmp, 'bad-export');
  const missing = new Map(g.tensors);
  missing.delete('transformer.ln_f.bias');
  await assert.rejects(saveHfModel(out, { config: g.config, tensors: missing }), /missing tensor "transformer\.ln_f\.bias" \[32\]/);
  const shaped = new Map(g.tensors);
  shaped.set('transformer.wpe.weight', { shape: [8, 32], data: new Float32Array(256) });
  await assert.rejects(saveHfModel(out, { config: g.config, tensors: shaped }), /tensor "transformer\.wpe\.weight" has shape \[8, 32\] \(256 values\) but the config expects \[16, 32\]/);
  const extra = new Map(g.tensors);
  extra.set('transformer.h.0.attn.c_attn.lora_A', { shape: [2], data: new Float32Array(2) });
  await assert.rejects(saveHfModel(out, { config: g.config, tensors: extra }), /tensor "transformer\.h\.0\.attn\.c_attn\.lora_A" is not a parameter of the model/);
  // A tied lm_head given explicitly is fine (dropped).
  const withHead = new Map(g.tensors);
  withHead.set('lm_head.weight', g.tensors.get('transformer.wte.weight')!);
  await saveHfModel(out, { config: g.config, tensors: withHead });
  const back = await loadHfModel(out);
  assert.ok(!back.tensors.has('lm_head.weight'));
  const foreign = join(tmp, 'foreign');
  await mkdir(foreign);
  await writeFile(join(foreign, 'notes.txt'), 'mine');
  await assert.rejects(saveHfModel(foreign, { config: g.config, tensors: g.tensors }), /exists and is not a model folder/);
  assert.deepEqual(await readdir(foreign), ['notes.txt']);
  assert.deepEqual((await readdir(tmp)).filter((n) => n.endsWith('.tmp') || n.endsWith('.old')), []);
});
