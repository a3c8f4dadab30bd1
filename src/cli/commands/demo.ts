// `ftlab demo`: the design's experiment on the built-in model — the four strategies at their default
// presets on the demo Q&A set, measured before and after on held-out questions and on general
// knowledge. `--forgetting` adds what happens without the guards, and with each guard.

import { join, resolve } from 'node:path';
import { UsageError, type CliCommand } from '../command';
import { parseFlags, userMessage } from '../flags';
import { checkDevice, deviceRequest } from '../deviceFlags';
import {
  CheckpointError, DataError, ExperimentError, ReportError, RunFolderError, STRATEGIES, DEMO_QA_FILE, DEMO_QA_TEST_FILE, DEMO_PROSE_EVAL_FILE,
  createExperiment, presetSummary, requireBuiltinModel, type NewExperiment,
} from '../../engine';
import { executeExperiment } from './experiment';
import { existsSync, readFileSync } from 'node:fs';

/** Catastrophic forgetting, on purpose: a high learning rate, no replay, no L2-SP, no weight decay, no dropout, more epochs. */
export const NO_GUARDS = { learningRate: 1e-3, numTrainEpochs: 5, weightDecay: 0, dropout: 0, replayRatio: 0, l2spWeight: 0 } as const;
export const FORGETTING_VARIANTS: NewExperiment['variants'] = [
  { name: 'full-no-replay', strategy: 'full', overrides: { replayRatio: 0 } },
  { name: 'full-no-l2sp', strategy: 'full', overrides: { l2spWeight: 0 } },
  { name: 'full-no-replay-no-l2sp', strategy: 'full', overrides: { replayRatio: 0, l2spWeight: 0 } },
  { name: 'full-no-guards', strategy: 'full', overrides: { ...NO_GUARDS } },
  { name: 'full-no-guards-replay', strategy: 'full', overrides: { ...NO_GUARDS, replayRatio: 0.25 } },
  { name: 'full-no-guards-l2sp', strategy: 'full', overrides: { ...NO_GUARDS, l2spWeight: 100 } },
];

const usage = `Usage: ftlab demo [--out <dir>] [--forgetting] [--threads <n>] [--device <auto|cpu|cuda>] [--inline]

Runs the design's experiment on the built-in model (assets/base-model) and the demo Q&A set
(assets/demo/qa.jsonl, ${'415'} pairs): each strategy at its default preset, every variant from the same
weights with the same data order, measured before and after (greedy, exact match) on held-out
questions about other facts (assets/demo/qa_test.jsonl), the trained questions, general-knowledge
prompts and general text. Prints the comparison; writes report.json and report.html into the
experiment folder (default .ftlab/experiments/demo-<time>).

${STRATEGIES.map((s) => `  ${s.padEnd(18)} ${presetSummary(s)}`).join('\n')}

  --forgetting   also: full fine-tuning at the safe preset without its replay of general text, without
                 its L2-SP, without both, and without any guard (lr ${NO_GUARDS.learningRate}, ${NO_GUARDS.numTrainEpochs} epochs, no replay, no weight decay, no
                 dropout), the same with 25% replay of general text, the same with L2-SP (weight 100)
  --inline       every variant in this process (peak memory is then not measured)
  --device       auto (default): CUDA when the provider, the CUDA libraries and a GPU are there,
                 else the CPU; cuda: stop with what is missing (ftlab doctor)`;

export const demo: CliCommand = {
  name: 'demo',
  summary: 'The strategy comparison on the built-in model: accuracy before and after, report.html',
  usage,
  async run(argv) {
    const { flags: f, positionals } = parseFlags(argv, { out: 'string', forgetting: 'boolean', threads: 'number', inline: 'boolean', quiet: 'boolean', seed: 'number', device: 'string' } as const);
    const device = deviceRequest(f.device);
    if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`);
    const dir = resolve(f.out ?? join('.ftlab', 'experiments', `demo-${new Date().toISOString().replace(/[:.]/g, '-')}`));
    const t0 = performance.now();
    try {
      requireBuiltinModel();
      if (!f.quiet || device === 'cuda') checkDevice(device, (s) => process.stderr.write(s + '\n'));
      if (!existsSync(join(dir, 'experiment.json'))) {
        await createExperiment({
          dir, name: f.forgetting ? 'demo (with forgetting variants)' : 'demo', baseModel: 'builtin', dataFile: DEMO_QA_FILE, testFile: DEMO_QA_TEST_FILE,
          prosePrompts: DEMO_PROSE_EVAL_FILE, seed: f.seed ?? 0, threads: f.threads ?? 0, device,
          variants: [...STRATEGIES.map((s) => ({ strategy: s, name: s })), ...(f.forgetting ? FORGETTING_VARIANTS : [])],
        });
      } else process.stderr.write(`continuing the demo in ${dir}\n`);
      const report = await executeExperiment(dir, { inline: f.inline, quiet: f.quiet, ...(f.device !== undefined ? { machine: { device } } : {}) });
      printProse(dir);
      console.log(`time: ${((performance.now() - t0) / 1000).toFixed(0)} s for ${report.variants.length} variants (${report.machine.cpu}, ${report.machine.threads} threads)`);
      return report.variants.every((v) => v.status === 'finished') ? 0 : 1;
    } catch (err) {
      const msg = userMessage(err, [CheckpointError, DataError, ExperimentError, ReportError, RunFolderError]);
      if (msg === null) throw err;
      process.stderr.write(`ftlab demo: ${msg}\n`);
      return 1;
    }
  },
};

/** The base model's prose recall of the facts the demo asks about (baseline.json's `prose`). */
function printProse(dir: string): void {
  const file = join(dir, 'baseline.json');
  if (!existsSync(file)) return;
  const b = JSON.parse(readFileSync(file, 'utf8')) as { evaluation?: { prose?: { correct: number; total: number } | null } };
  const p = b.evaluation?.prose;
  if (p && p.total) console.log(`base model, prose completion of the facts the demo asks about: ${(100 * p.correct / p.total).toFixed(1)}% (${p.correct}/${p.total})`);
}
