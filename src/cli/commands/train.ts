// `ftlab train`: fine-tuning of a Hugging Face model folder on a data file (full, frozen embeddings,
// layer-wise learning rates), into a run folder.

import { resolve } from 'node:path';
import { UsageError, type CliCommand } from '../command';
import { choice, parseFlags, userMessage, type FlagValues } from '../flags';
import { DEVICE_USAGE, GRADIENT_CHECKPOINTING_USAGE, STEPS_PER_RUN_USAGE, checkDevice, deviceRequest, stepsPerRunFlag } from '../deviceFlags';
import {
  CheckpointError, TokenizerError, DataError, DataValidationError, RunExistsError, TrainingError, TRAINING_DEFAULTS, type TrainingArguments,
  SCHEDULER_TYPES, type SchedulerType, STRATEGIES, type StrategyKind, fineTune, type LayerLrMultipliers, DEFAULT_LAYER_LR_MULTIPLIERS,
  TIED_EMBEDDING_LR_RULE, MemoryEstimateError, describeEstimate, formatBytes, type FineTuneJob,
} from '../../engine';

const SPEC = {
  model: 'string', data: 'string', out: 'string',
  'learning-rate': 'number', 'max-steps': 'number', 'num-train-epochs': 'number', 'per-device-train-batch-size': 'number',
  'gradient-accumulation-steps': 'number', 'weight-decay': 'number', 'adam-beta1': 'number', 'adam-beta2': 'number',
  'adam-epsilon': 'number', 'max-grad-norm': 'number', 'lr-scheduler-type': 'string', 'warmup-steps': 'number',
  'logging-steps': 'number', seed: 'number', dropout: 'number', device: 'string', optim: 'string', 'sgd-momentum': 'number',
  shuffle: 'boolean', threads: 'number', 'max-length': 'number', 'train-on-prompt': 'boolean', quiet: 'boolean', overwrite: 'boolean', resume: 'boolean', 'save-steps': 'number', strategy: 'string', 'layer-lr-decay': 'number', 'layer-lr-multipliers': 'string', 'eval-steps': 'number', 'early-stopping-patience': 'number', 'validation-split': 'number', 'replay-corpus': 'string', 'replay-ratio': 'number', 'lora-r': 'number', 'lora-alpha': 'number', 'lora-target-modules': 'string',
  'l2sp-weight': 'number', 'ignore-memory-estimate': 'boolean', 'steps-per-run': 'number', 'gradient-checkpointing': 'boolean',
} as const;
/** The training flags, shared with `ftlab estimate`. */
export const TRAIN_FLAGS = SPEC;

