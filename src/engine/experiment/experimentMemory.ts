// Each variant's estimated peak memory before an experiment runs, from the same estimate the variant's
// run checks at its start (fineTune's refusal): the model's config.json (no weights are read), the
// experiment's data prepared into its folder (the run reuses it), each variant's training settings.

import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { requireBuiltinModel } from '../builtin';
import { readHfConfig } from '../checkpoint/hfConfig';
import { PreparedDataset } from '../data/preparedDataset';
import { AvailableMemory, availableMemory } from '../memory/availableMemory';
import { MemoryEstimate, estimateTrainingMemory } from '../memory/memoryEstimate';
import { causalLMFromHf } from '../models/hfCausalLM';
import { loadTokenizer } from '../tokenizer';
import { memoryInput } from '../train/fineTuneRun';
import { StrategyKind } from '../train/strategies';
import { prepareExperimentData } from './experimentContext';
import { readExperiment } from './experimentFile';
import { OUTCOME_FILE, variantTraining } from './runVariant';

export interface VariantMemory {
  name: string;
  strategy: StrategyKind;
  estimate: MemoryEstimate;
  /** Within the memory available (true where nothing reports it: the run is not refused then). */
  fits: boolean;
  /** Trained and measured already (its outcome.json is there): resuming does not run it again. */
  finished: boolean;
}

export interface ExperimentMemory {
  variants: VariantMemory[];
  /** null where the system reports nothing (FTLAB_AVAILABLE_MEMORY overrides what it reports). */
  available: AvailableMemory | null;
}

export async function estimateExperimentMemory(dirIn: string): Promise<ExperimentMemory> {
  const dir = resolve(dirIn);
  const spec = readExperiment(dir);
  const modelDir = spec.baseModel === 'builtin' ? requireBuiltinModel() : resolve(spec.baseModel);
  const lm = causalLMFromHf(await readHfConfig(modelDir));
  const tokenizer = await loadTokenizer(modelDir);
  const data = PreparedDataset.open((await prepareExperimentData(dir, spec, tokenizer, lm)).dir);
  const available = availableMemory();
  const variants = spec.variants.map((v) => {
    const estimate = estimateTrainingMemory(memoryInput(variantTraining({ spec, data }, v), lm, data));
    return { name: v.name, strategy: v.strategy, estimate, fits: available === null || estimate.peakBytes <= available.bytes, finished: existsSync(join(dir, v.runDir, OUTCOME_FILE)) };
  });
  return { variants, available };
}
