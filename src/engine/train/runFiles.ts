// Reading a run folder back: its base model, and its trained weights as a plain model (the best
// weights when early stopping ended it; LoRA adapters merged). Used by export and by generation.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CheckpointError } from '../checkpoint/checkpointError';
import { modelIdentity } from '../checkpoint/modelIdentity';
import { BUILTIN_MODEL_DIR } from '../builtin';
import { HfModel, loadHfModel, saveHfModel } from '../checkpoint/hfModel';
import { readSafetensors } from '../checkpoint/safetensors';
import { CausalLM } from '../models/causalLM';
import { causalLMFromHf } from '../models/hfCausalLM';
import { LoraConfig, LoraTarget, loraTargets, mergeLora } from './lora';
import { RUN_FILES } from '../runs/runFolder';
import { RunConfig, readRunConfig } from '../runs/runConfig';
import { readCheckpointSummary } from '../runs/trainerState';

export interface TrainedRun {
  runDir: string;
  baseModelDir: string;
  base: HfModel;
  lm: CausalLM;
  /** Which checkpoint the weights come from. */
  from: 'checkpoint' | 'best';
  bestStep?: number;
  /** The checkpoint's tensors as stored (base + LoRA adapters for a LoRA run). */
  raw: Map<string, Float32Array>;
  /** Every model parameter, adapters merged. */
  weights: Map<string, Float32Array>;
  lora?: { config: LoraConfig; targets: LoraTarget[] };
}

/**
 * The folder of a run's base model. The built-in model is found where this installation has it (its
 * folder moves with every install) and checked against the hash the run recorded: a run trained from
 * an earlier built-in model cannot be read with another one's config and tokenizer.
 */
async function baseModelOf(runDir: string, ref: RunConfig['baseModel']): Promise<string | undefined> {
  if (!ref?.builtin) return ref?.dir;
  const installed = await modelIdentity('builtin');
  if (ref.sha256 && installed.sha256 && ref.sha256 !== installed.sha256) {
    throw new CheckpointError(`${runDir} was fine-tuned from the built-in model of Fine-Tune Lab ${ref.version ?? '(an earlier release)'} (weights sha256 ${ref.sha256.slice(0, 12)}…); the built-in model installed now (${installed.version ?? 'this release'}, ${installed.sha256.slice(0, 12)}…) is another model, so the run cannot be read with it. Its checkpoint/ folder is kept: read it with the earlier release, or fine-tune again`, runDir);
  }
  return BUILTIN_MODEL_DIR;
}

export async function loadTrainedRun(runDir: string): Promise<TrainedRun> {
  const cfg = readRunConfig(runDir);
  const baseModelDir = await baseModelOf(runDir, cfg.baseModel);
  if (!baseModelDir) {
    const cfgPath = join(runDir, RUN_FILES.config);
    throw new CheckpointError(`${cfgPath} does not name its base model (baseModel.dir): only a fine-tuning run (ftlab train, the extension) can be read back; a pretraining run's model is the folder given to ftlab pretrain --out`, cfgPath);
  }
  const ckpt = join(runDir, RUN_FILES.checkpoint);
  if (!existsSync(join(ckpt, 'model.safetensors')) || !existsSync(join(ckpt, RUN_FILES.trainerState))) {
    throw new CheckpointError(`${runDir} has no checkpoint yet: the run has not saved one (it saves one at regular steps and at the end)`, runDir);
  }
  const state = readCheckpointSummary(runDir);
  const from = state.stoppedEarly && existsSync(join(runDir, RUN_FILES.best, 'model.safetensors')) ? 'best' : 'checkpoint';
  const base = await loadHfModel(baseModelDir);
  const lm = causalLMFromHf(base.config);
  const stored = await readSafetensors(join(runDir, from, 'model.safetensors'));
  const raw = new Map([...stored.tensors].map(([n, t]) => [n, t.data]));
  const lora = cfg.lora ? { config: cfg.lora, targets: loraTargets(lm, cfg.lora) } : undefined;
  const weights = lora ? mergeLora(raw, lora.targets, lora.config) : raw;
  const earlier = cfg.baseModel?.builtin && !cfg.baseModel.sha256 ? ': the run was probably fine-tuned from the built-in model of an earlier Fine-Tune Lab release, which had another architecture' : '';
  for (const p of lm.params) if (!weights.has(p.name)) throw new CheckpointError(`${join(runDir, from, 'model.safetensors')} has no tensor ${p.name}${earlier}`, runDir);
  return { runDir, baseModelDir, base, lm, from, bestStep: state.best?.step, raw, weights, lora };
}

/** The run's weights in its base model's Hugging Face layout (config, safetensors, tokenizer files). */
export async function saveRunAsHf(run: TrainedRun, out: string, dtype: 'F32' | 'F16' | 'BF16' = 'F32'): Promise<{ files: string[] }> {
  const tensors = new Map(run.lm.params.map((p) => [p.name, { shape: p.shape, data: run.weights.get(p.name)! }]));
  return saveHfModel(out, { config: run.base.config, tensors, copyFrom: run.baseModelDir, dtype });
}
