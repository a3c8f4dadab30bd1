// `ftlab demo`: the whole loop on the built-in model. Held-out accuracy on Q&A and on general
// knowledge is measured before fine-tuning, the model is fine-tuned on the demo Q&A set with the
// safe preset, and both are measured again.

import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UsageError, type CliCommand } from '../command';
import { parseFlags, userMessage } from '../flags';
import {
  BUILTIN_MODEL_DIR, readDemoQa, readGeneralEval, requireBuiltinModel, loadHfModel, CheckpointError, causalLMFromHf, loadTokenizer, prepareDataset, PreparedDataset, DEFAULT_PROMPT_TEMPLATE, TRAINING_DEFAULTS, train, writeFileAtomic, Decoder, AccuracyResult, CompletionItem, completionAccuracy, uniformRng, corpusSource, prepareCorpus, sequenceLength, BUILTIN_CORPUS_DIR, SAFE_PRESET,
} from '../../engine';


const usage = `Usage: ftlab demo [--out <run-dir>] [--epochs <n>] [--learning-rate <x>] [--replay <ratio>] [--seed <n>] [--threads <n>]

Fine-tunes the built-in model (assets/base-model) on the demo Q&A set (assets/demo/qa.jsonl) with
the safe preset (learning rate ${SAFE_PRESET.learningRate}, ${SAFE_PRESET.numTrainEpochs} epochs, batch ${SAFE_PRESET.perDeviceTrainBatchSize}, dropout ${SAFE_PRESET.dropout}, weight decay ${SAFE_PRESET.weightDecay}),
and measures, before and after, greedy exact-match accuracy on held-out Q&A pairs (20%, never
trained on) and on general-knowledge prompts (assets/demo/general_eval.jsonl). Writes the run folder
(default .ftlab/runs/demo-<time>) with eval.json.
  --replay <ratio>   mix the built-in corpus into every batch (this share of the rows) against forgetting`;

function split<T>(items: T[], seed: number, heldOut: number): { train: T[]; test: T[] } {
  const r = uniformRng(seed);
  const order = items.map((_, i) => i);
  for (let i = order.length - 1; i > 0; i--) { const j = Math.floor(r() * (i + 1)); [order[i], order[j]] = [order[j], order[i]]; }
  const n = Math.round(items.length * heldOut);
  return { test: order.slice(0, n).map((i) => items[i]), train: order.slice(n).map((i) => items[i]) };
}

const pct = (r: AccuracyResult) => `${(100 * r.accuracy).toFixed(1)}% (${r.correct}/${r.total})`;

