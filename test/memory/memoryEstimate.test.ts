// The memory estimate (src/engine/memory/): the step graph's working set on a graph whose peak is
// known by hand; the estimate within 25% of the measured peak RSS of `ftlab train` on reduced
// GPT-2, Llama and Qwen2 configs (each run in its own child process, so the RSS is its own);
// `ftlab estimate --json`'s shape; `ftlab train` refusing a run that does not fit (before any run
// folder exists) and running it with --ignore-memory-estimate; gradient checkpointing suggested first
// where it lowers the peak; the available memory from cgroup files.
//
// The CLI is bin/ftlab.js (dist/cli.js, built by `npm run build`); FTLAB_TEST_CLI points at another bundle.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Graph } from '../../src/engine/graph/graph';
import { GraphBuilder } from '../../src/engine/graph/builder';
import { graphPeak } from '../../src/engine/memory/graphLiveness';
import { availableMemory, parseByteSize } from '../../src/engine/memory/availableMemory';
import { memorySuggestions } from '../../src/engine/memory/memoryCheck';
import { estimateTrainingMemory } from '../../src/engine/memory/memoryEstimate';
import { parseHfConfig } from '../../src/engine/checkpoint/hfConfig';
import { causalLMFromHf } from '../../src/engine/models/hfCausalLM';
import { TRAINING_DEFAULTS } from '../../src/engine/train/trainingArguments';
import { MemoryCase, peakReporter, writeRandomModel, writeTokenData } from '../../bench/memoryCases';
import { scratchDir } from '../data/helpers';
import { repoRoot } from '../foundation/repoRoot';

const cli = process.env.FTLAB_TEST_CLI ?? join(repoRoot, 'bin', 'ftlab.js');
const ftlab = (args: string[], env: Record<string, string> = {}, preload?: string) =>
  spawnSync(process.execPath, [...(preload ? ['-r', preload] : []), cli, ...args], { encoding: 'utf8', env: { ...process.env, ...env } });

test('graphPeak: tensors live from their node to their last reader; reshapes are views', () => {
  const b = new GraphBuilder(new Graph('g'));
  const x = b.input('x', 'float32', [1000]); // fed: not counted
  const a = b.relu(x); // 4,000 bytes, read by c and d
  const r = b.reshape(a, [10, 100]); // a view of a
  const c = b.relu(r); // 4,000, read by d
  const d = b.add(b.reshape(c, [1000]), a); // 4,000; a and c die here
  const e = b.relu(d); // 4,000; d dies here
  b.graph.outputs = [e];
  // Peak while d is computed: a, c, d alive = 12,000; then e with d = 8,000.
  assert.deepEqual(graphPeak(b.graph), { peakBytes: 12_000, outputBytes: 4_000 });
});

