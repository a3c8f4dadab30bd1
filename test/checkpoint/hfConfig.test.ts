import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  describeHfConfig, parseGenerationConfig, parseHfConfig, parseTokenizerConfig, readGenerationConfig, readHfConfig,
  readTokenizerConfig, ropeInvFreq, type Gpt2Config, type LlamaConfig,
} from '../../src/engine/checkpoint/hfConfig';
import { GOLDEN_DIR, HF_FIXTURES } from './fixturePaths';

// The config.json of openai-community/gpt2 (abridged to the keys that matter; values as published).
const GPT2 = {
  activation_function: 'gelu_new', architectures: ['GPT2LMHeadModel'], attn_pdrop: 0.1, bos_token_id: 50256,
  embd_pdrop: 0.1, eos_token_id: 50256, initializer_range: 0.02, layer_norm_epsilon: 1e-5, model_type: 'gpt2',
  n_ctx: 1024, n_embd: 768, n_head: 12, n_layer: 12, n_positions: 1024, resid_pdrop: 0.1, vocab_size: 50257,
};

// The config.json of meta-llama/Llama-3.2-1B (as published).
const LLAMA32 = {
  architectures: ['LlamaForCausalLM'], attention_bias: false, attention_dropout: 0.0, bos_token_id: 128000,
  eos_token_id: 128001, head_dim: 64, hidden_act: 'silu', hidden_size: 2048, initializer_range: 0.02,
  intermediate_size: 8192, max_position_embeddings: 131072, mlp_bias: false, model_type: 'llama',
  num_attention_heads: 32, num_hidden_layers: 16, num_key_value_heads: 8, pretraining_tp: 1, rms_norm_eps: 1e-5,
  rope_scaling: { factor: 32.0, high_freq_factor: 4.0, low_freq_factor: 1.0, original_max_position_embeddings: 8192, rope_type: 'llama3' },
  rope_theta: 500000.0, tie_word_embeddings: true, torch_dtype: 'bfloat16', use_cache: true, vocab_size: 128256,
};

// Qwen/Qwen2.5-0.5B config.json (as published).
const QWEN25 = {
  architectures: ['Qwen2ForCausalLM'], attention_dropout: 0.0, bos_token_id: 151643, eos_token_id: 151643,
  hidden_act: 'silu', hidden_size: 896, initializer_range: 0.02, intermediate_size: 4864, max_position_embeddings: 32768,
  max_window_layers: 24, model_type: 'qwen2', num_attention_heads: 14, num_hidden_layers: 24, num_key_value_heads: 2,
  rms_norm_eps: 1e-6, rope_theta: 1000000.0, sliding_window: 32768, tie_word_embeddings: true, torch_dtype: 'bfloat16',
  use_cache: true, use_sliding_window: false, vocab_size: 151936,
};

// mistralai/Mistral-7B-v0.1 config.json (as published).
const MISTRAL = {
  architectures: ['MistralForCausalLM'], bos_token_id: 1, eos_token_id: 2, hidden_act: 'silu', hidden_size: 4096,
  initializer_range: 0.02, intermediate_size: 14336, max_position_embeddings: 32768, model_type: 'mistral',
  num_attention_heads: 32, num_hidden_layers: 32, num_key_value_heads: 8, rms_norm_eps: 1e-5, rope_theta: 10000.0,
  sliding_window: 4096, tie_word_embeddings: false, torch_dtype: 'bfloat16', vocab_size: 32000,
};

test('GPT-2 config: fields, defaults and activation names', () => {
  const c = parseHfConfig(GPT2) as Gpt2Config;
  assert.equal(c.family, 'gpt2');
  assert.deepEqual(
    [c.nEmbd, c.nLayer, c.nHead, c.nPositions, c.nInner, c.vocabSize, c.layerNormEpsilon, c.residPdrop, c.embdPdrop, c.attnPdrop],
    [768, 12, 12, 1024, 3072, 50257, 1e-5, 0.1, 0.1, 0.1],
  );
  assert.equal(c.activation, 'gelu_tanh');
  assert.equal(c.activationFunction, 'gelu_new');
  assert.equal(c.tieWordEmbeddings, true); // PretrainedConfig default
  assert.equal(c.bosTokenId, 50256);
  assert.deepEqual(c.eosTokenIds, [50256]);
  assert.equal(c.padTokenId, null);
  assert.equal(c.raw, GPT2);
  assert.equal((parseHfConfig({ ...GPT2, activation_function: 'gelu' }) as Gpt2Config).activation, 'gelu');
  assert.equal((parseHfConfig({ ...GPT2, activation_function: 'gelu_pytorch_tanh' }) as Gpt2Config).activation, 'gelu_tanh');
  assert.equal((parseHfConfig({ ...GPT2, n_inner: 100 }) as Gpt2Config).nInner, 100);
  const { n_positions: _, ...noPositions } = GPT2;
  assert.equal((parseHfConfig({ ...noPositions, n_ctx: 512 }) as Gpt2Config).nPositions, 512);
  assert.match(describeHfConfig(c), /^gpt2: 12 layers, n_embd 768, 12 heads, 1024 positions, vocab 50257, tied lm_head$/);
});