export const demo: CliCommand = {
  name: 'demo',
  summary: 'Fine-tune the built-in model on the demo Q&A set; accuracy before and after',
  usage,
  async run(argv) {
    const { flags: f, positionals } = parseFlags(argv, { out: 'string', epochs: 'number', 'learning-rate': 'number', seed: 'number', threads: 'number', replay: 'number' } as const);
    if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`);
    const seed = f.seed ?? 0;
    const runDir = resolve(f.out ?? join('.ftlab', 'runs', `demo-${new Date().toISOString().replace(/[:.]/g, '-')}`));
    const say = (s: string) => process.stderr.write(s + '\n');
    try {
      const modelDir = requireBuiltinModel();
      const hf = await loadHfModel(modelDir);
      const lm = causalLMFromHf(hf.config);
      const tokenizer = await loadTokenizer(modelDir);
      const qa = split(readDemoQa(), seed, 0.2);
      const qaEval: CompletionItem[] = qa.test.map((p) => ({ prompt: `Q: ${p.question}\nA:`, answer: p.answer }));
      const general: CompletionItem[] = readGeneralEval().map((g) => ({ prompt: g.prompt, answer: g.answer }));
      mkdirSync(runDir, { recursive: true });
      const trainFile = join(runDir, 'qa-train.jsonl');
      writeFileAtomic(trainFile, qa.train.map((p) => JSON.stringify({ question: p.question, answer: p.answer })).join('\n') + '\n');

      const weights = new Map([...hf.tensors].map(([n, t]) => [n, t.data]));
      const decoder = new Decoder(lm, weights, { threads: f.threads });
      say(`built-in model: ${lm.params.length} tensors; ${qa.train.length} Q&A pairs to train on, ${qaEval.length} held out, ${general.length} general prompts`);
      const before = { qa: await completionAccuracy(decoder, tokenizer, qaEval), general: await completionAccuracy(decoder, tokenizer, general) };
      say(`before: Q&A ${pct(before.qa)}, general ${pct(before.general)}`);

      const prepared = await prepareDataset({ source: { train: trainFile }, tokenizer, outDir: join(runDir, 'data'), template: DEFAULT_PROMPT_TEMPLATE });
      const args = {
        ...TRAINING_DEFAULTS, ...SAFE_PRESET, numTrainEpochs: f.epochs ?? SAFE_PRESET.numTrainEpochs,
        learningRate: f['learning-rate'] ?? SAFE_PRESET.learningRate, seed, shuffle: true, threads: f.threads ?? 0, loggingSteps: 1,
      };
      const data = PreparedDataset.open(prepared.dir);
      let replay;
      if (f.replay) {
        const { file } = corpusSource(BUILTIN_CORPUS_DIR, join(runDir, 'replay.txt'));
        const packed = await prepareCorpus({ source: file, tokenizer, outDir: join(runDir, 'replay'), seqLength: sequenceLength(data, lm.maxPositions) + 1 });
        replay = { data: PreparedDataset.open(packed.dir), ratio: f.replay };
      }
      const res = await train({
        model: lm, weights, data, args, runDir, replay,
        describe: { command: 'demo', strategy: 'full', preset: 'safe', baseModel: { dir: BUILTIN_MODEL_DIR, family: hf.family }, dataSource: trainFile },
        onLog: say,
        onStep: (m) => { if (m.step % 10 === 0) say(`step ${m.step}  loss ${m.loss.toFixed(4)}`); },
      });
      decoder.setWeights(res.weights);
      const after = { qa: await completionAccuracy(decoder, tokenizer, qaEval), general: await completionAccuracy(decoder, tokenizer, general) };
      decoder.release();
      const report = {
        measuredOn: 'held-out data, greedy decoding, exact match of the first line',
        steps: res.steps, finalLoss: res.finalLoss,
        before: { qa: before.qa.accuracy, general: before.general.accuracy },
        after: { qa: after.qa.accuracy, general: after.general.accuracy },
        counts: { qa: qaEval.length, general: general.length },
        items: { before, after },
      };
      writeFileAtomic(join(runDir, 'eval.json'), JSON.stringify(report, null, 2) + '\n');
      const preset = (f.epochs === undefined && f['learning-rate'] === undefined ? 'safe preset' : `safe preset with learning rate ${args.learningRate}, ${args.numTrainEpochs} epochs`)
        + (f.replay ? `, replaying the built-in corpus in ${Math.round(100 * f.replay)}% of each batch` : '');
      console.log(`Fine-Tune Lab demo: built-in model, full fine-tuning, ${preset}, ${res.steps} steps (final loss ${res.finalLoss.toFixed(3)})`);
      console.log(`                      before          after`);
      console.log(`Q&A (held out)        ${pct(before.qa).padEnd(16)}${pct(after.qa)}`);
      console.log(`general knowledge     ${pct(before.general).padEnd(16)}${pct(after.general)}`);
      for (const it of after.qa.items.slice(0, 3)) console.log(`  Q: ${it.prompt.slice(3, -3)}  ->${it.output.split('\n')[0]}  (${it.correct ? 'right' : `expected ${it.answer}`})`);
      console.log(`run folder: ${runDir}`);
      return 0;
    } catch (err) {
      const msg = userMessage(err, [CheckpointError]);
      if (msg === null) throw err;
      process.stderr.write(`ftlab demo: ${msg}\n`);
      return 1;
    }
  },
};
