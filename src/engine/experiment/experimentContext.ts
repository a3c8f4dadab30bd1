// What every part of an experiment needs, loaded the same way by the coordinating process and by each
// variant's process: the spec, the base model, the tokenizer, the prepared data and the evaluation sets.

import { join, resolve } from 'node:path';
import { requireBuiltinModel } from '../builtin';
import { HfModel, loadHfModel } from '../checkpoint/hfModel';
import { prepareDataset } from '../data/prepareDataset';
import { PreparedDataset } from '../data/preparedDataset';
import { CausalLM } from '../models/causalLM';
import { causalLMFromHf } from '../models/hfCausalLM';
import { Tokenizer, loadTokenizer } from '../tokenizer';
import { EvalSets, attachCategories, qaItems, readGeneralText, readPromptFile } from './evalSets';
import { ExperimentSpec, readExperiment } from './experimentFile';

export interface ExperimentContext {
  dir: string;
  spec: ExperimentSpec;
  modelDir: string;
  hf: HfModel;
  lm: CausalLM;
  tokenizer: Tokenizer;
  data: PreparedDataset;
  sets: EvalSets;
  /** Train a variant even when its memory estimate exceeds the memory available (ExperimentMachine). */
  ignoreMemoryEstimate: boolean;
}

export const EXPERIMENT_DATA_DIR = 'data';

/** Where an experiment runs this time (the extension's settings, the CLI's --device/--threads on a
 *  resume): overrides experiment.json's device and threads; each run's config.json records what was used. */
export interface ExperimentMachine {
  device?: ExperimentSpec['device'];
  threads?: number;
  /** Recompute the blocks in the backward pass (less memory, same results); true turns it on over experiment.json's. */
  gradientCheckpointing?: boolean;
  /** Train even when a variant's estimated peak memory exceeds what is available (the user said so). */
  ignoreMemoryEstimate?: boolean;
}

export async function loadExperimentContext(dir: string, onLog: (s: string) => void = () => {}, machine: ExperimentMachine = {}): Promise<ExperimentContext> {
  const written = readExperiment(dir);
  const spec: ExperimentSpec = {
    ...written, device: machine.device ?? written.device, threads: machine.threads ?? written.threads,
    ...(machine.gradientCheckpointing || written.gradientCheckpointing ? { gradientCheckpointing: true } : {}),
  };
  const modelDir = spec.baseModel === 'builtin' ? requireBuiltinModel() : resolve(spec.baseModel);
  const hf = await loadHfModel(modelDir, { onWarning: (w) => onLog(`warning: ${w}`) });
  const lm = causalLMFromHf(hf.config);
  const tokenizer = await loadTokenizer(modelDir);
  if (spec.testFile && spec.validationSplit > 0) onLog('a test file is given: the validation share is taken from neither file (validation loss and early stopping are off)');
  const prepared = await prepareExperimentData(dir, spec, tokenizer, lm);
  const data = PreparedDataset.open(prepared.dir);
  const c = prepared.manifest.counts;
  onLog(`data: ${c.train} training examples, ${c.validation} for validation, ${c.test} held out for the task figure (${prepared.reused ? 'reused' : 'prepared'} ${prepared.dir})`);
  const ev = spec.evaluation;
  const testItems = data.indices('test').length ? attachCategories(await qaItems(data, 'test', tokenizer), [spec.testFile ?? spec.dataFile]) : null;
  const sets: EvalSets = {
    task: testItems,
    ...(testItems ? {} : { taskMissing: spec.testFile ? `${spec.testFile} has no usable examples` : 'no test split: the experiment was started with a held-out share of 0' }),
    taskTrained: attachCategories(await qaItems(data, 'train', tokenizer, ev.trainedSample, spec.seed), [spec.dataFile]),
    general: ev.generalPrompts ? readPromptFile(ev.generalPrompts) : null,
    generalText: ev.generalText ? readGeneralText(ev.generalText) : null,
    prose: ev.prosePrompts ? readPromptFile(ev.prosePrompts) : null,
  };
  return { dir, spec, modelDir, hf, lm, tokenizer, data, sets, ignoreMemoryEstimate: machine.ignoreMemoryEstimate ?? false };
}

/** The experiment's data, prepared once into <dir>/data (reused while the files are unchanged). */
export function prepareExperimentData(dir: string, spec: ExperimentSpec, tokenizer: Tokenizer, lm: CausalLM) {
  return prepareDataset({
    ...(spec.testFile
      ? { source: { train: spec.dataFile, test: spec.testFile } }
      : { source: spec.dataFile, split: { validation: spec.validationSplit, test: spec.testSplit }, seed: spec.seed }),
    tokenizer, outDir: join(dir, EXPERIMENT_DATA_DIR),
    // A chosen length cuts longer examples; the model's own limit makes them errors (nothing is lost unseen).
    ...(spec.maxLength !== undefined ? { maxLength: Math.min(spec.maxLength, lm.maxPositions + 1), overLength: 'truncate' as const } : { maxLength: lm.maxPositions + 1 }),
  });
}
