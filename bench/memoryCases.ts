// The memory cases of bench/memory.ts and test/memory/: each case writes a Hugging Face model folder (its
// config, seeded random weights, a small word-level tokenizer) and pre-tokenized data of exactly
// T + 1 tokens per row, runs `ftlab train` for a few steps in a child process, and compares that
// process's peak RSS (VmHWM of /proc/self/status, read at exit) with `ftlab estimate` for the same flags.
//
// A case: a config.json (any family the engine loads) plus training flags.

import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expectedParams, saveHfModel } from '../src/engine/checkpoint/hfModel';
import { parseHfConfig } from '../src/engine/checkpoint/hfConfig';
import { normalRng } from '../src/engine/random';
import { writeFileAtomic } from '../src/engine/fsAtomic';

export interface MemoryCase {
  name: string;
  config: Record<string, unknown>;
  /** Rows of T + 1 tokens. */
  seq: number;
  batch: number;
  flags: string[];
}

const gpt2 = (layers: number, d: number, heads: number, vocab: number, positions: number) => ({
  architectures: ['GPT2LMHeadModel'], model_type: 'gpt2', vocab_size: vocab, n_positions: positions, n_embd: d, n_layer: layers, n_head: heads,
  activation_function: 'gelu_new', resid_pdrop: 0, embd_pdrop: 0, attn_pdrop: 0, layer_norm_epsilon: 1e-5, tie_word_embeddings: true,
  bos_token_id: 1, eos_token_id: 1,
});
const llama = (modelType: 'llama' | 'qwen2', layers: number, d: number, heads: number, kvHeads: number, inter: number, vocab: number, tied: boolean) => ({
  architectures: [modelType === 'qwen2' ? 'Qwen2ForCausalLM' : 'LlamaForCausalLM'], model_type: modelType, vocab_size: vocab, hidden_size: d,
  intermediate_size: inter, num_hidden_layers: layers, num_attention_heads: heads, num_key_value_heads: kvHeads, hidden_act: 'silu',
  max_position_embeddings: 2048, rms_norm_eps: 1e-6, rope_theta: 10000, attention_bias: modelType === 'qwen2', tie_word_embeddings: tied,
  bos_token_id: 1, eos_token_id: 1,
});

/** Reduced configs of three families (the test suite's sizes and some larger ones). */
export const CASES: MemoryCase[] = [
  { name: 'tiny', config: gpt2(2, 32, 2, 256, 64), seq: 16, batch: 1, flags: [] },
  { name: 'gpt2-params', config: gpt2(8, 512, 8, 16384, 64), seq: 16, batch: 1, flags: [] },
  { name: 'gpt2-params-s', config: gpt2(6, 384, 6, 16384, 64), seq: 16, batch: 1, flags: [] },
  { name: 'gpt2-params-lora', config: gpt2(8, 512, 8, 16384, 64), seq: 16, batch: 1, flags: ['--strategy', 'lora'] },
  { name: 'gpt2-params-sgd', config: gpt2(8, 512, 8, 16384, 64), seq: 16, batch: 1, flags: ['--optim', 'sgd'] },
  { name: 'gpt2-attn', config: gpt2(2, 128, 4, 512, 1024), seq: 1024, batch: 4, flags: [] },
  { name: 'gpt2-full', config: gpt2(4, 256, 4, 16384, 512), seq: 128, batch: 4, flags: [] },
  { name: 'gpt2-full-b8', config: gpt2(4, 256, 4, 16384, 512), seq: 256, batch: 8, flags: [] },
  { name: 'gpt2-lora', config: gpt2(4, 256, 4, 16384, 512), seq: 256, batch: 8, flags: ['--strategy', 'lora'] },
  { name: 'gpt2-full-val', config: gpt2(4, 256, 4, 16384, 512), seq: 128, batch: 4, flags: ['--validation-split', '0.5', '--eval-steps', '1'] },
  { name: 'gpt2-frozen-l2sp', config: gpt2(4, 256, 4, 16384, 512), seq: 128, batch: 4, flags: ['--strategy', 'frozen-embeddings', '--l2sp-weight', '1'] },
  { name: 'gpt2-124m', config: gpt2(12, 768, 12, 50257, 1024), seq: 256, batch: 4, flags: [] },
  { name: 'gpt2-124m-lora', config: gpt2(12, 768, 12, 50257, 1024), seq: 256, batch: 4, flags: ['--strategy', 'lora'] },
  { name: 'llama-full', config: llama('llama', 4, 256, 8, 4, 688, 16384, false), seq: 128, batch: 4, flags: [] },
  { name: 'llama-lora-long', config: llama('llama', 4, 256, 8, 4, 688, 16384, false), seq: 512, batch: 2, flags: ['--strategy', 'lora'] },
  { name: 'qwen2-full', config: llama('qwen2', 3, 192, 6, 2, 512, 32768, true), seq: 128, batch: 4, flags: [] },
  { name: 'qwen2-layerwise-acc', config: llama('qwen2', 3, 192, 6, 2, 512, 32768, true), seq: 128, batch: 2, flags: ['--strategy', 'layerwise-lr', '--gradient-accumulation-steps', '2'] },
];

