// A tiny GPT-2 run for the run-folder tests (and others): four colour questions, a 1-layer 16-wide model
// by default; `over` changes the model (more layers, dropout).
import { join } from 'node:path';
import { CausalLM } from '../../src/engine/models/causalLM';
import { Gpt2Config, gpt2Forward, gpt2Params } from '../../src/engine/models/gpt2';
import { prepareDataset } from '../../src/engine/data/prepareDataset';
import { PreparedDataset } from '../../src/engine/data/preparedDataset';
import { put, scratchDir, tinyTokenizer } from '../data/helpers';

export async function tinyRun(prefix: string, over: Partial<Gpt2Config> = {}): Promise<{ dir: string; model: CausalLM; cfg: Gpt2Config; ds: PreparedDataset }> {
  const dir = scratchDir(prefix);
  const pairs = [['sky', 'blue'], ['grass', 'green'], ['snow', 'white'], ['coal', 'black']];
  const tok = await tinyTokenizer(dir, ['Q:', 'A:', 'what', 'color', 'is', ...pairs.flat()]);
  const src = put(dir, 'colors.jsonl', pairs.map(([q, a]) => JSON.stringify({ question: `what color is ${q}`, answer: a })).join('\n') + '\n');
  const ds = PreparedDataset.open((await prepareDataset({ source: { train: src }, tokenizer: tok, outDir: join(dir, 'prepared') })).dir);
  const cfg: Gpt2Config = { vocabSize: tok.vocabSize, nPositions: 16, nEmbd: 16, nLayer: 1, nHead: 2, layerNormEps: 1e-5, activation: 'tanh', embdDropout: 0, attnDropout: 0, residDropout: 0, ...over };
  const model: CausalLM = {
    family: 'gpt2', params: gpt2Params(cfg), vocabSize: cfg.vocabSize, maxPositions: cfg.nPositions, nLayers: cfg.nLayer, kvHeads: cfg.nHead, headDim: cfg.nEmbd / cfg.nHead,
    layerOf: (n) => (n.startsWith('h.') ? Number(n.split('.')[1]) : -1),
    forward: (c, p, ids) => gpt2Forward(c, cfg, p, ids),
  };
  return { dir, model, cfg, ds };
}
