// "Run again with these settings" on a run of the Experiments view: a new experiment that trains what the
// run trained (its experiment's variant, or a standalone run's config.json). No vscode import: tested
// without it.

import { join } from 'node:path';
import { STRATEGIES, createExperiment, readExperiment, readRunConfig, type NewExperiment, type StrategyKind, type VariantSettings } from '../engine';

/**
 * A new experiment that trains what the run in `runDir` trained: the same base model, data, strategy
 * and settings (of its experiment's variant, or of a standalone run's config.json). Returns its folder.
 */
export async function experimentLike(runDir: string, experimentDir: string | undefined, newDir: string): Promise<string> {
  let n: NewExperiment;
  if (experimentDir) {
    const spec = readExperiment(experimentDir);
    const v = spec.variants.find((x) => join(experimentDir, x.runDir) === runDir);
    if (!v) throw new Error(`${runDir} is not a variant of ${experimentDir}`);
    n = {
      dir: newDir, name: `${spec.name} (again: ${v.name})`, baseModel: spec.baseModel, dataFile: spec.dataFile, testFile: spec.testFile,
      testSplit: spec.testSplit, validationSplit: spec.validationSplit, earlyStoppingPatience: spec.earlyStoppingPatience, seed: spec.seed,
      ...(spec.maxLength !== undefined ? { maxLength: spec.maxLength } : {}),
      variants: [{ strategy: v.strategy, overrides: v.overrides, name: v.name }],
      decoding: spec.evaluation.decoding, generalPrompts: spec.evaluation.generalPrompts, generalText: spec.evaluation.generalText,
      prosePrompts: spec.evaluation.prosePrompts, trainedSample: spec.evaluation.trainedSample, device: spec.device, threads: spec.threads,
      ...(spec.gradientCheckpointing ? { gradientCheckpointing: true } : {}),
    };
  } else {
    const c = readRunConfig(runDir);
    if (!c.dataSource || !c.baseModel) throw new Error(`${join(runDir, 'config.json')} does not say which data file or base model the run used: run it again from a terminal`);
    const strategy = (STRATEGIES as readonly string[]).includes(c.strategy ?? '') ? (c.strategy as StrategyKind) : 'full';
    const t = c.training;
    const overrides: Partial<VariantSettings> = {
      learningRate: t.learningRate, numTrainEpochs: t.numTrainEpochs, maxSteps: t.maxSteps, perDeviceTrainBatchSize: t.perDeviceTrainBatchSize,
      weightDecay: t.weightDecay, warmupSteps: t.warmupSteps, l2spWeight: t.l2spWeight, ...(t.dropout !== null ? { dropout: t.dropout } : {}),
      ...(t.replay ? { replayRatio: t.replay.ratio } : {}),
      ...(c.lora ? { loraRank: c.lora.rank, loraAlpha: c.lora.alpha } : {}),
    };
    n = {
      dir: newDir, name: `${runDir.split(/[\\/]/).pop()} (again)`, baseModel: c.baseModel.builtin ? 'builtin' : c.baseModel.dir, dataFile: c.dataSource,
      variants: [{ strategy, overrides, name: strategy }], seed: Math.max(0, Math.trunc(t.seed)),
    };
  }
  await createExperiment(n);
  return newDir;
}
