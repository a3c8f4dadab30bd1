// `ftlab pretrain`: config.json + tokenizer + text corpus -> a trained Hugging Face model folder.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { loadHfModel } from '../../src/engine/checkpoint/hfModel';
import { put, scratchDir, tinyTokenizer } from '../data/helpers';
import { repoRoot } from '../foundation/repoRoot';

const ftlab = (...args: string[]) => spawnSync(process.execPath, [join(repoRoot, 'bin', 'ftlab.js'), ...args], { encoding: 'utf8' });

test('ftlab pretrain trains a config-only model on a corpus and writes a loadable model folder', async () => {
  const dir = scratchDir('pretrain');
  const words = ['the', 'cat', 'sat', 'on', 'mat', 'dog', 'ran', 'to', 'park', '.'];
  const tok = await tinyTokenizer(dir, words);
  const cfgDir = join(dir, 'cfg');
  cpSync(dirname(tok.source), cfgDir, { recursive: true });
  writeFileSync(join(cfgDir, 'config.json'), JSON.stringify({
    model_type: 'gpt2', vocab_size: tok.vocabSize, n_positions: 16, n_embd: 16, n_layer: 1, n_head: 2, activation_function: 'gelu_new',
    resid_pdrop: 0.1, embd_pdrop: 0.1, attn_pdrop: 0.1, layer_norm_epsilon: 1e-5, tie_word_embeddings: true, eos_token_id: tok.eosId,
  }));
  const docs = Array.from({ length: 40 }, (_, i) => (i % 2 ? 'the cat sat on the mat .' : 'the dog ran to the park .')).join('\n\n');
  const corpus = put(dir, 'corpus.txt', docs + '\n');
  const out = join(dir, 'out');
  const r = ftlab('pretrain', '--model-config', cfgDir, '--corpus', corpus, '--out', out, '--max-steps', '60', '--warmup-steps', '5',
    '--per-device-train-batch-size', '4', '--learning-rate', '1e-2', '--threads', '1', '--quiet');
  assert.equal(r.status, 0, r.stderr);
  const metrics = readFileSync(join(out, 'run', 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.ok(metrics[metrics.length - 1].loss < 0.5 * metrics[0].loss, `loss ${metrics[0].loss} -> ${metrics[metrics.length - 1].loss}`);
  const model = await loadHfModel(join(out, 'model'));
  assert.equal(model.family, 'gpt2');
  assert.ok(model.tensors.get('transformer.wte.weight'));
});