test('available memory: FTLAB_AVAILABLE_MEMORY, a cgroup v1 limit, a cgroup v2 limit on the way up', () => {
  assert.equal(parseByteSize('512MiB'), 512 * 2 ** 20);
  assert.equal(parseByteSize('1.5G'), 1.5 * 2 ** 30);
  assert.equal(parseByteSize('4096'), 4096);
  assert.equal(parseByteSize('lots'), null);
  assert.deepEqual(availableMemory({ FTLAB_AVAILABLE_MEMORY: '2G' }), { bytes: 2 ** 31, source: 'FTLAB_AVAILABLE_MEMORY' });
  assert.throws(() => availableMemory({ FTLAB_AVAILABLE_MEMORY: 'lots' }), /FTLAB_AVAILABLE_MEMORY must be a size/);

  const v1 = scratchDir('cgroup-v1');
  mkdirSync(join(v1, 'memory'));
  writeFileSync(join(v1, 'memory', 'memory.limit_in_bytes'), `${2 ** 30}\n`);
  writeFileSync(join(v1, 'memory', 'memory.usage_in_bytes'), `${300 * 2 ** 20}\n`);
  writeFileSync(join(v1, 'memory', 'memory.stat'), `cache 1\ntotal_inactive_file ${44 * 2 ** 20}\n`);
  const got1 = availableMemory({}, v1)!;
  assert.ok(got1.bytes <= 2 ** 30 - 256 * 2 ** 20, 'the smaller of the cgroup\'s room and MemAvailable');
  assert.match(got1.source, /cgroup v1|MemAvailable/);
  if (got1.source.startsWith('cgroup v1')) assert.equal(got1.bytes, 2 ** 30 - 256 * 2 ** 20);

  // v2: this process's cgroup path under the root, a tighter limit on its parent.
  const self = readFileSync('/proc/self/cgroup', 'utf8').split('\n').find((l) => l.startsWith('0::'))?.slice(3).trim();
  if (self === undefined) return; // no cgroup v2 line on this system
  const v2 = scratchDir('cgroup-v2');
  const own = join(v2, self);
  mkdirSync(own, { recursive: true });
  writeFileSync(join(own, 'memory.max'), 'max\n');
  writeFileSync(join(own, 'memory.current'), '0\n');
  const limited = self === '/' ? own : join(own, '..');
  writeFileSync(join(limited, 'memory.max'), `${2 ** 30}\n`);
  writeFileSync(join(limited, 'memory.current'), `${2 ** 29}\n`);
  const got2 = availableMemory({}, v2)!;
  if (got2.source.startsWith('cgroup v2')) assert.equal(got2.bytes, 2 ** 29);
  else assert.ok(got2.bytes < 2 ** 29, `MemAvailable ${got2.bytes} wins only when smaller`);
});

const gpt2 = { architectures: ['GPT2LMHeadModel'], model_type: 'gpt2', vocab_size: 32768, n_positions: 128, n_embd: 256, n_layer: 2, n_head: 4,
  activation_function: 'gelu_new', resid_pdrop: 0, embd_pdrop: 0, attn_pdrop: 0, layer_norm_epsilon: 1e-5, tie_word_embeddings: true, bos_token_id: 1, eos_token_id: 1 };
const llamaLike = (model_type: 'llama' | 'qwen2', vocab: number, tied: boolean) => ({
  architectures: [model_type === 'qwen2' ? 'Qwen2ForCausalLM' : 'LlamaForCausalLM'], model_type, vocab_size: vocab, hidden_size: 192, intermediate_size: 512,
  num_hidden_layers: 2, num_attention_heads: 6, num_key_value_heads: 2, hidden_act: 'silu', max_position_embeddings: 512, rms_norm_eps: 1e-6,
  rope_theta: 10000, attention_bias: model_type === 'qwen2', tie_word_embeddings: tied, bos_token_id: 1, eos_token_id: 1,
});
/** Small enough to train 2 steps in seconds; weights, optimizer state and activations all well above the baseline. */
const CASES: MemoryCase[] = [
  { name: 'gpt2 full', config: gpt2, seq: 64, batch: 2, flags: [] },
  { name: 'llama lora', config: llamaLike('llama', 32768, false), seq: 256, batch: 4, flags: ['--strategy', 'lora'] },
  { name: 'qwen2 frozen-embeddings + L2-SP', config: llamaLike('qwen2', 65536, true), seq: 64, batch: 2, flags: ['--strategy', 'frozen-embeddings', '--l2sp-weight', '1'] },
];

