// `ftlab experiment`: one base model, one data set, several strategies side by side, each variant in
// a process of its own, measured before and after; prints the comparison and writes report.html.

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UsageError, type CliCommand } from '../command';
import { choice, parseFlags, userMessage } from '../flags';
import { checkDevice, deviceRequest } from '../deviceFlags';
import {
  CheckpointError, ExperimentError, ReportError, DataError, DataValidationError, TrainingError, RunExistsError, RunFolderError, STRATEGIES, type StrategyKind, TIED_EMBEDDING_LR_RULE,
  createExperiment, formatReportTable, recordProcessEnd, presetSummary, runExperiment, runVariantInProcess, type ExperimentReport, type NewExperiment, type VariantSettings,
  type VariantLauncher, type ExperimentMachine, MemoryEstimateError,
} from '../../engine';
import { memoryRefusal } from './train';

/** Short keys of a variant's options in `--strategies full,full:lr=1e-3:epochs=5`. */
const OPTION_KEYS: Record<string, keyof VariantSettings> = {
  lr: 'learningRate', epochs: 'numTrainEpochs', steps: 'maxSteps', batch: 'perDeviceTrainBatchSize', dropout: 'dropout', wd: 'weightDecay',
  warmup: 'warmupSteps', replay: 'replayRatio', l2sp: 'l2spWeight', r: 'loraRank', alpha: 'loraAlpha',
};

const usage = `Usage: ftlab experiment --data <file> [--model <dir>] [--strategies <list>] [options] [--out <dir>]
       ftlab experiment --resume <dir>

Fine-tunes one base model on one Q&A data set with each strategy, every variant from the same base
weights with the same data order (one --seed), each in a process of its own, and measures every
variant before and after on held-out data: task accuracy (exact match on the test split), the
trained questions again, general knowledge (prompts and text shipped with Fine-Tune Lab: exact
match, perplexity, next-token accuracy). Prints the comparison and writes <dir>/report.json and
<dir>/report.html (opens offline in any browser). Interrupted, it continues where it stopped
(--resume): finished variants are kept, a stopped one resumes from its checkpoint.

  --data <file>            Q&A data (anything \`ftlab prepare\` reads)
  --test-data <file>       held-out Q&A for the task figure (default: --test-split of --data)
  --test-split <x>         share of --data held out for the task figure (default 0.1; 0: none)
  --model <dir|builtin>    a Hugging Face model folder, or the built-in model (default builtin)
  --strategies <list>      comma-separated variants (default ${STRATEGIES.join(',')}); a variant may
                           override its preset: full:lr=1e-3:epochs=5, lora:r=16:alpha=32
                           keys: ${Object.keys(OPTION_KEYS).join(', ')}
  --out <dir>              the experiment folder (default .ftlab/experiments/<time>)
  --validation-split <x>   share of --data for validation loss and early stopping (default 0)
  --early-stopping-patience <n>
  --seed <n>               weights of new parameters, data order, dropout (default 0)
  --general-prompts <file|none>  prompt/completion JSONL of general knowledge (default: the set
                           shipped with Fine-Tune Lab, assets/demo/general_eval.jsonl)
  --general-text <file|none>     text for perplexity and next-token accuracy (default
                           assets/demo/general_text.txt: never pretrained on nor replayed)
  --trained-sample <n>     training questions asked again (default 200)
  --decoding <greedy|sample> --samples <n>   evaluation decoding (sample: top-p 0.9,
                           temperature 0.7, 20 new tokens, n seeded samples averaged; default greedy)
  --threads <n>
  --device <auto|cpu|cuda> auto (default): CUDA when the provider, the CUDA libraries and a GPU are
                           there, else the CPU; cuda: stop with what is missing (ftlab doctor)
  --gradient-checkpointing recompute each transformer block in the backward pass: less memory at long
                           sequences, more time per step, the same results; kept in experiment.json
                           (a resume keeps it)
  --inline                 run every variant in this process (peak memory is then not measured)
  --ignore-memory-estimate train a variant even when its memory estimate (printed at its start, see
                           ftlab estimate) exceeds the memory available; FTLAB_AVAILABLE_MEMORY
                           sets what is available

Training options apply to every variant, over its preset: --learning-rate --num-train-epochs
--max-steps --per-device-train-batch-size --dropout --weight-decay --warmup-steps --replay-ratio
--l2sp-weight --lora-r --lora-alpha --layer-lr-multipliers e,b,h

Strategy presets (\`ftlab train\` keeps Hugging Face's defaults instead):
${STRATEGIES.map((s) => `  ${s.padEnd(18)} ${presetSummary(s)}`).join('\n')}
  layerwise-lr: ${TIED_EMBEDDING_LR_RULE}`;

