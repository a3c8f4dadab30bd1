// LoRA (Hu et al. 2021) as PEFT does it: for each targeted linear layer W, a trained low-rank update
// scale * B A with A [r, in] (Kaiming-uniform, a = sqrt(5)) and B [out, r] (zeros), scale = alpha / r;
// the base model is frozen. Names and layout follow PEFT so that adapters export as
// adapter_model.safetensors + adapter_config.json.

import { CausalLM } from '../models/causalLM';
import { ParamShape } from '../models/nn';
import { uniformRng } from '../random';

export interface LoraConfig {
  rank: number;
  alpha: number;
  /** Module names, as PEFT's target_modules (e.g. c_attn; q_proj, v_proj). */
  targetModules: string[];
}

/** PEFT's defaults for these architectures. */
export const LORA_DEFAULT_TARGETS: Record<CausalLM['family'], string[]> = { gpt2: ['c_attn'], llama: ['q_proj', 'v_proj'] };

export interface LoraTarget {
  /** The adapted weight's HF name, e.g. transformer.h.0.attn.c_attn.weight. */
  weight: string;
  /** Its module path (the name without .weight). */
  module: string;
  inDim: number;
  outDim: number;
  /** GPT-2's Conv1D stores [in, out] (PEFT: fan_in_fan_out); nn.Linear stores [out, in]. */
  fanInFanOut: boolean;
  A: string;
  B: string;
}

export function loraTargets(model: CausalLM, cfg: LoraConfig): LoraTarget[] {
  if (!Number.isInteger(cfg.rank) || cfg.rank < 1) throw new RangeError(`LoRA rank must be a whole number >= 1, got ${cfg.rank}`);
  const targets: LoraTarget[] = [];
  for (const p of model.params) {
    const m = /^(.*)\.weight$/.exec(p.name);
    if (!m || p.shape.length !== 2 || !cfg.targetModules.some((t) => m[1].endsWith(`.${t}`))) continue;
    const fanInFanOut = model.family === 'gpt2';
    const [inDim, outDim] = fanInFanOut ? p.shape : [p.shape[1], p.shape[0]];
    targets.push({ weight: p.name, module: m[1], inDim, outDim, fanInFanOut, A: `${m[1]}.lora_A.weight`, B: `${m[1]}.lora_B.weight` });
  }
  if (!targets.length) throw new Error(`no linear layer of this ${model.family} model matches LoRA target modules ${cfg.targetModules.join(', ')}`);
  return targets;
}

export function loraParams(targets: LoraTarget[], rank: number): ParamShape[] {
  return targets.flatMap((t) => [{ name: t.A, shape: [rank, t.inDim] }, { name: t.B, shape: [t.outDim, rank] }]);
}

export function initLora(targets: LoraTarget[], rank: number, seed: number): Map<string, Float32Array> {
  const u = uniformRng(seed);
  const out = new Map<string, Float32Array>();
  for (const t of targets) {
    const bound = 1 / Math.sqrt(t.inDim); // kaiming_uniform_(a=sqrt(5)): sqrt(6 / ((1 + 5) * fan_in))
    out.set(t.A, Float32Array.from({ length: rank * t.inDim }, () => (2 * u() - 1) * bound));
    out.set(t.B, new Float32Array(t.outDim * rank));
  }
  return out;
}

/** Base weights with every update folded in: W + scale * (B A), transposed for [in, out] storage. */
export function mergeLora(weights: ReadonlyMap<string, Float32Array>, targets: LoraTarget[], cfg: LoraConfig): Map<string, Float32Array> {
  const scale = cfg.alpha / cfg.rank, r = cfg.rank;
  const out = new Map<string, Float32Array>();
  const adapters = new Set(targets.flatMap((t) => [t.A, t.B]));
  for (const [n, w] of weights) if (!adapters.has(n)) out.set(n, w);
  for (const t of targets) {
    const A = weights.get(t.A)!, B = weights.get(t.B)!, W = Float32Array.from(weights.get(t.weight)!);
    for (let o = 0; o < t.outDim; o++) {
      for (let i = 0; i < t.inDim; i++) {
        let d = 0;
        for (let k = 0; k < r; k++) d += B[o * r + k] * A[k * t.inDim + i];
        W[t.fanInFanOut ? i * t.outDim + o : o * t.inDim + i] += scale * d;
      }
    }
    out.set(t.weight, W);
  }
  return out;
}

/** PEFT's adapter_config.json for these targets. */
export function peftAdapterConfig(cfg: LoraConfig, baseModel: string, family: CausalLM['family']): Record<string, unknown> {
  return {
    peft_type: 'LORA', task_type: 'CAUSAL_LM', base_model_name_or_path: baseModel, r: cfg.rank, lora_alpha: cfg.alpha,
    lora_dropout: 0, target_modules: cfg.targetModules, fan_in_fan_out: family === 'gpt2', bias: 'none', inference_mode: true,
  };
}

/** adapter_model.safetensors key of an adapter tensor (PEFT: base_model.model.<module>.lora_A.weight). */
export const peftKey = (name: string) => `base_model.model.${name}`;
