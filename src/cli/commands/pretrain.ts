// `ftlab pretrain`: a model from a config.json alone, trained on a plain-text corpus packed into
// sequences; writes a Hugging Face model folder. This is how the built-in base model is made.

import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  corpusSource, repackedCorpus, readHfConfig, loadHfModel, saveHfModel, CheckpointError, causalLMFromHf, initWeights, loadTokenizer, TokenizerError,
  prepareCorpus, PreparedDataset, DataError, DataValidationError, TRAINING_DEFAULTS, train, SCHEDULER_TYPES, type SchedulerType,
} from '../../engine';
import { UsageError, type CliCommand } from '../command';
import { choice, parseFlags, userMessage } from '../flags';
import { checkDevice, deviceRequest, stepsPerRunFlag } from '../deviceFlags';

const usage = `Usage: ftlab pretrain --model-config <dir> --corpus <file> --out <dir> [options]

Initialises a model from <dir>/config.json (GPT-2 init, seeded), trains it on a plain-text corpus
(.txt: documents separated by blank lines; .jsonl: {"text": ...}) packed into sequences, and writes
a Hugging Face model folder (config.json, model.safetensors, and the tokenizer files of <dir>).
The run itself (config.json, metrics.jsonl) goes to <out>/run/.

  --model-config <dir>     folder with config.json, tokenizer.json, tokenizer_config.json
  --corpus <file|dir>      a corpus file, or a folder whose *.txt files are joined in name order
  --dtype <F32|F16|BF16>   stored dtype of the weights (default F32)
  --seq-length <n>         tokens per training sequence (default: the model's context)
  --max-steps <n>          (default 2000)
  --learning-rate <x>      (default 1e-3)
  --per-device-train-batch-size <n>   (default 16)
  --warmup-steps <n>       (default 100)
  --lr-scheduler-type <t>  (default cosine)
  --weight-decay <x>       (default 0.1)
  --dropout <p>            (default: the config's)
  --seed <n>               weight init and data order (default 0)
  --init-from <dir>        start from this model folder's weights instead of a fresh init (continued
                           pretraining: same config.json; a new schedule over --max-steps)
  --repack-epochs <n>      write the corpus' documents n times, each time in a new seeded order,
                           before packing: every pass sees a document in a new context (default 1)
  --threads <n>
  --device <auto|cpu|cuda> auto (default): CUDA when the provider, the CUDA libraries and a GPU are
                           there, else the CPU; cuda: stop with what is missing (ftlab doctor)
  --steps-per-run <k>      optimizer steps per ONNX Runtime run (ONNX Loop, same results; default 1)`;

const SPEC = {
  'model-config': 'string', corpus: 'string', out: 'string', 'seq-length': 'number', 'max-steps': 'number', 'learning-rate': 'number',
  'per-device-train-batch-size': 'number', 'warmup-steps': 'number', 'lr-scheduler-type': 'string', 'weight-decay': 'number',
  dropout: 'number', seed: 'number', 'repack-epochs': 'number', 'init-from': 'string', threads: 'number', device: 'string', quiet: 'boolean', dtype: 'string', 'steps-per-run': 'number',
} as const;

async function startingWeights(dir: string): Promise<Map<string, Float32Array>> {
  const hf = await loadHfModel(dir);
  return new Map([...hf.tensors].map(([n, t]) => [n, t.data]));
}

export const pretrain: CliCommand = {
  name: 'pretrain',
  summary: 'Train a model from scratch on a text corpus (how the built-in model is made)',
  usage,
  async run(argv) {
    const { flags: f, positionals } = parseFlags(argv, SPEC);
    if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`);
    if (!f['model-config'] || !f.corpus || !f.out) throw new UsageError('--model-config, --corpus and --out are required');
    const sched = choice<SchedulerType>('lr-scheduler-type', f['lr-scheduler-type'], SCHEDULER_TYPES, 'cosine');
    const device = deviceRequest(f.device);
    const stepsPerRun = stepsPerRunFlag(f['steps-per-run']);
    const cfgDir = resolve(f['model-config']), out = resolve(f.out), seed = f.seed ?? 0;
    const say = (s: string) => { if (!f.quiet) process.stderr.write(s + '\n'); };
    try {
      checkDevice(device);
      const config = await readHfConfig(cfgDir);
      const model = causalLMFromHf(config);
      const tokenizer = await loadTokenizer(cfgDir);
      const T = f['seq-length'] ?? model.maxPositions;
      if (T > model.maxPositions) throw new UsageError(`--seq-length ${T} exceeds the model's context ${model.maxPositions}`);
      const dtype = choice('dtype', f.dtype, ['F32', 'F16', 'BF16'] as const, 'F32');
      mkdirSync(out, { recursive: true });
      const joined = corpusSource(resolve(f.corpus), join(out, 'corpus.txt'));
      if (joined.parts.length > 1) say(`corpus: ${joined.parts.length} files joined into ${joined.file}`);
      const epochs = f['repack-epochs'] ?? 1;
      let source = joined.file;
      if (epochs > 1) {
        const r = repackedCorpus(joined.file, join(out, 'corpus-repacked.txt'), epochs, seed);
        source = r.file;
        say(`corpus: ${r.documents} documents written ${epochs} times in new orders (${source})`);
      }
      const corpus = await prepareCorpus({ source, tokenizer, outDir: join(out, 'corpus.prepared'), seqLength: T + 1 });
      const data = PreparedDataset.open(corpus.dir);
      say(`corpus: ${data.indices('train').length} sequences of ${T + 1} tokens`);
      const res = await train({
        model, weights: f['init-from'] ? await startingWeights(resolve(f['init-from'])) : initWeights(model, seed), data, runDir: join(out, 'run'),
        args: {
          ...TRAINING_DEFAULTS, learningRate: f['learning-rate'] ?? 1e-3, maxSteps: f['max-steps'] ?? 2000,
          perDeviceTrainBatchSize: f['per-device-train-batch-size'] ?? 16, warmupSteps: f['warmup-steps'] ?? 100,
          lrSchedulerType: sched, weightDecay: f['weight-decay'] ?? 0.1, adamBeta2: 0.95, dropout: f.dropout ?? null,
          seed, shuffle: true, loggingSteps: 10, device, threads: f.threads ?? 0, stepsPerRun,
        },
        overwrite: true, // <out>/run belongs to this command's own output folder
        describe: { command: 'pretrain', modelConfig: cfgDir, corpus: resolve(f.corpus), seed, argv },
        onLog: say,
        onStep: (m) => say(`step ${m.step}  loss ${m.loss.toFixed(4)}  lr ${m.learningRate.toExponential(2)}  ${m.tokensPerSecond} tok/s`),
      });
      const shapes = new Map(model.params.map((p) => [p.name, p.shape]));
      const tensors = new Map([...res.weights].map(([n, data]) => [n, { shape: shapes.get(n)!, data }]));
      await saveHfModel(join(out, 'model'), { config, tensors, copyFrom: cfgDir, dtype });
      say(`done: ${res.steps} steps, final loss ${res.finalLoss.toFixed(4)}; model folder ${join(out, 'model')}`);
      return 0;
    } catch (err) {
      const msg = userMessage(err, [CheckpointError, TokenizerError, DataError, DataValidationError]);
      if (msg === null) throw err;
      process.stderr.write(`ftlab pretrain: ${msg}\n`);
      return 1;
    }
  },
};