const SPEC = {
  data: 'string', 'test-data': 'string', 'test-split': 'number', model: 'string', strategies: 'string', out: 'string', resume: 'string',
  'validation-split': 'number', 'early-stopping-patience': 'number', seed: 'number', decoding: 'string', samples: 'number', threads: 'number',
  device: 'string', 'gradient-checkpointing': 'boolean', inline: 'boolean', quiet: 'boolean', 'run-variant': 'string', 'ignore-memory-estimate': 'boolean',
  'general-prompts': 'string', 'general-text': 'string', 'trained-sample': 'number',
  'learning-rate': 'number', 'num-train-epochs': 'number', 'max-steps': 'number', 'per-device-train-batch-size': 'number', dropout: 'number',
  'weight-decay': 'number', 'warmup-steps': 'number', 'replay-ratio': 'number', 'l2sp-weight': 'number', 'lora-r': 'number', 'lora-alpha': 'number',
  'layer-lr-multipliers': 'string',
} as const;

type Flags = ReturnType<typeof parseFlags<typeof SPEC>>['flags'];

export function parseVariants(list: string, common: Partial<VariantSettings>): NewExperiment['variants'] {
  return list.split(',').map((s) => s.trim()).filter(Boolean).map((item) => {
    const [kind, ...opts] = item.split(':');
    if (!STRATEGIES.includes(kind as StrategyKind)) throw new UsageError(`unknown strategy '${kind}' in --strategies (one of ${STRATEGIES.join(', ')})`);
    const overrides: Partial<VariantSettings> = { ...common };
    for (const o of opts) {
      const [k, v] = o.split('=');
      const key = OPTION_KEYS[k ?? ''];
      const n = Number(v);
      if (!key || v === undefined || v.trim() === '' || !Number.isFinite(n)) throw new UsageError(`'${o}' in --strategies: write key=number with a key of ${Object.keys(OPTION_KEYS).join(', ')}`);
      (overrides as Record<string, number>)[key] = n;
    }
    return { strategy: kind as StrategyKind, overrides };
  });
}

function commonOverrides(f: Flags): Partial<VariantSettings> {
  const m = f['layer-lr-multipliers']?.split(',').map(Number);
  if (m && (m.length !== 3 || m.some((x) => !(x > 0)))) throw new UsageError('--layer-lr-multipliers takes three numbers > 0: embeddings,blocks,head (e.g. 0.1,0.5,1)');
  const o: Partial<VariantSettings> = {
    learningRate: f['learning-rate'], numTrainEpochs: f['num-train-epochs'], maxSteps: f['max-steps'], perDeviceTrainBatchSize: f['per-device-train-batch-size'],
    dropout: f.dropout, weightDecay: f['weight-decay'], warmupSteps: f['warmup-steps'], replayRatio: f['replay-ratio'], l2spWeight: f['l2sp-weight'],
    loraRank: f['lora-r'], loraAlpha: f['lora-alpha'], ...(m ? { layerLrMultipliers: m as [number, number, number] } : {}),
  };
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<VariantSettings>;
}

/** --device, --threads and --gradient-checkpointing when given: how the experiment runs this time; --ignore-memory-estimate. */
function machineFlags(f: Flags): ExperimentMachine {
  return {
    ...(f.device !== undefined ? { device: deviceRequest(f.device) } : {}),
    ...(f.threads !== undefined ? { threads: f.threads } : {}),
    ...(f['gradient-checkpointing'] ? { gradientCheckpointing: true } : {}),
    ...(f['ignore-memory-estimate'] ? { ignoreMemoryEstimate: true } : {}),
  };
}

/** Each variant in a child process: this CLI run again with --run-variant (its peak memory is its own). */
export const childProcessLauncher = (quiet: boolean): VariantLauncher => (dir, v, machine) => new Promise<void>((ok, fail) => {
  const args = [
    process.argv[1]!, 'experiment', '--resume', dir, '--run-variant', v.name, ...(quiet ? ['--quiet'] : []),
    ...(machine.device ? ['--device', machine.device] : []), ...(machine.threads !== undefined ? ['--threads', String(machine.threads)] : []),
    ...(machine.ignoreMemoryEstimate ? ['--ignore-memory-estimate'] : []), ...(machine.gradientCheckpointing ? ['--gradient-checkpointing'] : []),
  ];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'inherit', 'inherit'] });
  child.on('error', fail);
  child.on('exit', (code, signal) => {
    if (code === 0) return ok();
    if (!signal) return fail(new Error(`its process exited with code ${code} (the message is above)`));
    const what = `its process was killed (${signal}): ${signal === 'SIGKILL' ? 'out of memory, or ended from outside' : signal === 'SIGTERM' || signal === 'SIGINT' ? 'stopped' : 'a crash in native code'}; run again to resume`;
    // The process could not write its ending; a stop (SIGTERM, SIGINT) reads as stopped already.
    if (signal !== 'SIGTERM' && signal !== 'SIGINT' && child.pid !== undefined) recordProcessEnd(join(dir, v.runDir), child.pid, what, signal);
    fail(new Error(what));
  });
});

