// `npm run bench:models`: the models people fine-tune, at their real sizes (test/fixtures/configs/<name>/
// config.json, see SOURCES.md there), with seeded random weights (the Hub is not reachable here): for each
// model and strategy, in a child process of its own so that its peak RSS is its alone,
//   write the weights as a bf16 safetensors folder, load it (loadHfModel), train 3 steps of one
//   512-token sequence on the CPU with train() (the code `ftlab train` runs; full fine-tuning with AdamW,
//   or LoRA r=8 on the attention projections), and report seconds per step (steps 2-3: step 1 includes
//   compiling the graph), peak RSS, and the engine's memory estimate of the same run. It prints one Markdown table row per run (the README's table).
//
//   node dist/bench-models.js [--models gpt2,SmolLM2-135M,...] [--strategies full,lora] [--seq 512]
//                             [--threads N] [--steps 3] [--json FILE] [--gradient-checkpointing]
//   Reduced sizes (to check the command itself): --layers 2 --vocab 1024
//   --gradient-checkpointing: the runs recompute each block in the backward pass (TrainingArguments.gradientCheckpointing).
//
// Full fine-tuning is skipped for TinyLlama-1.1B and Llama-3.2-1B (LoRA only, as they are fine-tuned on
// 24 GB machines: AdamW in float32 needs ~16 bytes per parameter, 18-20 GB before activations).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { parseHfConfig } from '../src/engine/checkpoint/hfConfig';
import { loadHfModel, saveHfModel } from '../src/engine/checkpoint/hfModel';
import { PreparedDataset } from '../src/engine/data/preparedDataset';
import { prepareCorpus } from '../src/engine/data/prepareCorpus';
import { causalLMFromHf } from '../src/engine/models/hfCausalLM';
import { initWeights } from '../src/engine/models/init';
import { estimateTrainingMemory } from '../src/engine/memory/memoryEstimate';
import { loadTokenizer } from '../src/engine/tokenizer';
import { train } from '../src/engine/train/trainer';
import { TRAINING_DEFAULTS } from '../src/engine/train/trainingArguments';

const CONFIGS = resolve(__dirname, '..', 'test', 'fixtures', 'configs');
const LORA_ONLY = new Set(['TinyLlama-1.1B-Chat-v1.0', 'Llama-3.2-1B']);

function arg(name: string, dflt: string): string {
  const k = process.argv.indexOf(`--${name}`);
  return k >= 0 && process.argv[k + 1] ? process.argv[k + 1]! : dflt;
}

interface Row { model: string; layers: number; vocab: number; params: number; strategy: string; gradientCheckpointing: boolean; seq: number; threads: number; loadSeconds: number; secondsPerStep: number; peakRssBytes: number; estimateBytes: number; loss: number }

/** The config.json as published, with fewer layers / a smaller vocabulary when asked (a reduced run). */
function benchConfig(name: string): Record<string, unknown> {
  const c = JSON.parse(readFileSync(join(CONFIGS, name, 'config.json'), 'utf8')) as Record<string, unknown>;
  const layers = arg('layers', ''), vocab = arg('vocab', '');
  if (layers) c[c['model_type'] === 'gpt2' ? 'n_layer' : 'num_hidden_layers'] = Number(layers);
  if (vocab) {
    c['vocab_size'] = Number(vocab);
    for (const k of ['bos_token_id', 'eos_token_id', 'pad_token_id']) if (typeof c[k] === 'number' && (c[k] as number) >= Number(vocab)) c[k] = Number(vocab) - 1;
  }
  return c;
}

/** A word-level tokenizer over `n` words w0..w{n-1} plus </s>, so that every id is below the model's vocabulary. */
function writeTokenizer(dir: string, n: number): void {
  const vocab: Record<string, number> = { '[UNK]': 0 };
  for (let i = 1; i < n; i++) vocab[`w${i}`] = i;
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify({
    version: '1.0', truncation: null, padding: null, normalizer: null, post_processor: null, decoder: { type: 'Fuse' },
    added_tokens: [{ id: n, content: '</s>', special: true, single_word: false, lstrip: false, rstrip: false, normalized: false }],
    pre_tokenizer: { type: 'WhitespaceSplit' }, model: { type: 'WordLevel', vocab, unk_token: '[UNK]' },
  }));
  writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ eos_token: '</s>', add_bos_token: false }));
}

