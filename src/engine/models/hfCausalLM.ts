// A Hugging Face checkpoint's config -> the engine's CausalLM and its parameter list, by family: each
// family's file (gpt2.ts, llama.ts) owns its config, parameters, forward and init; this file only picks one.

import type { HfModelConfig } from '../checkpoint/hfConfig';
import { CausalLM } from './causalLM';
import { gpt2CausalLM, gpt2HfParams } from './gpt2';
import { llamaCausalLM, llamaParams } from './llama';
import { ParamShape } from './nn';

export function causalLMFromHf(config: HfModelConfig): CausalLM {
  return config.family === 'gpt2' ? gpt2CausalLM(config) : llamaCausalLM(config);
}

/** Every parameter of the checkpoint's model, by its state_dict key, in named_parameters() order. */
export function hfModelParams(config: HfModelConfig): ParamShape[] {
  return config.family === 'gpt2' ? gpt2HfParams(config) : llamaParams(config);
}