/** A WordLevel tokenizer of `n` words (w0..), with </s> as EOS. */
function writeTokenizer(dir: string, n: number): void {
  const vocab: Record<string, number> = { '[UNK]': 0, '</s>': 1 };
  for (let i = 2; i < n; i++) vocab[`w${i}`] = i;
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify({
    version: '1.0', truncation: null, padding: null, added_tokens: [{ id: 1, content: '</s>', special: true, single_word: false, lstrip: false, rstrip: false, normalized: false }],
    normalizer: null, pre_tokenizer: { type: 'WhitespaceSplit' }, post_processor: null, decoder: { type: 'Fuse' },
    model: { type: 'WordLevel', vocab, unk_token: '[UNK]' },
  }));
  writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ eos_token: '</s>', unk_token: '[UNK]', add_bos_token: false }));
}

/** A model folder with seeded random weights (N(0, 0.02) matrices, unit norm gains, zero biases). */
export async function writeRandomModel(dir: string, config: Record<string, unknown>, seed = 1): Promise<void> {
  const parsed = parseHfConfig(config);
  const randn = normalRng(seed);
  const tensors = new Map(expectedParams(parsed).map(({ name, shape }) => {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    if (shape.length >= 2) for (let k = 0; k < data.length; k++) data[k] = 0.02 * randn();
    else if (/norm|ln_/.test(name) && name.endsWith('weight')) data.fill(1);
    return [name, { shape: [...shape], data }];
  }));
  await saveHfModel(dir, { config, tensors });
  writeTokenizer(dir, 256);
}

/** Pre-tokenized rows of seq + 1 ids (all trained), `rows` of them. */
export function writeTokenData(file: string, seq: number, rows: number, seed = 2): void {
  let x = seed;
  const lines: string[] = [];
  for (let r = 0; r < rows; r++) {
    const ids = Array.from({ length: seq + 1 }, () => 2 + ((x = (x * 1103515245 + 12345) % 2147483648) % 250));
    lines.push(JSON.stringify({ input_ids: ids }));
  }
  writeFileAtomic(file, lines.join('\n') + '\n');
}

/** A preload that reports the process's peak RSS on stderr at exit. */
export function peakReporter(dir: string): string {
  const file = join(dir, 'peak-rss.cjs');
  writeFileSync(file, `process.on('exit', () => { const m = /VmHWM:\\s*(\\d+) kB/.exec(require('fs').readFileSync('/proc/self/status', 'utf8')); require('fs').writeSync(2, '\\nPEAK_RSS_BYTES=' + (m ? Number(m[1]) * 1024 : -1) + '\\n'); });\n`);
  return file;
}

export interface CaseResult { name: string; measuredBytes: number; estimate: { peakBytes: number; parts: Record<string, number> }; ratio: number; seconds: number }

export async function runCase(c: MemoryCase, o: { cli: string; work: string; steps: number; threads: number; preload: string }): Promise<CaseResult> {
  const dir = join(o.work, c.name);
  mkdirSync(dir, { recursive: true });
  const model = join(dir, 'model');
  await writeRandomModel(model, c.config);
  const data = join(dir, 'data.jsonl');
  writeTokenData(data, c.seq, Math.max(c.batch * 2, 8));
  const common = ['--model', model, '--data', data, '--per-device-train-batch-size', String(c.batch), ...c.flags];
  const est = spawnSync(process.execPath, [o.cli, 'estimate', ...common, '--json'], { encoding: 'utf8' });
  if (est.status !== 0) throw new Error(`ftlab estimate failed for ${c.name}: ${est.stderr}`);
  const estimate = JSON.parse(est.stdout);
  const t0 = Date.now();
  const r = spawnSync(process.execPath, ['-r', o.preload, o.cli, 'train', ...common, '--out', join(dir, 'run'), '--max-steps', String(o.steps),
    '--threads', String(o.threads), '--quiet', '--save-steps', '0', '--ignore-memory-estimate'], { encoding: 'utf8' });
  const seconds = (Date.now() - t0) / 1000;
  const m = /PEAK_RSS_BYTES=(\d+)/.exec(r.stderr);
  if (r.status !== 0 || !m) throw new Error(`ftlab train failed for ${c.name}: ${r.stderr}`);
  const measuredBytes = Number(m[1]);
  return { name: c.name, measuredBytes, estimate, ratio: estimate.peakBytes / measuredBytes, seconds };
}