test('Llama 3.2 config: GQA, head_dim, llama3 rope scaling, tied, list of eos ids', () => {
  const c = parseHfConfig(LLAMA32) as LlamaConfig;
  assert.equal(c.family, 'llama');
  assert.deepEqual(
    [c.hiddenSize, c.intermediateSize, c.numHiddenLayers, c.numAttentionHeads, c.numKeyValueHeads, c.headDim, c.rmsNormEps, c.ropeTheta, c.maxPositionEmbeddings],
    [2048, 8192, 16, 32, 8, 64, 1e-5, 500000, 131072],
  );
  assert.deepEqual(c.ropeScaling, { kind: 'llama3', factor: 32, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 8192 });
  assert.equal(c.tieWordEmbeddings, true);
  assert.equal(c.qkvBias, false);
  assert.equal(c.oBias, false);
  assert.equal(c.mlpBias, false);
  assert.equal(c.torchDtype, 'bfloat16');
  assert.deepEqual((parseHfConfig({ ...LLAMA32, eos_token_id: [128001, 128008, 128009] }) as LlamaConfig).eosTokenIds, [128001, 128008, 128009]);
  const biased = parseHfConfig({ ...LLAMA32, attention_bias: true, mlp_bias: true }) as LlamaConfig;
  assert.deepEqual([biased.qkvBias, biased.oBias, biased.mlpBias], [true, true, true]);
  // head_dim absent -> hidden / heads; num_key_value_heads absent -> heads (MHA); tie default false for Llama.
  const { head_dim: _h, num_key_value_heads: _k, tie_word_embeddings: _t, ...plain } = LLAMA32;
  const p = parseHfConfig({ ...plain, rope_scaling: null }) as LlamaConfig;
  assert.deepEqual([p.headDim, p.numKeyValueHeads, p.tieWordEmbeddings, p.ropeScaling], [64, 32, false, null]);
  assert.match(describeHfConfig(c), /llama: 16 layers, hidden 2048, 32 heads \(8 kv, dim 64\), mlp 8192, vocab 128256, tied lm_head/);
});

test('Qwen2 and Mistral map to the llama family with their bias and window settings', () => {
  const q = parseHfConfig(QWEN25) as LlamaConfig;
  assert.equal(q.family, 'llama');
  assert.equal(q.modelType, 'qwen2');
  assert.deepEqual([q.qkvBias, q.oBias, q.mlpBias, q.slidingWindow, q.headDim, q.numKeyValueHeads], [true, false, false, null, 64, 2]);
  assert.throws(() => parseHfConfig({ ...QWEN25, use_sliding_window: true }), /use_sliding_window true .* not supported/);
  const m = parseHfConfig(MISTRAL) as LlamaConfig;
  assert.deepEqual([m.modelType, m.slidingWindow, m.qkvBias, m.tieWordEmbeddings], ['mistral', 4096, false, false]);
  assert.equal((parseHfConfig({ ...MISTRAL, sliding_window: null }) as LlamaConfig).slidingWindow, null);
});

test('rope scaling variants: linear, default, transformers 5 rope_parameters; unsupported kinds refused', () => {
  const linear = parseHfConfig({ ...LLAMA32, rope_scaling: { type: 'linear', factor: 2 } }) as LlamaConfig;
  assert.deepEqual(linear.ropeScaling, { kind: 'linear', factor: 2 });
  assert.equal((parseHfConfig({ ...LLAMA32, rope_scaling: { rope_type: 'default' } }) as LlamaConfig).ropeScaling, null);
  const { rope_scaling: _s, rope_theta: _t, ...v5 } = LLAMA32;
  const c5 = parseHfConfig({ ...v5, rope_parameters: { rope_type: 'llama3', rope_theta: 500000, factor: 32, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 8192 } }) as LlamaConfig;
  assert.equal(c5.ropeTheta, 500000);
  assert.deepEqual(c5.ropeScaling, { kind: 'llama3', factor: 32, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 8192 });
  for (const kind of ['yarn', 'dynamic', 'longrope']) {
    assert.throws(() => parseHfConfig({ ...LLAMA32, rope_scaling: { rope_type: kind, factor: 4 } }, 'm/config.json'),
      new RegExp(`m/config\\.json rope_scaling: rope scaling "${kind}" is not supported \\(supported: default, linear, llama3\\)`));
  }
});

