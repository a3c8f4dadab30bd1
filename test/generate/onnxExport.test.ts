// The exported ONNX model in a fresh onnxruntime session, driven by a plain greedy loop (no engine code):
// same tokens as the in-process generator; the prompt fed one token per run and in chunks.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { exportOnnx } from '../../src/engine/export/onnxExport';
import { Decoder, generate } from '../../src/engine/generate/generator';
import { fixtureModel } from './fixtureModels';

/** Greedy decoding with only onnxruntime: caches start at zero, present_* become past_*. */
async function greedyWithOrt(path: string, prompt: number[], n: number, chunk: number): Promise<number[]> {
  const session = await ort.InferenceSession.create(path, { intraOpNumThreads: 1 });
  const past = new Map<string, ort.Tensor>();
  for (const name of session.inputNames.filter((x) => x.startsWith('past_'))) {
    const meta = session.inputMetadata.find((m) => m.name === name)!;
    const shape = (meta as unknown as { shape: number[] }).shape;
    past.set(name, new ort.Tensor('float32', new Float32Array(shape.reduce((a, b) => a * b, 1)), shape));
  }
  let pos = 0;
  let logits: Float32Array = new Float32Array(0);
  const feed = async (tokens: number[]) => {
    const out = await session.run({
      input_ids: new ort.Tensor('int64', BigInt64Array.from(tokens, BigInt), [1, tokens.length]),
      positions: new ort.Tensor('int64', BigInt64Array.from([BigInt(pos)]), [1]),
      ...Object.fromEntries(past),
    });
    for (const name of past.keys()) past.set(name, out[name.replace('past_', 'present_')] as ort.Tensor);
    pos += tokens.length;
    logits = out.logits.data as Float32Array;
  };
  const argmax = (x: Float32Array) => x.reduce((best, v, i) => (v > x[best] ? i : best), 0);
  assert.equal(prompt.length % chunk, 0, 'an export takes exactly `chunk` tokens per run');
  for (let i = 0; i < prompt.length; i += chunk) await feed(prompt.slice(i, i + chunk));
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    out.push(argmax(logits));
    if (i < n - 1) await feed([out[i]]); // (a chunked export is only asked for the first token)
  }
  await session.release();
  return out;
}

for (const name of ['llama_gqa_tiny', 'gpt2_tiny'] as const) {
  test(`${name}: the exported ONNX model, run by plain onnxruntime, gives the in-process generator's greedy tokens`, async () => {
    const m = await fixtureModel(name);
    const dir = mkdtempSync(join(tmpdir(), 'ftlab-export-'));
    try {
      const prompt = [5, 17, 33, 2];
      const n = 10;
      const d = new Decoder(m.lm, m.weights, { threads: 1 });
      const want = (await generate(d, prompt, { greedy: true, maxNewTokens: n })).tokens[0];
      await d.release();
      const one = exportOnnx(m.lm, m.weights, join(dir, 'model.onnx'), { capacity: 16 });
      assert.deepEqual(one.inputs.slice(0, 2), ['input_ids', 'positions']);
      assert.equal(one.inputs.length, 2 + 2 * m.lm.nLayers, 'weights are initializers, not inputs');
      assert.deepEqual(one.outputs.slice(0, 3), ['logits', 'present_key.0', 'present_value.0']);
      assert.deepEqual(await greedyWithOrt(one.path, prompt, n, 1), want);
      // A 4-token export takes exactly 4 tokens per run: the whole prompt in one run gives the first token.
      const four = exportOnnx(m.lm, m.weights, join(dir, 'model4.onnx'), { capacity: 16, chunk: 4 });
      assert.deepEqual(await greedyWithOrt(four.path, prompt, 1, 4), want.slice(0, 1));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