/** Runs (or continues) an experiment and prints its table; shared by `ftlab experiment` and `ftlab demo`. */
export async function executeExperiment(dir: string, o: { inline?: boolean; quiet?: boolean; machine?: ExperimentMachine }): Promise<ExperimentReport> {
  const say = (s: string) => { if (!o.quiet) process.stderr.write(s + '\n'); };
  const report = await runExperiment(dir, o.inline ? 'inline' : childProcessLauncher(o.quiet ?? false), {
    onLog: say, machine: o.machine ?? {},
    training: () => ({ onLog: say, onStep: (m) => { if (m.step % 10 === 0) say(`  step ${m.step}  loss ${m.loss.toFixed(4)}`); } }),
  });
  console.log(formatReportTable(report));
  console.log(`report: ${join(dir, 'report.html')}`);
  return report;
}

export const experiment: CliCommand = {
  name: 'experiment',
  summary: 'Compare strategies on one model and data set: accuracy before and after, report.html',
  usage,
  async run(argv) {
    const { flags: f, positionals } = parseFlags(argv, SPEC);
    if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`);
    const say = (s: string) => { if (!f.quiet) process.stderr.write(s + '\n'); };
    try {
      if (f['run-variant']) {
        // The child side of childProcessLauncher.
        if (!f.resume) throw new UsageError('--run-variant needs --resume <experiment dir>');
        // FTLAB_KILL_AT_STEP: the test suite's way to kill -9 a variant's process at a known step.
        const killAt = Number(process.env.FTLAB_KILL_AT_STEP ?? 0);
        await runVariantInProcess(f.resume, f['run-variant'], {
          onLog: (s) => say(`  ${s}`),
          onStep: (m) => {
            if (m.step % 10 === 0) say(`  step ${m.step}  loss ${m.loss.toFixed(4)}`);
            if (killAt && m.step === killAt) process.kill(process.pid, 'SIGKILL');
          },
        }, machineFlags(f));
        return 0;
      }
      // Before an experiment folder is written: a cuda that cannot work stops here (variants resolve it again).
      checkDevice(deviceRequest(f.device), say);
      let dir: string;
      if (f.resume) {
        dir = resolve(f.resume);
        if (!existsSync(join(dir, 'experiment.json'))) throw new UsageError(`${dir} holds no experiment.json to resume`);
      } else {
        if (!f.data) throw new UsageError('--data is required (or --resume <dir>)');
        dir = resolve(f.out ?? join('.ftlab', 'experiments', new Date().toISOString().replace(/[:.]/g, '-')));
        const decoding = choice('decoding', f.decoding, ['greedy', 'sample'] as const, 'greedy');
        await createExperiment({
          dir, baseModel: f.model && f.model !== 'builtin' ? resolve(f.model) : 'builtin', dataFile: f.data, testFile: f['test-data'] ?? null,
          testSplit: f['test-split'], validationSplit: f['validation-split'], earlyStoppingPatience: f['early-stopping-patience'], seed: f.seed,
          variants: parseVariants(f.strategies ?? STRATEGIES.join(','), commonOverrides(f)),
          decoding: decoding === 'greedy' ? { kind: 'greedy' } : { kind: 'sample', samples: f.samples ?? 5, seed: f.seed ?? 0, topP: 0.9, temperature: 0.7, maxNewTokens: 20 },
          device: deviceRequest(f.device), threads: f.threads ?? 0, gradientCheckpointing: !!f['gradient-checkpointing'],
          ...(f['general-prompts'] ? { generalPrompts: f['general-prompts'] === 'none' ? null : resolve(f['general-prompts']) } : {}),
          ...(f['general-text'] ? { generalText: f['general-text'] === 'none' ? null : resolve(f['general-text']) } : {}),
          trainedSample: f['trained-sample'],
        });
        say(`experiment folder: ${dir}`);
      }
      // On a resume, --device and --threads say where it runs this time (experiment.json keeps what it was created with).
      const report = await executeExperiment(dir, {
        inline: f.inline, quiet: f.quiet,
        ...(f.resume ? { machine: machineFlags(f) } : f['ignore-memory-estimate'] ? { machine: { ignoreMemoryEstimate: true } } : {}),
      });
      const unfinished = report.variants.filter((v) => v.status !== 'finished');
      if (unfinished.length) process.stderr.write(`ftlab experiment: ${unfinished.map((v) => `${v.name} ${v.status}`).join(', ')}; continue with: ftlab experiment --resume ${dir}\n`);
      return unfinished.length ? 1 : 0;
    } catch (err) {
      // A variant refused for memory (in its own process, --run-variant): the estimate and the flags that fit.
      if (err instanceof MemoryEstimateError) {
        process.stderr.write(`ftlab experiment: ${memoryRefusal(err)}\n`);
        return 1;
      }
      const msg = userMessage(err, [CheckpointError, ExperimentError, ReportError, DataError, DataValidationError, RunExistsError, TrainingError, RunFolderError]);
      if (msg === null) throw err;
      process.stderr.write(`ftlab experiment: ${msg}\n`);
      return 1;
    }
  },
};