test('ropeInvFreq matches the PyTorch reference (default and llama3 scaling)', () => {
  for (const name of ['llama_gqa_tiny', 'llama3_tied_tiny', 'qwen2_bias_tiny']) {
    const golden = JSON.parse(readFileSync(join(GOLDEN_DIR, `hf_${name}.json`), 'utf8')) as { config: unknown; rope_inv_freq: number[] };
    const inv = ropeInvFreq(parseHfConfig(golden.config) as LlamaConfig);
    assert.equal(inv.length, golden.rope_inv_freq.length);
    inv.forEach((v, i) => assert.ok(Math.abs(v - golden.rope_inv_freq[i]!) <= 1e-15 * Math.abs(v) + 1e-300, `${name}[${i}]: ${v} vs ${golden.rope_inv_freq[i]}`));
  }
  // llama3 bands at head_dim 16, theta 5e5, original 64 positions: kept, smoothed, divided by the factor.
  const c = parseHfConfig(JSON.parse(readFileSync(join(HF_FIXTURES, 'llama3_tied_tiny', 'config.json'), 'utf8'))) as LlamaConfig;
  const inv = ropeInvFreq(c);
  const plain = ropeInvFreq({ ...c, ropeScaling: null });
  assert.equal(inv[0], plain[0]);
  assert.ok(inv[1]! < plain[1]! && inv[1]! > plain[1]! / 8);
  assert.ok(Math.abs(inv[7]! - plain[7]! / 8) < 1e-20);
});

