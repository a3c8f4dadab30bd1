// Fresh weights for a model built from a config alone (pretraining the built-in model):
// GPT-2 / nanoGPT init by parameter name. Norm weights 1, biases 0, matrices N(0, 0.02), and the
// projections that write into the residual stream N(0, 0.02 / sqrt(2 * layers)).

import { normalRng } from '../random';
import { CausalLM } from './causalLM';
import { ParamShape } from './nn';

const NORM_WEIGHT = /(ln_\d|ln_f|norm)\.weight$/;
const RESIDUAL_OUT = /(c_proj|o_proj|down_proj)\.weight$/;

export function initWeights(model: CausalLM, seed: number, std = 0.02): Map<string, Float32Array> {
  return initParams(model.params, model.nLayers, seed, std);
}

/** The init rule over a parameter list (each family's init: gpt2Init, llamaInit). */
export function initParams(params: readonly ParamShape[], nLayers: number, seed: number, std = 0.02): Map<string, Float32Array> {
  const randn = normalRng(seed);
  const out = new Map<string, Float32Array>();
  for (const p of params) {
    const a = new Float32Array(p.shape.reduce((x, y) => x * y, 1));
    if (NORM_WEIGHT.test(p.name)) a.fill(1);
    else if (p.shape.length >= 2) {
      const s = RESIDUAL_OUT.test(p.name) ? std / Math.sqrt(2 * nLayers) : std;
      for (let k = 0; k < a.length; k++) a[k] = s * randn();
    }
    out.set(p.name, a);
  }
  return out;
}

/** Layer of a parameter: -1 embeddings, 0..L-1 blocks, L the final norm and the head. */
export function layerOfName(name: string, block: RegExp, embeddings: RegExp, L: number): number {
  const m = block.exec(name);
  if (m) return Number(m[1]);
  return embeddings.test(name) ? -1 : L;
}