async function child(name: string, strategy: 'full' | 'lora'): Promise<void> {
  const seq = Number(arg('seq', '512')), threads = Number(arg('threads', String(cpus().length))), steps = Number(arg('steps', '3'));
  const work = mkdtempSync(join(tmpdir(), 'ftlab-bench-models-'));
  try {
    const raw = benchConfig(name);
    const config = parseHfConfig(raw);
    const lm = causalLMFromHf(config);
    const modelDir = join(work, 'model');
    {
      const init = initWeights(lm, 1234);
      await saveHfModel(modelDir, { config: raw, tensors: new Map(lm.params.map((p) => [p.name, { shape: p.shape, data: init.get(p.name)! }])), dtype: 'BF16' });
    }
    // The generated weights are garbage now; without a collection they would stay resident through a
    // run that allocates little in JS (the IO-binding runtime) and count in its peak RSS.
    (globalThis as { gc?: () => void }).gc?.();
    const words = Math.min(1000, config.vocabSize - 1);
    writeTokenizer(modelDir, words);
    const t0 = performance.now();
    const hf = await loadHfModel(modelDir);
    const loadSeconds = (performance.now() - t0) / 1000;
    const weights = new Map([...hf.tensors].map(([n, t]) => [n, t.data]));
    hf.tensors.clear();

    // Random text, packed into sequences of seq + 1 tokens (inputs and shifted targets).
    let x = 12345;
    const text = Array.from({ length: 40 }, () => Array.from({ length: 100 }, () => `w${1 + ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) % (words - 1))}`).join(' ')).join('\n\n');
    writeFileSync(join(work, 'corpus.txt'), text);
    const tok = await loadTokenizer(modelDir);
    const data = PreparedDataset.open((await prepareCorpus({ source: join(work, 'corpus.txt'), tokenizer: tok, outDir: join(work, 'data'), seqLength: seq + 1 })).dir);

    const stepAt: number[] = [];
    const lora = strategy === 'lora' ? { rank: 8, alpha: 16, targetModules: lm.family === 'gpt2' ? ['c_attn'] : ['q_proj', 'k_proj', 'v_proj', 'o_proj'] } : undefined;
    const gradientCheckpointing = process.argv.includes('--gradient-checkpointing');
    const args = { ...TRAINING_DEFAULTS, gradientCheckpointing, maxSteps: steps, perDeviceTrainBatchSize: 1, learningRate: 1e-4, lrSchedulerType: 'constant' as const, threads, saveSteps: 1_000_000, device: 'cpu' as const };
    // The engine's estimate of this very run (what `ftlab estimate` / `ftlab train` print), before it allocates.
    const estimate = estimateTrainingMemory({ model: lm, strategy: { kind: strategy }, lora, args, seqLen: seq });
    const res = await train({
      // As ftlab train (fineTune): the loaded weights are the run's, trained in place.
      model: lm, weights, consumeWeights: true, data, runDir: join(work, 'run'), lora,
      args,
      onStep: () => stepAt.push(performance.now()),
    });
    const spans = stepAt.slice(1).map((t, i) => (t - stepAt[i]!) / 1000);
    const row: Row = {
      model: name, layers: lm.nLayers, vocab: config.vocabSize, params: lm.params.reduce((s, p) => s + p.shape.reduce((a, b) => a * b, 1), 0),
      strategy, gradientCheckpointing, seq, threads, loadSeconds, secondsPerStep: spans.length ? spans.reduce((a, b) => a + b, 0) / spans.length : NaN,
      peakRssBytes: process.resourceUsage().maxRSS * 1024, estimateBytes: estimate.peakBytes, loss: res.finalLoss,
    };
    data.close();
    process.stdout.write(`${JSON.stringify(row)}\n`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

const gib = (b: number) => `${(b / 2 ** 30).toFixed(2)} GiB`;

function main(): void {
  const names = arg('models', readdirSync(CONFIGS).filter((f) => existsSync(join(CONFIGS, f, 'config.json'))).join(',')).split(',');
  const strategies = arg('strategies', 'full,lora').split(',') as ('full' | 'lora')[];
  const machine = `${cpus()[0]?.model.trim() ?? 'CPU'}, ${cpus().length} cores, ${gib(totalmem())}`;
  const rows: Row[] = [];
  console.log(`machine: ${machine}`);
  console.log('| model | layers | vocab | parameters | strategy | tokens/step | load (s) | s/step | peak RSS | estimate |');
  console.log('| --- | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: |');
  for (const name of names) {
    for (const strategy of strategies) {
      if (strategy === 'full' && LORA_ONLY.has(name)) continue;
      // --expose-gc: the child collects the weights it generated and wrote before it loads them back.
      const r = spawnSync(process.execPath, ['--expose-gc', __filename, '--child', name, '--strategy', strategy, ...process.argv.slice(2)], { encoding: 'utf8', maxBuffer: 1 << 26 });
      const line = r.stdout.trim().split('\n').pop() ?? '';
      if (r.status !== 0 || !line.startsWith('{')) {
        console.log(`| ${name} | | | | ${strategy} | | | failed (exit ${r.status ?? r.signal}) | | |`);
        console.error(r.stderr.trim().split('\n').slice(-5).join('\n'));
        continue;
      }
      const row = JSON.parse(line) as Row;
      rows.push(row);
      console.log(`| ${row.model} | ${row.layers} | ${row.vocab} | ${row.params.toLocaleString('en-US')} | ${row.strategy}${row.gradientCheckpointing ? ', checkpointing' : ''} | ${row.seq} | ${row.loadSeconds.toFixed(1)} | ${row.secondsPerStep.toFixed(2)} | ${gib(row.peakRssBytes)} | ${gib(row.estimateBytes)} |`);
    }
  }
  const json = arg('json', '');
  if (json) {
    writeFileSync(`${json}.tmp`, JSON.stringify({ machine, rows }, null, 2) + '\n');
    renameSync(`${json}.tmp`, json);
  }
}

const k = process.argv.indexOf('--child');
if (k >= 0) {
  child(process.argv[k + 1]!, arg('strategy', 'full') as 'full' | 'lora').catch((e) => {
    console.error(e instanceof Error ? e.stack ?? e.message : String(e));
    process.exit(1);
  });
} else {
  main();
}
