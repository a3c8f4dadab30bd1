// Exports a model as one self-contained ONNX inference graph with a static key/value cache, weights
// as initializers, that plain onnxruntime (any language) runs without this engine:
//
//   inputs   input_ids [B, S] int64            the next S tokens of each row (S = `chunk`, default 1)
//            positions [B] int64               tokens already in the cache per row (first new token's position)
//            past_key.<l>, past_value.<l>      [B, Hkv, capacity, hd] float32, l = 0..L-1 (zeros at the start)
//   outputs  logits [B, V]                     for the last of the S tokens
//            present_key.<l>, present_value.<l>  the cache with the S tokens written at positions..positions+S-1
//
// A greedy loop: feed the prompt (S tokens at a time, or one by one), then repeatedly take the argmax of
// logits, feed it at the next position, and pass present_* back as past_*. Cache slot j holds position j;
// positions + S must stay <= capacity. All S tokens of a run are real (no padding within a chunk).

import { statSync } from 'node:fs';
import { dumpModel } from '../graph/serialize';
import { CausalLM } from '../models/causalLM';
import { buildDecodeGraph } from '../generate/decodeGraph';

export interface OnnxExportOptions {
  /** Rows per run; default 1. */
  batch?: number;
  /** Tokens per run; default 1. */
  chunk?: number;
  /** Cache slots per row (the longest sequence); default the model's context, at most 2048. */
  capacity?: number;
}

export interface OnnxExportResult {
  path: string;
  bytes: number;
  inputs: string[];
  outputs: string[];
  batch: number;
  chunk: number;
  capacity: number;
}

/** ONNX files are one protobuf message, which cannot exceed 2 GiB. */
const PROTOBUF_LIMIT = 2 ** 31 - 1;

export function exportOnnx(lm: CausalLM, weights: ReadonlyMap<string, Float32Array | Float64Array>, path: string, o: OnnxExportOptions = {}): OnnxExportResult {
  const batch = o.batch ?? 1, chunk = o.chunk ?? 1;
  const capacity = o.capacity ?? Math.min(lm.maxPositions, 2048);
  if (capacity > lm.maxPositions) throw new Error(`export: capacity ${capacity} exceeds the model's context (${lm.maxPositions} positions)`);
  let bytes = 0;
  const f32 = new Map<string, Float32Array>();
  for (const p of lm.params) {
    const w = weights.get(p.name);
    if (!w) throw new Error(`export: no weights for parameter '${p.name}'`);
    f32.set(p.name, w instanceof Float32Array ? w : Float32Array.from(w));
    bytes += 4 * w.length;
  }
  if (bytes > PROTOBUF_LIMIT) {
    throw new Error(`export: the weights take ${(bytes / 2 ** 30).toFixed(1)} GiB, over the 2 GiB limit of a single ONNX file; export in the Hugging Face format instead`);
  }
  const g = buildDecodeGraph(lm, { batch, chunk, capacity, cacheOutput: 'full', logitsOf: 'last', weights: f32 });
  dumpModel(g.graph, path);
  return {
    path, bytes: statSync(path).size, batch, chunk, capacity,
    inputs: g.graph.inputs.map((v) => v.name),
    outputs: g.graph.outputs.map((v) => v.name),
  };
}