const d = TRAINING_DEFAULTS;
/** An engine sentence wrapped into the option-description column of the usage text. */
const helpColumn = (text: string) => (text.match(/.{1,62}(\s|$)/g) ?? [text]).map((l) => l.trim()).join('\n' + ' '.repeat(38));
const usage = `Usage: ftlab train --model <dir> --data <file> --out <run-dir> [options]

Fine-tuning of a Hugging Face model folder (GPT-2 or Llama family: config.json,
model.safetensors, tokenizer.json) on a data file that \`ftlab prepare\` understands (Q&A in
JSONL/JSON/CSV/TSV, alpaca, chat, or pre-tokenized JSONL with input_ids and optional labels,
-100 = ignored). Writes <run-dir>/config.json (the resolved settings), <run-dir>/metrics.jsonl
(one line per logged step: step, loss before that step's update, learningRate, gradNorm,
tokensPerSecond, epoch) and <run-dir>/checkpoint/ (model.safetensors, trainer_state.json).
Batches are taken in file order unless --shuffle.

Options (Hugging Face TrainingArguments names; defaults as there unless noted):
  --learning-rate <x>                 (${d.learningRate})
  --num-train-epochs <n>              (${d.numTrainEpochs})
  --max-steps <n>                     overrides epochs when > 0 (${d.maxSteps})
  --per-device-train-batch-size <n>   (${d.perDeviceTrainBatchSize})
  --gradient-accumulation-steps <n>   (${d.gradientAccumulationSteps})
  --weight-decay <x>                  on tensors of rank >= 2 only (${d.weightDecay})
  --adam-beta1 <x> --adam-beta2 <x> --adam-epsilon <x>   (${d.adamBeta1}, ${d.adamBeta2}, ${d.adamEpsilon})
  --max-grad-norm <x>                 global-norm clipping, 0 disables (${d.maxGradNorm})
  --lr-scheduler-type <t>             ${SCHEDULER_TYPES.join(' | ')} (${d.lrSchedulerType})
  --warmup-steps <n>                  (${d.warmupSteps})
  --logging-steps <n>                 log every n steps (ours: ${d.loggingSteps})
  --seed <n>                          (${d.seed})
  --optim <adamw|sgd> --sgd-momentum <x>
  --dropout <p>                       overrides the model config's dropout rates
  ${DEVICE_USAGE}
  ${STEPS_PER_RUN_USAGE}
  ${GRADIENT_CHECKPOINTING_USAGE}
  --threads <n>                       CPU threads (default: ONNX Runtime's choice)
  --shuffle                           seeded shuffle per epoch
  --max-length <n>                    longest example in tokens (default: the model's context)
  --train-on-prompt                   count prompt tokens in the loss (default: answers only)
  --strategy <s>                      full | frozen-embeddings | layerwise-lr | lora (default full)
  --lora-r <n> --lora-alpha <x>       LoRA rank and alpha (default 8, 16)
  --lora-target-modules <a,b>         modules that get adapters (default: PEFT's, c_attn for GPT-2,
                                      q_proj,v_proj for Llama)
  --layer-lr-multipliers <e,b,h>      layerwise-lr: learning-rate multipliers of the token/position
                                      embeddings, the transformer blocks, and the final norm + head
                                      (default ${DEFAULT_LAYER_LR_MULTIPLIERS.join(',')});
                                      ${helpColumn(TIED_EMBEDDING_LR_RULE)}
  --layer-lr-decay <x>                layerwise-lr, instead of the three groups: factor per layer
                                      below the top (head 1, block l x^(L-l), embeddings x^(L+1))
  --validation-split <x>              hold out this share of the data file for validation (default 0)
  --eval-steps <n>                    validation loss every n steps and at the end (${d.evalSteps}: never);
                                      lines in <run-dir>/eval_metrics.jsonl, best weights in <run-dir>/best/
  --early-stopping-patience <n>       stop after n evaluations without a better validation loss
                                      (${d.earlyStoppingPatience}: never); the result is then the best weights
  --replay-corpus <file|dir>          general text mixed into every batch against forgetting (.txt,
                                      documents separated by blank lines; a folder: its *.txt files)
  --replay-ratio <x>                  share of each batch's rows from the replay corpus (default 0.25)
  --l2sp-weight <lambda>              L2-SP, a forgetting guard without replay data: every step pulls
                                      each trained weight toward its pretrained value w0 by
                                      lr * lambda * (w - w0), decoupled like AdamW's decay; with AdamW
                                      a weight then stays within about 1/lambda of w0 (GPT-2's weights
                                      are ~0.02 in size). Not with --strategy lora (${d.l2spWeight}: off)
  --save-steps <n>                    checkpoint every n steps, and at the end (${d.saveSteps})
  --resume                            continue the run in <run-dir> from its checkpoint: same data
                                      order, dropout masks and schedule as without the stop; give
                                      the run's own options again (a larger --max-steps extends it)
  --overwrite                         replace a run already in <run-dir> (default: refuse)
  --ignore-memory-estimate            train even when the memory estimate (printed at the start,
                                      \`ftlab estimate\`) exceeds the memory available
  --quiet                             no per-step lines on stderr`;

