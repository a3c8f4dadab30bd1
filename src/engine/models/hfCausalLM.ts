// A Hugging Face checkpoint's config -> the engine's CausalLM, with parameters named exactly as
// expectedParams(config) lists them (the checkpoint's state_dict keys): GPT-2 names carry the
// `transformer.` prefix that gpt2Forward's GPT2Model names lack; Llama-family names are used as they are.

import { Gpt2Config as HfGpt2Config, HfModelConfig, LlamaConfig } from '../checkpoint/hfConfig';
import { expectedParams } from '../checkpoint/hfModel';
import { CausalLM, DropoutRates } from './causalLM';
import { Gpt2Config, gpt2Forward } from './gpt2';
import { llamaForward } from './llama';

export function causalLMFromHf(config: HfModelConfig): CausalLM {
  return config.family === 'gpt2' ? gpt2FromHf(config) : llamaFromHf(config);
}

const GPT2_ACTIVATION: Record<HfGpt2Config['activation'], Gpt2Config['activation']> = {
  gelu_tanh: 'tanh', gelu: 'none', relu: 'relu', silu: 'silu', quick_gelu: 'quick_gelu',
};

/** Layer of a parameter: -1 embeddings, 0..L-1 blocks, L the final norm and the head. */
function layerIndex(name: string, block: RegExp, embeddings: RegExp, L: number): number {
  const m = block.exec(name);
  if (m) return Number(m[1]);
  return embeddings.test(name) ? -1 : L;
}

function gpt2FromHf(h: HfGpt2Config): CausalLM {
  const cfg: Gpt2Config = {
    vocabSize: h.vocabSize, nPositions: h.nPositions, nEmbd: h.nEmbd, nLayer: h.nLayer, nHead: h.nHead,
    layerNormEps: h.layerNormEpsilon, activation: GPT2_ACTIVATION[h.activation], nInner: h.nInner,
    tiedHead: h.tieWordEmbeddings, embdDropout: h.embdPdrop, attnDropout: h.attnPdrop, residDropout: h.residPdrop,
  };
  const hfName = (n: string) => (n === 'lm_head.weight' ? n : `transformer.${n}`);
  return {
    family: 'gpt2',
    params: expectedParams(h),
    vocabSize: h.vocabSize,
    maxPositions: h.nPositions,
    nLayers: h.nLayer,
    kvHeads: h.nHead,
    headDim: h.nEmbd / h.nHead,
    layerOf: (name) => layerIndex(name, /^transformer\.h\.(\d+)\./, /^transformer\.(wte|wpe)\./, h.nLayer),
    forward(c, p, ids, dropout?: DropoutRates, cache?) {
      const run = dropout ? { ...cfg, embdDropout: dropout.embd, attnDropout: dropout.attn, residDropout: dropout.resid } : cfg;
      return gpt2Forward(c, run, (n) => p(hfName(n)), ids, cache);
    },
  };
}

function llamaFromHf(h: LlamaConfig): CausalLM {
  return {
    family: 'llama',
    params: expectedParams(h),
    vocabSize: h.vocabSize,
    maxPositions: h.maxPositionEmbeddings,
    nLayers: h.numHiddenLayers,
    kvHeads: h.numKeyValueHeads,
    headDim: h.headDim,
    layerOf: (name) => layerIndex(name, /^model\.layers\.(\d+)\./, /^model\.embed_tokens\./, h.numHiddenLayers),
    // Llama has attention dropout only (HF attention_dropout); embd/resid rates do not apply.
    forward: (c, p, ids, dropout?: DropoutRates, cache?) => llamaForward(c, h, p, ids, { attnDropout: dropout?.attn ?? h.attentionDropout, cache }),
  };
}
