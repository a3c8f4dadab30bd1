// Generation tests' shared pieces: the HF fixtures as (model, weights), and the no-cache oracle.

import * as ort from 'onnxruntime-node';
import { join } from 'node:path';
import { loadHfModel } from '../../src/engine/checkpoint/hfModel';
import { causalLMFromHf } from '../../src/engine/models/hfCausalLM';
import { CausalLM } from '../../src/engine/models/causalLM';
import { NnContext } from '../../src/engine/models/nn';
import { toModelProto } from '../../src/engine/graph/serialize';
import { createSession, tensor } from '../../src/engine/runtime/session';
import { newBuilder } from '../engine/harness';
import { HF_FIXTURES } from '../checkpoint/fixturePaths';

export interface FixtureModel { lm: CausalLM; weights: Map<string, Float32Array>; eos: number[] }

export async function fixtureModel(name: string): Promise<FixtureModel> {
  const hf = await loadHfModel(join(HF_FIXTURES, name));
  return { lm: causalLMFromHf(hf.config), weights: new Map([...hf.tensors].map(([n, t]) => [n, t.data])), eos: hf.config.eosTokenIds };
}

/**
 * The oracle: the training forward over the whole sequence (no cache), run again for every new token.
 * One graph of length T; the sequence is right-padded, which causal attention makes harmless.
 * Returns a function from a sequence to the logits of its last position.
 */
export async function fullForward(m: FixtureModel, T: number): Promise<{ lastLogits: (seq: number[]) => Promise<Float32Array>; release: () => Promise<void> }> {
  const b = newBuilder('full_forward');
  const pv = new Map(m.lm.params.map((p) => [p.name, b.input(p.name, 'float32', p.shape)]));
  const ids = b.input('ids', 'int64', [1, T]);
  const c: NnContext = { b, dtype: 'float32', decompose: false, dropoutKey: null, dropoutSites: 0 };
  const logits = m.lm.forward(c, (n) => pv.get(n)!, ids);
  b.graph.outputs = [logits];
  const { session } = await createSession(toModelProto(b.graph), { threads: 1 });
  const feeds: Record<string, ort.Tensor> = {};
  for (const p of m.lm.params) feeds[p.name] = tensor('float32', p.shape, m.weights.get(p.name)!);
  const V = m.lm.vocabSize;
  return {
    async lastLogits(seq) {
      const x = new BigInt64Array(T);
      seq.forEach((t, i) => { x[i] = BigInt(t); });
      const out = await session.run({ ...feeds, ids: tensor('int64', [1, T], x) });
      return (out[logits.name].data as Float32Array).slice((seq.length - 1) * V, seq.length * V);
    },
    release: () => session.release(),
  };
}