/** `--layer-lr-multipliers 0.1,0.5,1.0`: three finite numbers > 0 (the engine checks them again). */
function layerLrMultipliers(value: string | undefined, decay: number | undefined): LayerLrMultipliers | undefined {
  if (value === undefined) return undefined;
  if (decay !== undefined) throw new UsageError('give either --layer-lr-multipliers or --layer-lr-decay, not both');
  const parts = value.split(',').map((x) => x.trim());
  const m = parts.map(Number);
  if (m.length !== 3 || parts.some((x) => x === '') || !m.every((x) => Number.isFinite(x) && x > 0)) {
    throw new UsageError(`--layer-lr-multipliers takes three numbers > 0 separated by commas (embeddings,blocks,head), e.g. ${DEFAULT_LAYER_LR_MULTIPLIERS.join(',')}; got '${value}'`);
  }
  return [m[0], m[1], m[2]];
}

export const train: CliCommand = {
  name: 'train',
  summary: 'Fine-tune a model folder on a data file (full, frozen embeddings, layer-wise LR)',
  usage,
  async run(argv) {
    const { flags: f, positionals } = parseFlags(argv, SPEC);
    if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`);
    if (!f.model || !f.data || !f.out) throw new UsageError('--model, --data and --out are required');
    const settings = trainSettings(f);
    const runDir = resolve(f.out);
    const say = (s: string) => { if (!f.quiet) process.stderr.write(s + '\n'); };
    try {
      checkDevice(settings.args.device);
      const res = await fineTune({
        ...settings, runDir, resume: !!f.resume, overwrite: !!f.overwrite, describe: { command: 'train' },
        memory: { ignoreEstimate: !!f['ignore-memory-estimate'] },
      }, {
        onLog: say,
        onMemory: (m) => say(`memory: ${describeEstimate(m.estimate)}; ${m.available ? `${formatBytes(m.available.bytes)} available (${m.available.source})` : 'the memory available is not known'}${m.fits ? '' : ' -- running anyway (--ignore-memory-estimate)'}`),
        onEval: (m) => say(`eval at step ${m.step}: validation loss ${m.loss.toFixed(4)}${m.best ? ' (best so far)' : ''}`),
        onStep: (m) => say(`step ${m.step}  loss ${m.loss.toFixed(4)}  lr ${m.learningRate.toExponential(2)}  grad_norm ${m.gradNorm.toFixed(3)}  ${m.tokensPerSecond} tok/s`),
      });
      say(`done: ${res.steps} steps on ${res.device}, final loss ${res.finalLoss.toFixed(4)}${res.best ? `, best validation loss ${res.best.loss.toFixed(4)} at step ${res.best.step}` : ''}${res.stoppedEarly ? ' (stopped early)' : ''}; run folder ${runDir}`);
      return 0;
    } catch (err) {
      if (err instanceof MemoryEstimateError) {
        process.stderr.write(`ftlab train: ${memoryRefusal(err)}\n`);
        return 1;
      }
      const msg = userMessage(err, [CheckpointError, TokenizerError, DataError, DataValidationError, RunExistsError, TrainingError]);
      if (msg === null) throw err;
      process.stderr.write(`ftlab train: ${msg}\n`);
      return 1;
    }
  },
};

/** The settings `train` and `estimate` read from the training flags: everything of a run but its folder. */
export function trainSettings(f: FlagValues<typeof SPEC>): Omit<FineTuneJob, 'runDir'> {
  const sched = choice<SchedulerType>('lr-scheduler-type', f['lr-scheduler-type'], SCHEDULER_TYPES, d.lrSchedulerType);
  const device = deviceRequest(f.device);
  const strategy = choice<StrategyKind>('strategy', f.strategy, STRATEGIES, 'full');
  const optim = choice('optim', f.optim, ['adamw', 'sgd'] as const, 'adamw');
  const args: TrainingArguments = {
    learningRate: f['learning-rate'] ?? d.learningRate, numTrainEpochs: f['num-train-epochs'] ?? d.numTrainEpochs,
    maxSteps: f['max-steps'] ?? d.maxSteps, perDeviceTrainBatchSize: f['per-device-train-batch-size'] ?? d.perDeviceTrainBatchSize,
    gradientAccumulationSteps: f['gradient-accumulation-steps'] ?? d.gradientAccumulationSteps, weightDecay: f['weight-decay'] ?? d.weightDecay,
    adamBeta1: f['adam-beta1'] ?? d.adamBeta1, adamBeta2: f['adam-beta2'] ?? d.adamBeta2, adamEpsilon: f['adam-epsilon'] ?? d.adamEpsilon,
    maxGradNorm: f['max-grad-norm'] ?? d.maxGradNorm, lrSchedulerType: sched, warmupSteps: f['warmup-steps'] ?? d.warmupSteps,
    loggingSteps: f['logging-steps'] ?? d.loggingSteps, seed: f.seed ?? d.seed, dropout: f.dropout ?? null, optim,
    sgdMomentum: f['sgd-momentum'] ?? d.sgdMomentum, shuffle: !!f.shuffle, device, threads: f.threads ?? 0,
    saveSteps: f['save-steps'] ?? d.saveSteps, evalSteps: f['eval-steps'] ?? d.evalSteps,
    earlyStoppingPatience: f['early-stopping-patience'] ?? d.earlyStoppingPatience,
    l2spWeight: f['l2sp-weight'] ?? d.l2spWeight, stepsPerRun: stepsPerRunFlag(f['steps-per-run']),
    gradientCheckpointing: !!f['gradient-checkpointing'],
  };
  if (!(Number.isFinite(args.l2spWeight) && args.l2spWeight >= 0)) throw new UsageError('--l2sp-weight must be a number >= 0 (0: off)');
  if (args.l2spWeight > 0 && strategy === 'lora') throw new UsageError('--l2sp-weight does not apply to --strategy lora: the pretrained weights stay frozen there and the adapters have no pretrained value to pull toward');
  const valShare = f['validation-split'] ?? 0;
  if (!(valShare >= 0 && valShare < 1)) throw new UsageError('--validation-split must be in [0, 1)');
  for (const [k, v] of [['per-device-train-batch-size', args.perDeviceTrainBatchSize], ['gradient-accumulation-steps', args.gradientAccumulationSteps], ['logging-steps', args.loggingSteps]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new UsageError(`--${k} must be a positive integer`);
  }
  return {
    dataFile: resolve(f.data!), baseModel: resolve(f.model!), strategy, layerLrDecay: f['layer-lr-decay'],
    layerLrMultipliers: layerLrMultipliers(f['layer-lr-multipliers'], f['layer-lr-decay']), args,
    lora: { rank: f['lora-r'], alpha: f['lora-alpha'], targetModules: f['lora-target-modules']?.split(',').map((m) => m.trim()).filter(Boolean) },
    validationSplit: valShare, replay: f['replay-corpus'] ? { source: f['replay-corpus'], ratio: f['replay-ratio'] ?? 0.25 } : undefined,
    maxLength: f['max-length'], trainOnPrompt: !!f['train-on-prompt'],
  };
}

/** The refusal in the CLI's words: the estimate, then the flags that would make it fit. */
export function memoryRefusal(err: MemoryEstimateError): string {
  const { estimate, available, suggestions } = err.data;
  const ways = suggestions.map((s) => {
    const what = s.change === 'checkpointing' ? '--gradient-checkpointing (the same results, more time per step)'
      : s.change === 'batch' ? `--per-device-train-batch-size ${s.value}`
      : s.change === 'seqLen' ? `examples of at most ${s.value! + 1} tokens (shorten or split the longer ones)`
        : '--strategy lora';
    return `${what} (about ${formatBytes(s.peakBytes)}${s.fits ? '' : ', still too much'})`;
  });
  return `this run needs ${describeEstimate(estimate)}, more than the ${formatBytes(available.bytes)} available (${available.source}).` +
    (ways.length ? ` Lower it: ${ways.join('; ')}.` : '') + ' Or train anyway with --ignore-memory-estimate.';
}