test('config errors: unsupported architecture lists what is supported; bad values name the key and file', () => {
  assert.throws(() => parseHfConfig({ model_type: 'gemma', hidden_size: 8 }, '/m/config.json'), (e: Error) => {
    assert.match(e.message, /^\/m\/config\.json: model_type "gemma" is not supported\. Supported model types: gpt2 \(.*\); llama \(.*\); mistral \(.*\); qwen2 \(.*\)\.$/);
    return true;
  });
  assert.throws(() => parseHfConfig({ architectures: ['FooForCausalLM'] }), /no "model_type" \(architectures: FooForCausalLM\)/);
  assert.throws(() => parseHfConfig([1]), /must hold a JSON object/);
  const { n_embd: _, ...noEmbd } = GPT2;
  assert.throws(() => parseHfConfig(noEmbd, 'x.json'), /x\.json: "n_embd" is missing/);
  assert.throws(() => parseHfConfig({ ...GPT2, n_head: 7 }), /n_head \(7\) must divide n_embd \(768\)/);
  assert.throws(() => parseHfConfig({ ...GPT2, n_layer: 1.5 }), /"n_layer" must be an integer >= 1, found 1\.5/);
  assert.throws(() => parseHfConfig({ ...GPT2, activation_function: 'mish' }), /activation_function "mish" is not supported \(supported: gelu_new/);
  assert.throws(() => parseHfConfig({ ...GPT2, scale_attn_by_inverse_layer_idx: true }), /scale_attn_by_inverse_layer_idx is not supported/);
  assert.throws(() => parseHfConfig({ ...GPT2, layer_norm_epsilon: 0 }), /"layer_norm_epsilon" must be a positive/);
  assert.throws(() => parseHfConfig({ ...LLAMA32, num_key_value_heads: 5 }), /num_key_value_heads \(5\) must divide num_attention_heads \(32\)/);
  assert.throws(() => parseHfConfig({ ...LLAMA32, hidden_act: 'gelu' }), /hidden_act "gelu" is not supported/);
  assert.throws(() => parseHfConfig({ ...LLAMA32, head_dim: 63 }), /head_dim \(63\) must be even/);
  assert.throws(() => parseHfConfig({ ...LLAMA32, tie_word_embeddings: 'yes' }), /"tie_word_embeddings" must be true or false, found "yes"/);
  assert.throws(() => parseHfConfig({ ...LLAMA32, eos_token_id: [1, 'x'] }), /"eos_token_id" must be a token id or a list of token ids/);
  assert.throws(() => parseHfConfig({ ...LLAMA32, partial_rotary_factor: 0.5 }), /partial_rotary_factor 0\.5 is not supported/);
});

test('generation_config.json and tokenizer_config.json basics', () => {
  const g = parseGenerationConfig({ bos_token_id: 128000, eos_token_id: [128001, 128009], do_sample: true, temperature: 0.6, top_p: 0.9, transformers_version: '4.45.0' });
  assert.deepEqual([g.bosTokenId, g.eosTokenIds, g.padTokenId, g.doSample, g.temperature, g.topP, g.topK, g.maxLength], [128000, [128001, 128009], null, true, 0.6, 0.9, null, null]);
  assert.throws(() => parseGenerationConfig({ temperature: 'hot' }, 'g.json'), /g\.json: "temperature" must be a number/);

  const t = parseTokenizerConfig({
    add_bos_token: true, add_eos_token: false, bos_token: '<s>', eos_token: { content: '</s>', lstrip: false }, unk_token: '<unk>',
    pad_token: null, model_max_length: 1000000000000000019884624838656, tokenizer_class: 'LlamaTokenizer',
    added_tokens_decoder: { 0: { content: '<unk>', special: true }, 1: { content: '<s>' }, 2: { content: '</s>' } },
    chat_template: [{ name: 'default', template: '{{ messages }}' }, { name: 'tool_use', template: 'T' }],
  });
  assert.deepEqual(t.bos, { content: '<s>', id: 1 });
  assert.deepEqual(t.eos, { content: '</s>', id: 2 });
  assert.deepEqual(t.unk, { content: '<unk>', id: 0 });
  assert.equal(t.pad, null);
  assert.deepEqual([t.addBosToken, t.addEosToken, t.modelMaxLength, t.tokenizerClass], [true, false, null, 'LlamaTokenizer']);
  assert.equal(t.chatTemplate, '{{ messages }}');
  assert.deepEqual(t.chatTemplates, { tool_use: 'T' });
  // special_tokens_map fills gaps; a lookup resolves ids the decoder lacks.
  const t2 = parseTokenizerConfig({ model_max_length: 1024 }, 'tc.json', { eos_token: '<|endoftext|>', pad_token: { content: '<pad>' } }, (s) => (s === '<|endoftext|>' ? 50256 : null));
  assert.deepEqual(t2.eos, { content: '<|endoftext|>', id: 50256 });
  assert.deepEqual(t2.pad, { content: '<pad>', id: null });
  assert.equal(t2.modelMaxLength, 1024);
  assert.equal(t2.chatTemplate, null);
  assert.throws(() => parseTokenizerConfig({ chat_template: 5 }, 'tc.json'), /tc\.json: "chat_template" must be a string or a list/);
});

test('reading a folder: config, generation and tokenizer files (ids from tokenizer.json, chat_template.jinja)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ftlab-hfconfig-'));
  try {
    await assert.rejects(readHfConfig(dir), /has no config\.json: not a Hugging Face model folder/);
    assert.equal(await readGenerationConfig(dir), null);
    assert.equal(await readTokenizerConfig(dir), null);
    await writeFile(join(dir, 'config.json'), '{"model_type": "gpt2",');
    await assert.rejects(readHfConfig(dir), /config\.json is not valid JSON/);
    await writeFile(join(dir, 'config.json'), JSON.stringify(GPT2));
    assert.equal((await readHfConfig(dir)).family, 'gpt2');
    await writeFile(join(dir, 'generation_config.json'), JSON.stringify({ bos_token_id: 50256, eos_token_id: 50256 }));
    assert.deepEqual((await readGenerationConfig(dir))!.eosTokenIds, [50256]);
    // GPT-2 style: tokens without added_tokens_decoder; ids come from tokenizer.json.
    await writeFile(join(dir, 'tokenizer_config.json'), JSON.stringify({ bos_token: '<|endoftext|>', eos_token: '<|endoftext|>', model_max_length: 1024 }));
    await writeFile(join(dir, 'tokenizer.json'), JSON.stringify({ added_tokens: [{ id: 50256, content: '<|endoftext|>' }], model: { type: 'BPE', vocab: { hello: 0 } } }));
    await writeFile(join(dir, 'chat_template.jinja'), '{% for m in messages %}{{ m.content }}{% endfor %}');
    const t = (await readTokenizerConfig(dir))!;
    assert.deepEqual(t.bos, { content: '<|endoftext|>', id: 50256 });
    assert.equal(t.chatTemplate, '{% for m in messages %}{{ m.content }}{% endfor %}');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