test('the estimate is within 25% of the measured peak RSS of ftlab train (GPT-2, Llama, Qwen2); estimate --json has peakBytes and parts', async (t) => {
  const dir = scratchDir('memory-estimate');
  const preload = peakReporter(dir);
  const rows: string[] = [];
  for (const [k, c] of CASES.entries()) {
    const model = join(dir, `model-${k}`);
    await writeRandomModel(model, c.config, k + 1);
    const data = join(dir, `data-${k}.jsonl`);
    writeTokenData(data, c.seq, 2 * c.batch);
    const common = ['--model', model, '--data', data, '--per-device-train-batch-size', String(c.batch), ...c.flags];
    const est = ftlab(['estimate', ...common, '--json']);
    assert.equal(est.status, 0, est.stderr);
    const e = JSON.parse(est.stdout);
    assert.deepEqual(Object.keys(e.parts).sort(), ['activations', 'baseline', 'gradients', 'l2spAnchors', 'optimizerState', 'parameters', 'runtime', 'validation', 'weights']);
    assert.equal(e.peakBytes, Object.values(e.parts as Record<string, number>).reduce((a, b) => a + b, 0), 'the parts add up to the peak');
    assert.equal(e.basis.seqLen, c.seq, 'the sequence length is the data\'s longest example minus one');
    const r = ftlab(['train', ...common, '--out', join(dir, `run-${k}`), '--max-steps', '2', '--threads', '2', '--save-steps', '0'], {}, preload);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /memory: about [\d.]+ (MiB|GiB) at the peak \((weights|parameters)/, 'train prints the estimate at its start');
    const measured = Number(/PEAK_RSS_BYTES=(\d+)/.exec(r.stderr)![1]);
    const ratio = e.peakBytes / measured;
    rows.push(`${c.name}: estimate ${(e.peakBytes / 2 ** 20).toFixed(0)} MiB, measured ${(measured / 2 ** 20).toFixed(0)} MiB (${(100 * (ratio - 1)).toFixed(1)}%)`);
    t.diagnostic(rows.at(-1)!);
    assert.ok(Math.abs(ratio - 1) <= 0.25, rows.join('\n'));
    // What the case is meant to exercise: the model's own memory dominates the process's baseline.
    assert.ok(e.peakBytes - e.parts.baseline > e.parts.baseline, `${c.name}: too small to test the estimate (${rows.at(-1)})`);
  }
});

test('ftlab train refuses a run that does not fit, before any run folder exists, saying what to lower; --ignore-memory-estimate runs it', async () => {
  const dir = scratchDir('memory-refusal');
  const model = join(dir, 'model');
  await writeRandomModel(model, gpt2, 9);
  const data = join(dir, 'data.jsonl');
  writeTokenData(data, 64, 8);
  const runDir = join(dir, 'run');
  const args = ['train', '--model', model, '--data', data, '--out', runDir, '--per-device-train-batch-size', '8', '--max-steps', '1', '--save-steps', '0'];
  const r = ftlab(args, { FTLAB_AVAILABLE_MEMORY: '150M' });
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /this run needs about .* more than the 150 MiB available \(FTLAB_AVAILABLE_MEMORY\)/);
  assert.match(r.stderr, /--per-device-train-batch-size [1-4] \(about/);
  assert.match(r.stderr, /--strategy lora \(about/);
  assert.match(r.stderr, /--ignore-memory-estimate/);
  assert.ok(!existsSync(runDir), 'no run folder');
  assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith('run')), [], 'nothing beside it either');

  const forced = ftlab([...args, '--ignore-memory-estimate'], { FTLAB_AVAILABLE_MEMORY: '150M' });
  assert.equal(forced.status, 0, forced.stderr);
  assert.match(forced.stderr, /running anyway \(--ignore-memory-estimate\)/);
  assert.ok(existsSync(join(runDir, 'data', 'manifest.json')) || readdirSync(join(runDir, 'data')).length > 0, 'the data is in the run folder');
});

test('a long-sequence run that does not fit is told gradient checkpointing first; a run that has it is not', () => {
  const model = causalLMFromHf(parseHfConfig({ ...gpt2, n_positions: 1024, n_layer: 12 }));
  const input = { model, strategy: { kind: 'lora' as const }, lora: { rank: 8, alpha: 16, targetModules: ['c_attn'] }, args: { ...TRAINING_DEFAULTS, perDeviceTrainBatchSize: 4 }, seqLen: 1024 };
  const peak = estimateTrainingMemory(input).peakBytes;
  const [first] = memorySuggestions(input, peak / 2);
  assert.equal(first.change, 'checkpointing');
  assert.ok(first.peakBytes < 0.7 * peak, `with checkpointing ${first.peakBytes} vs ${peak}`);
  assert.equal(first.peakBytes, estimateTrainingMemory({ ...input, args: { ...input.args, gradientCheckpointing: true } }).peakBytes);
  const on = { ...input, args: { ...input.args, gradientCheckpointing: true } };
  assert.ok(memorySuggestions(on, first.peakBytes / 2).every((s) => s.change !== 'checkpointing'));
});
